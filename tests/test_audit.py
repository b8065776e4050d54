"""Township audit: the scoped ledger explorer, its filters and totals, anomaly flags on real
entries, exports (CSV with BOM, Excel) with neutralised text and chain heads, and the audit
log of administrative actions."""
import csv
import io
import re
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import event, select

from app.audit.models import AuditLog
from app.audit.services import jsonable, log_action
from app.extensions import db
from app.scoring.chain import chain_head
from app.scoring.models import LedgerEntry
from app.scoring.periods import local_zone
from app.scoring.services import post_entry, reverse_entry, spend
from tests.conftest import item

DAY = date(2026, 11, 2)


def at(d: date, hour=10, minute=0, second=0):
    """A local time on ``d`` as UTC."""
    return datetime.combine(d, time(hour, minute, second), local_zone()).astimezone(timezone.utc)


def post(world, hh="a1", name="红白喜事简办", by="scorer", deed_date=DAY, village="village_a",
         **kw):
    return post_entry(household=world["hh"][hh], item_id=item(world[village], name).id,
                      deed_date=deed_date, recorded_by=world["users"][by], **kw)


def listed(html):
    """Ids of the entries listed on an explorer page."""
    return [int(i) for i in re.findall(r'href="/audit/entries/(\d+)', html)]


def get(client, url, status=200):
    resp = client.get(url)
    assert resp.status_code == status, (url, resp.status_code)
    return resp.get_data(as_text=True)


# --- scoping -------------------------------------------------------------------------------

@pytest.fixture
def two_villages(app, world):
    a = post(world, "a1")
    a4 = post(world, "a4", name="乱堆乱放")
    b = post(world, "b1", by="scorer_b", village="village_b")
    db.session.commit()
    return {"a": a, "a4": a4, "b": b}


def test_auditor_sees_only_its_township(app, world, login, two_villages):
    e = two_villages
    html = get(login("auditor"), "/audit/entries")
    assert sorted(listed(html)) == sorted([e["a"].id, e["a4"].id])
    assert "钱七" not in html  # the household of township B
    html = get(login("auditor_b"), "/audit/entries")
    assert listed(html) == [e["b"].id]
    assert "张小三" not in html and "斗门村委会" not in html


def test_village_user_sees_only_its_village_and_city_sees_all(app, world, login, two_villages):
    e = two_villages
    assert sorted(listed(get(login("scorer"), "/audit/entries"))) == \
        sorted([e["a"].id, e["a4"].id])
    assert listed(get(login("scorer_b"), "/audit/entries")) == [e["b"].id]
    assert sorted(listed(get(login("city"), "/audit/entries"))) == \
        sorted(x.id for x in e.values())


def test_foreign_entries_villages_and_exports_are_404(app, world, login, two_villages):
    e = two_villages
    client = login("auditor_b")
    get(client, f"/audit/entries/{e['a'].id}", 404)
    get(client, f"/audit/entries/{e['b'].id}")
    get(client, "/audit/entries/999999", 404)
    va = world["village_a"].id
    for url in (f"/audit/entries?village={va}", f"/audit/entries.csv?village={va}",
                f"/audit/entries.xlsx?village={va}", f"/audit/entries?group={world['g_a1'].id}",
                f"/audit/log?region={va}"):
        get(client, url, 404)
    # a group that is not in the chosen village, or a village id that is a township
    get(login("auditor"), f"/audit/entries?village={va}&group={world['g_b1'].id}", 404)
    get(login("auditor"), f"/audit/entries?village={world['town_a'].id}", 404)


def test_export_holds_nothing_of_other_regions(app, world, login, two_villages):
    body = login("auditor_b").get("/audit/entries.csv").data.decode("utf-8-sig")
    assert "钱七" in body and "张小三" not in body and "斗门村委会" not in body


# --- filters and totals --------------------------------------------------------------------

@pytest.fixture
def ledger(app, world):
    """A small ledger of village A, recorded over a few days."""
    u = world["users"]
    e = {
        "a1_award": post(world, "a1", "红白喜事简办", deed_date=date(2026, 10, 5),
                         recorded_at=at(date(2026, 10, 5))),                         # +5
        "a2_award": post(world, "a2", "参加村庄清洁行动", quantity=3, by="vadmin",
                         deed_date=date(2026, 10, 20), recorded_at=at(date(2026, 10, 21))),  # +3
        "a2_deduct": post(world, "a2", "乱堆乱放", deed_date=date(2026, 11, 1),
                          recorded_at=at(date(2026, 11, 1))),                        # -2
        "a4_deduct": post(world, "a4", "焚烧秸秆或垃圾", deed_date=date(2026, 11, 3),
                          recorded_at=at(date(2026, 11, 3))),                        # -5
        "a3_award": post(world, "a3", "红白喜事简办", deed_date=date(2026, 11, 4),
                         recorded_at=at(date(2026, 11, 4))),                         # +5
    }
    e["a3_reversal"] = reverse_entry(e["a3_award"], reason="记错户", recorded_by=u["scorer"],
                                     recorded_at=at(date(2026, 11, 5)))              # -5
    e["a1_spend"] = spend(household=world["hh"]["a1"], points=2, recorded_by=u["vadmin"],
                          reason="兑换肥皂")                                          # -2 spend
    db.session.commit()
    return e


def test_list_is_newest_first_and_totals_cover_the_whole_set(app, world, login, ledger):
    html = get(login("auditor"), "/audit/entries")
    ids = listed(html)
    assert ids[0] == ledger["a1_spend"].id and ids[-1] == ledger["a1_award"].id
    assert len(ids) == 7
    assert 'data-testid="total-count">7<' in html
    assert 'data-testid="total-awards">+8<' in html      # 5 + 3 + 5 - 5 (reversal)
    assert 'data-testid="total-deductions">-7<' in html  # -2 - 5
    assert 'data-testid="total-spends">-2<' in html
    assert 'data-testid="total-net">-1<' in html


def test_filters_and_they_keep_their_values(app, world, login, ledger):
    client, e = login("auditor"), ledger
    va, g2 = world["village_a"].id, world["g_a2"].id

    def ids(query):
        return sorted(listed(get(client, "/audit/entries?" + query)))

    assert ids(f"village={va}&group={g2}") == [e["a4_deduct"].id]
    assert ids(f"village={va}&house=2") == sorted([e["a2_award"].id, e["a2_deduct"].id])
    assert ids(f"scorer={world['users']['vadmin'].id}") == \
        sorted([e["a2_award"].id, e["a1_spend"].id])
    assert ids("item=清洁") == [e["a2_award"].id]                      # part of the name
    assert ids(f"item={e['a4_deduct'].item_code}") == [e["a4_deduct"].id]  # the code
    assert ids("category=环境卫生") == sorted([e["a2_award"].id, e["a2_deduct"].id,
                                            e["a4_deduct"].id])
    assert ids("status=confirmed") == sorted(x.id for k, x in e.items())  # notice_days=0
    assert ids("status=held") == []
    assert ids("date_from=2026-10-20&date_to=2026-11-01") == \
        sorted([e["a2_award"].id, e["a2_deduct"].id])
    # totals follow the filters
    html = get(client, "/audit/entries?category=环境卫生")
    assert 'data-testid="total-count">3<' in html and 'data-testid="total-net">-4<' in html
    # the form shows the values back
    html = get(client, f"/audit/entries?village={va}&group={g2}&house=21&item=乱&"
                       f"date_from=2026-11-01&date_to=2026-11-30&status=confirmed")
    assert f'<option value="{va}" selected>' in html and f'<option value="{g2}" selected>' in html
    assert 'name="house" value="21"' in html and 'name="item" value="乱"' in html
    assert 'name="date_from" value="2026-11-01"' in html
    assert 'name="date_to" value="2026-11-30"' in html
    assert '<option value="confirmed" selected>' in html
    # export links carry the filters
    assert f"/audit/entries.csv?village={va}&amp;group={g2}" in html


def test_an_entry_page_reads_its_points_right(app, world, login, ledger):
    """A reversal's points are the original's negated: "-5 × 1 = +5" read as a sum gone
    wrong."""
    page = get(login("auditor"), f"/audit/entries/{ledger['a3_reversal'].id}")
    assert "（与原记录分值相反）" in page and " × 1 = " not in page
    page = get(login("auditor"), f"/audit/entries/{ledger['a3_award'].id}")
    assert " × 1 = <strong>" in page


def test_bad_filters_are_shown_at_their_field_and_list_nothing(app, world, login, ledger):
    client = login("auditor")
    html = get(client, "/audit/entries?date_from=yesterday&status=nonsense&scorer=x&item=清洁")
    errors = dict(re.findall(r'id="err-(\w+)" data-testid="filter-error">([^<]+)<', html))
    assert errors == {"date_from": "日期不对，请按“年-月-日”填写，例如 2026-11-30。",
                      "status": "请从列表中选择。", "scorer": "请从列表中选择。"}
    assert 'data-testid="filters-invalid"' in html and listed(html) == []
    assert 'data-testid="totals"' not in html and "导出 Excel" not in html
    assert 'name="item" value="清洁"' in html                      # what was typed stays
    assert 'class="form-select is-invalid" aria-invalid="true" aria-describedby="err-status"' \
        in html
    # a start date after the end date: the error is at the end date, both dates stay
    html = get(client, "/audit/entries?date_from=2026-11-20&date_to=2026-11-01")
    assert 'id="err-date_to" data-testid="filter-error">结束日期早于开始日期，请改正。<' in html
    assert 'name="date_from" value="2026-11-20"' in html and listed(html) == []
    # an export of bad filters goes back to the explorer, which shows them
    for fmt in ("csv", "xlsx"):
        resp = client.get(f"/audit/entries.{fmt}?date_from=2026-11-20&date_to=2026-11-01")
        assert resp.status_code == 302
        assert resp.headers["Location"] == \
            "/audit/entries?date_from=2026-11-20&date_to=2026-11-01"
    # dates outside 2000-2099 (9999-12-31 overflowed the month arithmetic: a 500)
    html = get(client, "/audit/entries?status=confirmed&date_to=9999-12-31")
    assert 'id="err-date_to" data-testid="filter-error">日期须在 2000 年到 2099 年之间<' in html
    html = get(client, "/audit/log?date_from=0001-01-01&date_to=9999-12-31")
    assert re.findall(r'id="err-(\w+)"', html) == ["date_from", "date_to"]
    # the same in English
    html = get(client, "/audit/entries?lang=en&status=nonsense")
    assert 'data-testid="filter-error">Please choose from the list.<' in html


def test_group_and_scorer_filters_that_do_not_fit_are_errors_not_404s(app, world, login,
                                                                      ledger):
    """Changing the village after picking a group sent the auditor to a bare 404 with every
    filter lost; a group without its village filtered invisibly; an unknown scorer id showed
    as 全部 with nothing listed."""
    from app.regions.services import add_region
    va, va2, g_a2 = world["village_a"].id, world["village_a2"], world["g_a2"]
    add_region(code="360121100203001", name="第一村民小组", level="group", parent=va2)
    db.session.commit()
    client = login("auditor")
    html = get(client, f"/audit/entries?village={va2.id}&group={g_a2.id}&item=乱")
    assert 'id="err-group" data-testid="filter-error">这个村民小组不属于所选的村，请重新选择小组<' \
        in html
    assert listed(html) == [] and 'name="item" value="乱"' in html
    assert f'<option value="{va2.id}" selected>' in html              # the new village stays
    resp = client.get(f"/audit/entries.csv?village={va2.id}&group={g_a2.id}")
    assert resp.status_code == 302 and "/audit/entries?" in resp.headers["Location"]
    # a group alone: its village is chosen for it, and both show in the form
    html = get(client, f"/audit/entries?group={g_a2.id}")
    assert f'<option value="{va}" selected>' in html and f'<option value="{g_a2.id}" selected>' \
        in html
    assert listed(html) == [ledger["a4_deduct"].id]
    # an account that recorded nothing here
    for scorer in ("12345", str(world["users"]["scorer_b"].id)):
        html = get(client, f"/audit/entries?scorer={scorer}")
        assert 'id="err-scorer"' in html and listed(html) == [], scorer
    scorer = world["users"]["scorer"].id
    assert 'id="err-scorer"' not in get(client, f"/audit/entries?scorer={scorer}")


def test_pagination_fifty_a_page_with_a_fixed_number_of_queries(app, world, login):
    v, a1, scorer = world["village_a"], world["hh"]["a1"], world["users"]["scorer"]
    rid = item(v, "参加村庄清洁行动").id
    for i in range(55):
        post_entry(household=a1, item_id=rid, deed_date=DAY, recorded_by=scorer,
                   recorded_at=at(DAY) + timedelta(hours=i))
    db.session.commit()
    client = login("auditor")
    html = get(client, "/audit/entries")
    assert len(listed(html)) == 50 and 'data-testid="total-count">55<' in html
    assert len(listed(get(client, "/audit/entries?page=2"))) == 5

    def count_queries(url):
        seen = []

        def hook(*args):
            seen.append(args[2])
        event.listen(db.engine, "before_cursor_execute", hook)
        try:
            get(client, url)
        finally:
            event.remove(db.engine, "before_cursor_execute", hook)
        return len(seen)

    # 50 rows cost the same queries as 5: nothing is loaded row by row
    assert count_queries("/audit/entries") == count_queries("/audit/entries?page=2")


def test_entry_detail_shows_history_objection_evidence_and_chain(app, world, login):
    from app.evidence.models import Evidence
    from app.review.services import raise_objection, resolve_objection
    from app.scoring.models import VillageSettings
    db.session.get(VillageSettings, world["village_a"].id).notice_days = 7
    ev = Evidence(village_id=world["village_a"].id, sha256="ab" * 32, width=10, height=10,
                  size_bytes=100)
    db.session.add(ev)
    db.session.flush()
    entry = post(world, "a1", evidence_id=ev.id)
    objection = raise_objection(entry, text="我家没有办酒席", by_household=world["hh"]["a2"])
    resolve_objection(objection, outcome="entry_upheld", reason="核实无误",
                      by_user=world["users"]["vadmin"])
    db.session.commit()
    html = get(login("auditor"), f"/audit/entries/{entry.id}")
    for text in ("公示中", "异议暂停", "我家没有办酒席", "维持原记录", "核实无误", entry.hash,
                 entry.prev_hash or "—", "ab" * 32):
        assert text in html, text
    assert f'<dd class="col-8">{entry.seq}</dd>' in html
    seq, head = chain_head(world["village_a"].id)
    assert head in html
    if "evidence.thumb" in app.view_functions:  # the evidence blueprint serves the photos
        assert f"/evidence/{ev.id}_thumb.jpg" in html and f"/evidence/{ev.id}.jpg" in html


# --- anomaly flags on real entries -----------------------------------------------------------

def flags_on(client, entry_id):
    html = get(client, f"/audit/entries/{entry_id}")
    return set(re.findall(r'<li data-flag="(\w+)"', html))


def test_linked_flag(app, world, login):
    world["users"]["scorer"].household_id = world["hh"]["a1"].id
    own, other = post(world, "a1"), post(world, "a2")
    db.session.commit()
    client = login("auditor")
    assert "linked" in flags_on(client, own.id)
    assert "linked" not in flags_on(client, other.id)
    html = get(client, "/audit/entries")
    assert 'data-flag="linked"' in html and "本人不能给自家记分" in html  # hover text


def test_burst_flag_with_configured_thresholds(app, world, login):
    app.config.update(AUDIT_BURST_ENTRIES=3, AUDIT_BURST_MINUTES=10)
    try:
        start = at(DAY, 9)
        quick = [post(world, "a1", recorded_at=start + timedelta(minutes=3 * i))
                 for i in range(4)]                 # 4 entries within 9 minutes
        later = [post(world, "a2", recorded_at=at(DAY, 14) + timedelta(minutes=4 * i))
                 for i in range(4)]                 # 4 entries over 12 minutes: at most 3 in 10
        db.session.commit()
        client = login("auditor")
        assert all("burst" in flags_on(client, e.id) for e in quick)
        assert not any("burst" in flags_on(client, e.id) for e in later)
    finally:
        app.config.pop("AUDIT_BURST_ENTRIES")
        app.config.pop("AUDIT_BURST_MINUTES")


def test_backdated_flag(app, world, login):
    rec = date(2026, 11, 20)
    late = post(world, "a1", deed_date=rec - timedelta(days=31), recorded_at=at(rec, 0, 30))
    edge = post(world, "a2", deed_date=rec - timedelta(days=30), recorded_at=at(rec, 23, 59))
    db.session.commit()
    rev = reverse_entry(late, reason="补记有误", recorded_by=world["users"]["scorer"])
    db.session.commit()
    client = login("auditor")
    assert "backdated" in flags_on(client, late.id)
    assert "backdated" not in flags_on(client, edge.id)
    assert "backdated" not in flags_on(client, rev.id)  # a reversal keeps the old deed date


def test_amount_flag(app, world, login):
    usual = [post(world, hh, "参加村庄清洁行动", quantity=1) for hh in ("a1", "a2", "a3", "a4")]
    high = post(world, "a1", "参加村庄清洁行动", quantity=4)
    db.session.commit()
    client = login("auditor")
    assert "amount" in flags_on(client, high.id)           # 4 > 3 x median 1, with 5 entries
    assert not any("amount" in flags_on(client, e.id) for e in usual)
    html = get(client, f"/audit/entries/{high.id}")
    assert "中位数 1 分" in html and "共 5 条" in html


def test_amount_flag_needs_five_entries_and_more_than_three_times(app, world, login):
    for hh in ("a1", "a2", "a3"):
        post(world, hh, "参加村庄清洁行动", quantity=1)
    high = post(world, "a4", "参加村庄清洁行动", quantity=9)  # 4 entries only
    db.session.commit()
    client = login("auditor")
    assert "amount" not in flags_on(client, high.id)
    edge = post(world, "a4", "参加村庄清洁行动", quantity=3)  # 5 entries, median 1, exactly 3x
    db.session.commit()
    assert "amount" not in flags_on(client, edge.id)
    assert "amount" in flags_on(client, high.id)


def test_household_reversals_flag(app, world, login):
    scorer = world["users"]["scorer"]
    a1 = [post(world, "a1", deed_date=date(2026, 11, d)) for d in (2, 3, 4, 5)]
    a2 = [post(world, "a2", deed_date=date(2026, 11, d)) for d in (2, 3)]
    db.session.commit()
    for e in a1[:3] + a2:
        reverse_entry(e, reason="记错", recorded_by=scorer)
    db.session.commit()
    client = login("auditor")
    assert "household_reversals" in flags_on(client, a1[3].id)   # 3 reversals in 2026-11
    assert "household_reversals" not in flags_on(client, a2[0].id)  # 2 reversals


def test_scorer_reversals_flag(app, world, login):
    vadmin, scorer = world["users"]["vadmin"], world["users"]["scorer"]
    hh = ["a1", "a2", "a3", "a4"]
    by_admin = [post(world, hh[i % 4], "参加村庄清洁行动", by="vadmin") for i in range(10)]
    by_scorer = [post(world, hh[i % 4], "参加村庄清洁行动") for i in range(10)]
    db.session.commit()
    for e in by_admin[:3]:   # 3 of 10: 30 %
        reverse_entry(e, reason="记错", recorded_by=vadmin)
    for e in by_scorer[:2]:  # 2 of 10: exactly 20 %
        reverse_entry(e, reason="记错", recorded_by=scorer)
    db.session.commit()
    client = login("auditor")
    assert "scorer_reversals" in flags_on(client, by_admin[5].id)
    assert "scorer_reversals" not in flags_on(client, by_scorer[5].id)


# --- exports ---------------------------------------------------------------------------------

@pytest.fixture
def nasty(app, world):
    """Entries whose text would run as formulas in a spreadsheet."""
    u = world["users"]
    award = post(world, "a1", note='=HYPERLINK("http://evil.example","点我")')
    post(world, "a2", "乱堆乱放", note="+1+2")
    spent = spend(household=world["hh"]["a1"], points=Decimal("2.5"), recorded_by=u["vadmin"],
                  reason="-cmd|' /C calc'!A0", item_name='=HYPERLINK("x")',
                  category_name="@SUM(1)")
    tab = spend(household=world["hh"]["a1"], points=1, recorded_by=u["vadmin"],
                reason="\tTAB", item_name="\r\nCR")
    db.session.commit()
    return {"award": award, "spend": spent, "tab": tab}


def test_csv_export_bom_neutralised_numbers_and_chain_head(app, world, login, nasty):
    resp = login("auditor").get("/audit/entries.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"   # the charset once
    assert "attachment" in resp.headers["Content-Disposition"]
    assert resp.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    seq, head = chain_head(world["village_a"].id)
    head_row = next(r for r in rows if head in r)
    assert head_row[0] == world["village_a"].code and head_row[3] == str(seq)
    assert any("导出时间（北京时间）" in r for r in rows)
    header_at = next(i for i, r in enumerate(rows) if r and r[0] == "记录编号")
    header = rows[header_at]
    data = {int(r[0]): dict(zip(header, r)) for r in rows[header_at + 1:] if r}
    assert len(data) == 4
    sp = data[nasty["spend"].id]
    assert sp["评分项"] == "'=HYPERLINK(\"x\")" and sp["类别"] == "'@SUM(1)"
    assert sp["原因"] == "'-cmd|' /C calc'!A0"
    assert sp["分值"] == "-2.5" and sp["单项分值"] == "-2.5"   # numbers stay plain numbers
    aw = data[nasty["award"].id]
    assert aw["备注"] == "'=HYPERLINK(\"http://evil.example\",\"点我\")" and aw["分值"] == "5"
    assert data[nasty["tab"].id]["原因"] == "'\tTAB"
    assert data[nasty["tab"].id]["评分项"] == "'\r\nCR"
    assert any(r.get("备注") == "'+1+2" for r in data.values())
    for r in data.values():
        assert r["记录编号"].isdigit()
        for v in r.values():
            assert not v.startswith(("=", "+", "@", "\t", "\r")), v
            assert not v.startswith("-") or re.fullmatch(r"-\d+(\.\d+)?", v), v


def test_excel_export_neutralised_numeric_cells_and_chain_head(app, world, login, nasty):
    resp = login("auditor").get("/audit/entries.xlsx?village=%d" % world["village_a"].id)
    assert resp.status_code == 200
    wb = load_workbook(io.BytesIO(resp.data))
    ws = wb["积分明细"]
    header = [c.value for c in ws[1]]
    col = {name: i for i, name in enumerate(header)}
    rows = {r[0].value: r for r in ws.iter_rows(min_row=2)}
    sp = rows[nasty["spend"].id]
    assert sp[col["评分项"]].value == "'=HYPERLINK(\"x\")" and sp[col["评分项"]].data_type == "s"
    assert sp[col["类别"]].value == "'@SUM(1)"
    assert sp[col["分值"]].data_type == "n" and Decimal(str(sp[col["分值"]].value)) == \
        Decimal("-2.5")
    aw = rows[nasty["award"].id]
    assert aw[col["备注"]].data_type == "s" and aw[col["备注"]].value.startswith("'=")
    assert aw[col["分值"]].data_type == "n" and aw[col["分值"]].value == 5
    assert aw[col["数量"]].data_type == "n" and aw[col["链序号"]].data_type == "n"
    for row in ws.iter_rows(min_row=1):
        for cell in row:
            assert cell.data_type != "f", cell.coordinate  # no formula anywhere
    meta = wb["校验信息"]
    values = [[c.value for c in r] for r in meta.iter_rows()]
    seq, head = chain_head(world["village_a"].id)
    assert [world["village_a"].code, world["village_a"].name, world["village_a"].id, seq,
            head] in values
    assert any(r[0] == "导出时间（北京时间）" and r[1] for r in values)


def test_export_follows_filters_and_lists_only_its_villages(app, world, login, two_villages):
    body = login("city").get("/audit/entries.csv?village=%d" % world["village_b"].id) \
        .data.decode("utf-8-sig")
    assert world["village_b"].code in body and world["village_a"].code not in body
    assert chain_head(world["village_b"].id)[1] in body
    assert chain_head(world["village_a"].id)[1] not in body


def test_exported_chain_head_matches_ledger_verify(app, world, login, nasty):
    from app.scoring.checks import verify
    body = login("auditor").get("/audit/entries.csv").data.decode("utf-8-sig")
    assert verify(world["village_a"].id) == []
    seq, head = chain_head(world["village_a"].id)
    entry_hashes = db.session.execute(select(LedgerEntry.hash)).scalars().all()
    assert f"{seq},{head}" in body and all(h in body for h in entry_hashes)


# --- the audit log -----------------------------------------------------------------------------

def roster_file(rows):
    wb = Workbook()
    ws = wb.active
    ws.append(["门牌号", "村民小组", "户主", "家庭成员", "联系电话"])
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_roster_import_is_logged_and_readable_by_auditors(app, world, login):
    v = world["village_a"]
    data = roster_file([["1", "第一村民小组", "张小三", "李四、张丽", "13800000011"],
                        ["301", "第三村民小组", "刘德华", "", ""]])
    admin = login("vadmin")
    resp = admin.post(f"/villages/{v.id}/roster/import",
                      data={"file": (io.BytesIO(data), "花名册.xlsx")},
                      content_type="multipart/form-data")
    assert resp.status_code == 200  # household 1 changes: shown first, applied on confirm
    assert db.session.execute(select(AuditLog)).first() is None
    page = resp.get_data(as_text=True)
    digest = page.split('name="confirm" value="')[1].split('"')[0]
    seen = page.split('name="changes" value="')[1].split('"')[0]
    resp = admin.post(f"/villages/{v.id}/roster/import",
                      data={"confirm": digest, "filename": "花名册.xlsx", "changes": seen})
    assert resp.status_code == 200
    row = db.session.execute(select(AuditLog)).scalar_one()
    assert (row.action, row.actor_id, row.region_id, row.target_type, row.target_id) == \
        ("roster.import", world["users"]["vadmin"].id, v.id, "region", v.id)
    assert row.before is None
    assert row.after["created"] == 1 and row.after["updated"] == 1
    assert row.after["house_numbers"] == ["1", "301"] and row.after["file"] == "花名册.xlsx"
    assert row.after["new_groups"] == ["第三村民小组"]
    html = get(login("auditor"), "/audit/log")
    assert 'data-action="roster.import"' in html and "vadmin" in html
    assert "新建户数" in html and "1、301" in html and "地区 #%d" % v.id in html
    assert 'href="/audit/entries"' in html  # the nav leads to the explorer
    assert 'data-action="roster.import"' not in get(login("auditor_b"), "/audit/log")
    # a failed import logs nothing
    login("vadmin").post(f"/villages/{v.id}/roster/import",
                         data={"file": (io.BytesIO(b"not a workbook"), "x.xlsx")},
                         content_type="multipart/form-data")
    assert len(db.session.execute(select(AuditLog)).scalars().all()) == 1


def test_log_filters(app, world, login):
    u, va, vb = world["users"], world["village_a"], world["village_b"]
    old = log_action(u["vadmin"], "user.create", region=va, target=u["scorer"],
                     after={"username": "scorer", "password": "secret"})
    old.at = datetime(2026, 1, 5, 2, tzinfo=timezone.utc)
    log_action(u["admin"], "household.archive", region=va, target=world["hh"]["a2"],
               before={"status": "active"}, after={"status": "moved", "reason": "迁往县城"})
    log_action(u["vadmin_b"], "user.create", region=vb, target=u["scorer_b"])
    db.session.commit()
    assert old.after["password"] == "***"
    client = login("county")

    def actions(query=""):
        return re.findall(r'data-action="([\w.]+)"', get(client, "/audit/log?" + query))

    assert sorted(actions()) == ["household.archive", "user.create"]
    assert actions(f"actor={u['admin'].id}") == ["household.archive"]
    assert actions("action=user.create") == ["user.create"]
    assert actions("date_from=2026-01-05&date_to=2026-01-05") == ["user.create"]
    assert actions("date_from=2026-01-06") == ["household.archive"]
    html = get(client, "/audit/log?date_from=2026-01-06&date_to=2026-01-05&actor=me"
                       "&action=bogus")
    assert re.findall(r'id="err-(\w+)"', html) == ["actor", "action", "date_to"]
    assert 'data-testid="filters-invalid"' in html and "data-action=" not in html
    html = get(client, "/audit/log")
    assert "迁往县城" in html and "secret" not in html
    assert "<del>在册</del> → 迁出" in html
    assert sorted(re.findall(r'data-action="([\w.]+)"', get(login("city"), "/audit/log"))) == \
        ["household.archive", "user.create", "user.create"]


def test_log_action_validates_and_serialises(app, world):
    with pytest.raises(ValueError):
        log_action(None, "", region=world["village_a"])
    with pytest.raises(ValueError):
        log_action(None, "x.y", region=None)
    row = log_action(None, "village.settings", region=world["village_a"].id,
                     target=("village_settings", world["village_a"].id),
                     before={"review_above": Decimal("10.50"), "since": date(2026, 1, 1)})
    db.session.commit()
    db.session.expire_all()
    row = db.session.get(AuditLog, row.id)
    assert row.actor_id is None and row.before == {"review_above": "10.50",
                                                   "since": "2026-01-01"}
    assert jsonable({1: {"a", "b"}, "token": "x"}) == {"1": ["a", "b"], "token": "***"}


def test_account_and_household_actions_are_logged(app, world, login):
    """Account management and household archive / plate reissue each leave one log row with
    who, what and the state after; nothing secret is kept."""
    u, a1, a2, va = world["users"], world["hh"]["a1"], world["hh"]["a2"], world["village_a"]
    vadmin = login("vadmin")
    resp = vadmin.post("/users/new", data={
        "username": "scorer2", "display_name": "李评分", "role": "village_scorer",
        "region": va.id, "password": "pw-Scorer2-2026", "confirm": "pw-Scorer2-2026"})
    assert resp.status_code == 302
    scorer = u["scorer"]
    assert vadmin.post(f"/users/{scorer.id}/password", data={
        "password": "new-pass-2026", "confirm": "new-pass-2026"}).status_code == 302
    assert vadmin.post(f"/users/{scorer.id}/active", data={"active": "0"}).status_code == 302
    assert vadmin.post(f"/households/{a1.id}/qr/reissue", data={}).status_code == 302
    assert vadmin.post(f"/households/{a2.id}/archive",
                       data={"reason": "全家迁往南昌市区"}).status_code == 302
    rows = db.session.execute(select(AuditLog).order_by(AuditLog.id)).scalars().all()
    assert [r.action for r in rows] == ["user.create", "user.password_reset", "user.deactivate",
                                       "household.token_reissue", "household.archive"]
    assert {r.actor_id for r in rows} == {u["vadmin"].id} and {r.region_id for r in rows} == {va.id}
    created = rows[0]
    assert created.target_type == "user_account" and created.after["username"] == "scorer2"
    assert created.after["role"] == "village_scorer" and created.after["is_active"] is True
    assert (rows[1].target_id, rows[1].before, rows[1].after) == (scorer.id, None, None)
    assert rows[2].after == {"is_active": False}
    assert (rows[3].target_type, rows[3].target_id) == ("household", a1.id)
    assert rows[4].before == {"status": "active"}
    assert rows[4].after == {"status": "moved", "reason": "全家迁往南昌市区"}
    text = repr([(r.before, r.after) for r in rows])
    assert "pw-Scorer2-2026" not in text and "new-pass-2026" not in text
    html = get(login("auditor"), "/audit/log")
    for label in ("新建账号", "重置密码", "停用账号", "重新生成门牌二维码", "农户归档", "全家迁往南昌市区"):
        assert label in html, label


def test_verify_export_proves_the_rows_unchanged_and_finds_tampering(app, world, login, nasty,
                                                                      tmp_path):
    from sqlalchemy import text
    client = login("auditor")
    csv_file, xlsx_file = tmp_path / "export.csv", tmp_path / "export.xlsx"
    csv_file.write_bytes(client.get("/audit/entries.csv").data)
    xlsx_file.write_bytes(client.get("/audit/entries.xlsx?lang=en").data)  # English headers
    runner = app.test_cli_runner()
    for path in (csv_file, xlsx_file):
        result = runner.invoke(args=["audit", "verify-export", str(path)])
        assert result.exit_code == 0, result.output
        assert "4 exported entries checked, 0 fault(s)" in result.output
    # more entries later move the head; the exported rows are still proven unchanged
    post(world, "a3")
    db.session.commit()
    assert runner.invoke(args=["audit", "verify-export", str(csv_file)]).exit_code == 0
    # an export whose claimed head differs from the ledger fails
    seq, head = chain_head(world["village_a"].id)
    forged = tmp_path / "forged.csv"
    body = csv_file.read_text(encoding="utf-8-sig")
    old_head = next(line for line in body.splitlines() if world["village_a"].code in line
                    and line.count(",") == 4)
    forged.write_text(body.replace(old_head, old_head[:-8] + "00000000"), encoding="utf-8-sig")
    result = runner.invoke(args=["audit", "verify-export", str(forged)])
    assert result.exit_code == 1 and "the export says" in result.output
    # an edit behind the application's back is found at its row
    db.session.execute(text("UPDATE ledger_entry SET points = 50 WHERE id = :id"),
                       {"id": nasty["award"].id})
    db.session.commit()
    result = runner.invoke(args=["audit", "verify-export", str(xlsx_file)])
    assert result.exit_code == 1 and f"ledger_entry#{nasty['award'].id}" in result.output
    not_export = tmp_path / "x.csv"
    not_export.write_text("a,b\n", encoding="utf-8")
    assert runner.invoke(args=["audit", "verify-export", str(not_export)]).exit_code == 2


def test_verify_export_finds_an_edited_cell_of_the_file(app, world, login, nasty, tmp_path):
    """The file edited, the ledger untouched: the row's own content no longer matches the
    entry it names (CSV and Excel alike); the untouched file still passes."""
    import csv
    import io

    from openpyxl import load_workbook
    client = login("auditor")
    runner = app.test_cli_runner()
    entry = nasty["award"]
    body = client.get("/audit/entries.csv").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    header = next(i for i, r in enumerate(rows) if r and r[0] == "记录编号")
    points = rows[header].index("分值")
    row = next(r for r in rows[header + 1:] if r and r[0] == str(entry.id))
    row[points] = str(int(float(row[points])) + 20)
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    edited = tmp_path / "edited.csv"
    edited.write_text(out.getvalue(), encoding="utf-8-sig")
    result = runner.invoke(args=["audit", "verify-export", str(edited)])
    assert result.exit_code == 1 and f"ledger_entry#{entry.id}: column points" in result.output
    xlsx = tmp_path / "edited.xlsx"
    wb = load_workbook(io.BytesIO(client.get("/audit/entries.xlsx").data))
    ws = wb.worksheets[0]
    heads = [c.value for c in ws[1]]
    clean = tmp_path / "clean.xlsx"
    wb.save(clean)
    assert runner.invoke(args=["audit", "verify-export", str(clean)]).exit_code == 0
    for r in ws.iter_rows(min_row=2):
        if r[0].value == entry.id:
            r[heads.index("评分项")].value = "改过的评分项"
    wb.save(xlsx)
    result = runner.invoke(args=["audit", "verify-export", str(xlsx)])
    assert result.exit_code == 1 and f"ledger_entry#{entry.id}: column item" in result.output


def test_explorer_in_english(app, world, login):
    world["users"]["scorer"].household_id = world["hh"]["a1"].id
    post(world, "a1")
    db.session.commit()
    client = login("auditor")
    html = get(client, "/audit/entries?lang=en")
    for english in ("Ledger explorer", "Net points", "Export Excel", "Scored own family",
                    "nobody may score their own family"):
        assert english in html, english
    for chinese in ("台账查询", "净积分", "自家记分"):
        assert chinese not in html, chinese


def test_every_logged_key_has_a_chinese_label():
    """The log's 改动 column names each changed field in Chinese: every key a ``log_action``
    call writes (its dict literals, a board definition's fields, an honour's and an
    account's state) has a FIELD_LABELS entry, and None shows as a dash, not "null"."""
    import ast
    from pathlib import Path
    from app.audit.services import FIELD_LABELS
    from app.audit.views import _json_text
    from app.boards.services import DEFINITION_FIELDS
    keys = set(DEFINITION_FIELDS) | {"username", "display_name", "role", "region", "region_id",
                                     "is_active", "household_id", "created", "updated",
                                     "unchanged", "new_groups", "house_numbers", "file",
                                     "changes"}
    for path in (Path(__file__).resolve().parent.parent / "app").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            name = getattr(getattr(node, "func", None), "id", None) or \
                getattr(getattr(node, "func", None), "attr", None)
            if isinstance(node, ast.Call) and name == "log_action":
                for kw in node.keywords:
                    if kw.arg in ("before", "after"):
                        keys |= {k.value for d in ast.walk(kw.value) if isinstance(d, ast.Dict)
                                 for k in d.keys if isinstance(k, ast.Constant)}
    assert len(keys) > 40
    assert sorted(keys - set(FIELD_LABELS)) == []
    assert _json_text(None, "red_threshold") == "—"
    assert _json_text("nominated", "status") == "已提名"
    assert _json_text("quarter", "period_kind") == "每季度"
