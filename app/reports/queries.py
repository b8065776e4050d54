"""Roll-ups (汇总) of any region and period, computed in SQL with grouped queries.

A roll-up of region R over period P has one row per child of R (city: counties, county:
townships, township: villages, village: villager groups, villager group: households) and a
total. Each figure comes from one grouped query over all rows at once; nothing is queried per
row. Definitions (confirmed entries only, ``deed_date`` in P's half-open local-date interval):

- households: households active at some time in P (active now, or left ``active`` at or after
  P's start: a household that moved away mid-year still counts for that year);
- participating households: counted households with at least one confirmed score entry in P
  that no confirmed reversal cancels; participation rate = participating / households, in
  per cent rounded half-up to 0.1;
- points awarded / deducted by category: sums of ``points`` of confirmed entries of direction
  award / deduction (reversals carry the opposite points, so the sums are net of them);
  deductions are shown as positive amounts;
- score per household: a counted household's awarded less deducted points in P (0 without
  entries); average and median over counted households, rounded half-up to 0.01;
- objections raised: objections raised (local time) in P; upheld: those resolved in the
  objector's favour (outcome ``reversed`` or ``adjusted``);
- redemptions: confirmed spend entries in P that no confirmed reversal cancels (a cancelled
  redemption does not count), count and points; their value in yuan is the sum of the yuan
  recorded on the redemption lines at the time (``RedemptionLine.yuan``: a later change of
  an item's value does not change it; lines without a value add nothing).
"""
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import and_, case, exists, func, not_, or_, select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.households.models import Household, HouseholdStatusChange
from app.regions.models import Region
from app.regions.queries import in_scope
from app.review.models import Objection
from app.reports.periods import months_of, utc_bounds
from app.rewards.models import Redemption, RedemptionLine
from app.scoring.models import LedgerEntry
from app.scoring.periods import Period

CHILD_LEVEL = {"city": "county", "county": "township", "township": "village",
               "village": "group", "group": "household"}
UPHELD = ("reversed", "adjusted")
SCORED = ("award", "deduction")
CENT = Decimal("0.01")
TENTH = Decimal("0.1")


def dec(value) -> Decimal:
    """A SQL sum as an exact Decimal of points (None -> 0), quantized to 0.01."""
    return Decimal(str(value if value is not None else 0)).quantize(CENT)


def rate(part: int, whole: int) -> Decimal | None:
    """``part`` / ``whole`` in per cent, rounded half-up to 0.1; None when ``whole`` is 0."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(TENTH, ROUND_HALF_UP)


def average(total: Decimal, count: int) -> Decimal | None:
    """``total`` / ``count`` rounded half-up to 0.01; None when ``count`` is 0."""
    if not count:
        return None
    return (total / Decimal(count)).quantize(CENT, ROUND_HALF_UP)


def median(scores: list, zeros: int = 0) -> Decimal | None:
    """Median of ``scores`` plus ``zeros`` zero scores (the mean of the two middle values
    for an even count, rounded half-up to 0.01); None when there are none."""
    values = sorted(list(scores) + [Decimal(0)] * zeros)
    n = len(values)
    if n == 0:
        return None
    if n % 2:
        return values[n // 2].quantize(CENT, ROUND_HALF_UP)
    return ((values[n // 2 - 1] + values[n // 2]) / 2).quantize(CENT, ROUND_HALF_UP)


@dataclass
class RollupRow:
    """Figures of one bucket (a child region or a household) or of the total."""

    key: object = None
    households: int = 0
    participating: int = 0
    awarded: dict = field(default_factory=dict)    # category -> Decimal (>= 0 normally)
    deducted: dict = field(default_factory=dict)   # category -> Decimal, as a positive amount
    scores: list = field(default_factory=list)     # Decimal scores of households with entries
    objections: int = 0
    upheld: int = 0
    redemptions: int = 0
    redeemed: Decimal = Decimal("0.00")
    redeemed_yuan: Decimal = Decimal("0.00")
    red_listed: int = 0      # see reports.distinctions
    black_listed: int = 0
    honours: int = 0
    stars: int = 0

    @property
    def rate(self):
        """Participation rate in per cent (0.1, half-up), None without households."""
        return rate(self.participating, self.households)

    @property
    def awarded_total(self) -> Decimal:
        """Points awarded over all categories."""
        return sum(self.awarded.values(), Decimal("0.00"))

    @property
    def deducted_total(self) -> Decimal:
        """Points deducted over all categories (a positive amount)."""
        return sum(self.deducted.values(), Decimal("0.00"))

    @property
    def net(self) -> Decimal:
        """Awarded less deducted."""
        return self.awarded_total - self.deducted_total

    @property
    def average(self):
        """Average score per counted household (0.01, half-up)."""
        return average(sum(self.scores, Decimal(0)), self.households)

    @property
    def median(self):
        """Median score per counted household, households without entries at 0."""
        return median(self.scores, max(self.households - len(self.scores), 0))


@dataclass
class Rollup:
    """A region's roll-up over a period: rows per child, the total, the categories seen,
    the monthly trend and (above village level) villages ranked by participation."""

    region: Region
    period: Period
    child_level: str
    rows: list
    total: RollupRow
    categories: list
    trend: list          # [(YYYY-MM, awarded, deducted)]
    ranking: list        # [RollupRow keyed by village Region], best participation first


def _counted(start_utc):
    """Households active at some time in the period (see the module docstring)."""
    left = exists().where(HouseholdStatusChange.household_id == Household.id,
                          HouseholdStatusChange.from_status == "active",
                          HouseholdStatusChange.changed_at >= start_utc)
    return or_(Household.status == "active", left)


def _bucketed(stmt, region: Region, level: str):
    """Join ``stmt`` (which has Household in its FROM) to the bucket at ``level`` under
    ``region`` that holds each household; returns (statement, bucket id column).

    Buckets are regions found by path prefix of the household's villager group, or the
    households themselves at level ``household``. Scoped by ``in_scope``."""
    if level == "household":
        return in_scope(stmt, Household.group_id, region), Household.id
    grp, bucket = aliased(Region), aliased(Region)
    stmt = (stmt.join(grp, grp.id == Household.group_id)
            .join(bucket, and_(bucket.level == level, grp.path.startswith(bucket.path))))
    return in_scope(stmt, bucket.id, region), bucket.id


def _in_period(period: Period):
    return and_(LedgerEntry.deed_date >= period.start, LedgerEntry.deed_date < period.end)


def bucket_figures(region: Region, period: Period, level: str) -> dict:
    """{bucket id: RollupRow} for every bucket at ``level`` under ``region`` that has
    households or entries; seven grouped queries in all."""
    start_utc, end_utc = utc_bounds(period)
    counted = _counted(start_utc)
    rows = defaultdict(RollupRow)
    confirmed = LedgerEntry.status == "confirmed"

    stmt, b = _bucketed(select().select_from(Household), region, level)
    for key, n in db.session.execute(stmt.add_columns(b, func.count(Household.id))
                                     .where(counted).group_by(b)):
        rows[key].households = n

    entries = select().select_from(LedgerEntry).join(Household,
                                                       Household.id == LedgerEntry.household_id)
    stmt, b = _bucketed(entries, region, level)
    stmt = (stmt.add_columns(b, LedgerEntry.category_name, LedgerEntry.direction,
                             func.sum(LedgerEntry.points))
            .where(confirmed, LedgerEntry.direction.in_(SCORED), _in_period(period))
            .group_by(b, LedgerEntry.category_name, LedgerEntry.direction))
    for key, category, direction, points in db.session.execute(stmt):
        if direction == "award":
            rows[key].awarded[category] = dec(points)
        else:
            rows[key].deducted[category] = -dec(points)

    reversal = aliased(LedgerEntry)
    stands = not_(exists().where(reversal.reverses_id == LedgerEntry.id,
                                 reversal.status == "confirmed"))
    stmt, b = _bucketed(entries, region, level)
    stmt = (stmt.add_columns(b, func.count(LedgerEntry.household_id.distinct()))
            .where(confirmed, LedgerEntry.kind == "score", LedgerEntry.direction.in_(SCORED),
                   _in_period(period), stands, counted)
            .group_by(b))
    for key, n in db.session.execute(stmt):
        rows[key].participating = n

    stmt, b = _bucketed(entries, region, level)
    stmt = (stmt.add_columns(b, func.sum(LedgerEntry.points))
            .where(confirmed, LedgerEntry.direction.in_(SCORED), _in_period(period), counted)
            .group_by(b, LedgerEntry.household_id))
    for key, points in db.session.execute(stmt):
        rows[key].scores.append(dec(points))

    stmt, b = _bucketed(select().select_from(Objection)
                        .join(LedgerEntry, LedgerEntry.id == Objection.entry_id)
                        .join(Household, Household.id == LedgerEntry.household_id),
                        region, level)
    upheld = func.sum(case((Objection.outcome.in_(UPHELD), 1), else_=0))
    stmt = (stmt.add_columns(b, func.count(Objection.id), upheld)
            .where(Objection.raised_at >= start_utc, Objection.raised_at < end_utc)
            .group_by(b))
    for key, n, up in db.session.execute(stmt):
        rows[key].objections, rows[key].upheld = n, int(up or 0)

    stmt, b = _bucketed(entries, region, level)
    spent = and_(confirmed, LedgerEntry.kind == "spend", _in_period(period), stands)
    stmt = (stmt.add_columns(b, func.count(LedgerEntry.id), func.sum(LedgerEntry.points))
            .where(spent).group_by(b))
    for key, n, points in db.session.execute(stmt):
        rows[key].redemptions, rows[key].redeemed = n, -dec(points)

    stmt, b = _bucketed(select().select_from(RedemptionLine)
                        .join(Redemption, Redemption.id == RedemptionLine.redemption_id)
                        .join(LedgerEntry, LedgerEntry.id == Redemption.entry_id)
                        .join(Household, Household.id == LedgerEntry.household_id),
                        region, level)
    stmt = stmt.add_columns(b, func.sum(RedemptionLine.yuan)).where(spent).group_by(b)
    for key, yuan in db.session.execute(stmt):
        rows[key].redeemed_yuan = dec(yuan)
    from app.reports.distinctions import add_distinctions
    add_distinctions(rows, region, period, level)
    return rows


def _merge(rows) -> RollupRow:
    total = RollupRow()
    for row in rows:
        total.households += row.households
        total.participating += row.participating
        for cat, pts in row.awarded.items():
            total.awarded[cat] = total.awarded.get(cat, Decimal("0.00")) + pts
        for cat, pts in row.deducted.items():
            total.deducted[cat] = total.deducted.get(cat, Decimal("0.00")) + pts
        total.scores.extend(row.scores)
        total.objections += row.objections
        total.upheld += row.upheld
        total.redemptions += row.redemptions
        total.redeemed += row.redeemed
        total.redeemed_yuan += row.redeemed_yuan
        for name in ("red_listed", "black_listed", "honours", "stars"):
            setattr(total, name, getattr(total, name) + getattr(row, name))
    return total


def bucket_keys(region: Region, level: str) -> list:
    """The buckets of ``region`` at ``level`` in display order: Regions (sort order, code)
    or, at level ``household``, the households of the group (by house number)."""
    if level == "household":
        stmt = in_scope(select(Household), Household.group_id, region)
        return db.session.execute(stmt.order_by(Household.house_number, Household.id)
                                  ).scalars().all()
    stmt = in_scope(select(Region).where(Region.level == level), Region.id, region)
    return db.session.execute(stmt.order_by(Region.sort_order, Region.code)).scalars().all()


def trend(region: Region, period: Period) -> list:
    """[(YYYY-MM, awarded, deducted)] for every month the period touches (one query)."""
    stmt = in_scope(select(LedgerEntry.period, LedgerEntry.direction,
                           func.sum(LedgerEntry.points))
                    .join(Household, Household.id == LedgerEntry.household_id),
                    Household.group_id, region)
    stmt = (stmt.where(LedgerEntry.status == "confirmed", LedgerEntry.direction.in_(SCORED),
                       _in_period(period))
            .group_by(LedgerEntry.period, LedgerEntry.direction))
    sums = {(month, direction): dec(points)
            for month, direction, points in db.session.execute(stmt)}
    return [(m, sums.get((m, "award"), Decimal("0.00")), -sums.get((m, "deduction"),
                                                                   Decimal("0.00")))
            for m in months_of(period)]


def rollup(region: Region, period: Period) -> Rollup:
    """The roll-up of ``region`` (already checked to lie in the user's scope) over
    ``period``: rows per child in display order, the total, categories, trend, ranking."""
    level = CHILD_LEVEL[region.level]
    figures = bucket_figures(region, period, level)
    keys = bucket_keys(region, level)
    rows = []
    for key in keys:
        row = figures.get(key.id) or RollupRow()
        row.key = key
        rows.append(row)
    total = _merge(rows)
    total.key = region
    categories = sorted(set(total.awarded) | set(total.deducted))
    ranking = []
    if region.level in ("city", "county", "township"):
        if level == "village":
            ranking = list(rows)
        else:
            village_figures = bucket_figures(region, period, "village")
            for key in bucket_keys(region, "village"):
                row = village_figures.get(key.id) or RollupRow()
                row.key = key
                ranking.append(row)
        ranking = [r for r in ranking if r.households]
        ranking.sort(key=lambda r: (-(r.rate or 0), r.key.code))
    return Rollup(region=region, period=period, child_level=level, rows=rows, total=total,
                  categories=categories, trend=trend(region, period), ranking=ranking)


@dataclass
class QuotaRow:
    """A county-level region's pilot quota against the pilot villages it designated."""

    county: Region
    quota: int | None
    designated: int

    @property
    def gap(self):
        """Quota less designated (None without a quota)."""
        return None if self.quota is None else self.quota - self.designated


def pilot_quotas(region: Region) -> list:
    """[QuotaRow] for every county-level region in ``region`` (a city or a county; empty
    below): quota from ``Region.pilot_quota``, designated = villages with ``is_pilot``
    under it (one grouped query)."""
    if region.level not in ("city", "county"):
        return []
    county = aliased(Region)
    village = aliased(Region)
    stmt = in_scope(select(county, func.count(village.id))
                    .outerjoin(village, and_(village.level == "village",
                                             village.is_pilot.is_(True),
                                             village.path.startswith(county.path)))
                    .where(county.level == "county"), county.id, region)
    stmt = stmt.group_by(county.id).order_by(county.sort_order, county.code)
    return [QuotaRow(c, c.pilot_quota, n) for c, n in db.session.execute(stmt)]


def pilot_villages(region: Region) -> list:
    """Pilot villages (``is_pilot``) in ``region``, by code."""
    stmt = in_scope(select(Region).where(Region.level == "village", Region.is_pilot.is_(True)),
                    Region.id, region)
    return db.session.execute(stmt.order_by(Region.code)).scalars().all()
