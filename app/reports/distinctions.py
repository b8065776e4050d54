"""The "spiritual reward" half of a roll-up (issue 7 with issue 5): how often households of
each bucket stood on a published red or black board, how many honours were awarded, and how
many star ratings above zero were conferred, in a period. Four grouped queries.

What counts, for a period P:
- red_listed / black_listed: lines of the red / black board of publications that are
  published now (a superseded publication no longer counts; its correction does) and whose
  board period starts in P; a household listed twice (two boards) counts twice.
- honours: honours awarded with a decision date in P.
- stars: star ratings with at least one star, of conferments whose period starts in P.
"""
from sqlalchemy import func, select

from app.boards.models import BoardLine, BoardPublication
from app.extensions import db
from app.honours.models import Honour, StarConferment, StarRating
from app.households.models import Household
from app.scoring.periods import Period


def _starts_in(column, period: Period):
    return (column >= period.start) & (column < period.end)


def add_distinctions(rows: dict, region, period: Period, level: str) -> None:
    """Set ``red_listed``, ``black_listed``, ``honours`` and ``stars`` (ints) on the
    RollupRows of ``rows`` ({bucket id: RollupRow}, a defaultdict) for the buckets at
    ``level`` under ``region`` (see ``queries._bucketed``)."""
    from app.reports.queries import _bucketed

    lines = (select().select_from(BoardLine)
             .join(BoardPublication, BoardPublication.id == BoardLine.publication_id)
             .join(Household, Household.id == BoardLine.household_id))
    stmt, b = _bucketed(lines, region, level)
    stmt = (stmt.add_columns(b, BoardLine.board, func.count(BoardLine.id))
            .where(BoardPublication.status == "published", BoardLine.board.in_(("red", "black")),
                   _starts_in(BoardPublication.period_start, period))
            .group_by(b, BoardLine.board))
    for key, board, n in db.session.execute(stmt):
        setattr(rows[key], f"{board}_listed", n)

    stmt, b = _bucketed(select().select_from(Honour)
                        .join(Household, Household.id == Honour.household_id), region, level)
    stmt = (stmt.add_columns(b, func.count(Honour.id))
            .where(Honour.status == "awarded", _starts_in(Honour.decision_date, period))
            .group_by(b))
    for key, n in db.session.execute(stmt):
        rows[key].honours = n

    stmt, b = _bucketed(select().select_from(StarRating)
                        .join(StarConferment, StarConferment.id == StarRating.conferment_id)
                        .join(Household, Household.id == StarRating.household_id),
                        region, level)
    stmt = (stmt.add_columns(b, func.count(StarRating.id))
            .where(StarRating.stars > 0, _starts_in(StarConferment.period_start, period))
            .group_by(b))
    for key, n in db.session.execute(stmt):
        rows[key].stars = n
