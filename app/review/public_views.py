"""The villagers' side of the workflow, reached from the door plate's QR link (no login):
the public notice of their villager group, objections, and self-reports."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from app.evidence.forms import photo_id, photo_or_form_error
from app.extensions import db
from app.households.queries import household_for_token
from app.i18n import refusal_text
from app.public.masking import mask_name
from app.review import queries, services
from app.review.forms import ObjectionForm, SelfReportForm
from app.rules.engine import Refusal
from app.rules.queries import version_in_force, with_items
from app.scoring.models import LedgerEntry
from app.scoring.periods import local_today, month_period
from app.security import qr_capability, self_report_limit

OPEN_TO_OBJECTION = ("under_notice", "held")

bp = Blueprint("villager", __name__)


def _household(token):
    household = household_for_token(token)
    if household is None:
        abort(404)
    return household


@bp.route("/h/<token>/notice")
@qr_capability
def notice(token):
    """This month's public notice of the household's villager group (names masked)."""
    household = _household(token)
    if services.confirm_due(household.village_id):
        db.session.commit()
    period = month_period(local_today())
    entries = queries.notice_entries(household.village_id, period, household.group_id,
                                     open_now=True)
    return render_template("review/notice.html", village=household.village,
                           group=household.group, groups=[], period=period, entries=entries,
                           public=True, token=token, mask=mask_name)


@bp.route("/h/<token>/object/<int:entry_id>", methods=["GET", "POST"])
@qr_capability
@self_report_limit
def object_entry(token, entry_id):
    """A villager objects to an entry of their village that is under public notice (once
    per household and entry: a second time the page says why and shows no form). Another
    household's entry that is no longer under notice (or held by an objection) is a 404:
    the door plate opens what the village's public notice shows, not the whole ledger."""
    household = _household(token)
    entry = db.session.get(LedgerEntry, entry_id)
    if entry is None or entry.village_id != household.village_id:
        abort(404)
    if entry.status not in OPEN_TO_OBJECTION and entry.household_id != household.id:
        abort(404)   # another household's entry past its notice is nobody's business here
    form = ObjectionForm()
    error = None
    if request.method == "GET":  # say at once why there is no form (the POST still refuses)
        if entry.status not in OPEN_TO_OBJECTION:
            form, error = None, _("该记录不在公示期内，不能提出异议")
        else:   # once per household and entry: no form for a second one
            try:
                services.check_no_objection_yet(entry, by_household=household)
            except Refusal as exc:
                form, error = None, refusal_text(exc)
    if form is not None and form.validate_on_submit():
        try:
            services.raise_objection(entry, text=form.text.data, by_household=household,
                                     evidence_id=photo_id(form.photo, household.village_id),
                                     idempotency_key=form.idempotency_key.data)
            db.session.commit()
            flash(_("您的异议已提交，村委会处理后会在本页显示结果。"), "success")
            return redirect(url_for("public.household", token=token))
        except Refusal as exc:
            db.session.rollback()
            error = photo_or_form_error(exc, form.photo)
            if exc.code in ("already_objected", "not_under_notice"):
                form = None
    return render_template("review/object.html", entry=entry, form=form, error=error,
                           token=token, masked=mask_name(entry.household.head_name),
                           village=household.village)


@bp.route("/h/<token>/report", methods=["GET", "POST"])
@qr_capability
@self_report_limit
def report(token):
    """A household declares a good deed; a cadre reviews it."""
    household = _household(token)
    form = SelfReportForm()
    if not form.is_submitted():
        form.deed_date.data = local_today()
    version = with_items(version_in_force(household.village, local_today()))
    items = [i for c in (version.categories if version else []) for i in c.items
             if not i.is_deduction and i.kind != "scorecard"]   # inspections: cadres only
    form.item_id.choices = [SelectChoice("", _("请选择…"))] + [
        SelectChoice(i.id, f"{i.category.name} · {i.name}（{i.points_label}）") for i in items]
    error = None
    if form.validate_on_submit():
        try:
            services.submit_self_report(
                household, item_id=form.item_id.data, deed_date=form.deed_date.data,
                description=form.description.data,
                evidence_id=photo_id(form.photo, household.village_id),
                idempotency_key=form.idempotency_key.data)
            db.session.commit()
            flash(_("申报已提交，村委会审核后会在本页显示结果。"), "success")
            return redirect(url_for("public.household", token=token))
        except Refusal as exc:
            db.session.rollback()
            error = photo_or_form_error(exc, form.photo)
    return render_template("review/self_report.html", form=form, error=error, token=token,
                           village=household.village)


@bp.route("/h/<token>/rules")
@qr_capability
def rules(token):
    """The rulebook in force in the household's village today, as adopted (read-only)."""
    household = _household(token)
    version = version_in_force(household.village, local_today())
    return render_template("review/rules.html", village=household.village, version=version,
                           token=token)
