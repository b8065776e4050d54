"""Ledger checks: stored balances against the sum of entries (DESIGN.md invariant 1)."""
from decimal import Decimal

from sqlalchemy import func, select

from app.extensions import db
from app.scoring.models import HouseholdBalance, LedgerEntry


def balance_faults():
    """Households whose stored balances differ from their entries, in one query.

    Returns a list of (household_id, (earned, spendable, count) stored,
    (earned, spendable, count) computed); empty when the ledger agrees.
    """
    sums = (select(LedgerEntry.household_id.label("hid"),
                   func.sum(LedgerEntry.points).label("total"),
                   func.count(LedgerEntry.id).label("n"))
            .group_by(LedgerEntry.household_id).subquery())
    rows = db.session.execute(
        select(HouseholdBalance.household_id, HouseholdBalance.earned_score,
               HouseholdBalance.spendable_balance, HouseholdBalance.entry_count,
               sums.c.total, sums.c.n)
        .outerjoin(sums, sums.c.hid == HouseholdBalance.household_id)
    ).all()
    faults = []
    for hid, earned, spendable, count, total, n in rows:
        total = Decimal(total or 0).quantize(Decimal("0.01"))
        stored = (Decimal(earned), Decimal(spendable), count)
        computed = (total, total, n or 0)
        if stored != computed:
            faults.append((hid, stored, computed))
    return faults
