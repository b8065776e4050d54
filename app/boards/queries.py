"""The live village board of a period, derived from ``scoring.queries.standings``."""
from dataclasses import dataclass

from app.scoring.periods import Period
from app.scoring.queries import rank_key, standings


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
    first, then id; the black board sorts by deductions with the same tie-break.
    """
    table = standings(village_id, period)
    red = [s for s in table if s.points > 0][:size]
    black = sorted((s for s in table if s.deductions < 0),
                   key=lambda s: rank_key(-s.deductions, s.reached_at, s.household_id))
    return Board(period=period, red=red, black=black)
