"""Per household per month totals (``HouseholdMonth``): what boards, the door-plate page and
roll-ups read instead of summing the ledger on every page view (issue 10).

One writer: ``services._update_balance`` calls ``count`` whenever an entry's change moves
the earned score (an entry confirmed, or taken out of confirmed), in the same transaction and
under the same village chain lock as the balances, so no two writers ever race on a row.
``rebuild`` recomputes the table from the ledger (for a migration or a repair) and
``faults`` proves it equals the ledger.
"""
from datetime import date
from decimal import Decimal

from sqlalchemy import case, delete, func, insert, select, update

from app.extensions import db
from app.scoring.models import HouseholdMonth, LedgerEntry
from app.scoring.periods import Period

CENT = Decimal("0.01")


def count(entry: LedgerEntry, earned_delta: Decimal) -> None:
    """Add ``earned_delta`` (the change of the household's earned score caused by ``entry``
    entering or leaving the confirmed status; ``entry.status`` is already the new one) to
    the entry's household and month. The caller holds the village's chain lock (every
    ledger write does), so UPDATE-then-INSERT cannot race."""
    sign = 1 if entry.status == "confirmed" else -1
    deduction = earned_delta if entry.direction == "deduction" else Decimal(0)
    row = (HouseholdMonth.household_id == entry.household_id,
           HouseholdMonth.period == entry.period)
    values = {"points": HouseholdMonth.points + earned_delta,
              "deductions": HouseholdMonth.deductions + deduction,
              "entries": HouseholdMonth.entries + sign}
    if sign > 0:
        values["last_at"] = case((HouseholdMonth.last_at.is_(None), entry.recorded_at),
                                 (HouseholdMonth.last_at < entry.recorded_at,
                                  entry.recorded_at),
                                 else_=HouseholdMonth.last_at)
    done = db.session.execute(update(HouseholdMonth).where(*row).values(**values))
    if done.rowcount == 0:
        db.session.execute(insert(HouseholdMonth).values(
            household_id=entry.household_id, period=entry.period,
            village_id=entry.village_id, points=earned_delta, deductions=deduction,
            entries=sign, last_at=entry.recorded_at if sign > 0 else None))


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


def village_totals(village_id: int, period: Period) -> dict | None:
    """{household_id: (points, deductions, last recorded_at)} of the village's confirmed
    awards and deductions with deed dates in ``period`` (Decimal points, UTC), read from the
    monthly totals; None when ``period`` is not whole months."""
    labels = month_labels(period)
    if labels is None:
        return None
    in_months = (HouseholdMonth.period == labels[0] if len(labels) == 1
                 else HouseholdMonth.period.in_(labels))
    rows = db.session.execute(
        select(HouseholdMonth.household_id, func.sum(HouseholdMonth.points),
               func.sum(HouseholdMonth.deductions), func.max(HouseholdMonth.last_at))
        .where(HouseholdMonth.village_id == village_id, in_months,
               HouseholdMonth.entries > 0)
        .group_by(HouseholdMonth.household_id)).all()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def household_points(household_id: int, period: Period) -> Decimal | None:
    """A household's confirmed awards and deductions in ``period`` (Decimal, 0.01) from the
    monthly totals; None when ``period`` is not whole months."""
    labels = month_labels(period)
    if labels is None:
        return None
    total = db.session.execute(
        select(func.coalesce(func.sum(HouseholdMonth.points), 0))
        .where(HouseholdMonth.household_id == household_id,
               HouseholdMonth.period.in_(labels))).scalar_one()
    return Decimal(total).quantize(CENT)


def _from_ledger(village_id: int | None = None):
    """The monthly totals computed from the ledger (a SELECT in HouseholdMonth's columns),
    of every village or of one."""
    stmt = (select(LedgerEntry.household_id, LedgerEntry.period,
                   func.min(LedgerEntry.village_id), func.sum(LedgerEntry.points),
                   func.sum(case((LedgerEntry.direction == "deduction", LedgerEntry.points),
                                 else_=0)),
                   func.count(LedgerEntry.id), func.max(LedgerEntry.recorded_at))
            .where(LedgerEntry.status == "confirmed", LedgerEntry.direction != "spend")
            .group_by(LedgerEntry.household_id, LedgerEntry.period))
    if village_id is not None:
        stmt = stmt.where(LedgerEntry.village_id == village_id)
    return stmt


def rebuild() -> int:
    """Recompute every monthly total from the ledger (flushes; the caller commits). For the
    migration that adds the table, or after a repair. Returns the number of rows."""
    db.session.execute(delete(HouseholdMonth))
    db.session.execute(insert(HouseholdMonth).from_select(
        ["household_id", "period", "village_id", "points", "deductions", "entries",
         "last_at"], _from_ledger()))
    return db.session.execute(select(func.count()).select_from(HouseholdMonth)).scalar_one()


def faults(village_id: int | None = None) -> list:
    """[(household_id, period, stored, computed)] where the monthly totals (of every village,
    or of one) differ from the ledger; stored/computed are (points, deductions, entries) or
    None. Empty when equal."""
    def key(points, deductions, entries):
        return (Decimal(points).quantize(CENT), Decimal(deductions).quantize(CENT), entries)
    computed = {(r[0], r[1]): key(r[3], r[4], r[5])
                for r in db.session.execute(_from_ledger(village_id))}
    stmt = select(HouseholdMonth)
    if village_id is not None:
        stmt = stmt.where(HouseholdMonth.village_id == village_id)
    stored = {(r.household_id, r.period): key(r.points, r.deductions, r.entries)
              for r in db.session.execute(stmt).scalars()
              if r.entries or r.points or r.deductions}
    return [(hid, period, stored.get((hid, period)), computed.get((hid, period)))
            for hid, period in sorted(set(stored) | set(computed))
            if stored.get((hid, period)) != computed.get((hid, period))]
