"""Summary tables kept in the posting transaction (issue 10): what boards, the door-plate
page and roll-ups read instead of summing the ledger on every page view.

- ``HouseholdMonth``: per household, per month and per calendar year (``YYYY`` rows);
- ``VillageMonth``: per village, month, category and direction.

One writer: ``services`` calls ``count`` whenever an entry enters or leaves the confirmed
status, in the same transaction and under the same village chain lock as the balances, so no
two writers ever race on a row (UPDATE-then-INSERT). The one other change is the yuan of a
redemption's lines less its cash top-up, added by ``rewards.services.redeem`` through
``add_yuan`` once the lines exist and taken out again by ``count`` when the spend is
reversed. ``rebuild`` recomputes
both tables from the ledger (for a migration or a repair) and ``faults`` proves they equal it.
"""
from datetime import date
from decimal import Decimal

from sqlalchemy import case, delete, func, insert, literal, select, union_all, update
from sqlalchemy.orm import aliased

from app.extensions import db
from app.scoring.models import HouseholdMonth, LedgerEntry, VillageMonth
from app.scoring.periods import Period

CENT = Decimal("0.01")
STANDS = ("score", "spend")   # kinds whose entries count as participation / redemptions


def _standing(entry: LedgerEntry) -> int:
    """+1 for a score or spend entry, -1 for a reversal of one, else 0."""
    if entry.kind in STANDS:
        return 1
    if entry.kind == "reversal" and entry.reverses_id is not None:
        original = db.session.get(LedgerEntry, entry.reverses_id)
        return -1 if original is not None and original.kind in STANDS else 0
    return 0


def _upsert(model, key: dict, adds: dict, *, on_update: dict | None = None,
            on_insert: dict | None = None) -> None:
    """Add ``adds`` (column -> delta) to the row of ``model`` at ``key``; set ``on_update``
    (column -> SQL expression) when it exists, else insert it with ``adds`` and
    ``on_insert`` as its values."""
    values = {col: getattr(model, col) + delta for col, delta in adds.items()}
    values.update(on_update or {})
    done = db.session.execute(update(model).where(
        *(getattr(model, col) == value for col, value in key.items())).values(**values))
    if done.rowcount == 0:
        db.session.execute(insert(model).values(**key, **adds, **(on_insert or {})))


def count(entry: LedgerEntry, sign: int) -> None:
    """Count ``entry`` in the summary tables (``sign`` +1: it became confirmed; -1: it left
    the confirmed status). Award and deduction entries go to the household's month and year
    rows; every entry goes to its village's month, category and direction row. A reversed
    spend takes its redemption's yuan out. The caller holds the village's chain lock."""
    points = Decimal(entry.points) * sign
    standing = _standing(entry) * sign
    if entry.direction != "spend":
        deduction = points if entry.direction == "deduction" else Decimal(0)
        latest = {}
        if sign > 0:
            latest = {"last_at": case((HouseholdMonth.last_at.is_(None), entry.recorded_at),
                                      (HouseholdMonth.last_at < entry.recorded_at,
                                       entry.recorded_at), else_=HouseholdMonth.last_at)}
        for label in (entry.period, entry.period[:4]):
            _upsert(HouseholdMonth, {"household_id": entry.household_id, "period": label},
                    {"points": points, "deductions": deduction, "entries": sign,
                     "scored": standing}, on_update=latest,
                    on_insert={"village_id": entry.village_id,
                               "last_at": entry.recorded_at if sign > 0 else None})
    yuan = Decimal(0)
    if entry.direction == "spend" and entry.kind == "reversal" and standing:
        yuan = sign * -redemption_yuan(entry.reverses_id)
    _upsert(VillageMonth, _village_key(entry),
            {"points": points, "entries": sign, "standing": standing, "yuan": yuan})


def _village_key(entry: LedgerEntry) -> dict:
    return {"village_id": entry.village_id, "period": entry.period,
            "category_name": entry.category_name, "direction": entry.direction}


def redemption_yuan(spend_entry_id: int) -> Decimal:
    """The yuan redeemed with points by the redemption paid by spend entry
    ``spend_entry_id``: the yuan of its lines less the cash top-up the household paid
    (``Redemption.cash_yuan``; the points supermarket report's 积分兑换金额); 0 when none."""
    total = db.session.execute(select(_points_yuan(spend_entry_id))).scalar_one()
    return Decimal(total).quantize(CENT)


def _points_yuan(spend_entry_id):
    """SQL: the yuan of the lines of the redemption paid by spend entry ``spend_entry_id``
    (a value or a column) less its cash top-up."""
    from app.rewards.models import Redemption, RedemptionLine
    lines = (select(func.coalesce(func.sum(RedemptionLine.yuan), 0))
             .join(Redemption, Redemption.id == RedemptionLine.redemption_id)
             .where(Redemption.entry_id == spend_entry_id).scalar_subquery())
    cash = (select(func.coalesce(func.sum(Redemption.cash_yuan), 0))
            .where(Redemption.entry_id == spend_entry_id).scalar_subquery())
    return lines - cash


def add_yuan(spend: LedgerEntry, yuan: Decimal) -> None:
    """Add ``yuan`` (what a redemption's lines are worth less its cash top-up, Decimal yuan:
    ``redemption_yuan``) to the village row of the confirmed ``spend`` entry that paid it."""
    if yuan:
        _upsert(VillageMonth, _village_key(spend),
                {"points": Decimal(0), "entries": 0, "standing": 0, "yuan": yuan})


def month_labels(period: Period) -> list | None:
    """The YYYY-MM labels of the months ``period`` covers exactly, or None when it does not
    start and end on the first of a month (then only the ledger can answer)."""
    if period.start.day != 1 or period.end.day != 1 or period.end <= period.start:
        return None
    labels, day = [], period.start
    while day < period.end:
        labels.append(f"{day.year}-{day.month:02d}")
        day = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return labels


def household_labels(period: Period) -> list | None:
    """The ``HouseholdMonth`` periods whose rows add up to ``period``: ``[YYYY]`` for a
    calendar year, its months for other whole months, None otherwise."""
    labels = month_labels(period)
    if labels and len(labels) == 12 and labels[0].endswith("-01"):
        return [labels[0][:4]]
    return labels


def _in(column, labels: list):
    return column == labels[0] if len(labels) == 1 else column.in_(labels)


def village_totals_query(village_id: int, period: Period):
    """The SELECT of ``village_totals`` (columns household_id, points, deductions, last_at),
    for a caller that joins it to the households; None when ``period`` is not whole
    months."""
    labels = household_labels(period)
    if labels is None:
        return None
    return (select(HouseholdMonth.household_id,
                   func.sum(HouseholdMonth.points).label("points"),
                   func.sum(HouseholdMonth.deductions).label("deductions"),
                   func.max(HouseholdMonth.last_at).label("last_at"))
            .where(HouseholdMonth.village_id == village_id, _in(HouseholdMonth.period, labels),
                   HouseholdMonth.entries > 0)
            .group_by(HouseholdMonth.household_id))


def village_totals(village_id: int, period: Period) -> dict | None:
    """{household_id: (points, deductions, last recorded_at)} of the village's confirmed
    awards and deductions with deed dates in ``period`` (Decimal points, UTC), read from the
    summary rows; None when ``period`` is not whole months."""
    stmt = village_totals_query(village_id, period)
    if stmt is None:
        return None
    return {r[0]: (r[1], r[2], r[3]) for r in db.session.execute(stmt).all()}


def household_points(household_id: int, period: Period) -> Decimal | None:
    """A household's confirmed awards and deductions in ``period`` (Decimal, 0.01) from the
    summary rows; None when ``period`` is not whole months."""
    labels = household_labels(period)
    if labels is None:
        return None
    total = db.session.execute(
        select(func.coalesce(func.sum(HouseholdMonth.points), 0))
        .where(HouseholdMonth.household_id == household_id,
               _in(HouseholdMonth.period, labels))).scalar_one()
    return Decimal(total).quantize(CENT)


def _standing_sql(original):
    return case((LedgerEntry.kind.in_(STANDS), 1),
                (original.kind.in_(STANDS), -1), else_=0)


def _household_from_ledger(village_id: int | None = None):
    """The household rows computed from the ledger (a SELECT in HouseholdMonth's columns):
    month rows, then year rows, of every village or of one."""
    original = aliased(LedgerEntry)
    selects = []
    for label in (LedgerEntry.period, func.substr(LedgerEntry.period, 1, 4)):
        stmt = (select(LedgerEntry.household_id, label.label("period"),
                       func.min(LedgerEntry.village_id), func.sum(LedgerEntry.points),
                       func.sum(case((LedgerEntry.direction == "deduction",
                                      LedgerEntry.points), else_=0)),
                       func.count(LedgerEntry.id), func.sum(_standing_sql(original)),
                       func.max(LedgerEntry.recorded_at))
                .outerjoin(original, original.id == LedgerEntry.reverses_id)
                .where(LedgerEntry.status == "confirmed", LedgerEntry.direction != "spend")
                .group_by(LedgerEntry.household_id, label))
        if village_id is not None:
            stmt = stmt.where(LedgerEntry.village_id == village_id)
        selects.append(stmt)
    return union_all(*selects)


def ledger_sums(key, *conditions, joins=()):
    """The ``VillageMonth`` figures computed from the ledger and the redemption lines,
    grouped by ``key`` (a column; ``LedgerEntry.village_id`` for the table itself) instead
    of the village: a SELECT of (k: the key, period, category_name, direction, points, entries,
    standing, yuan) over confirmed entries meeting ``conditions``; ``joins`` are
    (target, onclause) pairs the key or conditions need (e.g. the household)."""
    original, reversal = aliased(LedgerEntry), aliased(LedgerEntry)
    stands = ~select(reversal.id).where(reversal.reverses_id == LedgerEntry.id,
                                        reversal.status == "confirmed").exists()
    entry_yuan = case((LedgerEntry.kind == "spend",
                       case((stands, _points_yuan(LedgerEntry.id)), else_=0)),
                      else_=literal(0))
    stmt = select(key.label("k"), LedgerEntry.period, LedgerEntry.category_name,
                  LedgerEntry.direction, func.sum(LedgerEntry.points).label("points"),
                  func.count(LedgerEntry.id).label("entries"),
                  func.sum(_standing_sql(original)).label("standing"),
                  func.sum(entry_yuan).label("yuan"))
    for target, onclause in joins:
        stmt = stmt.join(target, onclause)
    return (stmt.outerjoin(original, original.id == LedgerEntry.reverses_id)
            .where(LedgerEntry.status == "confirmed", *conditions)
            .group_by(key, LedgerEntry.period, LedgerEntry.category_name,
                      LedgerEntry.direction))


def _village_from_ledger(village_id: int | None = None):
    """The village rows computed from the ledger (a SELECT in VillageMonth's columns)."""
    where = [] if village_id is None else [LedgerEntry.village_id == village_id]
    return ledger_sums(LedgerEntry.village_id, *where)


def household_sums(village_filter, period: Period):
    """A subquery (household_id, points, scored) of every household with confirmed awards
    or deductions in ``period`` in the villages ``village_filter`` (a function of a village
    id column giving a condition) accepts: ``points`` their sum, ``scored`` the score
    entries no confirmed reversal cancels. From the summary rows for whole months (one row
    per household for a calendar year), else from the ledger."""
    labels = household_labels(period)
    if labels is not None:
        hm = HouseholdMonth
        if len(labels) == 1:
            stmt = select(hm.household_id, hm.points.label("points"),
                          hm.scored.label("scored")).where(hm.period == labels[0])
        else:
            stmt = (select(hm.household_id, func.sum(hm.points).label("points"),
                           func.sum(hm.scored).label("scored"))
                    .where(hm.period.in_(labels)).group_by(hm.household_id))
        return stmt.where(village_filter(hm.village_id)).subquery()
    original = aliased(LedgerEntry)
    return (select(LedgerEntry.household_id, func.sum(LedgerEntry.points).label("points"),
                   func.sum(_standing_sql(original)).label("scored"))
            .outerjoin(original, original.id == LedgerEntry.reverses_id)
            .where(LedgerEntry.status == "confirmed", LedgerEntry.direction != "spend",
                   LedgerEntry.deed_date >= period.start, LedgerEntry.deed_date < period.end,
                   village_filter(LedgerEntry.village_id))
            .group_by(LedgerEntry.household_id).subquery())


def village_sums(village_filter, period: Period):
    """A SELECT of (k: the village id, period, category_name, direction, points, entries,
    standing, yuan) of the villages ``village_filter`` accepts over ``period``: from
    ``VillageMonth`` for whole months, else from the ledger (``ledger_sums``)."""
    labels = month_labels(period)
    if labels is None:
        return ledger_sums(LedgerEntry.village_id, village_filter(LedgerEntry.village_id),
                           LedgerEntry.deed_date >= period.start,
                           LedgerEntry.deed_date < period.end)
    vm = VillageMonth
    return select(vm.village_id.label("k"), vm.period, vm.category_name, vm.direction,
                  vm.points, vm.entries, vm.standing, vm.yuan).where(village_filter(vm.village_id),
                                                          _in(vm.period, labels))


HOUSEHOLD_COLUMNS = ["household_id", "period", "village_id", "points", "deductions",
                     "entries", "scored", "last_at"]
VILLAGE_COLUMNS = ["village_id", "period", "category_name", "direction", "points", "entries",
                   "standing", "yuan"]


def rebuild() -> int:
    """Recompute both summary tables from the ledger (flushes; the caller commits). For the
    migration that adds them, or after a repair. Returns the number of household rows."""
    db.session.execute(delete(HouseholdMonth))
    db.session.execute(delete(VillageMonth))
    db.session.execute(insert(HouseholdMonth).from_select(HOUSEHOLD_COLUMNS,
                                                          _household_from_ledger()))
    db.session.execute(insert(VillageMonth).from_select(VILLAGE_COLUMNS,
                                                        _village_from_ledger()))
    return db.session.execute(select(func.count()).select_from(HouseholdMonth)).scalar_one()


def _amounts(*values):
    return tuple(Decimal(v or 0).quantize(CENT) if i < 2 else int(v or 0)
                 for i, v in enumerate(values))


def faults(village_id: int | None = None) -> list:
    """[(table, row id, key, stored, computed)] where a summary row (of every village, or
    of one) differs from the ledger: ``household_month`` rows by household id and period,
    ``village_month`` rows by village id and "period/category/direction". stored/computed
    are tuples of amounts or None. Empty when equal."""
    computed = {(r[0], r[1]): _amounts(r[3], r[4], r[5], r[6])
                for r in db.session.execute(_household_from_ledger(village_id))}
    stmt = select(HouseholdMonth)
    if village_id is not None:
        stmt = stmt.where(HouseholdMonth.village_id == village_id)
    stored = {(r.household_id, r.period): _amounts(r.points, r.deductions, r.entries, r.scored)
              for r in db.session.execute(stmt).scalars()
              if r.entries or r.points or r.deductions or r.scored}
    found = _differences("household_month", stored, computed)
    computed = {(r[0], "/".join(r[1:4])): _amounts(r[4], r[7], r[5], r[6])
                for r in db.session.execute(_village_from_ledger(village_id))}
    stmt = select(VillageMonth)
    if village_id is not None:
        stmt = stmt.where(VillageMonth.village_id == village_id)
    stored = {(r.village_id, f"{r.period}/{r.category_name}/{r.direction}"):
              _amounts(r.points, r.yuan, r.entries, r.standing)
              for r in db.session.execute(stmt).scalars()
              if r.entries or r.points or r.standing or r.yuan}
    return found + _differences("village_month", stored, computed)


def _differences(table: str, stored: dict, computed: dict) -> list:
    return [(table, key[0], key[1], stored.get(key), computed.get(key))
            for key in sorted(set(stored) | set(computed))
            if stored.get(key) != computed.get(key)]
