"""Exports of the explorer's filtered set: CSV (UTF-8 with BOM, for Excel and WPS) and Excel
(openpyxl).

Each export carries the time it was made and, for every village in it, the head of the
village's hash chain (``seq`` and hash) read in the same database snapshot as the rows
(``snapshot``), so ``flask --app wsgi ledger verify`` run later proves the exported rows are
unchanged: the chain still passes through that seq with that hash.

Cells that a spreadsheet would run as a formula (text starting with = + - @, a tab or a
carriage return) are neutralised with a leading single quote; numbers (ids, quantities,
points) stay numbers: numeric cells in Excel, plain numbers in CSV.
"""
import csv
import io
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from app.audit import queries
from app.audit.anomalies import flags_for
from app.audit.labels import KIND_LABELS, STATUS_LABELS, label
from app.extensions import db
from app.scoring.periods import to_local

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 250  # rows a query; the burst check ORs one range per window (SQLite depth)


def neutralise(value):
    """``value`` safe for a spreadsheet cell: a str starting with = + - @, a tab or a carriage
    return gets a leading single quote (so it is shown as text, never run as a formula);
    everything else (numbers, dates, None, other text) is returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


@contextmanager
def snapshot():
    """A context in which every read sees one consistent snapshot, so the chain heads and the
    rows of an export agree. For read-only requests only: on PostgreSQL the request's
    transaction is ended (rolled back) and a REPEATABLE READ one begun, and rolled back on
    leaving; on SQLite every transaction already starts with BEGIN IMMEDIATE
    (app/__init__.py), which holds the database still until it ends."""
    postgres = db.session.get_bind().dialect.name == "postgresql"
    if postgres:
        db.session.rollback()
        db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    try:
        yield
    finally:
        if postgres:
            db.session.rollback()


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    width: int = 12
    number_format: str | None = None


def columns() -> list:
    """The export's columns (headers in the current locale)."""
    return [
        Column("id", _("记录编号"), 9), Column("village_code", _("村代码"), 14),
        Column("village", _("村"), 14), Column("group", _("村民小组"), 12),
        Column("house", _("门牌号"), 8), Column("head", _("户主"), 10),
        Column("kind", _("类型"), 8), Column("item_code", _("评分项代码"), 10),
        Column("item", _("评分项"), 24), Column("category", _("类别"), 12),
        Column("unit_points", _("单项分值"), 9, "0.00"), Column("quantity", _("数量"), 6),
        Column("points", _("分值"), 8, "0.00"),
        Column("deed_date", _("事情发生日期"), 12, "yyyy-mm-dd"),
        Column("period", _("所属期"), 9), Column("status", _("状态"), 10),
        Column("scorer", _("记分人"), 10),
        Column("recorded_at", _("记录时间（北京时间）"), 18, "yyyy-mm-dd hh:mm:ss"),
        Column("reverses", _("冲正的记录编号"), 10), Column("note", _("备注"), 20),
        Column("reason", _("原因"), 20), Column("evidence", _("证据照片 SHA-256"), 20),
        Column("seq", _("链序号"), 8), Column("hash", _("哈希"), 20),
        Column("flags", _("异常提示"), 24),
    ]


def _record(entry, flags: list) -> dict:
    """One entry as a dict of column key -> value (numbers as int/Decimal, dates as dates)."""
    h = entry.household
    village = h.village
    return {
        "id": entry.id, "village_code": village.code, "village": village.name,
        "group": h.group.name, "house": h.house_number, "head": h.head_name,
        "kind": label(KIND_LABELS, entry.kind),
        "status": label(STATUS_LABELS, entry.status),
        "scorer": entry.recorded_by.display_name if entry.recorded_by else "",
        "seq": entry.seq, "hash": entry.hash,
        "flags": "；".join(f.label for f in flags),
        **_content(entry),
    }


def records(scope, filters):
    """The filtered set as dicts (see ``_record``), newest first, read in chunks of
    ``CHUNK`` rows with their flags (a fixed number of queries per chunk)."""
    stmt = queries.entries_stmt(scope, filters)
    offset = 0
    while True:
        chunk = db.session.execute(stmt.limit(CHUNK).offset(offset)).unique().scalars().all()
        if not chunk:
            return
        flags = flags_for(chunk, scope)
        for entry in chunk:
            yield _record(entry, flags.get(entry.id, []))
        if len(chunk) < CHUNK:
            return
        offset += CHUNK


@dataclass(frozen=True)
class Header:
    """What an export says about itself: ``exported_at`` (aware UTC), the ``scope`` Region,
    the ``filters`` as (label, value) pairs, and ``heads``: [(village, seq, hash)]."""

    exported_at: datetime
    scope: object
    filters: list
    heads: list


def header(scope, filters, filter_labels) -> Header:
    """The export's header: now, and the chain heads of the villages in the filtered set."""
    heads = queries.chain_heads(queries.village_ids(scope, filters))
    return Header(exported_at=datetime.now(timezone.utc), scope=scope, filters=filter_labels,
                  heads=heads)


def _csv_number(value):
    """A number as plain CSV text: "5", "-2.5", "12"."""
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return "0" if value == 0 else text
    return str(value)


def _csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return _csv_number(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return neutralise(str(value))


def _meta_rows(head: Header) -> list:
    """The header block: title, time of export, scope, filters, and one row per village
    chain head."""
    local = to_local(head.exported_at)
    rows = [[_("积分台账导出"), head.scope.name],
            [_("导出时间（北京时间）"), local.strftime("%Y-%m-%d %H:%M:%S"),
             _("导出时间（UTC）"), head.exported_at.strftime("%Y-%m-%dT%H:%M:%SZ")],
            [_("筛选条件"), "；".join(f"{k}：{v}" for k, v in head.filters) or _("全部")],
            [_("校验方法"), _("运行 flask --app wsgi audit verify-export 本文件：各村哈希链须完好，"
                              "且仍经过下列序号与哈希，每条记录的哈希不变")],
            [_("村代码"), _("村"), _("村编号"), _("链头序号"), _("链头哈希")]]
    for village, seq, hash_ in head.heads:
        rows.append([village.code, village.name, village.id, seq, hash_])
    return rows


def to_csv(head: Header, rows) -> bytes:
    """The export as CSV bytes in UTF-8 with a BOM: the header block (``_meta_rows``), an
    empty line, then the column headers and one line per entry."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    for meta in _meta_rows(head):
        writer.writerow([_csv_cell(v) for v in meta])
    writer.writerow([])
    cols = columns()
    writer.writerow([neutralise(c.header) for c in cols])
    for row in rows:
        writer.writerow([_csv_cell(row[c.key]) for c in cols])
    return buf.getvalue().encode("utf-8-sig")


def to_xlsx(head: Header, rows) -> bytes:
    """The export as xlsx bytes: sheet 积分明细 (one row per entry under a bold, frozen header
    row, with an auto-filter) and sheet 校验信息 (time of export, filters and chain heads)."""
    wb = Workbook()
    ws = wb.active
    ws.title = _("积分明细")
    cols = columns()
    ws.append([neutralise(c.header) for c in cols])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([neutralise(row[c.key]) for c in cols])
    for i, c in enumerate(cols, start=1):
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = c.width
        if c.number_format:
            for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                cell.number_format = c.number_format
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(cols))}{max(ws.max_row, 1)}"
    meta = wb.create_sheet(_("校验信息"))
    for values in _meta_rows(head):
        meta.append([neutralise(v) for v in values])
    meta.column_dimensions["A"].width = 20
    meta.column_dimensions["B"].width = 24
    meta.column_dimensions["D"].width = 12
    meta.column_dimensions["E"].width = 68
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# --- proving an export unchanged later ---------------------------------------------------------

_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class ExportProof:
    """What an export claims: ``heads`` [(village id, seq, hash)], ``entries``
    [(entry id, seq, hash)] and ``contents`` {entry id: {column key: cell}} of the columns
    that never change once an entry is written (``FIXED``), read back by ``read_export``."""

    heads: list
    entries: list
    contents: dict = field(default_factory=dict)


# The exported columns of an entry's own content: written once, never edited (a mistake is
# reversed by a new entry), so an export's cells must still equal them. Status, flags and
# the household's current names may change after an export and are not compared.
FIXED = ("item_code", "item", "category", "unit_points", "quantity", "points", "deed_date",
         "period", "recorded_at", "reverses", "note", "reason", "evidence")
_NUMBERS = ("unit_points", "quantity", "points", "reverses")


def _canon(key: str, value, exported: bool) -> str:
    """A cell of column ``key`` as comparable text, whether read from an export (CSV text
    or typed xlsx cells) or taken from the entry now (``_record``)."""
    if value is None or value == "":
        return ""
    if key in _NUMBERS:
        try:
            number = Decimal(str(value).strip()).normalize()
        except ArithmeticError:
            return str(value).strip()
        return "0" if number == 0 else format(number, "f")
    if key == "deed_date":
        return value.date().isoformat() if isinstance(value, datetime) else (
            value.isoformat() if hasattr(value, "isoformat") else str(value).strip()[:10])
    if key == "recorded_at" and isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    text = str(value) if exported else str(neutralise(str(value)))
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()   # as files keep lines


def _head_row(values) -> tuple | None:
    """(village id, seq, hash) when ``values`` is a chain-head row of the header block."""
    if len(values) < 5:
        return None
    vid, seq, head = (str(v).strip() if v is not None else "" for v in values[2:5])
    if vid.isdigit() and seq.isdigit() and (_HEX64.fullmatch(head) or (seq == "0" and not head)):
        return int(vid), int(seq), head
    return None


def read_export(data: bytes) -> ExportProof:
    """Read the chain heads and the entries' (id, seq, hash) back from an export made by
    ``to_csv`` or ``to_xlsx`` (bytes; the format is told by its content). Columns are found
    by position, so exports in either language read the same. Raises ValueError when the
    file is neither."""
    keys = [c.key for c in columns()]
    width, at = len(keys), {k: keys.index(k) for k in ("id", "seq", "hash")}
    if data[:2] == b"PK":
        from openpyxl import load_workbook
        wb = load_workbook(io.BytesIO(data), read_only=True)
        if len(wb.worksheets) < 2:
            raise ValueError("not an audit export workbook")
        table = [list(r) for r in wb.worksheets[0].iter_rows(min_row=2, values_only=True)]
        meta = [list(r) for r in wb.worksheets[1].iter_rows(values_only=True)]
        wb.close()
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValueError("not a UTF-8 CSV export") from None
        rows = list(csv.reader(io.StringIO(text)))
        blank = next((i for i, r in enumerate(rows) if not r), None)
        if blank is None:
            raise ValueError("not an audit export CSV")
        meta, table = rows[:blank], rows[blank + 2:]
    heads = [h for h in (_head_row(r) for r in meta) if h]
    entries, contents = [], {}
    for r in table:
        if len(r) >= width and str(r[at["id"]]).strip().isdigit():
            ident = int(r[at["id"]])
            entries.append((ident, int(r[at["seq"]]), str(r[at["hash"]])))
            contents[ident] = {k: r[keys.index(k)] for k in FIXED}
    return ExportProof(heads=heads, entries=entries, contents=contents)


def check_export(proof: ExportProof) -> list:
    """Problems (texts) found comparing an export's claims with the database now: each
    village's hash chain must verify (``scoring.checks.chain_faults``) and still pass through
    the exported head (the row at that seq has that hash), every exported entry must still
    have its seq and hash, and each row's own content (``FIXED`` columns: item, points,
    dates, note, ...) must equal its entry's. An empty list means the exported rows are
    unchanged."""
    from sqlalchemy import select

    from app.scoring.checks import chain_faults
    from app.scoring.models import EntryTransition, LedgerEntry
    problems = []
    for vid, seq, head in proof.heads:
        problems += [str(f) for f in chain_faults(vid)]
        if seq == 0:
            continue
        found = db.session.execute(select(LedgerEntry.hash).where(
            LedgerEntry.village_id == vid, LedgerEntry.seq == seq)).scalar_one_or_none()
        if found is None:
            found = db.session.execute(select(EntryTransition.hash).where(
                EntryTransition.village_id == vid, EntryTransition.seq == seq)
            ).scalar_one_or_none()
        if found != head:
            problems.append(f"village {vid}: the row at seq {seq} has hash {found}, "
                            f"the export says {head}")
    ids = [i for i, _s, _h in proof.entries]
    now = {}
    for start in range(0, len(ids), 500):
        now.update({i: (s, h) for i, s, h in db.session.execute(
            select(LedgerEntry.id, LedgerEntry.seq, LedgerEntry.hash)
            .where(LedgerEntry.id.in_(ids[start:start + 500])))})
    for ident, seq, hash_ in proof.entries:
        if now.get(ident) != (seq, hash_):
            problems.append(f"ledger_entry#{ident}: exported as seq {seq} {hash_}, "
                            f"now {now.get(ident)}")
    return problems + _content_problems(proof)


def _content_problems(proof: ExportProof) -> list:
    """Problems where an exported row's own content (``FIXED`` columns) differs from the
    entry it names: an edited cell of the file (the entry itself cannot change)."""
    from sqlalchemy import select
    from sqlalchemy.orm import joinedload

    from app.scoring.models import LedgerEntry
    problems, ids = [], sorted(proof.contents)
    for start in range(0, len(ids), 500):
        entries = db.session.execute(
            select(LedgerEntry).where(LedgerEntry.id.in_(ids[start:start + 500]))
            .options(joinedload(LedgerEntry.evidence))).scalars().all()
        for entry in entries:
            now = _content(entry)
            for key, cell in proof.contents[entry.id].items():
                if _canon(key, cell, True) != _canon(key, now[key], False):
                    problems.append(f"ledger_entry#{entry.id}: column {key} exported as "
                                    f"{cell!r}, the ledger says {now[key]!r}")
    return problems


def _content(entry) -> dict:
    """The ``FIXED`` cells of ``entry`` as ``_record`` exports them."""
    return {"item_code": entry.item_code, "item": entry.item_name,
            "category": entry.category_name, "unit_points": Decimal(entry.unit_points),
            "quantity": entry.quantity, "points": Decimal(entry.points),
            "deed_date": entry.deed_date, "period": entry.period,
            "recorded_at": to_local(entry.recorded_at).replace(tzinfo=None, microsecond=0),
            "reverses": entry.reverses_id, "note": entry.note or "",
            "reason": entry.reason or "",
            "evidence": entry.evidence.sha256 if entry.evidence_id and entry.evidence else ""}
