"""Roll-ups (issue 7): figures checked against values computed by hand on a small fixture,
the month boundary at 00:30 local time, a household that moved away mid-year, a reversal,
objections (one upheld), redemptions, scoping, drill-down and the Excel exports."""
import io
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from app.extensions import db
from app.households.services import archive_household
from app.reports import queries
from app.reports.periods import (custom_period, months_of, parse_period, quarter_period,
                                 utc_bounds, year_period)
from app.review.services import raise_objection, resolve_objection
from app.scoring.models import VillageSettings
from app.scoring.periods import local_today, month_period
from app.scoring.services import post_entry, reverse_entry, spend
from tests.conftest import item

D = Decimal


def _utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture
def ledger(world):
    """Entries of 2025 (hand-computed figures in the tests below):

    a1 (A1): +5 孝老爱亲 03-10; +1 家庭文明 04-01 recorded 00:30 local on 04-01; -2 环境卫生
             05-05; +0.5 诚信守信 09-02 under notice, objected, objection rejected (not counted)
    a2 (A1): +2 环境卫生 03-31 recorded 23:59 local; -2 环境卫生 09-01 under notice,
             objected, objection upheld (reversed: not counted)
    a3 (A1): +5 孝老爱亲 06-01, reversed (net 0, does not participate)
    a4 (A2): +0.5 诚信守信 07-01, moved away 2025-08-01
    b1 (B1): +5 孝老爱亲 03-10
    """
    va, vb = world["village_a"], world["village_b"]
    hh, scorer, vadmin = world["hh"], world["users"]["scorer"], world["users"]["vadmin"]

    def post(key, name, deed, at=None, village=va, by=scorer):
        return post_entry(household=hh[key], item_id=item(village, name).id, deed_date=deed,
                          recorded_by=by, recorded_at=None if at is False else (
                              at or _utc(deed.year, deed.month, deed.day, 4)))

    post("a1", "悉心照料老人或病残家人", date(2025, 3, 10))
    post("a1", "参加村组文化活动", date(2025, 4, 1), at=_utc(2025, 3, 31, 16, 30))
    post("a1", "乱堆乱放", date(2025, 5, 5))
    post("a2", "庭院整洁月度检查合格", date(2025, 3, 31), at=_utc(2025, 3, 31, 15, 59))
    wrong = post("a3", "悉心照料老人或病残家人", date(2025, 6, 1))
    reverse_entry(wrong, reason="记错户", recorded_by=vadmin, recorded_at=_utc(2025, 6, 2, 4))
    post("a4", "义务巡逻", date(2025, 7, 1))
    post("b1", "悉心照料老人或病残家人", date(2025, 3, 10), village=vb,
         by=world["users"]["scorer_b"])
    db.session.get(VillageSettings, va.id).notice_days = 7
    db.session.flush()
    # recorded now, so their notice runs on (an entry whose objection is rejected goes back
    # under notice and is not counted yet)
    disputed = post("a2", "乱堆乱放", date(2025, 9, 1), at=False)
    upheld = raise_objection(disputed, text="没有乱堆", by_household=hh["a2"])
    resolve_objection(upheld, outcome="reversed", reason="核实无此事", by_user=vadmin)
    other = post("a1", "义务巡逻", date(2025, 9, 2), at=False)
    rejected = raise_objection(other, text="不对", by_household=hh["a3"])
    resolve_objection(rejected, outcome="entry_upheld", reason="属实", by_user=vadmin)
    upheld.raised_at, rejected.raised_at = _utc(2025, 9, 3, 2), _utc(2025, 9, 4, 2)
    db.session.get(VillageSettings, va.id).notice_days = 0
    change = archive_household(hh["a4"], reason="迁往外地", by=vadmin)
    change.changed_at = _utc(2025, 8, 1, 2)
    db.session.commit()
    return world


Y2025 = year_period(2025)


def test_periods_are_half_open_local_dates():
    assert parse_period("2025") == Y2025
    q = parse_period("2025-Q1")
    assert (q.start, q.end) == (date(2025, 1, 1), date(2025, 4, 1)) == (
        quarter_period(2025, 1).start, quarter_period(2025, 1).end)
    assert parse_period("2025-Q4").end == date(2026, 1, 1)
    assert parse_period("2025-12").end == date(2026, 1, 1)
    c = parse_period(None, "2025-03-01", "2025-03-31")
    assert (c.start, c.end) == (date(2025, 3, 1), date(2025, 4, 1))
    for bad in ("", "2025-13", "1999", "2025-Q5", "x", None):
        assert parse_period(bad) is None
    assert parse_period(None, "2025-03-02", "2025-03-01") is None
    assert custom_period(date(2025, 1, 1), date(2040, 1, 1)) is None
    start, end = utc_bounds(month_period(date(2025, 4, 1)))
    assert start == _utc(2025, 3, 31, 16) and end == _utc(2025, 4, 30, 16)
    assert months_of(Y2025)[0] == "2025-01" and len(months_of(Y2025)) == 12


def test_village_rollup_by_hand(app, ledger):
    r = queries.rollup(ledger["village_a"], Y2025)
    t = r.total
    assert t.households == 4                     # a1-a3, and a4 who moved in August
    assert t.participating == 3                  # a3's only entry was reversed
    assert t.rate == D("75.0")
    assert t.awarded == {"孝老爱亲": D("5.00"), "家庭文明": D("1.00"), "环境卫生": D("2.00"),
                         "诚信守信": D("0.50")}
    assert t.deducted == {"环境卫生": D("2.00")}
    assert (t.awarded_total, t.deducted_total, t.net) == (D("8.50"), D("2.00"), D("6.50"))
    assert t.average == D("1.63")                # 6.5 / 4 = 1.625, half-up
    assert t.median == D("1.25")                 # scores 0, 0.5, 2, 4
    assert (t.objections, t.upheld) == (2, 1)
    assert r.categories == sorted(["孝老爱亲", "家庭文明", "环境卫生", "诚信守信"])
    # per villager group
    a1, a2 = r.rows
    assert a1.key.id == ledger["g_a1"].id and a2.key.id == ledger["g_a2"].id
    assert (a1.households, a1.participating, a1.rate) == (3, 2, D("66.7"))
    assert (a1.average, a1.median, a1.objections, a1.upheld) == (D("2.00"), D("2.00"), 2, 1)
    assert (a2.households, a2.participating, a2.net, a2.median) == (1, 1, D("0.50"),
                                                                     D("0.50"))
    trend = {m: (a, d) for m, a, d in r.trend}
    assert trend["2025-03"] == (D("7.00"), D("0.00"))
    assert trend["2025-04"] == (D("1.00"), D("0.00"))
    assert trend["2025-05"] == (D("0.00"), D("2.00"))
    assert trend["2025-06"] == (D("0.00"), D("0.00"))   # +5 and its reversal
    assert r.ranking == []


def test_month_boundary_at_half_past_midnight(app, ledger):
    march = queries.rollup(ledger["village_a"], parse_period("2025-03")).total
    april = queries.rollup(ledger["village_a"], parse_period("2025-04")).total
    assert march.awarded == {"孝老爱亲": D("5.00"), "环境卫生": D("2.00")}  # 23:59 on the 31st
    assert april.awarded == {"家庭文明": D("1.00")}  # recorded 00:30 local on 1 April
    assert (march.participating, april.participating) == (2, 1)


def test_moved_household_counts_only_while_it_lived_there(app, ledger):
    q3 = queries.rollup(ledger["village_a"], parse_period("2025-Q3")).total
    assert q3.households == 4                    # moved on 1 August: still there in July
    q4 = queries.rollup(ledger["village_a"], parse_period("2025-Q4")).total
    assert q4.households == 3 and q4.participating == 0 and q4.median == D("0.00")


def test_a_household_registered_later_does_not_change_a_past_period(app, ledger):
    from app.households.services import add_household
    before = queries.rollup(ledger["village_a"], parse_period("2025-Q3")).total
    this_year = year_period(local_today().year)
    now_before = queries.rollup(ledger["village_a"], this_year).total.households
    late = add_household(village=ledger["village_a"], group=ledger["g_a1"], house_number="9",
                         head_name="孙九")          # registered now (2026), nothing in 2025
    db.session.commit()
    after = queries.rollup(ledger["village_a"], parse_period("2025-Q3")).total
    assert (after.households, after.rate, after.median) == \
        (before.households, before.rate, before.median)
    assert late.registered_at is not None       # ...but it counts from its registration on
    assert queries.rollup(ledger["village_a"], this_year).total.households == now_before + 1
    # a history typed in afterwards counts the household in the period of its entries
    post_entry(household=late, item_id=item(late.village, "参加村组文化活动").id,
               deed_date=date(2025, 8, 5), recorded_by=ledger["users"]["vadmin"])
    db.session.commit()
    typed = queries.rollup(ledger["village_a"], parse_period("2025-Q3")).total
    assert (typed.households, typed.participating) == \
        (before.households + 1, before.participating + 1)
    # ...but not when that entry was reversed: nothing of it counts there (a fresh user)
    wrong = add_household(village=ledger["village_a"], group=ledger["g_a1"],
                          house_number="10", head_name="李误录")
    entry = post_entry(household=wrong, item_id=item(wrong.village, "参加村组文化活动").id,
                       deed_date=date(2025, 8, 6), recorded_by=ledger["users"]["vadmin"])
    reverse_entry(entry, reason="记错户", recorded_by=ledger["users"]["vadmin"])
    db.session.commit()
    for fresh in (True, False):     # the ledger's sums, and the monthly summary rows
        period = custom_period(date(2025, 7, 1), date(2025, 9, 30)) if fresh \
            else parse_period("2025-Q3")
        total = queries.rollup(ledger["village_a"], period).total
        assert (total.households, total.participating) == \
            (typed.households, typed.participating), fresh


def test_city_county_township_rollups(app, ledger):
    city = queries.rollup(ledger["city"], Y2025)
    assert [row.key.name for row in city.rows] == ["南昌县", "进贤县"]
    a, b = city.rows
    assert (a.households, a.participating, a.net) == (4, 3, D("6.50"))
    assert (b.households, b.participating, b.net, b.rate) == (1, 1, D("5.00"), D("100.0"))
    t = city.total
    assert (t.households, t.participating, t.rate) == (5, 4, D("80.0"))
    assert (t.awarded_total, t.deducted_total) == (D("13.50"), D("2.00"))
    assert (t.average, t.median) == (D("2.30"), D("2.00"))   # 11.5 / 5; 0, .5, 2, 4, 5
    assert [row.key.name for row in city.ranking] == ["鉴良村委会", "斗门村委会"]
    town = queries.rollup(ledger["town_a"], Y2025)
    assert [row.key.name for row in town.rows] == ["斗门村委会", "定岗村委会"]
    assert town.rows[1].households == 0 and town.rows[1].rate is None
    group = queries.rollup(ledger["g_a1"], Y2025)
    assert [row.key.house_number for row in group.rows] == ["1", "2", "3"]
    assert [row.net for row in group.rows] == [D("4.00"), D("2.00"), D("0.00")]


def test_redemptions_and_current_year(app, ledger):
    spend(household=ledger["hh"]["a1"], points="3", recorded_by=ledger["users"]["vadmin"],
          reason="兑换洗衣粉")
    db.session.commit()
    this_year = year_period(local_today().year)
    t = queries.rollup(ledger["village_a"], this_year).total
    assert (t.redemptions, t.redeemed) == (1, D("3.00"))
    assert t.households == 3                     # a4 moved away in 2025
    assert queries.rollup(ledger["village_a"], Y2025).total.redemptions == 0


def test_rollup_pages_scoping_and_drill_down(app, ledger, login):
    ids = {k: ledger[k].id for k in ("city", "county_a", "town_a", "village_a", "g_a1",
                                     "village_b")}
    city = login("city")
    html = city.get(f"/rollups/{ids['city']}?period=2025").get_data(as_text=True)
    assert "南昌县" in html and f"/rollups/{ids['county_a']}?period=2025" in html
    html = city.get(f"/rollups/{ids['county_a']}?period=2025").get_data(as_text=True)
    assert f"/rollups/{ids['town_a']}?period=2025" in html
    html = city.get(f"/rollups/{ids['town_a']}?period=2025").get_data(as_text=True)
    assert f"/rollups/{ids['village_a']}?period=2025" in html
    html = city.get(f"/rollups/{ids['village_a']}?period=2025").get_data(as_text=True)
    assert f"/rollups/{ids['g_a1']}?period=2025" in html and "75.0%" in html
    html = city.get(f"/rollups/{ids['g_a1']}?period=2025").get_data(as_text=True)
    assert f"/households/{ledger['hh']['a1'].id}" in html
    html = city.get(f"/rollups/{ids['village_a']}?start=2025-04-01&end=2025-04-30"
                    ).get_data(as_text=True)
    assert "2025-04-01~2025-04-30" in html
    bad = city.get(f"/rollups/{ids['village_a']}?period=2025-13")
    assert bad.status_code == 200 and "期间格式不正确" in bad.get_data(as_text=True)
    half = city.get(f"/rollups/{ids['village_a']}?start=2025-04-01").get_data(as_text=True)
    assert "要同时填写开始和结束日期" in half                  # was silently this year
    # scope: other county 404, above one's own region 404, a role without reports 403
    assert login("county_b").get(f"/rollups/{ids['village_a']}").status_code == 404
    assert login("auditor").get(f"/rollups/{ids['city']}").status_code == 404
    assert login("auditor").get(f"/rollups/{ids['village_a']}").status_code == 200
    assert login("scorer").get(f"/rollups/{ids['village_a']}").status_code == 403
    assert login("county_b").get(f"/rollups/{ids['village_a']}/export.xlsx").status_code == 404
    # a county official's city page does not exist; its breadcrumb stops at the county
    html = login("county").get(f"/rollups/{ids['village_a']}").get_data(as_text=True)
    assert f"/rollups/{ids['city']}?" not in html and f"/rollups/{ids['county_a']}?" in html


def test_rollup_export_has_the_page_tables(app, ledger, login):
    resp = login("county").get(f"/rollups/{ledger['county_a'].id}/export.xlsx?period=2025")
    assert resp.status_code == 200
    assert resp.mimetype.endswith("spreadsheetml.sheet")
    wb = load_workbook(io.BytesIO(resp.data))
    assert wb.sheetnames == ["汇总", "类别", "月度趋势", "参与率排名"]
    rows = [r for r in wb["汇总"].iter_rows(values_only=True) if r and r[0] == "合计"]
    total = rows[0]
    assert total[1:4] == (4, 3, 75)
    assert D(str(total[4])) == D("8.5") and D(str(total[7])) == D("1.63")
    # points show their cents in Excel (8.50, not 8.5), the rate its tenth
    cells = next(r for r in wb["汇总"].iter_rows() if r[0].value == "合计")
    assert (cells[4].number_format, cells[7].number_format, cells[3].number_format) == \
        ("0.00", "0.00", "0.0")
    trend = {r[0]: r[1] for r in wb["月度趋势"].iter_rows(values_only=True) if r and r[0]}
    assert D(str(trend["2025-03"])) == D("7")


def test_pilot_registry(app, world, login):
    world["county_a"].pilot_quota, world["county_b"].pilot_quota = 12, 6
    world["village_a"].is_pilot = world["village_b"].is_pilot = True
    db.session.commit()
    quotas = queries.pilot_quotas(world["city"])
    assert [(q.county.name, q.quota, q.designated, q.gap) for q in quotas] == [
        ("南昌县", 12, 1, 11), ("进贤县", 6, 1, 5)]
    assert [(q.county.name, q.designated) for q in queries.pilot_quotas(world["county_b"])] \
        == [("进贤县", 1)]
    html = login("city").get(f"/pilots/{world['city'].id}").get_data(as_text=True)
    assert "南昌县" in html and "进贤县" in html and "data-chart" in html
    html = login("county_b").get(f"/pilots/{world['county_b'].id}").get_data(as_text=True)
    assert "鉴良村委会" in html and "斗门村委会" not in html
    assert login("county_b").get(f"/pilots/{world['county_a'].id}").status_code == 404
    resp = login("city").get(f"/pilots/{world['city'].id}/export.xlsx")
    wb = load_workbook(io.BytesIO(resp.data))
    rows = list(wb["名额与确定"].iter_rows(values_only=True))
    assert ("南昌县", 12, 1, 11) in rows and ("合计", 18, 2, 16) in rows


def test_charts_are_static_scripts_with_data_attributes(app, ledger, login):
    html = login("city").get(f"/rollups/{ledger['city'].id}?period=2025").get_data(
        as_text=True)
    assert "/static/vendor/echarts-6.1.0/echarts.min.js" in html
    assert "/static/js/charts.js" in html and html.count("data-chart=") == 3
    assert "cdn" not in html.lower()


def test_city_dashboard_on_the_demo_shows_the_twelve_quotas(app):
    from app.accounts.models import User
    from app.demo.loader import load_demo
    from app.regions.models import Region
    load_demo()
    db.session.commit()
    city = Region.query.filter_by(level="city").one()
    quotas = queries.pilot_quotas(city)
    assert len(quotas) == 12 and sum(q.quota for q in quotas) == 58
    assert sum(q.designated for q in quotas) >= 1
    user = User.query.filter_by(username="city").one()
    client = app.test_client()
    assert client.post("/login", data={"username": user.username,
                                       "password": "demo-2021"}).status_code == 302
    html = client.get(f"/pilots/{city.id}").get_data(as_text=True)
    assert html.count('href="/pilots/') >= 12 and "湾里管理局" in html and ">58<" in html
    page = client.get(f"/rollups/{city.id}").get_data(as_text=True)
    assert "南昌县" in page and "data-chart" in page
