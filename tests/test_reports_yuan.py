"""Issue 7, the rest: the yuan value of redemptions (a snapshot on each redemption line, summed
in roll-ups, the village report and the yearly report) and pilot rounds set on a page."""
import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from app.extensions import db
from app.reports import queries
from app.reports.models import PilotRound
from app.reports.periods import year_period
from app.rewards import services
from app.rewards.models import RedemptionLine
from app.rules.models import Rulebook
from app.scoring.periods import local_today
from app.scoring.services import post_entry
from tests.conftest import item


def _award(world, hh, times=1):
    for _ in range(times):
        post_entry(household=world["hh"][hh], item_id=item(world["village_a"], "红白喜事简办").id,
                   deed_date=local_today(), recorded_by=None)


def _shop(world):
    oil = services.add_reward(village=world["village_a"], name="食用油", points_price="4",
                              unit="瓶", yuan_value="15.80")
    services.stock_in(oil, quantity=20)
    towel = services.add_reward(village=world["village_a"], name="毛巾", points_price="3",
                                unit="条")   # no yuan value of its own
    services.stock_in(towel, quantity=20)
    return oil, towel


def test_yuan_is_a_snapshot_unaffected_by_a_later_price_change(app, world):
    _award(world, "a1", times=4)
    oil, towel = _shop(world)
    db.session.commit()
    first = services.redeem(household=world["hh"]["a1"], basket={oil.id: 2}, by_user=None)
    db.session.commit()
    services.update_reward(oil, name="食用油", points_price="6", unit="瓶", yuan_value="21.00")
    db.session.commit()
    second = services.redeem(household=world["hh"]["a1"], basket={oil.id: 1}, by_user=None)
    db.session.commit()
    db.session.expire_all()
    line1, line2 = first.lines[0], second.lines[0]
    assert (line1.unit_yuan, line1.yuan, line1.unit_points) == (Decimal("15.80"),
                                                                Decimal("31.60"), 4)
    assert (line2.unit_yuan, line2.yuan, line2.unit_points) == (Decimal("21.00"),
                                                                Decimal("21.00"), 6)
    # without a value of its own, an item is worth its points at the rulebook's rate then
    db.session.execute(update(Rulebook).where(Rulebook.region_id == world["village_a"].id)
                       .values(points_per_yuan=Decimal("2")))
    db.session.commit()
    third = services.redeem(household=world["hh"]["a1"], basket={towel.id: 1}, by_user=None)
    db.session.commit()
    db.session.execute(update(Rulebook).where(Rulebook.region_id == world["village_a"].id)
                       .values(points_per_yuan=Decimal("10")))
    db.session.commit()
    db.session.expire_all()
    assert third.lines[0].yuan == Decimal("1.50")      # 3 points at 2 points a yuan


def test_rollup_and_reports_sum_the_recorded_yuan(app, world, login):
    _award(world, "a1", times=3)
    _award(world, "a4", times=2)
    oil, towel = _shop(world)
    db.session.commit()
    services.redeem(household=world["hh"]["a1"], basket={oil.id: 2, towel.id: 1},
                    by_user=None)
    services.redeem(household=world["hh"]["a4"], basket={oil.id: 1}, by_user=None)
    cancelled = services.redeem(household=world["hh"]["a4"], basket={oil.id: 1}, by_user=None)
    services.cancel_redemption(cancelled, reason="退货", by_user=None)
    services.update_reward(oil, name="食用油", points_price="4", unit="瓶", yuan_value="99.00")
    db.session.commit()
    expected = sum((line.yuan or 0 for line in db.session.execute(
        select(RedemptionLine).where(RedemptionLine.redemption_id != cancelled.id)
    ).scalars()), Decimal(0))
    assert expected == Decimal("47.40")                  # 2 x 15.80 + 15.80; towel has none
    year = local_today().year
    r = queries.rollup(world["village_a"], year_period(year))
    assert (r.total.redemptions, r.total.redeemed, r.total.redeemed_yuan) == (
        2, Decimal("15.00"), expected)                    # the cancelled one does not count
    by_group = {row.key.name: row.redeemed_yuan for row in r.rows}
    assert by_group == {"第一村民小组": Decimal("31.60"), "第二村民小组": Decimal("15.80")}
    city = queries.rollup(world["city"], year_period(year))
    assert city.total.redeemed_yuan == expected
    # the village report of the supermarket: the same sum, and one line without a value
    from app.rewards.queries import report
    data = report(world["village_a"].id, date(year, 1, 1), date(year + 1, 1, 1))
    assert (data["yuan"], data["yuan_missing"]) == (expected, 1)
    # the roll-up page and its workbook, and the yearly report's workbook
    county = login("county")
    html = county.get(f"/rollups/{world['village_a'].id}?period={year}").get_data(True)
    assert "兑换金额(元，不含现金补差)" in html and "47.40" in html
    wb = load_workbook(io.BytesIO(county.get(
        f"/rollups/{world['village_a'].id}/export.xlsx?period={year}").data))
    rows = list(wb["汇总"].iter_rows(values_only=True))
    head = next(r for r in rows if r and r[0] == "单位")
    total = next(r for r in rows if r and r[0] == "合计")
    assert Decimal(str(total[head.index("兑换金额(元，不含现金补差)")])) == expected
    wb = load_workbook(io.BytesIO(county.get(
        f"/evaluations/report/{world['county_a'].id}/export.xlsx?year={year}").data))
    rows = list(wb["积分制汇总"].iter_rows(values_only=True))
    head = next(r for r in rows if r and r[0] == "单位")
    total = next(r for r in rows if r and r[0] == "合计")
    assert Decimal(str(total[head.index("兑换金额(元，不含现金补差)")])) == expected


# -- pilot rounds on a page ------------------------------------------------------------------

def _field_error(html, field_id, text):
    """True when ``text`` is shown right under the input ``field_id``."""
    at = html.index(f'id="{field_id}"')
    end = html.find('<div class="mb-3">', at)
    return text in html[at:end if end != -1 else None]


def test_rounds_page_validation_errors_in_chinese_at_the_field(app, world, login):
    city = login("city")
    resp = city.post("/pilots/rounds", data={
        "name": "", "starts_on": "2025-01-01", "ends_on": "2024-12-31",
        "assessment_due": "13-01", "review_due": "11-31", "spot_check_due": "十一月"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert _field_error(html, "name", "请填写轮次名称")
    assert _field_error(html, "ends_on", "结束日期不能早于开始日期")
    for f in ("assessment_due", "review_due", "spot_check_due"):
        assert _field_error(html, f, "请按“月-日”填写，如 11-30"), f
    assert 'value="13-01"' in html                       # what was typed is kept
    resp = city.post("/pilots/rounds", data={
        "name": "2023-2024", "starts_on": "2023-01-01", "ends_on": "not a date",
        "plan_due": "2030-05-15", "assessment_due": "11-30", "review_due": "11-30",
        "spot_check_due": "11-30"})
    html = resp.get_data(as_text=True)
    assert _field_error(html, "ends_on", "请填写有效的日期")
    assert db.session.scalar(select(PilotRound).where(PilotRound.name == "2023-2024")) is None
    resp = city.post("/pilots/rounds", data={
        "name": "2023-2024", "starts_on": "2023-01-01", "ends_on": "2024-12-31",
        "plan_due": "2030-05-15", "assessment_due": "11-30", "review_due": "12-10",
        "spot_check_due": "12-20"})
    assert _field_error(resp.get_data(as_text=True), "plan_due",
                        "方案备案截止日期应在本轮起止日期之间")
    resp = city.post("/pilots/rounds", data={
        "name": "2023-2024", "starts_on": "2023-01-01", "ends_on": "2024-12-31",
        "assessment_due": "11-30", "review_due": "12-10", "spot_check_due": "12月20日"})
    assert resp.status_code == 302
    rnd = db.session.scalar(select(PilotRound).where(PilotRound.name == "2023-2024"))
    assert (rnd.plan_due, rnd.review_due, rnd.spot_check_due) == (date(2023, 5, 15), "12-10",
                                                                  "12-20")
    assert rnd.due("review", 2024) == date(2024, 12, 10)
    # due dates out of the steps' order are refused at the later one
    resp = city.post(f"/pilots/rounds/{rnd.id}", data={
        "name": "2023-2024", "starts_on": "2023-01-01", "ends_on": "2024-12-31",
        "assessment_due": "11-30", "review_due": "12-10", "spot_check_due": "01-15"})
    assert _field_error(resp.get_data(as_text=True), "spot_check_due",
                        "市级抽查截止不能早于县级复核截止")
    # a city official changes a due date (logged); a duplicate name is refused at the name
    resp = city.post(f"/pilots/rounds/{rnd.id}", data={
        "name": "2023-2024", "starts_on": "2023-01-01", "ends_on": "2024-12-31",
        "assessment_due": "11-15", "review_due": "12-10", "spot_check_due": "12-20"})
    assert resp.status_code == 302
    db.session.refresh(rnd)
    assert rnd.assessment_due == "11-15"
    log = city.get("/audit/log?action=round.save").get_data(as_text=True)
    assert "保存试点轮次" in log and 'title="11-30 → 11-15"' in log
    resp = city.post(f"/pilots/rounds/{rnd.id}", data={
        "name": "2021-2022", "starts_on": "2023-01-01", "ends_on": "2024-12-31",
        "assessment_due": "11-15", "review_due": "12-10", "spot_check_due": "12-20"})
    assert _field_error(resp.get_data(as_text=True), "name", "已有同名的轮次")
    # who may: city officials and system admins; not a county (the rounds are city-wide),
    # township or village
    assert login("county").get("/pilots/rounds").status_code == 403
    assert login("county").post(f"/pilots/rounds/{rnd.id}", data={
        "name": "2023-2024", "starts_on": "2023-01-01", "ends_on": "2024-12-31",
        "assessment_due": "11-15", "review_due": "12-10",
        "spot_check_due": "12-21"}).status_code == 403
    assert login("auditor").get("/pilots/rounds").status_code == 403
    assert login("vadmin").post("/pilots/rounds", data={"name": "x"}).status_code == 403
    assert login("admin").get("/pilots/rounds").status_code == 200
    assert city.get("/pilots/rounds/999999").status_code == 404


def test_a_round_overlapping_another_is_refused_at_its_start_date(app, world, login):
    from app.reports import services as reports
    city = login("city")
    form = {"name": "2023-2024", "starts_on": "2023-01-01", "ends_on": "2024-12-31",
            "assessment_due": "11-30", "review_due": "11-30", "spot_check_due": "11-30"}
    assert city.post("/pilots/rounds", data=form).status_code == 302
    resp = city.post("/pilots/rounds", data={**form, "name": "2024-2025",
                                               "starts_on": "2024-06-01",
                                               "ends_on": "2025-12-31"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and _field_error(html, "starts_on", "与已有轮次“2023-2024”")
    assert db.session.scalar(select(PilotRound).where(PilotRound.name == "2024-2025")) is None
    # the round's own dates may change; the day after it ends is free
    rnd = db.session.scalar(select(PilotRound).where(PilotRound.name == "2023-2024"))
    assert city.post(f"/pilots/rounds/{rnd.id}",
                       data={**form, "ends_on": "2024-11-30"}).status_code == 302
    assert city.post("/pilots/rounds", data={**form, "name": "2024-2025",
                                               "starts_on": "2024-12-01",
                                               "ends_on": "2025-12-31"}).status_code == 302
    with pytest.raises(reports.Refusal):
        reports.add_round(name="2025", starts_on=date(2025, 1, 1), ends_on=date(2025, 6, 30))


def test_rollup_periods_beyond_next_year_or_before_2000_show_this_year(app, world, login):
    county = login("county")
    this_year = str(local_today().year)
    for query in ("period=2099", f"period={local_today().year + 2}-Q1",
                  "start=1999-12-01&end=2000-01-31", "start=9999-12-31&end=9999-12-31",
                  "start=0001-01-01&end=0001-01-01"):
        resp = county.get(f"/rollups/{world['county_a'].id}?{query}")
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200 and "期间超出可查范围" in html, query
        assert f"period={this_year}" in html and "2099" not in html.replace(query, "")
    ok = county.get(f"/rollups/{world['county_a'].id}?period={local_today().year + 1}")
    assert "期间超出可查范围" not in ok.get_data(as_text=True)
