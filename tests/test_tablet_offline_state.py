"""The batch grid's rows follow the offline outbox (issue 8), in Debian's Chromium at
1024x768: rows queued offline turn to their posted state when the outbox uploads them (and
the offline notice goes), and the marks per check of queued rows come back on a reload
served by the service worker. Screenshots go to test-artifacts/."""
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.scoring.models import LedgerEntry
from tests.conftest import ARTIFACTS, TABLET, require_chromium
from tests.tablet_fixtures import add_scorecard
from tests.test_tablet_browser import _browser, _entries, _login

OFFLINE = "没有网络"


def _scorecard_group(world):
    """A scorecard item in village A's rulebook, committed and the session closed (the live
    server writes next): (group A1's id, the item's id)."""
    item = add_scorecard(world["village_a"])
    db.session.commit()
    ids = world["g_a1"].id, item.id
    db.session.close()
    ARTIFACTS.mkdir(exist_ok=True)
    return ids


def _inspect(browser, base, gid):
    """The scorer's tablet (1024x768) logged in on group ``gid``'s inspection grid:
    (context, page)."""
    context = browser.new_context(viewport=TABLET, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(20_000)
    _login(page, base)
    page.goto(f"{base}/tablet/groups/{gid}/inspect")
    return context, page


def _points_by_household(item_id):
    db.session.expire_all()
    rows = db.session.execute(select(LedgerEntry.household_id, LedgerEntry.points)
                              .where(LedgerEntry.item_id == item_id)).all()
    db.session.commit()  # hold no SQLite lock while the server writes
    return dict(rows)


@pytest.mark.browser
def test_rows_queued_offline_turn_posted_when_the_outbox_uploads_them(app, world, live_server):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    gid, item_id = _scorecard_group(world)
    with sync_playwright() as pw:
        browser = _browser(pw)
        try:
            context, page = _inspect(browser, live_server, gid)
            rows = page.locator("tr[data-household]")
            expect(rows).to_have_count(3)
            expect(page.locator("#batch[data-ready]")).to_be_attached()   # taps count now
            footer = page.locator("[data-batch-status]")

            context.set_offline(True)
            rows.nth(0).locator(".check-cell").nth(1).click()
            page.locator("[data-submit]").click()
            expect(page.get_by_test_id("outbox-badge")).to_have_text("3")
            for i in range(3):
                expect(rows.nth(i).locator("[data-result]")).to_contain_text("待上传")
            expect(footer).to_contain_text(OFFLINE)
            assert _entries() == 0

            context.set_offline(False)
            expect(page.locator("[data-outbox-status]")).to_contain_text("已上传 3 条离线记录")
            # the rows show what was posted, as a reload would; nothing left to enter again
            expect(rows.nth(0).locator("[data-result]")).to_have_text("已记分 20")
            expect(rows.nth(0).locator("[data-score]")).to_have_text("20")
            for i in (1, 2):
                expect(rows.nth(i).locator("[data-result]")).to_have_text("已记分 25")
            for i in range(3):
                expect(rows.nth(i)).to_have_class(re.compile(r"\btable-success\b"))
            expect(footer).not_to_contain_text(OFFLINE)
            expect(footer).to_contain_text("全部 3 户已记分")
            expect(page.locator("[data-outbox-status]")).not_to_contain_text(OFFLINE)
            expect(page.locator("[data-submit]")).to_be_disabled()
            expect(page.get_by_test_id("outbox")).to_be_hidden()
            page.screenshot(path=str(ARTIFACTS / "tablet-offline-synced-1024x768.png"),
                            full_page=True)
        finally:
            browser.close()
    assert sorted(_points_by_household(item_id).values()) == [Decimal(20), Decimal(25),
                                                              Decimal(25)]


@pytest.mark.browser
def test_reload_offline_restores_the_marks_of_queued_rows(app, world, live_server):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    gid, item_id = _scorecard_group(world)
    with sync_playwright() as pw:
        browser = _browser(pw)
        try:
            context, page = _inspect(browser, live_server, gid)
            page.evaluate("navigator.serviceWorker.ready.then(() => true)")
            page.reload()  # now controlled by the worker, which caches the page
            page.wait_for_function("navigator.serviceWorker.controller !== null")

            context.set_offline(True)
            rows = page.locator("tr[data-household]")
            expect(rows).to_have_count(3)
            expect(page.locator("#batch[data-ready]")).to_be_attached()
            rows.nth(0).locator(".check-cell").nth(1).click()  # one problem
            cell = rows.nth(1).locator(".check-cell").nth(3)
            cell.click()
            cell.click()  # two problems
            page.locator("[data-submit]").click()
            expect(page.get_by_test_id("outbox-badge")).to_have_text("3")

            resp = page.reload()
            assert resp is not None and resp.from_service_worker
            expect(rows.nth(0).locator("[data-result]")).to_contain_text("待上传")
            marks = {(0, 1): "✗", (1, 3): "✗✗"}
            for r in range(3):
                cells = rows.nth(r).locator(".check-cell")
                expect(cells).to_have_count(5)
                for c in range(5):
                    mark = marks.get((r, c), "✓")
                    expect(cells.nth(c)).to_have_text(mark)
                    expect(cells.nth(c)).to_have_attribute(
                        "aria-pressed", "true" if mark != "✓" else "false")
                    expect(cells.nth(c)).to_be_disabled()
            expect(rows.nth(0).locator(".check-cell.check-fail")).to_have_count(1)
            expect(rows.nth(1).locator(".check-cell.check-fail")).to_have_count(1)
            expect(rows.nth(0).locator("[data-score]")).to_have_text("20")
            expect(rows.nth(1).locator("[data-score]")).to_have_text("15")
            expect(rows.nth(2).locator("[data-score]")).to_have_text("25")
            page.screenshot(path=str(ARTIFACTS / "tablet-offline-marks-1024x768.png"),
                            full_page=True)
            assert _entries() == 0

            context.set_offline(False)  # the restored rows then follow their upload
            expect(rows.nth(1).locator("[data-result]")).to_have_text("已记分 15")
            expect(page.get_by_test_id("outbox")).to_be_hidden()
        finally:
            browser.close()
    assert sorted(_points_by_household(item_id).values()) == [Decimal(15), Decimal(20),
                                                              Decimal(25)]
