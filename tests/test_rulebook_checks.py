"""An inspection scorecard's named checks (its ``checks`` param, the tablet grid's column
titles, RULE-FEATURES row 8): the same rules in the workbook, the YAML file and the item
form, a round trip that keeps them, and a workbook without their column that drops nothing."""
import io

import pytest
from openpyxl import load_workbook

from app.extensions import db
from app.rules import excel, services
from app.rules.importer import RulebookFormatError, parse_rulebook
from app.rules.rules_check import RulesError, check_names
from app.rules.yaml_export import export_yaml
from app.tablet.batch import checks_of
from tests.test_rule_features import _one_row_workbook
from tests.test_rules_authoring import _rich_draft

CARD = {"类别": "环境卫生", "评分项": "门前三包", "类型": "检查评分", "最高分": "10",
        "每处扣分": "2"}
NAMES = ["院落整洁", "厕所干净", "垃圾分类"]


def _yaml(checks, kind="scorecard") -> str:
    head = "id: t\nplace: 测试村\ncategories:\n  - name: 环境卫生\n    items:\n"
    if kind == "scorecard":
        return head + ("      - {name: 门前三包, kind: scorecard, max: 10, per_problem: 2, "
                       f"checks: {checks}}}\n")
    return head + f"      - {{name: 清扫, points: 2, checks: {checks}}}\n"


def _card(version):
    return next(i for c in version.categories for i in c.items if i.kind == "scorecard")


@pytest.mark.parametrize("raw, names", [
    ("院落整洁、厕所干净、垃圾分类", NAMES),
    ("院落整洁，厕所干净,垃圾分类", NAMES),
    ("院落整洁; 厕所干净；垃圾分类\n", NAMES),
    ("院落整洁 厕所干净　垃圾分类", NAMES),          # spaces, a full-width one too
    ("院落整洁/厕所干净\t垃圾分类", NAMES),
    (NAMES, NAMES),
    ([101, "厕所"], ["101", "厕所"]),
    (["院落\u200b", "厕所\u00ad"], ["院落", "厕所"]),     # invisible characters are dropped
])
def test_check_names_reads_a_cell_or_a_list(raw, names):
    assert check_names(raw) == names


@pytest.mark.parametrize("raw, words", [
    ("、".join(f"第{n}处" for n in range(13)), "最多 12 项"),
    ("院落、" + "很" * 21, "太长"),
    ("院落、厕所、院落", "“院落”重复"),
    (["院落", "院落\u200b"], "“院落”重复"),           # looks the same: is the same
    (["厨房、厕所卫生", "院落"], "不能有顿号"),     # would split in the workbook's cell
    (["院落 整洁"], "不能有顿号"),
    ([["a", "b"]], "不是文字"),
    ([None], "不是文字"),
    ([True], "不是文字"),
    ({"x": 1}, "一列文字"),
])
def test_check_names_refuses_what_the_grid_cannot_show(raw, words):
    with pytest.raises(RulesError) as err:
        check_names(raw, "类别“环境卫生”第 1 项")
    assert words in str(err.value) and str(err.value).startswith("类别“环境卫生”第 1 项：")


def test_excel_checks_column_names_the_inspection_grid_columns():
    spec = excel.parse_workbook(_one_row_workbook(**CARD, 检查项目="院落整洁，厕所干净 垃圾分类"))
    assert spec.categories[0].items[0].params["checks"] == NAMES
    spec = excel.parse_workbook(_one_row_workbook(**CARD))
    assert "checks" not in spec.categories[0].items[0].params and spec.absent == []


@pytest.mark.parametrize("cells, words", [
    ({"类别": "环境卫生", "评分项": "清扫", "类型": "固定分", "分值": "2", "检查项目": "院落"},
     "只有检查评分项"),
    ({"类别": "环境卫生", "评分项": "清扫", "分值": "2", "检查项目": "院落"}, "只有检查评分项"),
    ({**CARD, "检查项目": "、".join(f"第{n}处" for n in range(13))}, "最多 12 项"),
    ({**CARD, "检查项目": "院落、" + "很" * 21}, "太长"),
    ({**CARD, "检查项目": "院落、厕所、院落"}, "“院落”重复"),
])
def test_excel_checks_column_refuses_at_its_cell(cells, words):
    with pytest.raises(excel.WorkbookError) as err:
        excel.parse_workbook(_one_row_workbook(**cells))
    assert [e[1:3] for e in err.value.errors] == [(2, "检查项目")]
    assert words in err.value.errors[0][3]


@pytest.mark.parametrize("checks, words", [
    ("[" + ", ".join(f"第{n}处" for n in range(13)) + "]", "最多 12 项"),
    ("[院落整洁, 院落整洁]", "重复"),
    ("[" + "很" * 26 + "]", "太长"),
    ("[厨房、厕所卫生, 院落整洁]", "不能有顿号"),
    ("[[a, b], {x: 1}]", "不是文字"),
    ("{x: 1}", "一列文字"),
])
def test_yaml_checks_follow_the_workbooks_rules(checks, words):
    with pytest.raises(RulebookFormatError) as err:
        parse_rulebook(_yaml(checks))
    assert words in str(err.value)
    assert str(err.value).startswith("类别“环境卫生”")   # where, as every YAML error


def test_yaml_checks_on_an_item_that_is_not_a_scorecard_are_refused():
    with pytest.raises(RulebookFormatError) as err:
        parse_rulebook(_yaml("[院落]", kind="fixed"))
    assert "只有检查评分卡" in str(err.value)
    spec = parse_rulebook(_yaml("院落整洁、厕所干净、垃圾分类"))   # one text is read as a cell
    assert spec.categories[0].items[0].params["checks"] == NAMES


def test_yaml_then_excel_then_import_keeps_the_names(app, world):
    draft = _rich_draft(world)
    again = services.import_draft(draft.rulebook, parse_rulebook(export_yaml(draft)))
    db.session.commit()
    from_excel = services.import_draft(
        draft.rulebook, excel.parse_workbook(excel.export_workbook(again)))
    db.session.commit()
    assert checks_of(_card(again)) == checks_of(_card(from_excel)) == NAMES


def _without_checks_column(version, header=None) -> bytes:
    """``version``'s workbook with its 检查项目 column deleted, or its header renamed."""
    wb = load_workbook(io.BytesIO(excel.export_workbook(version)))
    ws = wb[excel.SHEET]
    col = [c.value for c in ws[1]].index("检查项目") + 1
    if header is None:
        ws.delete_cols(col)
    else:
        ws.cell(row=1, column=col, value=header)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_a_workbook_without_the_column_keeps_the_checks_of_the_version_in_force(app, world):
    draft = _rich_draft(world)
    spec = excel.parse_workbook(_without_checks_column(draft))
    assert spec.absent == ["检查项目"]
    assert "checks" not in _card(_Spec(spec)).params
    excel.keep_absent_options(spec, draft)
    assert _card(_Spec(spec)).params["checks"] == NAMES
    # a cadre's note in the header is still the column
    for header in ("检查项目（顿号分隔）", "检查项目【用顿号分隔】", "检查项目：用顿号分隔",
                   "*检查项目"):
        spec = excel.parse_workbook(_without_checks_column(draft, header=header))
        assert spec.absent == [] and _card(_Spec(spec)).params["checks"] == NAMES, header


def test_a_deleted_weight_column_keeps_the_old_weight_and_the_raters_typed(app, world):
    from tests.test_rule_features import FEATURES
    from app.rules.services import load_spec
    from datetime import date
    version = load_spec(world["village_a"], parse_rulebook(FEATURES), "功能示例",
                        adopted_on=date(2026, 7, 1), effective_from=date(2026, 7, 1),
                        decision="村民代表会议")
    db.session.commit()
    wb = load_workbook(io.BytesIO(excel.export_workbook(version)))
    ws = wb[excel.SHEET]
    header = [c.value for c in ws[1]]
    row = next(r for r in ws.iter_rows(min_row=2) if r[header.index("编号")].value == "A1")
    row[header.index("最少互评人数")].value = "7"
    ws.delete_cols(header.index("自评权重") + 1)
    buf = io.BytesIO()
    wb.save(buf)
    spec = excel.parse_workbook(buf.getvalue())
    assert spec.absent == ["自评权重"]
    excel.keep_absent_options(spec, version)
    a1 = next(i for c in spec.categories for i in c.items if i.code == "A1")
    assert a1.params["assessment"] == {"self_weight": "0.20", "min_raters": 7}


class _Spec:
    """A parsed spec read like a version (categories with items with a kind)."""

    def __init__(self, spec):
        self.categories = spec.categories


def test_importing_such_a_workbook_says_which_columns_were_kept(app, world, login):
    draft = _rich_draft(world)
    client = login("vadmin")
    resp = client.post(f"/regions/{world['village_a'].id}/rulebooks/import",
                       data={"file": (io.BytesIO(_without_checks_column(draft)), "细则.xlsx")},
                       content_type="multipart/form-data", follow_redirects=True)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "工作簿里没有这些列：检查项目" in page


def test_the_item_form_shows_and_sets_the_checks(app, world, login):
    draft = _rich_draft(world)
    card = _card(draft)
    client = login("vadmin")
    page = client.get(f"/rule-items/{card.id}/edit").get_data(as_text=True)
    assert 'value="院落整洁、厕所干净、垃圾分类"' in page
    form = {"name": card.name, "kind": "scorecard", "full_marks": "25", "per_problem": "5",
            "checks": "院落整洁、院落整洁"}
    resp = client.post(f"/rule-items/{card.id}/edit", data=form)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "“院落整洁”重复" in page
    assert 'value="院落整洁、院落整洁"' in page      # what was typed is kept
    resp = client.post(f"/rule-items/{card.id}/edit", data={**form, "checks": "水缸 柴堆"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert checks_of(card) == ["水缸", "柴堆"]
    page = client.get(f"/rulebook-versions/{draft.id}/edit").get_data(as_text=True)
    assert "检查项目：水缸、柴堆" in page
    client.post(f"/rule-items/{card.id}/edit", data={**form, "checks": ""})
    db.session.expire_all()
    assert "checks" not in (card.params or {})


def test_a_title_row_above_the_header_is_not_the_header():
    from openpyxl import Workbook
    wb = Workbook()
    ws = wb.active
    ws.title = excel.SHEET
    headers = [h for _k, h in excel.COLUMNS]
    ws.append(["斗门村积分管理办法（2026 年修订）"])
    ws.append([f"{h}（必填）" if h == "评分项" else h for h in headers])
    ws.append([{**dict.fromkeys(headers, ""), **CARD, "检查项目": "院落、厕所"}[h]
               for h in headers])
    ws.append([{**dict.fromkeys(headers, ""), **CARD, "检查项目": "院落、院落"}[h]
               for h in headers])
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(excel.WorkbookError) as err:
        excel.parse_workbook(buf.getvalue())
    assert [e[1:3] for e in err.value.errors] == [(4, "检查项目")]   # Excel's row number
    ws.delete_rows(4)
    buf = io.BytesIO()
    wb.save(buf)
    spec = excel.parse_workbook(buf.getvalue())
    assert spec.categories[0].items[0].params["checks"] == ["院落", "厕所"]
