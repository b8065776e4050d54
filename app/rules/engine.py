"""The rules engine: a pure function from (rule item, household state, deed) to points.

No database, no Flask: views, the CLI and imports all call ``judge`` through
``scoring.services.post_entry``. Implements RULE-FEATURES.md rows 1 (fixed awards and
deductions), 7 (ranges left to the panel), 8 (fractional points, exact) and 10 (once-only
items); the other rows arrive with issue 3.
"""
import re
from dataclasses import dataclass
from decimal import Decimal

from app.points import fmt_points

CENT = Decimal("0.01")
_PLAIN_NUMBER = re.compile(r"^[+-]?\d{1,8}(\.\d+)?$")


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


@dataclass(frozen=True)
class ItemRule:
    """What the engine needs to know of a rule item (a snapshot, decoupled from the ORM)."""

    code: str
    name: str
    category: str
    kind: str                      # "fixed" | "range"
    points: Decimal | None = None  # fixed value, negative for a deduction
    min_points: Decimal | None = None
    max_points: Decimal | None = None
    once_only: bool = False


@dataclass(frozen=True)
class HouseholdState:
    """What the engine needs to know of a household: codes of once-only items it holds."""

    active: bool = True
    held_once_only: frozenset = frozenset()


@dataclass(frozen=True)
class Deed:
    """A deed to score: ``points`` chosen by the panel (range items only), ``quantity`` >= 1."""

    points: Decimal | None = None
    quantity: int = 1


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
    infinities) up to 99,999,999.99. Raises Refusal("bad_points") otherwise.
    """
    if isinstance(value, float):
        raise TypeError("points must never be floats")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise Refusal("bad_points", N_("分值必须是数字"))
        text = format(value, "f")
    else:
        text = str(value).strip()
    if not _PLAIN_NUMBER.match(text):
        raise Refusal("bad_points", N_("分值必须是数字"))
    d = Decimal(text)
    if d != d.quantize(CENT):
        raise Refusal("bad_points", N_("分值最多保留两位小数"))
    return d.quantize(CENT)


def judge(item: ItemRule, state: HouseholdState, deed: Deed) -> Judgement:
    """Return the points to record for ``deed`` under ``item`` for a household in ``state``.

    Raises Refusal with a Chinese message when: the household is not active ("inactive"),
    the quantity is not 1..100 ("bad_quantity"), a range item gets no value or one outside its
    range ("out_of_range"), a fixed item gets a different value ("fixed_points"), or a
    once-only item is already held ("once_only").
    """
    if not state.active:
        raise Refusal("inactive", N_("该户已迁出或合并，不能再记分"))
    if not isinstance(deed.quantity, int) or not 1 <= deed.quantity <= 100:
        raise Refusal("bad_quantity", N_("次数必须是 1 到 100 的整数"))
    if item.once_only:
        if item.code in state.held_once_only:
            raise Refusal("once_only", N_("“%(item)s”每户只能记一次，该户已获得"),
                          item=item.name)
        if deed.quantity != 1:
            raise Refusal("bad_quantity", N_("“%(item)s”每户只能记一次"), item=item.name)
    if item.kind == "range":
        if deed.points is None:
            raise Refusal("out_of_range", N_("请填写分值（%(low)s～%(high)s）"),
                          low=fmt_points(item.min_points, sign=False),
                          high=fmt_points(item.max_points, sign=False))
        unit = to_points(deed.points)
        if not item.min_points <= unit <= item.max_points:
            raise Refusal("out_of_range", N_("分值 %(value)s 超出该项范围 %(low)s～%(high)s"),
                          value=fmt_points(unit, sign=False),
                          low=fmt_points(item.min_points, sign=False),
                          high=fmt_points(item.max_points, sign=False))
        reason = (f"评议小组在 {fmt_points(item.min_points, sign=False)}～"
                  f"{fmt_points(item.max_points, sign=False)} 分内评定 "
                  f"{fmt_points(unit, sign=False)} 分")
    else:
        unit = to_points(item.points)
        if deed.points is not None and to_points(deed.points) != unit:
            raise Refusal("fixed_points", N_("该项分值固定为 %(points)s 分"),
                          points=fmt_points(unit))
        reason = f"按细则记 {fmt_points(unit)} 分"
    total = (unit * deed.quantity).quantize(CENT)
    if deed.quantity > 1:
        reason += f" × {deed.quantity} 次"
    return Judgement(unit_points=unit, quantity=deed.quantity, points=total, reason=reason)
