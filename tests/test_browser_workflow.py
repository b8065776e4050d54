"""End to end in Chromium: an entry goes under public notice, a villager objects from the
door plate's QR page on a phone, the village admin resolves it on a tablet, and the villager
sees the outcome. Screenshots go to test-artifacts/."""
import re
from urllib.parse import urlsplit

import pytest

from app.extensions import db
from app.scoring.checks import verify
from app.scoring.models import LedgerEntry, VillageSettings
from tests.conftest import (ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, PHONE, TABLET,
                            require_chromium)


@pytest.mark.browser
def test_notice_objection_resolution_seen_from_both_sides(app, world, live_server):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    from app.households.qr import public_url
    db.session.get(VillageSettings, world["village_a"].id).notice_days = 3
    village_id, wang_id = world["village_a"].id, world["hh"]["a2"].id
    with app.test_request_context():
        qr_path = urlsplit(public_url(world["hh"]["a1"])).path   # 张小三's door plate
    db.session.commit()
    db.session.close()
    ARTIFACTS.mkdir(exist_ok=True)

    def shot(page, name):
        page.screenshot(path=str(ARTIFACTS / f"workflow-{name}.png"), full_page=True)

    def login(context, username):
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(live_server + "/login")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill("pw-" + username)
        page.get_by_role("button", name="登录").click()
        expect(page.get_by_role("heading", name="斗门村委会")).to_be_visible()
        return page

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            # the scorer records a deduction for 王五: it goes under public notice
            scorer = browser.new_context(viewport=TABLET, locale="zh-CN")
            page = login(scorer, "scorer")
            page.goto(f"{live_server}/households/{wang_id}/score")
            page.locator("label", has_text="乱堆乱放").click()
            page.get_by_role("button", name="确认记分").click()
            expect(page.get_by_role("status")).to_contain_text("已记分")
            expect(page.locator("table tbody tr").first).to_contain_text("公示中")
            expect(page.get_by_test_id("earned")).to_have_text("0")
            shot(page, "01-cadre-under-notice")
            scorer.close()

            # a neighbour (张小三's household) objects from the notice on a phone
            phone = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True,
                                        has_touch=True)
            page = phone.new_page()
            page.set_default_timeout(15_000)
            page.goto(live_server + qr_path)
            page.get_by_role("link", name="本组积分公示").click()
            row = page.get_by_test_id("notice").locator("li", has_text="乱堆乱放")
            expect(row).to_contain_text("王*")
            assert "王五" not in page.content()
            shot(page, "02-villager-notice")
            row.get_by_role("link", name="提出异议").click()
            page.get_by_label("异议理由").fill("那天我看见他家门前是干净的")
            shot(page, "03-villager-objection-form")
            page.get_by_role("button", name="提交异议").click()
            expect(page.get_by_role("status")).to_contain_text("您的异议已提交")
            expect(page.get_by_test_id("objections")).to_contain_text("村委会处理中")
            shot(page, "04-villager-objection-sent")

            # the village admin resolves it on a tablet
            admin = browser.new_context(viewport=TABLET, locale="zh-CN")
            apage = login(admin, "vadmin")
            apage.goto(f"{live_server}/villages/{village_id}/review")
            expect(apage.get_by_text("那天我看见他家门前是干净的")).to_be_visible()
            shot(apage, "05-admin-queue")
            apage.get_by_role("link", name="处理", exact=True).click()
            apage.get_by_label("撤销原记录").check()
            apage.get_by_label(re.compile("处理理由")).fill("到现场核实，确实干净，撤销扣分")
            shot(apage, "06-admin-resolve")
            apage.get_by_role("button", name="确认处理").click()
            expect(apage.get_by_role("status")).to_contain_text("异议已处理")
            admin.close()

            # the villager sees the outcome on the same phone
            page.goto(live_server + qr_path)
            box = page.get_by_test_id("objections")
            expect(box).to_contain_text("撤销原记录")
            expect(box).to_contain_text("到现场核实，确实干净，撤销扣分")
            shot(page, "07-villager-outcome")
            phone.close()
        finally:
            browser.close()

    entry = db.session.query(LedgerEntry).filter_by(household_id=wang_id, kind="score").one()
    assert entry.status == "cancelled"
    assert verify() == []
