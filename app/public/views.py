"""The household page reached by scanning the door-plate QR code: no login.

Shows the head's masked name, the household's score, this month's points, its rank and recent
entries (item, category, points, date): nothing else about anyone.
"""
from flask import Blueprint, abort, render_template
from sqlalchemy import select

from app.extensions import db, limiter
from app.households.models import Household
from app.households.qr import token_hash
from app.logs import log_event
from app.public.masking import mask_name
from app.review import queries as review_q
from app.review.services import confirm_due
from app.scoring import queries as ledger
from app.scoring.periods import local_today, month_period
from app.security import client_address, private_page, rate

bp = Blueprint("public", __name__)


def _unknown_token(token: str):
    """Log a miss (an old plate, a typo, or someone guessing) with the client's address and
    only the token's first characters, then 404. Misses count towards RATELIMIT_QR_MISS."""
    log_event("qr_unknown_token", "unknown or closed QR token", client=client_address(),
              token_prefix=token[:6], token_length=len(token))
    abort(404)


@bp.route("/h/<token>")
@private_page
@limiter.limit(rate("RATELIMIT_QR"))
@limiter.limit(rate("RATELIMIT_QR_MISS"), scope="miss",
               deduct_when=lambda response: response.status_code == 404)
def household(token):
    """The household's page for whoever holds the door plate's link (no login)."""
    if not 20 <= len(token) <= 64:
        _unknown_token(token)
    household = db.session.execute(
        select(Household).where(Household.qr_token_hash == token_hash(token))
    ).scalar_one_or_none()
    if household is None or household.status != "active":
        _unknown_token(token)
    month = month_period(local_today())
    rank, out_of = ledger.rank_of(household)
    if confirm_due(household.village_id):
        db.session.commit()
    return render_template(
        "public/household.html", masked_name=mask_name(household.head_name),
        village=household.village, group=household.group, balance=household.balance,
        month=month, month_points=ledger.period_points(household.id, month),
        rank=rank, out_of=out_of, entries=ledger.recent_entries(household.id, 15),
        objections=review_q.household_objections(household.id),
        reports=review_q.household_reports(household.id), token=token)
