"""Roster import: all or nothing, errors by row and column in Chinese, idempotent."""
import io

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from app.extensions import db
from app.households.models import Household, HouseholdMember

HEADER = ["门牌号", "村民小组", "户主", "家庭成员", "联系电话"]


def xlsx(rows, header=HEADER):
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def upload(client, village, data, name="roster.xlsx"):
    return client.post(f"/villages/{village.id}/roster/import",
                       data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def confirm(client, village, html, **extra):
    """POST the confirmation form of a preview page ``html`` (the kept file's digest and
    the digest of the changes shown), as its 确认导入 button does."""
    fields = {name: html.split(f'name="{name}" value="')[1].split('"')[0]
              for name in ("confirm", "changes")}
    return client.post(f"/villages/{village.id}/roster/import", data={**fields, **extra})


def count(village):
    return db.session.scalar(select(func.count(Household.id))
                             .where(Household.village_id == village.id))


GOOD = [
    [101, "第一村民小组", "刘德华", "刘一、刘二", 13912345678],
    ["102", "第三村民小组", "𠮷祥", "", ""],
    ["东3-2", "第一村民小组", "龘龘", "甲,乙，丙", "0791-88888888"],
]


def test_template_download_is_the_import_format(app, world, login):
    resp = login("vadmin").get(f"/villages/{world['village_a'].id}/roster/template.xlsx")
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.data)).worksheets[0]
    assert [c.value for c in ws[1]] == HEADER


def test_import_creates_then_reimport_changes_nothing(app, world, login):
    v, client = world["village_a"], login("vadmin")
    before = count(v)
    resp = upload(client, v, xlsx(GOOD))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "新建 3 户" in html and "第三村民小组" in html
    assert count(v) == before + 3
    h = db.session.scalar(select(Household).where(Household.house_number == "101"))
    assert (h.head_name, h.phone, h.member_names, h.name_initials) == \
        ("刘德华", "13912345678", ["刘一", "刘二"], "ldh")
    members_before = db.session.scalar(select(func.count(HouseholdMember.id)))
    resp = upload(client, v, xlsx(GOOD))
    assert "新建 0 户，更新 0 户，未变 3 户" in resp.get_data(as_text=True)
    assert count(v) == before + 3
    assert db.session.scalar(select(func.count(HouseholdMember.id))) == members_before
    # the export reads back as the same roster
    data = client.get(f"/villages/{v.id}/roster/export.xlsx").data
    resp = upload(client, v, data)
    assert f"未变 {before + 3} 户" in resp.get_data(as_text=True)


def test_errors_listed_by_row_and_column_and_nothing_imported(app, world, login):
    v, client = world["village_a"], login("vadmin")
    before = count(v)
    rows = GOOD + [
        ["", "第一村民小组", "无门牌", "", ""],                   # row 5
        ["101", "第一村民小组", "重复", "", ""],                  # row 6
        ["201", "第一村民小组", "", "", "12345"],                 # row 7
        ["202", "第一村民小组", "=HYPERLINK(\"x\")", "", ""],     # row 8
        [None, None, None, None, None],                          # blank: skipped
    ]
    html = upload(client, v, xlsx(rows)).get_data(as_text=True)
    assert "没有导入任何数据" in html
    for expected in ["第 5 行", "门牌号不能为空", "第 6 行", "与第 2 行重复", "第 7 行",
                     "户主姓名不能为空", "不是有效的手机号", "第 8 行", "不能使用公式"]:
        assert expected in html, expected
    assert count(v) == before


def test_not_a_workbook_or_wrong_header(app, world, login):
    v, client = world["village_a"], login("vadmin")
    html = upload(client, v, b"PK\x03\x04 not really", name="x.xlsx").get_data(as_text=True)
    assert "不是有效的 Excel" in html
    html = upload(client, v, b"hello", name="x.csv").get_data(as_text=True)
    assert "只能导入 .xlsx" in html
    html = upload(client, v, xlsx(GOOD, header=["房号", "组", "户主"])).get_data(as_text=True)
    assert "表头缺少“门牌号”列" in html
    html = upload(client, v, xlsx([])).get_data(as_text=True)
    assert "没有任何一户" in html


def test_reimport_updates_changed_rows_only(app, world, login):
    v, client = world["village_a"], login("vadmin")
    upload(client, v, xlsx(GOOD))
    changed = [list(r) for r in GOOD]
    changed[0][4] = "13900000000"
    html = upload(client, v, xlsx(changed)).get_data(as_text=True)
    assert "会修改 1 处已有农户的信息" in html
    html = confirm(client, v, html).get_data(as_text=True)
    assert "更新 1 户，未变 2 户" in html


def test_changes_to_existing_households_wait_for_confirmation(app, world, login):
    v, client = world["village_a"], login("vadmin")
    before = count(v)
    rows = [["1", "第一村民小组", "张小三", "", ""],            # members and phone blanked
            ["301", "第一村民小组", "新来户", "", ""]]
    html = upload(client, v, xlsx(rows)).get_data(as_text=True)
    assert 'data-testid="changes"' in html and "13800000001" in html and "李四、张丽" in html
    assert "另外新建 1 户：301 号" in html                      # the new ones are said too
    assert count(v) == before                                   # nothing applied yet
    digest = html.split('name="confirm" value="')[1].split('"')[0]
    html = confirm(client, v, html, filename="x.xlsx").get_data(as_text=True)
    assert "新建 1 户，更新 1 户" in html
    db.session.expire_all()
    assert world["hh"]["a1"].phone is None and count(v) == before + 1
    # the operation log says what changed, without the phone numbers
    log = login("auditor").get("/audit/log?action=roster.import").get_data(as_text=True)
    assert "1 号 家庭成员：李四、张丽 → （空）；1 号 联系电话：已修改" in log
    assert "13800000001" not in log
    html = client.post(f"/villages/{v.id}/roster/import",
                       data={"confirm": digest}).get_data(as_text=True)
    assert 'data-testid="gone"' in html and "没有导入任何数据" not in html  # used once only


def test_a_confirmation_made_stale_by_an_edit_is_shown_again(app, world, login):
    """Between the preview and the confirm another cadre changed a household: what would be
    applied is no longer what was shown, so it is shown again and nothing is applied."""
    v, client = world["village_a"], login("vadmin")
    rows = [["1", "第一村民小组", "张小三", "李四", "13800000001"]]   # drops a member
    html = upload(client, v, xlsx(rows)).get_data(as_text=True)
    world["hh"]["a1"].head_name = "张大三"                    # meanwhile, elsewhere
    db.session.commit()
    html = confirm(client, v, html, filename="x.xlsx").get_data(as_text=True)
    assert 'data-testid="stale"' in html and "张大三" in html and "导入完成" not in html
    db.session.expire_all()
    assert world["hh"]["a1"].member_names == ["李四", "张丽"]   # nothing applied
    html = confirm(client, v, html, filename="x.xlsx").get_data(as_text=True)
    assert "更新 1 户" in html
    db.session.expire_all()
    assert world["hh"]["a1"].head_name == "张小三" and world["hh"]["a1"].member_names == ["李四"]


def test_blank_formatted_rows_do_not_count_and_leading_space_formulas_are_refused(
        app, world, login):
    from openpyxl.styles import Font
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append(["401", "第一村民小组", "李明", "", ""])
    ws["B6000"].font = Font(bold=True)
    buf = io.BytesIO()
    wb.save(buf)
    v, client = world["village_a"], login("vadmin")
    assert "新建 1 户" in upload(client, v, buf.getvalue()).get_data(as_text=True)
    html = upload(client, v, xlsx([["402", "第一村民小组", ' =HYPERLINK("x")', "", ""]])
                  ).get_data(as_text=True)
    assert "不能使用公式" in html


def test_export_keeps_formula_looking_text_as_text(app, world, login):
    world["hh"]["a2"].head_name = "=1+1"   # as if it came in before the import checks
    db.session.commit()
    data = login("vadmin").get(f"/villages/{world['village_a'].id}/roster/export.xlsx").data
    ws = load_workbook(io.BytesIO(data)).worksheets[0]
    cell = next(c for row in ws.iter_rows() for c in row if c.value == "=1+1")
    assert cell.data_type == "s"


def test_full_width_house_numbers_are_the_same_house(app, world, login):
    """A Chinese input method types １０１ for 101: the import matched it to no household and
    created a second house 101. It is normalised (NFKC), here and where a number is typed."""
    from app.review.channels import household_by_number
    v, client = world["village_a"], login("vadmin")
    upload(client, v, xlsx(GOOD))
    before = count(v)
    html = upload(client, v, xlsx([["１０１", "第一村民小组", "刘德华", "刘一、刘二", 13912345678],
                                   ["　东３-２ ", "第一村民小组", "龘龘", "甲,乙，丙",
                                    "0791-88888888"]])).get_data(as_text=True)
    assert "新建 0 户，更新 0 户，未变 2 户" in html and count(v) == before
    html = upload(client, v, xlsx([["１０１", "第一村民小组", "刘德华", "刘一、刘二", 13912345678],
                                   ["101", "第一村民小组", "刘德华", "", ""]])
                  ).get_data(as_text=True)
    assert "门牌号 101 与第 2 行重复" in html                       # one house, named twice
    assert household_by_number(v.id, "１０１").head_name == "刘德华"
    assert count(v) == before


def test_the_sheet_named_roster_is_read_even_after_a_sheet_of_notes(app, world, login):
    v, client = world["village_a"], login("vadmin")
    wb = Workbook()
    wb.active.title = "说明"
    wb.active.append(["请在“花名册”表里填写"])
    ws = wb.create_sheet("花名册")
    ws.append(HEADER)
    ws.append(GOOD[0])
    buf = io.BytesIO()
    wb.save(buf)
    before = count(v)
    assert "新建 1 户" in upload(client, v, buf.getvalue()).get_data(as_text=True)
    assert count(v) == before + 1
    # without such a sheet the first is read, and the error names it
    ws.title = "Sheet2"
    buf = io.BytesIO()
    wb.save(buf)
    html = upload(client, v, buf.getvalue()).get_data(as_text=True)
    assert "工作表“说明”的表头缺少“门牌号”列" in html


def test_a_house_number_excel_turned_into_a_date_is_refused_at_its_row(app, world, login):
    """Typing 3-2 into a General cell gives a date; it was imported as house number
    '2026-03-02 00:00:00' (a fresh user found)."""
    from datetime import datetime
    v, client = world["village_a"], login("vadmin")
    before = count(v)
    html = upload(client, v, xlsx([["403", "第一村民小组", "李明", "", ""],
                                   [datetime(2026, 3, 2), "第一村民小组", "王强", "", ""]])
                  ).get_data(as_text=True)
    assert "第 3 行" in html and "日期格式" in html and "2026-03-02" not in html
    assert count(v) == before                                  # all or nothing


def test_a_title_row_above_the_header_and_notes_in_it_are_read(app, world, login):
    """Cadres' rosters often start with a merged title row and mark columns 【必填】; the
    import said only 表头缺少“门牌号”列 (noted by a fresh user)."""
    from app.households.roster import parse_roster
    wb = Workbook()
    ws = wb.active
    ws.title = "花名册"
    ws.append(["斗门村农户花名册（2026 年 11 月）"])
    ws.merge_cells("A1:E1")
    ws.append(["门牌号【必填】", "村民小组*", "户主：姓名", "家庭成员（顿号分隔）", "联系电话"])
    ws.append(GOOD[0])
    ws.append(["", "第一村民小组", "王强", "", ""])         # an error, named at its row
    buf = io.BytesIO()
    wb.save(buf)
    import pytest
    from app.households.roster import RosterError
    with pytest.raises(RosterError) as err:
        parse_roster(buf.getvalue())
    assert [e[0] for e in err.value.errors] == [4]          # row 4 as Excel numbers it
    ws.delete_rows(4)
    buf = io.BytesIO()
    wb.save(buf)
    rows = parse_roster(buf.getvalue())
    assert [(r.house_number, r.head_name) for r in rows] == [("101", "刘德华")]
    v, client = world["village_a"], login("vadmin")
    before = count(v)
    assert "新建 1 户" in upload(client, v, buf.getvalue()).get_data(as_text=True)
    assert count(v) == before + 1


def test_merged_cells_other_header_names_and_spaced_headers_are_read(app, world, login):
    """A 村民小组 cell merged down its group's rows read as empty on the rows below; a 电话
    column was silently ignored; "户  主" was not 户主 (a fresh user found all three)."""
    from app.households.roster import parse_roster
    wb = Workbook()
    ws = wb.active
    ws.append(["斗门村农户花名册"])
    ws.merge_cells("A1:E1")
    ws.append(["门牌号码", "村民小组", "户  主", "家庭成员", "电话"])
    ws.append(["401", "第八村民小组", "甲一", "", "13711112222"])
    ws.append(["402", None, "甲二", "", ""])
    ws.append(["403", None, "甲三", "", ""])
    ws.merge_cells("B3:B5")
    ws.append(["404", "第九村民小组", "乙一", "", ""])
    buf = io.BytesIO()
    wb.save(buf)
    rows = parse_roster(buf.getvalue())
    assert [(r.house_number, r.group, r.head_name, r.phone) for r in rows] == [
        ("401", "第八村民小组", "甲一", "13711112222"), ("402", "第八村民小组", "甲二", None),
        ("403", "第八村民小组", "甲三", None), ("404", "第九村民小组", "乙一", None)]


def test_the_template_keeps_house_numbers_and_phones_as_text(app, world, login):
    """Excel turned 3-2 typed into the template into a date, and dropped a landline's 0."""
    wb = load_workbook(io.BytesIO(login("vadmin").get(
        f"/villages/{world['village_a'].id}/roster/template.xlsx").data))
    ws = wb.worksheets[0]
    header = [c.value for c in ws[1]]
    for name in ("门牌号", "联系电话"):
        col = header.index(name) + 1
        assert ws.cell(row=2, column=col).number_format == "@", name
        assert ws.cell(row=500, column=col).number_format == "@", name
