"""Domain writes to the ledger: post, reverse, spend, and move an entry's status.
They flush, never commit.

Every write first locks the village's hash chain (``chain.lock_chain``), so a village's
writes are serialized: checks such as once-only cannot race, the chain has no gaps, and the
balances change in the same transaction as the rows that justify them. A spend also uses a
conditional UPDATE (``spendable_balance >= points``), so no interleaving can overspend, on
PostgreSQL or SQLite.
"""
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select, update

from app.accounts.models import utcnow
from app.extensions import db
from app.rules import queries as rules_q
from app.rules.engine import (N_, Deed, HouseholdState, Refusal, base_grant, judge,
                              to_points)
from app.rules.periodic import notice_ends
from app.scoring import chain, summary
from app.scoring.models import (PENDING, EntryTransition, HouseholdBalance, LedgerEntry,
                                VillageSettings, unreversed)
from app.scoring.periods import local_today, month_period, period_of, to_local
from app.scoring.queries import standing_on


def ensure_balance(household) -> None:
    """Create the zero balance row of a new ``household`` (flushed)."""
    db.session.add(HouseholdBalance(household_id=household.id, earned_score=0,
                                    spendable_balance=0, pending_points=0, entry_count=0))
    db.session.flush()


def village_settings(village_id: int) -> VillageSettings:
    """The village's ledger settings (defaults when none were saved; not added)."""
    found = db.session.get(VillageSettings, village_id)
    return found or VillageSettings(village_id=village_id, notice_days=7, review_above=None)


def _effect(entry: LedgerEntry, status: str, sign: int = 1) -> dict:
    """{balance column: Decimal delta} for ``entry`` counted in ``status`` (``sign`` -1 to
    take it out again)."""
    pts = Decimal(entry.points) * sign
    if status == "confirmed":
        deltas = {"spendable_balance": pts} if entry.spendable else {}
        if entry.direction != "spend":
            deltas["earned_score"] = pts
        return deltas
    if status in PENDING:
        return {"pending_points": pts}
    return {}


def _update_balance(household_id: int, deltas: dict, *, count: int = 0, at=None) -> None:
    """Add ``deltas`` (column -> Decimal) and ``count`` entries to a household's balances;
    ``at`` becomes ``reached_at`` when the earned score changes."""
    values = {col: getattr(HouseholdBalance, col) + delta
              for col, delta in deltas.items() if delta}
    if count:
        values["entry_count"] = HouseholdBalance.entry_count + count
    if "earned_score" in values and at is not None:
        values["reached_at"] = at
    if values:
        db.session.execute(update(HouseholdBalance)
                           .where(HouseholdBalance.household_id == household_id)
                           .values(**values))


def _by_key(key, **expect):
    """The entry already posted under idempotency ``key``, or None.

    ``expect`` names fields the first entry must share with the repeat (its household, item
    or the entry it reverses): a key reused for a different request is refused rather than
    silently answered with someone else's entry.
    """
    if not key:
        return None
    if len(key) > 64:
        raise Refusal("bad_key", N_("请求有误，请刷新页面后重试"))
    first = db.session.execute(
        select(LedgerEntry).where(LedgerEntry.idempotency_key == key)
    ).scalar_one_or_none()
    if first is not None and any(getattr(first, f) != v for f, v in expect.items()):
        raise Refusal("key_reused", N_("这个表单已经提交过别的记录，请刷新页面后重试"))
    return first


def _record(entry: LedgerEntry, status: str, by_user=None, reason=None) -> LedgerEntry:
    """Append ``entry`` with its first transition and count it in the balances."""
    entry.status = status
    chain.append(entry)
    _move_log(entry, None, status, by_user, reason, entry.recorded_at)
    _update_balance(entry.household_id, _effect(entry, status), count=1, at=entry.recorded_at)
    if status == "confirmed":
        summary.count(entry, 1)
    return entry


def _move_log(entry, from_status, to_status, by_user, reason, at):
    chain.append(EntryTransition(entry_id=entry.id, village_id=entry.village_id,
                                 from_status=from_status, to_status=to_status,
                                 by_user_id=by_user.id if by_user else None, at=at,
                                 reason=reason))


def move(entry: LedgerEntry, to_status: str, *, by_user=None, reason: str | None = None,
         at: datetime | None = None) -> LedgerEntry:
    """Move ``entry`` to ``to_status``, appending the transition and shifting the balances.

    The caller must hold the village's chain lock (every public service here takes it).
    """
    at = at or utcnow()
    from_status = entry.status
    if from_status == to_status:
        return entry
    deltas = _effect(entry, from_status, -1)
    for col, delta in _effect(entry, to_status).items():
        deltas[col] = deltas.get(col, Decimal(0)) + delta
    entry.status = to_status
    db.session.flush()
    _move_log(entry, from_status, to_status, by_user, reason, at)
    _update_balance(entry.household_id, deltas, at=at)
    if "confirmed" in (from_status, to_status):
        summary.count(entry, 1 if to_status == "confirmed" else -1)
    return entry


def needs_review(item, household, recorded_by, points: Decimal, settings) -> bool:
    """True when a second person must review: the rulebook marks the item, the amount is
    above the village's ``review_above``, or the scorer is linked to the household (nobody
    scores their own family)."""
    if getattr(item, "needs_review", False):
        return True
    if settings.review_above is not None and abs(points) > settings.review_above:
        return True
    return recorded_by is not None and recorded_by.household_id == household.id


def initial_status(settings, review: bool) -> tuple:
    """(status, notice_until) for a new entry: review first, else the notice period (or
    confirmed at once when the village has no notice period)."""
    if review:
        return "awaiting_review", None
    if settings.notice_days <= 0:
        return "confirmed", None
    return "under_notice", local_today() + timedelta(days=settings.notice_days)


def held_once_only(household_id: int) -> frozenset:
    """Codes of once-only items the household holds (entries not reversed, declined or
    cancelled)."""
    from app.rules.models import RuleItem
    stmt = (select(LedgerEntry.item_code).join(RuleItem, RuleItem.id == LedgerEntry.item_id)
            .where(LedgerEntry.household_id == household_id, LedgerEntry.kind == "score",
                   LedgerEntry.status.notin_(("declined", "cancelled")),
                   RuleItem.once_only.is_(True),
                   unreversed()))
    return frozenset(db.session.execute(stmt).scalars())


def _awards_in(household_id: int, window, **match) -> Decimal:
    """Award points a household holds in ``window`` (deed dates), not counting base scores,
    declined or cancelled entries; ``match`` narrows to an item_code or category_name."""
    stmt = (select(func.coalesce(func.sum(LedgerEntry.points), 0))
            .where(LedgerEntry.household_id == household_id,
                   LedgerEntry.direction == "award", LedgerEntry.kind != "base",
                   LedgerEntry.status.notin_(("declined", "cancelled")),
                   LedgerEntry.deed_date >= window.start, LedgerEntry.deed_date < window.end))
    for column, value in match.items():
        stmt = stmt.where(getattr(LedgerEntry, column) == value)
    return Decimal(db.session.execute(stmt).scalar_one())


def household_state(household, rule, book, deed_date: date) -> HouseholdState:
    """What the engine must know of ``household`` to judge a deed of ``deed_date`` under
    ``rule`` (an ItemRule) and ``book`` (a BookRule): activity, enrolment, once-only items
    held, and the awards already counted against each cap that applies, each in the cap's
    own period containing the deed date."""
    def earned(cap, **match):
        if cap is None:
            return Decimal(0)
        return _awards_in(household.id, period_of(deed_date, cap.period), **match)
    from app.scoring.feature_state import component_totals, score_and_base
    score, has_base = score_and_base(household)
    awarded, deducted = component_totals(household.id, book.component_of(rule.category),
                                         deed_date)
    return HouseholdState(
        active=household.status == "active", enrolled=bool(household.enrolled),
        held_once_only=held_once_only(household.id),
        earned_item=earned(rule.cap, item_code=rule.code),
        earned_category=earned(rule.category_cap, category_name=rule.category),
        earned_household=earned(book.household_cap),
        score=score, has_base=has_base, component_awarded=awarded,
        component_deducted=deducted)


def grant_base(household, *, on: date, by_user=None,
               recorded_at: datetime | None = None) -> LedgerEntry | None:
    """Grant the base score (基础分) of the rulebook in force on local date ``on`` for the
    base period containing it (once, or per month, quarter or year): a confirmed entry of
    kind "base" that counts in the earned score, and in the spendable balance only when the
    rulebook says so. Idempotent per household and period. Returns the entry, or None when
    the rulebook has no base score or the household is not active or not enrolled."""
    version = rules_q.version_in_force(household.village, on)
    book = rules_q.book_rule(version)
    grant = base_grant(book)
    if grant is None or household.status != "active":
        return None
    if book.eligibility == "enrolled" and not household.enrolled:
        return None
    from app.scoring.feature_state import has_left_scheme
    if has_left_scheme(household, book):
        return None
    points, spendable = grant
    per = book.base[1]
    label = "once" if per == "once" else period_of(on, per).label
    key = f"base:{household.id}:{label}"
    first = _by_key(key, household_id=household.id, kind="base")
    if first is not None:
        return first
    chain.lock_chain(household.village_id)
    first = _by_key(key, household_id=household.id, kind="base")
    if first is not None:
        return first
    day = on if per == "once" else period_of(on, per).start
    at = recorded_at or utcnow()
    entry = LedgerEntry(
        household_id=household.id, village_id=household.village_id, kind="base",
        direction="award", rulebook_version_id=version.id, item_code="BASE",
        item_name="基础分", category_name="基础分", unit_points=points, quantity=1,
        points=points, deed_date=day, period=month_period(day).label,
        reason=f"细则规定的基础分（{'可兑换' if spendable else '只计分，不可兑换'}）",
        recorded_by_id=by_user.id if by_user else None, recorded_at=at,
        idempotency_key=key, spendable=spendable)
    return _record(entry, "confirmed", by_user)


def post_entry(*, household, item_id, deed_date: date, recorded_by, quantity: int = 1,
               points=None, note: str | None = None, idempotency_key: str | None = None,
               recorded_at: datetime | None = None, evidence_id: int | None = None,
               review: bool | None = None, **deed) -> LedgerEntry:
    """Judge a deed with the rulebook in force on ``deed_date`` and append it to the ledger.

    ``item_id`` is a RuleItem id; ``points`` (str or Decimal) is the panel's value for range
    items; ``deed_date`` is a local date, not in the future. The entry starts awaiting review
    (see ``needs_review``; ``review`` forces it either way), else under public notice for the
    village's ``notice_days``. ``deed`` passes what the item's kind needs to the engine
    (``problems``, ``units``, ``tier``, ``bonus``, ``reference``, ``member``; see
    ``rules.engine.Deed``). Returns the flushed LedgerEntry; with an ``idempotency_key``
    already used, returns that first entry and records nothing. ``recorded_at`` (UTC)
    defaults to now; only bulk loads of past records set it.
    Raises Refusal (Chinese message template) when the engine or the calendar refuses.
    """
    expect = {"household_id": household.id, "kind": "score"}
    first = _by_key(idempotency_key, **expect)
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
    chain.lock_chain(household.village_id)
    first = _by_key(idempotency_key, **expect)  # a twin may have committed while we waited
    if first is not None:
        return first
    if item.kind == "scorecard":
        _refuse_second_inspection(household, item, deed_date)
    rule, book = rules_q.to_rule(item), rules_q.book_rule(version)
    state = household_state(household, rule, book, deed_date)
    verdict = judge(rule, state, Deed(points=points, quantity=quantity, **deed), book)
    settings = village_settings(household.village_id)
    if review is None:
        review = needs_review(item, household, recorded_by, verdict.points, settings)
    status, notice_until = initial_status(settings, review)
    at = recorded_at or utcnow()
    if notice_until is not None and (recorded_at is not None or book.cadences):
        notice_until = notice_ends(book, to_local(at).date(), settings.notice_days)
    entry = LedgerEntry(
        household_id=household.id, village_id=household.village_id, kind="score",
        direction="deduction" if verdict.points < 0 else "award",
        rulebook_version_id=version.id, item_id=item.id, item_code=item.code,
        item_name=item.name, category_name=item.category.name,
        unit_points=verdict.unit_points, quantity=verdict.quantity, points=verdict.points,
        deed_date=deed_date, period=month_period(deed_date).label, notice_until=notice_until,
        note=(note or "").strip() or None, reason=verdict.reason,
        recorded_by_id=recorded_by.id if recorded_by else None, recorded_at=at,
        idempotency_key=idempotency_key or None, evidence_id=evidence_id,
        member_name=(deed.get("member") or "").strip() or None,
    )
    return _record(entry, status, recorded_by)


def _refuse_second_inspection(household, item, deed_date: date) -> None:
    """An inspection scorecard (RULE-FEATURES row 2) scores a household once a day: two
    tablets on the same group, or an outbox synced after another device posted, would count
    it twice. Read under the village's chain lock, so concurrent postings see each other.
    Raises Refusal("already_inspected") while an entry of the item for that household and
    day stands (not declined, cancelled or reversed)."""
    if standing_on(item.code, [household.id], deed_date):
        raise Refusal("already_inspected",
                      N_("本户 %(date)s 已记过“%(item)s”，每天只记一次；记错了请先冲正原记录"),
                      date=deed_date.isoformat(), item=item.name)


def reverse_entry(entry: LedgerEntry, *, reason: str, recorded_by,
                  idempotency_key: str | None = None,
                  recorded_at: datetime | None = None) -> LedgerEntry:
    """Cancel ``entry`` with a reversal entry of opposite points; ``reason`` is required.

    The reversal keeps the original's deed date, period and item snapshot. A confirmed entry
    is offset by a confirmed reversal; an entry not yet confirmed is moved to ``cancelled``
    and its reversal is recorded as cancelled too, so neither counts. Returns the flushed
    reversal. Raises Refusal when the reason is blank, the entry is itself a reversal, or it
    has already been reversed or declined, and Refusal("spend_not_reversible") for a spend
    entry: a redemption is refunded at the supermarket (``rewards.services.cancel_redemption``
    through ``reverse_spend``), which also puts its goods back in stock.
    """
    if entry.kind == "spend":
        raise Refusal("spend_not_reversible",
                      N_("兑换记录不能在这里冲正，请到积分超市“退还”这次兑换（奖品会退回库存）"))
    return _reverse(entry, reason=reason, recorded_by=recorded_by,
                    idempotency_key=idempotency_key, recorded_at=recorded_at)


def reverse_spend(entry: LedgerEntry, *, reason: str, recorded_by,
                  idempotency_key: str | None = None) -> LedgerEntry:
    """Reverse a spend entry (``reverse_entry``'s rules otherwise): for
    ``rewards.services.cancel_redemption`` only, which restocks the redemption's goods in the
    same transaction. Raises ValueError for an entry that is not a spend."""
    if entry.kind != "spend":
        raise ValueError("reverse_spend reverses spend entries only")
    return _reverse(entry, reason=reason, recorded_by=recorded_by,
                    idempotency_key=idempotency_key, recorded_at=None)


def _reverse(entry: LedgerEntry, *, reason: str, recorded_by, idempotency_key: str | None,
             recorded_at: datetime | None) -> LedgerEntry:
    first = _by_key(idempotency_key, reverses_id=entry.id)
    if first is not None:
        return first
    reason = (reason or "").strip()
    if not reason:
        raise Refusal("reason_required", N_("请填写冲正原因"))
    if entry.kind == "reversal":
        raise Refusal("not_reversible", N_("冲正记录不能再冲正"))
    chain.lock_chain(entry.village_id)
    first = _by_key(idempotency_key, reverses_id=entry.id)
    if first is not None:
        return first
    db.session.refresh(entry)
    already = db.session.execute(
        select(LedgerEntry.id).where(LedgerEntry.reverses_id == entry.id)
    ).scalar_one_or_none()
    if already is not None or entry.status in ("cancelled", "declined"):
        raise Refusal("already_reversed", N_("该记录已经冲正过"))
    at = recorded_at or utcnow()
    status = "confirmed"
    if entry.status != "confirmed":
        move(entry, "cancelled", by_user=recorded_by, reason=reason, at=at)
        status = "cancelled"
    reversal = LedgerEntry(
        household_id=entry.household_id, village_id=entry.village_id, kind="reversal",
        direction=entry.direction, rulebook_version_id=entry.rulebook_version_id,
        item_id=entry.item_id, item_code=entry.item_code, item_name=entry.item_name,
        category_name=entry.category_name, unit_points=entry.unit_points,
        quantity=entry.quantity, points=-Decimal(entry.points), deed_date=entry.deed_date,
        period=entry.period, reason=reason,
        recorded_by_id=recorded_by.id if recorded_by else None, recorded_at=at,
        idempotency_key=idempotency_key or None, reverses_id=entry.id,
        spendable=entry.spendable, member_name=entry.member_name,
    )
    return _record(reversal, status, recorded_by, reason)


def spend(*, household, points, recorded_by, reason: str, idempotency_key: str | None = None,
          item_code: str = "SPEND", item_name: str = "积分兑换",
          category_name: str = "积分超市") -> LedgerEntry:
    """Spend ``points`` (> 0) of a household's spendable balance: one confirmed spend entry.

    The balance is taken by a conditional UPDATE (``spendable_balance >= points``), so
    concurrent spends can never overspend. Returns the flushed entry (the first one for a
    repeated ``idempotency_key``). Raises Refusal("insufficient") when the balance is short,
    Refusal("bad_points") when ``points`` is not a positive amount.
    """
    expect = {"household_id": household.id, "kind": "spend"}
    first = _by_key(idempotency_key, **expect)
    if first is not None:
        return first
    amount = to_points(points)
    if amount <= 0:
        raise Refusal("bad_points", N_("兑换积分必须大于 0"))
    from app.scoring.feature_state import check_redemption_cadence
    check_redemption_cadence(household)
    chain.lock_chain(household.village_id)
    first = _by_key(idempotency_key, **expect)
    if first is not None:
        return first
    taken = db.session.execute(
        update(HouseholdBalance)
        .where(HouseholdBalance.household_id == household.id,
               HouseholdBalance.spendable_balance >= amount)
        .values(spendable_balance=HouseholdBalance.spendable_balance - amount,
                entry_count=HouseholdBalance.entry_count + 1))
    if taken.rowcount != 1:
        raise Refusal("insufficient", N_("可用积分不足，需要 %(points)s 分"),
                      points=format(amount.normalize(), "f"))
    today = local_today()
    entry = LedgerEntry(
        household_id=household.id, village_id=household.village_id, kind="spend",
        direction="spend", item_code=item_code, item_name=item_name,
        category_name=category_name, unit_points=-amount, quantity=1, points=-amount,
        deed_date=today, period=month_period(today).label, reason=reason,
        recorded_by_id=recorded_by.id if recorded_by else None, recorded_at=utcnow(),
        idempotency_key=idempotency_key or None, status="confirmed")
    chain.append(entry)
    _move_log(entry, None, "confirmed", recorded_by, reason, entry.recorded_at)
    summary.count(entry, 1)
    return entry
