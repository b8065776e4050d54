"""The village board page."""
from flask import Blueprint, current_app, render_template, request
from flask_login import login_required

from app.accounts.access import scope
from app.boards.queries import village_board
from app.extensions import db
from app.households.queries import village_or_404
from app.review.services import confirm_due
from app.scoring.periods import (FIRST_DATE, local_today, month_period, parse_month,
                                 previous_month)

bp = Blueprint("boards", __name__)


@bp.route("/villages/<int:village_id>/board")
@login_required
def village(village_id):
    """Red and black boards of a month (?month=YYYY-MM, default this month; a month that
    does not parse shows this month's with a notice saying so)."""
    village = village_or_404(village_id, scope())
    if confirm_due(village.id):
        db.session.commit()
    today = local_today()
    asked = request.args.get("month")
    chosen = parse_month(asked)
    period = chosen or month_period(today)
    prev = previous_month(period) if period.start > FIRST_DATE else None
    board = village_board(village.id, period, current_app.config["RED_BOARD_SIZE"],
                          previous=prev)
    following = month_period(period.end) if period.end <= today else None
    return render_template("boards/village.html", village=village, board=board,
                           prev=prev, next=following,
                           bad_month=asked if asked and chosen is None else None)


# The other pages of the blueprint register their routes on ``bp`` when imported.
from app.boards import public_views, pub_views, setup_views  # noqa: E402,F401
