"""Anomaly flags (异常提示) on ledger entries, each with a Chinese explanation.

A flag is a prompt for the auditor to look closer, never a verdict. The checks are pure
functions of numbers (``*_flag``); ``flags_for`` gathers what they need for a whole page of
entries in a fixed number of grouped queries (five, whatever the page size) and returns the
flags of each entry.

Thresholds come from the app config (defaults in brackets):

- ``AUDIT_BURST_ENTRIES`` [20], ``AUDIT_BURST_MINUTES`` [10]: more than this many entries by
  one scorer within that many minutes (短时大量记分).
- ``AUDIT_BACKDATED_DAYS`` [30]: the deed date is more than this many days before the local
  date the entry was recorded (补记过久).
- ``AUDIT_AMOUNT_FACTOR`` [3], ``AUDIT_AMOUNT_MIN_ENTRIES`` [5]: the points are more than
  this many times the village's median for the same item, judged only when the village has
  at least that many entries of the item (分值异常偏高).
- ``AUDIT_HOUSEHOLD_REVERSALS`` [3]: a household with this many reversals or more in one
  period (本户冲正频繁).
- ``AUDIT_SCORER_REVERSAL_RATE`` [0.2], ``AUDIT_SCORER_MIN_ENTRIES`` [10]: a scorer whose
  entries are reversed more often than this share, once they have that many (记分人冲正率高).
- The scorer is linked to the household (``User.household_id``): nobody scores their own
  family (自家记分).
- Entries outside the rulebook's caps: a hook (``caps_flag``) that flags nothing until the
  rules engine has caps; see its docstring.

Burst, backdated, amount and the scorer's reversal rate are judged on score entries only (a
reversal keeps the deed date of its original; spends are not a scorer's judgment); "linked"
on score entries and reversals; the household's reversals on every entry of that period.
"""
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import and_, func, or_, select

from app.accounts.models import User
from app.extensions import db
from app.points import fmt_points
from app.regions.queries import in_scope
from app.rules.engine import N_
from app.scoring.models import LedgerEntry
from app.scoring.periods import to_local

LABELS = {
    "linked": _l("自家记分"),
    "burst": _l("短时大量记分"),
    "backdated": _l("补记过久"),
    "amount": _l("分值异常偏高"),
    "household_reversals": _l("本户冲正频繁"),
    "scorer_reversals": _l("记分人冲正率高"),
}
EXPLANATIONS = {
    "linked": N_("记分人 %(scorer)s 的账号登记的本人家庭就是这一户：本人不能给自家记分，"
                 "应由另一人记分或审核。"),
    "burst": N_("记分人 %(scorer)s 在 %(minutes)s 分钟内记了 %(count)s 条（超过 "
                "%(limit)s 条）。请核实是否集中补录、代记或批量刷分。"),
    "backdated": N_("事情发生在 %(deed_date)s，到 %(recorded)s 才记录，隔了 %(days)s 天"
                    "（超过 %(limit)s 天）。"),
    "amount": N_("本条 %(points)s 分，是本村这一项通常分值（中位数 %(median)s 分，共 "
                 "%(count)s 条）的 %(ratio)s 倍，超过 %(factor)s 倍。"),
    "household_reversals": N_("这一户在 %(period)s 有 %(count)s 条冲正（%(limit)s 条及以上"
                              "即提示）。"),
    "scorer_reversals": N_("记分人 %(scorer)s 记的 %(total)s 条中有 %(reversed)s 条被冲正"
                           "（%(rate)s%%），超过 %(limit)s%%。"),
}
ORDER = tuple(LABELS)


@dataclass(frozen=True)
class Thresholds:
    """The thresholds of the checks (see the module docstring); ``from_config`` reads them
    from ``app.config`` keys ``AUDIT_*``."""

    burst_entries: int = 20
    burst_minutes: int = 10
    backdated_days: int = 30
    amount_factor: Decimal = Decimal(3)
    amount_min_entries: int = 5
    household_reversals: int = 3
    scorer_reversal_rate: Decimal = Decimal("0.2")
    scorer_min_entries: int = 10

    @classmethod
    def from_config(cls, config) -> "Thresholds":
        d = cls()
        return cls(
            burst_entries=int(config.get("AUDIT_BURST_ENTRIES", d.burst_entries)),
            burst_minutes=int(config.get("AUDIT_BURST_MINUTES", d.burst_minutes)),
            backdated_days=int(config.get("AUDIT_BACKDATED_DAYS", d.backdated_days)),
            amount_factor=Decimal(str(config.get("AUDIT_AMOUNT_FACTOR", d.amount_factor))),
            amount_min_entries=int(config.get("AUDIT_AMOUNT_MIN_ENTRIES",
                                              d.amount_min_entries)),
            household_reversals=int(config.get("AUDIT_HOUSEHOLD_REVERSALS",
                                               d.household_reversals)),
            scorer_reversal_rate=Decimal(str(config.get("AUDIT_SCORER_REVERSAL_RATE",
                                                        d.scorer_reversal_rate))),
            scorer_min_entries=int(config.get("AUDIT_SCORER_MIN_ENTRIES",
                                              d.scorer_min_entries)))


@dataclass(frozen=True)
class Flag:
    """One anomaly of one entry: ``code`` (a key of LABELS) and the numbers of its
    explanation (``params``, a tuple of (name, value) pairs). ``label`` and ``explanation``
    are in the current locale (Chinese by default)."""

    code: str
    params: tuple = field(default=())

    @property
    def label(self) -> str:
        return str(LABELS[self.code])

    @property
    def explanation(self) -> str:
        return gettext(EXPLANATIONS[self.code], **dict(self.params))


def _flag(code: str, **params) -> Flag:
    return Flag(code, tuple(sorted((k, str(v)) for k, v in params.items())))


def _pct(x: Decimal) -> str:
    return format((x * 100).quantize(Decimal("0.1")).normalize(), "f")


# --- pure checks ---------------------------------------------------------------------------

def linked_flag(household_id: int, scorer_household_id: int | None,
                scorer_name: str = "") -> Flag | None:
    """"linked" when the scorer's own household (``User.household_id``) is the entry's."""
    if scorer_household_id is not None and scorer_household_id == household_id:
        return _flag("linked", scorer=scorer_name)
    return None


def backdated_flag(deed_date: date, recorded_local_date: date, limit_days: int) -> Flag | None:
    """"backdated" when ``deed_date`` is more than ``limit_days`` days before the local date
    the entry was recorded (exactly ``limit_days`` days is not flagged)."""
    days = (recorded_local_date - deed_date).days
    if days > limit_days:
        return _flag("backdated", deed_date=deed_date.isoformat(),
                     recorded=recorded_local_date.isoformat(), days=days, limit=limit_days)
    return None


def burst_count(at: datetime, times, minutes: int) -> int:
    """The most entries in any window of ``minutes`` minutes (both ends included) that
    contains ``at``; ``times`` is the sorted list of the scorer's recording times (aware, UTC)
    and includes ``at`` itself."""
    width = timedelta(minutes=minutes)
    best = 0
    lo = bisect_left(times, at - width)
    hi = bisect_right(times, at)
    for i in range(lo, hi):  # a maximal window starts at one of the times before ``at``
        start = times[i]
        best = max(best, bisect_right(times, start + width) - i)
    return best


def burst_flag(at: datetime, times, limit_entries: int, minutes: int,
               scorer_name: str = "") -> Flag | None:
    """"burst" when more than ``limit_entries`` of the scorer's entries (``times``, sorted,
    aware UTC, including ``at``) fall within ``minutes`` minutes of each other around ``at``
    (exactly ``limit_entries`` is not flagged)."""
    count = burst_count(at, times, minutes)
    if count > limit_entries:
        return _flag("burst", scorer=scorer_name, minutes=minutes, count=count,
                     limit=limit_entries)
    return None


def median(values) -> Decimal | None:
    """The median of Decimals (the mean of the middle two for an even count); None if empty."""
    vals = sorted(values)
    if not vals:
        return None
    mid = len(vals) // 2
    if len(vals) % 2:
        return vals[mid]
    return (vals[mid - 1] + vals[mid]) / 2


def amount_flag(points: Decimal, village_median: Decimal | None, count: int, factor: Decimal,
                min_entries: int) -> Flag | None:
    """"amount" when ``|points|`` is more than ``factor`` times the village's median
    ``|points|`` for the item (exactly ``factor`` times is not flagged), judged only when the
    village has at least ``min_entries`` entries of the item (``count``)."""
    if village_median is None or count < min_entries:
        return None
    size, usual = abs(Decimal(points)), abs(Decimal(village_median))
    if size > factor * usual:
        ratio = "∞" if usual == 0 else format((size / usual).quantize(Decimal("0.1"))
                                               .normalize(), "f")
        return _flag("amount", points=fmt_points(points, sign=False),
                     median=fmt_points(village_median, sign=False), count=count, ratio=ratio,
                     factor=fmt_points(factor, sign=False))
    return None


def household_reversals_flag(period: str, reversals: int, limit: int) -> Flag | None:
    """"household_reversals" when the household has ``limit`` or more reversals in
    ``period`` (YYYY-MM)."""
    if reversals >= limit:
        return _flag("household_reversals", period=period, count=reversals, limit=limit)
    return None


def scorer_reversals_flag(total: int, reversed_count: int, rate: Decimal, min_entries: int,
                          scorer_name: str = "") -> Flag | None:
    """"scorer_reversals" when at least ``min_entries`` of the scorer's score entries exist
    (``total``) and more than ``rate`` of them (a share, e.g. 0.2) were reversed (exactly
    ``rate`` is not flagged)."""
    if total < min_entries or total == 0:
        return None
    share = Decimal(reversed_count) / Decimal(total)
    if share > rate:
        return _flag("scorer_reversals", scorer=scorer_name, total=total,
                     reversed=reversed_count, rate=_pct(share), limit=_pct(rate))
    return None


def caps_flag(entry, caps=None) -> Flag | None:
    """Hook for "outside the rulebook's caps" (超出积分细则上限): e.g. at most N points of an
    item per household per period, or a ceiling on a category.

    The rules engine does not know caps yet (they arrive with the rules-engine issue), so
    there is nothing true to check against: this returns None and no such flag is shown.
    When caps exist, the engine should expose them per rulebook version; ``flags_for`` will
    then gather, in one grouped query, each (household, item or category, period) sum of the
    page's entries and pass the applicable caps here, and this function will compare them
    (pure, like the other checks) and return a Flag "caps" with its own explanation.
    """
    return None


# --- gathering a page's context in grouped queries -------------------------------------------

def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)


def _dec(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _scorers(ids) -> dict:
    """{user id: (household_id, display_name)}: one query."""
    if not ids:
        return {}
    return {uid: (hid, name) for uid, hid, name in db.session.execute(
        select(User.id, User.household_id, User.display_name).where(User.id.in_(ids)))}


def _burst_times(entries, scope, minutes: int) -> dict:
    """{scorer id: sorted recording times} of score entries in the windows around the page's
    score entries: one query (one OR-ed range per scorer and merged window)."""
    width = timedelta(minutes=minutes)
    spans = {}
    for e in entries:
        if e.kind == "score" and e.recorded_by_id is not None:
            at = _aware(e.recorded_at)
            spans.setdefault(e.recorded_by_id, []).append((at - width, at + width))
    if not spans:
        return {}
    clauses = []
    for uid, ranges in spans.items():
        ranges.sort()
        merged = [list(ranges[0])]
        for lo, hi in ranges[1:]:
            if lo <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        clauses += [and_(LedgerEntry.recorded_by_id == uid, LedgerEntry.recorded_at >= lo,
                         LedgerEntry.recorded_at <= hi) for lo, hi in merged]
    stmt = select(LedgerEntry.recorded_by_id, LedgerEntry.recorded_at).where(
        LedgerEntry.kind == "score", or_(*clauses))
    times = {}
    for uid, at in db.session.execute(in_scope(stmt, LedgerEntry.village_id, scope)):
        times.setdefault(uid, []).append(_aware(at))
    for values in times.values():
        values.sort()
    return times


def _medians(entries) -> dict:
    """{(village id, item code): (median |points|, count)} over the villages' score entries
    that were not declined: one query. A window function numbers each item's entries by
    |points|, and only the middle one or two rows of each come back. (These are the
    entries' own villages, so the query needs no further scoping.)"""
    pairs = {(e.village_id, e.item_code) for e in entries if e.kind == "score"}
    if not pairs:
        return {}
    size = func.abs(LedgerEntry.points)
    keys = (LedgerEntry.village_id, LedgerEntry.item_code)
    inner = (select(LedgerEntry.village_id, LedgerEntry.item_code, size.label("size"),
                    func.row_number().over(partition_by=keys, order_by=size).label("rn"),
                    func.count().over(partition_by=keys).label("cnt"))
             .where(LedgerEntry.kind == "score", LedgerEntry.status != "declined",
                    LedgerEntry.village_id.in_({v for v, _ in pairs}),
                    LedgerEntry.item_code.in_({c for _, c in pairs}))
             .subquery())
    stmt = select(inner.c.village_id, inner.c.item_code, inner.c.size, inner.c.cnt).where(
        inner.c.rn.in_([(inner.c.cnt + 1) // 2, (inner.c.cnt + 2) // 2]))
    middles = {}
    for vid, code, value, cnt in db.session.execute(stmt):
        if (vid, code) in pairs:
            middles.setdefault((vid, code), ([], cnt))[0].append(_dec(value))
    return {key: (median(values), cnt) for key, (values, cnt) in middles.items()}


def _household_reversals(entries, scope) -> dict:
    """{(household id, period): reversals}: one grouped query."""
    households = {e.household_id for e in entries}
    periods = {e.period for e in entries}
    if not households:
        return {}
    stmt = (select(LedgerEntry.household_id, LedgerEntry.period, func.count(LedgerEntry.id))
            .where(LedgerEntry.kind == "reversal", LedgerEntry.household_id.in_(households),
                   LedgerEntry.period.in_(periods))
            .group_by(LedgerEntry.household_id, LedgerEntry.period))
    return {(hid, period): n for hid, period, n in
            db.session.execute(in_scope(stmt, LedgerEntry.village_id, scope))}


def _scorer_reversals(entries, scope) -> dict:
    """{scorer id: (score entries, of which reversed)} in scope: one grouped query."""
    scorers = {e.recorded_by_id for e in entries
               if e.kind == "score" and e.recorded_by_id is not None}
    if not scorers:
        return {}
    reversal = db.aliased(LedgerEntry)
    stmt = (select(LedgerEntry.recorded_by_id, func.count(LedgerEntry.id),
                   func.count(reversal.id))
            .outerjoin(reversal, reversal.reverses_id == LedgerEntry.id)
            .where(LedgerEntry.kind == "score", LedgerEntry.recorded_by_id.in_(scorers))
            .group_by(LedgerEntry.recorded_by_id))
    return {uid: (total, rev) for uid, total, rev in
            db.session.execute(in_scope(stmt, LedgerEntry.village_id, scope))}


def flags_for(entries, scope, thresholds: Thresholds | None = None) -> dict:
    """{entry id: [Flag, ...]} for ``entries`` (LedgerEntry list, e.g. one page), in the
    order of ``ORDER``; entries without flags map to []. ``scope`` (a Region) bounds the
    counts of the burst and reversal checks. Costs at most five queries, whatever the number
    of entries; ``thresholds`` defaults to ``Thresholds.from_config(current_app.config)``."""
    if thresholds is None:
        from flask import current_app
        thresholds = Thresholds.from_config(current_app.config)
    t = thresholds
    entries = list(entries)
    if not entries:
        return {}
    scorers = _scorers({e.recorded_by_id for e in entries if e.recorded_by_id is not None})
    times = _burst_times(entries, scope, t.burst_minutes)
    medians = _medians(entries)
    hh_reversals = _household_reversals(entries, scope)
    sc_reversals = _scorer_reversals(entries, scope)
    result = {}
    for e in entries:
        scorer_hh, scorer_name = scorers.get(e.recorded_by_id, (None, ""))
        found = []
        if e.kind != "spend":
            found.append(linked_flag(e.household_id, scorer_hh, scorer_name))
        if e.kind == "score":
            found.append(burst_flag(_aware(e.recorded_at), times.get(e.recorded_by_id, []),
                                    t.burst_entries, t.burst_minutes, scorer_name))
            found.append(backdated_flag(e.deed_date, to_local(e.recorded_at).date(),
                                        t.backdated_days))
            med, count = medians.get((e.village_id, e.item_code), (None, 0))
            found.append(amount_flag(Decimal(e.points), med, count, t.amount_factor,
                                     t.amount_min_entries))
        found.append(household_reversals_flag(
            e.period, hh_reversals.get((e.household_id, e.period), 0), t.household_reversals))
        if e.kind == "score" and e.recorded_by_id is not None:
            total, rev = sc_reversals.get(e.recorded_by_id, (0, 0))
            found.append(scorer_reversals_flag(total, rev, t.scorer_reversal_rate,
                                               t.scorer_min_entries, scorer_name))
        found.append(caps_flag(e))
        flags = [f for f in found if f is not None]
        flags.sort(key=lambda f: ORDER.index(f.code))
        result[e.id] = flags
    return result
