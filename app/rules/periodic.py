"""Pure helpers of the rules engine for rulebook-wide features that work across periods.

No database, no Flask (like ``engine``). Rows of RULE-FEATURES.md:
4 components with their own maxima adding to a fixed scale (``apply_component``,
``check_scale``); 12 household level from the per-capita average (``per_capita_level``);
14 exhaustion and zeroing (``exhausted``, ``zeroing``); 18 separate cadences for scoring,
notice, redemption and honours (``cadence_period``, ``notice_ends``, ``redemption_open``);
19 periodic expiry with carry-over (``expiry_due``, ``expired_points``); 23 peer and self
assessment as a scored component (``assessment_value``).
"""
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from app.points import fmt_points
from app.rules.engine import (CENT, ROUNDINGS, BookRule, Component, Deed, Expiry, HouseholdState,
                              ItemRule, N_, Refusal, to_points)

CADENCES = ("scoring", "notice", "redemption", "honours")
CADENCE_PERIODS = ("day", "week", "month", "quarter", "year")
_NAMES = {"day": "每天", "week": "每周", "month": "每月", "quarter": "每季度", "year": "每年"}


def _fmt(value: Decimal) -> str:
    return fmt_points(value, sign=False)


# --- row 4: components adding to a fixed scale ---------------------------------------------

def apply_component(component: Component | None, state: HouseholdState, total: Decimal,
                    reason: str):
    """(points, reason) of a judged ``total`` in a component category: awards stop at the
    component's ``max`` per period; with ``floor``, deductions stop once the component is at
    0 (``max`` deducted in the period). Raises Refusal("component_full") when the awards
    are already at the maximum, Refusal("component_floor") when nothing is left to deduct.
    """
    if component is None or total == 0:
        return total, reason
    period = _NAMES[component.period]
    if total > 0:
        left = component.max - state.component_awarded
        if left <= 0:
            raise Refusal("component_full", N_("“%(part)s”%(period)s最多 %(max)s 分，已经记满"),
                          part=component.category, period=period, max=_fmt(component.max))
        if total > left:
            reason += (f"；“{component.category}”{period}满分 {_fmt(component.max)}，"
                       f"只记 {_fmt(left)} 分")
            total = left
        return total.quantize(CENT), reason
    if not component.floor:
        return total, reason
    left = component.max + state.component_deducted
    if left <= 0:
        raise Refusal("component_floor", N_("“%(part)s”%(period)s已扣到 0 分，不能再扣"),
                      part=component.category, period=period)
    if -total > left:
        reason += (f"；“{component.category}”{period}满分 {_fmt(component.max)}，扣完为止，"
                   f"只扣 {_fmt(left)} 分")
        total = -left
    return total.quantize(CENT), reason


def check_scale(book: BookRule) -> str | None:
    """A Chinese message when the components' maxima (plus a base score that is one of the
    parts) do not add up to the rulebook's ``scale``; None when they do or there is none."""
    if book.scale is None:
        return None
    total = sum((c.max for c in book.components), Decimal(0))
    if total != book.scale:
        return (f"各组成部分满分之和为 {_fmt(total)}，与总分 {_fmt(book.scale)} 不符")
    return None


# --- row 12: per-capita roll-up ---------------------------------------------------------

def per_capita_level(book: BookRule, score: Decimal, headcount: int):
    """(average per member, level label or None) of a household with ``score`` points and
    ``headcount`` members (head included, at least 1), by the rulebook's ``per_capita``
    bands (the highest whose minimum the average reaches). The average is rounded half up to
    0.01. Raises ValueError when headcount < 1."""
    if headcount < 1:
        raise ValueError("headcount must be >= 1")
    average = (Decimal(score) / headcount).quantize(CENT, ROUND_HALF_UP)
    level = None
    for minimum, label in sorted(book.per_capita, key=lambda b: b[0]):
        if average >= minimum:
            level = label
    return average, level


# --- row 14: exhaustion and zeroing ------------------------------------------------------

def exhausted(book: BookRule, state: HouseholdState) -> bool:
    """True when the rulebook says a household whose base score is used up leaves the scheme
    (``exhaustion: leave``) and this household, granted a base, has 0 or less left."""
    return book.exhaustion == "leave" and state.has_base and state.score <= 0


def zeroing(state: HouseholdState, total: Decimal, reason: str):
    """(points, reason) of an offence that zeroes the household's score: it deducts at least
    the whole confirmed score (``state.score``), and its own points when that is more."""
    if state.score > 0 and total > -state.score:
        total = -state.score
        reason += f"；按细则一次清零，扣除全部 {_fmt(state.score)} 分"
    return total.quantize(CENT), reason


# --- row 18: separate cadences ----------------------------------------------------------

def cadence_period(book: BookRule, what: str, on: date, default: str = "month"):
    """The period of cadence ``what`` (scoring, notice, redemption or honours) containing
    local date ``on``, as (start, end, label) with end exclusive; the rulebook's period for
    it, else ``default``. Raises ValueError for an unknown cadence."""
    if what not in CADENCES:
        raise ValueError(f"unknown cadence {what!r}")
    kind = dict(book.cadences).get(what, default)
    if kind == "day":
        return on, on + timedelta(days=1), on.isoformat()
    if kind == "week":
        start = on - timedelta(days=on.weekday())
        year, week, _ = start.isocalendar()
        return start, start + timedelta(days=7), f"{year}W{week:02d}"
    from app.scoring.periods import period_of   # pure date arithmetic, no app context needed
    p = period_of(on, kind)
    return p.start, p.end, p.label


def notice_ends(book: BookRule, recorded_on: date, notice_days: int) -> date:
    """The local date a public notice of an entry recorded on ``recorded_on`` ends: with a
    notice cadence, notices are posted at the end of each notice period and last
    ``notice_days`` from then; without one, ``notice_days`` from the recording day."""
    if "notice" not in dict(book.cadences):
        return recorded_on + timedelta(days=notice_days)
    _start, end, _label = cadence_period(book, "notice", recorded_on)
    return end - timedelta(days=1) + timedelta(days=notice_days)


def redemption_open(book: BookRule, on: date) -> bool:
    """True when redemption is open on ``on``: always, unless the rulebook has a redemption
    cadence with ``redemption_open_days``, which opens only the first that many days of
    every redemption period."""
    if "redemption" not in dict(book.cadences) or not book.redemption_open_days:
        return True
    start, _end, _label = cadence_period(book, "redemption", on)
    return (on - start).days < book.redemption_open_days


# --- row 19: expiry with carry-over -----------------------------------------------------

def expiry_due(book: BookRule, on: date):
    """The (start, end, label) of the last expiry period that ended on or before local date
    ``on`` (run on 2027-01-10 with ``every: year``: the year 2026), or None when the rulebook
    has no expiry."""
    if book.expiry is None:
        return None
    from app.scoring.periods import period_of
    current = period_of(on, book.expiry.every)
    p = period_of(current.start - timedelta(days=1), book.expiry.every)
    return p.start, p.end, p.label


def expired_points(expiry: Expiry, spendable: Decimal) -> Decimal:
    """Points (>= 0) of a spendable balance that expire: all above the carry-over; nothing
    when the balance is 0 or less or everything carries over."""
    spendable = Decimal(spendable)
    if spendable <= 0 or expiry.carry_over == "all":
        return Decimal(0).quantize(CENT)
    keep = Decimal(0) if expiry.carry_over == "none" else Decimal(expiry.carry_over)
    return max(Decimal(0), spendable - keep).quantize(CENT)


# --- row 23: peer and self assessment ----------------------------------------------------

def split_ratings(text: str | None) -> tuple:
    """The ratings typed in one box ("18、16，15" or "18,16"), as a tuple of str."""
    parts = (text or "").replace("，", "、").replace(",", "、").split("、")
    return tuple(p.strip() for p in parts if p.strip())


def assessment_value(item: ItemRule, deed: Deed):
    """(points, reason) of a peer and self assessment item: each rating within the item's
    range; the self rating weighs ``item.self_weight`` and the average of the peer ratings
    the rest; rounded by the item's rounding to its step. Raises Refusal("bad_ratings")
    when fewer than ``min_raters`` peer ratings are given (or a needed self rating is
    missing) and Refusal("out_of_range") for a rating outside the range."""
    low, high = item.min_points, item.max_points

    def rating(value):
        r = to_points(value)
        if not low <= r <= high:
            raise Refusal("out_of_range", N_("评分 %(value)s 超出该项范围 %(low)s～%(high)s"),
                          value=_fmt(r), low=_fmt(low), high=_fmt(high))
        return r
    weight = item.self_weight
    peers = [rating(v) for v in deed.ratings or () if v not in (None, "")]
    needs_peers = weight < 1
    if needs_peers and len(peers) < item.min_raters:
        raise Refusal("bad_ratings", N_("互评至少需要 %(n)s 人打分"), n=item.min_raters)
    own = None
    if weight > 0:
        if deed.self_rating in (None, ""):
            raise Refusal("bad_ratings", N_("请填写本户自评分"))
        own = rating(deed.self_rating)
    peer_avg = sum(peers, Decimal(0)) / len(peers) if peers else Decimal(0)
    raw = (own or Decimal(0)) * weight + peer_avg * (1 - weight)
    unit = (raw / item.step).to_integral_value(ROUNDINGS[item.rounding]) * item.step
    parts = []
    if own is not None:
        parts.append(f"自评 {_fmt(own)} × {_fmt(weight)}")
    if peers:
        parts.append(f"互评 {'、'.join(_fmt(p) for p in peers)} 平均 "
                     f"{_fmt(peer_avg.quantize(CENT))} × {_fmt(1 - weight)}")
    return unit.quantize(CENT), "，".join(parts) + f"，记 {_fmt(unit)} 分"
