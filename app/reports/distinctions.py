"""The "spiritual reward" half of a roll-up (issue 7 with issue 5): how often households of
each bucket stood on a published red or black board, how many honours were awarded, and how
many star ratings above zero were conferred, in a period. Three grouped queries.

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


def add_distinctions(rows: dict, grain, period: Period) -> None:
    """Set ``red_listed``, ``black_listed``, ``honours`` and ``stars`` (ints) on the
    RollupRows of ``rows`` ({bucket id: RollupRow}, a defaultdict) for the buckets of
    ``grain`` (a ``queries.Grain``: rows are grouped by its key and folded into buckets)."""
    from app.reports.queries import _fold

    def count(stmt, *extra):
        key = grain.key()
        stmt = grain.households(stmt.add_columns(key, *extra).group_by(key, *extra[:-1]))
        for key, *rest in db.session.execute(stmt):
            row = _fold(rows, grain, key)
            if row is not None:
                yield row, rest

    lines = (select().select_from(BoardLine)
             .join(BoardPublication, BoardPublication.id == BoardLine.publication_id)
             .join(Household, Household.id == BoardLine.household_id)
             .where(BoardPublication.status == "published",
                    BoardLine.board.in_(("red", "black")),
                    _starts_in(BoardPublication.period_start, period)))
    for row, (board, n) in count(lines, BoardLine.board, func.count(BoardLine.id)):
        setattr(row, f"{board}_listed", getattr(row, f"{board}_listed") + n)

    honours = (select().select_from(Honour)
               .join(Household, Household.id == Honour.household_id)
               .where(Honour.status == "awarded", _starts_in(Honour.decision_date, period)))
    for row, (n,) in count(honours, func.count(Honour.id)):
        row.honours += n

    stars = (select().select_from(StarRating)
             .join(StarConferment, StarConferment.id == StarRating.conferment_id)
             .join(Household, Household.id == StarRating.household_id)
             .where(StarRating.stars > 0, _starts_in(StarConferment.period_start, period)))
    for row, (n,) in count(stars, func.count(StarRating.id)):
        row.stars += n
