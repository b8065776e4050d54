"""The household page reached by scanning the door-plate QR code: no login.

Shows the head's masked name, the household's score, this month's points, its rank and recent
entries (item, category, points, date): nothing else about anyone.
"""
from flask import Blueprint, abort, render_template
from app.extensions import db
from app.boards.queries import monthly_trend
from app.households.queries import closed_household_for_token, household_for_token
from app.public.masking import mask_name
from app.review import queries as review_q
from app.rewards import queries as rewards_q
from app.review.services import confirm_due
from app.scoring import queries as ledger
from app.scoring.periods import local_today, month_period
from app.security import qr_capability

bp = Blueprint("public", __name__)


@bp.route("/h/<token>")
@qr_capability
def household(token):
    """The household's page for whoever holds the door plate's link (no login). Unknown,
    reissued or closed tokens are 404, rate-limited and logged (app.security.qr_capability)."""
    household = household_for_token(token)
    if household is None:
        closed = closed_household_for_token(token)
        if closed is None:
            abort(404)
        return render_template("public/closed.html", village=closed.village), 410
    today = local_today()
    if confirm_due(household.village_id):   # first: the rank counts what this confirms
        db.session.commit()
    rank, out_of = ledger.rank_of(household)
    trend = monthly_trend(household.id, today)   # its last month is this month
    return render_template(
        "public/household.html", masked_name=mask_name(household.head_name),
        village=household.village, group=household.group, balance=household.balance,
        month=month_period(today), month_points=trend[-1][1],
        rank=rank, out_of=out_of, entries=ledger.recent_entries(household.id, 15),
        objections=review_q.household_objections(household.id),
        reports=review_q.household_reports(household.id), token=token,
        redemptions=rewards_q.household_redemptions(household.id, 10), trend=trend)
