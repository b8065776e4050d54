"""Roll-ups (汇总) of any region and period, computed in SQL with grouped queries.

A roll-up of region R over period P has one row per child of R (city: counties, county:
townships, township: villages, village: villager groups, villager group: households) and a
total. Each figure comes from one grouped statement over all rows at once; nothing is queried
per row. For whole months the statements read the summary tables kept in the posting
transaction (``scoring.summary``: a household's year or months, a village's months by
category), never the ledger; other periods sum the ledger with the same definitions
(tests/test_summary_rollups.py proves both agree). The roll-up pages show a snapshot of these
figures (``reports.snapshots``).

Definitions (confirmed entries only, ``deed_date`` in P's half-open local-date interval):

- households: households active at some time in P (active now, or left ``active`` at or after
  P's start: a household that moved away mid-year still counts for that year) and registered
  before P's end (``Household.registered_at``; unknown for households of before migration
  0009, which count) or holding an entry of P that still counts (a history typed in
  afterwards; a reversed one does not): a household registered later does not change a
  past period's figures;
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
  an item's value does not change it; lines without a value add nothing) less the cash
  top-up households paid (``Redemption.cash_yuan``): what was redeemed with points, as the
  points supermarket report's 积分兑换金额.
"""
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import and_, case, exists, func, literal, or_, select, union_all
from sqlalchemy.orm import aliased

from app.extensions import db
from app.households.models import Household, HouseholdStatusChange
from app.households.queries import house_order
from app.regions.models import Region
from app.regions.queries import in_scope
from app.review.models import Objection
from app.reports.periods import months_of, utc_bounds
from app.scoring import summary
from app.scoring.models import LedgerEntry
from app.scoring.periods import Period

CHILD_LEVEL = {"city": "county", "county": "township", "township": "village",
               "village": "group", "group": "household"}
UPHELD = ("reversed", "adjusted")
SCORED = ("award", "deduction")
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
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
    score_total: Decimal = Decimal("0.00")        # sum of the counted households' scores
    median_score: Decimal | None = None           # set by ``_medians``
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
        return average(self.score_total, self.households)

    @property
    def median(self):
        """Median score per counted household, households without entries at 0."""
        return self.median_score


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


def _counted(start_utc, end_utc, sums):
    """Households active at some time in the period and registered before its end or with
    entries in it (``sums``: the period's household sums, outer-joined; see the module
    docstring)."""
    left = exists().where(HouseholdStatusChange.household_id == Household.id,
                          HouseholdStatusChange.from_status == "active",
                          HouseholdStatusChange.changed_at >= start_utc)
    # "entries in it" are entries that still count: a household whose only entry of the
    # period was reversed has nothing there (its sum is 0 and nothing is scored)
    standing = or_(sums.c.scored > 0, func.abs(sums.c.points) >= Decimal("0.005"))
    registered = or_(Household.registered_at.is_(None), Household.registered_at < end_utc,
                     and_(sums.c.household_id.is_not(None), standing))
    return and_(or_(Household.status == "active", left), registered)


@dataclass
class Grain:
    """How a roll-up of ``region`` groups rows before they reach its buckets at ``level``:
    by village (levels village and above: the summary tables hold villages, and
    ``bucket_of`` maps each village to its bucket), by villager group or by household."""

    region: Region
    level: str
    bucket_of: dict | None = None   # village id -> bucket id, for levels village and above

    @property
    def by_village(self) -> bool:
        return self.bucket_of is not None

    def key(self):
        """The Household column rows are grouped on."""
        return {"household": Household.id, "group": Household.group_id}.get(
            self.level, Household.village_id)

    def villages(self, column):
        """A condition that village id ``column`` lies in the region."""
        if self.region.level == "group":
            return column == self.region.parent_id
        return in_scope(select(), column, self.region).whereclause

    def households(self, stmt):
        """``stmt`` (with Household in its FROM) restricted to the region's households."""
        if self.region.level == "group":
            return stmt.where(Household.group_id == self.region.id)
        return stmt.where(self.villages(Household.village_id))


def grain_of(region: Region, level: str) -> Grain:
    """The Grain of ``region``'s roll-up at ``level`` (one query over the regions)."""
    if level in ("group", "household"):
        return Grain(region, level)
    village, bucket = aliased(Region), aliased(Region)
    stmt = (select(village.id, bucket.id)
            .join(bucket, and_(bucket.level == level, village.path.startswith(bucket.path)))
            .where(village.level == "village"))
    stmt = in_scope(stmt, village.id, region)
    return Grain(region, level, dict(db.session.execute(stmt).all()))


def _fold(rows: dict, grain: Grain, key):
    """The RollupRow of the bucket that grain ``key`` belongs to (None: outside)."""
    if grain.by_village:
        key = grain.bucket_of.get(key)
    return None if key is None else rows[key]


def _entry_sums(grain: Grain, period: Period):
    """A subquery (k: grain key, period, category_name, direction, points, entries,
    standing, yuan): the village summary rows for whole months, else grouped from the
    ledger."""
    if grain.by_village:
        return summary.village_sums(grain.villages, period).subquery()
    stmt = summary.ledger_sums(grain.key(), _in_period(period),
                               grain.villages(LedgerEntry.village_id),
                               joins=[(Household, Household.id == LedgerEntry.household_id)])
    return grain.households(stmt).subquery()


def _in_period(period: Period):
    return and_(LedgerEntry.deed_date >= period.start, LedgerEntry.deed_date < period.end)


def _scored(grain: Grain, period: Period):
    """CTE (v: grain key, b: bucket id, score, scored) of every counted household of the
    region: its confirmed awards less deductions in ``period`` (0 without) and ``scored``
    > 0 when it participated."""
    sums = summary.household_sums(grain.villages, period)
    start_utc, end_utc = utc_bounds(period)
    bucket = grain.key()
    stmt = select().select_from(Household)
    if grain.by_village and grain.level != "village":
        village, region = aliased(Region), aliased(Region)
        stmt = (stmt.join(village, village.id == Household.village_id)
                .join(region, and_(region.level == grain.level,
                                   village.path.startswith(region.path))))
        bucket = region.id
    stmt = (stmt.add_columns(grain.key().label("v"), bucket.label("b"),
                             func.coalesce(sums.c.points, 0).label("score"),
                             func.coalesce(sums.c.scored, 0).label("scored"))
            .outerjoin(sums, sums.c.household_id == Household.id)
            .where(_counted(start_utc, end_utc, sums)))
    return grain.households(stmt).cte("scored")


def household_figures(grain: Grain, period: Period) -> tuple:
    """({grain key: (households, participating, total score)}, {bucket id: median},
    total median) over the counted households of the region, in one statement: the
    households are read once, and the middle one or two scores of each bucket and of all
    are found in SQL (window functions) so no household row reaches Python. Households
    without entries score 0; medians are rounded half-up to 0.01 (None without
    households)."""
    scored = _scored(grain, period)
    per_key = select(literal("k").label("kind"), scored.c.v.label("key"),
                     func.count().label("a"),
                     func.sum(case((scored.c.scored > 0, 1), else_=0)).label("c"),
                     func.sum(scored.c.score).label("d")).group_by(scored.c.v)

    def middle(partition, kind):
        ranked = select(partition.label("key"), scored.c.score,
                        func.row_number().over(partition_by=partition,
                                               order_by=scored.c.score).label("rn"),
                        func.count().over(partition_by=partition).label("n")).subquery()
        return (select(literal(kind).label("kind"), ranked.c.key, func.count(),
                       literal(0), func.sum(ranked.c.score))
                .where(or_(ranked.c.rn == (ranked.c.n + 1) // 2,
                           ranked.c.rn == (ranked.c.n + 2) // 2))
                .group_by(ranked.c.key))

    households, medians, total = {}, {}, None
    stmt = union_all(per_key, middle(scored.c.b, "m"), middle(literal(0), "t"))
    for kind, key, a, c, d in db.session.execute(stmt):
        if kind == "k":
            households[key] = (a, int(c or 0), dec(d))
            continue
        value = (dec(d) / a).quantize(CENT, ROUND_HALF_UP)
        if kind == "m":
            medians[key] = value
        else:
            total = value
    return households, medians, total


def bucket_figures(region: Region, period: Period, level: str, *, grain: Grain | None = None,
                   figures: tuple | None = None) -> dict:
    """{bucket id: RollupRow} for every bucket at ``level`` under ``region`` that has
    households or entries. Reads the summary tables for whole months (``scoring.summary``:
    at county scale a year's roll-up reads one row per household and a few thousand
    village rows, never the ledger) and groups by village first; three statements plus the
    distinctions'. ``grain`` and ``figures`` (``household_figures``'s result) may be
    passed in when the caller has them."""
    grain = grain or grain_of(region, level)
    rows = defaultdict(RollupRow)
    households, medians, _ = figures or household_figures(grain, period)
    for key, (n, participating, total) in households.items():
        row = _fold(rows, grain, key)
        if row is not None:
            row.households += n
            row.participating += participating
            row.score_total += total
    for key, value in medians.items():
        if key is not None:
            rows[key].median_score = value

    sums = _entry_sums(grain, period)
    stmt = (select(sums.c.k, sums.c.category_name, sums.c.direction, func.sum(sums.c.points),
                   func.sum(sums.c.standing), func.sum(sums.c.yuan))
            .group_by(sums.c.k, sums.c.category_name, sums.c.direction))
    for key, category, direction, points, standing, yuan in db.session.execute(stmt):
        row = _fold(rows, grain, key)
        if row is None:
            continue
        if direction == "award":
            row.awarded[category] = row.awarded.get(category, ZERO) + dec(points)
        elif direction == "deduction":
            row.deducted[category] = row.deducted.get(category, ZERO) - dec(points)
        else:
            row.redemptions += int(standing or 0)
            row.redeemed -= dec(points)
            row.redeemed_yuan += dec(yuan)

    start_utc, end_utc = utc_bounds(period)
    upheld = func.sum(case((Objection.outcome.in_(UPHELD), 1), else_=0))
    stmt = (select(grain.key(), func.count(Objection.id), upheld)
            .join(LedgerEntry, LedgerEntry.id == Objection.entry_id)
            .join(Household, Household.id == LedgerEntry.household_id)
            .where(Objection.raised_at >= start_utc, Objection.raised_at < end_utc)
            .group_by(grain.key()))
    for key, n, up in db.session.execute(grain.households(stmt)):
        row = _fold(rows, grain, key)
        if row is not None:
            row.objections += n
            row.upheld += int(up or 0)
    from app.reports.distinctions import add_distinctions
    add_distinctions(rows, grain, period)
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
        total.score_total += row.score_total
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
    or, at level ``household``, the households of the group (house numbers in natural
    order: 2 before 10)."""
    if level == "household":
        stmt = in_scope(select(Household), Household.group_id, region)
        return db.session.execute(stmt.order_by(*house_order(), Household.id)
                                  ).scalars().all()
    stmt = in_scope(select(Region).where(Region.level == level), Region.id, region)
    return db.session.execute(stmt.order_by(Region.sort_order, Region.code)).scalars().all()


def trend(grain: Grain, period: Period) -> list:
    """[(YYYY-MM, awarded, deducted)] for every month the period touches, over the
    region of ``grain`` (one grouped query)."""
    sums = _entry_sums(grain, period)
    stmt = (select(sums.c.period, sums.c.direction, func.sum(sums.c.points))
            .where(sums.c.direction.in_(SCORED)).group_by(sums.c.period, sums.c.direction))
    got = {(month, direction): dec(points)
           for month, direction, points in db.session.execute(stmt)}
    return [(m, got.get((m, "award"), ZERO), -got.get((m, "deduction"), ZERO))
            for m in months_of(period)]


def _ranking(region: Region, period: Period, level: str, rows: list, grain: Grain,
             households: dict) -> list:
    """Villages of a city, county or township with households, best participation first
    (RollupRows with households and participating)."""
    if region.level not in ("city", "county", "township"):
        return []
    if level == "village":
        ranking = list(rows)
    else:
        ranking = []
        for key in bucket_keys(region, "village"):
            row = RollupRow(key=key)
            row.households, row.participating, row.score_total = households.get(
                key.id, (0, 0, ZERO))
            ranking.append(row)
    ranking = [r for r in ranking if r.households]
    ranking.sort(key=lambda r: (-(r.rate or 0), r.key.code))
    return ranking


def rollup(region: Region, period: Period) -> Rollup:
    """The roll-up of ``region`` (already checked to lie in the user's scope) over
    ``period``: rows per child in display order, the total, categories, trend, ranking."""
    level = CHILD_LEVEL[region.level]
    grain = grain_of(region, level)
    found = household_figures(grain, period)
    households, median_of_all = found[0], found[2]
    figures = bucket_figures(region, period, level, grain=grain, figures=found)
    rows = []
    for key in bucket_keys(region, level):
        row = figures.get(key.id) or RollupRow()
        row.key = key
        rows.append(row)
    total = _merge(rows)
    total.key = region
    total.median_score = median_of_all
    categories = sorted(set(total.awarded) | set(total.deducted))
    return Rollup(region=region, period=period, child_level=level, rows=rows, total=total,
                  categories=categories, trend=trend(grain, period),
                  ranking=_ranking(region, period, level, rows, grain, households))


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
