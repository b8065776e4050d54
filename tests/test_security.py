"""Web defences (issue 9): security headers and CSP, CSRF, rate limits, login throttling and
lockout, revocable sessions, cookie flags, password rules.

Rate limits are set low per test through the app config (read at request time) with the
moving-window strategy, so a count never straddles a window boundary: no test can flake on
the clock. The login lock is tested by moving ``credentials.utcnow``.
"""
import os
import re
import socket
import subprocess
import sys
import textwrap
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from app import create_app
from app.accounts import credentials
from app.accounts.passwords import password_problems
from app.extensions import db
from app.households.qr import public_url
from tests.conftest import run_threads

ROOT = Path(__file__).resolve().parent.parent
LOCKED = "密码错误次数太多，账号已暂时锁定。请 15 分钟后再试，或请管理员重置密码。"
BAD = "用户名或密码不正确"


def _path(app, household):
    with app.test_request_context():
        return public_url(household).replace("http://jf.test", "")


def _post_login(client, username, password):
    return client.post("/login", data={"username": username, "password": password})


# --- headers -------------------------------------------------------------------------------

def test_security_headers_and_strict_csp(app):
    resp = app.test_client().get("/login")
    assert resp.status_code == 200
    csp = dict(part.strip().split(" ", 1) for part in
               resp.headers["Content-Security-Policy"].split(";") if part.strip())
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'" and csp["style-src"] == "'self'"
    assert csp["object-src"] == "'none'" and csp["frame-ancestors"] == "'none'"
    assert csp["form-action"] == "'self'" and csp["base-uri"] == "'none'"
    assert "unsafe-inline" not in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in resp.headers  # plain HTTP, FORCE_HTTPS off


def test_qr_page_is_private_even_when_not_found(app, world):
    client = app.test_client()
    for url in (_path(app, world["hh"]["a1"]), "/h/" + "x" * 43):
        resp = client.get(url)
        assert resp.headers["Referrer-Policy"] == "no-referrer", url
        assert resp.headers["X-Robots-Tag"] == "noindex, nofollow"
        assert resp.headers["Cache-Control"] == "no-store"
        assert "Content-Security-Policy" in resp.headers
    # cadre pages keep the same-origin policy (Flask-WTF checks the Referer over HTTPS)
    assert client.get("/login").headers["Referrer-Policy"] == "same-origin"


TEMPLATES = ROOT / "templates"


def test_no_inline_script_handler_or_style_in_any_template():
    """The CSP forbids them, so the browser would drop them silently: catch them here."""
    problems = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"<script\b([^>]*)>", text):
            if "src=" not in m.group(1):
                problems.append(f"{path.relative_to(ROOT)}: inline <script>")
        for m in re.finditer(r"<[a-zA-Z][^>]*\s(on[a-z]+)\s*=", text):
            problems.append(f"{path.relative_to(ROOT)}: inline handler {m.group(1)}=")
        for m in re.finditer(r"<[a-zA-Z][^>]*\sstyle\s*=", text):
            problems.append(f"{path.relative_to(ROOT)}: style attribute (use app.css)")
        if "<style" in text:
            problems.append(f"{path.relative_to(ROOT)}: <style> element (use app.css)")
        if "javascript:" in text:
            problems.append(f"{path.relative_to(ROOT)}: javascript: URL")
    assert problems == []


def test_plates_print_button_uses_the_static_script(app, world, login):
    html = login("vadmin").get(f"/villages/{world['village_a'].id}/plates"
                               f"?group={world['g_a1'].id}").get_data(as_text=True)
    assert 'data-action="print"' in html and "onclick" not in html
    assert "/static/js/app.js" in html
    js = (ROOT / "app/static/js/app.js").read_text()
    assert "window.print()" in js


def test_https_settings_secure_cookie_and_proxy_addresses(app, world):
    """FORCE_HTTPS redirects to HTTPS and sends HSTS; SESSION_COOKIE_SECURE marks the cookie
    Secure; with PROXY_COUNT=1 the client address is the one nginx forwarded."""
    other = create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                        "TESTING": True, "SECRET_KEY": "test-secret",
                        "WTF_CSRF_ENABLED": False, "FORCE_HTTPS": True,
                        "SESSION_COOKIE_SECURE": True, "PROXY_COUNT": 1,
                        "RATELIMIT_STORAGE_URI": "memory://",
                        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    seen = {}

    @other.after_request
    def _remember(response):
        from flask import request
        seen["addr"] = request.remote_addr
        return response

    client = other.test_client()
    resp = client.get("/login")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("https://")
    # the health check stays reachable over plain HTTP
    assert client.get("/healthz").status_code == 200
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    resp = client.get("/login", headers=https)
    assert resp.status_code == 200
    assert seen["addr"] == "203.0.113.9"
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=")
    resp = client.post("/login", data={"username": "scorer", "password": "pw-scorer"},
                       headers=https)
    assert resp.status_code == 302
    cookie = resp.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def test_default_cookie_flags(app, world):
    resp = _post_login(app.test_client(), "scorer", "pw-scorer")
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # village LANs may be plain HTTP: Secure is configurable


# --- CSRF ----------------------------------------------------------------------------------

def test_every_form_and_the_logout_button_need_a_csrf_token(app, world, login, monkeypatch):
    client = login("vadmin")  # logged in before CSRF is switched on
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    a1 = world["hh"]["a1"]
    posts = ["/logout", f"/households/{a1.id}/qr/reissue", f"/households/{a1.id}/archive",
             f"/households/{a1.id}/score", "/account/password", "/users/new",
             f"/users/{world['users']['scorer'].id}/active",
             f"/users/{world['users']['scorer'].id}/password",
             f"/villages/{world['village_a'].id}/roster/import"]
    for url in posts:
        resp = client.post(url, data={"reason": "x", "active": "0"})
        assert resp.status_code == 400, url
        assert "请求有误" in resp.get_data(as_text=True)
    anon = app.test_client()
    assert _post_login(anon, "scorer", "pw-scorer").status_code == 400  # no token: refused
    # still logged in: the refused logout changed nothing
    assert client.get("/users").status_code == 200
    # every form rendered for a user carries the token
    html = client.get(f"/households/{a1.id}").get_data(as_text=True)
    assert html.count('name="csrf_token"') == html.count("<form method=\"post\"")


# --- rate limits ---------------------------------------------------------------------------

def test_login_posts_are_rate_limited_per_address(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN", "3 per minute")
    client = app.test_client()
    for _ in range(5):
        assert client.get("/login").status_code == 200  # showing the form does not count
    for name in ("nobody1", "nobody2", "nobody3"):
        assert _post_login(client, name, "wrong-pass").status_code == 200
    resp = _post_login(client, "scorer", "pw-scorer")
    assert resp.status_code == 429
    assert "操作太频繁，请过一段时间再试。" in resp.get_data(as_text=True)
    assert "Retry-After" in resp.headers


def test_qr_pages_are_rate_limited_and_misses_logged(app, world, monkeypatch, caplog):
    monkeypatch.setitem(app.config, "RATELIMIT_QR", "4 per minute")
    monkeypatch.setitem(app.config, "RATELIMIT_QR_MISS", "2 per minute")
    client = app.test_client()
    good = _path(app, world["hh"]["a1"])
    assert client.get(good).status_code == 200
    guesses = ["/h/" + "A" * 43, "/h/" + "B" * 43]
    for url in guesses:
        assert client.get(url).status_code == 404
    misses = [r for r in caplog.records if getattr(r, "event", None) == "qr_unknown_token"]
    assert len(misses) == 2
    assert all(r.client == "127.0.0.1" and r.token_prefix == url[4:10]
               for r, url in zip(misses, guesses))
    assert not any("A" * 43 in r.getMessage() or "A" * 43 in str(r.__dict__)
                   for r in misses)  # never the whole token
    # the third miss is refused; a valid door plate from the same address still opens (a
    # villager behind the guesser's mobile network address is not locked out)
    assert client.get("/h/" + "C" * 43).status_code == 429
    assert client.get(good).status_code == 200


def test_qr_page_overall_limit(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_QR", "3 per minute")
    client = app.test_client()
    good = _path(app, world["hh"]["a1"])
    assert [client.get(good).status_code for _ in range(4)] == [200, 200, 200, 429]
    # the villager's error page leads back to their page, not to the cadres' login
    html = client.get(good).get_data(as_text=True)
    assert f'href="{good}" data-testid="back-home"' in html and "回到首页" not in html
    html = client.get("/h/" + "A" * 43).get_data(as_text=True)
    assert "请重新扫描门上的二维码" in html and "回到首页" not in html
    other = _path(app, world["hh"]["a2"])
    html = client.get(f"{other}/object/999999").get_data(as_text=True)   # a known plate
    assert f'href="{other}" data-testid="back-home"' in html
    # another family behind the same address (village Wi-Fi) keeps its own budget
    assert client.get(_path(app, world["hh"]["a2"])).status_code == 200


def _redis_up():
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")
def test_redis_storage_shares_the_limit_between_processes(tmp_path):
    """Two app processes (like two gunicorn workers) count against one limit in Redis."""
    prefix = "points-test-" + uuid.uuid4().hex[:8]
    script = textwrap.dedent(f"""
        import sys
        from app import create_app
        app = create_app({{"SQLALCHEMY_DATABASE_URI": "sqlite:///{tmp_path}/r.sqlite3",
                          "TESTING": True, "SECRET_KEY": "x", "WTF_CSRF_ENABLED": False,
                          "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15",
                          "RATELIMIT_KEY_PREFIX": "{prefix}",
                          "RATELIMIT_QR_MISS": "3 per minute"}})
        from app.extensions import db
        with app.app_context():
            db.create_all()
        client = app.test_client()
        print(" ".join(str(client.get("/h/" + "Z" * 43).status_code)
                       for _ in range(int(sys.argv[1]))))
    """)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    run = [sys.executable, "-c", script]
    first = subprocess.run(run + ["2"], cwd=ROOT, env=env, capture_output=True, text=True)
    second = subprocess.run(run + ["2"], cwd=ROOT, env=env, capture_output=True, text=True)
    try:
        assert first.stdout.split() == ["404", "404"], first.stderr[-2000:]
        assert second.stdout.split() == ["404", "429"], second.stderr[-2000:]
    finally:
        import redis
        r = redis.Redis(host="127.0.0.1", port=6379, db=15)
        for key in r.scan_iter(f"*{prefix}*"):
            r.delete(key)


# --- login throttling and lockout ----------------------------------------------------------

class Clock:
    """Replaces ``credentials.utcnow`` so a test can move time forward."""

    def __init__(self, monkeypatch):
        self.now = credentials.utcnow()
        monkeypatch.setattr(credentials, "utcnow", lambda: self.now)

    def forward(self, minutes):
        self.now += timedelta(minutes=minutes)


def test_five_failures_lock_the_account_for_fifteen_minutes(app, world, monkeypatch):
    clock = Clock(monkeypatch)
    client = app.test_client()
    for _ in range(4):
        assert BAD in _post_login(client, "scorer", "wrong-pass").get_data(as_text=True)
    html = _post_login(client, "scorer", "wrong-pass").get_data(as_text=True)
    assert LOCKED in html
    # locked: even the right password is refused, from any browser
    html = _post_login(app.test_client(), "scorer", "pw-scorer").get_data(as_text=True)
    assert LOCKED in html
    clock.forward(10)
    html = _post_login(client, "scorer", "pw-scorer").get_data(as_text=True)
    assert "请 5 分钟后再试" in html
    # other accounts are not affected
    assert _post_login(app.test_client(), "vadmin", "pw-vadmin").status_code == 302
    clock.forward(6)
    assert _post_login(client, "scorer", "pw-scorer").status_code == 302


def test_failures_outside_the_window_do_not_add_up(app, world, monkeypatch):
    clock = Clock(monkeypatch)
    client = app.test_client()
    for _ in range(4):
        _post_login(client, "scorer", "wrong-pass")
    clock.forward(16)
    for _ in range(4):
        assert BAD in _post_login(client, "scorer", "wrong-pass").get_data(as_text=True)
    assert _post_login(client, "scorer", "pw-scorer").status_code == 302
    # a success clears the count
    for _ in range(4):
        _post_login(app.test_client(), "scorer", "wrong-pass")
    assert _post_login(app.test_client(), "scorer", "pw-scorer").status_code == 302


def test_unknown_usernames_lock_nothing_and_are_logged_without_the_name(app, world, caplog):
    client = app.test_client()
    for _ in range(6):
        assert BAD in _post_login(client, "my-secret-password", "x").get_data(as_text=True)
    assert "my-secret-password" not in caplog.text
    assert all(getattr(r, "reason", None) == "unknown_user" for r in caplog.records
               if getattr(r, "event", None) == "login_failed")


def test_admin_reset_lifts_the_lock(app, world, login, monkeypatch):
    Clock(monkeypatch)
    for _ in range(5):
        _post_login(app.test_client(), "scorer", "wrong-pass")
    listing = login("vadmin").get("/users").get_data(as_text=True)
    assert "已锁定" in listing
    resp = login("vadmin").post(f"/users/{world['users']['scorer'].id}/password",
                                data={"password": "new-pass-2026", "confirm": "new-pass-2026"})
    assert resp.status_code == 302
    assert _post_login(app.test_client(), "scorer", "new-pass-2026").status_code == 302


# --- sessions ------------------------------------------------------------------------------

def test_logout_ends_the_session_everywhere(app, world, login):
    tablet, phone = login("scorer"), login("scorer")
    village = f"/villages/{world['village_a'].id}/households"
    assert phone.get(village).status_code == 200
    stolen = phone.get_cookie("session").value
    tablet.post("/logout")
    assert phone.get(village).status_code == 302  # the other device is logged out too
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    assert replay.get(village).status_code == 302  # a copied cookie is worthless now


def test_password_change_keeps_this_session_and_ends_the_others(app, world, login):
    tablet, phone = login("scorer"), login("scorer")
    village = f"/villages/{world['village_a'].id}/households"
    resp = tablet.post("/account/password", data={
        "current": "pw-scorer", "password": "village-2026", "confirm": "village-2026"})
    assert resp.status_code == 302
    assert tablet.get(village).status_code == 200
    assert phone.get(village).status_code == 302
    assert _post_login(app.test_client(), "scorer", "pw-scorer").status_code == 200
    assert _post_login(app.test_client(), "scorer", "village-2026").status_code == 302


def test_wrong_current_password_is_refused_at_the_field(app, world, login):
    html = login("scorer").post("/account/password", data={
        "current": "nope", "password": "village-2026", "confirm": "village-2026"}
    ).get_data(as_text=True)
    assert re.search(r'is-invalid[^>]*>\s*<div class="invalid-feedback d-block fs-6">'
                     r'现在的密码不正确</div>', html)
    assert _post_login(app.test_client(), "scorer", "pw-scorer").status_code == 302


def test_deactivation_ends_sessions_and_refuses_login(app, world, login):
    scorer = login("scorer")
    village = f"/villages/{world['village_a'].id}/households"
    resp = login("vadmin").post(f"/users/{world['users']['scorer'].id}/active",
                                data={"active": "0"})
    assert resp.status_code == 302
    assert scorer.get(village).status_code == 302
    html = _post_login(app.test_client(), "scorer", "pw-scorer").get_data(as_text=True)
    assert "这个账号已停用，请联系管理员。" in html
    html = _post_login(app.test_client(), "scorer", "wrong").get_data(as_text=True)
    assert BAD in html and "停用" not in html  # no hint without the right password
    login("vadmin").post(f"/users/{world['users']['scorer'].id}/active", data={"active": "1"})
    assert _post_login(app.test_client(), "scorer", "pw-scorer").status_code == 302


# --- password rules ------------------------------------------------------------------------

@pytest.mark.parametrize("password, message", [
    ("short1", "密码至少要有 8 位"),
    ("12345678", "密码不能全是数字"),
    ("13800000001", "密码不能全是数字"),
    ("Scorer", "密码至少要有 8 位"),
    ("scorer-b", None),
])
def test_password_rules_at_the_field(app, world, login, password, message):
    client = login("scorer")
    html = client.post("/account/password", data={
        "current": "pw-scorer", "password": password, "confirm": password}
    ).get_data(as_text=True)
    if message is None:
        assert "invalid-feedback" not in html
    else:
        assert f'<div class="invalid-feedback d-block fs-6">{message}</div>' in html


def test_password_may_not_be_the_username(app, world, login):
    resp = login("vadmin").post("/users/new", data={
        "username": "Wangwu2026", "display_name": "王五", "role": "village_scorer",
        "region": world["village_a"].id, "password": "wangwu2026", "confirm": "wangwu2026"})
    assert "密码不能和用户名相同" in resp.get_data(as_text=True)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=20), st.text(alphabet="abcXYZ_1", min_size=1, max_size=10))
def test_password_rules_property(password, username):
    problems = [str(p) for p in password_problems(password, username)]
    ok = (8 <= len(password) <= 128 and not password.isdigit()
          and password.strip().casefold() != username.strip().casefold())
    assert (problems == []) == ok


def test_every_door_plate_page_shares_the_guessing_budget(app, world, monkeypatch, caplog):
    """Guesses through the villagers' pages (/h/<token>/notice, /report...) count and are
    logged like guesses at the household page, and are private pages too."""
    monkeypatch.setitem(app.config, "RATELIMIT_QR_MISS", "3 per minute")
    client = app.test_client()
    good = _path(app, world["hh"]["a1"])
    for url in ("/h/" + "D" * 43 + "/notice", "/h/" + "E" * 43 + "/report",
                "/h/" + "F" * 43):
        resp = client.get(url)
        assert resp.status_code == 404, url
        assert resp.headers["Referrer-Policy"] == "no-referrer"
    assert {r.token_prefix for r in caplog.records
            if getattr(r, "event", None) == "qr_unknown_token"} == {"DDDDDD", "EEEEEE",
                                                                    "FFFFFF"}
    assert client.get("/h/" + "G" * 43 + "/notice").status_code == 429
    assert client.get("/h/" + "H" * 43).status_code == 429
    assert client.get(good + "/notice").status_code == 200  # a valid plate is exempt
    resp = app.test_client().get(good + "/notice",  # from another address
                                 environ_base={"REMOTE_ADDR": "192.0.2.50"})
    assert resp.status_code == 200 and resp.headers["X-Robots-Tag"] == "noindex, nofollow"


def test_villager_submissions_are_limited_per_household(app, world, monkeypatch):
    """RATELIMIT_SELF_REPORT counts the submissions that went through: a form refused for a
    typing mistake costs nothing (it used to lock the plate for an hour after ten)."""
    from app.scoring.periods import local_today
    from tests.conftest import item
    monkeypatch.setitem(app.config, "RATELIMIT_SELF_REPORT", "2 per hour")
    helped = item(world["village_a"], "帮助困难居民").id
    db.session.commit()
    client = app.test_client()
    a1, a2 = _path(app, world["hh"]["a1"]), _path(app, world["hh"]["a2"])

    def report(path, text, key):
        return client.post(path + "/report", data={
            "item_id": helped, "deed_date": local_today().isoformat(), "description": text,
            "idempotency_key": key}).status_code

    assert client.get(a1 + "/report").status_code == 200  # showing the form is free
    mistakes = [client.post(a1 + "/report", data={"description": "x"}).status_code
                for _ in range(4)]
    assert mistakes == [200] * 4                            # refused at their fields, free
    assert [report(a1, "送邻居去医院", "k1"), report(a1, "帮邻居收稻谷", "k2"),
            report(a1, "扶老人过河", "k3")] == [302, 302, 429]
    assert report(a2, "送邻居去医院", "k4") == 302           # another plate, its own budget


def test_unknown_usernames_cost_a_password_check_too(app, world, monkeypatch):
    """No telling existing usernames from unknown ones by the time a refusal takes."""
    import app.accounts.credentials as cred
    checked = []
    real = cred.check_password_hash
    monkeypatch.setattr(cred, "check_password_hash",
                        lambda h, p: checked.append(p) or real(h, p))
    _post_login(app.test_client(), "no-such-user", "guess-123")
    assert checked == ["guess-123"]


def test_every_door_plate_route_is_guarded(app):
    """A route under /h/<token> without @qr_capability would let guessing bypass the limits
    and the logs (and leak the token through Referer): none may be missing it."""
    unguarded = [rule.rule for rule in app.url_map.iter_rules()
                 if rule.rule.startswith("/h/")
                 and not getattr(app.view_functions[rule.endpoint], "qr_capability", False)]
    assert unguarded == []


def test_concurrent_first_logins_of_one_account_share_one_login_state(app, world):
    """Found by the soak run: two first logins of one account at once both inserted its
    LoginState row and the later one failed with a unique violation (a 500). On PostgreSQL
    the threads overlap (each holds its transaction open, as a login does while it checks the
    password hash); on SQLite BEGIN IMMEDIATE queues them."""
    import time

    from app.accounts.login_state import LoginState
    from app.accounts.models import User
    uid = world["users"]["vadmin"].id
    db.session.execute(delete(LoginState).where(LoginState.user_id == uid))
    db.session.commit()
    db.session.close()

    def first_login(_i):
        with app.app_context():
            try:
                state = credentials.login_state(db.session.get(User, uid), for_update=True)
                time.sleep(0.2)
                db.session.commit()
                return state.session_token
            finally:
                db.session.remove()
    results, errors = run_threads(4, first_login)
    assert errors == [] and len(results) == 4 and len(set(results)) == 1
    assert db.session.scalar(select(func.count()).select_from(LoginState)
                             .where(LoginState.user_id == uid)) == 1
