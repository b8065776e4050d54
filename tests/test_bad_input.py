"""Bad input (issue 9): forms and the roster import fuzzed with hypothesis, and the named
cases (rare characters, emoji, blank and duplicate rows, formula cells, negative and huge
quantities, oversized and malformed files), each with the exact message shown and the data
left as it was. On SQLite and on PostgreSQL (TEST_DATABASE_URL)."""
import io
import re
import random
import zipfile
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from sqlalchemy import func, select

from app.extensions import db
from app.households import roster
from app.households.models import Household
from app.scoring.models import LedgerEntry
from tests.conftest import item

HEADER = ["门牌号", "村民小组", "户主", "家庭成员", "联系电话"]
FUZZ = settings(max_examples=25, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


def xlsx(rows, header=HEADER):
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.fixture
def vadmin(login):
    """One logged-in village admin for all the examples of a test."""
    return login("vadmin")


@pytest.fixture
def scorer(login):
    """One logged-in scorer for all the examples of a test."""
    return login("scorer")


def upload(client, village, data, name="roster.xlsx"):
    return client.post(f"/villages/{village.id}/roster/import",
                       data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def snapshot(village):
    """Everything the roster import may change, for "the data was left as it was"."""
    db.session.expire_all()
    households = db.session.execute(select(Household).where(Household.village_id == village.id)
                                    .order_by(Household.id)).scalars().all()
    return [(h.house_number, h.group.name, h.head_name, tuple(h.member_names), h.phone,
             h.status, h.qr_token_hash) for h in households] + [
        tuple(sorted(g.name for g in village.children))]


def error_rows(html):
    """The (row, column, message) cells of the error table, as text."""
    import re
    body = html.split("<tbody>")[-1].split("</tbody>")[0] if "<tbody>" in html else ""
    return [tuple(re.sub(r"<[^>]+>", "", c).strip()
                  for c in re.findall(r"<td[^>]*>(.*?)</td>", tr))
            for tr in re.findall(r"<tr>(.*?)</tr>", body)]


# --- names: rare characters, emoji ---------------------------------------------------------

RARE = ["𠮷", "龘", "𪚥", "㐀", "䶵", "𡃁", "奣", "燚", "犇", "鱻"]


def test_rare_characters_are_stored_exactly_and_export_back(app, world, login):
    v, client = world["village_a"], login("vadmin")
    rows = [["301", "第一村民小组", "𠮷祥", "龘龘、𪚥一", ""],
            ["302", "第一村民小组", "阿依古丽·买买提", "", ""],
            ["303", "第一村民小组", "欧阳䶵", "㐀一,𡃁二", "13912345678"]]
    html = upload(client, v, xlsx(rows)).get_data(as_text=True)
    assert "导入完成：新建 3 户，更新 0 户，未变 0 户。" in html
    db.session.expire_all()
    got = {h.house_number: (h.head_name, h.member_names) for h in Household.query.filter(
        Household.house_number.in_(["301", "302", "303"]))}
    assert got == {"301": ("𠮷祥", ["龘龘", "𪚥一"]), "302": ("阿依古丽·买买提", []),
                   "303": ("欧阳䶵", ["㐀一", "𡃁二"])}
    # the search finds them by the rare character; the export reads back unchanged
    assert "𠮷祥" in client.get(f"/villages/{v.id}/households?q=𠮷").get_data(as_text=True)
    data = client.get(f"/villages/{v.id}/roster/export.xlsx").data
    assert "未变 7 户" in upload(client, v, data).get_data(as_text=True)


@pytest.mark.parametrize("row, expected", [
    (["401", "第一村民小组", "张三😀", "", ""],
     ("第 2 行", "户主", "户主姓名“张三😀”含有表情或符号，姓名只能填写文字")),
    (["401", "第一村民小组", "张三", "李四🎉、王五", ""],
     ("第 2 行", "家庭成员", "家庭成员“李四🎉”的姓名只能填写文字，不能含数字、表情或符号")),
    (["401", "第一村民小组", "👨‍👩‍👧", "", ""],
     ("第 2 行", "户主", "户主姓名“👨‍👩‍👧”含有表情或符号，姓名只能填写文字")),
    (["401", "第一村民小组", "张3", "", ""],
     ("第 2 行", "户主", "户主姓名不能含数字，且不能超过 64 个字")),
    (["401", "第一村民小组", "龘" * 65, "", ""],
     ("第 2 行", "户主", "户主姓名不能含数字，且不能超过 64 个字")),
    (["401", "第一村民小组", "张三", "", "=1+1"],
     ("第 2 行", "联系电话", "不能使用公式，请填写数值或文字")),
    (["=HYPERLINK(\"http://evil\",\"1\")", "第一村民小组", "张三", "", ""],
     ("第 2 行", "门牌号", "不能使用公式，请填写数值或文字")),
    (["401", "第一村民小组", "张三", "", 1e20],
     ("第 2 行", "联系电话", "“100000000000000000000”不是有效的手机号或固定电话")),
    (["401", "第一村民小组", "张三", "", -13800000000],
     ("第 2 行", "联系电话", "“-13800000000”不是有效的手机号或固定电话")),
])
def test_bad_cells_are_refused_with_the_exact_message(app, world, login, row, expected):
    v, client = world["village_a"], login("vadmin")
    before = snapshot(v)
    html = upload(client, v, xlsx([row])).get_data(as_text=True)
    assert "文件有 1 处错误，没有导入任何数据。请改正后重新上传：" in html
    assert error_rows(html) == [expected]
    assert snapshot(v) == before


def test_blank_and_duplicate_rows(app, world, login):
    v, client = world["village_a"], login("vadmin")
    before = snapshot(v)
    blank = [None] * 5
    html = upload(client, v, xlsx([blank, ["", " ", "", "", ""], blank])).get_data(
        as_text=True)
    assert error_rows(html) == [("", "", "文件里没有任何一户，请按模板填写后再导入")]
    rows = [blank, ["501", "第一村民小组", "甲", "", ""], blank,
            ["501", "第一村民小组", "甲", "", ""]]
    html = upload(client, v, xlsx(rows)).get_data(as_text=True)
    assert error_rows(html) == [("第 5 行", "门牌号", "门牌号 501 与第 3 行重复")]
    assert snapshot(v) == before
    # blank rows between households are skipped
    html = upload(client, v, xlsx(rows[:3] + [["502", "第一村民小组", "乙", "", ""]])) \
        .get_data(as_text=True)
    assert "新建 2 户" in html


# --- files: oversized, zip bombs, not a workbook -------------------------------------------

def test_oversized_upload_gets_a_chinese_413_and_changes_nothing(app, world, login,
                                                                monkeypatch):
    v, client = world["village_a"], login("vadmin")
    before = snapshot(v)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 20 * 1024)
    rng = random.Random(9)
    names = ["".join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(3)) for _ in range(4000)]
    big = xlsx([[str(600 + i), "第一村民小组", names[i], "、".join(names[10 * i:10 * i + 10]),
                 ""] for i in range(400)])
    assert len(big) > 20 * 1024
    resp = upload(client, v, big)
    assert resp.status_code == 413
    assert "文件太大，最大只能上传 20 KB。请删去多余的内容后重新上传，数据没有任何改动。" in \
        resp.get_data(as_text=True)
    assert snapshot(v) == before


def test_default_limit_is_5_mb_in_the_message(app, world, login):
    resp = upload(login("vadmin"), world["village_a"], b"x" * (5 * 1024 * 1024 + 10))
    assert resp.status_code == 413
    assert "最大只能上传 5 MB" in resp.get_data(as_text=True)


def test_zip_bomb_is_refused_before_it_is_unpacked(app, world, login, monkeypatch):
    v, client = world["village_a"], login("vadmin")
    before = snapshot(v)
    monkeypatch.setattr(roster, "MAX_UNZIPPED_BYTES", 1024 * 1024)
    buf = io.BytesIO(xlsx([["701", "第一村民小组", "甲", "", ""]]))
    with zipfile.ZipFile(buf, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/media/padding.bin", b"\0" * (2 * 1024 * 1024))
    assert len(buf.getvalue()) < 100 * 1024  # small on the wire
    html = upload(client, v, buf.getvalue()).get_data(as_text=True)
    assert error_rows(html) == [("", "", "文件解压后超过 1 MB，不像是一份花名册。"
                                         "请只保留花名册这一张表后重新上传")]
    assert snapshot(v) == before


PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00"
       b"\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05"
       b"\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


def _zip(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.mark.parametrize("data", [
    PNG, b"", b"PK\x03\x04", _zip({"hello.txt": "hi"}),
    _zip({"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<not-xml"}),
    xlsx([])[: len(xlsx([])) // 2],  # truncated
], ids=["png", "empty", "zip-header", "zip-no-workbook", "broken-xml", "truncated"])
def test_files_that_are_not_workbooks(app, world, login, data):
    v, client = world["village_a"], login("vadmin")
    before = snapshot(v)
    resp = upload(client, v, data)
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert ("文件不是有效的 Excel 工作簿（.xlsx），请用模板填写" in html
            or "请选择要导入的 Excel 文件" in html)  # an empty upload is no file at all
    assert snapshot(v) == before


@FUZZ
@given(data=st.binary(max_size=2048))
def test_fuzzed_bytes_never_crash_the_import(app, world, vadmin, data):
    v, client = world["village_a"], vadmin
    before = snapshot(v)
    resp = upload(client, v, data)
    assert resp.status_code == 200
    assert "没有导入任何数据" in resp.get_data(as_text=True) or not data
    assert snapshot(v) == before


# --- fuzzed rosters ------------------------------------------------------------------------

NAME_CHARS = st.sampled_from(list("张王李赵刘陈杨黄周吴华明芳") + RARE
                             + ["·", " ", "😀", "🎉", "3", "=", "-", "\u200d", "é", "Ä"])
CELL = st.one_of(st.none(), st.text(NAME_CHARS, max_size=8),
                 st.integers(min_value=-10**15, max_value=10**15))
ROW = st.lists(CELL, min_size=5, max_size=5)


@FUZZ
@given(rows=st.lists(ROW, max_size=6))
def test_fuzzed_rosters_import_exactly_or_not_at_all(app, world, vadmin, rows):
    v, client = world["village_a"], vadmin
    before = snapshot(v)
    resp = upload(client, v, xlsx(rows))
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    if "导入完成" in html:
        parsed = roster.parse_roster(xlsx(rows))  # what was accepted, row by row
        db.session.expire_all()
        for r in parsed:
            h = db.session.execute(select(Household).where(
                Household.village_id == v.id,
                Household.house_number == r.house_number)).scalar_one()
            assert (h.head_name, h.member_names, h.phone, h.group.name) == \
                (r.head_name, r.members, r.phone, r.group)
            assert roster.name_is_valid(h.head_name)
            assert all(roster.name_is_valid(m) for m in h.member_names)
    else:
        assert "没有导入任何数据" in html
        assert snapshot(v) == before


# --- the scoring form: negative and huge quantities, strange points ------------------------

def _entries():
    return db.session.scalar(select(func.count(LedgerEntry.id)))


@FUZZ
@given(quantity=st.one_of(st.integers(max_value=0), st.integers(min_value=101),
                          st.sampled_from([-1, 0, 101, 10**30, -10**30])))
def test_quantities_outside_1_to_100_are_refused(app, world, scorer, quantity):
    a1 = world["hh"]["a1"]
    before = _entries()
    html = scorer.post(f"/households/{a1.id}/score", data={
        "item_id": item(world["village_a"], "红白喜事简办").id, "deed_date": "2026-11-02",
        "quantity": str(quantity)}).get_data(as_text=True)
    assert '<div class="invalid-feedback d-block fs-6">次数必须在 1 到 100 之间</div>' in html
    assert _entries() == before


@pytest.mark.parametrize("quantity, message", [
    ("abc", "请填写整数，例如 1、2、3"), ("1.5", "请填写整数，例如 1、2、3"),
    ("三", "请填写整数，例如 1、2、3"), ("", "请填写次数"), (" 2.0 ", "请填写整数，例如 1、2、3")])
def test_quantities_that_are_not_numbers(app, world, login, quantity, message):
    a1 = world["hh"]["a1"]
    before = _entries()
    resp = login("scorer").post(f"/households/{a1.id}/score", data={
        "item_id": item(world["village_a"], "红白喜事简办").id, "deed_date": "2026-11-02",
        "quantity": quantity})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    # one message at the field, in Chinese (not also "must be between 1 and 100")
    assert re.findall(r'<div class="invalid-feedback d-block fs-6">([^<]+)</div>', html) == \
        [message]
    assert f'value="{quantity}"' in html or quantity == ""       # what was typed stays
    assert _entries() == before


def test_whole_number_fields_refuse_numbers_past_the_integer_range(app):
    """A field without a NumberRange (the correction's 编号) refuses a number no column holds,
    rather than passing it to the database."""
    from werkzeug.datastructures import MultiDict
    from app.reports.forms import FindingForm
    with app.test_request_context():
        for text, errors in (("99999999999999999999", ["数字太大"]), ("-2147483649", ["数字太大"]),
                             ("1.5", ["请填写整数，例如 1、2、3"]), ("", []),
                             ("2147483647", []), ("１２", [])):   # full-width digits: 12
            form = FindingForm(MultiDict({"supersedes": text}))
            form.supersedes.validate(form)
            assert form.supersedes.errors == errors, text


@pytest.mark.parametrize("item_id", ["999999", "-1", "abc"])
def test_an_item_outside_the_rulebook_is_refused_at_its_field(app, world, login, item_id):
    """The form does not load every item to check the choice (issue 10): the service
    refuses an item of no rulebook in force, shown at the item field in Chinese, and the
    form is shown again with the items to choose from."""
    a1 = world["hh"]["a1"]
    before = _entries()
    resp = login("scorer").post(f"/households/{a1.id}/score", data={
        "item_id": item_id, "deed_date": "2026-11-02", "quantity": "1"})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "Not a valid" not in html and "Invalid" not in html
    assert ("该评分项不在 2026-11-02 生效的细则中" in html if item_id != "abc"
            else "选择无效" in html)     # WTForms' own Chinese: no radio button sends it
    assert f'value="{item(world["village_a"], "红白喜事简办").id}"' in html
    assert _entries() == before


def test_a_future_date_refused_keeps_the_date_picker_at_today(app, world, login):
    """After a future date is refused, the date field still stops at today: its ``max`` is
    today, not the date that was typed."""
    from app.scoring.periods import local_today
    a1 = world["hh"]["a1"]
    html = login("scorer").post(f"/households/{a1.id}/score", data={
        "item_id": item(world["village_a"], "红白喜事简办").id, "deed_date": "2099-01-01",
        "quantity": "1"}).get_data(as_text=True)
    assert "事情发生日期不能晚于今天" in html and 'value="2099-01-01"' in html
    assert f'max="{local_today().isoformat()}"' in html and 'max="2099-01-01"' not in html


@FUZZ
@given(points=st.one_of(st.text(max_size=12), st.sampled_from(
    ["-5", "1e9", "NaN", "Infinity", "11", "4.99", "5.001", "０７", "七", "5,5", " 7 "])))
def test_strange_points_on_a_range_item_never_crash(app, world, scorer, points):
    a1 = world["hh"]["a1"]
    before = _entries()
    resp = scorer.post(f"/households/{a1.id}/score", data={
        "item_id": item(world["village_a"], "拾金不昧").id, "deed_date": "2026-11-02",
        "quantity": "1", "points": points})
    assert resp.status_code in (200, 302, 400)
    if resp.status_code != 302:
        assert _entries() == before
    else:  # accepted: a value within the item's range 5..10
        entry = db.session.execute(select(LedgerEntry).order_by(LedgerEntry.id.desc())
                                   .limit(1)).scalar_one()
        assert 5 <= entry.points <= 10


# --- any text in the login form and the search box -----------------------------------------

@FUZZ
@given(username=st.text(max_size=80), password=st.text(max_size=80), q=st.text(max_size=40))
def test_any_text_in_login_and_search_is_answered_without_error(app, world, scorer,
                                                                 monkeypatch, username,
                                                                 password, q):
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN", "10000 per minute")
    resp = app.test_client().post("/login", data={"username": username, "password": password})
    assert resp.status_code in (200, 302, 400)
    resp = scorer.get(f"/villages/{world['village_a'].id}/households", query_string={"q": q})
    assert resp.status_code == (400 if "\x00" in q else 200)


@pytest.mark.parametrize("typed, message", [
    ("2026-13-40", "日期不对，请按“年-月-日”填写，例如 2026-11-30。"),
    ("yesterday", "日期不对，请按“年-月-日”填写，例如 2026-11-30。"),
    ("9999-12-31", "日期须在 2000 年到 2099 年之间"),
    ("0001-01-01", "日期须在 2000 年到 2099 年之间"), ("", "请填写日期")])
def test_a_deed_date_that_is_not_a_date_gets_one_message_saying_so(app, world, login, typed,
                                                                      message):
    a1 = world["hh"]["a1"]
    before = _entries()
    html = login("scorer").post(f"/households/{a1.id}/score", data={
        "item_id": item(world["village_a"], "红白喜事简办").id, "deed_date": typed,
        "quantity": "1"}).get_data(as_text=True)
    assert re.findall(r'<div class="invalid-feedback d-block fs-6">([^<]+)</div>', html) == \
        [message]
    assert _entries() == before


def test_points_too_large_say_so():
    from app.rules.engine import Refusal, to_points
    from app.rewards.services import to_yuan
    for text, message in (("99999999999", "分值太大，最多 99999999.99 分"),
                          ("-100000000", "分值太大，最多 99999999.99 分"),
                          ("1e3", "分值必须是数字"), ("5.555", "分值最多保留两位小数")):
        with pytest.raises(Refusal) as err:
            to_points(text)
        assert err.value.message == message, text
    assert to_points("99999999.99") == Decimal("99999999.99")
    for text, message in (("1e400", "金额太大，最多 9999999999.99 元"),
                          ("1E+30", "金额太大，最多 9999999999.99 元"),
                          ("1e-400", "金额必须是不小于 0、最多两位小数的数字")):
        with pytest.raises(Refusal) as err:            # 1e400 raised InvalidOperation: a 500
            to_yuan(text)
        assert err.value.message == message, text
