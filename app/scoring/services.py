"""Domain writes to the ledger: post an entry, reverse one. They flush, never commit.

Each posting first takes the household's balance row with an UPDATE (a row lock on
PostgreSQL, the write lock on SQLite), so postings for one household are serialized: checks
such as once-only cannot race, and the balance changes in the same transaction as the entry.
"""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError

from app.accounts.models import utcnow
from app.extensions import db
from app.rules import queries as rules_q
from app.rules.engine import N_, Deed, HouseholdState, Refusal, judge
from app.scoring.models import HouseholdBalance, LedgerEntry
from app.scoring.periods import local_today, month_period


def ensure_balance(household) -> None:
    """Create the zero balance row of a new ``household`` (flushed)."""
    db.session.add(HouseholdBalance(household_id=household.id, earned_score=0,
                                    spendable_balance=0, entry_count=0))
    db.session.flush()


def _lock_balance(household_id: int) -> None:
    """Take the household's balance row for this transaction (see module docstring)."""
    result = db.session.execute(
        update(HouseholdBalance).where(HouseholdBalance.household_id == household_id)
        .values(earned_score=HouseholdBalance.earned_score)
    )
    if result.rowcount != 1:
        raise LookupError(f"household {household_id} has no balance row")


def _apply(entry: LedgerEntry) -> None:
    """Add ``entry.points`` to its household's balances."""
    values = {"earned_score": HouseholdBalance.earned_score + entry.points,
              "spendable_balance": HouseholdBalance.spendable_balance + entry.points,
              "entry_count": HouseholdBalance.entry_count + 1}
    if entry.points != 0:
        values["reached_at"] = entry.recorded_at
    db.session.execute(update(HouseholdBalance)
                       .where(HouseholdBalance.household_id == entry.household_id)
                       .values(**values))


def _by_key(key):
    if not key:
        return None
    return db.session.execute(
        select(LedgerEntry).where(LedgerEntry.idempotency_key == key)
    ).scalar_one_or_none()


def _insert(entry: LedgerEntry) -> LedgerEntry:
    """Insert ``entry`` in a savepoint; on a duplicate idempotency key return the first entry."""
    try:
        with db.session.begin_nested():
            db.session.add(entry)
    except IntegrityError:
        first = _by_key(entry.idempotency_key)
        if first is None:
            raise
        return first
    _apply(entry)
    return entry


def held_once_only(household_id: int) -> frozenset:
    """Codes of once-only items the household holds (entries not reversed)."""
    from app.rules.models import RuleItem
    reversal = db.aliased(LedgerEntry)
    stmt = (select(LedgerEntry.item_code).join(RuleItem, RuleItem.id == LedgerEntry.item_id)
            .where(LedgerEntry.household_id == household_id, LedgerEntry.kind == "score",
                   RuleItem.once_only.is_(True),
                   ~exists().where(reversal.reverses_id == LedgerEntry.id)))
    return frozenset(db.session.execute(stmt).scalars())


def post_entry(*, household, item_id, deed_date: date, recorded_by, quantity: int = 1,
               points=None, note: str | None = None, idempotency_key: str | None = None,
               recorded_at: datetime | None = None) -> LedgerEntry:
    """Judge a deed with the rulebook in force on ``deed_date`` and append it to the ledger.

    ``item_id`` is a RuleItem id; ``points`` (str or Decimal) is the panel's value for range
    items; ``deed_date`` is a local date, not in the future. Returns the flushed LedgerEntry;
    with an ``idempotency_key`` already used, returns that first entry and records nothing.
    ``recorded_at`` (UTC) defaults to now; only bulk loads of past records set it.
    Raises Refusal (Chinese message) when the engine or the calendar refuses.
    """
    first = _by_key(idempotency_key)
    if first is not None:
        return first
    if deed_date > local_today():
        raise Refusal("future_date", N_("事情发生日期不能晚于今天"))
    version = rules_q.version_in_force(household.village, deed_date)
    if version is None:
        raise Refusal("no_rulebook", N_("%(date)s 没有生效的积分细则"), date=str(deed_date))
    item = rules_q.item_in_version(version, item_id)
    if item is None:
        raise Refusal("item_not_in_force", N_("该评分项不在 %(date)s 生效的细则中"),
                      date=str(deed_date))
    _lock_balance(household.id)
    state = HouseholdState(active=household.status == "active",
                           held_once_only=held_once_only(household.id))
    verdict = judge(rules_q.to_rule(item), state, Deed(points=points, quantity=quantity))
    entry = LedgerEntry(
        household_id=household.id, village_id=household.village_id, kind="score",
        direction="deduction" if verdict.points < 0 else "award",
        rulebook_version_id=version.id, item_id=item.id, item_code=item.code,
        item_name=item.name, category_name=item.category.name,
        unit_points=verdict.unit_points, quantity=verdict.quantity, points=verdict.points,
        deed_date=deed_date, period=month_period(deed_date).label, status="confirmed",
        note=(note or "").strip() or None, reason=verdict.reason,
        recorded_by_id=recorded_by.id if recorded_by else None,
        recorded_at=recorded_at or utcnow(), idempotency_key=idempotency_key or None,
    )
    return _insert(entry)


def reverse_entry(entry: LedgerEntry, *, reason: str, recorded_by,
                  idempotency_key: str | None = None,
                  recorded_at: datetime | None = None) -> LedgerEntry:
    """Cancel ``entry`` with a reversal entry of opposite points; ``reason`` is required.

    The reversal keeps the original's deed date, period and item snapshot. Returns the flushed
    reversal. Raises Refusal when the reason is blank, the entry is itself a reversal, or it
    has already been reversed.
    """
    first = _by_key(idempotency_key)
    if first is not None:
        return first
    reason = (reason or "").strip()
    if not reason:
        raise Refusal("reason_required", N_("请填写冲正原因"))
    if entry.kind != "score":
        raise Refusal("not_reversible", N_("冲正记录不能再冲正"))
    _lock_balance(entry.household_id)
    already = db.session.execute(
        select(LedgerEntry.id).where(LedgerEntry.reverses_id == entry.id)
    ).scalar_one_or_none()
    if already is not None:
        raise Refusal("already_reversed", N_("该记录已经冲正过"))
    reversal = LedgerEntry(
        household_id=entry.household_id, village_id=entry.village_id, kind="reversal",
        direction=entry.direction, rulebook_version_id=entry.rulebook_version_id,
        item_id=entry.item_id, item_code=entry.item_code, item_name=entry.item_name,
        category_name=entry.category_name, unit_points=entry.unit_points,
        quantity=entry.quantity, points=-Decimal(entry.points), deed_date=entry.deed_date,
        period=entry.period, status="confirmed", reason=reason,
        recorded_by_id=recorded_by.id if recorded_by else None,
        recorded_at=recorded_at or utcnow(), idempotency_key=idempotency_key or None,
        reverses_id=entry.id,
    )
    try:
        return _insert(reversal)
    except IntegrityError:
        raise Refusal("already_reversed", N_("该记录已经冲正过")) from None
