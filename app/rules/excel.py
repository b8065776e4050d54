"""A rulebook version as an Excel workbook cadres can fill in, and its all-or-nothing import.

Sheet 积分细则: one row per item, the category repeated on each row, one column per parameter
(COLUMNS). Sheet 填写说明: how to fill it in. Rulebook-wide rules (base score, household cap,
thresholds, star bands) are not in the workbook: an imported draft keeps those of the version
it replaces (use the YAML file to change them).

``parse_workbook`` returns a RulebookSpec, or raises WorkbookError listing every mistake as
(sheet, row, column, message), Chinese, and nothing is written.
"""
import io
from decimal import Decimal
from zipfile import BadZipFile, ZipFile

from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from app.rules.engine import MAX_CHECKS, PERIODS, Refusal, to_points
from app.rules.importer import CategorySpec, ItemSpec, RulebookSpec
from app.rules.rules_check import CHECK_NAME_LENGTH
from app.sheets import HEADER_SEARCH_ROWS, find_header
from app.rules.yaml_export import item_dict

SHEET = "积分细则"
HELP_SHEET = "填写说明"
MAX_ROWS = 2000
MAX_UNZIPPED_BYTES = 20 * 1024 * 1024

#: (key, header) in column order.
COLUMNS = [
    ("category", "类别"), ("category_cap", "类别上限分"), ("category_cap_period", "类别上限周期"),
    ("code", "编号"), ("name", "评分项"), ("kind", "类型"), ("points", "分值"),
    ("min", "最低分"), ("max", "最高分"), ("per_problem", "每处扣分"),
    ("units_per_point", "每几个单位记1分"), ("rounding", "取整方式"), ("step", "取整到"),
    ("tiers", "分级分值"), ("bonus_max", "奖励分上限"), ("cap", "本项上限分"),
    ("cap_period", "本项上限周期"), ("once", "限一次"), ("review", "需审核"),
    ("veto", "一票否决"), ("per_person", "按人记"), ("note", "说明"),
]
#: Columns added later (RULE-FEATURES rows 14 and 23): a workbook without them still imports.
OPTIONAL_COLUMNS = [("zeroes", "一次清零"), ("self_weight", "自评权重"),
                    ("min_raters", "最少互评人数"),
                    ("channels", "申报渠道"), ("blocks_redemption_months", "停止兑换月数"),
                    ("checks", "检查项目")]
HEADERS = [h for _k, h in COLUMNS]
COLUMNS = COLUMNS + OPTIONAL_COLUMNS
KIND_NAMES = {"fixed": "固定分", "range": "范围分", "scorecard": "检查评分",
              "rate": "折算", "tiered": "分级", "analogy": "参照评分"}
ROUNDING_NAMES = {"floor": "去尾", "half_up": "四舍五入", "ceiling": "进一"}
PERIOD_NAMES = {"month": "月", "quarter": "季度", "year": "年"}
YES = {"是", "√", "✓", "y", "yes", "true", "1"}
NO = {"", "否", "n", "no", "false", "0", "×"}

HELP_LINES = [
    "每行一个评分项；第一行是表头，请勿修改表头。同一类别的各项写在相邻的行里，每行都要写类别名称。",
    "类别上限分 / 类别上限周期：该类别每户每周期最多加多少分（周期填 月、季度 或 年），可不填；同一类别只需在一行填写。",
    "编号：导出时已有的编号请保留（同一评分项在新版本里沿用编号，限一次、上限才能接续计算）；新增的项可以不填。",
    "类型：固定分、范围分、检查评分、折算、分级、参照评分。",
    "固定分：填“分值”，加分为正数，扣分为负数，可以有小数（如 0.5）。",
    "范围分、参照评分：填“最低分”和“最高分”，由评议小组在范围内评定；参照评分用于细则未列明的事项。",
    "检查评分：填“最高分”（满分）和“每处扣分”，每发现一处问题扣分，最低 0 分。",
    "折算：填“每几个单位记1分”（如 4 小时记 1 分）、“取整方式”（去尾、四舍五入、进一）和“取整到”（如 0.5）。",
    "分级：在“分级分值”里写各级及分值，用顿号或逗号分隔，如 国家=50、省=30、县=15、乡镇=10。",
    "奖励分上限：可在事迹分之外另加的奖励分最多几分，可不填。",
    "本项上限分 / 本项上限周期：该项每户每周期最多加多少分，可不填。",
    "限一次、需审核、一票否决、按人记：填“是”或留空。",
    "一次清零：填“是”表示一次违反即把该户累计积分扣到 0（扣分项）。",
    "自评权重 / 最少互评人数：互评自评项（类型填范围分），自评分占的比例（0 到 1，如 0.3），"
    "其余按互评平均分计；最少几人互评。",
    "申报渠道：该项接受哪些渠道，用顿号分隔：村干部记录、本户申报、受助人申报、村民反映、"
    "志愿记录员记录；不填为 村干部记录、本户申报。",
    "停止兑换月数：确认并未冲正的该项记录，自事情发生日起若干个月内该户不能兑换，可不填。",
    "检查项目：检查评分项在平板上逐户打勾的各项检查，如 院落整洁、厕所干净、垃圾分类。各项之间用顿号"
    f"（或逗号、分号、斜杠、空格、换行）分隔，最多 {MAX_CHECKS} 项，每项最多 {CHECK_NAME_LENGTH} 个字，"
    "不能重复；只有检查评分项可以填写。不填时平板显示 检查1、检查2……",
    "不要使用公式。整个文件全部正确才会导入；有错时什么也不改，并指出工作表、行和列。",
    "导入后生成一份新的草稿，经村民代表会议等程序通过（四议两公开）后才生效。",
]


class WorkbookError(ValueError):
    """A workbook that cannot be imported. ``errors`` lists (sheet, row, column, message)."""

    def __init__(self, errors):
        super().__init__(f"{len(errors)} errors")
        self.errors = errors


#: The optional columns that are parts of one item param, ``assessment`` (the others fill
#: the param of their own name; ``keep_absent_options``).
ASSESSMENT_PARTS = {"self_weight", "min_raters"}
def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _num_text(value) -> str:
    """A cell's number as exact text; floats from Excel go through repr (shortest form)."""
    if isinstance(value, float):
        return repr(value)
    return _text(value)


def _fmt(value) -> str:
    d = Decimal(str(value))
    return format(d.normalize(), "f") if d != 0 else "0"


def _row_of(item, cat) -> list:
    """The cells of one item (in COLUMNS order)."""
    d = item_dict(item)
    p = item.params or {}
    cells = {"category": cat.name, "code": item.code, "name": item.name,
             "kind": KIND_NAMES[item.kind], "note": item.note or ""}
    if item.position == 0 and cat.cap_points is not None:
        cells["category_cap"] = _fmt(cat.cap_points)
        cells["category_cap_period"] = PERIOD_NAMES.get(cat.cap_period or "year")
    if item.kind == "fixed":
        cells["points"] = _fmt(item.points)
    elif item.kind in ("range", "analogy"):
        cells["min"], cells["max"] = _fmt(item.min_points), _fmt(item.max_points)
    elif item.kind == "scorecard":
        cells["max"], cells["per_problem"] = _fmt(item.max_points), _fmt(p["per_problem"])
    elif item.kind == "rate":
        cells["units_per_point"] = _fmt(p["units_per_point"])
        cells["rounding"] = ROUNDING_NAMES[p.get("rounding", "floor")]
        if p.get("step"):
            cells["step"] = _fmt(p["step"])
    elif item.kind == "tiered":
        cells["tiers"] = "、".join(f"{k}={_fmt(v)}" for k, v in p["tiers"].items())
    if "bonus_max" in d:
        cells["bonus_max"] = _fmt(d["bonus_max"])
    if "cap" in d:
        cells["cap"] = _fmt(d["cap"]["points"])
        cells["cap_period"] = PERIOD_NAMES[d["cap"]["period"]]
    for key, flag in (("once", item.once_only), ("review", item.needs_review),
                      ("veto", item.veto), ("per_person", bool(p.get("per_person"))),
                      ("zeroes", bool(p.get("zeroes")))):
        cells[key] = "是" if flag else ""
    if p.get("assessment"):
        cells["self_weight"] = _fmt(p["assessment"].get("self_weight", "0"))
        cells["min_raters"] = str(p["assessment"].get("min_raters", 1))
    if p.get("channels"):  # rows 22 and 26
        from app.rules.uses import CHANNEL_NAMES
        cells["channels"] = "、".join(CHANNEL_NAMES[c] for c in p["channels"])
    if p.get("blocks_redemption_months"):
        cells["blocks_redemption_months"] = str(p["blocks_redemption_months"])
    if item.kind == "scorecard" and p.get("checks"):  # the inspection grid's columns
        cells["checks"] = "、".join(str(c) for c in p["checks"])
    return [cells.get(key, "") for key, _h in COLUMNS]


def export_workbook(version) -> bytes:
    """The categories and items of ``version`` as xlsx bytes, in the import format (every
    cell text, so that numbers such as 0.5 stay exact)."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    ws.append([h for _k, h in COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="FDE9E7")
    ws.freeze_panes = "A2"
    for cat in version.categories:
        for item in cat.items:
            ws.append(_row_of(item, cat))
            for cell in ws[ws.max_row]:
                cell.data_type = "s"  # text stays text (no formulas, exact numbers)
    for col, (key, header) in enumerate(COLUMNS, start=1):
        width = {"name": 28, "tiers": 30, "note": 30, "category": 14}.get(key, 12)
        ws.column_dimensions[get_column_letter(col)].width = width
    help_ws = wb.create_sheet(HELP_SHEET)
    for line in HELP_LINES:
        help_ws.append([line])
    help_ws.column_dimensions["A"].width = 110
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _open(data: bytes):
    bad = WorkbookError([(None, None, None,
                          _("文件不是有效的 Excel 工作簿（.xlsx），请用导出的工作簿填写"))])
    try:
        with ZipFile(io.BytesIO(data)) as zf:
            if sum(i.file_size for i in zf.infolist()) > MAX_UNZIPPED_BYTES:
                raise WorkbookError([(None, None, None, _("文件太大，不像是一份积分细则"))])
        return load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (BadZipFile, OSError, KeyError, ValueError, TypeError, IndexError):
        raise bad from None


class _Row:
    """One row being read: its cells by key, and the errors found, by column header."""

    def __init__(self, rownum, cells, errors):
        self.rownum, self.cells, self.errors = rownum, cells, errors

    def err(self, key, message):
        self.errors.append((SHEET, self.rownum, dict(COLUMNS)[key], message))

    def text(self, key) -> str:
        return _text(self.cells.get(key))

    def number(self, key, required=False, positive=False):
        raw = _num_text(self.cells.get(key))
        if raw == "":
            if required:
                self.err(key, _("请填写“%(column)s”", column=dict(COLUMNS)[key]))
            return None
        try:
            value = to_points(raw)
        except Refusal:
            self.err(key, _("“%(value)s”不是数字（最多两位小数）", value=raw))
            return None
        if positive and value <= 0:
            self.err(key, _("必须大于 0"))
            return None
        return value

    def flag(self, key) -> bool:
        raw = self.text(key).lower()
        if raw in YES:
            return True
        if raw not in NO:
            self.err(key, _("请填“是”或留空"))
        return False

    def choice(self, key, names: dict, default=None):
        raw = self.text(key)
        if raw == "":
            return default
        for code, name in names.items():
            if raw in (code, name):
                return code
        self.err(key, _("“%(value)s”不是可选的值，请填：%(choices)s", value=raw,
                        choices="、".join(names.values())))
        return default


def _tiers(row) -> dict | None:
    raw = row.text("tiers")
    if not raw:
        row.err("tiers", _("分级项请填写各级分值，如 国家=50、省=30"))
        return None
    tiers = {}
    for part in raw.replace("，", "、").replace(",", "、").replace(";", "、").split("、"):
        part = part.strip()
        if not part:
            continue
        label, sep, value = part.replace("：", "=").replace(":", "=").partition("=")
        try:
            if not sep or not label.strip():
                raise Refusal("bad", "")
            tiers[label.strip()] = format(to_points(value.strip()), "f")
        except Refusal:
            row.err("tiers", _("“%(part)s”应写成 级别=分值", part=part))
            return None
    return tiers or None


def _item(row, code: str) -> ItemSpec | None:
    """The ItemSpec of a row, or None (its errors recorded)."""
    before = len(row.errors)
    name = row.text("name")
    if not name:
        row.err("name", _("评分项名称不能为空"))
    elif len(name) > 128:
        row.err("name", _("评分项名称不能超过 128 个字"))
    kind = row.choice("kind", KIND_NAMES, default="fixed")
    spec = ItemSpec(code=code, name=name, kind=kind, params={})
    if kind == "fixed":
        spec.points = row.number("points", required=True)
    elif kind in ("range", "analogy"):
        spec.min_points = row.number("min", required=True)
        spec.max_points = row.number("max", required=True)
        if None not in (spec.min_points, spec.max_points) and spec.min_points > spec.max_points:
            row.err("max", _("最高分不能小于最低分"))
    elif kind == "scorecard":
        spec.max_points = row.number("max", required=True, positive=True)
        per = row.number("per_problem", required=True, positive=True)
        if per is not None:
            spec.params["per_problem"] = format(per, "f")
    elif kind == "rate":
        upp = row.number("units_per_point", required=True, positive=True)
        if upp is not None:
            spec.params["units_per_point"] = format(upp, "f")
        spec.params["rounding"] = row.choice("rounding", ROUNDING_NAMES, default="floor")
        step = row.number("step", positive=True)
        if step is not None:
            spec.params["step"] = format(step, "f")
    elif kind == "tiered":
        tiers = _tiers(row)
        if tiers:
            spec.params["tiers"] = tiers
    bonus = row.number("bonus_max", positive=True)
    if bonus is not None:
        spec.params["bonus_max"] = format(bonus, "f")
    cap = row.number("cap", positive=True)
    period = row.choice("cap_period", {k: PERIOD_NAMES[k] for k in PERIODS}, default="year")
    if cap is not None:
        spec.params["cap"] = {"points": format(cap, "f"), "period": period}
    spec.once_only = row.flag("once")
    spec.needs_review = row.flag("review")
    spec.veto = row.flag("veto")
    if row.flag("per_person"):
        spec.params["per_person"] = True
    if row.flag("zeroes"):
        spec.params["zeroes"] = True
    _assessment(row, kind, spec)
    _uses(row, spec)
    _checks(row, kind, spec)
    spec.note = row.text("note") or None
    return spec if len(row.errors) == before else None


def _assessment(row, kind, spec) -> None:
    """The peer and self assessment columns of a range item (row 23), into ``spec.params``."""
    weight = row.number("self_weight")
    raters = row.text("min_raters")
    if weight is None and not raters:
        return
    if kind != "range":
        row.err("self_weight", _("互评自评项的类型须是范围分"))
        return
    weight = Decimal(0) if weight is None else weight
    if not 0 <= weight <= 1:
        row.err("self_weight", _("自评权重须在 0 到 1 之间"))
        return
    if raters and (not raters.isdigit() or not 1 <= int(raters) <= 100):
        row.err("min_raters", _("最少互评人数须是 1 到 100 的整数"))
        return
    spec.params["assessment"] = {"self_weight": format(weight, "f"),
                                 "min_raters": int(raters or 1)}


def _checks(row, kind, spec) -> None:
    """The 检查项目 column of a scorecard (the tablet grid's columns, RULE-FEATURES row 8),
    into ``spec.params["checks"]`` (``rules_check.check_names``)."""
    from app.rules.rules_check import RulesError, check_names
    raw = row.text("checks")
    if not raw:
        return
    if kind != "scorecard":
        row.err("checks", _("只有检查评分项可以填写检查项目"))
        return
    try:
        spec.params["checks"] = check_names(raw)
    except RulesError as exc:
        row.err("checks", str(exc))


def _uses(row, spec) -> None:
    """The channel and sanction columns (rows 22 and 26), into ``spec.params``."""
    from app.rules.rules_check import RulesError
    from app.rules.uses import item_use_options
    for key in ("channels", "blocks_redemption_months"):
        raw = _num_text(row.cells.get(key)) if key != "channels" else row.text(key)
        if not raw:
            continue
        raw = raw[:-2] if key != "channels" and raw.endswith(".0") else raw
        try:
            spec.params.update(item_use_options({key: raw}, dict(COLUMNS)[key]))
        except RulesError as exc:
            row.err(key, str(exc))


def parse_workbook(data: bytes) -> RulebookSpec:
    """Read a workbook made by ``export_workbook`` (or filled in from it). Items without a
    code get one when imported (``services.import_draft``).

    Raises WorkbookError with every mistake as (sheet, row, column, message)."""
    wb = _open(data)
    if SHEET not in wb.sheetnames:
        raise WorkbookError([(SHEET, None, None,
                              _("找不到工作表“%(sheet)s”，请用导出的工作簿填写", sheet=SHEET))])
    ws = wb[SHEET]
    # the header may sit under a title row and carry notes ("检查项目（顿号分隔）")
    at, header = find_header(ws.iter_rows(max_row=HEADER_SEARCH_ROWS, values_only=True,
                                          max_col=len(COLUMNS) + 10), "评分项")
    rows = ws.iter_rows(min_row=at + 2, values_only=True, max_col=len(COLUMNS) + 10)
    missing = [h for h in HEADERS if h not in header]
    if missing:
        wb.close()
        raise WorkbookError([(SHEET, at + 1, h, _("表头缺少“%(column)s”列，请用导出的工作簿填写",
                                                  column=h)) for h in missing])
    index = {key: header.index(h) for key, h in COLUMNS if h in header}
    errors, categories, by_name, codes = [], [], {}, {}
    count = 0
    for rownum, values in enumerate(rows, start=at + 2):
        cells = {key: values[i] if i < len(values) else None for key, i in index.items()}
        if all(_text(v) == "" for v in cells.values()):
            continue
        count += 1
        if count > MAX_ROWS:
            errors.append((SHEET, rownum, None, _("一次最多导入 %(n)s 项", n=MAX_ROWS)))
            break
        row = _Row(rownum, cells, errors)
        formula = [k for k, v in cells.items() if isinstance(v, str) and v.startswith("=")]
        for key in formula:
            row.err(key, _("不能使用公式，请填写数值或文字"))
        if formula:
            continue
        cat_name = row.text("category")
        if not cat_name:
            row.err("category", _("类别不能为空"))
        elif len(cat_name) > 64:
            row.err("category", _("类别名称不能超过 64 个字"))
        code = row.text("code")
        if len(code) > 32:
            row.err("code", _("编号不能超过 32 个字符"))
        elif code and code in codes:
            row.err("code", _("编号 %(code)s 与第 %(row)s 行重复", code=code, row=codes[code]))
        spec = _item(row, code)
        cap = row.number("category_cap", positive=True)
        period = row.choice("category_cap_period", {k: PERIOD_NAMES[k] for k in PERIODS},
                            default="year")
        if spec is None or not cat_name or row.errors and row.errors[-1][1] == rownum:
            continue
        if code:
            codes[code] = rownum
        cat = by_name.get(cat_name)
        if cat is None:
            cat = by_name[cat_name] = CategorySpec(name=cat_name)
            categories.append(cat)
        if cap is not None:
            if cat.cap and cat.cap["points"] != format(cap, "f"):
                row.err("category_cap", _("同一类别的上限前后不一致"))
            cat.cap = {"points": format(cap, "f"), "period": period}
        cat.items.append(spec)
    wb.close()
    if errors:
        raise WorkbookError(errors)
    if not categories:
        raise WorkbookError([(SHEET, None, None, _("工作表里没有任何评分项"))])
    return RulebookSpec(id="", place="", sources=[], categories=categories,
                        absent=[h for _k, h in OPTIONAL_COLUMNS if h not in header])


def keep_absent_options(spec: RulebookSpec, current) -> None:
    """Give the items of ``spec`` (a parsed workbook) the options of its absent optional
    columns (``spec.absent``) from the item of the same code and kind in RulebookVersion
    ``current`` (the version in force, or None): a workbook exported before a column
    existed, or with the column deleted, does not silently drop an item's named checks,
    channels or sanctions. Only what the absent columns hold is taken: with 自评权重 gone
    and 最少互评人数 there, the weight is the old one and the number of raters the cell's.
    Items new to the workbook get none."""
    absent = {key for key, h in OPTIONAL_COLUMNS if h in spec.absent}
    if not absent or current is None:
        return
    before = {i.code: i for c in current.categories for i in c.items}
    for cat in spec.categories:
        for item in cat.items:
            old = before.get(item.code)
            if old is None or old.kind != item.kind:
                continue
            kept = old.params or {}
            for key in absent - ASSESSMENT_PARTS:
                if kept.get(key) not in (None, False, [], {}):
                    item.params[key] = kept[key]
            if kept.get("assessment") and absent & ASSESSMENT_PARTS:
                # only the absent parts: a part read from the workbook stays
                read = item.params.setdefault("assessment", {})
                for part in (ASSESSMENT_PARTS if not read else absent & ASSESSMENT_PARTS):
                    if part in kept["assessment"]:
                        read[part] = kept["assessment"][part]
