"""Household list and page, roster import/export, and printable QR door plates."""
import os

from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template,
                   request, url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accounts.access import require, scope
from app.audit.services import log_action, roster_import_summary
from app.extensions import db
from app.households import queries, roster, services
from app.households.forms import ArchiveForm, ConfirmForm, RosterImportForm
from app.households.privacy import can_see_phones
from app.households.qr import public_url, qr_svg
from app.ids import as_id, page_number
from app.regions.queries import children
from app.review.services import confirm_due
from app.scoring import queries as ledger
from app.scoring.periods import local_today, month_period

bp = Blueprint("households", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx(data: bytes, filename: str) -> Response:
    from urllib.parse import quote
    return Response(data, mimetype=XLSX, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"})


@bp.route("/villages/<int:village_id>/households")
@login_required
def index(village_id):
    """Find a household by house number, name or pinyin initials."""
    village = queries.village_or_404(village_id, scope())
    q = request.args.get("q", "")
    group_id = request.args.get("group", type=as_id)
    page = db.paginate(queries.search_stmt(village.id, q, group_id),
                       page=request.args.get("page", 1, type=page_number), per_page=50,
                       error_out=False)
    return render_template("households/index.html", village=village, page=page, q=q,
                           group_id=group_id, groups=children(village))


@bp.route("/households/<int:household_id>")
@login_required
def show(household_id):
    """Earned score, spendable balance, rank in the village, and the entries, newest first."""
    household = queries.household_or_404(household_id, scope())
    if confirm_due(household.village_id):
        db.session.commit()
    rank, out_of = ledger.rank_of(household)
    month = month_period(local_today())
    entries = ledger.entries_page(household.id, request.args.get("page", 1, type=page_number),
                                  current_app.config["ENTRIES_PER_PAGE"])
    # The door-plate link is a key to the household's villager pages (objections, reports
    # in its name): only village cadres who score see it, not volunteers or officials.
    active = household.status == "active" and current_user.can("score")
    url = public_url(household) if active else None
    return render_template("households/show.html", household=household, rank=rank,
                           out_of=out_of, entries=entries, month=month,
                           month_points=ledger.period_points(household.id, month),
                           public_url=url, qr=qr_svg(url) if active else None,
                           show_phone=can_see_phones(current_user, household.village),
                           reissue_form=ConfirmForm(),
                           status_change=(household.status_changes or [None])[-1])


@bp.route("/households/<int:household_id>/qr/reissue", methods=["POST"])
@require("manage_households")
def reissue_qr(household_id):
    """A new door-plate QR code for the household; the old plate stops working at once."""
    household = queries.household_or_404(household_id, scope())
    if household.status != "active" or not ConfirmForm().validate_on_submit():
        return redirect(url_for("households.show", household_id=household.id))
    services.reissue_token(household, by=current_user)
    log_action(current_user, "household.token_reissue", region=household.village_id,
               target=household)
    db.session.commit()
    flash(_("已为 %(n)s 号重新生成二维码：旧门牌已经失效，请打印新门牌贴上。",
            n=household.house_number), "success")
    return redirect(url_for("households.show", household_id=household.id))


@bp.route("/households/<int:household_id>/archive", methods=["GET", "POST"])
@require("manage_households")
def archive(household_id):
    """Archive a household that moved away: ledger kept, public page closed."""
    household = queries.household_or_404(household_id, scope())
    if household.status != "active":
        return redirect(url_for("households.show", household_id=household.id))
    form = ArchiveForm()
    if form.validate_on_submit():
        services.archive_household(household, reason=form.reason.data, by=current_user)
        log_action(current_user, "household.archive", region=household.village_id,
                   target=household, before={"status": "active"},
                   after={"status": household.status, "reason": form.reason.data.strip()})
        db.session.commit()
        flash(_("%(n)s 号已登记为迁出：积分记录保留，门牌二维码已停用。",
                n=household.house_number), "success")
        return redirect(url_for("households.show", household_id=household.id))
    return render_template("households/archive.html", household=household, form=form)


@bp.route("/villages/<int:village_id>/plates")
@require("score")
def plates(village_id):
    """Printable A4 sheets of QR door plates for one villager group (?group=ID). Village
    cadres who score only: each plate is a key to its household's villager pages."""
    village = queries.village_or_404(village_id, scope())
    groups = children(village)
    group_id = request.args.get("group", type=as_id)
    group = next((g for g in groups if g.id == group_id), None)
    if group_id is not None and group is None:
        abort(404)
    cards = []
    if group is not None:
        for h in queries.households_of_group(group):
            url = public_url(h)
            cards.append({"household": h, "qr": qr_svg(url)})
    return render_template("households/plates.html", village=village, groups=groups,
                           group=group, cards=cards,
                           public_base_configured=bool(current_app.config["PUBLIC_BASE_URL"]))


@bp.route("/villages/<int:village_id>/roster/template.xlsx")
@login_required
def roster_template(village_id):
    queries.village_or_404(village_id, scope())
    return _xlsx(roster.template_workbook(), "花名册模板.xlsx")


@bp.route("/villages/<int:village_id>/roster/export.xlsx")
@login_required
def roster_export(village_id):
    village = queries.village_or_404(village_id, scope())
    households = db.session.execute(queries.search_stmt(village.id)).scalars().all()
    return _xlsx(roster.export_workbook(households,
                                        include_phone=can_see_phones(current_user, village)),
                 f"{village.name}花名册.xlsx")


@bp.route("/villages/<int:village_id>/roster/import", methods=["GET", "POST"])
@require("manage_households")
def roster_import(village_id):
    """Upload a roster workbook; nothing is saved unless every row is right. When the file
    would change households that already exist, the changes are shown first and applied
    only once the cadre confirms (the file waits under instance/uploads/)."""
    village = queries.village_or_404(village_id, scope())
    form = RosterImportForm()
    errors, result, changes, digest, filename, created = [], None, [], None, None, []
    stale = gone = False
    confirming = request.method == "POST" and request.form.get("confirm")
    try:
        if confirming:
            digest, filename = request.form.get("confirm"), request.form.get("filename", "")
            data = roster.kept_upload(digest)
            gone = data is None   # confirmed already (a second click), or expired
        elif form.validate_on_submit():
            data, filename = form.file.data.read(), form.file.data.filename
        else:
            data = None
            if request.method == "POST":
                errors = [(None, None, msg) for msgs in form.errors.values() for msg in msgs
                          if not form.file.errors or msg not in form.file.errors]
        if data is not None:
            rows = roster.parse_roster(data)
            if not can_see_phones(current_user, village):
                rows = roster.keep_existing_phones(rows)
            changes = roster.planned_changes(village, rows)
            seen = request.form.get("changes") if confirming else None
            stale = confirming and seen != roster.changes_digest(changes)
            if changes and (not confirming or stale):   # shown for the cadre to confirm
                digest = roster.keep_upload(data)
                created = roster.new_house_numbers(village, rows)
            else:
                result = roster.apply_roster(village, rows)
                log_action(current_user, "roster.import", region=village, target=village,
                           after=roster_import_summary(result, rows, filename, changes))
                changes = []
                db.session.commit()
                if digest:
                    os.remove(roster.upload_path(digest))
    except roster.RosterError as exc:
        db.session.rollback()
        errors, changes = exc.errors, []
    return render_template("households/import.html", village=village, form=form,
                           errors=errors, result=result, changes=changes, digest=digest,
                           filename=filename, created=created, title=_("导入花名册"),
                           changes_digest=roster.changes_digest(changes) if changes else "",
                           stale=stale and bool(changes), gone=gone)
