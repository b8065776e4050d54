"""Ledger reads and checks behind RULE-FEATURES rows 4, 14 and 18 (the engine stays pure:
these gather what ``rules.engine.judge`` and the posting services need).
"""
from datetime import date
from decimal import Decimal

from sqlalchemy import case, exists, func, select

from app.extensions import db
from app.rules.engine import N_, BookRule, Component, Refusal
from app.scoring.models import HouseholdBalance, LedgerEntry
from app.scoring.periods import local_today, period_of

_NOT_COUNTED = ("declined", "cancelled")


def score_and_base(household) -> tuple:
    """(confirmed earned score as Decimal, whether a base score was ever granted) of
    ``household`` (row 14: exhaustion and zeroing)."""
    score, has_base = db.session.execute(select(   # one statement (issue 10)
        select(HouseholdBalance.earned_score)
        .where(HouseholdBalance.household_id == household.id).scalar_subquery(),
        exists().where(LedgerEntry.household_id == household.id, LedgerEntry.kind == "base",
                       LedgerEntry.status == "confirmed"))).one()
    return Decimal(score or 0), bool(has_base)


def has_left_scheme(household, book: BookRule) -> bool:
    """True when ``book`` says a household whose base is used up leaves the scheme
    (``exhaustion: leave``) and ``household`` has used its base up (row 14)."""
    if book.exhaustion != "leave":
        return False
    score, has_base = score_and_base(household)
    return has_base and score <= 0


def component_totals(household_id: int, component: Component | None, deed_date: date):
    """(awards, deductions <= 0) of ``household_id`` in ``component``'s category during the
    component's period containing ``deed_date``: entries not declined or cancelled, reversals
    included (row 4). (0, 0) without a component."""
    zero = Decimal(0)
    if component is None:
        return zero, zero
    window = period_of(deed_date, component.period)
    pts = LedgerEntry.points
    row = db.session.execute(
        select(func.coalesce(func.sum(case((LedgerEntry.direction == "award", pts), else_=0)), 0),
               func.coalesce(func.sum(case((LedgerEntry.direction == "deduction", pts),
                                           else_=0)), 0))
        .where(LedgerEntry.household_id == household_id,
               LedgerEntry.category_name == component.category,
               LedgerEntry.kind.in_(("score", "reversal")),
               LedgerEntry.status.notin_(_NOT_COUNTED),
               LedgerEntry.deed_date >= window.start, LedgerEntry.deed_date < window.end)
    ).one()
    return Decimal(row[0]), Decimal(row[1])


def check_redemption_cadence(household, on: date | None = None) -> None:
    """Refuse a redemption outside the rulebook's redemption window (row 18): with
    ``cadences: {redemption: quarter, redemption_open_days: 10}`` points are redeemed only
    in the first 10 days of each quarter. Raises Refusal("redemption_closed")."""
    from app.rules import queries as rules_q
    from app.rules.periodic import cadence_period, redemption_open
    on = on or local_today()
    version = rules_q.version_in_force(household.village, on)
    if version is None:
        return
    book = rules_q.book_rule(version)
    if not redemption_open(book, on):
        start, _end, _label = cadence_period(book, "redemption", on)
        raise Refusal("redemption_closed",
                      N_("按积分细则，每期只在开始后 %(days)s 天内兑换（本期从 %(start)s 起），"
                         "今天不能兑换"),
                      days=book.redemption_open_days, start=start.isoformat())


def per_capita(household, on: date | None = None, period=None) -> dict:
    """A household's per-capita roll-up (row 12) under the rulebook in force on ``on``:
    {"score": Decimal (earned score, or the confirmed points of ``period``), "headcount":
    int (the head and the members on the roster), "average": Decimal (score per member,
    0.01 half up), "level": the rulebook's ``per_capita`` band or None}."""
    from app.rules import queries as rules_q
    from app.rules.periodic import per_capita_level
    from app.scoring.queries import period_points
    version = rules_q.version_in_force(household.village, on or local_today())
    book = rules_q.book_rule(version)
    if period is None:
        score, _has_base = score_and_base(household)
    else:
        score = period_points(household.id, period)
    headcount = 1 + len(household.members)
    average, level = per_capita_level(book, score, headcount)
    return {"score": score, "headcount": headcount, "average": average, "level": level}


def cadence_of(village, what: str, on: date | None = None):
    """The Period of cadence ``what`` (scoring, notice, redemption, honours) containing local
    date ``on`` under the rulebook in force then (row 18); a month without a rule."""
    from app.rules import queries as rules_q
    from app.rules.periodic import cadence_period
    from app.scoring.periods import Period
    on = on or local_today()
    book = rules_q.book_rule(rules_q.version_in_force(village, on))
    return Period(*cadence_period(book, what, on))
