"""Issue 8 in Debian's Chromium (Playwright): the batch grid scores a group at 1024x768 and
390x844 (the interaction benchmark, checked against the ledger); an offline spell keeps
entries on the device through a reload served by the service worker and syncs them exactly
once; a refused entry is shown with its reason and dropped; the public household page's
large type and read-aloud on a WeChat-sized phone. Screenshots go to test-artifacts/."""
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.scoring.models import LedgerEntry
from bench.batch_interactions import score_group
from tests.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, PHONE, TABLET, require_chromium
from tests.tablet_fixtures import add_scorecard

WECHAT_UA = ("Mozilla/5.0 (Linux; Android 12; M2012K11AC Build/SKQ1.211006.001; wv) "
             "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/107.0.5304.141 "
             "Mobile Safari/537.36 XWEB/5023 MMWEBSDK/20221012 MicroMessenger/8.0.30.2260 "
             "WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64")


def _entries(**where):
    db.session.expire_all()
    stmt = select(func.count(LedgerEntry.id)).where(LedgerEntry.kind == "score")
    for k, v in where.items():
        stmt = stmt.where(getattr(LedgerEntry, k) == v)
    n = db.session.scalar(stmt)
    db.session.commit()  # hold no SQLite lock while the server writes
    return n


def _browser(pw):
    return pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def _login(page, base, username="scorer"):
    page.goto(base + "/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill("pw-" + username)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: "/login" not in url)


def _tablet(browser, base):
    """(context, page) of a scorer logged in on a 1024x768 tablet."""
    context = browser.new_context(viewport=TABLET, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(20_000)
    _login(page, base)
    return context, page


def _no_overflow(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.browser
@pytest.mark.parametrize("size", [TABLET, PHONE], ids=["tablet", "phone"])
def test_batch_grid_scores_a_30_household_group(app, world, live_server, size):
    require_chromium()
    from playwright.sync_api import sync_playwright

    from app.households.services import add_group, add_household
    v = world["village_a"]
    group = add_group(v, "第三村民小组")
    for n in range(30):
        add_household(village=v, group=group, house_number=str(100 + n), head_name=f"村民{n}")
    item = add_scorecard(v)
    db.session.commit()
    vid, gid, item_id = v.id, group.id, item.id
    scorer_id = world["users"]["scorer"].id
    db.session.close()
    ARTIFACTS.mkdir(exist_ok=True)
    name = f"{size['width']}x{size['height']}"
    with sync_playwright() as pw:
        browser = _browser(pw)
        try:
            page = browser.new_context(viewport=size, locale="zh-CN").new_page()
            page.set_default_timeout(20_000)
            _login(page, live_server)
            act = score_group(page, live_server, vid, "第三村民小组", failures=5)
            page.screenshot(path=str(ARTIFACTS / f"tablet-batch-{name}.png"), full_page=True)
            page.goto(f"{live_server}/tablet/villages/{vid}")
            page.screenshot(path=str(ARTIFACTS / f"tablet-finder-{name}.png"), full_page=True)
        finally:
            browser.close()
    print(f"batch grid at {name}: {act.total} interactions")
    assert act.total <= 40
    rows = db.session.execute(
        select(LedgerEntry.points, func.count()).where(LedgerEntry.item_id == item_id)
        .group_by(LedgerEntry.points)).all()
    # 25 households full marks; 4 with one problem (20); one with two problems (15)
    assert dict(rows) == {Decimal(25): 25, Decimal(20): 4, Decimal(15): 1}
    assert _entries(recorded_by_id=scorer_id) == 30 and _entries() == 30
    assert gid


@pytest.mark.browser
def test_offline_spell_keeps_entries_and_syncs_them_once(app, world, live_server):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    from app.households.services import archive_household
    v, hh = world["village_a"], world["hh"]
    add_scorecard(v)
    db.session.commit()
    gid, a2 = world["g_a1"].id, hh["a2"].id
    vadmin_id = world["users"]["vadmin"].id
    household_cls, user_cls = type(hh["a2"]), type(world["users"]["vadmin"])
    db.session.close()
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = _browser(pw)
        try:
            context, page = _tablet(browser, live_server)
            grid = f"{live_server}/tablet/groups/{gid}/inspect"
            page.goto(grid)
            page.evaluate("navigator.serviceWorker.ready.then(() => true)")
            page.reload()  # now controlled by the worker, which caches the page
            page.wait_for_function("navigator.serviceWorker.controller !== null")

            context.set_offline(True)
            rows = page.locator("tr[data-household]")
            expect(rows).to_have_count(3)
            expect(page.locator("#batch[data-ready]")).to_be_attached()
            rows.nth(0).locator(".check-cell").nth(1).click()
            page.locator("[data-submit]").click()
            badge = page.get_by_test_id("outbox-badge")
            expect(badge).to_have_text("3")
            expect(rows.nth(2).locator("[data-result]")).to_contain_text("待上传")
            resp = page.reload()
            assert resp is not None and resp.from_service_worker
            expect(page.get_by_test_id("outbox-badge")).to_have_text("3")
            # the reloaded grid shows the waiting rows as queued, with what was captured
            expect(rows.nth(0).locator("[data-result]")).to_contain_text("待上传")
            expect(rows.nth(0).locator("[data-score]")).to_have_text("20")
            expect(page.locator("[data-submit]")).to_be_disabled()
            page.screenshot(path=str(ARTIFACTS / "tablet-offline-1024x768.png"), full_page=True)
            assert _entries() == 0

            # meanwhile the village archives household 2 (it moved away)
            archive_household(db.session.get(household_cls, a2), reason="迁往县城",
                              by=db.session.get(user_cls, vadmin_id))
            db.session.commit()
            db.session.close()

            context.set_offline(False)
            refused = page.get_by_test_id("outbox-refused").locator("li")
            expect(refused).to_have_count(1)
            expect(refused.first).to_contain_text("该户已迁出或合并")
            expect(page.get_by_test_id("outbox-badge")).to_have_text("1")
            # the grid does not count the refused row as scored (it said 全部 3 户已记分)
            expect(page.locator("[data-batch-status]")).to_contain_text("1 户未通过")
            page.screenshot(path=str(ARTIFACTS / "tablet-sync-refused-1024x768.png"),
                            full_page=True)
            assert _entries() == 2
            # again online: a reload and a manual sync post nothing twice
            page.reload()
            page.get_by_role("button", name="立即上传").click()
            expect(page.get_by_test_id("outbox-refused").locator("li")).to_have_count(1)
            assert _entries() == 2 and _entries(household_id=a2) == 0
            drop = page.get_by_test_id("outbox-refused").locator("[data-outbox-drop]")
            drop.click()
            drop.click()  # the second tap confirms
            expect(page.get_by_test_id("outbox")).to_be_hidden()
            assert page.evaluate("JFOutbox.all().then(e => e.length)") == 0
        finally:
            browser.close()
    assert _entries() == 2


@pytest.mark.browser
def test_the_first_tablet_page_opens_again_offline(app, world, live_server):
    """The finder, the page a tablet opens first, installed the service worker but was not
    cached by it: back from a group, offline, it failed to load (a fresh user found)."""
    require_chromium()
    from playwright.sync_api import sync_playwright
    v = world["village_a"]
    add_scorecard(v)
    db.session.commit()
    finder, gid = f"{live_server}/tablet/villages/{v.id}", world["g_a1"].id
    db.session.close()
    with sync_playwright() as pw:
        browser = _browser(pw)
        try:
            context, page = _tablet(browser, live_server)
            page.goto(finder)                                  # the worker installs here
            cached = "u => caches.open('jf-pages-v1').then(c => c.match(u)).then(Boolean)"
            for _ in range(100):                          # a Promise: polled from here
                if page.evaluate(cached, finder):
                    break
                page.wait_for_timeout(100)
            assert page.evaluate(cached, finder)
            page.goto(f"{live_server}/tablet/groups/{gid}/inspect")
            context.set_offline(True)
            resp = page.goto(finder)
            assert resp is not None and resp.ok and resp.from_service_worker
            assert page.get_by_test_id("groups").is_visible()
        finally:
            browser.close()


@pytest.mark.browser
def test_refused_entry_can_be_fixed_with_another_date(app, world, live_server):
    """An entry over its category's cap this month is refused; moved to last month it
    posts."""
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    from app.rules.models import RuleItem
    from app.scoring.periods import local_today, month_period
    from app.scoring.services import post_entry
    v, hh = world["village_a"], world["hh"]
    item = add_scorecard(v)
    item.category.cap_points, item.category.cap_period = Decimal(25), "month"
    model = RuleItem(code="INS-MODEL", name="卫生示范户", kind="fixed", points=Decimal(25))
    item.category.items.append(model)
    db.session.flush()
    post_entry(household=hh["a1"], item_id=model.id, deed_date=local_today(),
               recorded_by=world["users"]["scorer"])
    db.session.commit()
    gid, a1 = world["g_a1"].id, hh["a1"].id
    last_month = (month_period(local_today()).start - timedelta(days=1)).isoformat()
    db.session.close()
    with sync_playwright() as pw:
        browser = _browser(pw)
        try:
            context, page = _tablet(browser, live_server)
            page.goto(f"{live_server}/tablet/groups/{gid}/inspect")
            context.set_offline(True)
            page.locator("[data-submit]").click()
            expect(page.get_by_test_id("outbox-badge")).to_have_text("3")
            context.set_offline(False)
            refused = page.get_by_test_id("outbox-refused").locator("li")
            expect(refused).to_have_count(1)
            expect(refused.first).to_contain_text("已经记满")
            refused.first.locator("input[type=date]").fill(last_month)
            refused.first.get_by_role("button", name="改好重传").click()
            expect(page.get_by_test_id("outbox")).to_be_hidden()
        finally:
            browser.close()
    assert _entries(household_id=a1) == 2 and _entries() == 4


@pytest.mark.browser
@pytest.mark.parametrize("size", [PHONE, TABLET], ids=["phone", "tablet"])
def test_public_page_large_type_and_read_aloud(app, world, live_server, size):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    from app.households.qr import public_url
    from app.scoring.periods import local_today
    from app.scoring.services import post_entry
    from tests.conftest import item
    v, h = world["village_a"], world["hh"]["a1"]
    post_entry(household=h, item_id=item(v, "红白喜事简办").id, deed_date=local_today(),
               recorded_by=world["users"]["scorer"])
    db.session.commit()
    with app.test_request_context():
        url = re.sub(r"^https?://[^/]+", live_server, public_url(h))
    db.session.close()
    ARTIFACTS.mkdir(exist_ok=True)
    name = f"{size['width']}x{size['height']}"
    spoken = """
      window.__spoken = [];
      if (window.speechSynthesis) {
        window.speechSynthesis.speak = function (u) {
          window.__spoken.push({text: u.text, lang: u.lang});
        };
      }
    """
    with sync_playwright() as pw:
        browser = _browser(pw)
        try:
            context = browser.new_context(viewport=size, locale="zh-CN", user_agent=WECHAT_UA,
                                          is_mobile=size is PHONE, has_touch=size is PHONE)
            context.add_init_script(spoken)
            popups = []
            context.on("page", lambda p: popups.append(p))
            page = context.new_page()
            page.on("dialog", lambda d: popups.append(d))
            downloads = []
            page.on("download", lambda d: downloads.append(d))
            page.goto(url)
            assert page.evaluate("window.__spoken.length") == 0  # no autoplay
            root_size = "parseFloat(getComputedStyle(document.documentElement).fontSize)"
            base_size = page.evaluate(root_size)
            page.get_by_role("button", name="大字").click()
            assert page.evaluate("document.documentElement.classList.contains('large-type')")
            big = page.evaluate(root_size)
            assert big > base_size * 1.2
            page.reload()  # remembered on this phone
            assert page.evaluate("document.documentElement.classList.contains('large-type')")
            expect(page.get_by_role("button", name="大字")).to_have_attribute("aria-pressed",
                                                                            "true")
            assert _no_overflow(page)
            page.get_by_role("button", name="朗读").click()
            said = page.evaluate("window.__spoken")
            page.screenshot(path=str(ARTIFACTS / f"public-large-type-{name}.png"), full_page=True)
            page.get_by_role("button", name="大字").click()
            page.screenshot(path=str(ARTIFACTS / f"public-normal-{name}.png"), full_page=True)
        finally:
            browser.close()
    assert len(said) == 1 and said[0]["lang"] == "zh-CN"
    assert "累计积分" in said[0]["text"] and "红白喜事简办" in said[0]["text"]
    assert "张小三" not in said[0]["text"]  # the masked name only
    assert len(popups) == 1 and not downloads  # the one page we opened; no dialogs


@pytest.mark.browser
def test_finder_scans_the_door_plate_with_the_camera(app, world, live_server, tmp_path):
    """The vendored html5-qrcode reads the door plate from a fake camera; the finder opens
    that household's scoring page. No CSP violation on the way (worker, manifest, camera)."""
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    from app.households.qr import public_url
    from tests.test_rewards_scan import _y4m_of_qr
    h = world["hh"]["a3"]
    with app.test_request_context():
        url = public_url(h)
    hid, vid = h.id, world["village_a"].id
    video = tmp_path / "plate.y4m"
    _y4m_of_qr(url, video)
    db.session.close()
    args = CHROMIUM_ARGS + ["--use-fake-ui-for-media-stream",
                            "--use-fake-device-for-media-stream",
                            f"--use-file-for-fake-video-capture={video}"]
    violations = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            ctx = browser.new_context(viewport=TABLET, locale="zh-CN", permissions=["camera"])
            page = ctx.new_page()
            page.set_default_timeout(20_000)
            page.on("console", lambda m: violations.append(m.text)
                    if "Content Security Policy" in m.text else None)
            _login(page, live_server)
            page.goto(f"{live_server}/tablet/villages/{vid}")
            page.get_by_role("button", name="扫门牌二维码").click()
            # decoding frames of the fake camera is slow on a loaded machine: expect's own
            # timeout (5 s) is not the page's default
            expect(page).to_have_url(re.compile(rf"/households/{hid}/score$"), timeout=30_000)
        finally:
            browser.close()
    assert violations == []
