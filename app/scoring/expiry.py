"""Periodic expiry of spendable points with carry-over (RULE-FEATURES row 19).

The ledger stays append-only: expired points are a new confirmed entry of kind "expiry"
(direction "spend": it takes from the spendable balance only; the earned score, ranks and
boards are untouched), appended through the same chain and balance path as every posting.
Scores that "reset every quarter" need no entry: ranks and boards are per period
(``scoring.queries.standings``).
"""
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from app.accounts.models import utcnow
from app.extensions import db
from app.households.models import Household
from app.rules import queries as rules_q
from app.rules.periodic import expired_points, expiry_due
from app.scoring import chain
from app.scoring.models import HouseholdBalance, LedgerEntry
from app.rules.engine import N_, Refusal
from app.scoring.periods import local_today, month_period
from app.scoring.services import _by_key, _record


def spendable_as_of(household_id: int, end: date) -> Decimal:
    """A household's spendable balance from confirmed entries whose deed date is before local
    date ``end`` (spends and earlier expiries count on their own day)."""
    total = db.session.execute(
        select(func.coalesce(func.sum(LedgerEntry.points), 0))
        .where(LedgerEntry.household_id == household_id, LedgerEntry.spendable.is_(True),
               LedgerEntry.status == "confirmed", LedgerEntry.deed_date < end)).scalar_one()
    return Decimal(total)


def expire_balances(village, on: date, *, by_user=None) -> list:
    """Expire the spendable points of ``village``'s active households for the expiry period
    that closed before local date ``on``, by the rulebook in force on that period's last day
    (``rules.expiry``: every month|quarter|year, carry_over all|none|N points).

    Each household gets at most one "expiry" entry per period (idempotency key
    ``expiry:<household>:<period>``): running again changes nothing. The points expired are
    the balance at the period's end above the carry-over, never more than the household
    holds now. Returns the new entries (flushed; the caller commits). Returns [] when the
    rulebook has no expiry. Raises Refusal("future_date") when ``on`` is after today.
    """
    if on > local_today():
        raise Refusal("future_date", N_("清零日不能晚于今天"))
    version = rules_q.version_in_force(village, on)
    book = rules_q.book_rule(version) if version is not None else None
    due = expiry_due(book, on) if book is not None else None
    if due is None:
        return []
    version = rules_q.version_in_force(village, due[1] - timedelta(days=1)) or version
    book = rules_q.book_rule(version)
    if book.expiry is None:
        return []
    start, end, label = due
    chain.lock_chain(village.id)
    made = []
    households = db.session.execute(
        select(Household).where(Household.village_id == village.id,
                                Household.status == "active").order_by(Household.id)).scalars()
    for h in households:
        key = f"expiry:{h.id}:{label}"
        if _by_key(key, household_id=h.id, kind="expiry") is not None:
            continue
        held = spendable_as_of(h.id, end)
        now = db.session.execute(select(HouseholdBalance.spendable_balance).where(
            HouseholdBalance.household_id == h.id)).scalar_one_or_none() or Decimal(0)
        points = min(expired_points(book.expiry, held), max(Decimal(now), Decimal(0)))
        if points <= 0:
            continue
        day = end - timedelta(days=1)
        carry = held - points
        entry = LedgerEntry(
            household_id=h.id, village_id=village.id, kind="expiry", direction="spend",
            rulebook_version_id=version.id, item_code="EXPIRY", item_name="积分到期",
            category_name="积分到期", unit_points=-points, quantity=1, points=-points,
            deed_date=day, period=month_period(day).label,
            reason=(f"{label} 期末可用积分 {format(held.normalize(), 'f')} 分，"
                    f"结转 {format(carry.normalize(), 'f')} 分，"
                    f"到期 {format(points.normalize(), 'f')} 分（细则：{book.expiry.every}）"),
            recorded_by_id=by_user.id if by_user else None, recorded_at=utcnow(),
            idempotency_key=key, spendable=True)
        made.append(_record(entry, "confirmed", by_user))
    return made
