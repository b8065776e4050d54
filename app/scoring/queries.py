"""Reads of the ledger, and ``standings``: the one source of every rank (boards, household
page, QR page). DESIGN.md invariant 5: ties break by points, then who reached them first,
then household id, every time.
"""
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.households.models import Household
from app.scoring.models import HouseholdBalance, LedgerEntry, unreversed
from app.scoring.periods import Period

# "reached_at" of a household without entries: the earliest of all
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Standing:
    """One household's place: ``rank`` (1-based, unique), ``points`` in the period (or earned
    score), ``deductions`` (<= 0) in the period, ``reached_at`` (UTC, None when no entry)."""

    rank: int
    household_id: int
    house_number: str
    head_name: str
    group_id: int
    points: Decimal
    deductions: Decimal
    reached_at: datetime | None


def _aware(ts):
    if ts is None:
        return EPOCH
    return ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)


def rank_key(points, reached_at, household_id):
    """Sort key of the tie-break rule: more points first, then earlier ``reached_at`` (None,
    meaning the score was held from the start, counts as earliest), then lower id."""
    return (-Decimal(points), _aware(reached_at), household_id)


def _period_totals(village_id: int, period: Period) -> dict:
    """{household_id: (points, deductions, last recorded_at)} of confirmed awards and
    deductions whose deed date falls in ``period``: from the monthly totals when ``period``
    is whole months (issue 10: a board never sums the ledger), else from the ledger."""
    from app.scoring import summary
    found = summary.village_totals(village_id, period)
    if found is not None:
        return found
    rows = db.session.execute(
        select(LedgerEntry.household_id, func.sum(LedgerEntry.points),
               func.sum(case((LedgerEntry.direction == "deduction", LedgerEntry.points),
                             else_=0)),
               func.max(LedgerEntry.recorded_at))
        .where(LedgerEntry.village_id == village_id, LedgerEntry.status == "confirmed",
               LedgerEntry.direction != "spend",
               LedgerEntry.deed_date >= period.start, LedgerEntry.deed_date < period.end)
        .group_by(LedgerEntry.household_id)
    ).all()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def _average_totals(village_id: int, periods) -> dict:
    """{household_id: (average points, average deductions, last recorded_at)} over the
    ``periods`` in which the household has a confirmed entry (RULE-FEATURES row 20: a
    household that joined later is averaged over the periods it was scored in). Averages
    are rounded half up to 0.01."""
    sums = {}
    for period in periods:
        for hid, (pts, ded, ts) in _period_totals(village_id, period).items():
            p0, d0, n, t0 = sums.get(hid, (Decimal(0), Decimal(0), 0, None))
            last = ts if t0 is None or (ts is not None and _aware(ts) > _aware(t0)) else t0
            sums[hid] = (p0 + Decimal(pts), d0 + Decimal(ded), n + 1, last)
    cent = Decimal("0.01")
    return {hid: ((p / n).quantize(cent, ROUND_HALF_UP), (d / n).quantize(cent, ROUND_HALF_UP),
                  ts) for hid, (p, d, n, ts) in sums.items()}


def _totals(village_id: int, household_ids: list, period, periods) -> dict:
    """{household_id: (points, deductions, reached_at)} for ``standings`` when its
    households are read apart: averages of ``periods``, the earned score (``period``
    None), or a period that is not whole months (from the ledger)."""
    if periods is not None:
        return _average_totals(village_id, periods)
    if period is not None:
        return _period_totals(village_id, period)
    if not household_ids:
        return {}
    # by primary key (issue 10): a join on the village read all the county's balances
    rows = db.session.execute(
        select(HouseholdBalance.household_id, HouseholdBalance.earned_score,
               HouseholdBalance.reached_at)
        .where(HouseholdBalance.household_id.in_(household_ids))).all()
    return {r[0]: (r[1], Decimal(0), r[2]) for r in rows}


def standings(village_id: int, period: Period | None = None, group_id: int | None = None,
              *, periods=None):
    """Ranked active households of a village (optionally one villager group).

    With ``period`` None, ranks by earned score from the balances; with a Period, by the sum
    of confirmed awards and deductions whose deed date falls in it (DESIGN.md: only
    confirmed points count for boards). With ``periods`` (a list of Period, e.g. the four
    quarters of a year), ranks by the average of the household's period scores over the
    periods it was scored in (RULE-FEATURES row 20); ``points`` is then that average.
    Returns a list of Standing, rank 1 first.
    """
    hh = select(Household.id, Household.house_number, Household.head_name,
                Household.group_id).where(Household.village_id == village_id,
                                          Household.status == "active")
    if group_id is not None:
        hh = hh.where(Household.group_id == group_id)
    from app.scoring import summary
    joined = (summary.village_totals_query(village_id, period)
              if period is not None and periods is None else None)
    if joined is not None:
        # whole months: the households and their monthly totals in one query (issue 10)
        t = joined.subquery()
        rows = db.session.execute(
            hh.add_columns(t.c.points, t.c.deductions, t.c.last_at)
            .outerjoin(t, t.c.household_id == Household.id)).all()
        households = [r[:4] for r in rows]
        totals = {r[0]: (r[4], r[5], r[6]) for r in rows if r[4] is not None}
    else:
        households = db.session.execute(hh).all()
        totals = _totals(village_id, [h[0] for h in households], period, periods)
    zero = (Decimal(0), Decimal(0), None)
    merged = [(h, *totals.get(h[0], zero)) for h in households]
    merged.sort(key=lambda t: rank_key(t[1], t[3], t[0][0]))
    return [_standing(i, *h, p, d, ts) for i, (h, p, d, ts) in enumerate(merged, start=1)]


def _standing(rank, household_id, house_number, head_name, group_id, points, deductions,
              reached_at) -> "Standing":
    return Standing(rank=rank, household_id=household_id, house_number=house_number,
                    head_name=head_name, group_id=group_id,
                    points=Decimal(points).quantize(Decimal("0.01")),
                    deductions=Decimal(deductions).quantize(Decimal("0.01")),
                    reached_at=reached_at)


def ranked(village_id: int, period: Period, name: str):
    """``standings`` of a whole-months ``period`` as a CTE named ``name``, ranked in the
    database, so a page that shows ten households fetches ten rows, not the village
    (issue 10).

    Columns: household_id, house_number, head_name, group_id, points, deductions (Decimal
    points of the period, 0 without entries), reached_at (UTC, None without entries) and
    rank (1-based, ``row_number`` in the order of ``rank_key``: points, then who reached
    them first, then id). ``standing_of`` turns its rows into Standing. None when
    ``period`` is not whole months (use ``standings``). tests/test_ranking.py proves both
    agree.
    """
    from app.scoring import summary
    totals = summary.village_totals_query(village_id, period)
    if totals is None:
        return None
    t = totals.subquery()
    points = func.coalesce(t.c.points, 0)
    at = func.coalesce(t.c.last_at, literal(EPOCH, t.c.last_at.type))
    rank = func.row_number().over(order_by=(func.round(points, 2).desc(), at, Household.id))
    return (select(Household.id.label("household_id"), Household.house_number,
                   Household.head_name, Household.group_id, points.label("points"),
                   func.coalesce(t.c.deductions, 0).label("deductions"),
                   t.c.last_at.label("reached_at"), rank.label("rank"))
            .outerjoin(t, t.c.household_id == Household.id)
            .where(Household.village_id == village_id, Household.status == "active")
            .cte(name))


def standing_of(row) -> "Standing":
    """A Standing from a row holding ``ranked``'s columns."""
    return _standing(row.rank, row.household_id, row.house_number, row.head_name,
                     row.group_id, row.points, row.deductions, row.reached_at)


def average_of_periods(village_id: int, periods, group_id: int | None = None):
    """``standings`` ranked by the average of period scores (RULE-FEATURES row 20), e.g.
    the yearly top N by average quarterly score: ``average_of_periods(v.id, quarters)``.
    A list of Standing whose ``points`` is the household's average, rank 1 first."""
    return standings(village_id, group_id=group_id, periods=list(periods))


def rank_of(household, period: Period | None = None):
    """(rank, out_of) of ``household`` among its village's active households; rank is None
    when the household is not active. By earned score (``period`` None) it is one counting
    query with the order of ``rank_key`` (issue 10: a door-plate page does not rank the
    whole village in Python; tests/test_ranking.py proves it equals ``standings``); for a
    period, from ``standings``."""
    if period is not None:
        table = standings(household.village_id, period)
        for s in table:
            if s.household_id == household.id:
                return s.rank, len(table)
        return None, len(table)
    reached = HouseholdBalance.reached_at
    epoch = literal(EPOCH, reached.type)
    balance = household.balance           # often loaded with the household already
    mine = ((balance.earned_score or 0, _aware(balance.reached_at)) if balance is not None
            else (0, EPOCH))
    points = func.coalesce(HouseholdBalance.earned_score, 0)
    at = func.coalesce(reached, epoch)
    mine_at = literal(mine[1], reached.type)
    before = or_(points > mine[0],
                 and_(points == mine[0],
                      or_(at < mine_at, and_(at == mine_at, Household.id < household.id))))
    out_of, ahead = db.session.execute(
        select(func.count(Household.id), func.coalesce(func.sum(case((before, 1), else_=0)), 0))
        .select_from(Household)
        .outerjoin(HouseholdBalance, HouseholdBalance.household_id == Household.id)
        .where(Household.village_id == household.village_id, Household.status == "active")
    ).one()
    if household.status != "active":
        return None, out_of
    return ahead + 1, out_of


def period_points(household_id: int, period: Period) -> Decimal:
    """Sum of a household's confirmed awards and deductions whose deed date falls in
    ``period`` (Decimal points); spends and entries not yet confirmed are left out. Whole
    months are read from the monthly totals (``scoring.summary``)."""
    from app.scoring import summary
    found = summary.household_points(household_id, period)
    if found is not None:
        return found
    total = db.session.execute(
        select(func.coalesce(func.sum(LedgerEntry.points), 0))
        .where(LedgerEntry.household_id == household_id, LedgerEntry.status == "confirmed",
               LedgerEntry.direction != "spend",
               LedgerEntry.deed_date >= period.start, LedgerEntry.deed_date < period.end)
    ).scalar_one()
    return Decimal(total).quantize(Decimal("0.01"))


def entries_page(household_id: int, page: int, per_page: int):
    """A Flask-SQLAlchemy Pagination of a household's entries, newest first; a page past the
    end gives the last page."""
    stmt = (select(LedgerEntry).where(LedgerEntry.household_id == household_id)
            .options(selectinload(LedgerEntry.reversed_by), joinedload(LedgerEntry.recorded_by))
            .order_by(LedgerEntry.id.desc()))
    result = db.paginate(stmt, page=max(page, 1), per_page=per_page, error_out=False)
    if not result.items and result.pages and page > result.pages:
        result = db.paginate(stmt, page=result.pages, per_page=per_page, error_out=False)
    return result


def recent_entries(household_id: int, limit: int = 10):
    """The ``limit`` newest entries of a household (a list of LedgerEntry), each with its
    reversal (``reversed_by``) joined in the same query."""
    return db.session.execute(
        select(LedgerEntry).where(LedgerEntry.household_id == household_id)
        .options(joinedload(LedgerEntry.reversed_by))
        .order_by(LedgerEntry.id.desc()).limit(limit)
    ).scalars().all()


def scored_on(household_id: int, on) -> list:
    """The household's score entries for the deed date ``on`` (a local date) that still
    count (not declined, cancelled or reversed), oldest first (a list of LedgerEntry with
    ``recorded_by``): the score form lists them, so a cadre sees an item already recorded
    for that day before recording it again."""
    return db.session.execute(
        select(LedgerEntry).where(LedgerEntry.household_id == household_id,
                                  LedgerEntry.kind == "score", LedgerEntry.deed_date == on,
                                  LedgerEntry.reverses_id.is_(None),
                                  LedgerEntry.status.notin_(("declined", "cancelled")),
                                  unreversed())
        .options(joinedload(LedgerEntry.recorded_by)).order_by(LedgerEntry.id)
    ).scalars().all()


def standing_on(item_code: str, household_ids, on) -> dict:
    """``{household_id: Decimal points}`` of the households among ``household_ids`` that hold
    an entry of the item ``item_code`` (by code, so across rulebook versions) for the deed
    date ``on`` (a local date) that still counts: not declined, cancelled or reversed. The
    inspection grid marks them as done; a posting refuses a second inspection."""
    if not household_ids:
        return {}
    stmt = (select(LedgerEntry.household_id, LedgerEntry.points)
            .where(LedgerEntry.household_id.in_(household_ids), LedgerEntry.kind == "score",
                   LedgerEntry.item_code == item_code, LedgerEntry.deed_date == on,
                   LedgerEntry.status.notin_(("declined", "cancelled")),
                   unreversed()))
    return {hid: Decimal(points) for hid, points in db.session.execute(stmt)}
