"""Staff pages of star households: the period's ratings, the conferment that freezes them,
and the printable star door plates of a conferment."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts.access import require, scope
from app.audit.services import log_action
from app.extensions import db
from app.honours import services
from app.honours.forms import DecisionForm
from app.honours.models import StarConferment
from app.honours.stars import (bands_of, conferment_of, star_period, star_period_kind,
                               star_ratings)
from app.households.queries import village_or_404
from app.i18n import refusal_text
from app.ids import as_id
from app.regions.queries import get_scoped_or_404
from app.rules.engine import Refusal
from app.rules.queries import version_in_force
from app.scoring.periods import local_today, period_of

bp = Blueprint("stars", __name__)


def _period(village):
    """(kind, period) from ?year= and ?part= (quarter or month number), the rulebook's kind."""
    today = local_today()
    kind = star_period_kind(version_in_force(village, today))
    try:
        year = int(request.values.get("year") or today.year)
        part = request.values.get("part")
        if not 2000 <= year <= 2099:
            raise ValueError(year)
        if kind != "year" and not part and year == today.year:
            return kind, period_of(today, kind)
        return kind, star_period(kind, year, int(part) if part else None)
    except ValueError:
        abort(404)


@bp.route("/villages/<int:village_id>/stars")
@require("view")
def index(village_id):
    """Each household's stars for the period (live, or as conferred when it was)."""
    village = village_or_404(village_id, scope())
    kind, period = _period(village)
    conferment = conferment_of(village.id, kind, period)
    version, rows = star_ratings(village, period)
    form = DecisionForm()
    if not form.is_submitted():
        form.decision_date.data = local_today()
    return render_template("honours/stars.html", village=village, kind=kind, period=period,
                           rows=rows, bands=bands_of(version) if version else (),
                           conferment=conferment, form=form,
                           prev=_neighbour(kind, period, -1), next=_neighbour(kind, period, 1))


def _neighbour(kind, period, step):
    """{"year": ..., "part": ...} query args of the period before (-1) or after (+1)
    ``period``; None after the current period."""
    from datetime import timedelta
    day = period.start - timedelta(days=1) if step < 0 else period.end
    if day > local_today():
        return None
    other = period_of(day, kind)
    part = None
    if kind == "quarter":
        part = (other.start.month - 1) // 3 + 1
    elif kind == "month":
        part = other.start.month
    return {"year": other.start.year, "part": part}


@bp.route("/villages/<int:village_id>/stars/confer", methods=["POST"])
@require("review")
def confer(village_id):
    """Confer (授牌) the period's star ratings: they are frozen from now on."""
    village = village_or_404(village_id, scope())
    kind, period = _period(village)
    back = redirect(url_for("stars.index", village_id=village.id, year=period.start.year,
                            part=request.values.get("part") or None))
    form = DecisionForm()
    if not form.validate_on_submit():
        errors = [e for field in form for e in field.errors]
        flash(errors[0] if errors else _("请求有误，请刷新页面后重试"), "danger")
        return back
    try:
        conferment = services.confer_stars(village, kind, period, by_user=current_user,
                                           decision_date=form.decision_date.data,
                                           note=form.note.data)
        log_action(current_user, "stars.confer", region=village, target=conferment,
                   after={"period": period.label, "decision_date": conferment.decision_date,
                          "note": conferment.decision_note,
                          "stars": {r.house_number: r.stars for r in conferment.ratings}})
        db.session.commit()
        flash(_("%(p)s 星级已授牌，评定结果已固定。", p=period.label), "success")
    except Refusal as exc:
        db.session.rollback()
        flash(refusal_text(exc), "danger")
    return back


@bp.route("/star-conferments/<int:conferment_id>/plates")
@require("view")
def plates(conferment_id):
    """Printable star door plates (A6, one a page) of a conferment's starred households;
    ?household= prints one."""
    conferment = get_scoped_or_404(StarConferment, conferment_id, "village_id", scope())
    ratings = [r for r in conferment.ratings if r.stars > 0]
    only = request.args.get("household", type=as_id)
    if only:
        ratings = [r for r in ratings if r.household_id == only]
    return render_template("honours/plates.html", conferment=conferment,
                           village=conferment.village, ratings=ratings)
