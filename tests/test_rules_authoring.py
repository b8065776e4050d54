"""Rulebook pages (issue 3, items 3-5): reading versions, editing a draft on a tablet,
adopting it by a recorded decision, YAML and Excel export and import, and the preview."""
import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.extensions import db
from app.rules import excel, services
from app.rules.importer import parse_rulebook
from app.rules.models import Category, RuleItem, Rulebook, RulebookVersion
from app.rules.queries import book_rule, version_in_force
from app.rules.yaml_export import export_yaml
from app.scoring.models import LedgerEntry
from app.scoring.services import post_entry
from tests.conftest import item


def _in_force(world, village="village_a"):
    return version_in_force(world[village], date(2026, 11, 1))


def _draft(world):
    draft = services.new_draft_from(_in_force(world))
    db.session.commit()
    return draft


def _counts():
    return tuple(db.session.scalar(select(func.count(m.id)))
                 for m in (Rulebook, RulebookVersion, Category, RuleItem, LedgerEntry))


def _item_key(i):
    return (i.code, i.name, i.kind, i.points, i.min_points, i.max_points, i.once_only,
            i.needs_review, i.veto, i.params or None, i.note)


def _items(version):
    return [(c.name, c.cap_points, c.cap_period, [_item_key(i) for i in c.items])
            for c in version.categories]


# (1) read-only pages ----------------------------------------------------------------------

def test_rulebooks_of_a_village_and_a_version_are_readable_in_the_region(app, world, login):
    v = _in_force(world)
    for user in ("scorer", "auditor", "county"):
        client = login(user)
        page = client.get(f"/regions/{world['village_a'].id}/rulebooks").get_data(as_text=True)
        assert v.rulebook.name in page and "已通过" in page and "2020-01-01" in page
        page = client.get(f"/rulebook-versions/{v.id}").get_data(as_text=True)
        assert "村民代表会议" in page and "红白喜事简办" in page and "2020-01-01" in page
    foreign = login("scorer_b")
    assert foreign.get(f"/rulebook-versions/{v.id}").status_code == 404
    assert foreign.get(f"/regions/{world['village_a'].id}/rulebooks").status_code == 404
    assert foreign.get(f"/rulebook-versions/{v.id}/rulebook.yaml").status_code == 404


def test_a_township_template_is_readable_and_copyable_by_its_villages(app, world, login):
    spec = parse_rulebook("categories:\n  - name: 环境卫生\n    items:\n"
                          "      - {name: 门前三包, points: 2}\n")
    template = services.load_spec(world["town_a"], spec, "莲塘镇积分细则模板",
                                  adopted_on=date(2025, 1, 1), effective_from=date(2025, 1, 1),
                                  decision="镇党委会议")
    db.session.commit()
    client = login("vadmin")
    page = client.get(f"/regions/{world['village_a'].id}/rulebooks").get_data(as_text=True)
    assert "莲塘镇积分细则模板" in page and "复制为本村草稿" in page
    assert client.get(f"/rulebook-versions/{template.id}").status_code == 200
    resp = client.post(f"/regions/{world['village_a'].id}/rulebooks/drafts",
                       data={"source": template.id})
    assert resp.status_code == 302
    own = db.session.scalars(select(Rulebook).where(
        Rulebook.region_id == world["village_a"].id)).all()
    assert len(own) == 1  # the village's own rulebook got the copy as a new draft
    draft = own[0].versions[-1]
    assert draft.status == "draft" and [i.name for c in draft.categories
                                        for i in c.items] == ["门前三包"]
    assert template.status == "adopted" and len(template.rulebook.versions) == 1
    page = login("auditor").get(f"/regions/{world['town_a'].id}/rulebooks").get_data(
        as_text=True)
    assert "莲塘镇积分细则模板" in page and "镇党委会议" in page
    assert login("auditor_b").get(f"/regions/{world['town_a'].id}/rulebooks").status_code == 404
    # village B (another township) sees nothing of it
    assert login("vadmin_b").get(f"/rulebook-versions/{template.id}").status_code == 404
    # a village admin cannot edit the township's template
    draft_t = services.new_draft_from(template)
    db.session.commit()
    assert client.get(f"/rulebook-versions/{draft_t.id}/edit").status_code == 404


# (2) authoring ----------------------------------------------------------------------------

def test_new_draft_from_the_version_in_force_copies_it_and_leaves_it(app, world, login):
    v = _in_force(world)
    before = _items(v)
    client = login("vadmin")
    resp = client.post(f"/regions/{world['village_a'].id}/rulebooks/drafts",
                       data={"source": v.id})
    assert resp.status_code == 302 and "/edit" in resp.headers["Location"]
    draft = v.rulebook.versions[-1]
    assert draft.status == "draft" and draft.number == v.number + 1
    assert _items(draft) == before and _items(v) == before
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "红白喜事简办" in page and "表决通过" in page


def test_scorers_and_auditors_cannot_author(app, world, login):
    draft = _draft(world)
    assert login("scorer").get(f"/rulebook-versions/{draft.id}/edit").status_code == 403
    assert login("auditor").post(f"/regions/{world['village_a'].id}/rulebooks/drafts",
                                 data={"source": draft.id}).status_code == 403


@pytest.mark.parametrize("data,field_error", [
    ({"name": "", "kind": "fixed", "points": "5"}, "请填写评分项名称"),
    ({"name": "义务劳动", "kind": "fixed", "points": ""}, "请填写分值"),
    ({"name": "义务劳动", "kind": "fixed", "points": "abc"}, "分值必须是数字"),
    ({"name": "义务劳动", "kind": "fixed", "points": "0.125"}, "分值最多保留两位小数"),
    ({"name": "拾金不昧", "kind": "range", "min_points": "10", "max_points": "5"},
     "最高分不能小于最低分"),
    ({"name": "卫生检查", "kind": "scorecard", "full_marks": "25", "per_problem": "-5"},
     "必须大于 0"),
    ({"name": "志愿服务", "kind": "rate", "units_per_point": ""}, "请填写每几个单位记 1 分"),
    ({"name": "获得荣誉", "kind": "tiered", "tiers": "国家\n省=30"}, "应写成 级别=分值"),
])
def test_item_form_shows_chinese_messages_at_the_field_and_keeps_the_input(
        app, world, login, data, field_error):
    draft = _draft(world)
    cat = draft.categories[0]
    n = len(cat.items)
    client = login("vadmin")
    resp = client.post(f"/rule-categories/{cat.id}/items/new", data=data)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and field_error in page and "invalid-feedback" in page
    for value in data.values():
        if value and "\n" not in value:
            assert f'value="{value}"' in page or f">{value}<" in page or value in page
    db.session.expire_all()
    assert len(cat.items) == n


def test_every_parameter_of_an_item_is_saved(app, world, login):
    draft = _draft(world)
    cat = draft.categories[0]
    client = login("vadmin")
    cases = [
        ({"name": "义务巡逻", "kind": "fixed", "points": "0.5", "cap_points": "10",
          "cap_period": "month"},
         dict(points=Decimal("0.5"), params={"cap": {"points": "10.00", "period": "month"}})),
        ({"name": "拾金不昧", "kind": "range", "min_points": "5", "max_points": "10",
          "needs_review": "y"},
         dict(min_points=Decimal("5"), max_points=Decimal("10"), needs_review=True)),
        ({"name": "宅前屋后", "kind": "scorecard", "full_marks": "25", "per_problem": "5"},
         dict(max_points=Decimal("25"), params={"per_problem": "5.00"})),
        ({"name": "志愿服务", "kind": "rate", "units_per_point": "4", "rounding": "half_up",
          "step": "0.5"},
         dict(params={"units_per_point": "4.00", "rounding": "half_up", "step": "0.50"})),
        ({"name": "获得荣誉", "kind": "tiered", "tiers": "国家=50\n省：30\n县 15"},
         dict(params={"tiers": {"国家": "50.00", "省": "30.00", "县": "15.00"}})),
        ({"name": "见义勇为", "kind": "fixed", "points": "10", "bonus_max": "5",
          "once_only": "y"},
         dict(once_only=True, params={"bonus_max": "5.00"})),
        ({"name": "其他好人好事", "kind": "analogy", "min_points": "1", "max_points": "10"},
         dict(kind="analogy")),
        ({"name": "子女考上大学", "kind": "fixed", "points": "5", "per_person": "y"},
         dict(params={"per_person": True})),
        ({"name": "违法犯罪", "kind": "fixed", "points": "-20", "veto": "y"},
         dict(veto=True, points=Decimal("-20"))),
    ]
    for data, expect in cases:
        resp = client.post(f"/rule-categories/{cat.id}/items/new", data=data)
        assert resp.status_code == 302, (data, resp.get_data(as_text=True)[-3000:])
        db.session.expire_all()
        saved = cat.items[-1]
        assert saved.name == data["name"]
        for key, value in expect.items():
            assert getattr(saved, key) == value, (data["name"], key)
    codes = [i.code for c in draft.rulebook.versions for cc in c.categories for i in cc.items]
    assert len(set(i.code for i in cat.items)) == len(cat.items)
    assert len(codes) == len(codes)
    # editing shows the saved values, and keeps the code
    tiered = next(i for i in cat.items if i.name == "获得荣誉")
    page = client.get(f"/rule-items/{tiered.id}/edit").get_data(as_text=True)
    assert "国家=50" in page and tiered.code in page
    resp = client.post(f"/rule-items/{tiered.id}/edit",
                       data={"name": "获得荣誉称号", "kind": "tiered", "tiers": "国家=60"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert tiered.name == "获得荣誉称号" and tiered.params == {"tiers": {"国家": "60.00"}}


def test_categories_are_added_renamed_capped_and_deleted(app, world, login):
    draft = _draft(world)
    client = login("vadmin")
    resp = client.post(f"/rulebook-versions/{draft.id}/categories/new",
                       data={"name": "平安建设", "cap_points": "x", "cap_period": "year"})
    assert resp.status_code == 200 and "分值必须是数字" in resp.get_data(as_text=True)
    resp = client.post(f"/rulebook-versions/{draft.id}/categories/new",
                       data={"name": "平安建设", "cap_points": "20", "cap_period": "quarter"})
    assert resp.status_code == 302
    db.session.expire_all()
    cat = draft.categories[-1]
    assert (cat.name, cat.cap_points, cat.cap_period) == ("平安建设", Decimal("20"), "quarter")
    client.post(f"/rule-categories/{cat.id}/edit", data={"name": "平安乡村", "cap_points": ""})
    db.session.expire_all()
    assert (cat.name, cat.cap_points, cat.cap_period) == ("平安乡村", None, None)
    # a second category of the same name (boards and totals know categories by name)
    taken = draft.categories[0].name
    for url in (f"/rulebook-versions/{draft.id}/categories/new",
                f"/rule-categories/{cat.id}/edit"):
        html = client.post(url, data={"name": taken, "cap_points": ""}).get_data(as_text=True)
        assert f"本版细则已有名为“{taken}”的类别" in html and f'value="{taken}"' in html, url
    db.session.expire_all()
    assert cat.name == "平安乡村" and [c.name for c in draft.categories].count(taken) == 1
    client.post(f"/rule-categories/{cat.id}/edit", data={"name": "平安乡村", "cap_points": "5"})
    db.session.expire_all()
    assert cat.cap_points == Decimal("5")                 # its own name is no duplicate
    client.post(f"/rule-categories/{cat.id}/edit", data={"name": "平安乡村", "cap_points": ""})
    db.session.expire_all()
    first = draft.categories[0]
    victim = first.items[0]
    client.post(f"/rule-items/{victim.id}/delete")
    client.post(f"/rule-categories/{cat.id}/delete")
    db.session.expire_all()
    assert "平安乡村" not in [c.name for c in draft.categories]
    assert victim.id not in [i.id for i in first.items]


def test_adopted_versions_can_never_be_edited(app, world, login):
    v = _in_force(world)
    before = _items(v)
    cat, it = v.categories[0], v.categories[0].items[0]
    client = login("vadmin")
    attempts = [("get", f"/rulebook-versions/{v.id}/edit", None),
                ("post", f"/rulebook-versions/{v.id}/categories/new", {"name": "新类别"}),
                ("post", f"/rule-categories/{cat.id}/edit", {"name": "改名"}),
                ("post", f"/rule-categories/{cat.id}/delete", {}),
                ("post", f"/rule-categories/{cat.id}/items/new",
                 {"name": "新项", "kind": "fixed", "points": "1"}),
                ("post", f"/rule-items/{it.id}/edit", {"name": "改", "kind": "fixed",
                                                       "points": "9"}),
                ("post", f"/rule-items/{it.id}/delete", {}),
                ("post", f"/rulebook-versions/{v.id}/adopt", {})]
    for method, url, data in attempts:
        resp = getattr(client, method)(url, data=data, follow_redirects=True)
        assert resp.status_code == 200, url
        assert "已经通过，不能修改" in resp.get_data(as_text=True), url
    db.session.expire_all()
    assert _items(v) == before
    with pytest.raises(services.AdoptedVersionError):
        services.update_item(it, name="x")


def _adopt_data(**over):
    data = {"meeting": "村民代表会议", "meeting_date": "2026-11-20", "votes_for": "31",
            "votes_against": "2", "votes_abstain": "1", "proposed": "y", "discussed": "y",
            "reviewed": "y", "effective_from": "2026-12-01"}
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def test_adoption_records_the_decision_and_takes_effect_from_its_date(app, world, login):
    old = _in_force(world)
    draft = _draft(world)
    client = login("vadmin")
    for over, message in [({"reviewed": None}, "表决前须完成这一步"),
                          ({"votes_for": "10", "votes_against": "9", "votes_abstain": "3"},
                           "赞成票须超过"),
                          ({"effective_from": "2026-11-01"}, "施行日期不能早于会议日期"),
                          ({"votes_for": ""}, "请填写赞成票数"),
                          ({"meeting_date": "2019-12-01", "effective_from": "2019-12-31"},
                           "新版本的施行日期须在这一天之后")]:
        resp = client.post(f"/rulebook-versions/{draft.id}/adopt", data=_adopt_data(**over))
        page = resp.get_data(as_text=True)
        assert resp.status_code == 200 and message in page, over
        assert f'value="{_adopt_data(**over)["meeting_date"]}"' in page  # typed, kept
        db.session.expire_all()
        assert draft.status == "draft"
    resp = client.post(f"/rulebook-versions/{draft.id}/adopt", data=_adopt_data())
    assert resp.status_code == 302
    db.session.expire_all()
    assert draft.status == "adopted" and draft.adopted_on == date(2026, 11, 20)
    assert draft.effective_from == date(2026, 12, 1)
    assert "赞成 31 票，反对 2 票，弃权 1 票" in draft.decision
    assert "四议两公开" in draft.decision and "村民代表会议" in draft.decision
    assert draft.params["adoption"]["votes_for"] == 31
    assert version_in_force(world["village_a"], date(2026, 11, 30)) == old
    assert version_in_force(world["village_a"], date(2026, 12, 1)) == draft
    page = client.get(f"/rulebook-versions/{draft.id}").get_data(as_text=True)
    assert "2026-12-01" in page and "赞成 31 票" in page
    # the township's operation log has it, each field named in Chinese
    log = login("auditor").get("/audit/log?action=rulebook.adopt").get_data(as_text=True)
    assert 'data-action="rulebook.adopt"' in log and "表决通过积分细则" in log
    assert "施行日期" in log and "2026-12-01" in log and "<del>草稿</del> → 已通过" in log


# (3) export and import --------------------------------------------------------------------

def _rich_draft(world):
    """A draft holding one item of every kind and option."""
    draft = _draft(world)
    cat = services.add_category(draft, "试点项目", Decimal("30"), "quarter")
    for fields in [
        dict(name="义务巡逻", kind="fixed", points=Decimal("0.5"),
             params={"cap": {"points": "10.00", "period": "month"}}),
        dict(name="拾金不昧", kind="range", min_points=Decimal("5"), max_points=Decimal("10"),
             needs_review=True),
        dict(name="宅前屋后", kind="scorecard", max_points=Decimal("25"),
             params={"per_problem": "5.00", "checks": ["院落整洁", "厕所干净", "垃圾分类"]}),
        dict(name="志愿服务", kind="rate",
             params={"units_per_point": "4.00", "rounding": "half_up", "step": "0.50"}),
        dict(name="获得荣誉", kind="tiered",
             params={"tiers": {"国家": "50.00", "省": "30.00", "县": "15.00"}}),
        dict(name="见义勇为", kind="fixed", points=Decimal("10"), once_only=True,
             params={"bonus_max": "5.00"}, note="事迹经村委会核实"),
        dict(name="其他好人好事", kind="analogy", min_points=Decimal("1"),
             max_points=Decimal("10")),
        dict(name="子女考上大学", kind="fixed", points=Decimal("5"),
             params={"per_person": True}),
        dict(name="违法犯罪", kind="fixed", points=Decimal("-20"), veto=True),
    ]:
        services.add_item(cat, **fields)
    draft.params = {"base": {"points": "100", "per": "once", "spendable": False},
                    "household_cap": {"points": "700.00", "period": "year"},
                    "eligibility": "enrolled", "thresholds": [{"below": "70",
                                                               "flag": "suspended"}],
                    "star_bands": [{"min": "5", "label": "铜"}, {"min": "10", "label": "金"}]}
    db.session.commit()
    return draft


def test_yaml_export_then_import_gives_the_same_items(app, world, login):
    draft = _rich_draft(world)
    client = login("vadmin")
    resp = client.get(f"/rulebook-versions/{draft.id}/rulebook.yaml")
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    text = resp.get_data(as_text=True)
    assert text == export_yaml(draft)
    assert "义务巡逻" in text and "points: 0.5" in text and "5..10" in text
    spec = parse_rulebook(text)
    assert spec.rules["household_cap"] == {"points": "700.00", "period": "year"}
    resp = client.post(f"/regions/{world['village_a'].id}/rulebooks/import",
                       data={"file": (io.BytesIO(text.encode()), "细则.yaml")},
                       content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)[-2000:]
    imported = draft.rulebook.versions[-1]
    assert imported.id != draft.id and imported.status == "draft"
    assert _items(imported) == _items(draft)
    assert export_yaml(imported).split("\n", 3)[3] == text.split("\n", 3)[3]  # past the id


def test_excel_export_then_import_gives_the_same_items(app, world, login):
    draft = _rich_draft(world)
    client = login("vadmin")
    resp = client.get(f"/rulebook-versions/{draft.id}/rulebook.xlsx")
    assert resp.status_code == 200
    data = resp.get_data()
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["积分细则", "填写说明"]
    assert [c.value for c in wb["积分细则"][1]][:5] == ["类别", "类别上限分", "类别上限周期",
                                                     "编号", "评分项"]
    resp = client.post(f"/regions/{world['village_a'].id}/rulebooks/import",
                       data={"file": (io.BytesIO(data), "细则.xlsx")},
                       content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)[-2000:]
    imported = draft.rulebook.versions[-1]
    assert _items(imported) == _items(draft)
    # an inspection's named checks (the tablet grid's columns) are in a column of their own
    sheet = wb["积分细则"]
    header = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[4] == "宅前屋后")
    assert row[header.index("检查项目")] == "院落整洁、厕所干净、垃圾分类"
    from app.tablet.batch import checks_of
    card = next(i for c in imported.categories for i in c.items if i.name == "宅前屋后")
    assert checks_of(card) == ["院落整洁", "厕所干净", "垃圾分类"]
    # the workbook carries no rulebook-wide rules: the draft keeps those in force
    assert imported.params == _in_force(world).params


def _workbook_with(version, rows):
    """The workbook of ``version`` with its item rows replaced by ``rows`` (header: value)."""
    wb = load_workbook(io.BytesIO(excel.export_workbook(version)))
    ws = wb["积分细则"]
    ws.delete_rows(2, ws.max_row)
    for row in rows:
        ws.append([row.get(h, "") for h in excel.HEADERS])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_excel_import_with_errors_names_sheet_row_and_column_and_changes_nothing(
        app, world, login):
    data = _workbook_with(_in_force(world), [
        {"类别": "环境卫生", "评分项": "清扫门前", "类型": "固定分", "分值": "2"},
        {"类别": "环境卫生", "评分项": "乱倒垃圾", "类型": "固定分", "分值": "两分"},
        {"类别": "", "评分项": "无类别", "类型": "固定分", "分值": "1"},
        {"类别": "孝老爱亲", "评分项": "荣誉", "类型": "分级", "分级分值": "国家"},
        {"类别": "孝老爱亲", "评分项": "巡逻", "类型": "随便", "分值": "1"},
        {"类别": "孝老爱亲", "评分项": "检查", "类型": "检查评分", "最高分": "25"},
        {"类别": "孝老爱亲", "评分项": "好事", "类型": "固定分", "分值": "3", "限一次": "也许"},
    ])
    before = _counts()
    client = login("vadmin")
    resp = client.post(f"/regions/{world['village_a'].id}/rulebooks/import",
                       data={"file": (io.BytesIO(data), "细则.xlsx")},
                       content_type="multipart/form-data")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    with pytest.raises(excel.WorkbookError) as exc:
        excel.parse_workbook(data)
    found = {(sheet, row, col) for sheet, row, col, _msg in exc.value.errors}
    assert found == {("积分细则", 3, "分值"), ("积分细则", 4, "类别"), ("积分细则", 5, "分级分值"),
                     ("积分细则", 6, "类型"), ("积分细则", 7, "每处扣分"),
                     ("积分细则", 8, "限一次")}
    for text in ("积分细则", "第 3 行", "分值", "“两分”不是数字", "类别不能为空",
                 "请填写“每处扣分”", "请填“是”或留空"):
        assert text in page, text
    assert _counts() == before


def test_yaml_import_with_errors_names_category_and_item_and_changes_nothing(
        app, world, login):
    before = _counts()
    text = ("categories:\n  - name: 环境卫生\n    items:\n      - {name: 清扫, points: 2}\n"
            "      - {name: 检查, kind: scorecard, max: 25}\n")
    resp = login("vadmin").post(f"/regions/{world['village_a'].id}/rulebooks/import",
                                data={"file": (io.BytesIO(text.encode()), "x.yaml")},
                                content_type="multipart/form-data")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "类别“环境卫生”第 2 项" in page
    assert _counts() == before


# (4) preview ------------------------------------------------------------------------------

def test_preview_shows_the_judgement_or_the_refusal_and_writes_nothing(app, world, login):
    draft = _rich_draft(world)
    cat = draft.categories[-1]
    rate = next(i for i in cat.items if i.name == "志愿服务")
    once = next(i for i in cat.items if i.name == "见义勇为")
    a1 = world["hh"]["a1"]
    client = login("vadmin")
    page = client.get(f"/rulebook-versions/{draft.id}/preview").get_data(as_text=True)
    assert "张小三" in page and "钱七" not in page  # households of the village only
    assert '<option value="国家">' in page  # the tiers of the version are offered
    before = _counts()
    page = client.get(f"/rulebook-versions/{draft.id}/preview",
                      query_string={"household": a1.id, "item": rate.id, "units": "5",
                                    "deed_date": "2026-11-02"}).get_data(as_text=True)
    assert "记 +1.5 分" in page and "按四舍五入取 1.5 分" in page
    page = client.get(f"/rulebook-versions/{draft.id}/preview",
                      query_string={"household": a1.id, "item": rate.id}).get_data(
                          as_text=True)
    assert "不能记分" in page and "请填写数量" in page
    # once-only: a1 already holds the item under the version in force (same code)
    db.session.execute(RuleItem.__table__.update().where(RuleItem.id == item(
        world["village_a"], "红白喜事简办").id).values(code=once.code, once_only=True))
    db.session.commit()
    post_entry(household=a1, item_id=item(world["village_a"], "红白喜事简办").id,
               deed_date=date(2026, 11, 2), recorded_by=world["users"]["scorer"])
    db.session.commit()
    before = _counts()
    page = client.get(f"/rulebook-versions/{draft.id}/preview",
                      query_string={"household": a1.id, "item": once.id,
                                    "deed_date": "2026-11-03"}).get_data(as_text=True)
    assert "每户只能记一次，该户已获得" in page
    assert _counts() == before
    # a household of another village is not a choice
    resp = client.get(f"/rulebook-versions/{draft.id}/preview",
                      query_string={"household": world["hh"]["b1"].id, "item": rate.id})
    assert "钱七" not in resp.get_data(as_text=True)
    assert "data-testid=\"preview-result\"" not in resp.get_data(as_text=True)


# the draft editor on a tablet, in Chromium ------------------------------------------------

_CSP_WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  e => window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline')));
"""


@pytest.mark.browser
def test_village_admin_edits_a_draft_on_a_tablet(app, world, live_server):
    from tests.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, TABLET, require_chromium
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    draft = _draft(world)
    draft_id, cat_id = draft.id, draft.categories[0].id
    db.session.commit()
    db.session.close()
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            ctx = browser.new_context(viewport=TABLET, locale="zh-CN")
            ctx.add_init_script(_CSP_WATCH)
            page = ctx.new_page()
            page.set_default_timeout(15_000)
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(live_server + "/login")
            page.get_by_label("用户名").fill("vadmin")
            page.get_by_label("密码").fill("pw-vadmin")
            page.get_by_role("button", name="登录").click()
            page.goto(f"{live_server}/rulebook-versions/{draft_id}/edit")
            expect(page.get_by_role("heading", name="孝老爱亲")).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "rules-01-editor.png"))
            page.goto(f"{live_server}/rule-categories/{cat_id}/items/new")
            # only the fields of the chosen kind show
            expect(page.get_by_label("满分")).to_be_hidden()
            page.get_by_label("类型").select_option("scorecard")
            expect(page.get_by_label("满分")).to_be_visible()
            expect(page.get_by_label("分值（加分为正")).to_be_hidden()
            page.get_by_label("评分项名称").fill("庭院整洁")
            page.get_by_label("满分").fill("25")
            page.get_by_label("每处问题扣分").fill("五")
            page.get_by_role("button", name="保存").click()
            expect(page.locator(".invalid-feedback")).to_contain_text("分值必须是数字")
            expect(page.get_by_label("评分项名称")).to_have_value("庭院整洁")
            expect(page.get_by_label("满分")).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "rules-02-item-error.png"), full_page=True)
            page.get_by_label("每处问题扣分").fill("5")
            page.get_by_role("button", name="保存").click()
            expect(page.get_by_text("已添加评分项：庭院整洁")).to_be_visible()
            expect(page.get_by_text("≤25，-5/处")).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "rules-03-saved.png"))
            page.goto(f"{live_server}/rulebook-versions/{draft_id}/preview")
            page.get_by_label("评分项").select_option(label="孝老爱亲 · 庭院整洁")
            page.get_by_label("发现的问题数（检查评分）").fill("2")
            page.get_by_role("button", name="试算").click()
            expect(page.get_by_test_id("preview-result")).to_contain_text("记 +15 分")
            page.screenshot(path=str(ARTIFACTS / "rules-06-preview.png"), full_page=True)
            page.goto(f"{live_server}/rulebook-versions/{draft_id}")
            page.screenshot(path=str(ARTIFACTS / "rules-07-version.png"))
            page.goto(f"{live_server}/rulebook-versions/{draft_id}/book-rules")
            page.screenshot(path=str(ARTIFACTS / "rules-05-book-rules.png"), full_page=True)
            page.goto(f"{live_server}/rulebook-versions/{draft_id}/adopt")
            page.screenshot(path=str(ARTIFACTS / "rules-04-adopt.png"), full_page=True)
            assert page.evaluate("window.__csp") == []
            assert errors == []
        finally:
            browser.close()


@pytest.mark.parametrize("name", ["bamingcun-quarterly-stars.yaml", "fengjie-baijia.yaml",
                                  "gujing-half-points.yaml", "jiangxia-baxiu.yaml",
                                  "langao-daode-bank.yaml",
                                  "project/bamingcun-quarterly-stars.yaml",
                                  "project/jiangxia-baxiu.yaml"])
def test_every_rulebook_of_the_repo_round_trips_through_yaml_and_excel(app, world, name):
    from app.demo.loader import _rulebook_text
    spec = parse_rulebook(_rulebook_text(f"rulebooks/{name}"))
    version = services.load_spec(world["village_a2"], spec, name, adopted_on=date(2025, 1, 1),
                                 effective_from=date(2025, 1, 1), decision="村民代表会议")
    db.session.commit()  # the services leave the new collections to be reloaded
    text = export_yaml(version)
    again = services.import_draft(version.rulebook, parse_rulebook(text))
    db.session.commit()
    assert _items(again) == _items(version)
    assert book_rule(again) == book_rule(version)  # the same rules (numbers as exact text)
    if any(c.items for c in version.categories):
        from_excel = services.import_draft(
            version.rulebook, excel.parse_workbook(excel.export_workbook(version)))
        db.session.commit()
        assert _items(from_excel) == [c for c in _items(version) if c[3]]


def test_rulebook_wide_rules_of_a_draft_are_edited(app, world, login):
    draft = _draft(world)
    client = login("vadmin")
    url = f"/rulebook-versions/{draft.id}/book-rules"
    resp = client.post(url, data={"base_points": "100", "base_per": "year",
                                  "household_cap": "七百", "thresholds": "70",
                                  "star_bands": "铜=5\n金=10"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "分值必须是数字" in page and 'value="七百"' in page
    resp = client.post(url, data={"base_points": "100", "base_per": "year",
                                  "household_cap": "700", "household_cap_period": "year",
                                  "enrolled_only": "y", "thresholds": "70",
                                  "star_bands": "金=10\n铜=5\n银=8"})
    assert resp.status_code == 302
    db.session.expire_all()
    book = book_rule(draft)
    assert book.base == (Decimal("100"), "year", False)
    assert book.household_cap.points == Decimal("700") and book.eligibility == "enrolled"
    assert book.thresholds == ((Decimal("70"), "suspended"),)
    assert [label for _m, label in book.star_bands] == ["铜", "银", "金"]
    page = client.get(url).get_data(as_text=True)
    assert "金=10" in page and 'value="700"' in page
    # adopted versions refuse it too
    old = _in_force(world)
    resp = client.post(f"/rulebook-versions/{old.id}/book-rules", data={"base_points": "1"},
                       follow_redirects=True)
    assert "已经通过，不能修改" in resp.get_data(as_text=True)
    assert old.params == _in_force(world).params


def test_through_the_pages_a_changed_item_judges_deeds_from_its_effective_date(
        app, world, login):
    """Draft from the version in force, change an item's points, adopt from 2026-11-01: a
    deed of 10-31 is judged by the old version, one of 11-01 by the new one."""
    old = _in_force(world)
    client = login("vadmin")
    resp = client.post(f"/regions/{world['village_a'].id}/rulebooks/drafts",
                       data={"source": old.id})
    draft = old.rulebook.versions[-1]
    target = next(i for c in draft.categories for i in c.items if i.name == "红白喜事简办")
    resp = client.post(f"/rule-items/{target.id}/edit",
                       data={"name": "红白喜事简办", "kind": "fixed", "points": "8"})
    assert resp.status_code == 302
    resp = client.post(f"/rulebook-versions/{draft.id}/adopt",
                       data=_adopt_data(meeting_date="2026-10-20", effective_from="2026-11-01"))
    assert resp.status_code == 302
    db.session.expire_all()
    entries = []
    for day in (date(2026, 10, 31), date(2026, 11, 1)):
        version = version_in_force(world["village_a"], day)
        it = next(i for c in version.categories for i in c.items if i.name == "红白喜事简办")
        entries.append(post_entry(household=world["hh"]["a1"], item_id=it.id, deed_date=day,
                                  recorded_by=world["users"]["scorer"]))
    db.session.commit()
    assert [(e.points, e.rulebook_version_id) for e in entries] == [
        (Decimal("5"), old.id), (Decimal("8"), draft.id)]
    assert entries[0].item_code == entries[1].item_code == target.code


def test_yaml_export_right_after_load_spec_lists_each_category_once(app, world):
    text = ("categories:\n  - name: 环境卫生\n    items:\n      - {name: 门前整洁, points: 2}\n"
            "  - name: 孝老爱亲\n    items:\n      - {name: 照料老人, points: 3}\n")
    version = services.load_spec(world["village_a2"], parse_rulebook(text, code_prefix="R"),
                                 "往返", adopted_on=date(2026, 1, 1),
                                 effective_from=date(2026, 1, 1), decision="村民代表会议")
    assert [c.name for c in version.categories] == ["环境卫生", "孝老爱亲"]
    assert [c.position for c in version.categories] == [0, 1]
    out = parse_rulebook(export_yaml(version))
    assert [c.name for c in out.categories] == ["环境卫生", "孝老爱亲"]
    assert [[i.name for i in c.items] for c in out.categories] == [["门前整洁"], ["照料老人"]]


def test_the_new_draft_buttons_post_what_their_forms_render(app, world, login):
    """The buttons' forms sent two ``source`` fields (an empty one from hidden_tag first), so
    WTForms read the empty one and no draft was ever made from the pages."""
    import re
    v = _in_force(world)
    client = login("vadmin")
    vid = world["village_a"].id
    for page_url in (f"/regions/{vid}/rulebooks", f"/rulebook-versions/{v.id}"):
        html = client.get(page_url).get_data(as_text=True)
        form = re.search(r'<form method="post" action="(/regions/\d+/rulebooks/drafts)"[^>]*>'
                         r'(.*?)</form>', html, re.S)
        fields = re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', form.group(2))
        assert [name for name, _value in fields].count("source") == 1, fields
        resp = client.post(form.group(1), data=dict(fields))
        assert resp.status_code == 302 and "/edit" in resp.headers["Location"], page_url
    # an id past the integer range is the page's own refusal, not a 500
    resp = client.post(f"/regions/{vid}/rulebooks/drafts",
                       data={"source": "99999999999999999999999"})
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith(f"/regions/{vid}/rulebooks")


def test_a_draft_with_an_empty_category_is_not_adopted(app, world, login):
    """An empty category would be an empty heading on every scoring form."""
    draft = _draft(world)
    services.add_category(draft, "平安建设")
    db.session.commit()
    client = login("vadmin")
    html = client.post(f"/rulebook-versions/{draft.id}/adopt", data=_adopt_data(),
                       follow_redirects=True).get_data(as_text=True)
    assert "类别“平安建设”里还没有评分项" in html
    db.session.expire_all()
    assert draft.status == "draft"
    services.delete_category(draft.categories[-1])
    db.session.commit()
    assert client.post(f"/rulebook-versions/{draft.id}/adopt",
                       data=_adopt_data()).status_code == 302


def test_a_draft_can_be_deleted_and_an_adopted_version_cannot(app, world, login):
    """Imports gone wrong left drafts behind for ever (a fresh user made 30)."""
    draft = _rich_draft(world)
    before = _counts()
    n_items = sum(len(c.items) for c in draft.categories)
    client = login("vadmin")
    page = client.get(f"/rulebook-versions/{draft.id}/edit").get_data(as_text=True)
    assert "删除草稿" in page
    resp = client.post(f"/rulebook-versions/{draft.id}/delete", follow_redirects=True)
    assert resp.status_code == 200 and f"已删除草稿第 {draft.number} 版" in resp.get_data(
        as_text=True)
    db.session.expire_all()
    assert db.session.get(RulebookVersion, draft.id) is None
    after = _counts()
    assert after[1] == before[1] - 1 and after[3] == before[3] - n_items
    # the version in force stays, whatever is posted
    old = _in_force(world)
    resp = client.post(f"/rulebook-versions/{old.id}/delete", follow_redirects=True)
    assert "已经通过，不能修改" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(RulebookVersion, old.id) is not None
    # another village's draft is not found
    other = services.new_draft_from(_in_force(world, "village_b"))
    db.session.commit()
    assert client.post(f"/rulebook-versions/{other.id}/delete").status_code == 404
    assert db.session.get(RulebookVersion, other.id) is not None
