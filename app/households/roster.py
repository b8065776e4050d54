"""The household roster as an Excel workbook: template, export, and an all-or-nothing import.

Columns: 门牌号 | 村民小组 | 户主 | 家庭成员 | 联系电话. 家庭成员 lists the other members,
separated by 、 or commas. Importing the same file twice changes nothing the second time.
联系电话 may be left out (the export leaves it out for users who may not see phone
numbers): households then keep the phone numbers they have.

Names hold letters of any script (rare characters such as 𠮷 and 龘 included, and private-use
characters, which some household registers use for characters Unicode lacks), combining
marks, the middle dot of minority names (·) and spaces; not digits, emoji or other symbols.
"""
import hashlib
import io
import os
import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from zipfile import BadZipFile, ZipFile

from flask import current_app
from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from app.households.models import Household
from app.households.numbers import house_number
from app.households.services import add_group, add_households, update_household
from app.sheets import HEADER_SEARCH_ROWS, fill_merged, find_header

COLUMNS = [("house_number", "门牌号"), ("group", "村民小组"), ("head_name", "户主"),
           ("members", "家庭成员"), ("phone", "联系电话")]
MAX_ROWS = 10000  # issue 10: a 10,000-household roster imports in one go
MAX_COLUMNS = 64
TEXT_ROWS = 2000   # rows of the template whose house number and phone cells are text
#: The most an uploaded workbook may hold once unzipped: a few kilobytes of zip can expand
#: to gigabytes of XML (a "zip bomb"), which openpyxl would try to read.
MAX_UNZIPPED_BYTES = 50 * 1024 * 1024
OPTIONAL = {"联系电话"}
#: Other names cadres give the columns (a header 电话 is the 联系电话 column).
ALIASES = {"门牌号码": "门牌号", "门牌": "门牌号", "村小组": "村民小组", "小组": "村民小组",
           "组别": "村民小组", "户主姓名": "户主", "家庭成员姓名": "家庭成员", "成员": "家庭成员",
           "电话": "联系电话", "电话号码": "联系电话", "手机": "联系电话", "手机号": "联系电话",
           "手机号码": "联系电话", "联系方式": "联系电话"}
SHEET = "花名册"   # the sheet the template writes and the import reads first
_NAME_PUNCTUATION = set("·•・‧.'-’ ")
_PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
_SPLIT = re.compile(r"[、,，;；\s]+")


class RosterError(ValueError):
    """A roster that cannot be imported. ``errors`` lists (row, column, message), Chinese."""

    def __init__(self, errors):
        super().__init__(f"{len(errors)} errors")
        self.errors = errors


@dataclass
class RosterRow:
    """One household row of a roster. ``phone_given`` is False when the file has no
    联系电话 column (the household's phone is then left as it is)."""

    row: int
    house_number: str
    group: str
    head_name: str
    members: list = field(default_factory=list)
    phone: str | None = None
    phone_given: bool = True


def name_is_valid(name: str) -> bool:
    """True when ``name`` holds only letters (any script, private-use characters too),
    combining marks, the middle dot and similar name punctuation, and spaces."""
    return all(unicodedata.category(ch)[0] in "LM" or unicodedata.category(ch) == "Co"
               or ch in _NAME_PUNCTUATION for ch in name)


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    new_groups: list = field(default_factory=list)


def _header_font():
    return Font(bold=True)


def template_workbook() -> bytes:
    """An empty roster workbook (xlsx bytes) with the header row and a sheet of instructions."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    for col, (_key, label) in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=1, column=col, value=label)
        cell.font = _header_font()
        ws.column_dimensions[get_column_letter(col)].width = 18 if col != 4 else 30
    # house numbers and phones are text: Excel would turn 3-2 into a date and drop a
    # landline's leading 0 (the column's style, and the first TEXT_ROWS cells themselves)
    for key in ("house_number", "phone"):
        col = [k for k, _label in COLUMNS].index(key) + 1
        ws.column_dimensions[get_column_letter(col)].number_format = "@"
        for row in range(2, TEXT_ROWS + 2):
            ws.cell(row=row, column=col).number_format = "@"
    help_ws = wb.create_sheet("填写说明")
    for line in [
        "每行一户，第一行是表头，请勿修改表头。",
        "门牌号：必填，同一村内不能重复，例如 12 或 东区3-2。",
        "村民小组：必填，写小组名称，例如 第一村民小组；不存在的小组会自动新建。",
        "户主：必填，户主姓名。",
        "家庭成员：户主以外的成员姓名，用顿号“、”或逗号分隔，可以不填。",
        "联系电话：11 位手机号或带区号的固定电话，可以不填。",
        "再次导入同一文件不会重复建户：按门牌号更新已有的户。",
    ]:
        help_ws.append([line])
    help_ws.column_dimensions["A"].width = 80
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def export_workbook(households, include_phone: bool = True) -> bytes:
    """The roster of ``households`` (iterable of Household) as xlsx bytes, in import format.

    Without ``include_phone`` the 联系电话 column is left out (users who may not see phone
    numbers); importing such a file leaves phone numbers as they are."""
    columns = COLUMNS if include_phone else [c for c in COLUMNS if c[0] != "phone"]
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    ws.append([label for _key, label in columns])
    for cell in ws[1]:
        cell.font = _header_font()
    for h in households:
        row = [h.house_number, h.group.name, h.head_name, "、".join(h.member_names)]
        ws.append(row + [h.phone or ""] if include_phone else row)
        for cell in ws[ws.max_row]:
            if cell.data_type == "f":  # text that looks like a formula stays text
                cell.data_type = "s"
    for col in range(1, len(columns) + 1):
        ws.column_dimensions[get_column_letter(col)].width = 18 if col != 4 else 30
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _text(value):
    """A cell value as stripped text ('' for empty); whole floats lose their '.0'."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def parse_roster(data: bytes):
    """Parse and validate a roster workbook; return a list of RosterRow.

    Raises RosterError listing every problem by row and column (messages in the current
    locale, Chinese by default) when the
    file is not an xlsx workbook, the header is wrong, or any row is invalid.
    """
    not_xlsx = RosterError([(None, None, _("文件不是有效的 Excel 工作簿（.xlsx），请用模板填写"))])
    try:
        with ZipFile(io.BytesIO(data)) as zf:
            unzipped = sum(info.file_size for info in zf.infolist())
    except (BadZipFile, OSError, ValueError):
        raise not_xlsx from None
    if unzipped > MAX_UNZIPPED_BYTES:
        raise RosterError([(None, None, _(
            "文件解压后超过 %(mb)s MB，不像是一份花名册。请只保留花名册这一张表后重新上传",
            mb=MAX_UNZIPPED_BYTES // (1024 * 1024)))])
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        # the sheet named 花名册 (the template's), else the first: a cadre may put a sheet
        # of notes before it
        ws = wb[SHEET] if SHEET in wb.sheetnames else wb.worksheets[0]
        # the header may sit under a title row ("斗门村农户花名册") and carry notes
        at, header = find_header(ws.iter_rows(min_row=1, max_row=HEADER_SEARCH_ROWS,
                                              max_col=MAX_COLUMNS, values_only=True), "门牌号",
                                 ALIASES)
    except (BadZipFile, OSError, KeyError, ValueError, TypeError, IndexError, StopIteration):
        raise not_xlsx from None
    labels = [label for _key, label in COLUMNS]
    index = {}
    for label in labels:
        if label not in header:
            if label in OPTIONAL:
                continue
            if len(wb.sheetnames) > 1:   # say which sheet was read
                raise RosterError([(at + 1, None, _(
                    "工作表“%(sheet)s”的表头缺少“%(column)s”列：请把花名册放在名为“花名册”的"
                    "工作表里，或使用下载的模板", sheet=ws.title, column=label))])
            raise RosterError([(at + 1, None, _("表头缺少“%(column)s”列，请使用下载的模板",
                                           column=label))])
        index[label] = header.index(label)
    labels = [label for label in labels if label in index]
    phone_given = "联系电话" in index
    rows = fill_merged(ws, data, ws.iter_rows(min_row=at + 2, max_col=max(index.values()) + 1,
                                              values_only=True), at + 2)
    errors, parsed, seen = [], [], {}
    filled = 0
    for rownum, values in enumerate(rows, start=at + 2):
        cells = {label: (values[index[label]] if index[label] < len(values) else None)
                 for label in labels}
        if all(_text(v) == "" for v in cells.values()):
            continue  # blank (perhaps only formatted) rows don't count
        filled += 1
        if filled > MAX_ROWS:
            errors.append((rownum, None, _("一次最多导入 %(n)s 户", n=MAX_ROWS)))
            break
        row_errors = []
        for label, value in cells.items():
            if isinstance(value, str) and value.strip().startswith("="):
                row_errors.append((rownum, label, _("不能使用公式，请填写数值或文字")))
            elif isinstance(value, (datetime, date, time)):
                # Excel turns 3-2 typed into a cell into a date: the number meant is lost
                row_errors.append((rownum, label, _(
                    "这一格是日期格式（Excel 会把 3-2 这样的门牌号自动变成日期）。请把这一列"
                    "设为“文本”格式后重新填写")))
        if row_errors:  # a formula's or a date's value says nothing of what was meant: stop
            errors.extend(row_errors)
            continue
        text = {label: _text(v) for label, v in cells.items()}
        text.setdefault("联系电话", "")
        house, group, head = house_number(text["门牌号"]), text["村民小组"], text["户主"]
        if not house:
            row_errors.append((rownum, "门牌号", _("门牌号不能为空")))
        elif len(house) > 32:
            row_errors.append((rownum, "门牌号", _("门牌号不能超过 32 个字")))
        elif house in seen:
            row_errors.append((rownum, "门牌号", _("门牌号 %(house)s 与第 %(row)s 行重复",
                                                     house=house, row=seen[house])))
        if not group:
            row_errors.append((rownum, "村民小组", _("村民小组不能为空")))
        elif len(group) > 64:
            row_errors.append((rownum, "村民小组", _("村民小组名称太长")))
        if not head:
            row_errors.append((rownum, "户主", _("户主姓名不能为空")))
        elif len(head) > 64 or any(ch.isdigit() for ch in head):
            row_errors.append((rownum, "户主", _("户主姓名不能含数字，且不能超过 64 个字")))
        elif not name_is_valid(head):
            row_errors.append((rownum, "户主", _(
                "户主姓名“%(name)s”含有表情或符号，姓名只能填写文字", name=head)))
        members = [m for m in _SPLIT.split(text["家庭成员"]) if m]
        if any(len(m) > 64 for m in members) or len(members) > 30:
            row_errors.append((rownum, "家庭成员", _("家庭成员姓名太长或人数过多（最多 30 人）")))
        else:
            bad = next((m for m in members if not name_is_valid(m)), None)
            if bad is not None:
                row_errors.append((rownum, "家庭成员", _(
                    "家庭成员“%(name)s”的姓名只能填写文字，不能含数字、表情或符号", name=bad)))
        phone = text["联系电话"].replace(" ", "")
        if phone and not _PHONE.match(phone):
            row_errors.append((rownum, "联系电话",
                               _("“%(phone)s”不是有效的手机号或固定电话",
                                 phone=text["联系电话"])))
        if row_errors:
            errors.extend(row_errors)
            continue
        seen[house] = rownum
        parsed.append(RosterRow(row=rownum, house_number=house, group=group, head_name=head,
                                members=members, phone=phone or None,
                                phone_given=phone_given))
    wb.close()
    if errors:
        raise RosterError(errors)
    if not parsed:
        raise RosterError([(None, None, _("文件里没有任何一户，请按模板填写后再导入"))])
    return parsed


@dataclass
class Change:
    """One field of an existing household that an import would change."""

    house_number: str
    field: str
    before: str
    after: str


def keep_existing_phones(rows) -> list:
    """``rows`` with their phone numbers applied to new households only (``phone_given``
    False). For users who may not see phone numbers (households.privacy): their import must
    neither change nor reveal, through the planned changes or the counts, a number on file."""
    return [replace(r, phone_given=False) for r in rows]


def planned_changes(village, rows) -> list:
    """The changes ``rows`` would make to households the village already has (a list of
    Change, in file order): what a cadre confirms before an import overwrites anything.
    New households are not listed (they change nothing that exists)."""
    existing = _existing(village)
    changes = []
    for row in rows:
        h = existing.get(row.house_number)
        if h is None:
            continue
        pairs = [("村民小组", h.group.name, row.group), ("户主", h.head_name, row.head_name),
                 ("家庭成员", "、".join(h.member_names), "、".join(row.members))]
        if row.phone_given:
            pairs.append(("联系电话", h.phone or "", row.phone or ""))
        changes += [Change(row.house_number, f, old, new) for f, old, new in pairs if old != new]
    return changes


def changes_digest(changes) -> str:
    """A SHA-256 hex digest of a list of Change: the confirmation form carries the one the
    cadre saw, and a confirm whose changes differ by then (someone edited a household
    meanwhile) is shown again instead of applied."""
    text = "\x1e".join("\x1f".join((c.house_number, c.field, c.before, c.after))
                       for c in changes)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def new_house_numbers(village, rows) -> list:
    """House numbers of ``rows`` the village does not have yet (file order): the households
    an import would create, listed beside the changes a cadre confirms."""
    existing = _existing(village)
    return [row.house_number for row in rows if row.house_number not in existing]


def upload_path(digest: str) -> str:
    """Where an uploaded roster waits for confirmation: instance/uploads/roster/<sha256>.xlsx.
    Raises ValueError for anything but a SHA-256 hex digest."""
    if not re.fullmatch(r"[0-9a-f]{64}", digest or ""):
        raise ValueError("not a sha256 digest")
    folder = os.path.join(current_app.instance_path, "uploads", "roster")
    os.makedirs(folder, exist_ok=True)
    return os.path.join(folder, digest + ".xlsx")


def keep_upload(data: bytes) -> str:
    """Keep uploaded roster bytes until the cadre confirms; returns their SHA-256 digest."""
    digest = hashlib.sha256(data).hexdigest()
    with open(upload_path(digest), "wb") as f:
        f.write(data)
    return digest


def kept_upload(digest: str) -> bytes | None:
    """The bytes kept under ``digest``, or None when unknown (or already used)."""
    try:
        with open(upload_path(digest), "rb") as f:
            return f.read()
    except (ValueError, OSError):
        return None


def apply_roster(village, rows) -> ImportResult:
    """Create or update the households of ``village`` from parsed ``rows`` (flushed).

    Households are matched by house number; households absent from the file stay as they
    are. Missing villager groups are created. The caller commits (all or nothing).
    """
    result = ImportResult()
    groups = {g.name: g for g in village.children}
    existing = _existing(village)
    new = []  # created together at the end: two flushes, not two per household
    for row in rows:
        group = groups.get(row.group)
        if group is None:
            group = groups[row.group] = add_group(village, row.group)
            result.new_groups.append(row.group)
        household = existing.get(row.house_number)
        if household is None:
            new.append(dict(group=group, house_number=row.house_number,
                            head_name=row.head_name, members=row.members, phone=row.phone))
            result.created += 1
        elif update_household(household, group=group, head_name=row.head_name,
                              members=row.members,
                              phone=row.phone if row.phone_given else household.phone):
            result.updated += 1
        else:
            result.unchanged += 1
    add_households(village, new)
    return result


def _existing(village) -> dict:
    """{house number (normalised, ``numbers.house_number``): Household} of the village,
    members and group loaded in 3 queries. A number stored full-width before numbers were
    normalised is found by its normal form, so a re-import updates that household."""
    from sqlalchemy.orm import joinedload, selectinload
    query = Household.query.filter_by(village_id=village.id).options(
        selectinload(Household.members), joinedload(Household.group))
    return {house_number(h.house_number): h for h in query}
