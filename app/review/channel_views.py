"""Pages of the evidence channels (RULE-FEATURES row 22): from a door plate's page a villager
declares that another household helped them (``beneficiary``) or reports another household's
deed, good or bad (``peer``); a volunteer recorder (志愿记录员, perm ``declare``) records a
deed of a household of its village. Everything waits in the review queue."""
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app.accounts.access import require, scope
from app.audit.services import log_action
from app.evidence.forms import photo_id, photo_or_form_error
from app.extensions import db
from app.households.queries import household_for_token, village_or_404
from app.review import channels
from app.review.channel_forms import DeclarationForm, VolunteerForm
from app.rules.engine import Refusal
from app.rules.queries import version_in_force
from app.scoring.periods import local_today
from app.security import qr_capability, self_report_limit

bp = Blueprint("channels", __name__)

#: Which form field shows a refusal of each code (others go on top of the form).
_FIELD_OF = {"not_in_village": "house_number", "own_household": "house_number",
             "channel_refused": "item_id", "channel_deduction": "item_id",
             "item_not_in_force": "item_id", "future_date": "deed_date",
             "too_old": "deed_date", "text_required": "description",
             "text_too_long": "description"}


def _item_choices(form, village, channel):
    items = channels.channel_items(version_in_force(village, local_today()), channel)
    form.item_id.choices = [SelectChoice(i.id, f"{i.category.name} · {i.name}（{i.points_label}）")
                            for i in items]
    return items


def _error(exc, form):
    """Put the refusal under its field and return None, or return it for the top."""
    name = _FIELD_OF.get(exc.code)
    field = getattr(form, name, None) if name else None
    text = photo_or_form_error(exc, form.photo)
    if field is not None and text:
        field.errors = [text]
        return None
    return text


@bp.route("/h/<token>/declare/<any(beneficiary, peer):channel>", methods=["GET", "POST"])
@qr_capability
@self_report_limit
def declare(token, channel):
    """A villager declares a deed of another household of the village: it helped them
    (beneficiary) or a good or bad deed they saw (peer)."""
    household = household_for_token(token)
    if household is None:
        abort(404)
    form = DeclarationForm()
    if not form.is_submitted():
        form.deed_date.data = local_today()
    items = _item_choices(form, household.village, channel)
    error = None
    if form.validate_on_submit():
        subject = channels.household_by_number(household.village_id, form.house_number.data)
        try:
            channels.submit_declaration(
                subject, channel=channel, item_id=form.item_id.data,
                deed_date=form.deed_date.data, description=form.description.data,
                by_household=household,
                evidence_id=photo_id(form.photo, household.village_id),
                idempotency_key=form.idempotency_key.data)
            db.session.commit()
            flash(_("已提交，村委会核实后记分。"), "success")
            return redirect(url_for("public.household", token=token))
        except Refusal as exc:
            db.session.rollback()
            error = _error(exc, form)
    return render_template("review/declare.html", form=form, error=error, token=token,
                           channel=channel, items=items, village=household.village)


@bp.route("/villages/<int:village_id>/declare", methods=["GET", "POST"])
@require("declare")
def volunteer(village_id):
    """A volunteer recorder records a deed of a household of its village; it waits in the
    review queue (a volunteer never posts to the ledger)."""
    village = village_or_404(village_id, scope())
    form = VolunteerForm()
    if not form.is_submitted():
        form.deed_date.data = local_today()
    households = channels.village_households(village.id)
    form.household_id.choices = [SelectChoice(h.id, _("%(n)s 号 %(name)s", n=h.house_number,
                                                       name=h.head_name)) for h in households]
    items = _item_choices(form, village, "volunteer")
    error = None
    if form.validate_on_submit():
        subject = next((h for h in households if h.id == form.household_id.data), None)
        try:
            report = channels.submit_declaration(
                subject, channel="volunteer", item_id=form.item_id.data,
                deed_date=form.deed_date.data, description=form.description.data,
                by_user=current_user, evidence_id=photo_id(form.photo, village.id),
                idempotency_key=form.idempotency_key.data)
            log_action(current_user, "self_report.volunteer", region=village, target=report,
                       after={"household_id": report.household_id, "item_id": report.item_id})
            db.session.commit()
            flash(_("已提交，等待村委会审核。"), "success")
            return redirect(url_for("channels.volunteer", village_id=village.id))
        except Refusal as exc:
            db.session.rollback()
            error = _error(exc, form)
            if exc.code in ("not_in_village", "own_household"):
                form.household_id.errors, error = [error or ""], None
    return render_template("review/volunteer.html", form=form, error=error, village=village,
                           items=items, recent=channels.recent_by_user(current_user.id))
