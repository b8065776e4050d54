"""Cash top-up at the village counter (RULE-FEATURES row 25, "cash top-up allowed or not").

With ``redemption: {cash_top_up: true}`` in the rulebook in force (stored as
``RulebookVersion.params["cash_top_up"]``), a basket worth more points than the household's
spendable balance may be completed in cash: the household spends its whole spendable balance
(one spend entry, never a negative balance) and the shortfall in points is paid in yuan at the
rulebook's ``redemption.points_per_yuan`` rate (0.01 yuan, half-up). The cadre confirms the
amount explicitly; without the key (the default) such a basket is refused as before.
"""
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from app.extensions import db
from app.rules.engine import N_, Refusal
from app.scoring.periods import local_today

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Split:
    """How a basket is paid: ``points`` from the ledger (Decimal, > 0), ``cash_points`` the
    points covered by cash (Decimal or None) and ``cash_yuan`` their price (Decimal or None)."""

    points: Decimal
    cash_points: Decimal | None = None
    cash_yuan: Decimal | None = None


def allowed(household, today=None) -> bool:
    """True when the rulebook in force for the household's village on ``today`` (local date,
    default today) has ``redemption.cash_top_up: true``."""
    from app.rules import queries as rules_q
    version = rules_q.version_in_force(household.village, today or local_today())
    return bool(version is not None and (version.params or {}).get("cash_top_up") is True)


def to_yuan(points: Decimal, rate) -> Decimal:
    """``points`` (Decimal) in yuan at ``rate`` points per yuan, rounded half-up to 0.01."""
    return (Decimal(points) / Decimal(rate)).quantize(CENT, ROUND_HALF_UP)


def split(household, total: Decimal, confirmed_yuan=None, today=None) -> Split:
    """The payment of a basket worth ``total`` points (Decimal) at the village counter.

    Within the spendable balance, or when the rulebook allows no top-up: all in points (the
    spend itself refuses "insufficient" when short). Otherwise the balance is read under the
    village's chain lock (``scoring.chain.lock_chain``, the lock ``spend`` takes) and the
    shortfall is paid in cash, provided ``confirmed_yuan`` (the yuan the cadre confirmed,
    str or Decimal) equals the amount due. Raises Refusal "cash_no_rate" (the rulebook has no
    points-to-yuan rate), "cash_no_points" (nothing to spend), "cash_needed" (not confirmed,
    or confirmed a different amount; params ``points``, ``yuan``: the amount due).
    """
    from app.rewards.queries import points_per_yuan
    from app.scoring.chain import lock_chain
    from app.scoring.models import HouseholdBalance
    balance = household.balance
    if balance is None or total <= Decimal(balance.spendable_balance) \
            or not allowed(household, today):
        return Split(points=total)
    rate = points_per_yuan(household.village_id)
    if not rate:
        raise Refusal("cash_no_rate", N_("积分细则没有规定积分与现金的折算比例，"
                                         "不能用现金补差"))
    lock_chain(household.village_id)
    spendable = Decimal(db.session.scalar(
        select(HouseholdBalance.spendable_balance)
        .where(HouseholdBalance.household_id == household.id)) or 0)
    if total <= spendable:
        return Split(points=total)
    if spendable <= 0:
        raise Refusal("cash_no_points", N_("本户没有可用积分，不能用现金补差兑换"))
    short = total - spendable
    due = to_yuan(short, rate)
    try:
        ok = confirmed_yuan not in (None, "") and Decimal(str(confirmed_yuan)) == due
    except ArithmeticError:
        ok = False
    if not ok:
        raise Refusal("cash_needed", N_("可用积分不足，还差 %(points)s 分，需收取现金补差 "
                                        "%(yuan)s 元；请勾选“收取现金补差”后再确认兑换"),
                      points=format(short.normalize(), "f"), yuan=format(due, "f"))
    return Split(points=spendable, cash_points=short, cash_yuan=due)
