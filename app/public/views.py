"""The household page reached by scanning the door-plate QR code: no login.

Shows the head's masked name, the household's score, this month's points, its rank and recent
entries (item, category, points, date): nothing else about anyone.
"""
from flask import Blueprint, abort, make_response, render_template
from sqlalchemy import select

from app.extensions import db
from app.households.models import Household
from app.households.qr import token_hash
from app.public.masking import mask_name
from app.scoring import queries as ledger
from app.scoring.periods import local_today, month_period

bp = Blueprint("public", __name__)


@bp.route("/h/<token>")
def household(token):
    if not 20 <= len(token) <= 64:
        abort(404)
    household = db.session.execute(
        select(Household).where(Household.qr_token_hash == token_hash(token))
    ).scalar_one_or_none()
    if household is None or household.status != "active":
        abort(404)
    month = month_period(local_today())
    rank, out_of = ledger.rank_of(household)
    resp = make_response(render_template(
        "public/household.html", masked_name=mask_name(household.head_name),
        village=household.village, group=household.group, balance=household.balance,
        month=month, month_points=ledger.period_points(household.id, month),
        rank=rank, out_of=out_of, entries=ledger.recent_entries(household.id, 15)))
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["X-Robots-Tag"] = "noindex, nofollow"
    resp.headers["Cache-Control"] = "no-store"
    return resp
