"""Report periods: a month, a quarter, a year or a custom range of local dates, each a
half-open interval [start, end) as in ``scoring.periods`` (DESIGN.md invariant 6)."""
import re
from datetime import date, datetime, time, timedelta, timezone

from app.scoring.periods import Period, local_zone, month_period

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")
MAX_DAYS = 3660  # a custom range spans at most about ten years


def year_period(year: int) -> Period:
    """The calendar year ``year``."""
    return Period(date(year, 1, 1), date(year + 1, 1, 1), str(year))


def quarter_period(year: int, quarter: int) -> Period:
    """Quarter ``quarter`` (1-4) of ``year``."""
    start = date(year, 3 * quarter - 2, 1)
    end = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return Period(start, end, f"{year}-Q{quarter}")


def custom_period(first: date, last: date) -> Period | None:
    """The local dates ``first`` to ``last`` inclusive, i.e. [first, last + 1 day); None when
    ``last`` is before ``first`` or the range is longer than MAX_DAYS."""
    if last < first or (last - first).days > MAX_DAYS:
        return None
    end = last + timedelta(days=1) if last < date.max else last   # 9999-12-31: out of reach
    return Period(first, end, f"{first.isoformat()}~{last.isoformat()}")


def parse_period(text: str | None, first: str | None = None,
                 last: str | None = None) -> Period | None:
    """A Period from ``YYYY-MM``, ``YYYY-Qn`` or ``YYYY`` (years 2000-2099), or from the
    ISO dates ``first`` and ``last`` (inclusive) when both are given; None when malformed."""
    if first and last:
        try:
            return custom_period(date.fromisoformat(first), date.fromisoformat(last))
        except ValueError:
            return None
    text = (text or "").strip()
    try:
        if m := _MONTH.match(text):
            year, month = int(m[1]), int(m[2])
            return month_period(date(year, month, 1)) if 2000 <= year <= 2099 else None
        if m := _QUARTER.match(text):
            year = int(m[1])
            return quarter_period(year, int(m[2])) if 2000 <= year <= 2099 else None
        if m := _YEAR.match(text):
            year = int(m[1])
            return year_period(year) if 2000 <= year <= 2099 else None
    except ValueError:
        return None
    return None


def in_reach(period: Period, today: date) -> bool:
    """True when ``period`` lies within the years 2000 to next year (of local date
    ``today``): the roll-up pages show nothing beyond."""
    last = period.end - timedelta(days=1)
    return period.start.year >= 2000 and last.year <= today.year + 1


def utc_bounds(period: Period) -> tuple:
    """The period's start and end as aware UTC datetimes (local midnights converted)."""
    zone = local_zone()
    return tuple(datetime.combine(d, time(0), zone).astimezone(timezone.utc)
                 for d in (period.start, period.end))


def months_of(period: Period) -> list:
    """Labels ``YYYY-MM`` of the months the period touches, in order."""
    labels, d = [], period.start.replace(day=1)
    while d < period.end:
        labels.append(f"{d.year}-{d.month:02d}")
        d = month_period(d).end
    return labels
