"""The live village board of a period, derived from ``scoring.queries.standings``."""
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import exists, select

from app.extensions import db
from app.rules.models import RuleItem
from app.scoring.models import HouseholdMonth, LedgerEntry
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
    standings: list = ()   # the whole village's standings of the period (for ``movers``)


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
    return Board(period=period, red=red, black=black, standings=table)


def publications_of(village_id: int, *, public: bool = False) -> list:
    """A village's board publications, newest period first (then newest version). With
    ``public``, only what villagers may see: boards under public notice and the current
    published ones (not drafts, not superseded versions)."""
    from app.boards.models import BoardPublication
    stmt = select(BoardPublication).where(BoardPublication.village_id == village_id)
    if public:
        stmt = stmt.where(BoardPublication.status.in_(("under_notice", "published")))
    return db.session.execute(stmt.order_by(BoardPublication.period_start.desc(),
                                            BoardPublication.id.desc())).scalars().all()


@dataclass(frozen=True)
class VillageRow:
    """A village on the township board: ``rank`` (1-based), ``households`` active,
    ``participating`` (households with at least one confirmed entry in the period),
    ``participation`` (a share, Decimal 0-1) and ``average`` (mean period points)."""

    rank: int
    village: object
    households: int
    participating: int
    participation: Decimal
    average: Decimal


def township_board(region, period: Period) -> list:
    """The villages under ``region`` (a township, or any region) ranked by participation,
    then average score, then village code. Each village's figures come from ``standings``
    (a household participates when it has an entry in the period: ``reached_at`` set).
    Returns a list of VillageRow."""
    from app.regions.queries import villages_under
    rows = []
    for village in villages_under(region):
        table = standings(village.id, period)
        n = len(table)
        active = sum(1 for s in table if s.reached_at is not None)
        total = sum((s.points for s in table), Decimal(0))
        share = (Decimal(active) / n).quantize(Decimal("0.0001")) if n else Decimal(0)
        avg = (total / n).quantize(Decimal("0.01")) if n else Decimal(0)
        rows.append((village, n, active, share, avg))
    rows.sort(key=lambda r: (-r[3], -r[4], r[0].code))
    return [VillageRow(i, *r) for i, r in enumerate(rows, start=1)]


def monthly_trend(household_id: int, today, months: int = 12) -> list:
    """[(label "YYYY-MM", Decimal points)] of a household's confirmed awards and deductions
    for the ``months`` months up to the one containing local date ``today``, oldest first,
    0 for months without entries. One query of the monthly totals (``scoring.summary``)."""
    from app.scoring.periods import month_period, previous_month
    periods = [month_period(today)]
    for _ in range(months - 1):
        periods.append(previous_month(periods[-1]))
    periods.reverse()
    rows = db.session.execute(
        select(HouseholdMonth.period, HouseholdMonth.points)
        .where(HouseholdMonth.household_id == household_id,
               HouseholdMonth.period.in_([p.label for p in periods]))).all()
    found = {label: Decimal(total).quantize(Decimal("0.01")) for label, total in rows}
    return [(p.label, found.get(p.label, Decimal("0.00"))) for p in periods]


def movers(village_id: int, period: Period, previous: Period, group_id=None, *,
           current=None) -> dict:
    """{household id: places moved up (> 0) or down (< 0) since ``previous``} from
    ``standings`` of both periods; households without entries in ``previous`` are left
    out (they had no place to move from). ``current``: the standings of ``period`` when the
    caller has them already (``Board.standings``), so they are not ranked twice."""
    before = {s.household_id: s.rank for s in standings(village_id, previous, group_id)
              if s.reached_at is not None}
    if current is None:
        current = standings(village_id, period, group_id)
    return {s.household_id: before[s.household_id] - s.rank
            for s in current if s.household_id in before}
