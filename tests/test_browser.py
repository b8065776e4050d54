"""End to end in Debian's Chromium (Playwright, never a downloaded browser): a scorer on a
tablet finds a household, scores it, and a villager's phone shows the entry on the household's
public QR page with the head's name masked and no phone number.

Skipped only when Chromium is missing and CI is not set; under CI a missing Chromium fails.
Screenshots of the key steps go to test-artifacts/ (gitignored).
"""
import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from app.extensions import db

from tests.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, PHONE, TABLET, require_chromium


@pytest.mark.browser
def test_scorer_scores_on_tablet_and_villager_sees_it_on_phone(app, world, live_server):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    from app.households.qr import public_url
    from app.scoring.models import LedgerEntry

    village_id = world["village_a"].id
    household = world["hh"]["a1"]
    household_id = household.id
    with app.test_request_context():
        qr_path = urlsplit(public_url(household)).path
    assert qr_path.startswith("/h/")
    # SQLite runs every transaction as BEGIN IMMEDIATE: hold nothing open while the
    # server threads write.
    db.session.commit()
    db.session.close()

    ARTIFACTS.mkdir(exist_ok=True)

    def shot(page, name):
        page.screenshot(path=str(ARTIFACTS / f"browser-{name}.png"), full_page=True)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            # --- the scorer, on a tablet
            tablet = browser.new_context(viewport=TABLET, locale="zh-CN")
            page = tablet.new_page()
            page.set_default_timeout(15_000)
            page.goto(live_server + "/login")
            page.get_by_label("用户名").fill("scorer")
            page.get_by_label("密码").fill("pw-scorer")
            shot(page, "01-login")
            page.get_by_role("button", name="登录").click()
            expect(page.get_by_role("heading", name="斗门村委会")).to_be_visible()

            page.goto(f"{live_server}/villages/{village_id}/households")
            page.get_by_role("searchbox").fill("1")
            page.get_by_role("button", name="查找").click()
            expect(page).to_have_url(re.compile(r"[?&]q=1\b"))
            rows = page.locator("table tbody tr")
            expect(rows).to_have_count(1)
            expect(rows.first).to_contain_text("张小三")
            shot(page, "02-search")
            rows.first.get_by_role("link", name="张小三").click()

            expect(page).to_have_url(re.compile(rf"/households/{household_id}$"))
            expect(page.get_by_role("heading", name=re.compile("张小三"))).to_be_visible()
            public_href = page.get_by_role("link", name="打开村民看到的页面").get_attribute("href")
            assert urlsplit(public_href).path == qr_path
            shot(page, "03-household")

            page.get_by_role("link", name="记分", exact=True).click()
            expect(page.get_by_role("heading", name=re.compile("给 1 号 张小三 户记分"))) \
                .to_be_visible()
            page.locator("label", has_text="红白喜事简办").click()
            expect(page.locator("input[name=item_id]:checked")).to_have_count(1)
            shot(page, "04-score-form")
            page.get_by_role("button", name="确认记分").click()

            expect(page).to_have_url(re.compile(rf"/households/{household_id}$"))
            expect(page.get_by_role("status")).to_contain_text("已记分：红白喜事简办 +5 分")
            entry_rows = page.locator("table tbody tr")
            expect(entry_rows).to_have_count(1)
            expect(entry_rows.first).to_contain_text("红白喜事简办")
            expect(entry_rows.first).to_contain_text("+5")
            expect(page.get_by_test_id("earned")).to_have_text("5")
            shot(page, "05-scored")
            tablet.close()

            # --- a villager's phone, not logged in, scanning the door plate
            phone = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True,
                                        has_touch=True, device_scale_factor=2)
            page = phone.new_page()
            page.set_default_timeout(15_000)
            resp = page.goto(live_server + qr_path)
            assert resp is not None and resp.status == 200
            expect(page.get_by_test_id("masked-name")).to_contain_text("张*三")
            expect(page.get_by_test_id("entries")).to_contain_text("红白喜事简办")
            expect(page.get_by_test_id("earned")).to_have_text("5")
            shot(page, "06-public-phone")
            html = page.content()
            assert "张小三" not in html
            assert "13800000001" not in html
            assert not page.get_by_role("button", name="退出").count()
            # Nothing overflows the phone's width.
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            phone.close()
        finally:
            browser.close()

    entries = db.session.execute(
        select(LedgerEntry).where(LedgerEntry.household_id == household_id)).scalars().all()
    assert [(e.item_name, e.points, e.kind) for e in entries] == [("红白喜事简办", 5, "score")]
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == 1
