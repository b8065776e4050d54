"""The live village board of a period, derived from ``scoring.queries.standings``."""
from dataclasses import dataclass

from sqlalchemy import exists, select

from app.extensions import db
from app.rules.models import RuleItem
from app.scoring.models import LedgerEntry
from app.scoring.periods import Period
from app.scoring.queries import rank_key, standings


def vetoed_households(village_id: int, period: Period) -> set:
    """Ids of households with a confirmed, unreversed entry of a veto item whose deed date
    falls in ``period`` (RULE-FEATURES row 15)."""
    reversal = db.aliased(LedgerEntry)
    rows = db.session.execute(
        select(LedgerEntry.household_id).join(RuleItem, RuleItem.id == LedgerEntry.item_id)
        .where(LedgerEntry.village_id == village_id, LedgerEntry.kind == "score",
               LedgerEntry.status == "confirmed", RuleItem.veto.is_(True),
               LedgerEntry.deed_date >= period.start, LedgerEntry.deed_date < period.end,
               ~exists().where(reversal.reverses_id == LedgerEntry.id)))
    return set(rows.scalars())


@dataclass(frozen=True)
class Board:
    """A village board: ``red`` (top households with points in the period, rank order) and
    ``black`` (households with net deductions in the period, most deducted first)."""

    period: Period
    red: list
    black: list


def village_board(village_id: int, period: Period, size: int = 10) -> Board:
    """The red board (top ``size`` households whose period points are above 0) and the black
    board (every household whose deductions in the period, net of reversals, are below 0).

    Both orders come from the same tie-break as every rank: points, then who reached them
    first, then id; the black board sorts by deductions with the same tie-break. A household
    hit by a veto item in the period (一票否决) is left off the red board.
    """
    table = standings(village_id, period)
    vetoed = vetoed_households(village_id, period)
    red = [s for s in table if s.points > 0 and s.household_id not in vetoed][:size]
    black = sorted((s for s in table if s.deductions < 0),
                   key=lambda s: rank_key(-s.deductions, s.reached_at, s.household_id))
    return Board(period=period, red=red, black=black)
