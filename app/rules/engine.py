"""The rules engine: a pure function from (rule item, household state, deed) to points.

No database, no Flask: views, the CLI and imports all call ``judge`` through
``scoring.services.post_entry``. Implements these rows of RULE-FEATURES.md: 1 fixed awards
and deductions; 2 inspection scorecards (a maximum, a deduction per problem, floor 0);
3 pass/fail pairs (two fixed items, made by the importer); 6 caps per item, per category and
per household per period (``Cap``, clipped against what ``HouseholdState`` says was already
earned); 7 ranges left to the panel; 8 exact fractional points; 9 rate items with a stated
rounding rule; 10 once-only items; 11 tiered values; 12 per-person events (the member is
named, the household credited); 17 eligibility gates; 27 bonus points; 28 the catch-all
scored by analogy with a recorded reference. Base scores (5), thresholds (13) and star
bands (16) are the functions ``base_grant``, ``household_flags`` and ``star_band`` below.
Components adding to a fixed scale (4), exhaustion and zeroing (14) and peer and self
assessment (23) are judged here with the helpers of ``app.rules.periodic``, which also holds
the per-capita roll-up (12), cadences (18) and expiry with carry-over (19).
"""
import re
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from app.points import fmt_points

CENT = Decimal("0.01")
_PLAIN_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
_TOO_MANY_POINTS = Decimal("100000000")


def N_(msgid: str) -> str:
    """Mark a message for translation without translating it here (the engine is pure)."""
    return msgid


class Refusal(Exception):
    """The engine refuses a deed.

    ``code`` is stable for programs; ``template`` is a Chinese gettext msgid with
    ``%(name)s`` placeholders filled from ``params``; ``message`` is the Chinese text. Views
    show ``app.i18n.refusal_text(exc)``, which translates the template into the user's locale.
    """

    def __init__(self, code: str, template: str, **params):
        self.code = code
        self.template = template
        self.params = params
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return self.template % self.params if self.params else self.template


ITEM_KINDS = ("fixed", "range", "scorecard", "rate", "tiered", "analogy")
ROUNDINGS = {"floor": ROUND_FLOOR, "half_up": ROUND_HALF_UP, "ceiling": ROUND_CEILING}
PERIODS = ("month", "quarter", "year")
#: At most this many named checks in an inspection scorecard (its ``checks`` param, the
#: tablet grid's columns).
MAX_CHECKS = 12


@dataclass(frozen=True)
class Cap:
    """At most ``points`` of awards per ``period`` (month, quarter or year)."""

    points: Decimal
    period: str = "year"


@dataclass(frozen=True)
class Component:
    """A category scored as a component of a fixed scale (RULE-FEATURES row 4): awards in it
    add up to at most ``max`` per ``period``; with ``floor`` the component starts from full
    marks and its deductions in the period stop at ``max`` (the component never goes below
    0)."""

    category: str
    max: Decimal
    period: str = "year"
    floor: bool = False


@dataclass(frozen=True)
class Expiry:
    """Periodic expiry of spendable points (row 19): at the end of every ``every`` period the
    spendable balance above ``carry_over`` expires; ``carry_over`` is "all" (nothing
    expires), "none" (all expires) or a Decimal (at most that many points carry over)."""

    every: str = "year"
    carry_over: object = "none"


@dataclass(frozen=True)
class ItemRule:
    """What the engine needs to know of a rule item (a snapshot, decoupled from the ORM).

    ``kind``: fixed (``points``), range (``min_points..max_points``, the panel picks),
    scorecard (``max_points`` less ``per_problem`` per problem found, floor 0), rate
    (``units_per_point`` units make a point, rounded by ``rounding`` to ``step``), tiered
    (``tiers``: label -> points), analogy (a catch-all scored like ``range``, with the
    reference item named). ``bonus_max`` allows bonus points on top; ``cap`` and
    ``category_cap`` limit awards per period; ``per_person`` items name the member.
    """

    code: str
    name: str
    category: str
    kind: str = "fixed"
    points: Decimal | None = None  # fixed value, negative for a deduction
    min_points: Decimal | None = None
    max_points: Decimal | None = None
    once_only: bool = False
    per_problem: Decimal | None = None
    units_per_point: Decimal | None = None
    rounding: str = "floor"
    step: Decimal = Decimal("1")
    tiers: tuple = ()              # ((label, Decimal points), ...)
    bonus_max: Decimal | None = None
    cap: Cap | None = None
    category_cap: Cap | None = None
    per_person: bool = False
    veto: bool = False
    zeroes: bool = False           # one offence zeroes the household's score (row 14)
    self_weight: Decimal | None = None   # peer/self assessment item (row 23): weight of the
    #                                      self rating, the peer average weighs the rest
    min_raters: int = 1
    channels: tuple = ("cadre", "self")  # evidence channels accepted (row 22, rules.uses)


@dataclass(frozen=True)
class BookRule:
    """Rulebook-wide rules: the household cap per period, the eligibility gate
    ("enrolled": only enrolled households earn), the base score, thresholds and star bands.
    ``base`` is (points, per: once|month|quarter|year, spendable bool); ``thresholds`` are
    (below, flag) pairs; ``star_bands`` are (minimum score, label) pairs. ``scale`` and
    ``components`` (Component) are a fixed scale and its parts (row 4); ``per_capita`` are
    (minimum average per member, level) pairs (row 12); ``exhaustion`` "leave": a household
    whose base score is used up leaves the scheme (row 14); ``cadences`` maps scoring,
    notice, redemption, honours to a period, and ``redemption_open_days`` limits redemption
    to the first days of each redemption period (row 18); ``expiry`` (Expiry, row 19)."""

    household_cap: Cap | None = None
    eligibility: str | None = None
    base: tuple | None = None
    thresholds: tuple = ()
    star_bands: tuple = ()
    scale: Decimal | None = None
    components: tuple = ()
    per_capita: tuple = ()
    exhaustion: str | None = None
    cadences: tuple = ()           # ((what, period), ...)
    redemption_open_days: int | None = None
    expiry: Expiry | None = None
    privileges: tuple = ()         # ((min, label, kind or None), ...): row 26, rules.uses

    def component_of(self, category: str):
        """The Component scoring ``category``, or None."""
        return next((c for c in self.components if c.category == category), None)


@dataclass(frozen=True)
class HouseholdState:
    """What the engine needs to know of a household: whether it is active and enrolled, the
    once-only item codes it holds, and the awards it already earned in the current periods
    of the caps that apply (``earned_item``, ``earned_category``, ``earned_household``; base
    scores are not counted)."""

    active: bool = True
    enrolled: bool = True
    held_once_only: frozenset = frozenset()
    earned_item: Decimal = Decimal(0)
    earned_category: Decimal = Decimal(0)
    earned_household: Decimal = Decimal(0)
    score: Decimal = Decimal(0)           # confirmed earned score now (rows 14)
    has_base: bool = False                # a base score was granted (row 14)
    component_awarded: Decimal = Decimal(0)    # in the component's period (row 4)
    component_deducted: Decimal = Decimal(0)   # <= 0, in the component's period (row 4)


@dataclass(frozen=True)
class Deed:
    """A deed to score. ``points``: the panel's value (range and analogy items);
    ``quantity`` >= 1; ``problems`` found (scorecards); ``units`` measured (rate items, e.g.
    hours); ``tier`` chosen (tiered items); ``bonus`` points on top; ``reference``: the listed
    item a catch-all deed is scored like; ``member``: who did it (per-person items)."""

    points: Decimal | None = None
    quantity: int = 1
    problems: int | None = None
    units: Decimal | None = None
    tier: str | None = None
    bonus: Decimal | None = None
    reference: str | None = None
    member: str | None = None
    ratings: tuple = ()                 # peer ratings (row 23)
    self_rating: object = None          # the household's own rating (row 23)
    channel: str = "cadre"              # who brings the deed (row 22, rules.uses)


@dataclass(frozen=True)
class Judgement:
    """The engine's answer: ``unit_points`` per occurrence, ``points`` in all, and why."""

    unit_points: Decimal
    quantity: int
    points: Decimal
    reason: str


def to_points(value) -> Decimal:
    """Parse ``value`` (str, int or Decimal; never float) into points with 2 decimals.

    Accepts plain decimal notation only ("5", "-2", "0.5"; no exponents, NaN or
    infinities) up to 99,999,999.99 either way. Raises Refusal("bad_points") otherwise, saying
    which: not a number, too large, or more than two decimals.
    """
    if isinstance(value, float):
        raise TypeError("points must never be floats")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise Refusal("bad_points", N_("分值必须是数字"))
        text = format(value, "f")
    else:
        text = str(value).strip()
    if len(text) > 40 or not _PLAIN_NUMBER.match(text):
        raise Refusal("bad_points", N_("分值必须是数字"))
    d = Decimal(text)
    if abs(d) >= _TOO_MANY_POINTS:
        raise Refusal("bad_points", N_("分值太大，最多 99999999.99 分"))
    if d != d.quantize(CENT):
        raise Refusal("bad_points", N_("分值最多保留两位小数"))
    return d.quantize(CENT)


def judge(item: ItemRule, state: HouseholdState, deed: Deed,
          book: BookRule | None = None) -> Judgement:
    """Return the points to record for ``deed`` under ``item`` for a household in ``state``
    under the rulebook-wide rules ``book``.

    Raises Refusal (code, Chinese message template) when: the household is not active
    ("inactive") or not enrolled where the rulebook has an eligibility gate ("not_enrolled");
    the quantity is not 1..100 ("bad_quantity"); a once-only item is already held
    ("once_only"); the deed lacks what its kind needs or gives a value outside the item's
    range ("out_of_range", "bad_problems", "bad_units", "bad_tier", "reference_required",
    "member_required", "fixed_points", "bad_bonus", "bad_ratings"); or a cap is already
    reached ("cap_reached"). An award that would pass a cap is recorded up to the cap, and the
    reason says so. Rows 4, 14 and 23: a household whose base is used up under
    ``exhaustion: leave`` is refused ("exhausted"); a ``zeroes`` item deducts at least the
    whole score; a component category clips awards at its maximum ("component_full" once
    full) and, with ``floor``, deductions at 0 ("component_floor"); an assessment item
    (``self_weight``) weighs the self rating and the peer average. Row 22: an item refuses a
    deed brought by a channel it does not accept ("channel_refused", ``rules.uses``).
    """
    from app.rules import periodic
    book = book or BookRule()
    if not state.active:
        raise Refusal("inactive", N_("该户已迁出或合并，不能再记分"))
    if book.eligibility == "enrolled" and not state.enrolled:
        raise Refusal("not_enrolled", N_("该户不在本积分制的参加范围内，不能记分"))
    if periodic.exhausted(book, state):
        raise Refusal("exhausted", N_("该户基础分已用完，按细则退出积分制，不能再记分"))
    from app.rules.uses import check_channel
    check_channel(item.name, item.channels, deed.channel)
    if not isinstance(deed.quantity, int) or not 1 <= deed.quantity <= 100:
        raise Refusal("bad_quantity", N_("次数必须是 1 到 100 的整数"))
    if item.once_only:
        if item.code in state.held_once_only:
            raise Refusal("once_only", N_("“%(item)s”每户只能记一次，该户已获得"),
                          item=item.name)
        if deed.quantity != 1:
            raise Refusal("bad_quantity", N_("“%(item)s”每户只能记一次"), item=item.name)
    if item.per_person and not (deed.member or "").strip():
        raise Refusal("member_required", N_("请选择是家里哪一位成员做的"))
    unit, reason = _unit_value(item, deed)
    total = (unit * deed.quantity).quantize(CENT)
    if deed.quantity > 1:
        reason += f" × {deed.quantity} 次"
    if deed.bonus not in (None, ""):
        bonus = to_points(deed.bonus)
        if item.bonus_max is None or not 0 < bonus <= item.bonus_max:
            raise Refusal("bad_bonus", N_("该项不能加奖励分，或奖励分超过上限"))
        total += bonus
        reason += f"，另加奖励 {fmt_points(bonus, sign=False)} 分"
    if deed.member:
        reason += f"（{deed.member.strip()}）"
    if item.zeroes:
        total, reason = periodic.zeroing(state, total, reason)
    if total > 0:
        total, reason = _apply_caps(item, state, book, total, reason)
    if not item.zeroes:   # zeroing takes the whole score, whatever the component's floor
        total, reason = periodic.apply_component(book.component_of(item.category), state,
                                                 total, reason)
    return Judgement(unit_points=unit, quantity=deed.quantity, points=total, reason=reason)


def _panel_value(item: ItemRule, value) -> Decimal:
    low, high = (fmt_points(v, sign=False) for v in (item.min_points, item.max_points))
    if value in (None, ""):
        raise Refusal("out_of_range", N_("请填写分值（%(low)s～%(high)s）"), low=low, high=high)
    unit = to_points(value)
    if not item.min_points <= unit <= item.max_points:
        raise Refusal("out_of_range", N_("分值 %(value)s 超出该项范围 %(low)s～%(high)s"),
                      value=fmt_points(unit, sign=False), low=low, high=high)
    return unit


def _unit_value(item: ItemRule, deed: Deed):
    """(points per occurrence, reason) by the item's kind."""
    if item.self_weight is not None and item.kind == "range":
        from app.rules.periodic import assessment_value
        return assessment_value(item, deed)
    if item.kind in ("range", "analogy"):
        unit = _panel_value(item, deed.points)
        low, high = (fmt_points(v, sign=False) for v in (item.min_points, item.max_points))
        reason = f"评议小组在 {low}～{high} 分内评定 {fmt_points(unit, sign=False)} 分"
        if item.kind == "analogy":
            ref = (deed.reference or "").strip()
            if not ref:
                raise Refusal("reference_required", N_("细则未列明的事项，请写明参照哪一项评定"))
            reason = f"细则未列明，参照“{ref}”，" + reason
        return unit, reason
    if item.kind == "scorecard":
        if not isinstance(deed.problems, int) or not 0 <= deed.problems <= 1000:
            raise Refusal("bad_problems", N_("请填写检查发现的问题数（0 或以上的整数）"))
        unit = max(Decimal(0), item.max_points - item.per_problem * deed.problems)
        return unit.quantize(CENT), (f"满分 {fmt_points(item.max_points, sign=False)}，"
                                     f"发现 {deed.problems} 处问题，每处扣 "
                                     f"{fmt_points(item.per_problem, sign=False)}，"
                                     f"得 {fmt_points(unit, sign=False)} 分")
    if item.kind == "rate":
        units = to_points(deed.units) if deed.units not in (None, "") else None
        if units is None or units < 0:
            raise Refusal("bad_units", N_("请填写数量（如小时数），不能为负"))
        raw = units / item.units_per_point
        unit = (raw / item.step).to_integral_value(ROUNDINGS[item.rounding]) * item.step
        return unit.quantize(CENT), (f"{fmt_points(units, sign=False)} ÷ "
                                     f"{fmt_points(item.units_per_point, sign=False)}，"
                                     f"按{_ROUNDING_NAMES[item.rounding]}取 "
                                     f"{fmt_points(unit, sign=False)} 分")
    if item.kind == "tiered":
        tiers = dict(item.tiers)
        if deed.tier not in tiers:
            raise Refusal("bad_tier", N_("请选择级别：%(tiers)s"), tiers="、".join(tiers))
        unit = to_points(tiers[deed.tier])
        return unit, f"{deed.tier}级，记 {fmt_points(unit)} 分"
    unit = to_points(item.points)
    if deed.points not in (None, "") and to_points(deed.points) != unit:
        raise Refusal("fixed_points", N_("该项分值固定为 %(points)s 分"),
                      points=fmt_points(unit))
    return unit, f"按细则记 {fmt_points(unit)} 分"


_ROUNDING_NAMES = {"floor": "去尾", "half_up": "四舍五入", "ceiling": "进一"}


def _apply_caps(item, state, book, total, reason):
    """Clip an award to the tightest cap still open; refuse when one is already reached."""
    room = None
    for cap, earned, label in ((item.cap, state.earned_item, "该项"),
                               (item.category_cap, state.earned_category, "该类"),
                               (book.household_cap, state.earned_household, "每户")):
        if cap is None:
            continue
        left = cap.points - earned
        if left <= 0:
            raise Refusal("cap_reached", N_("%(scope)s%(period)s最多 %(cap)s 分，已经记满"),
                          scope=label, period=_PERIOD_NAMES[cap.period],
                          cap=fmt_points(cap.points, sign=False))
        if room is None or left < room[0]:
            room = (left, cap, label)
    if room is not None and total > room[0]:
        left, cap, label = room
        reason += (f"；{label}{_PERIOD_NAMES[cap.period]}上限 "
                   f"{fmt_points(cap.points, sign=False)} 分，"
                   f"只记 {fmt_points(left, sign=False)} 分")
        total = left.quantize(CENT)
    return total, reason


_PERIOD_NAMES = {"month": "每月", "quarter": "每季度", "year": "每年"}


def base_grant(book: BookRule):
    """(points, spendable) of the base score a household is granted each base period, or
    None when the rulebook has none (RULE-FEATURES row 5)."""
    if not book.base:
        return None
    points, _per, spendable = book.base
    return to_points(points), bool(spendable)


def household_flags(book: BookRule, score: Decimal) -> frozenset:
    """Flags a household's score raises under the rulebook's thresholds, e.g.
    {"suspended"} below 70; they lift by themselves once the score is back (row 13)."""
    return frozenset(flag for below, flag in book.thresholds if score < below)


def star_band(book: BookRule, score: Decimal):
    """The star band label for ``score`` (the highest band whose minimum it reaches), or
    None (row 16)."""
    label = None
    for minimum, band in sorted(book.star_bands, key=lambda b: b[0]):
        if score >= minimum:
            label = band
    return label
