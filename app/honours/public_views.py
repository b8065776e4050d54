"""The villagers' side of honours, reached from the door plate's QR link (no login): the
village's honours under notice and awarded this year, a nomination, and an objection during
the notice period. Template helpers for the household and QR pages live here too."""
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from app.audit.services import log_action
from app.extensions import db
from app.honours import queries, services
from app.honours.forms import ObjectionForm, PublicNominateForm
from app.honours.models import Honour
from app.honours.stars import household_stars
from app.households.models import Household
from app.households.numbers import house_number
from app.households.queries import household_for_token
from app.i18n import refusal_text
from app.public.masking import mask_name
from app.rules.engine import Refusal
from app.scoring.periods import local_today
from app.security import qr_capability, self_report_limit

bp = Blueprint("honours_public", __name__)


def _household(token):
    household = household_for_token(token)
    if household is None:
        abort(404)
    return household


@bp.app_template_global()
def household_distinctions(household_id=None, token=None) -> dict:
    """{"honours": awarded Honours, "stars": conferred StarRatings with stars} of a household
    (by id, or by door-plate token on the QR page), for templates/honours/_distinctions.html."""
    if household_id is None:
        household = household_for_token(token) if token else None
        household_id = household.id if household else None
    if household_id is None:
        return {"honours": [], "stars": []}
    return {"honours": queries.household_honours(household_id),
            "stars": household_stars(household_id)}


@bp.route("/h/<token>/honours")
@qr_capability
def index(token):
    """This year's honours of the household's village: under notice and awarded."""
    household = _household(token)
    year = local_today().year
    honours = queries.village_honours(household.village_id, year, ("under_notice", "awarded"))
    objected = {h.id for h in honours
                if any(o.by_household_id == household.id for o in h.objections)}
    return render_template("honours/public_index.html", village=household.village,
                           honours=honours, year=year, token=token, mask=mask_name,
                           today=local_today(), objected=objected)


@bp.route("/h/<token>/honours/nominate", methods=["GET", "POST"])
@qr_capability
@self_report_limit
def nominate(token):
    """A villager recommends a household of their village (by house number) for a title."""
    household = _household(token)
    form = PublicNominateForm()
    form.title.choices = [SelectChoice(t) for t in services.titles_of(household.village_id)]
    error = None
    if form.validate_on_submit():
        nominee = db.session.execute(select(Household).where(
            Household.village_id == household.village_id,
            Household.house_number == house_number(form.house_number.data))).scalar_one_or_none()
        if nominee is None:
            form.house_number.errors.append(_("本村没有这个门牌号"))
        else:
            try:
                honour = services.nominate(nominee, title=form.title.data,
                                           year=local_today().year, reason=form.reason.data,
                                           by_household=household,
                                           idempotency_key=form.idempotency_key.data)
                log_action(None, "honour.nominate", region=household.village_id,
                           target=honour, after={"status": honour.status,
                                                 "title": honour.title, "year": honour.year,
                                                 "by_household_id": household.id})
                db.session.commit()
                flash(_("推荐已提交，村委会审核公示后会在本村荣誉榜显示。"), "success")
                return redirect(url_for("public.household", token=token))
            except Refusal as exc:
                db.session.rollback()
                error = refusal_text(exc)
    return render_template("honours/public_nominate.html", form=form, error=error, token=token,
                           village=household.village)


@bp.route("/h/<token>/honours/<int:honour_id>/object", methods=["GET", "POST"])
@qr_capability
@self_report_limit
def object_honour(token, honour_id):
    """A villager objects to an honour of their village that is under public notice."""
    household = _household(token)
    honour = db.session.get(Honour, honour_id)
    if honour is None or honour.village_id != household.village_id:
        abort(404)
    form = ObjectionForm()
    error = None
    done = not form.is_submitted() and services.has_objected(honour, household)
    if done:   # said once, and no form: a second one would only be refused
        error = _("您家已经对这项荣誉提出过异议，村委会会在授予前核实，请勿重复提交")
    if form.validate_on_submit():
        try:
            objection = services.object_to(honour, text=form.text.data,
                                           by_household=household,
                                           idempotency_key=form.idempotency_key.data)
            log_action(None, "honour.object", region=honour.village_id, target=honour,
                       after={"objection_id": objection.id, "by_household_id": household.id})
            db.session.commit()
            flash(_("您的异议已提交，村委会会在授予前核实。"), "success")
            return redirect(url_for("honours_public.index", token=token))
        except Refusal as exc:
            db.session.rollback()
            error = refusal_text(exc)
    return render_template("honours/public_object.html", form=form, error=error, token=token,
                           honour=honour, masked=mask_name(honour.household.head_name),
                           village=household.village, done=done)
