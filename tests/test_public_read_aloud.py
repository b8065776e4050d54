"""The door-plate page on a phone: its read-aloud (app/static/js/elder.js) reads only the
entries that count (not a reversed or cancelled entry, nor the reversal itself; one not yet
in force with its status) and reads an
English page in English with English punctuation; its 12 months fit without scripts."""
import re

import pytest

from app.extensions import db
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE, require_chromium

SPOKEN = """
  window.__spoken = [];
  if (window.speechSynthesis) {
    window.speechSynthesis.speak = function (u) {
      window.__spoken.push({text: u.text, lang: u.lang});
    };
  }
"""


@pytest.mark.browser
def test_read_aloud_skips_entries_that_do_not_count_and_speaks_the_page_language(
        app, world, live_server):
    require_chromium()
    from playwright.sync_api import sync_playwright

    from app.households.qr import public_url
    from app.scoring.periods import local_today
    from app.scoring.services import post_entry, reverse_entry
    from tests.conftest import item
    v, h, scorer = world["village_a"], world["hh"]["a1"], world["users"]["scorer"]
    post_entry(household=h, item_id=item(v, "红白喜事简办").id, deed_date=local_today(),
               recorded_by=scorer)
    wrong = post_entry(household=h, item_id=item(v, "乱堆乱放").id, deed_date=local_today(),
                       recorded_by=scorer)
    reverse_entry(wrong, reason="记错户", recorded_by=scorer)
    from app.scoring.models import VillageSettings
    db.session.get(VillageSettings, v.id).notice_days = 7
    post_entry(household=h, item_id=item(v, "义务巡逻").id, deed_date=local_today(),
               recorded_by=scorer)                       # under notice: read with its status
    db.session.commit()
    with app.test_request_context():
        url = re.sub(r"^https?://[^/]+", live_server, public_url(h))
    db.session.close()
    said = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for lang, button in (("zh_CN", "朗读"), ("en", "Read aloud")):
                context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
                context.add_init_script(SPOKEN)
                page = context.new_page()
                page.goto(f"{url}?lang={lang}")
                assert page.get_by_test_id("entries").locator("li").count() == 4
                page.get_by_role("button", name=button).click()
                said[lang] = page.evaluate("window.__spoken")
                context.close()
        finally:
            browser.close()
    zh, en = said["zh_CN"][0], said["en"][0]
    assert zh["lang"] == "zh-CN" and "红白喜事简办" in zh["text"]
    assert "乱堆乱放" not in zh["text"] and "冲正" not in zh["text"]
    assert "义务巡逻，加 0.5 分，公示中" in zh["text"]
    assert "*" not in zh["text"] and "*" not in en["text"]     # the mask: 张某三, not 张星号三
    assert zh["text"].startswith("张某")
    assert en["lang"] == "en-US" and "，" not in en["text"] and "。" not in en["text"]
    assert "乱堆乱放" not in en["text"]


@pytest.mark.browser
def test_twelve_months_fit_a_phone_without_scripts(app, world, live_server):
    """Without JavaScript (the chart's fallback) the 12 months wrap into rows on a phone:
    no sideways scrolling of the page or of the months."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    from app.households.qr import public_url
    with app.test_request_context():
        url = re.sub(r"^https?://[^/]+", live_server, public_url(world["hh"]["a1"]))
    db.session.close()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=PHONE, is_mobile=True,
                                          java_script_enabled=False)
            page = context.new_page()
            page.goto(url)
            grid = page.locator(".trend-grid")
            assert grid.is_visible() and grid.locator("dt").count() == 12
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            assert grid.evaluate("g => g.scrollWidth <= g.clientWidth")
            rows = {round(box["y"]) for box in (d.bounding_box() for d in grid.locator("dt").all())}
            assert len(rows) == 3          # 4 months a row
        finally:
            browser.close()


def test_months_are_written_in_the_page_language(app, world, login):
    """The 12-month grid (and the chart's axis, from the same data) and the roll-up's month
    buttons: "11月" in Chinese, "Nov" in English, never "Month 11"."""
    from babel.dates import get_month_names

    from app.households.qr import public_url
    from app.scoring.periods import local_today
    month = local_today().month
    with app.test_request_context():
        url = public_url(world["hh"]["a1"]).replace("http://jf.test", "")
    client = app.test_client()
    zh = client.get(url + "?lang=zh_CN").get_data(as_text=True)
    en = client.get(url + "?lang=en").get_data(as_text=True)
    assert f"<dt>{month}月</dt>" in zh
    assert f"<dt>{get_month_names('abbreviated', locale='en')[month]}</dt>" in en
    assert "&#34;months&#34;: [" in en or '"months": [' in en
    rollup = login("county").get(f"/rollups/{world['county_a'].id}?lang=en")
    html = rollup.get_data(as_text=True)
    assert ">Mar</a>" in html and "Month 3" not in html


LONG = "阿不都热合曼·买买提江阿不都热合曼·买买提江阿不都热合曼·买买提江"


@pytest.mark.browser
def test_a_very_long_head_name_breaks_no_layout(app, world, live_server):
    """A 34-character name (the roster takes up to 64): the door-plate page on a phone
    masks it short, and the tablet inspection grid keeps its check columns on screen."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    from app.households.qr import public_url
    from tests.conftest import TABLET
    from tests.tablet_fixtures import add_scorecard
    from tests.test_tablet_browser import _login
    h = world["hh"]["a2"]
    h.head_name = LONG
    add_scorecard(world["village_a"])
    db.session.commit()
    with app.test_request_context():
        url = re.sub(r"^https?://[^/]+", live_server, public_url(h))
    gid = world["g_a1"].id
    db.session.close()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            phone = browser.new_context(viewport=PHONE, is_mobile=True).new_page()
            phone.goto(url)
            assert phone.get_by_test_id("masked-name").inner_text() == "阿***江 户"
            assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            tablet = browser.new_context(viewport=TABLET).new_page()
            _login(tablet, live_server)
            tablet.goto(f"{live_server}/tablet/groups/{gid}/inspect")
            last = tablet.locator("tr[data-household] .check-cell").last.bounding_box()
            assert last["x"] + last["width"] <= TABLET["width"]
        finally:
            browser.close()
