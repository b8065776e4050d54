"""Posting many entries in one request: the batch inspection grid and the offline outbox.

Both send rows ``{"key", "household_id", "item_id", "deed_date", "problems"?, "quantity"?,
"points"?}`` to ``post_rows``. Each row is posted by ``scoring.services.post_entry`` with
the row's client-made idempotency key, inside its own SAVEPOINT: valid rows are posted and
refused rows are reported at their row (Chinese reason), so a cadre fixes the few refused
households without retyping the whole group. This is deliberately not the all-or-nothing
rule of roster and rulebook imports: an inspection is thirty independent deeds, and one
household that moved away meanwhile must not hold back the other twenty-nine. A resubmit of
the same rows posts nothing twice (post_entry returns the first entry of a key).
"""
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.extensions import db
from app.ids import as_id
from app.households.models import Household
from app.i18n import refusal_text
from app.rules.engine import MAX_CHECKS, Refusal
from app.rules.models import RuleItem
from app.rules.queries import version_in_force, with_items
from app.scoring.models import LedgerEntry
from app.scoring.queries import standing_on
from app.scoring.services import post_entry

MAX_ROWS = 500


def scorecard_items(village, on: date) -> list:
    """RuleItems of kind "scorecard" (inspection scorecards, RULE-FEATURES row 2) in the
    rulebook version in force for ``village`` on local date ``on``, in rulebook order."""
    version = with_items(version_in_force(village, on))
    if version is None:
        return []
    return [i for c in version.categories for i in c.items if i.kind == "scorecard"]


def items_in_force(village, on: date) -> list:
    """Every item of the version in force on ``on`` as JSON-able dicts
    ``{"id", "name", "kind", "category"}`` (what the offline client needs to fix an entry)."""
    version = with_items(version_in_force(village, on))
    if version is None:
        return []
    return [{"id": i.id, "name": i.name, "kind": i.kind, "category": c.name}
            for c in version.categories for i in c.items]


def checks_of(item) -> list:
    """Column labels of an inspection scorecard: the rulebook's ``checks`` (a list of str in
    the item's params) or, when it lists none, as many generic checks as the maximum allows
    (max // per_problem, 1..MAX_CHECKS). One failed check is one problem found."""
    params = item.params or {}
    checks = [str(c) for c in params.get("checks") or [] if str(c).strip()]
    if checks:
        return checks[:MAX_CHECKS]
    per = Decimal(str(params.get("per_problem") or 1)) or Decimal(1)
    n = int(min(MAX_CHECKS, max(1, (item.max_points or per) // per)))
    return [_("检查%(n)s", n=i) for i in range(1, n + 1)]


def _household_in(village, household_id):
    household_id = as_id(household_id)
    if household_id is None:
        return None
    return db.session.execute(
        select(Household).where(Household.id == household_id,
                                Household.village_id == village.id)).scalar_one_or_none()


def _int(value, default=None):
    if value in (None, ""):
        return default
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(value)
    return int(value)


def _row_result(row, status, **extra) -> dict:
    return {"key": str(row.get("key") or "") if isinstance(row, dict) else "",
            "status": status, **extra}


def post_row(village, row, *, recorded_by) -> dict:
    """Post one row (see the module docstring) for a household of ``village`` (already
    scoped by the caller); returns ``{"key", "status": "posted", "entry_id", "points"
    (str), "household_id", "item_name", "entry_status"}`` (``entry_status``: the entry's
    own status, "awaiting_review" when a second cadre must approve it) or ``{"key",
    "status": "refused"|"not_found", "code", "message" (Chinese)}``. A refused row leaves
    nothing behind (its SAVEPOINT is rolled back). ``deed_date`` is a local ISO date; the
    key must be 8..64 characters."""
    if not isinstance(row, dict):
        return _row_result({}, "refused", code="bad_row", message=_("数据格式有误"))
    key = str(row.get("key") or "")
    if not 8 <= len(key) <= 64:
        return _row_result(row, "refused", code="bad_key", message=_("请求有误，请刷新页面后重试"))
    household = _household_in(village, row.get("household_id"))
    if household is None:  # another village's household, or none: as if it did not exist
        return _row_result(row, "not_found", code="not_found", message=_("找不到这一户"))
    try:
        deed_date = date.fromisoformat(str(row.get("deed_date") or ""))
        extras = {"problems": _int(row.get("problems"))}
        quantity = _int(row.get("quantity"), 1)
    except (TypeError, ValueError):
        return _row_result(row, "refused", code="bad_row",
                           message=_("日期或数字填写有误"), household_id=household.id)
    extras = {k: v for k, v in extras.items() if v is not None}
    points = row.get("points")  # a str or a Decimal (the endpoint parses JSON fractions so)
    note = str(row.get("note") or "")[:500] or failed_checks_note(
        row.get("item_id"), row.get("checks"), extras.get("problems"))
    try:
        with db.session.begin_nested():
            entry = post_entry(household=household, item_id=row.get("item_id"),
                               deed_date=deed_date, recorded_by=recorded_by, quantity=quantity,
                               points=str(points) if points not in (None, "") else None,
                               note=note,
                               idempotency_key=key, **extras)
    except Refusal as exc:
        return _row_result(row, "refused", code=exc.code, message=refusal_text(exc),
                           household_id=household.id)
    return _row_result(row, "posted", entry_id=entry.id, points=format(entry.points, "f"),
                       household_id=household.id, item_name=entry.item_name,
                       entry_status=entry.status)


def failed_checks_note(item_id, marks, problems) -> str | None:
    """The entry's note naming the checks an inspection failed, as the grid marked them
    (``marks``: one int 0..2 per check of ``checks_of(item)``, in order), e.g.
    "未通过：院落整洁 1 处、厕所干净 2 处（共 3 处）"; None when the item is not a
    scorecard, nothing failed, or the marks do not add up to ``problems`` (the count
    that is scored)."""
    if not isinstance(marks, list) or not problems or not as_id(item_id):
        return None   # no marks (an outbox row of another item): no lookup
    item = db.session.get(RuleItem, as_id(item_id))   # the session's, after the first row
    if item is None or item.kind != "scorecard":
        return None
    names = checks_of(item)
    if len(marks) != len(names) or not all(type(m) is int and 0 <= m <= 2 for m in marks):
        return None
    if sum(marks) != problems:
        return None
    # ledger text, in Chinese whatever the cadre's locale (as the engine's reasons)
    failed = [f"{name} {m} 处" for name, m in zip(names, marks, strict=True) if m]
    total = f"（共 {problems} 处）" if len(failed) > 1 else ""
    return ("未通过：" + "、".join(failed) + total)[:500]


def post_rows(village, rows, *, recorded_by) -> list:
    """Post ``rows`` (a list of row dicts, at most MAX_ROWS) for households of ``village``
    in the caller's transaction (flushed, not committed); returns one result per row, in
    order (see ``post_row``). Raises ValueError when ``rows`` is not a list or too long."""
    if not isinstance(rows, list) or len(rows) > MAX_ROWS:
        raise ValueError("rows")
    return [post_row(village, row, recorded_by=recorded_by) for row in rows]


def scored_on(item, household_ids, on: date) -> dict:
    """``{household_id: Decimal points}`` of the households among ``household_ids`` that
    already hold an entry of ``item`` for the deed date ``on`` that still counts
    (``scoring.queries.standing_on``): the grid shows them as done, so a reloaded page does
    not score them twice (and the posting refuses a second one)."""
    return standing_on(item.code, household_ids, on)


def recent_households(user, village_id: int, limit: int = 8) -> list:
    """Active households of ``village_id`` that ``user`` scored lately, most recent first
    (a list of Household; at most ``limit``)."""
    last = func.max(LedgerEntry.recorded_at).label("last")
    recent = (select(LedgerEntry.household_id, last)
              .where(LedgerEntry.recorded_by_id == user.id, LedgerEntry.kind == "score",
                     LedgerEntry.village_id == village_id)
              .group_by(LedgerEntry.household_id).order_by(last.desc()).limit(limit * 2)
              ).subquery()
    stmt = (select(Household).join(recent, recent.c.household_id == Household.id)
            .where(Household.status == "active").order_by(recent.c.last.desc()).limit(limit))
    return db.session.execute(stmt).scalars().all()
