"""The API token page in Chromium: a scorer creates a token on a tablet and on a phone, sees
it once, uses it against the API, and revokes it. Screenshots go to test-artifacts/."""
import pytest
import requests

from app.extensions import db
from tests.conftest import (ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, PHONE, TABLET, require_chromium,
                            sign_in)


@pytest.mark.browser
@pytest.mark.parametrize("size", ["tablet", "phone"])
def test_scorer_creates_uses_and_revokes_a_token(app, world, live_server, size):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright
    db.session.commit()
    db.session.close()
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=TABLET if size == "tablet" else PHONE,
                                          locale="zh-CN")
            page = context.new_page()
            page.set_default_timeout(15_000)
            sign_in(page, live_server, "scorer")
            page.goto(live_server + "/account/api-tokens")
            page.get_by_label("令牌名称").fill("一组平板")
            page.get_by_role("button", name="创建令牌").click()
            token = page.get_by_label("新令牌").input_value()
            assert token.startswith("vp_")
            page.screenshot(path=str(ARTIFACTS / f"api-tokens-created-{size}.png"),
                            full_page=True)
            me = requests.get(live_server + "/api/v1/me", timeout=10,
                              headers={"Authorization": f"Bearer {token}"})
            assert me.status_code == 200 and me.json()["username"] == "scorer"
            page.goto(live_server + "/account/api-tokens")
            assert token not in page.content()
            page.get_by_role("button", name="撤销").click()
            expect(page.get_by_text("已撤销令牌")).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / f"api-tokens-revoked-{size}.png"),
                            full_page=True)
            gone = requests.get(live_server + "/api/v1/me", timeout=10,
                                headers={"Authorization": f"Bearer {token}"})
            assert gone.status_code == 401
        finally:
            browser.close()
