"""The staff top bar fits on one line on a 1024×768 tablet, in Chinese and in English
(Debian's Chromium through Playwright; skipped only when Chromium is missing and CI is not
set). Screenshots go to test-artifacts/ (gitignored)."""
import pytest

from app.extensions import db

from tests.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, TABLET, require_chromium
from tests.test_i18n import _ensure_compiled

_ensure_compiled()  # the English catalog, compiled before the app loads translations

#: A one-line Bootstrap navbar is about 56 px high; a wrapped one is over 90 px.
ONE_LINE = 70


@pytest.mark.browser
@pytest.mark.parametrize("username", ["vadmin", "scorer", "auditor"])
def test_staff_nav_is_one_line_at_1024(app, world, live_server, username):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    village_id, town_id = world["village_a"].id, world["town_a"].id
    db.session.commit()
    db.session.close()
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=TABLET, locale="zh-CN")
            page = context.new_page()
            page.set_default_timeout(15_000)
            page.goto(live_server + "/login")
            page.get_by_label("用户名").fill(username)
            page.get_by_label("密码").fill("pw-" + username)
            page.get_by_role("button", name="登录").click()
            expect(page.locator("nav.navbar .navbar-collapse")).to_be_visible()
            for lang in ("zh_CN", "en"):
                path = (f"/regions/{town_id}" if username == "auditor"
                        else f"/villages/{village_id}/households")
                page.goto(f"{live_server}{path}?lang={lang}")
                nav = page.locator("nav.navbar")
                expect(nav).to_be_visible()
                expect(page.locator("html")).to_have_attribute(
                    "lang", "en" if lang == "en" else "zh-CN")
                # the menus are expanded (not behind the hamburger) and on one line
                expect(page.locator("nav.navbar .navbar-toggler")).to_be_hidden()
                page.screenshot(path=str(ARTIFACTS / f"nav-{username}-{lang}-1024.png"))
                height = nav.bounding_box()["height"]
                assert height < ONE_LINE, (username, lang, height)
                tops = page.evaluate(
                    "[...document.querySelectorAll('nav.navbar .navbar-nav > .nav-item')]"
                    ".filter(e => e.getClientRects().length)"
                    ".map(e => Math.round(e.getBoundingClientRect().top))")
                assert tops and len(set(tops)) == 1, (username, lang, tops)
                assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
                if username != "auditor":  # 公示 moved into 更多 below xl, still one tap away
                    nav.get_by_role("button", name="更多" if lang == "zh_CN" else "More").click()
                    expect(nav.get_by_role("link", name="公示" if lang == "zh_CN"
                                           else "Public notice")).to_be_visible()
                    page.screenshot(path=str(ARTIFACTS / f"nav-{username}-{lang}-more.png"))
            context.close()
        finally:
            browser.close()
