"""RULE-FEATURES rows 22 and 26 in Chromium: the person helped declares a deed from a phone
(an error at the field keeps what was typed), the household page shows its privileges, and
the dividend page on a tablet. Screenshots go to test-artifacts/rule-uses-*.png."""
from urllib.parse import urlsplit

import pytest

from app.extensions import db
from app.households.qr import public_url
from app.scoring.periods import local_today
from app.scoring.services import post_entry
from tests.conftest import (ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, PHONE, TABLET,
                            require_chromium)
from tests.rule_uses_helpers import item_id, uses_rulebook


@pytest.mark.browser
def test_declare_on_a_phone_and_dividend_on_a_tablet(app, world, live_server):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright
    uses_rulebook(world)
    post_entry(household=world["hh"]["a1"], item_id=item_id(world, "帮助邻里"),
               deed_date=local_today(), recorded_by=world["users"]["scorer"])
    with app.test_request_context():
        wang = urlsplit(public_url(world["hh"]["a2"])).path
        zhang = urlsplit(public_url(world["hh"]["a1"])).path
    village_id = world["village_a"].id
    db.session.commit()
    db.session.close()
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for size, tag in ((PHONE, "phone"), (TABLET, "tablet")):
                ctx = browser.new_context(viewport=size, locale="zh-CN")
                page = ctx.new_page()
                page.set_default_timeout(15_000)
                page.goto(live_server + zhang)
                expect(page.get_by_test_id("privilege").first).to_be_visible()
                page.screenshot(path=str(ARTIFACTS / f"rule-uses-qr-{tag}.png"), full_page=True)
                page.goto(live_server + wang)
                page.get_by_role("link", name="我受到了帮助").click()
                page.get_by_label("对方的门牌号").fill("99")
                page.get_by_label("简单说明").fill("帮我修屋顶")
                page.get_by_role("button", name="提交").click()
                expect(page.locator(".invalid-feedback")).to_contain_text("本村没有这一户")
                expect(page.get_by_label("简单说明")).to_have_value("帮我修屋顶")
                page.screenshot(path=str(ARTIFACTS / f"rule-uses-declare-error-{tag}.png"),
                                full_page=True)
                ctx.close()
            ctx = browser.new_context(viewport=TABLET, locale="zh-CN")
            page = ctx.new_page()
            page.goto(live_server + "/login")
            page.get_by_label("用户名").fill("vadmin")
            page.get_by_label("密码").fill("pw-vadmin")
            page.get_by_role("button", name="登录").click()
            page.goto(f"{live_server}/villages/{village_id}/dividend")
            page.get_by_label("分红总额（元）").fill("10000")
            page.get_by_role("button", name="计算").click()
            expect(page.get_by_test_id("total")).to_have_text("10000.00")
            page.screenshot(path=str(ARTIFACTS / "rule-uses-dividend-tablet.png"),
                            full_page=True)
            ctx.close()
        finally:
            browser.close()
