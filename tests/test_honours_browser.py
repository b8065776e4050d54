"""Issue 5 (honours and stars) in Debian's Chromium: on a tablet and on a phone the village
admin nominates a household, puts it under notice and awards the honour; on the tablet the
year's stars are conferred and the star door plates printed to PDF (A6), the honour poster
too (A4); the villager's QR page shows the honour with its year and the stars. No CSP
violation. Screenshots and PDFs go to test-artifacts/ (gitignored)."""
import re
from urllib.parse import urlsplit

import pytest

from app.extensions import db
from tests.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, PHONE, TABLET, require_chromium


def _page_sizes(pdf: bytes):
    """(width, height) in points of each page's MediaBox."""
    return [(round(float(w)), round(float(h))) for w, h in re.findall(
        rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)]


def _award(page, base, vid, house, title, shot, size):
    page.goto(f"{base}/villages/{vid}/honours")
    page.get_by_role("link", name="提名", exact=True).click()
    page.get_by_label("门牌号").fill(house)
    page.get_by_label("称号").select_option(title)
    page.get_by_label("推荐理由（事迹）").fill("常年照顾孤寡老人，义务打扫村道")
    shot(page, f"{size}-01-nominate")
    page.get_by_role("button", name="提交提名").click()
    page.get_by_label("公示天数").fill("0")
    page.get_by_role("button", name="开始公示").click()
    page.get_by_label("决定记录（会议、到会人数、表决结果）").fill(
        "村民代表会议，到会 30 人，全票同意")
    page.get_by_role("button", name="授予称号").click()
    from playwright.sync_api import expect
    expect(page.get_by_test_id("decision")).to_contain_text("全票同意")
    shot(page, f"{size}-02-awarded")


@pytest.mark.browser
def test_admin_awards_an_honour_confers_stars_prints_plates_and_qr_page_shows_them(
        app, world, live_server):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    from app.households.qr import public_url
    from app.scoring.periods import local_today
    from tests.test_honours_stars import _adopt, _post

    _adopt(world)
    _post(world, "a1", "好事", 3, day=local_today())      # 30 points: 三星
    _post(world, "a2", "好事", 1, day=local_today())      # 10 points: 一星
    from app.honours import services
    waiting = services.nominate(world["hh"]["a3"], title="最美孝子", year=local_today().year,
                                reason="侍奉双亲三十年", by_user=world["users"]["scorer"])
    services.start_notice(waiting, days=7)                # on the poster with its notice
    db.session.commit()
    vid, year = world["village_a"].id, local_today().year
    with app.test_request_context():
        qr = {k: urlsplit(public_url(world["hh"][k])).path for k in ("a1", "a2")}
    db.session.close()   # SQLite: hold no transaction while the server threads write

    ARTIFACTS.mkdir(exist_ok=True)
    violations = []

    def shot(page, name):
        page.screenshot(path=str(ARTIFACTS / f"honours-{name}.png"), full_page=True)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for size, viewport, house, title in (("tablet", TABLET, "1", "好人榜"),
                                                 ("phone", PHONE, "2", "最美村户")):
                ctx = browser.new_context(viewport=viewport, locale="zh-CN")
                page = ctx.new_page()
                page.set_default_timeout(15_000)
                page.on("console", lambda m: violations.append(m.text)
                        if "Content Security Policy" in m.text else None)
                page.goto(live_server + "/login")
                page.get_by_label("用户名").fill("vadmin")
                page.get_by_label("密码").fill("pw-vadmin")
                page.get_by_role("button", name="登录").click()
                if size == "tablet":   # the navigation menu next to the boards
                    page.wait_for_load_state("load")  # Bootstrap's menu script has run
                    page.get_by_role("button", name="榜单荣誉").click()
                    page.locator(".navbar").get_by_role("link", name="荣誉榜").click()
                    expect(page).to_have_url(re.compile(rf"/villages/{vid}/honours$"))
                _award(page, live_server, vid, house, title, shot, size)
                if size == "tablet":
                    page.get_by_role("link", name="星级文明户").click()
                    expect(page.get_by_test_id("star-table")).to_contain_text("★★★")
                    page.get_by_label("决定记录（会议、到会人数、表决结果）").fill("村民代表会议评定")
                    page.get_by_role("button", name="授牌").click()
                    expect(page.get_by_test_id("conferred")).to_be_visible()
                    shot(page, "tablet-03-stars")
                    page.get_by_role("link", name="打印星级门牌").click()
                    expect(page.get_by_test_id("star-plate")).to_have_count(2)
                    page.wait_for_load_state("load")
                    shot(page, "tablet-04-plates")
                    page.emulate_media(media="print")
                    shot(page, "tablet-04-plates-print")
                    page.emulate_media(media="screen")
                    pdf = page.pdf(path=str(ARTIFACTS / "honours-star-plates.pdf"),
                                   prefer_css_page_size=True, print_background=True)
                    # two A6 sheets (105 x 148 mm = 298 x 420 pt), one plate each
                    assert _page_sizes(pdf) == [(298, 420), (298, 420)]
                    page.goto(f"{live_server}/villages/{vid}/honours/poster?year={year}")
                    expect(page.get_by_test_id("poster")).to_contain_text("好人榜")
                    expect(page.get_by_test_id("notice-period")).to_contain_text("公示期")
                    shot(page, "tablet-05-poster")
                    page.emulate_media(media="print")
                    shot(page, "tablet-05-poster-print")
                    page.emulate_media(media="screen")
                    pdf = page.pdf(path=str(ARTIFACTS / "honours-poster.pdf"),
                                   prefer_css_page_size=True, print_background=True)
                    assert set(_page_sizes(pdf)) == {(595, 842)}      # A4
                    page.get_by_role("link", name="改用 A3 纸").click()
                    expect(page.get_by_test_id("poster")).to_contain_text("好人榜")
                    page.emulate_media(media="print")   # as the browser prints it
                    pdf = page.pdf(path=str(ARTIFACTS / "honours-poster-a3.pdf"),
                                   prefer_css_page_size=True, print_background=True)
                    assert set(_page_sizes(pdf)) == {(842, 1191)}     # A3
                ctx.close()
            for size, viewport in (("tablet", TABLET), ("phone", PHONE)):
                ctx = browser.new_context(viewport=viewport, locale="zh-CN")
                page = ctx.new_page()
                page.on("console", lambda m: violations.append(m.text)
                        if "Content Security Policy" in m.text else None)
                page.goto(live_server + qr["a1"])
                box = page.get_by_test_id("distinctions")
                expect(box).to_contain_text(f"{year} 年度“好人榜”")
                expect(box).to_contain_text("★★★")
                expect(box).to_contain_text(f"{year} 星级文明户（三星）")
                shot(page, f"{size}-06-qr-a1")
                page.goto(live_server + qr["a2"])
                expect(page.get_by_test_id("distinctions")).to_contain_text(
                    f"{year} 年度“最美村户”")
                shot(page, f"{size}-07-qr-a2")
                ctx.close()
        finally:
            browser.close()
    assert violations == []
