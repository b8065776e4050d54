"""Domain writes of the points supermarket. They flush, never commit; the caller commits
once (a view at the end of its request) or rolls back on a Refusal.

Stock changes only through ``_move_stock``: one appended StockMovement and a conditional
UPDATE of ``Reward.stock`` (``stock + delta >= 0``), so stock always equals the sum of the
movements and can never go negative, whatever runs at the same time. A redemption pays with
one ledger spend entry (``scoring.services.spend``: the village's chain lock, a conditional
UPDATE of the spendable balance and an idempotency key) in the same transaction.
"""
from decimal import Decimal, InvalidOperation

from sqlalchemy import select, update

from app.accounts.models import utcnow
from app.extensions import db
from app.rules.engine import N_, Refusal, to_points
from app.rewards.models import (Redemption, RedemptionLine, Reward, RewardSettings,
                                StockMovement)
from app.scoring import services as scoring
from app.scoring.periods import local_today

MAX_LINE_QUANTITY = 99
CENT = Decimal("0.01")


def to_yuan(value) -> Decimal | None:
    """``value`` (str or Decimal, never float) as yuan with two decimals; None when blank.
    Raises Refusal("bad_cost") for anything else or a negative amount."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float):
        raise TypeError("yuan must never be floats")
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation:
        raise Refusal("bad_cost", N_("金额必须是数字")) from None
    if not d.is_finite() or d < 0 or d != d.quantize(CENT) or d >= Decimal("1e10"):
        raise Refusal("bad_cost", N_("金额必须是不小于 0、最多两位小数的数字"))
    return d.quantize(CENT)


def add_reward(*, village, name: str, points_price, unit: str = "", category: str = "",
               is_goods: bool = True, low_stock_at: int = 5, photo_id: int | None = None
               ) -> Reward:
    """Add an item to ``village``'s catalogue (stock 0; goods get stock by ``stock_in``).

    ``points_price`` is str or Decimal points (> 0, two decimals at most). Returns the
    flushed Reward. Raises Refusal("bad_points") for a bad price, Refusal("name_required").
    """
    reward = Reward(village_id=village.id, stock=0)
    _set_fields(reward, name=name, points_price=points_price, unit=unit, category=category,
                is_goods=is_goods, low_stock_at=low_stock_at)
    reward.photo_id = photo_id
    reward.active = True
    db.session.add(reward)
    db.session.flush()
    return reward


def update_reward(reward: Reward, *, name: str, points_price, unit: str = "",
                  category: str = "", low_stock_at: int = 5, active: bool = True,
                  photo_id: int | None = None) -> Reward:
    """Change an item's name, price, unit, category, alert level or active flag (a new
    ``photo_id`` replaces the photo; None keeps it). Past redemptions keep their snapshot.
    Raises Refusal as ``add_reward``."""
    _set_fields(reward, name=name, points_price=points_price, unit=unit, category=category,
                is_goods=reward.is_goods, low_stock_at=low_stock_at)
    reward.active = bool(active)
    if photo_id is not None:
        reward.photo_id = photo_id
    db.session.flush()
    return reward


def _set_fields(reward, *, name, points_price, unit, category, is_goods, low_stock_at):
    name = (name or "").strip()
    if not name:
        raise Refusal("name_required", N_("请填写名称"))
    price = to_points(points_price)
    if price <= 0:
        raise Refusal("bad_points", N_("兑换所需积分必须大于 0"))
    reward.name = name[:64]
    reward.points_price = price
    reward.unit = (unit or "").strip()[:16]
    reward.category = (category or "").strip()[:32]
    reward.is_goods = bool(is_goods)
    reward.low_stock_at = max(0, int(low_stock_at or 0))


def _move_stock(reward_id: int, village_id: int, delta: int, kind: str, *, by_user=None,
                **fields) -> StockMovement:
    """Append a movement of ``delta`` units and apply it to the stock column with a
    conditional UPDATE. Raises Refusal("out_of_stock") when the stock would go negative."""
    done = db.session.execute(
        update(Reward).where(Reward.id == reward_id, Reward.stock + delta >= 0)
        .values(stock=Reward.stock + delta)
        .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        reward = db.session.get(Reward, reward_id)
        db.session.refresh(reward)
        raise Refusal("out_of_stock", N_("“%(name)s”库存不足，现有 %(left)s%(unit)s"),
                      name=reward.name, left=reward.stock, unit=reward.unit)
    movement = StockMovement(reward_id=reward_id, village_id=village_id, kind=kind,
                             quantity=delta, by_user_id=by_user.id if by_user else None,
                             at=utcnow(), **fields)
    db.session.add(movement)
    db.session.flush()
    reward = db.session.get(Reward, reward_id)
    if reward is not None:
        db.session.refresh(reward, ["stock"])
    return movement


def stock_in(reward: Reward, *, quantity: int, supplier: str = "", cost_yuan=None,
             by_user=None) -> StockMovement:
    """Record a stock-in (入库) of ``quantity`` (> 0) units of goods, from ``supplier``, that
    cost ``cost_yuan`` in all (str or Decimal yuan, optional). Returns the flushed movement.
    Raises Refusal("not_goods") for a service, Refusal("bad_quantity"), Refusal("bad_cost")."""
    if not reward.is_goods:
        raise Refusal("not_goods", N_("服务类奖品不需要库存"))
    if not isinstance(quantity, int) or not 0 < quantity <= 100000:
        raise Refusal("bad_quantity", N_("数量必须在 1 到 100000 之间"))
    cost = to_yuan(cost_yuan)
    return _move_stock(reward.id, reward.village_id, quantity, "stock_in", by_user=by_user,
                       supplier=(supplier or "").strip()[:128] or None, cost_yuan=cost)


def adjust_stock(reward: Reward, *, delta: int, reason: str, by_user=None) -> StockMovement:
    """Adjust the stock by ``delta`` (non-zero; negative for damaged goods, either way for a
    stocktake) with a required ``reason``. Returns the flushed movement. Raises
    Refusal("reason_required"), Refusal("bad_quantity"), Refusal("out_of_stock") when the
    stock would go below zero, Refusal("not_goods") for a service."""
    if not reward.is_goods:
        raise Refusal("not_goods", N_("服务类奖品不需要库存"))
    reason = (reason or "").strip()
    if not reason:
        raise Refusal("reason_required", N_("请填写调整原因"))
    if not isinstance(delta, int) or delta == 0 or abs(delta) > 100000:
        raise Refusal("bad_quantity", N_("调整数量不能为 0"))
    return _move_stock(reward.id, reward.village_id, delta, "adjust", by_user=by_user,
                       reason=reason[:500])


def settings_of(village_id: int) -> RewardSettings:
    """The village's supermarket settings (open every day when none were saved; not added)."""
    return db.session.get(RewardSettings, village_id) or RewardSettings(village_id=village_id,
                                                                        open_days="")


def parse_days(text: str) -> list:
    """Days of the month from "10, 25" or "10，25" (sorted ints 1..31). Raises
    Refusal("bad_days")."""
    days = set()
    for part in (text or "").replace("，", ",").replace("、", ",").replace(" ", ",").split(","):
        if not part:
            continue
        if not part.isdigit() or not 1 <= int(part) <= 31:
            raise Refusal("bad_days", N_("开放日必须是 1 到 31 之间的日期，用逗号分开"))
        days.add(int(part))
    return sorted(days)


def set_open_days(village_id: int, text: str) -> RewardSettings:
    """Open the supermarket only on the days of the month in ``text`` ("10" or "10,25";
    blank: every day). Returns the flushed settings. Raises Refusal("bad_days")."""
    days = parse_days(text)
    found = db.session.get(RewardSettings, village_id)
    if found is None:
        found = RewardSettings(village_id=village_id)
        db.session.add(found)
    found.open_days = ",".join(str(d) for d in days)
    db.session.flush()
    return found


def check_window(village_id: int, today=None) -> None:
    """Raise Refusal("closed") when the village's supermarket is not open on ``today`` (a local
    date, default today)."""
    today = today or local_today()
    days = parse_days(settings_of(village_id).open_days)
    if days and today.day not in days:
        raise Refusal("closed", N_("本村积分超市只在每月 %(days)s 日开放兑换，今天（%(today)s）"
                                   "不能兑换"),
                      days="、".join(str(d) for d in days), today=today.isoformat())


def check_eligible(household, today=None) -> None:
    """Apply the rulebook in force on ``today`` to a redemption: raise Refusal
    ("not_enrolled") when only enrolled households take part and this one is not, and
    Refusal("suspended") while its earned score is below a threshold flagged ``suspended``
    (the flag lifts by itself once the score is back)."""
    from app.rules import queries as rules_q
    from app.rules.engine import household_flags
    version = rules_q.version_in_force(household.village, today or local_today())
    if version is None:
        return
    book = rules_q.book_rule(version)
    if book.eligibility == "enrolled" and not household.enrolled:
        raise Refusal("not_enrolled", N_("该户没有参加本村积分制，不能兑换"))
    balance = household.balance
    score = Decimal(balance.earned_score) if balance is not None else Decimal(0)
    if "suspended" in household_flags(book, score):
        below = min(b for b, flag in book.thresholds if flag == "suspended" and score < b)
        raise Refusal("suspended", N_("本户累计积分低于 %(n)s 分，按积分细则暂停兑换，"
                                      "回到 %(n)s 分后恢复"),
                      n=format(below.normalize(), "f"))


def _basket_lines(household, basket: dict) -> list:
    """[(Reward, quantity)] for ``basket`` {reward id: quantity}, refused unless every item is
    an active reward of the household's village and quantities are 1..99."""
    lines = []
    for reward_id, qty in sorted(basket.items()):
        if not qty:
            continue
        if not isinstance(qty, int) or not 0 < qty <= MAX_LINE_QUANTITY:
            raise Refusal("bad_quantity", N_("每样数量必须在 1 到 99 之间"))
        reward = db.session.get(Reward, reward_id)
        if reward is None or reward.village_id != household.village_id or not reward.active:
            raise Refusal("bad_item", N_("所选奖品已下架或不属于本村，请刷新页面"))
        lines.append((reward, qty))
    if not lines:
        raise Refusal("empty_basket", N_("请先选择要兑换的奖品"))
    return lines


def redeem(*, household, basket: dict, by_user, idempotency_key: str | None = None,
           today=None) -> Redemption:
    """Redeem ``basket`` ({Reward id: int quantity}) for ``household`` at the counter.

    Posts ONE confirmed spend entry of the basket's total points (Decimal) to the ledger and
    takes each goods line from stock with a conditional UPDATE, all in the caller's
    transaction. With an ``idempotency_key`` already used, returns that first redemption and
    changes nothing. Returns the flushed Redemption (with its lines).
    Raises Refusal: "closed" (outside the opening days), "not_enrolled" or "suspended"
    (rulebook gates, see ``check_eligible``), "empty_basket", "bad_item",
    "bad_quantity", "insufficient" (spendable balance short), "out_of_stock". On a Refusal
    the caller must roll back (points may already have been taken in this transaction).
    """
    key = (idempotency_key or "").strip() or None
    first = _redemption_by_key(key)
    if first is not None:
        return first
    check_window(household.village_id, today)
    check_eligible(household, today)
    lines = _basket_lines(household, basket)
    total = sum((r.points_price * q for r, q in lines), Decimal(0))
    summary = "、".join(f"{r.name}×{q}" for r, q in lines)
    entry = scoring.spend(household=household, points=total, recorded_by=by_user,
                          reason=summary[:500], idempotency_key=("rd-" + key) if key else None,
                          item_code="REDEEM", item_name=("积分兑换：" + summary)[:128],
                          category_name="积分超市")
    # spend holds the village's chain lock from here on: a twin with the same key that
    # committed while we waited is found now
    first = _redemption_by_key(key)
    if first is not None:
        return first
    redemption = Redemption(village_id=household.village_id, household_id=household.id,
                            entry_id=entry.id, total_points=total, status="done",
                            idempotency_key=key, day=today or local_today(), at=utcnow(),
                            by_user_id=by_user.id if by_user else None)
    db.session.add(redemption)
    db.session.flush()
    for reward, qty in lines:
        db.session.add(RedemptionLine(redemption_id=redemption.id, reward_id=reward.id,
                                      name=reward.name, unit=reward.unit,
                                      unit_points=reward.points_price, quantity=qty,
                                      points=reward.points_price * qty))
        if reward.is_goods:
            _move_stock(reward.id, reward.village_id, -qty, "redeem", by_user=by_user,
                        redemption_id=redemption.id)
    db.session.flush()
    return redemption


def _redemption_by_key(key):
    if not key:
        return None
    if len(key) > 60:
        raise Refusal("bad_key", N_("请求有误，请刷新页面后重试"))
    return db.session.execute(
        select(Redemption).where(Redemption.idempotency_key == key)).scalar_one_or_none()


def cancel_redemption(redemption: Redemption, *, reason: str, by_user,
                      idempotency_key: str | None = None) -> Redemption:
    """Cancel a redemption and refund it: the spend entry is reversed on the ledger
    (``scoring.services.reverse_entry``: the points go back to the spendable balance) and
    each goods line goes back to stock with a ``refund`` movement. ``reason`` is required.
    Returns the flushed Redemption (status ``cancelled``). Raises Refusal("reason_required"),
    Refusal("already_reversed") when it was cancelled already (also by a concurrent cancel).
    """
    reason = (reason or "").strip()
    if not reason:
        raise Refusal("reason_required", N_("请填写退还原因"))
    reversal = scoring.reverse_entry(redemption.entry, reason=reason[:500],
                                     recorded_by=by_user,
                                     idempotency_key=("rc-" + idempotency_key)[:64]
                                     if idempotency_key else None)
    db.session.refresh(redemption)
    if redemption.status == "cancelled":  # a repeat of the same cancel form
        return redemption
    redemption.status = "cancelled"
    redemption.cancel_entry_id = reversal.id
    redemption.cancel_reason = reason[:500]
    redemption.cancelled_at = utcnow()
    redemption.cancelled_by_id = by_user.id if by_user else None
    for line in redemption.lines:
        if line.reward.is_goods:
            _move_stock(line.reward_id, redemption.village_id, line.quantity, "refund",
                        by_user=by_user, redemption_id=redemption.id, reason=reason[:500])
    db.session.flush()
    return redemption
