"""In Chromium at tablet size: one pilot village through the yearly evaluation's three steps
(county registers the pilot and its plan, township self-assesses, county returns then
accepts the corrected version, city draws a spot-check and records a finding), and the
roll-up's charts drawn with no CSP violation. Screenshots go to test-artifacts/."""
from datetime import date

import pytest

from app.extensions import db
from app.reports import services
from app.scoring.services import post_entry
from tests.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, TABLET, item, require_chromium


@pytest.mark.browser
def test_one_pilot_village_through_the_three_steps(app, world, live_server):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    rnd = services.add_round(name="2025-2026", starts_on=date(2025, 1, 1),
                             ends_on=date(2026, 12, 31))
    for day in (3, 4):
        post_entry(household=world["hh"]["a1"], item_id=item(world["village_a"],
                                                             "参加村组文化活动").id,
                   deed_date=date(2025, 6, day), recorded_by=world["users"]["scorer"])
    vid, city_id, round_id = world["village_a"].id, world["city"].id, rnd.id
    db.session.commit()
    db.session.close()
    ARTIFACTS.mkdir(exist_ok=True)
    plan = ARTIFACTS / "pilot-plan.pdf"
    plan.write_bytes("%PDF-1.4 斗门村试点示范方案".encode("utf-8"))
    violations = []

    def shot(page, name):
        page.screenshot(path=str(ARTIFACTS / f"evaluation-{name}.png"), full_page=True)

    def login(browser, username):
        context = browser.new_context(viewport=TABLET, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("console", lambda m: violations.append(m.text)
                if "Content Security Policy" in m.text else None)
        page.on("dialog", lambda d: d.accept())
        page.goto(live_server + "/login")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill("pw-" + username)
        page.get_by_role("button", name="登录").click()
        page.wait_for_load_state()
        return context, page

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            county_ctx, county = login(browser, "county")
            county.goto(f"{live_server}/pilots/village/{vid}/edit")
            county.get_by_label("试点轮次").select_option(str(round_id))
            county.get_by_label("推广运用积分制").check()
            county.get_by_label("创新村民议事协商形式").check()
            county.get_by_label("试点示范方案（文件）").set_input_files(str(plan))
            county.get_by_label("方案备案日期").fill("2025-05-10")
            county.get_by_role("button", name="保存").click()
            expect(county.locator("#pilot-round")).to_contain_text("2025-2026")
            expect(county.get_by_role("link", name="pilot-plan.pdf")).to_be_visible()
            shot(county, "01-pilot")

            town_ctx, town = login(browser, "auditor")
            town.goto(f"{live_server}/evaluations/{vid}/2025/assess")
            expect(town.locator("#figures")).to_contain_text("25.0")
            town.get_by_label("主要做法").fill("每月评比一次")
            town.get_by_label("取得成效").fill("参与户增加")
            town.get_by_label("存在问题").fill("台账不全")
            town.get_by_label("下一步打算").fill("完善台账")
            town.get_by_label("自评分（0-100）").fill("86")
            shot(town, "02-assess")
            town.get_by_role("button", name="签署提交").click()
            expect(town.locator("#status")).to_contain_text("等待县级复核")

            county.goto(f"{live_server}/evaluations/{vid}/2025/review")
            county.get_by_label("退回乡镇").check()
            county.get_by_label("复核意见或退回理由").fill("请补充成效数据")
            county.get_by_role("button", name="签署提交").click()
            expect(county.locator("#status")).to_contain_text("已退回乡镇")

            town.goto(f"{live_server}/evaluations/{vid}/2025/assess")
            expect(town.get_by_role("alert").or_(town.locator(".alert-warning")).first
                   ).to_contain_text("请补充成效数据")
            town.get_by_label("取得成效").fill("参与户由 0 增加到 1 户")
            town.get_by_label("修改原因（修改已提交的自评时必填）").fill("按县级意见补充数据")
            town.get_by_role("button", name="签署提交").click()
            expect(town.locator("#assessment-v2")).to_be_visible()

            county.goto(f"{live_server}/evaluations/{vid}/2025/review")
            county.get_by_label("通过", exact=True).check()
            county.get_by_label("复核得分（通过时填写，0-100）").fill("88")
            county.get_by_label("复核意见或退回理由").fill("同意")
            county.get_by_role("button", name="签署提交").click()
            expect(county.locator("#status")).to_contain_text("县级复核通过")
            shot(county, "03-accepted")

            city_ctx, city = login(browser, "city")
            city.goto(f"{live_server}/spot-checks/{city_id}?year=2025")
            city.get_by_label("抽查村数").fill("1")
            city.get_by_label("每村抽查记录数").fill("2")
            city.get_by_label("随机种子（可不填）").fill("nanchang-2025")
            city.get_by_role("button", name="随机抽取").click()
            expect(city.locator("#seed")).to_have_text("nanchang-2025")
            expect(city.locator("#reproduced")).to_contain_text("结果一致")
            city.get_by_label("有问题").check()
            city.get_by_label("抽查情况").fill("缺少活动照片")
            city.get_by_role("button", name="签署记录").click()
            expect(city.locator("#findings")).to_contain_text("缺少活动照片")
            shot(city, "04-spot-check")

            city.goto(f"{live_server}/evaluations/board/{city_id}?year=2025")
            expect(city.locator("#board-counties")).to_contain_text("南昌县")
            city.goto(f"{live_server}/rollups/{city_id}?period=2025")
            expect(city.locator("[data-chart] svg")).to_have_count(3)
            shot(city, "05-rollup")
            for ctx in (county_ctx, town_ctx, city_ctx):
                ctx.close()
        finally:
            browser.close()
    assert violations == []
