"""Board periods: month, quarter, half-year (label ``2026H2``) and year, as half-open local
date intervals (``scoring.periods.Period``; DESIGN.md invariant 6)."""
import re
from datetime import date

from flask_babel import lazy_gettext as _l

from app.scoring.periods import Period, month_period, quarter_period, year_period


def half_period(d: date) -> Period:
    """The half-year containing local date ``d`` (label ``2026H1`` or ``2026H2``)."""
    if d.month <= 6:
        return Period(date(d.year, 1, 1), date(d.year, 7, 1), f"{d.year}H1")
    return Period(date(d.year, 7, 1), date(d.year + 1, 1, 1), f"{d.year}H2")


MAKERS = {"month": month_period, "quarter": quarter_period, "half": half_period,
          "year": year_period}
_PATTERNS = {"month": r"(\d{4})-(\d{2})", "quarter": r"(\d{4})Q([1-4])",
             "half": r"(\d{4})H([12])", "year": r"(\d{4})()"}
_FIRST_MONTH = {"month": lambda n: n, "quarter": lambda n: 3 * n - 2,
                "half": lambda n: 6 * n - 5, "year": lambda n: 1}


def board_period(d: date, kind: str) -> Period:
    """The ``kind`` period containing local date ``d``. Raises ValueError for another kind."""
    if kind not in MAKERS:
        raise ValueError(f"unknown period {kind!r}")
    return MAKERS[kind](d)


def parse_period(label: str | None, kind: str) -> Period | None:
    """The ``kind`` period labelled ``label`` (``2026-11``, ``2026Q4``, ``2026H2``,
    ``2026``); None when empty, malformed or outside 2000-2099."""
    match = re.fullmatch(_PATTERNS.get(kind, "x^"), (label or "").strip())
    if not match:
        return None
    year, n = int(match.group(1)), int(match.group(2) or 1)
    if not 2000 <= year <= 2099 or not 1 <= _FIRST_MONTH[kind](n) <= 12:
        return None
    return board_period(date(year, _FIRST_MONTH[kind](n), 1), kind)


def previous_period(p: Period, kind: str) -> Period:
    """The ``kind`` period just before ``p``."""
    return board_period(date.fromordinal(p.start.toordinal() - 1), kind)


def next_period(p: Period, kind: str) -> Period:
    """The ``kind`` period just after ``p``."""
    return board_period(p.end, kind)


KIND_LABELS = {"month": _l("月度"), "quarter": _l("季度"), "half": _l("半年"), "year": _l("年度")}
