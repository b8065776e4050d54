"""Reads of the points supermarket, always for one village already checked against the user's
scope (views load the village or object through ``regions.queries``)."""
from collections import defaultdict
from datetime import date, datetime, time
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.households.models import Household
from app.regions.models import Region
from app.rewards.models import Redemption, RedemptionLine, Reward, StockMovement
from app.scoring.periods import local_zone


def catalogue(village_id: int, active_only: bool = False) -> list:
    """The village's rewards (a list of Reward), active first, by category then name."""
    stmt = select(Reward).where(Reward.village_id == village_id)
    if active_only:
        stmt = stmt.where(Reward.active.is_(True))
    return db.session.execute(
        stmt.order_by(Reward.active.desc(), Reward.category, Reward.name, Reward.id)
    ).scalars().all()


def low_stock(village_id: int) -> list:
    """Active goods of the village at or below their alert level (a list of Reward)."""
    return db.session.execute(
        select(Reward).where(Reward.village_id == village_id, Reward.active.is_(True),
                             Reward.is_goods.is_(True), Reward.stock <= Reward.low_stock_at)
        .order_by(Reward.stock, Reward.name)).scalars().all()


def movement_sum(reward_id: int) -> int:
    """The sum of a reward's stock movements (equals ``Reward.stock``)."""
    return int(db.session.scalar(select(func.coalesce(func.sum(StockMovement.quantity), 0))
                                 .where(StockMovement.reward_id == reward_id)))


def movements(reward_id: int, limit: int = 100) -> list:
    """A reward's latest stock movements, newest first (a list of StockMovement)."""
    return db.session.execute(
        select(StockMovement).where(StockMovement.reward_id == reward_id)
        .order_by(StockMovement.id.desc()).limit(limit)).scalars().all()


def household_redemptions(household_id: int, limit: int = 10) -> list:
    """A household's latest redemptions with their lines, newest first."""
    return db.session.execute(
        select(Redemption).options(selectinload(Redemption.lines))
        .where(Redemption.household_id == household_id)
        .order_by(Redemption.id.desc()).limit(limit)).scalars().all()


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
    "by_group": [(villager group name, count, points)], "count": int, "points": Decimal,
    "yuan": Decimal or None (points / ``points_per_yuan`` of the rulebook, when set),
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
        .group_by(Region.id, Region.name).order_by(Region.name)).all()
    total = sum((Decimal(p) for _, p in rows), Decimal(0))
    rate = Decimal(points_per_yuan) if points_per_yuan else None
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
        "yuan": (total / rate).quantize(Decimal("0.01")) if rate else None,
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
