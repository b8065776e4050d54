"""The strict Content-Security-Policy in a real browser (Debian's Chromium through Playwright,
never a downloaded browser): the pages of issue 9 and the pages they touch load without a
single CSP violation, and the behaviours moved out of inline handlers still work (print
button, confirmation before deactivating an account)."""
import pytest

from app.extensions import db
from app.households.qr import public_url
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, require_chromium, sign_in

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  e => window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline')));
"""


@pytest.mark.browser
def test_pages_load_without_csp_violations(app, world, live_server):
    require_chromium()
    from playwright.sync_api import sync_playwright

    v, a1 = world["village_a"], world["hh"]["a1"]
    scorer_id, group_id = world["users"]["scorer"].id, world["g_a1"].id
    with app.test_request_context():
        qr = public_url(a1).replace("http://jf.test", "")
    pages = ["/login", f"/regions/{v.id}", f"/villages/{v.id}/households",
             f"/households/{a1.id}", f"/households/{a1.id}/score",
             f"/households/{a1.id}/archive", f"/villages/{v.id}/plates?group={group_id}",
             f"/villages/{v.id}/board", f"/villages/{v.id}/roster/import", "/users",
             "/users/new", f"/users/{scorer_id}/password", "/account/password",
             "/households/999999"]
    village_id, other_village, group_a1 = v.id, world["village_a2"].id, world["g_a1"].id
    db.session.commit()
    db.session.close()  # SQLite: hold no lock while the server threads write

    console = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale="zh-CN")
            context.add_init_script(RECORD_VIOLATIONS)
            page = context.new_page()
            page.set_default_timeout(15_000)
            page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
            page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))

            sign_in(page, live_server, "vadmin")
            page.wait_for_url(f"**/regions/{village_id}")
            violations = {}
            for path in pages:
                page.goto(live_server + path)
                found = page.evaluate("window.__csp")
                if found:
                    violations[path] = found

            # the print button works without an inline handler
            page.goto(live_server + f"/villages/{village_id}/plates?group={group_id}")
            page.evaluate("window.print = () => { window.__printed = true; }")
            page.get_by_role("button", name="打印（A4）").click()
            assert page.evaluate("window.__printed") is True

            # deactivating asks first; dismissing the question changes nothing
            page.goto(live_server + "/users")
            page.once("dialog", lambda d: d.dismiss())
            page.get_by_role("button", name="停用").click()
            assert page.get_by_text("在用").count() == 1

            # the explorer: choosing another village drops the old village's group and
            # comes back with the new village's groups (app.js, no inline handler)
            town = browser.new_context(locale="zh-CN")
            town.add_init_script(RECORD_VIOLATIONS)
            tp = town.new_page()
            tp.set_default_timeout(15_000)
            sign_in(tp, live_server, "auditor")
            tp.goto(live_server + f"/audit/entries?village={village_id}&group={group_a1}")
            assert tp.locator("#f-group").input_value() == str(group_a1)
            with tp.expect_navigation():
                tp.locator("#f-village").select_option(str(other_village))
            assert f"village={other_village}" in tp.url and "group=" not in tp.url
            assert tp.locator("[data-testid=filter-error]").count() == 0
            found = tp.evaluate("window.__csp")
            if found:
                violations["/audit/entries"] = found
            town.close()

            # the villager's phone: the QR page, its notice, and a miss
            phone = browser.new_context(locale="zh-CN", is_mobile=True,
                                        viewport={"width": 390, "height": 844})
            phone.add_init_script(RECORD_VIOLATIONS)
            vp = phone.new_page()
            vp.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
            for path in (qr, qr + "/notice", qr + "/report", "/h/" + "x" * 43):
                vp.goto(live_server + path)
                found = vp.evaluate("window.__csp")
                if found:
                    violations[path] = found
            phone.close()
        finally:
            browser.close()

    assert violations == {}
    assert [m for m in console if "Content Security Policy" in m or "pageerror" in m] == []
