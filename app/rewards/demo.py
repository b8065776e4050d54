"""The demo village's points supermarket: a small catalogue (goods valued in yuan at their
purchase cost per unit), stock-ins and a few redemptions made through the services (so stock
and balances stay equal to their movements)."""
import random
from decimal import Decimal

from app.extensions import db
from app.rewards import services
from app.rules.engine import Refusal

CATALOGUE = [  # name, category, unit, points price, goods?, stock-in (quantity, cost in yuan)
    ("大米（5 斤）", "粮油", "袋", "20", True, (30, "450.00")),
    ("食用油（1.8 升）", "粮油", "瓶", "15", True, (20, "360.00")),
    ("洗衣粉", "日用品", "袋", "5", True, (40, "200.00")),
    ("香皂", "日用品", "块", "2", True, (4, "12.00")),
    ("毛巾", "日用品", "条", "3", True, (25, "75.00")),
    ("理发一次", "服务", "次", "3", False, None),
]


def load_shop(village, households, users, seed: int = 2026) -> list:
    """Stock the demo village's supermarket and redeem a few baskets for households with
    enough spendable points (flushes; the caller commits). Returns the redemptions."""
    rng = random.Random(seed)
    admin = users.get("villageadmin")
    rewards = []
    for name, category, unit, price, goods, stock in CATALOGUE:
        value = (Decimal(stock[1]) / stock[0]).quantize(Decimal("0.01")) if stock else None
        reward = services.add_reward(village=village, name=name, points_price=price,
                                     unit=unit, category=category, is_goods=goods,
                                     low_stock_at=5, yuan_value=value)
        if stock:
            services.stock_in(reward, quantity=stock[0], supplier="莲塘镇供销社",
                              cost_yuan=stock[1], by_user=admin)
        rewards.append(reward)
    done = []
    for household in rng.sample(households, min(25, len(households))):
        balance = household.balance.spendable_balance if household.balance else 0
        cheap = [r for r in rewards if r.points_price <= Decimal(balance)]
        if not cheap:
            continue
        basket = {r.id: 1 for r in rng.sample(cheap, min(len(cheap), rng.randint(1, 2)))}
        savepoint = db.session.begin_nested()   # a refused basket leaves nothing behind
        try:
            done.append(services.redeem(household=household, basket=basket,
                                        by_user=users.get("scorer")))
            savepoint.commit()
        except Refusal:
            savepoint.rollback()
    return done
