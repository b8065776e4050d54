"""Periods are half-open local-date intervals [start, end) in the village's time zone
(Asia/Shanghai); timestamps are stored in UTC. DESIGN.md invariant 6."""
from dataclasses import dataclass
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from flask import current_app


@dataclass(frozen=True)
class Period:
    """A half-open interval of local dates: ``start <= d < end``."""

    start: date
    end: date
    label: str

    def contains(self, d: date) -> bool:
        return self.start <= d < self.end


def local_zone() -> ZoneInfo:
    """The configured local time zone (Asia/Shanghai by default)."""
    try:
        name = current_app.config["TIMEZONE"]
    except RuntimeError:
        name = "Asia/Shanghai"
    return ZoneInfo(name)


def local_today() -> date:
    """Today's date in the local time zone."""
    return datetime.now(timezone.utc).astimezone(local_zone()).date()


def to_local(ts: datetime) -> datetime:
    """A stored UTC timestamp (aware, or naive as SQLite returns it) in local time."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=timezone.utc)
    return ts.astimezone(local_zone())


#: The local dates a form, filter or report may name: the years 2000-2099 this app keeps
#: ledgers for (a date near year 1 or 9999 overflows the day arithmetic of periods).
FIRST_DATE, LAST_DATE = date(2000, 1, 1), date(2099, 12, 31)


def month_period(d: date) -> Period:
    """The calendar month containing local date ``d``."""
    start = d.replace(day=1)
    end = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    return Period(start, end, f"{start.year}-{start.month:02d}")


def parse_month(text: str | None) -> Period | None:
    """Parse ``YYYY-MM`` into a month Period; None when empty, malformed, or outside the
    years 2000-2099 this app keeps ledgers for."""
    try:
        year, month = (int(part) for part in (text or "").split("-"))
        if not 2000 <= year <= 2099:
            return None
        return month_period(date(year, month, 1))
    except (ValueError, TypeError, OverflowError):   # OverflowError: a month past C's int
        return None


def previous_month(p: Period) -> Period:
    """The month before month period ``p``."""
    return month_period(date.fromordinal(p.start.toordinal() - 1))


def quarter_period(d: date) -> Period:
    """The calendar quarter containing local date ``d`` (label ``2026Q4``)."""
    first = (d.month - 1) // 3 * 3 + 1
    start = date(d.year, first, 1)
    end = date(d.year + (first == 10), (first + 2) % 12 + 1, 1)
    return Period(start, end, f"{d.year}Q{(first - 1) // 3 + 1}")


def year_period(d: date) -> Period:
    """The calendar year containing local date ``d`` (label ``2026``)."""
    return Period(date(d.year, 1, 1), date(d.year + 1, 1, 1), str(d.year))


def period_of(d: date, kind: str) -> Period:
    """The ``kind`` (month, quarter or year) period containing local date ``d``.
    Raises ValueError for another kind."""
    makers = {"month": month_period, "quarter": quarter_period, "year": year_period}
    if kind not in makers:
        raise ValueError(f"unknown period {kind!r}")
    return makers[kind](d)
