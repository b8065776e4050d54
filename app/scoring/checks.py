"""Ledger verification (``flask ledger verify``): hash chains, statuses and balances.

DESIGN.md invariants 1 and 4: stored balances equal the sums of the entries, and any edit,
delete or insert made behind the application's back is found at the row where it happened.
"""
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.scoring.chain import chain_head, chain_rows, row_hash
from app.scoring.models import (PENDING, EntryTransition, HouseholdBalance, LedgerChain,
                                LedgerEntry)

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Fault:
    """One disagreement: ``table`` and ``row_id`` name the row; ``message`` says what."""

    village_id: int
    table: str
    row_id: int | None
    message: str

    def __str__(self):
        return f"village {self.village_id} {self.table}#{self.row_id}: {self.message}"


def _table(row) -> str:
    return "ledger_entry" if isinstance(row, LedgerEntry) else "entry_transition"


def chain_faults(village_id: int) -> list:
    """Faults in a village's chain: a gap or duplicate in ``seq``, a row whose hash or link
    does not match (the first such row is where the tampering is), a head that differs."""
    rows, head, expected = chain_rows(village_id), "", 1
    for row in rows:
        if row.seq != expected:
            return [Fault(village_id, _table(row), row.id,
                          f"seq {row.seq} where {expected} was expected (a row was deleted "
                          f"or inserted)")]
        if row.prev_hash != head:
            return [Fault(village_id, _table(row), row.id, "prev_hash does not link to the "
                          "previous row")]
        if row_hash(row, head) != row.hash:
            return [Fault(village_id, _table(row), row.id, "content does not match its hash "
                          "(the row was edited)")]
        head, expected = row.hash, expected + 1
    seq, stored = chain_head(village_id)
    if (seq, stored) != (expected - 1, head):
        return [Fault(village_id, "ledger_chain", village_id,
                      f"chain head is seq {seq} but the rows end at seq {expected - 1} "
                      f"(rows were deleted at the end, or the head was edited)")]
    return []


def status_faults(village_id: int) -> list:
    """Entries whose status is not the destination of their last transition."""
    faults = []
    last = {}
    for entry_id, to_status in db.session.execute(
            select(EntryTransition.entry_id, EntryTransition.to_status)
            .where(EntryTransition.village_id == village_id).order_by(EntryTransition.seq)):
        last[entry_id] = to_status
    for entry_id, status in db.session.execute(
            select(LedgerEntry.id, LedgerEntry.status)
            .where(LedgerEntry.village_id == village_id)):
        if last.get(entry_id) != status:
            faults.append(Fault(village_id, "ledger_entry", entry_id,
                                f"status {status} but its transitions end at "
                                f"{last.get(entry_id)}"))
    return faults


def expected_balances(village_id: int | None = None) -> dict:
    """{household_id: (earned, spendable, pending, count)} recomputed from the entries."""
    stmt = select(LedgerEntry.household_id, LedgerEntry.status, LedgerEntry.direction,
                  LedgerEntry.points, LedgerEntry.spendable)
    if village_id is not None:
        stmt = stmt.where(LedgerEntry.village_id == village_id)
    sums = {}
    for hid, status, direction, points, counts_spendable in db.session.execute(stmt):
        earned, spendable, pending, count = sums.get(hid, (ZERO, ZERO, ZERO, 0))
        points = Decimal(points)
        if status == "confirmed":
            if counts_spendable:
                spendable += points
            if direction != "spend":
                earned += points
        elif status in PENDING:
            pending += points
        sums[hid] = (earned, spendable, pending, count + 1)
    return sums


def balance_faults(village_id: int | None = None) -> list:
    """Households whose stored balances differ from their entries: a list of
    (household_id, stored (earned, spendable, pending, count), computed (same))."""
    from app.households.models import Household
    sums = expected_balances(village_id)
    stmt = select(HouseholdBalance).join(Household,
                                         Household.id == HouseholdBalance.household_id)
    if village_id is not None:
        stmt = stmt.where(Household.village_id == village_id)
    faults = []
    seen = set()
    for bal in db.session.execute(stmt).scalars():
        seen.add(bal.household_id)
        stored = (Decimal(bal.earned_score).quantize(ZERO),
                  Decimal(bal.spendable_balance).quantize(ZERO),
                  Decimal(bal.pending_points).quantize(ZERO), bal.entry_count)
        computed = tuple(v.quantize(ZERO) if isinstance(v, Decimal) else v
                         for v in sums.get(bal.household_id, (ZERO, ZERO, ZERO, 0)))
        if stored != computed:
            faults.append((bal.household_id, stored, computed))
    for hid in set(sums) - seen:
        faults.append((hid, None, sums[hid]))
    return faults


def verify(village_id: int | None = None) -> list:
    """Every fault of the ledger (or of one village): chains, statuses, balances and the
    monthly totals (``summary.faults``).

    Returns a list of Fault; empty when everything agrees.
    """
    if village_id is None:
        villages = set(db.session.execute(select(LedgerEntry.village_id).distinct()).scalars())
        villages |= set(db.session.execute(select(LedgerChain.village_id)).scalars())
    else:
        villages = {village_id}
    faults = []
    for vid in sorted(villages):
        faults += chain_faults(vid) + status_faults(vid)
    faults += [Fault(village_id, "household_balance", hid,
                     f"stored {stored} but the entries give {computed}")
               for hid, stored, computed in balance_faults(village_id)]
    from app.scoring import summary
    faults += [Fault(village_id, table, row_id,
                     f"{key}: stored {stored} but the entries give {computed}")
               for table, row_id, key, stored, computed in summary.faults(village_id)]
    return faults
