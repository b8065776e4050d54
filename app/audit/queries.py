"""Reads of the township audit: the filtered ledger explorer, its totals, the choices of its
filter form, and the audit log. Everything goes through ``regions.queries.in_scope``.

A filter value naming a village or villager group outside the user's scope is a 404, like
any other object outside it. Values that do not parse (a malformed date, an unknown status, a
start date after the end date) are kept as errors at their field (``EntryFilters.errors``):
the explorer shows them and lists nothing rather than an unfiltered ledger.
"""
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from flask import abort
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, or_, select, text
from sqlalchemy.orm import joinedload, selectinload

from app.accounts.models import User
from app.audit.models import AuditLog
from app.audit.services import ACTION_LABELS
from app.extensions import db
from app.fields import read_date
from app.ids import as_id
from app.households.models import Household
from app.households.numbers import house_number
from app.regions.models import Region
from app.regions.queries import children, in_scope, region_or_404, villages_under
from app.scoring.models import STATUSES, LedgerChain, LedgerEntry, VillageMonth
from app.scoring.periods import local_zone

PER_PAGE = 50
#: Statuses that count nowhere: left out of the point totals (they still count as rows).
VOID = ("declined", "cancelled")
CENT = Decimal("0.01")


CHOOSE_FROM_LIST = _l("请从列表中选择。")
DATES_REVERSED = _l("结束日期早于开始日期，请改正。")
GROUP_NOT_IN_VILLAGE = _l("这个村民小组不属于所选的村，请重新选择小组")


def _int(value, name: str, errors: dict):
    if value in (None, ""):
        return None
    number = as_id(value)
    if number is None:
        errors[name] = CHOOSE_FROM_LIST
    return number


def _date(value, name: str, errors: dict):
    day, message = read_date(value)
    if message:
        errors[name] = message
    return day


def _dates(args, errors: dict) -> tuple:
    """(date_from, date_to) from ``args``; a reversed pair is an error at ``date_to``."""
    date_from = _date(args.get("date_from"), "date_from", errors)
    date_to = _date(args.get("date_to"), "date_to", errors)
    if date_from and date_to and date_from > date_to:
        errors["date_to"] = DATES_REVERSED
    return date_from, date_to


def _text(value, limit: int = 64) -> str:
    return (value or "").strip()[:limit]


@dataclass(frozen=True)
class EntryFilters:
    """The explorer's filters; None or "" means "any".

    ``village`` and ``group`` are Region ids; ``house`` a house number (exact); ``scorer``
    the id of the User who recorded; ``item`` an item code (exact) or part of an item name;
    ``category`` a category name (exact); ``status`` one of scoring.models.STATUSES;
    ``date_from`` / ``date_to`` bound the deed date (local dates, both inclusive).
    """

    village: int | None = None
    group: int | None = None
    house: str = ""
    scorer: int | None = None
    item: str = ""
    category: str = ""
    status: str = ""
    date_from: date | None = None
    date_to: date | None = None
    #: {field name: message (lazy gettext, Chinese first)} for values that did not parse;
    #: the field itself is then None or "". Not part of ``to_args``.
    errors: dict = field(default_factory=dict, compare=False)

    @classmethod
    def from_args(cls, args) -> "EntryFilters":
        """Filters from a request's query string (a MultiDict). A value that does not parse
        (an id that is not a whole number, an unknown status, a malformed date) or a
        ``date_from`` after ``date_to`` leaves that field unset and puts a message in
        ``errors`` under its name."""
        errors = {}
        status = _text(args.get("status"), 16)
        if status not in STATUSES and status:
            errors["status"] = CHOOSE_FROM_LIST
        date_from, date_to = _dates(args, errors)
        return cls(village=_int(args.get("village"), "village", errors),
                   group=_int(args.get("group"), "group", errors),
                   house=house_number(args.get("house"))[:32],
                   scorer=_int(args.get("scorer"), "scorer", errors),
                   item=_text(args.get("item"), 128), category=_text(args.get("category")),
                   status=status if status in STATUSES else "",
                   date_from=date_from, date_to=date_to, errors=errors)

    def to_args(self) -> dict:
        """The filters that are set, as query-string arguments (for links: pages, exports)."""
        return {k: (v.isoformat() if isinstance(v, date) else v)
                for k, v in asdict(self).items() if k != "errors" and v not in (None, "")}

    @property
    def is_empty(self) -> bool:
        return not self.to_args()


def check_filters(scope: Region, filters: EntryFilters) -> EntryFilters:
    """The filters checked against ``scope``: 404 when they name a village or group outside
    it. A group chosen without its village (an edited or old link) gets its village, so
    the form shows both; a group not in the chosen village (the village was changed after
    the group was picked) and an account that recorded nothing in ``scope`` are errors at
    their fields (``errors``). Returns the filters (a new value when the village was set)."""
    if filters.village is not None:
        village = region_or_404(filters.village, scope)
        if village.level != "village":
            abort(404)
    if filters.group is not None:
        group = region_or_404(filters.group, scope)
        if group.level != "group":
            abort(404)
        if filters.village is None and scope.level != "village":
            filters = replace(filters, village=group.parent_id)
        elif filters.village is not None and group.parent_id != filters.village:
            filters.errors["group"] = GROUP_NOT_IN_VILLAGE
    if filters.scorer is not None and "scorer" not in filters.errors:
        recorded = in_scope(select(LedgerEntry.id).where(
            LedgerEntry.recorded_by_id == filters.scorer).limit(1), LedgerEntry.village_id, scope)
        if db.session.execute(recorded).first() is None:
            filters.errors["scorer"] = CHOOSE_FROM_LIST
    return filters


def _filtered(stmt, scope: Region, f: EntryFilters):
    """``stmt`` (a Select over LedgerEntry joined to Household) restricted to ``scope`` and
    the filters."""
    stmt = in_scope(stmt, LedgerEntry.village_id, scope)
    if f.village is not None:
        stmt = stmt.where(LedgerEntry.village_id == f.village)
    if f.group is not None:
        stmt = stmt.where(Household.group_id == f.group)
    if f.house:
        stmt = stmt.where(Household.house_number == f.house)
    if f.scorer is not None:
        stmt = stmt.where(LedgerEntry.recorded_by_id == f.scorer)
    if f.item:
        stmt = stmt.where(or_(LedgerEntry.item_code == f.item,
                              LedgerEntry.item_name.contains(f.item, autoescape=True)))
    if f.category:
        stmt = stmt.where(LedgerEntry.category_name == f.category)
    if f.status:
        stmt = stmt.where(LedgerEntry.status == f.status)
    if f.date_from is not None:
        stmt = stmt.where(LedgerEntry.deed_date >= f.date_from)
    if f.date_to is not None:
        stmt = stmt.where(LedgerEntry.deed_date <= f.date_to)
    return stmt


def entries_stmt(scope: Region, f: EntryFilters):
    """A Select of the filtered entries, newest first (recorded time, then id), with the
    household, its group and village, the scorer, the evidence and reversals each loaded by
    one more query over the page's ids, so a page of rows costs a fixed number of queries.
    Not by joins: PostgreSQL took 16 ms to plan the seven-table join at 5,000,000 entries
    (1.4 ms to run it), or ran a generic plan that sorted three months of entries (issue 10).
    """
    stmt = (select(LedgerEntry).join(Household, Household.id == LedgerEntry.household_id)
            .options(selectinload(LedgerEntry.household).options(
                         selectinload(Household.group), selectinload(Household.village)),
                     selectinload(LedgerEntry.recorded_by), selectinload(LedgerEntry.evidence),
                     selectinload(LedgerEntry.reversed_by)))
    return _filtered(stmt, scope, f).order_by(LedgerEntry.recorded_at.desc(),
                                              LedgerEntry.id.desc())


def entries_page(scope: Region, f: EntryFilters, page: int, total: int | None = None):
    """A Flask-SQLAlchemy Pagination of the filtered entries (``PER_PAGE`` a page). With
    ``total`` (``Totals.count`` of the same filters) the rows are not counted again."""
    found = db.paginate(entries_stmt(scope, f), page=max(1, page), per_page=PER_PAGE,
                        error_out=False, count=total is None)
    if total is not None:
        found.total = total
    return found


@dataclass(frozen=True)
class Totals:
    """Totals of a filtered set: ``count`` of rows (every status), and Decimal point sums
    over the rows that are not declined or cancelled: ``awards`` (direction award, reversals
    of awards net them out), ``deductions`` (<= 0), ``spends`` (<= 0) and ``net`` (their
    sum)."""

    count: int
    awards: Decimal
    deductions: Decimal
    spends: Decimal
    net: Decimal


def _dec(value) -> Decimal:
    return Decimal(str(value if value is not None else 0)).quantize(CENT)


def totals(scope: Region, f: EntryFilters) -> Totals:
    """Totals of the whole filtered set, computed in SQL in one query (no rows loaded):
    from the village monthly totals when the filters allow (``_summary_totals``), else
    from the ledger."""
    found = _summary_totals(scope, f)
    if found is not None:
        return found
    live = LedgerEntry.status.notin_(VOID)

    def part(direction):
        return func.coalesce(func.sum(case(
            (and_(live, LedgerEntry.direction == direction), LedgerEntry.points), else_=0)), 0)

    stmt = (select(func.count(LedgerEntry.id), part("award"), part("deduction"), part("spend"))
            .select_from(LedgerEntry)
            .join(Household, Household.id == LedgerEntry.household_id))
    count, awards, deductions, spends = db.session.execute(_filtered(stmt, scope, f)).one()
    awards, deductions, spends = _dec(awards), _dec(deductions), _dec(spends)
    return Totals(count=count, awards=awards, deductions=deductions, spends=spends,
                  net=awards + deductions + spends)


def _whole_months(f: EntryFilters) -> bool:
    """True when the date filters start on a first and end on a last day of a month (or are
    not set), so that they select whole months of deed dates."""
    return ((f.date_from is None or f.date_from.day == 1)
            and (f.date_to is None or (f.date_to + timedelta(days=1)).day == 1))


def _summary_totals(scope: Region, f: EntryFilters) -> Totals | None:
    """The totals of confirmed entries (status filter ``confirmed``) by village, category
    and whole months, read from ``VillageMonth`` (issue 10: a quarter of a village at
    county scale is a few dozen rows instead of thousands of entries); None when other
    filters are set, which only the ledger can answer. Equal to the ledger's totals
    (tests/test_audit_totals.py)."""
    if (f.status != "confirmed" or f.group is not None or f.house or f.scorer is not None
            or f.item or not _whole_months(f)):
        return None
    vm = VillageMonth

    def part(direction):
        return func.coalesce(func.sum(case((vm.direction == direction, vm.points),
                                           else_=0)), 0)

    stmt = in_scope(select(func.coalesce(func.sum(vm.entries), 0), part("award"),
                           part("deduction"), part("spend")), vm.village_id, scope)
    if f.village is not None:
        stmt = stmt.where(vm.village_id == f.village)
    if f.category:
        stmt = stmt.where(vm.category_name == f.category)
    if f.date_from is not None:
        stmt = stmt.where(vm.period >= f"{f.date_from.year}-{f.date_from.month:02d}")
    if f.date_to is not None:
        stmt = stmt.where(vm.period <= f"{f.date_to.year}-{f.date_to.month:02d}")
    count, awards, deductions, spends = db.session.execute(stmt).one()
    awards, deductions, spends = _dec(awards), _dec(deductions), _dec(spends)
    return Totals(count=int(count), awards=awards, deductions=deductions, spends=spends,
                  net=awards + deductions + spends)


def village_ids(scope: Region, f: EntryFilters) -> list:
    """Ids of the villages that have entries in the filtered set (sorted)."""
    stmt = (select(LedgerEntry.village_id).join(Household,
                                                 Household.id == LedgerEntry.household_id)
            .distinct())
    return sorted(db.session.execute(_filtered(stmt, scope, f)).scalars())


def chain_heads(village_ids) -> list:
    """[(village Region, seq, head_hash)] of the given villages, by village code; (0, "")
    for a village with no chain yet. One query for the regions, one for the heads."""
    ids = list(village_ids)
    if not ids:
        return []
    villages = db.session.execute(select(Region).where(Region.id.in_(ids))
                                  .order_by(Region.code)).scalars().all()
    heads = {vid: (seq, head) for vid, seq, head in db.session.execute(
        select(LedgerChain.village_id, LedgerChain.seq, LedgerChain.head_hash)
        .where(LedgerChain.village_id.in_(ids)))}
    return [(v, *heads.get(v.id, (0, ""))) for v in villages]


_SKIP_SCAN = {  # the distinct values of a column in one village, one index probe each
    column: text(f"""
        WITH RECURSIVE t(v) AS (
            SELECT min({column}) FROM ledger_entry WHERE village_id = :vid
            UNION ALL
            SELECT (SELECT min({column}) FROM ledger_entry
                    WHERE village_id = :vid AND {column} > t.v)
            FROM t WHERE t.v IS NOT NULL)
        SELECT v FROM t WHERE v IS NOT NULL""")
    for column in ("category_name", "recorded_by_id")}


def _distinct_per_village(column: str, village_ids) -> set:
    """The distinct non-null values of ``column`` among the entries of ``village_ids``,
    found by a skip scan of the (village_id, column) index (issue 10: a DISTINCT over the
    ledger read every entry of the region; this reads one index entry per value)."""
    found = set()
    for vid in village_ids:
        found.update(db.session.execute(_SKIP_SCAN[column], {"vid": vid}).scalars())
    return found


def filter_choices(scope: Region, f: EntryFilters) -> dict:
    """Choices of the filter form, all within ``scope``: ``villages`` (Region list),
    ``groups`` (the groups of the chosen village, or of the scope when it is a village),
    ``scorers`` (Users who recorded entries in scope, by name), ``categories`` (names)."""
    villages = villages_under(scope)
    village = None
    if scope.level == "village":
        village = scope
    elif f.village is not None:
        village = next((v for v in villages if v.id == f.village), None)
    groups = children(village) if village is not None else []
    ids = [v.id for v in villages]
    recorders = _distinct_per_village("recorded_by_id", ids)
    scorers = db.session.execute(select(User).where(User.id.in_(recorders))
                                 .order_by(User.display_name, User.id)).scalars().all() \
        if recorders else []
    categories = sorted(_distinct_per_village("category_name", ids))
    return {"villages": villages, "groups": groups, "scorers": scorers,
            "categories": categories}


def entry_or_404(entry_id, scope: Region) -> LedgerEntry:
    """The entry ``entry_id`` with its household, group, scorer, evidence, reversal links and
    transitions (with who moved them) loaded, when its village lies in ``scope``; else 404."""
    try:
        ident = int(entry_id)
    except (TypeError, ValueError):
        abort(404)
    from app.scoring.models import EntryTransition
    stmt = (select(LedgerEntry).where(LedgerEntry.id == ident)
            .options(joinedload(LedgerEntry.household).options(
                         joinedload(Household.group), joinedload(Household.village)),
                     joinedload(LedgerEntry.recorded_by), joinedload(LedgerEntry.evidence),
                     joinedload(LedgerEntry.reverses), selectinload(LedgerEntry.reversed_by),
                     selectinload(LedgerEntry.transitions).joinedload(EntryTransition.by_user)))
    entry = db.session.execute(in_scope(stmt, LedgerEntry.village_id, scope)).unique() \
        .scalar_one_or_none()
    if entry is None:
        abort(404)
    return entry


def entry_objections(entry: LedgerEntry) -> list:
    """Objections to ``entry`` (already scoped through the entry), oldest first, with who
    raised and resolved them loaded."""
    from app.review.models import Objection
    return db.session.execute(
        select(Objection).where(Objection.entry_id == entry.id,
                                Objection.village_id == entry.village_id)
        .options(joinedload(Objection.by_household), joinedload(Objection.by_user),
                 joinedload(Objection.resolved_by))
        .order_by(Objection.id)).scalars().all()


# --- the audit log -----------------------------------------------------------------------

@dataclass(frozen=True)
class LogFilters:
    """Filters of the audit log: ``region`` (a Region id: the log of that region and below),
    ``actor`` (a User id), ``action`` (a code), ``date_from`` / ``date_to`` (local dates,
    inclusive)."""

    region: int | None = None
    actor: int | None = None
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None
    #: as EntryFilters.errors
    errors: dict = field(default_factory=dict, compare=False)

    @classmethod
    def from_args(cls, args) -> "LogFilters":
        """Filters from a query string; what does not parse goes to ``errors`` (as
        EntryFilters.from_args)."""
        errors = {}
        date_from, date_to = _dates(args, errors)
        action = _text(args.get("action"))
        if action and action not in ACTION_LABELS:
            errors["action"] = CHOOSE_FROM_LIST
        return cls(region=_int(args.get("region"), "region", errors),
                   actor=_int(args.get("actor"), "actor", errors),
                   action=action if action in ACTION_LABELS else "", date_from=date_from,
                   date_to=date_to, errors=errors)

    def to_args(self) -> dict:
        """The filters that are set, as query-string arguments."""
        return {k: (v.isoformat() if isinstance(v, date) else v)
                for k, v in asdict(self).items() if k != "errors" and v not in (None, "")}


def local_day_start(d: date) -> datetime:
    """The UTC instant a local date begins (Asia/Shanghai by default)."""
    return datetime.combine(d, time(0), local_zone()).astimezone(timezone.utc)


def log_page(scope: Region, f: LogFilters, page: int):
    """A Pagination of the audit log in ``scope`` (404 when ``f.region`` lies outside it),
    newest first, ``PER_PAGE`` rows a page, with actor and region loaded."""
    stmt = (select(AuditLog).options(joinedload(AuditLog.actor), joinedload(AuditLog.region)))
    stmt = in_scope(stmt, AuditLog.region_id, scope)
    if f.region is not None:
        stmt = in_scope(stmt, AuditLog.region_id, region_or_404(f.region, scope))
    if f.actor is not None:
        stmt = stmt.where(AuditLog.actor_id == f.actor)
    if f.action:
        stmt = stmt.where(AuditLog.action == f.action)
    if f.date_from is not None:
        stmt = stmt.where(AuditLog.at >= local_day_start(f.date_from))
    if f.date_to is not None:
        stmt = stmt.where(AuditLog.at < local_day_start(f.date_to + timedelta(days=1)))
    stmt = stmt.order_by(AuditLog.at.desc(), AuditLog.id.desc())
    return db.paginate(stmt, page=max(1, page), per_page=PER_PAGE, error_out=False)


def log_choices(scope: Region) -> dict:
    """Choices of the log's filter form: ``actors`` (Users who acted in scope), ``actions``
    (codes used in scope), ``regions`` (the scope and its villages)."""
    actor_ids = in_scope(select(AuditLog.actor_id).distinct(), AuditLog.region_id, scope)
    actors = db.session.execute(select(User).where(User.id.in_(actor_ids))
                                .order_by(User.display_name, User.id)).scalars().all()
    actions = db.session.execute(
        in_scope(select(AuditLog.action).distinct(), AuditLog.region_id, scope)
        .order_by(AuditLog.action)).scalars().all()
    return {"actors": actors, "actions": actions,
            "regions": [scope] + (villages_under(scope) if scope.level != "village" else [])}
