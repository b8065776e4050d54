"""Reads of the points supermarket, always for one village already checked against the user's
scope (views load the village or object through ``regions.queries``)."""
from collections import defaultdict
from datetime import date, datetime, time
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.households.models import Household
from app.regions.models import Region
from app.rewards.models import Redemption, RedemptionLine, Reward, RewardStock, StockMovement
from app.scoring.periods import local_zone


class VillageItem:
    """A reward as one village sees it: every attribute of the Reward, with the village's
    ``stock`` and ``hidden`` flag (its RewardStock row for an item of the township's shared
    catalogue) and ``shared``. Read-only: never assign to it."""

    def __init__(self, reward: Reward, stock: int | None = None, hidden: bool = False):
        self._reward = reward
        self.shared = stock is not None or reward.is_shared
        self.stock = int(stock or 0) if self.shared else reward.stock
        self.hidden = bool(hidden)

    def __getattr__(self, name):
        return getattr(self._reward, name)

    def __eq__(self, other):
        """Equal to its Reward (and to another view of the same Reward)."""
        other = other._reward if isinstance(other, VillageItem) else other
        return self._reward is other

    def __hash__(self):
        return hash(self._reward)

    @property
    def is_low(self) -> bool:
        """True for goods whose stock (in this village) is at or below the alert level."""
        return self.is_goods and self.stock <= self.low_stock_at


def catalogue(village_id: int, active_only: bool = False) -> list:
    """What the village's supermarket offers (a list of VillageItem), active first, by
    category then name: the village's own items and its township's shared catalogue (with
    the village's stock and hidden flag); never a merchant's items or another township's.
    ``active_only`` (the counter) leaves out inactive items and those the village hides."""
    village = db.session.get(Region, village_id)
    stmt = select(Reward, RewardStock.stock, RewardStock.hidden).outerjoin(
        RewardStock, (RewardStock.reward_id == Reward.id) & (RewardStock.village_id == village_id))
    owners = [village_id] + ([village.parent_id] if village and village.parent_id else [])
    stmt = stmt.where(Reward.village_id.in_(owners), Reward.merchant_id.is_(None))
    if active_only:
        stmt = stmt.where(Reward.active.is_(True),
                          func.coalesce(RewardStock.hidden, False).is_(False))
    rows = db.session.execute(
        stmt.order_by(Reward.active.desc(), Reward.category, Reward.name, Reward.id)).all()
    return [VillageItem(r, (stock or 0) if r.village_id != village_id else None, hidden)
            for r, stock, hidden in rows]


def shared_catalogue(township_id: int) -> list:
    """A township's shared catalogue (a list of Reward), active first, by category, name."""
    return db.session.execute(
        select(Reward).where(Reward.village_id == township_id, Reward.merchant_id.is_(None))
        .order_by(Reward.active.desc(), Reward.category, Reward.name, Reward.id)
    ).scalars().all()


def low_stock(village_id: int) -> list:
    """Active, shown goods of the village's supermarket at or below their alert level (a
    list of VillageItem, lowest stock first)."""
    low = [i for i in catalogue(village_id, active_only=True) if i.is_low]
    return sorted(low, key=lambda i: (i.stock, i.name))


def movement_sum(reward_id: int, village_id: int | None = None) -> int:
    """The sum of a reward's stock movements (equals ``Reward.stock``), or of one village's
    movements (equals its RewardStock row for a shared item)."""
    stmt = select(func.coalesce(func.sum(StockMovement.quantity), 0)).where(
        StockMovement.reward_id == reward_id)
    if village_id is not None:
        stmt = stmt.where(StockMovement.village_id == village_id)
    return int(db.session.scalar(stmt))


def movements(reward_id: int, limit: int = 100, village_id: int | None = None) -> list:
    """A reward's latest stock movements (one village's when ``village_id``), newest
    first (a list of StockMovement)."""
    stmt = select(StockMovement).where(StockMovement.reward_id == reward_id)
    if village_id is not None:
        stmt = stmt.where(StockMovement.village_id == village_id)
    return db.session.execute(stmt.order_by(StockMovement.id.desc()).limit(limit)
                              ).scalars().all()


def household_redemptions(household_id: int, limit: int = 10) -> list:
    """A household's latest redemptions with their lines (joined: one statement), newest
    first."""
    return db.session.execute(
        select(Redemption).options(joinedload(Redemption.lines))
        .where(Redemption.household_id == household_id)
        .order_by(Redemption.id.desc()).limit(limit)).unique().scalars().all()


def village_redemptions(village_id: int, limit: int = 30) -> list:
    """The village's latest redemptions with their lines and households, newest first."""
    return db.session.execute(
        select(Redemption).options(selectinload(Redemption.lines),
                                   selectinload(Redemption.household))
        .where(Redemption.village_id == village_id)
        .order_by(Redemption.id.desc()).limit(limit)).scalars().all()


def report(village_id: int, start: date, end: date, points_per_yuan=None) -> dict:
    """Redemptions of the village with ``start`` <= day < ``end`` (cancelled ones excluded).

    Returns {"by_day": [(date, count, points)], "by_month": [(\"YYYY-MM\", count, points)],
    "top": [(name, unit, quantity, points)] by quantity,
    "by_group": [(villager group name, count, points)] in the order of the village's groups
    (sort_order, code), "count": int, "points": Decimal,
    "goods_yuan": Decimal (the yuan value of the goods redeemed, as recorded on the
    redemption lines at the time), "cash_yuan": Decimal (of that, the cash top-up the
    households paid, ``Redemption.cash_yuan``), "yuan": Decimal (the value redeemed with
    points: ``goods_yuan`` - ``cash_yuan``), "yuan_missing": int (lines recorded without a
    yuan value: neither the item nor the rulebook had one then), "rate_yuan": Decimal or
    None (points / ``points_per_yuan`` of the rulebook now, for comparison),
    "stock_in_yuan": Decimal (cost of the stock-ins in the interval)}.
    """
    rows = db.session.execute(
        select(Redemption.day, Redemption.total_points)
        .where(Redemption.village_id == village_id, Redemption.status == "done",
               Redemption.day >= start, Redemption.day < end)).all()
    by_day, by_month = defaultdict(lambda: [0, Decimal(0)]), defaultdict(lambda: [0, Decimal(0)])
    for day, pts in rows:
        for bucket, k in ((by_day, day), (by_month, day.strftime("%Y-%m"))):
            bucket[k][0] += 1
            bucket[k][1] += Decimal(pts)
    top = db.session.execute(
        select(RedemptionLine.name, RedemptionLine.unit, func.sum(RedemptionLine.quantity),
               func.sum(RedemptionLine.points))
        .join(Redemption, Redemption.id == RedemptionLine.redemption_id)
        .where(Redemption.village_id == village_id, Redemption.status == "done",
               Redemption.day >= start, Redemption.day < end)
        .group_by(RedemptionLine.name, RedemptionLine.unit)
        .order_by(func.sum(RedemptionLine.quantity).desc(), RedemptionLine.name)
        .limit(10)).all()
    groups = db.session.execute(
        select(Region.name, func.count(Redemption.id), func.sum(Redemption.total_points))
        .join(Household, Household.id == Redemption.household_id)
        .join(Region, Region.id == Household.group_id)
        .where(Redemption.village_id == village_id, Redemption.status == "done",
               Redemption.day >= start, Redemption.day < end)
        .group_by(Region.id, Region.name, Region.sort_order, Region.code)
        .order_by(Region.sort_order, Region.code)).all()   # as regions.queries.children
    total = sum((Decimal(p) for _, p in rows), Decimal(0))
    rate = Decimal(points_per_yuan) if points_per_yuan else None
    yuan, missing = db.session.execute(
        select(func.coalesce(func.sum(RedemptionLine.yuan), 0),
               func.count(RedemptionLine.id).filter(RedemptionLine.yuan.is_(None)))
        .join(Redemption, Redemption.id == RedemptionLine.redemption_id)
        .where(Redemption.village_id == village_id, Redemption.status == "done",
               Redemption.day >= start, Redemption.day < end)).one()
    cash = db.session.scalar(
        select(func.coalesce(func.sum(Redemption.cash_yuan), 0))
        .where(Redemption.village_id == village_id, Redemption.status == "done",
               Redemption.day >= start, Redemption.day < end))
    goods = Decimal(yuan or 0).quantize(Decimal("0.01"))
    cash = Decimal(cash or 0).quantize(Decimal("0.01"))
    cost = db.session.scalar(
        select(func.coalesce(func.sum(StockMovement.cost_yuan), 0))
        .join(Reward, Reward.id == StockMovement.reward_id)
        .where(Reward.village_id == village_id, StockMovement.kind == "stock_in",
               StockMovement.at >= _local_midnight(start),
               StockMovement.at < _local_midnight(end)))
    return {
        "by_day": [(k, c, p) for k, (c, p) in sorted(by_day.items())],
        "by_month": [(k, c, p) for k, (c, p) in sorted(by_month.items())],
        "top": [(n, u, int(q), Decimal(p)) for n, u, q, p in top],
        "by_group": [(n, int(c), Decimal(p)) for n, c, p in groups],
        "count": len(rows), "points": total,
        "goods_yuan": goods, "cash_yuan": cash, "yuan": goods - cash,
        "yuan_missing": int(missing),
        "rate_yuan": (total / rate).quantize(Decimal("0.01")) if rate else None,
        "stock_in_yuan": Decimal(cost or 0).quantize(Decimal("0.01")),
    }


def _local_midnight(d: date) -> datetime:
    """Local midnight (Asia/Shanghai) of ``d`` as an aware datetime."""
    return datetime.combine(d, time(0), tzinfo=local_zone())


def points_per_yuan(village_id: int):
    """The points-to-yuan rate of the village's rulebook (Decimal points per yuan), or None."""
    from app.rules.models import Rulebook
    return db.session.scalar(select(Rulebook.points_per_yuan)
                             .where(Rulebook.region_id == village_id,
                                    Rulebook.points_per_yuan.isnot(None)).limit(1))
