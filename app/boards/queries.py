"""The live village board of a period, derived from ``scoring.queries.standings``."""
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Integer, cast, func, literal, null, select, union_all

from app.extensions import db
from app.households.models import Household
from app.rules.models import RuleItem
from app.scoring.models import HouseholdMonth, LedgerEntry, unreversed
from app.scoring.periods import Period
from app.scoring.queries import rank_key, ranked, standing_of, standings


def _vetoed(village_id: int, period: Period, household_id):
    """The SQL condition that ``household_id`` (a column) has a confirmed, unreversed entry
    of a veto item whose deed date falls in ``period`` (RULE-FEATURES row 15)."""
    return (select(LedgerEntry.id).join(RuleItem, RuleItem.id == LedgerEntry.item_id)
            .where(LedgerEntry.household_id == household_id,
                   LedgerEntry.village_id == village_id, LedgerEntry.kind == "score",
                   LedgerEntry.status == "confirmed", RuleItem.veto.is_(True),
                   LedgerEntry.deed_date >= period.start, LedgerEntry.deed_date < period.end,
                   unreversed())
            .exists())


def vetoed_households(village_id: int, period: Period) -> set:
    """Ids of the village's households with a confirmed, unreversed entry of a veto item
    whose deed date falls in ``period`` (RULE-FEATURES row 15)."""
    return set(db.session.execute(
        select(Household.id).where(Household.village_id == village_id,
                                   _vetoed(village_id, period, Household.id))).scalars())


@dataclass(frozen=True)
class Board:
    """A village board: ``red`` (top households with points in the period, rank order) and
    ``black`` (households with net deductions in the period, most deducted first), both
    lists of ``scoring.queries.Standing``; ``moved`` ({household id: places moved up (> 0)
    or down (< 0)}) for the red board's households ranked in the ``previous`` period asked
    for, left out when they had no entry then (no place to move from)."""

    period: Period
    red: list
    black: list
    moved: dict = field(default_factory=dict)


def village_board(village_id: int, period: Period, size: int = 10, *,
                  previous: Period | None = None) -> Board:
    """The red board (top ``size`` households whose period points are above 0) and the black
    board (every household whose deductions in the period, net of reversals, are below 0),
    and with ``previous`` how the red board's households moved since that period.

    Both orders come from the same tie-break as every rank: points, then who reached them
    first, then id; the black board sorts by deductions with the same tie-break. A household
    hit by a veto item in the period (一票否决) is left off the red board. Whole months are
    ranked in the database, both boards and the earlier ranks in one statement that reads
    only the shown rows (``scoring.queries.ranked``, issue 10); other periods rank
    ``standings`` in Python, with the same result. Points are compared to 0 rounded to
    0.01, as Standing holds them: SQLite sums its points as floats, and a reversed 5.1 and
    5.2 leave 1e-15, not 0.
    """
    now = ranked(village_id, period, "board_now")
    before = ranked(village_id, previous, "board_before") if previous is not None else None
    if now is None or (previous is not None and before is None):
        return _board_of(village_id, period, size, previous)
    # typed NULLs: PostgreSQL reads a bare NULL in a subquery as text, which no UNION takes
    nothing = (cast(null(), Integer), cast(null(), now.c.reached_at.type))
    earlier = (before.c.rank, before.c.reached_at) if before is not None else nothing
    joined = (now.outerjoin(before, before.c.household_id == now.c.household_id)
              if before is not None else now)
    red = (select(literal("red").label("board"), *now.c, earlier[0].label("before_rank"),
                  earlier[1].label("before_at")).select_from(joined)
           .where(func.round(now.c.points, 2) > 0,
                  ~_vetoed(village_id, period, now.c.household_id))
           .order_by(now.c.rank).limit(size))
    black = select(literal("black").label("board"), *now.c, nothing[0].label("before_rank"),
                   nothing[1].label("before_at")).where(func.round(now.c.deductions, 2) < 0)
    # each branch as a subquery: SQLite refuses ORDER BY/LIMIT inside a compound SELECT
    rows = db.session.execute(union_all(select(red.subquery()), select(black.subquery())))
    boards = {"red": [], "black": []}
    moved = {}
    for row in rows:
        s = standing_of(row)
        boards[row.board].append(s)
        if row.board == "red" and row.before_at is not None:
            moved[s.household_id] = row.before_rank - s.rank
    boards["red"].sort(key=lambda s: s.rank)
    boards["black"].sort(key=_black_key)
    return Board(period=period, red=boards["red"], black=boards["black"], moved=moved)


def _black_key(s):
    return rank_key(-s.deductions, s.reached_at, s.household_id)


def _board_of(village_id: int, period: Period, size: int, previous: Period | None) -> Board:
    """``village_board`` from ``standings`` ranked in Python: for periods that are not
    whole months, and as the reference the database's ranking is tested against."""
    table = standings(village_id, period)
    vetoed = vetoed_households(village_id, period)
    red = [s for s in table if s.points > 0 and s.household_id not in vetoed][:size]
    black = sorted((s for s in table if s.deductions < 0), key=_black_key)
    moved = {}
    if previous is not None:
        ranks = {s.household_id: s.rank for s in standings(village_id, previous)
                 if s.reached_at is not None}
        moved = {s.household_id: ranks[s.household_id] - s.rank
                 for s in red if s.household_id in ranks}
    return Board(period=period, red=red, black=black, moved=moved)


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
