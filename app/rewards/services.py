"""Domain writes of the points supermarket. They flush, never commit; the caller commits
once (a view at the end of its request) or rolls back on a Refusal.

Stock changes only through ``_move_stock``: one appended StockMovement and a conditional
UPDATE of ``Reward.stock`` (``stock + delta >= 0``), or for an item of a township's shared
catalogue of the village's ``RewardStock`` row, so stock always equals the sum of the
movements (per village for a shared item) and can never go negative, whatever runs at the
same time. A redemption pays with
one ledger spend entry (``scoring.services.spend``: the village's chain lock, a conditional
UPDATE of the spendable balance and an idempotency key) in the same transaction.
"""
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.accounts.models import utcnow
from app.extensions import db
from app.rules.engine import N_, Refusal, to_points
from app.rewards.gates import (check_eligible, check_window, parse_days,  # noqa: F401
                               set_open_days, settings_of)
from app.rewards.models import Redemption, RedemptionLine, Reward, RewardStock, StockMovement
from app.scoring import services as scoring
from app.scoring import summary
from app.scoring.periods import local_today

MAX_LINE_QUANTITY = 99
CENT = Decimal("0.01")


def to_yuan(value) -> Decimal | None:
    """``value`` (str or Decimal, never float) as yuan with two decimals; None when blank.
    Raises Refusal("bad_cost") for anything else, a negative amount or 1e10 yuan and more."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float):
        raise TypeError("yuan must never be floats")
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation:
        raise Refusal("bad_cost", N_("金额必须是数字")) from None
    if d.is_finite() and d >= Decimal("1e10"):   # before quantize, which raises on 1e400
        raise Refusal("bad_cost", N_("金额太大，最多 9999999999.99 元"))
    if not d.is_finite() or d < 0 or d != d.quantize(CENT):
        raise Refusal("bad_cost", N_("金额必须是不小于 0、最多两位小数的数字"))
    return d.quantize(CENT)


def add_reward(*, village, name: str, points_price, unit: str = "", category: str = "",
               is_goods: bool = True, low_stock_at: int = 5, photo_id: int | None = None,
               yuan_value=None, merchant=None) -> Reward:
    """Add an item to ``village``'s catalogue (stock 0; goods get stock by ``stock_in``).

    ``village`` is the owner region: a village, or a township for its shared catalogue; with
    ``merchant`` the item joins that merchant's catalogue (owner: the merchant's region).
    ``points_price`` is str or Decimal points (> 0, two decimals at most); ``yuan_value``
    the value of one unit in yuan (str or Decimal, optional). Returns the flushed Reward.
    Raises Refusal("bad_points") for a bad price, Refusal("name_required"),
    Refusal("bad_cost") for a bad yuan value.
    """
    owner_id = merchant.region_id if merchant is not None else village.id
    reward = Reward(village_id=owner_id, stock=0,
                    merchant_id=merchant.id if merchant is not None else None)
    _set_fields(reward, name=name, points_price=points_price, unit=unit, category=category,
                is_goods=is_goods, low_stock_at=low_stock_at, yuan_value=yuan_value)
    reward.photo_id = photo_id
    reward.active = True
    db.session.add(reward)
    db.session.flush()
    return reward


def update_reward(reward: Reward, *, name: str, points_price, unit: str = "",
                  category: str = "", low_stock_at: int = 5, active: bool = True,
                  photo_id: int | None = None, yuan_value=None) -> Reward:
    """Change an item's name, price, yuan value, unit, category, alert level or active flag
    (a new ``photo_id`` replaces the photo; None keeps it). Past redemptions keep their
    snapshot of points and yuan. Raises Refusal as ``add_reward``."""
    _set_fields(reward, name=name, points_price=points_price, unit=unit, category=category,
                is_goods=reward.is_goods, low_stock_at=low_stock_at, yuan_value=yuan_value)
    reward.active = bool(active)
    if photo_id is not None:
        reward.photo_id = photo_id
    db.session.flush()
    return reward


def _set_fields(reward, *, name, points_price, unit, category, is_goods, low_stock_at,
                yuan_value=None):
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
    reward.yuan_value = to_yuan(yuan_value)


def stock_village(reward: Reward, village_id: int | None) -> int:
    """The region whose stock of ``reward`` moves: ``village_id`` for an item of a township's
    shared catalogue (each village keeps its own), else the item's owner region."""
    if reward.is_shared:
        if village_id is None:
            raise ValueError("a shared item's stock belongs to a village")
        return village_id
    return reward.village_id


def _stock_row(reward_id: int, village_id: int) -> RewardStock:
    """The village's RewardStock row of a shared item, created (stock 0) when missing; a
    concurrent creation is caught by the unique constraint (savepoint) and re-read."""
    stmt = select(RewardStock).where(RewardStock.reward_id == reward_id,
                                     RewardStock.village_id == village_id)
    row = db.session.execute(stmt).scalar_one_or_none()
    if row is None:
        try:
            with db.session.begin_nested():
                row = RewardStock(reward_id=reward_id, village_id=village_id, stock=0,
                                  hidden=False)
                db.session.add(row)
        except IntegrityError:
            row = db.session.execute(stmt).scalar_one()
    return row


def _move_stock(reward_id: int, village_id: int, delta: int, kind: str, *, by_user=None,
                **fields) -> StockMovement:
    """Append a movement of ``delta`` units and apply it to the stock with a conditional
    UPDATE: ``Reward.stock``, or for an item of a township's shared catalogue the village's
    ``RewardStock`` row (``village_id``; see ``stock_village``). Raises
    Refusal("out_of_stock") when the stock would go negative."""
    reward = db.session.get(Reward, reward_id)
    if reward.is_shared:
        if delta > 0:
            _stock_row(reward_id, village_id)
        done = db.session.execute(
            update(RewardStock).where(RewardStock.reward_id == reward_id,
                                      RewardStock.village_id == village_id,
                                      RewardStock.stock + delta >= 0)
            .values(stock=RewardStock.stock + delta)
            .execution_options(synchronize_session=False))
    else:
        done = db.session.execute(
            update(Reward).where(Reward.id == reward_id, Reward.stock + delta >= 0)
            .values(stock=Reward.stock + delta)
            .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        db.session.refresh(reward)
        left = village_stock(reward, village_id)
        raise Refusal("out_of_stock", N_("“%(name)s”库存不足，现有 %(left)s%(unit)s"),
                      name=reward.name, left=left, unit=reward.unit)
    movement = StockMovement(reward_id=reward_id, village_id=village_id, kind=kind,
                             quantity=delta, by_user_id=by_user.id if by_user else None,
                             at=utcnow(), **fields)
    db.session.add(movement)
    db.session.flush()
    db.session.refresh(reward, ["stock"])
    return movement


def village_stock(reward: Reward, village_id: int | None = None) -> int:
    """The stock of ``reward`` as it is now in the database: the village's row for a shared
    item (0 without one), else ``Reward.stock``."""
    if not reward.is_shared:
        return reward.stock
    return int(db.session.scalar(
        select(RewardStock.stock).where(RewardStock.reward_id == reward.id,
                                        RewardStock.village_id == village_id)) or 0)


def set_hidden(reward: Reward, village_id: int, hidden: bool) -> RewardStock:
    """Hide (or show again) an item of the township's shared catalogue in one village's
    supermarket. Returns the flushed row. Raises Refusal("not_shared") for other items."""
    if not reward.is_shared:
        raise Refusal("not_shared", N_("只有乡镇共享的奖品可以在本村隐藏"))
    row = _stock_row(reward.id, village_id)
    row.hidden = bool(hidden)
    db.session.flush()
    return row


def stock_in(reward: Reward, *, quantity: int, supplier: str = "", cost_yuan=None,
             by_user=None, village_id: int | None = None) -> StockMovement:
    """Record a stock-in (入库) of ``quantity`` (> 0) units of goods, from ``supplier``, that
    cost ``cost_yuan`` in all (str or Decimal yuan, optional). ``village_id``: the village
    whose stock of a shared item this is (required for those, ignored otherwise). Returns
    the flushed movement. Raises Refusal("not_goods") for a service, Refusal("bad_quantity"),
    Refusal("bad_cost")."""
    if not reward.is_goods:
        raise Refusal("not_goods", N_("服务类奖品不需要库存"))
    if not isinstance(quantity, int) or not 0 < quantity <= 100000:
        raise Refusal("bad_quantity", N_("数量必须在 1 到 100000 之间"))
    cost = to_yuan(cost_yuan)
    return _move_stock(reward.id, stock_village(reward, village_id), quantity, "stock_in",
                       by_user=by_user,
                       supplier=(supplier or "").strip()[:128] or None, cost_yuan=cost)


def adjust_stock(reward: Reward, *, delta: int, reason: str, by_user=None,
                 village_id: int | None = None) -> StockMovement:
    """Adjust the stock by ``delta`` (non-zero; negative for damaged goods, either way for a
    stocktake) with a required ``reason`` (``village_id`` as in ``stock_in``). Returns the
    flushed movement. Raises
    Refusal("reason_required"), Refusal("bad_quantity"), Refusal("out_of_stock") when the
    stock would go below zero, Refusal("not_goods") for a service."""
    if not reward.is_goods:
        raise Refusal("not_goods", N_("服务类奖品不需要库存"))
    reason = (reason or "").strip()
    if not reason:
        raise Refusal("reason_required", N_("请填写调整原因"))
    if not isinstance(delta, int) or delta == 0 or abs(delta) > 100000:
        raise Refusal("bad_quantity", N_("调整数量不能为 0"))
    return _move_stock(reward.id, stock_village(reward, village_id), delta, "adjust",
                       by_user=by_user,
                       reason=reason[:500])


def offered(reward: Reward, household, merchant=None) -> bool:
    """True when ``reward`` may be redeemed by ``household`` at this counter: active, and
    at a merchant's counter an item of that merchant's catalogue; at the village's counter
    an item of the village's own catalogue, or of its township's shared catalogue that the
    village has not hidden."""
    if reward is None or not reward.active:
        return False
    if merchant is not None:
        return reward.merchant_id == merchant.id
    if reward.merchant_id is not None:
        return False
    if reward.village_id == household.village_id:
        return True
    if reward.is_shared and reward.village_id == household.village.parent_id:
        hidden = db.session.scalar(select(RewardStock.hidden).where(
            RewardStock.reward_id == reward.id, RewardStock.village_id == household.village_id))
        return not hidden
    return False


def unit_yuan(reward: Reward, village_id: int) -> Decimal | None:
    """The yuan value of one unit of ``reward`` now: its ``yuan_value``, else its points
    price at the points-to-yuan rate of the village's rulebook (0.01, half-up), else None."""
    if reward.yuan_value is not None:
        return Decimal(reward.yuan_value)
    from app.rewards.queries import points_per_yuan
    rate = points_per_yuan(village_id)
    if not rate:
        return None
    return (Decimal(reward.points_price) / Decimal(rate)).quantize(CENT, ROUND_HALF_UP)


def _basket_lines(household, basket: dict, merchant=None) -> list:
    """[(Reward, quantity)] for ``basket`` {reward id: quantity}, refused unless every item is
    ``offered`` at this counter and quantities are 1..99 (Refusal("bad_quantity") names the
    item, and gives its ``reward_id`` for the form to mark its box)."""
    lines = []
    for reward_id, qty in sorted(basket.items()):
        if not qty:
            continue
        reward = db.session.get(Reward, reward_id)
        if not offered(reward, household, merchant):
            raise Refusal("bad_item", N_("所选奖品已下架或不属于本村，请刷新页面"))
        if not isinstance(qty, int) or not 0 < qty <= MAX_LINE_QUANTITY:
            raise Refusal("bad_quantity", N_("“%(item)s”的数量须是 1 到 99 之间的整数"),
                          item=reward.name, reward_id=reward.id)
        lines.append((reward, qty))
    if not lines:
        raise Refusal("empty_basket", N_("请先选择要兑换的奖品"))
    return lines


def redeem(*, household, basket: dict, by_user, idempotency_key: str | None = None,
           today=None, merchant=None, cash_yuan=None) -> Redemption:
    """Redeem ``basket`` ({Reward id: int quantity}) for ``household`` at the counter: the
    village's own, or with ``merchant`` a partner merchant's (its catalogue only; the
    village's opening days do not apply there, the rulebook gates do). Each line keeps a
    snapshot of the price in points and of the value in yuan (``unit_yuan``).

    Posts ONE confirmed spend entry of the basket's total points (Decimal) to the ledger and
    takes each goods line from stock with a conditional UPDATE, all in the caller's
    transaction. With an ``idempotency_key`` already used, returns that first redemption and
    changes nothing. Returns the flushed Redemption (with its lines).
    Raises Refusal: "closed" (outside the opening days), "not_enrolled" or "suspended"
    (rulebook gates, see ``check_eligible``), "empty_basket", "bad_item",
    "bad_quantity", "insufficient" (spendable balance short), "out_of_stock". On a Refusal
    the caller must roll back (points may already have been taken in this transaction).

    Cash top-up (row 25, ``app.rewards.cash.split``; the village's counter only): when the
    rulebook allows it, a basket above the spendable balance spends the whole balance and
    the rest is paid in cash, provided ``cash_yuan`` (the yuan the cadre confirmed) is the
    amount due; ``total_points`` is then the points spent, ``cash_points``/``cash_yuan`` the
    rest. Further Refusals: "cash_needed", "cash_no_rate", "cash_no_points".
    """
    key = (idempotency_key or "").strip() or None
    first = _redemption_by_key(key)
    if first is not None:
        return first
    if merchant is None:
        check_window(household.village_id, today)
    elif not merchant.active or not merchant.region.contains(household.village):
        raise Refusal("bad_item", N_("该商户不为本村代兑积分"))
    check_eligible(household, today)
    lines = _basket_lines(household, basket, merchant)
    total = sum((r.points_price * q for r, q in lines), Decimal(0))
    from app.rewards.cash import Split, split
    pay = split(household, total, cash_yuan, today) if merchant is None else Split(total)
    basket_text = "、".join(f"{r.name}×{q}" for r, q in lines)
    entry = scoring.spend(household=household, points=pay.points, recorded_by=by_user,
                          reason=basket_text[:500], idempotency_key=("rd-" + key) if key else None,
                          item_code="REDEEM", item_name=("积分兑换：" + basket_text)[:128],
                          category_name="积分超市")
    # spend holds the village's chain lock from here on: a twin with the same key that
    # committed while we waited is found now
    first = _redemption_by_key(key)
    if first is not None:
        return first
    redemption = Redemption(village_id=household.village_id, household_id=household.id,
                            entry_id=entry.id, total_points=pay.points, status="done",
                            cash_points=pay.cash_points, cash_yuan=pay.cash_yuan,
                            idempotency_key=key, day=today or local_today(), at=utcnow(),
                            by_user_id=by_user.id if by_user else None,
                            merchant_id=merchant.id if merchant is not None else None)
    db.session.add(redemption)
    db.session.flush()
    value = Decimal(0)
    for reward, qty in lines:
        yuan = unit_yuan(reward, household.village_id)
        value += yuan * qty if yuan is not None else 0
        db.session.add(RedemptionLine(redemption_id=redemption.id, reward_id=reward.id,
                                      name=reward.name, unit=reward.unit,
                                      unit_points=reward.points_price, quantity=qty,
                                      points=reward.points_price * qty, unit_yuan=yuan,
                                      yuan=yuan * qty if yuan is not None else None))
        if reward.is_goods:
            _move_stock(reward.id, stock_village(reward, household.village_id), -qty,
                        "redeem", by_user=by_user, redemption_id=redemption.id)
    db.session.flush()
    summary.add_yuan(entry, value - (pay.cash_yuan or 0))  # the roll-ups' yuan (issue 10)
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
    reversal = scoring.reverse_spend(redemption.entry, reason=reason[:500],
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
            _move_stock(line.reward_id, stock_village(line.reward, redemption.village_id),
                        line.quantity, "refund",
                        by_user=by_user, redemption_id=redemption.id, reason=reason[:500])
    db.session.flush()
    return redemption
