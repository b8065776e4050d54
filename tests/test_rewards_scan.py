"""Issue 6: at the counter the tablet camera scans the household's door-plate QR code
(html5-qrcode, vendored), in Debian's Chromium with a fake camera that plays a video made
from a generated QR code PNG; then a basket is redeemed and the receipt and the QR page
show it. Skipped only when Chromium is missing and CI is not set."""
import re
from urllib.parse import urlsplit

import pytest

from app.extensions import db
from tests.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, TABLET, require_chromium


def _y4m_of_qr(text: str, path, size=(640, 480), frames=20):
    """A Y4M video (YUV 4:2:0) whose frames show the QR code of ``text`` on white."""
    import qrcode
    from PIL import Image
    qr = qrcode.make(text, box_size=8, border=4).convert("L")
    side = min(size) * 3 // 5
    frame = Image.new("L", size, 255)
    frame.paste(qr.resize((side, side)), ((size[0] - side) // 2, (size[1] - side) // 2))
    ycc = frame.convert("RGB").convert("YCbCr")
    y, cb, cr = ycc.split()
    half = (size[0] // 2, size[1] // 2)
    planes = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{size[0]} H{size[1]} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            f.write(b"FRAME\n" + planes)


@pytest.mark.browser
def test_counter_scans_the_door_plate_with_the_camera_and_redeems(app, world, live_server,
                                                                  tmp_path):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    from app.households.qr import public_url
    from app.rewards import services
    from app.scoring.periods import local_today
    from app.scoring.services import post_entry
    from tests.conftest import item

    v, h = world["village_a"], world["hh"]["a3"]
    post_entry(household=h, item_id=item(v, "红白喜事简办").id, deed_date=local_today(),
               recorded_by=world["users"]["scorer"])
    rice = services.add_reward(village=v, name="大米", points_price="2.5", unit="袋")
    services.stock_in(rice, quantity=1)
    db.session.commit()
    hid, vid = h.id, v.id
    with app.test_request_context():
        url = public_url(h)
    video = tmp_path / "plate.y4m"
    _y4m_of_qr(url, video)
    db.session.close()

    ARTIFACTS.mkdir(exist_ok=True)
    args = CHROMIUM_ARGS + ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                            f"--use-file-for-fake-video-capture={video}"]
    violations = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            ctx = browser.new_context(viewport=TABLET, locale="zh-CN",
                                      permissions=["camera"])
            page = ctx.new_page()
            page.set_default_timeout(20_000)
            page.on("console", lambda m: violations.append(m.text)
                    if "Content Security Policy" in m.text else None)
            page.goto(live_server + "/login")
            page.get_by_label("用户名").fill("scorer")
            page.get_by_label("密码").fill("pw-scorer")
            page.get_by_role("button", name="登录").click()
            page.goto(f"{live_server}/villages/{vid}/counter")
            page.get_by_role("button", name="扫门牌二维码").click()
            expect(page).to_have_url(re.compile(rf"/counter/{hid}$"), timeout=60_000)
            expect(page.get_by_test_id("spendable")).to_have_text("5")
            page.locator(".basket-item", has_text="大米").get_by_role("button", name="增加") \
                .click()
            page.once("dialog", lambda d: d.accept())
            page.get_by_role("button", name="确认兑换").click()
            expect(page.get_by_test_id("balance")).to_have_text("2.5")
            page.screenshot(path=str(ARTIFACTS / "rewards-05-scanned-receipt.png"))
            qr = ctx.new_page()
            qr.goto(live_server + urlsplit(url).path)
            expect(qr.get_by_test_id("redemptions")).to_contain_text("大米×1")
            ctx.close()
        finally:
            browser.close()
    assert violations == []
