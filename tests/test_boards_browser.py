"""In Chromium: the village admin defines and publishes a monthly board through the pages
(tablet 1024x768), opens the A4 poster and prints it to PDF (one page, with the village
name in its text), prints the A3 poster, then a villager opens the public board and the QR
page's chart on a phone (390x844). No CSP violation. Screenshots and PDFs (and PNG
renderings of the PDFs) go to test-artifacts/."""
import unicodedata
from datetime import timedelta

import pytest

from app.extensions import db
from app.households.qr import derive_token
from tests.boards_helpers import post
from tests.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, PHONE, TABLET, require_chromium


# the simplified-Chinese radicals of the CJK Radicals Supplement and their ideographs
RADICALS = str.maketrans("⻋⻓⻔⻘⻙⻚⻛⻜⻝⻢⻣⻤⻥⻦⻧⻨⻩⻪⻬⻮⻰⻳",
                         "车长门青韦页风飞食马骨鬼鱼鸟卤麦黄黾齐齿龙龟")


def _pdf_facts(path, png):
    """(pages, text, (width, height) in points) of a PDF; renders page 1 to ``png``."""
    import pypdfium2
    from pypdf import PdfReader
    reader = PdfReader(str(path))
    text = "".join(p.extract_text() or "" for p in reader.pages).replace(" ", "")
    # Noto CJK (Debian's fonts-noto-cjk) shares glyphs between ideographs and radicals, and
    # Chromium's PDF text maps some back to the radical (⽃ for 斗, ⻔ for 门): NFKC folds the
    # Kangxi radicals, RADICALS the simplified ones of the CJK Radicals Supplement
    text = unicodedata.normalize("NFKC", text).translate(RADICALS)
    box = reader.pages[0].mediabox
    doc = pypdfium2.PdfDocument(str(path))
    doc[0].render(scale=1).to_pil().save(png)
    doc.close()
    return len(reader.pages), text, (round(float(box.width)), round(float(box.height)))


def _near(size, want):
    return all(abs(a - b) <= 2 for a, b in zip(size, want, strict=True))


@pytest.mark.browser
def test_admin_publishes_a_monthly_board_prints_the_poster_and_villagers_see_it(
        app, world, live_server):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    from app.households.services import add_household
    from app.scoring.periods import local_today, month_period
    # "生成草稿" makes this month's board: the deeds are today's, two more last month's
    today = local_today()
    last_month = month_period(today).start - timedelta(days=1)
    for n in range(10):             # a fuller village: 10 on the red board, 6 on the black
        key = f"x{n}"
        world["hh"][key] = add_household(village=world["village_a"], group=world["g_a2"],
                                         house_number=str(30 + n), head_name=f"村民{n}号")
        post(world, key, "参加村组文化活动" if n < 4 else "红白喜事简办", 10 + n, day=today)
        if n % 2:
            post(world, key, "乱堆乱放", 30 + n, day=today)
    post(world, "a1", "节俭办红白喜事", 1, day=today)
    post(world, "a3", "红白喜事简办", 2, day=today)
    post(world, "a2", "乱堆乱放", 3, day=today)
    post(world, "a1", "红白喜事简办", 4, day=last_month)
    post(world, "a3", "节俭办红白喜事", 5, day=last_month)
    this_month = month_period(today).label
    vid, village_name = world["village_a"].id, world["village_a"].name
    token = derive_token(world["hh"]["a1"].qr_nonce)
    db.session.commit()
    db.session.close()
    ARTIFACTS.mkdir(exist_ok=True)
    violations = []

    def shot(page, name):
        page.screenshot(path=str(ARTIFACTS / f"boards-{name}.png"), full_page=True)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            ctx = browser.new_context(viewport=TABLET, locale="zh-CN")
            page = ctx.new_page()
            page.set_default_timeout(15_000)
            page.on("console", lambda m: violations.append(m.text)
                    if "Content Security Policy" in m.text else None)
            page.goto(live_server + "/login")
            page.get_by_label("用户名").fill("vadmin")
            page.get_by_label("密码").fill("pw-vadmin")
            page.get_by_role("button", name="登录").click()
            page.wait_for_load_state()
            page.wait_for_load_state("load")  # Bootstrap's menu script has run
            page.get_by_role("button", name="榜单荣誉").click()  # the nav menu
            page.get_by_role("link", name="榜单发布").click()
            expect(page.get_by_role("heading", level=1)).to_contain_text("榜单设置与发布")
            page.get_by_role("link", name="新建榜单定义").click()
            page.get_by_label("榜单名称").fill("月度红黑榜")
            page.get_by_label("周期").select_option("month")
            page.get_by_label("红榜：前几名").fill("10")
            page.get_by_label("黑榜：本期扣分达到多少分").fill("abc")
            page.get_by_role("button", name="保存").click()
            expect(page.locator(".invalid-feedback, .alert-danger").first).to_be_visible()
            shot(page, "definition-error-tablet")
            page.get_by_label("黑榜：本期扣分达到多少分").fill("")
            page.get_by_role("button", name="保存").click()
            expect(page.get_by_test_id("definitions")).to_contain_text("月度红黑榜")
            shot(page, "manage-tablet")
            page.get_by_role("button", name="生成草稿").click()
            expect(page.get_by_test_id("status")).to_contain_text("草稿")
            for label, status in (("审核通过", "已审核"), ("开始公示", "公示中"),
                                  ("正式发布", "已发布")):
                page.get_by_test_id("advance").click()
                expect(page.get_by_test_id("status")).to_contain_text(status)
                assert label  # the button's text changes with the step
            expect(page.get_by_test_id("red-board")).to_contain_text("张*三")
            shot(page, "publication-tablet")
            pub_url = page.url
            page.get_by_role("link", name="A4 海报").click()
            expect(page.get_by_test_id("poster")).to_contain_text(village_name)
            shot(page, "poster-a4-screen")
            a4 = ARTIFACTS / "boards-poster-a4.pdf"
            page.pdf(path=str(a4), format="A4", print_background=True)
            page.goto(pub_url.replace("/board-publications/", "/board-publications/")
                      + "/poster/a3")
            a3 = ARTIFACTS / "boards-poster-a3.pdf"
            page.pdf(path=str(a3), prefer_css_page_size=True, print_background=True)
            page.set_viewport_size(PHONE)
            page.goto(pub_url)
            shot(page, "publication-phone")
            page.goto(f"{live_server}/villages/{vid}/board?month={this_month}")
            shot(page, "live-board-phone")
            ctx.close()

            phone = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True)
            villager = phone.new_page()
            villager.set_default_timeout(15_000)
            villager.on("console", lambda m: violations.append(m.text)
                        if "Content Security Policy" in m.text else None)
            villager.goto(f"{live_server}/h/{token}")
            villager.get_by_test_id("trend").scroll_into_view_if_needed()
            expect(villager.locator(".trend.has-chart svg").first).to_be_visible()
            shot(villager, "qr-page-phone")
            villager.get_by_test_id("boards-link").click()
            expect(villager.get_by_test_id("red-board")).to_contain_text("张*三")
            expect(villager.get_by_test_id("black-board")).to_contain_text("王*")
            assert "张小三" not in villager.content()
            shot(villager, "public-phone")
            villager.goto(f"{live_server}/villages/{vid}/notice-wall")
            expect(villager.get_by_test_id("red-board")).to_contain_text("张*三")
            assert villager.get_by_test_id("black-board").count() == 0
            shot(villager, "notice-wall-phone")
            phone.close()
        finally:
            browser.close()
    pages, text, size = _pdf_facts(a4, ARTIFACTS / "boards-poster-a4-pdf.png")
    assert pages == 1, pages
    assert _near(size, (595, 842)), size              # A4 in points (210 x 297 mm)
    assert "红榜" in text and this_month in text and "张*三" in text, text[:200]
    assert village_name in text
    pages, text, size = _pdf_facts(a3, ARTIFACTS / "boards-poster-a3-pdf.png")
    assert pages == 1 and _near(size, (842, 1191)), (pages, size)   # A3 from the CSS @page
    assert violations == []


WIDEST = """() => [...document.querySelectorAll('body *')]
  .map(e => [e.tagName + '.' + e.className, Math.round(e.getBoundingClientRect().right)])
  .filter(([, right]) => right > document.documentElement.clientWidth)"""


@pytest.mark.browser
def test_the_public_board_fits_a_390px_phone(app, world, live_server):
    """The door-plate board page (both boards, a long name, a correction note) scrolls only
    up and down on a 390px-wide phone."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    from app.boards import services
    from tests.boards_helpers import NOV, define, publish
    post(world, "a1", "节俭办红白喜事", 1)
    post(world, "a3", "红白喜事简办", 2)
    post(world, "a2", "乱堆乱放", 3)
    vadmin = world["users"]["vadmin"]
    services.save_privacy(world["village_a"].id, mask_names=True, black_public=True)
    pub = publish(define(world, name="二〇二六年十一月斗门村红黑榜（全村）"), NOV, vadmin)
    fix = services.correct(pub, by_user=vadmin, note="复核后更正")
    for _ in range(3):
        services.advance(fix, by_user=vadmin)
    token = derive_token(world["hh"]["a1"].qr_nonce)
    pid = fix.id
    db.session.commit()
    db.session.close()
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            phone = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True)
            page = phone.new_page()
            page.set_default_timeout(15_000)
            page.goto(f"{live_server}/h/{token}/boards/{pid}")
            page.get_by_test_id("black-board").wait_for()
            page.screenshot(path=str(ARTIFACTS / "boards-public-390.png"), full_page=True)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], (width, page.evaluate(WIDEST))
            page.get_by_role("button", name="大字").click()     # elder.js: every rem x 1.28
            page.wait_for_function("document.documentElement.classList.contains('large-type')")
            page.screenshot(path=str(ARTIFACTS / "boards-public-390-large.png"), full_page=True)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], (width, page.evaluate(WIDEST))
            phone.close()
        finally:
            browser.close()
