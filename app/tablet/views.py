"""Tablet pages (thin: app.tablet.batch does the work).

- ``/tablet/`` the installed app's start page: the user's village finder;
- ``/tablet/villages/<id>`` find a household (house number, name, pinyin initials, door-plate
  QR scanned with the camera), recently scored households first, the villager groups to
  inspect;
- ``/tablet/groups/<id>/inspect`` the batch inspection grid of a villager group;
- ``/tablet/villages/<id>/sync`` GET: a fresh CSRF token (JSON) for the offline client;
  POST (JSON ``{"rows": [...]}``, header ``X-CSRFToken``): post rows in one transaction;
- ``/manifest.webmanifest`` and ``/sw.js`` (the service worker, served from the root so its
  scope covers the tablet pages).
"""
import json
import re
from decimal import Decimal

from flask import (Blueprint, abort, current_app, jsonify, redirect, render_template, request,
                   send_from_directory, url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf

from app.accounts.access import require, scope
from app.extensions import db
from app.households import queries as hh_q
from app.households.numbers import house_number
from app.ids import as_id
from app.regions.queries import children, region_or_404
from app.scoring.periods import local_today
from app.tablet import batch

bp = Blueprint("tablet", __name__)


def camera_allowed(view):
    """Let this page use the camera, to scan door plates (Flask-Talisman's per-view
    Permissions-Policy: the app's policy with ``camera=(self)``, as at the supermarket
    counter)."""
    options = dict(getattr(view, "talisman_view_options", {}))
    options["permissions_policy"] = {"browsing-topics": "()", "camera": "(self)",
                                     "microphone": "()", "geolocation": "()"}
    view.talisman_view_options = options
    return view
_TOKEN_IN_URL = re.compile(r"/h/([A-Za-z0-9_\-]{20,64})")


@bp.route("/tablet/")
@login_required
def start():
    """Where the installed app opens: the user's village finder, else the home page."""
    region = current_user.region
    if region.level == "village" and current_user.can("score"):
        return redirect(url_for("tablet.finder", village_id=region.id))
    return redirect(url_for("accounts.home"))


@bp.route("/tablet/villages/<int:village_id>")
@camera_allowed
@require("score")
def finder(village_id):
    """Find a household to score; a scanned door-plate link opens that household."""
    village = hh_q.village_or_404(village_id, scope())
    q = (request.args.get("q") or "").strip()[:64]
    found = _TOKEN_IN_URL.search(q)
    qr_unknown = False
    if found:
        household = hh_q.household_for_token(found.group(1))
        if household is not None and household.village_id == village.id:
            return redirect(url_for("scoring.score", household_id=household.id))
        qr_unknown, q = True, ""
    recent = batch.recent_households(current_user, village.id)
    hits = []
    if q:
        exact = house_number(q)   # full-width ２ is 2 (NFKC), as the roster stores it
        hits = db.session.execute(hh_q.search_stmt(village.id, exact).limit(60)).unique() \
            .scalars().all()
        first = {h.id: n for n, h in enumerate(recent)}
        # an exact house number or head's name first (1 before 110), then recent ones
        hits.sort(key=lambda h: (h.house_number != exact and h.head_name != exact,
                                 first.get(h.id, len(first))))
    return render_template("tablet/finder.html", village=village, q=q, hits=hits,
                           recent=recent, recent_ids={h.id for h in recent},
                           groups=children(village), qr_unknown=qr_unknown,
                           all_items=batch.items_in_force(village, local_today()))


def _group_or_404(group_id):
    group = region_or_404(group_id, scope())
    if group.level != "group":
        abort(404)
    return group


@bp.route("/tablet/groups/<int:group_id>/inspect")
@require("score")
def inspect(group_id):
    """The batch inspection grid: a row per household, a column per check of the chosen
    scorecard item; the rows are posted together by tablet.js through ``sync``."""
    group = _group_or_404(group_id)
    village = group.parent
    today = local_today()
    items = batch.scorecard_items(village, today)
    chosen = next((i for i in items if i.id == request.args.get("item", type=as_id)),
                  items[0] if items else None)
    households = hh_q.households_of_group(group)
    done = batch.scored_on(chosen, [h.id for h in households], today) if chosen else {}
    return render_template(
        "tablet/inspect.html", group=group, village=village, items=items, item=chosen,
        done=done,
        checks=batch.checks_of(chosen) if chosen else [], today=today,
        per=Decimal(str((chosen.params or {}).get("per_problem", 0))) if chosen else None,
        households=households,
        all_items=batch.items_in_force(village, today))


@bp.route("/tablet/villages/<int:village_id>/sync", methods=["GET", "POST"])
@require("score")
def sync(village_id):
    """GET: ``{"csrf_token"}``. POST JSON ``{"rows": [row, ...]}`` (see app.tablet.batch):
    ``{"results": [...]}`` one per row, posted rows committed together in this request;
    a household outside the village is ``not_found`` at its row and nothing is posted for
    it. 400 on a body that is not such JSON."""
    village = hh_q.village_or_404(village_id, scope())
    if request.method == "GET":
        return jsonify(csrf_token=generate_csrf(), village_id=village.id)
    try:  # numbers with a fraction become Decimals: no float touches a point
        body = json.loads(request.get_data(as_text=True) or "null", parse_float=Decimal)
    except ValueError:
        body = None
    try:
        rows = body["rows"] if isinstance(body, dict) else None
        results = batch.post_rows(village, rows, recorded_by=current_user)
    except (KeyError, ValueError):
        return jsonify(error=_("数据格式有误")), 400
    db.session.commit()
    return jsonify(results=results)


@bp.route("/manifest.webmanifest")
def manifest():
    """The web app manifest: the tablet pages install as an app opening at /tablet/."""
    data = {"name": _("乡村治理积分制 · 记分"), "short_name": _("记分"),
            "start_url": url_for("tablet.start"), "scope": "/", "display": "standalone",
            "lang": "zh-CN", "background_color": "#f6f4ef", "theme_color": "#b02a37",
            "icons": [{"src": url_for("static", filename="favicon.svg"), "sizes": "any",
                       "type": "image/svg+xml"}]}
    resp = jsonify(data)
    resp.mimetype = "application/manifest+json"
    return resp


@bp.route("/sw.js")
def service_worker():
    """The service worker (app/static/js/sw.js) from the root, so its scope is the site."""
    resp = send_from_directory(current_app.static_folder, "js/sw.js",
                               mimetype="application/javascript", max_age=0)
    resp.headers["Cache-Control"] = "no-cache"
    return resp
