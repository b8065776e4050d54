"""Issue 6, partner merchants in Debian's Chromium: the merchant's counter login lands on its
counter on a tablet, finds a household, redeems a basket from the merchant's catalogue and
sees the receipt; the settlement statement reads on a phone. No CSP violation on the way.
Screenshots go to test-artifacts/ (gitignored)."""
import re

import pytest

from app.extensions import db
from tests.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, PHONE, TABLET, require_chromium


@pytest.mark.browser
def test_merchant_clerk_redeems_and_reads_the_settlement(app, world, live_server):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    from app.rewards import merchants, services
    from app.scoring.periods import local_today
    from app.scoring.services import post_entry
    from tests.conftest import item

    v, h = world["village_a"], world["hh"]["a1"]
    for _ in range(2):   # 10 points
        post_entry(household=h, item_id=item(v, "红白喜事简办").id, deed_date=local_today(),
                   recorded_by=None)
    m = merchants.add_merchant(region=world["town_a"], name="莲塘供销社", address="莲塘镇街上",
                               clerk_username="shop_town", clerk_password="pw-shop_town")
    oil = services.add_reward(village=world["town_a"], merchant=m, name="菜籽油", unit="桶",
                              points_price="4", yuan_value="12.50")
    services.stock_in(oil, quantity=3)
    db.session.commit()
    mid = m.id
    db.session.close()

    ARTIFACTS.mkdir(exist_ok=True)
    violations = []

    def shot(page, name):
        page.screenshot(path=str(ARTIFACTS / f"merchant-{name}.png"), full_page=True)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for size, label in ((TABLET, "tablet"), (PHONE, "phone")):
                ctx = browser.new_context(viewport=size, locale="zh-CN")
                page = ctx.new_page()
                page.set_default_timeout(15_000)
                page.on("console", lambda msg: violations.append(msg.text)
                        if "Content Security Policy" in msg.text else None)
                page.goto(live_server + "/login")
                page.get_by_label("用户名").fill("shop_town")
                page.get_by_label("密码").fill("pw-shop_town")
                page.get_by_role("button", name="登录").click()
                expect(page).to_have_url(re.compile(rf"/merchants/{mid}/counter$"))
                if label == "tablet":
                    page.get_by_role("searchbox").fill("zxs")
                    page.get_by_role("button", name="查找").click()
                    expect(page.get_by_test_id("households")).to_contain_text("斗门村委会")
                    shot(page, f"01-counter-{label}")
                    page.get_by_test_id("households").get_by_role("link").first.click()
                    card = page.locator(".basket-item", has_text="菜籽油")
                    card.get_by_role("button", name="增加").click()
                    card.get_by_role("button", name="增加").click()
                    expect(page.locator("[data-basket-total]")).to_have_text("8")
                    shot(page, f"02-basket-{label}")
                    page.once("dialog", lambda d: d.accept())
                    page.get_by_role("button", name="确认兑换").click()
                    expect(page.get_by_test_id("receipt")).to_contain_text("莲塘供销社")
                    expect(page.get_by_test_id("balance")).to_have_text("2")
                    shot(page, f"03-receipt-{label}")
                    page.get_by_role("link", name="下一户").click()
                page.get_by_role("link", name="月度结算").click()
                expect(page.get_by_test_id("yuan")).to_have_text("25.00")
                expect(page.get_by_test_id("by-village")).to_contain_text("斗门村委会")
                shot(page, f"04-settlement-{label}")
                ctx.close()
        finally:
            browser.close()
    assert violations == []
