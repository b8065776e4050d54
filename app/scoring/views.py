"""Scoring a household and reversing a mistaken entry (thin: the services do the work)."""
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts.access import require, scope
from app.evidence.forms import photo_id, photo_or_form_error
from app.extensions import db
from app.households.queries import household_or_404
from app.i18n import refusal_text
from app.points import fmt_points
from app.regions.queries import get_scoped_or_404
from app.rules.engine import Refusal
from app.rules.queries import version_in_force, with_items
from app.scoring import queries, services
from app.scoring.forms import ReverseForm, ScoreForm
from app.scoring.models import LedgerEntry
from app.scoring.periods import local_today

bp = Blueprint("scoring", __name__)

# Which form field a refusal belongs to, so the message shows where the mistake is.
_FIELD_OF = {"out_of_range": "points", "bad_points": "points", "fixed_points": "points",
             "bad_problems": "problems", "bad_units": "units", "bad_tier": "tier",
             "bad_bonus": "bonus", "reference_required": "reference",
             "member_required": "member", "bad_ratings": "ratings",
             "bad_quantity": "quantity", "future_date": "deed_date", "no_rulebook": "deed_date",
             "item_not_in_force": "item_id", "once_only": "item_id"}


def _deed_extras(form) -> dict:
    """What the chosen item's kind needs besides points and quantity (rules.engine.Deed)."""
    extras = {"problems": form.problems.data, "units": form.units.data, "tier": form.tier.data,
              "bonus": form.bonus.data, "reference": form.reference.data,
              "member": form.member.data, "self_rating": form.self_rating.data}
    from app.rules.periodic import split_ratings
    extras["ratings"] = split_ratings(form.ratings.data)
    return {k: v for k, v in extras.items() if v not in (None, "", ())}


def _scored_message(entry) -> str:
    """What the scorer is told after recording: the points and when they will count."""
    text = _("已记分：%(item)s %(points)s 分", item=entry.item_name,
             points=fmt_points(entry.points))
    if entry.status == "awaiting_review":
        return text + _("，需另一人审核后公示")
    if entry.status == "under_notice":
        return text + _("，公示至 %(date)s 后生效", date=entry.notice_until)
    return text


@bp.route("/households/<int:household_id>/score", methods=["GET", "POST"])
@require("score")
def score(household_id):
    """Record an award or deduction for a household under the rulebook in force. A household
    that moved away or was merged keeps its page but gets no form: the cadre is told why,
    and a POST records nothing."""
    household = household_or_404(household_id, scope())
    if household.status != "active":
        return render_template("scoring/closed.html", household=household,
                               message=_("该户已迁出或合并，不能再记分"))
    form = ScoreForm()
    if not form.is_submitted():
        form.deed_date.data = local_today()
    deed_date = form.deed_date.data or local_today()
    version = version_in_force(household.village, deed_date)
    if version is None:  # keep the form usable: show today's items and say what's wrong
        form.deed_date.errors = [_("%(date)s 没有生效的积分细则，请改日期", date=deed_date)]
        version = version_in_force(household.village, local_today())
    form_error = None
    if form.validate_on_submit():
        try:
            entry = services.post_entry(
                household=household, item_id=form.item_id.data, deed_date=form.deed_date.data,
                recorded_by=current_user, quantity=form.quantity.data,
                points=form.points.data or None, note=form.note.data,
                idempotency_key=form.idempotency_key.data,
                evidence_id=photo_id(form.photo, household.village_id), **_deed_extras(form))
            # read before the commit expires the rows (issue 10: no reload to say "done")
            message = _scored_message(entry)
            done = url_for("households.show", household_id=household.id)
            db.session.commit()
            flash(message, "success")
            return redirect(done)
        except Refusal as exc:
            db.session.rollback()
            field = _FIELD_OF.get(exc.code)
            if field:
                getattr(form, field).errors = [refusal_text(exc)]
            else:
                form_error = photo_or_form_error(exc, form.photo)
    already = queries.scored_on(household.id, deed_date)
    return render_template("scoring/score.html", household=household, form=form,
                           version=with_items(version), form_error=form_error,
                           already=already, already_codes={e.item_code for e in already},
                           deed_date=deed_date)


@bp.route("/entries/<int:entry_id>/reverse", methods=["GET", "POST"])
@require("score")
def reverse(entry_id):
    """Cancel a mistaken entry with a reversal entry and a reason; nothing is edited."""
    entry = get_scoped_or_404(LedgerEntry, entry_id, "village_id", scope())
    form = ReverseForm()
    form_error = None
    if entry.is_reversal:
        form_error = _("冲正记录不能再冲正")
    elif entry.kind == "spend":   # refunded at the supermarket, which restocks the goods
        form_error = _("兑换记录不能在这里冲正，请到积分超市“退还”这次兑换（奖品会退回库存）")
    elif entry.reversed_by is not None or entry.status in ("cancelled", "declined"):
        form_error = _("该记录已经冲正过")
    if form_error:
        return render_template("scoring/reverse.html", entry=entry, form=None,
                               form_error=form_error)
    if form.validate_on_submit():
        try:
            services.reverse_entry(entry, reason=form.reason.data, recorded_by=current_user,
                                   idempotency_key=form.idempotency_key.data)
            db.session.commit()
            flash(_("已冲正：%(item)s", item=entry.item_name), "success")
            return redirect(url_for("households.show", household_id=entry.household_id))
        except Refusal as exc:
            db.session.rollback()
            form_error = refusal_text(exc)
    return render_template("scoring/reverse.html", entry=entry, form=form,
                           form_error=form_error)
