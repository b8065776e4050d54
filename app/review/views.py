"""The village committee's side of the workflow: review queue, second-person review,
objections and their resolution, self-reports, and the printable public notice."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accounts.access import require, scope
from app.audit.services import log_action
from app.evidence.forms import photo_id, photo_or_form_error
from app.extensions import db
from app.households.queries import village_or_404
from app.i18n import refusal_text
from app.ids import as_id
from app.regions.queries import children, get_scoped_or_404
from app.review import queries, services
from app.review.forms import (AcceptReportForm, ObjectionForm, ReasonForm, ResolveForm,
                              VillageSettingsForm)
from app.review.models import Objection, SelfReport
from app.rules.engine import Refusal
from app.scoring.models import LedgerEntry
from app.scoring.services import village_settings
from app.scoring.periods import local_today, month_period, parse_month

bp = Blueprint("review", __name__)


def _entry(entry_id) -> LedgerEntry:
    return get_scoped_or_404(LedgerEntry, entry_id, "village_id", scope())


def _back(entry):
    return redirect(url_for("households.show", household_id=entry.household_id))


@bp.route("/villages/<int:village_id>/review")
@require("review")
def queue(village_id):
    """Entries awaiting a second person, open objections and pending self-reports."""
    village = village_or_404(village_id, scope())
    if services.confirm_due(village.id):
        db.session.commit()
    return render_template("review/queue.html", village=village,
                           reject_form=ReasonForm(), **queries.review_queue(village.id))


@bp.route("/entries/<int:entry_id>/approve", methods=["POST"])
@require("review")
def approve(entry_id):
    """A second person approves an entry: it goes under public notice."""
    entry = _entry(entry_id)
    try:
        before = entry.status
        services.approve(entry, by_user=current_user)
        log_action(current_user, "entry.approve", region=entry.village_id, target=entry,
                   before={"status": before}, after={"status": entry.status})
        db.session.commit()
        flash(_("已审核通过：%(item)s", item=entry.item_name), "success")
    except Refusal as exc:
        db.session.rollback()
        flash(refusal_text(exc), "danger")
    if request.form.get("back") == "household":
        return _back(entry)
    return redirect(url_for("review.queue", village_id=entry.village_id))


@bp.route("/entries/<int:entry_id>/decline", methods=["GET", "POST"])
@require("review")
def decline(entry_id):
    """A second person declines an entry, with a reason."""
    entry = _entry(entry_id)
    form = ReasonForm()
    error = None
    if form.validate_on_submit():
        try:
            services.decline(entry, by_user=current_user, reason=form.reason.data)
            log_action(current_user, "entry.decline", region=entry.village_id, target=entry,
                       before={"status": "awaiting_review"},
                       after={"status": entry.status, "reason": form.reason.data})
            db.session.commit()
            flash(_("已退回：%(item)s", item=entry.item_name), "success")
            return redirect(url_for("review.queue", village_id=entry.village_id))
        except Refusal as exc:
            db.session.rollback()
            error = refusal_text(exc)
    return render_template("review/reason.html", entry=entry, form=form, error=error,
                           title=_("审核不通过"))


@bp.route("/entries/<int:entry_id>/object", methods=["GET", "POST"])
@login_required
def object_entry(entry_id):
    """A cadre objects to an entry under public notice; it is held until resolved (once per
    cadre and entry: a second time the page says why and shows no form)."""
    entry = _entry(entry_id)
    form = ObjectionForm()
    error = None
    if request.method == "GET":  # once per cadre and entry: no form for a second one
        try:
            services.check_no_objection_yet(entry, by_user=current_user)
        except Refusal as exc:
            form, error = None, refusal_text(exc)
    if form is not None and form.validate_on_submit():
        try:
            services.raise_objection(entry, text=form.text.data, by_user=current_user,
                                     evidence_id=photo_id(form.photo, entry.village_id),
                                     idempotency_key=form.idempotency_key.data)
            db.session.commit()
            flash(_("已提出异议，该记录暂停生效，等待村委会处理。"), "success")
            return _back(entry)
        except Refusal as exc:
            db.session.rollback()
            error = photo_or_form_error(exc, form.photo)
            if exc.code == "already_objected":
                form = None
    return render_template("review/object.html", entry=entry, form=form, error=error)


@bp.route("/objections/<int:objection_id>/resolve", methods=["GET", "POST"])
@require("review")
def resolve(objection_id):
    """The committee resolves an objection: uphold the entry, adjust it or reverse it."""
    objection = get_scoped_or_404(Objection, objection_id, "village_id", scope())
    form = ResolveForm()
    error = None
    if form.validate_on_submit():
        try:
            services.resolve_objection(objection, outcome=form.outcome.data,
                                       reason=form.reason.data, by_user=current_user,
                                       adjusted_points=form.adjusted_points.data or None)
            log_action(current_user, "objection.resolve", region=objection.village_id,
                       target=objection, before={"status": "open"},
                       after={"status": objection.status, "outcome": objection.outcome,
                              "reason": objection.resolution,
                              "adjusted_points": objection.adjusted_points})
            db.session.commit()
            flash(_("异议已处理。"), "success")
            return redirect(url_for("review.queue", village_id=objection.village_id))
        except Refusal as exc:
            db.session.rollback()
            error = refusal_text(exc)
            if exc.code == "bad_points":
                form.adjusted_points.errors = [error]
                error = None
    return render_template("review/resolve.html", objection=objection, form=form,
                           error=error)


@bp.route("/reports/<int:report_id>/review", methods=["GET", "POST"])
@require("review")
def review_report(report_id):
    """Accept a self-report (it becomes an entry under notice) or decline it with a reason.
    A report already decided shows its outcome and no buttons; a POST to it (an old tab, a
    second cadre) is refused with a flash and records nothing."""
    report = get_scoped_or_404(SelfReport, report_id, "village_id", scope())
    if request.method == "POST" and report.status != "pending":
        flash(_("该申报已经处理过"), "warning")
        return redirect(url_for("review.review_report", report_id=report.id))
    accept_form, decline_form = AcceptReportForm(prefix="a"), ReasonForm(prefix="d")
    error = None
    accepting = request.form.get("action") == "accept"
    form = accept_form if accepting else decline_form
    if request.method == "POST" and form.validate_on_submit():
        try:
            if accepting:
                services.accept_self_report(report, by_user=current_user,
                                            points=accept_form.points.data or None)
            else:
                services.decline_self_report(report, by_user=current_user,
                                             reason=decline_form.reason.data)
            log_action(current_user, "self_report." + ("accept" if accepting else "decline"),
                       region=report.village_id, target=report, before={"status": "pending"},
                       after={"status": report.status, "entry_id": report.entry_id,
                              "reason": report.decision_reason})
            db.session.commit()
            flash(_("申报已处理。"), "success")
            return redirect(url_for("review.queue", village_id=report.village_id))
        except Refusal as exc:
            db.session.rollback()
            if exc.code == "report_closed":  # decided by someone else meanwhile
                flash(refusal_text(exc), "warning")
                return redirect(url_for("review.review_report", report_id=report.id))
            error = refusal_text(exc)
    return render_template("review/report.html", report=report, accept_form=accept_form,
                           decline_form=decline_form, error=error)


@bp.route("/villages/<int:village_id>/notice")
@login_required
def notice(village_id):
    """The printable public notice (公示) of a month's entries for one villager group."""
    village = village_or_404(village_id, scope())
    if services.confirm_due(village.id):
        db.session.commit()
    period = parse_month(request.args.get("month")) or month_period(local_today())
    groups = children(village)
    group_id = request.args.get("group", type=as_id)
    group = next((g for g in groups if g.id == group_id), None)
    entries = queries.notice_entries(village.id, period, group.id if group else None,
                                     open_now=period.start <= local_today() < period.end)
    return render_template("review/notice.html", village=village, groups=groups, group=group,
                           period=period, entries=entries, public=False)


@bp.route("/villages/<int:village_id>/settings", methods=["GET", "POST"])
@require("manage_households")
def settings(village_id):
    """The village's notice period and second-person review threshold."""
    village = village_or_404(village_id, scope())
    current = village_settings(village.id)
    form = VillageSettingsForm()
    if not form.is_submitted():
        form.notice_days.data = current.notice_days
        form.review_above.data = format(current.review_above.normalize(), "f") \
            if current.review_above is not None else ""
    if form.validate_on_submit():
        before = {"notice_days": current.notice_days, "review_above": current.review_above}
        try:
            saved = services.save_settings(village.id, notice_days=form.notice_days.data,
                                           review_above=form.review_above.data or None)
            log_action(current_user, "village.settings", region=village,
                       target=("village_settings", village.id),
                       before=before, after={"notice_days": saved.notice_days,
                                             "review_above": saved.review_above})
            db.session.commit()
            flash(_("已保存。"), "success")
            return redirect(url_for("review.queue", village_id=village.id))
        except Refusal as exc:
            db.session.rollback()
            form.review_above.errors = [refusal_text(exc)]
    return render_template("review/settings.html", village=village, form=form)
