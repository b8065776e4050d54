"""Fixtures: an app on SQLite (or on PostgreSQL when TEST_DATABASE_URL is set), a small
region tree with a rulebook and users of every role, and a logged-in client factory.

Tables are created once per session (``create_all`` is for tests only; the app itself uses
migrations) and emptied after each test.
"""
import os
import threading
from datetime import date
from pathlib import Path

import pytest
from flask import g
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db



def _worker_database(url):
    """Under pytest-xdist (``make test`` runs two workers) each worker needs a PostgreSQL
    database of its own, made on first use: ``<name>_gw0``, ``<name>_gw1``..."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker or not url.startswith("postgresql"):
        return url
    import psycopg
    base, name = url.rsplit("/", 1)
    mine = f"{name}_{worker}"
    with psycopg.connect(url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (mine,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{mine}"')
    return f"{base}/{mine}"


TEST_DB = _worker_database(os.environ.get("TEST_DATABASE_URL"))

# Browser tests: Debian's Chromium driven by Playwright (never a downloaded browser).
CHROMIUM = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
TABLET = {"width": 1024, "height": 768}
PHONE = {"width": 390, "height": 844}


def require_chromium():
    """Skip when Chromium is missing, unless CI is set: then fail."""
    if os.path.exists(CHROMIUM):
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but Chromium is missing at {CHROMIUM}")
    pytest.skip(f"Chromium not found at {CHROMIUM} (install Debian's chromium)")


def sign_in(page, base_url: str, username: str) -> None:
    """Log ``page`` (Playwright) in as test user ``username`` (password pw-<name>) through
    the login form of the app at ``base_url``."""
    page.goto(base_url + "/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill("pw-" + username)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


@pytest.fixture
def live_server(app):
    """The app served by werkzeug on 127.0.0.1 and a free port, in a background thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def run_threads(n, target):
    """Start ``n`` threads together (a barrier) running ``target(i)``; return (results,
    errors) once all have finished. For concurrency tests on PostgreSQL and SQLite: close the
    test's own session first (on SQLite every transaction holds the write lock)."""
    barrier = threading.Barrier(n)
    results, errors = [], []

    def run(i):
        try:
            barrier.wait()
            results.append(target(i))
        except Exception as exc:  # pragma: no cover - reported by the caller's assertion
            errors.append(repr(exc))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


class FreshGClient(FlaskClient):
    """A test client whose every request starts with an empty ``g``.

    The ``app`` fixture keeps one app context pushed for the whole test (so tests share the
    request's database session), and Flask reuses that context for test-client requests; ``g``
    would otherwise carry one request's logged-in user or locale into the next.
    """

    def open(self, *args, **kwargs):
        g.__dict__.clear()
        try:
            return super().open(*args, **kwargs)
        finally:
            g.__dict__.clear()


@pytest.fixture(scope="session")
def _app(tmp_path_factory):
    url = TEST_DB or "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True,
                      "SECRET_KEY": "test-secret", "WTF_CSRF_ENABLED": False,
                      "PUBLIC_BASE_URL": "http://jf.test",
                      # rate limits in this process's memory, emptied after each test
                      # (tests of the limits set them low themselves)
                      "RATELIMIT_STORAGE_URI": "memory://",
                      # fast hashes for test users only; the app uses scrypt
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    app.test_client_class = FreshGClient
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            # a clean schema: tables left by another checkout's run may depend on ours
            with db.engine.begin() as conn:
                conn.exec_driver_sql("DROP SCHEMA public CASCADE")
                conn.exec_driver_sql("CREATE SCHEMA public")
        else:
            db.drop_all()
        db.create_all()
    return app


@pytest.fixture
def app(_app):
    """The app, inside an app context, with empty tables after the test."""
    from app.extensions import cache, limiter
    with _app.app_context():
        yield _app
        db.session.rollback()
        db.session.remove()
        _empty_tables()
        limiter.reset()
        cache.clear()   # roll-up snapshots: ids restart with the next test's tables


def _empty_tables():
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
        with db.engine.begin() as conn:
            conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    else:
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture
def world(app):
    """A small world built through the services, committed:

    city > county A (南昌县) > township A > village A (groups A1, A2), village A2
         > county B (进贤县) > township B > village B (group B1)
    Villages A and B adopt the 岚皋 rulebook plus the four standard categories (effective
    2020-01-01) and have no notice period (entries are confirmed at once).
    Households: a1, a2, a3 in A1, a4 in A2; b1 in B1. One user per role.
    """
    from app.accounts.services import create_user
    from app.demo.loader import _rulebook_text
    from app.households.services import add_group, add_household
    from app.regions.services import add_region
    from app.rules.importer import parse_rulebook
    from app.rules.services import load_spec

    city = add_region(code="3601", name="南昌市", level="city")
    county_a = add_region(code="360121", name="南昌县", level="county", parent=city)
    county_b = add_region(code="360124", name="进贤县", level="county", parent=city)
    town_a = add_region(code="360121100", name="莲塘镇", level="township", parent=county_a)
    town_b = add_region(code="360124101", name="李渡镇", level="township", parent=county_b)
    village_a = add_region(code="360121100202", name="斗门村委会", level="village",
                           parent=town_a)
    village_a2 = add_region(code="360121100203", name="定岗村委会", level="village",
                            parent=town_a)
    village_b = add_region(code="360124101200", name="鉴良村委会", level="village",
                           parent=town_b)
    g_a1, g_a2 = add_group(village_a, "第一村民小组"), add_group(village_a, "第二村民小组")
    g_b1 = add_group(village_b, "第一村民小组")
    for village in (village_a, village_b):
        std = parse_rulebook(_rulebook_text("standard_categories.yaml"), code_prefix="S")
        langao = parse_rulebook(_rulebook_text("rulebooks/langao-daode-bank.yaml"),
                                code_prefix="L")
        load_spec(village, langao, f"{village.name}积分管理办法", adopted_on=date(2019, 12, 20),
                  effective_from=date(2020, 1, 1), extra=std.categories, decision="村民代表会议")
    from app.scoring.models import VillageSettings
    for village in (village_a, village_b):  # entries count at once; workflow tests change it
        db.session.add(VillageSettings(village_id=village.id, notice_days=0))
    # the world's households were registered before its rulebooks took effect (2020), so a
    # roll-up of any period in the tests counts them (reports.queries, migration 0009)
    from datetime import datetime, timezone
    since = datetime(2019, 12, 1, tzinfo=timezone.utc)
    hh = {
        "a1": add_household(village=village_a, group=g_a1, house_number="1", head_name="张小三",
                            members=["李四", "张丽"], phone="13800000001", registered_at=since),
        "a2": add_household(village=village_a, group=g_a1, house_number="2", head_name="王五",
                            phone="13800000002", registered_at=since),
        "a3": add_household(village=village_a, group=g_a1, house_number="3", head_name="欧阳小明",
                            phone="13800000003", registered_at=since),
        "a4": add_household(village=village_a, group=g_a2, house_number="21", head_name="赵六",
                            phone="13800000004", registered_at=since),
        "b1": add_household(village=village_b, group=g_b1, house_number="1", head_name="钱七",
                            phone="13900000009", registered_at=since),
    }
    users = {}
    for name, role, region in [
        ("scorer", "village_scorer", village_a), ("vadmin", "village_admin", village_a),
        ("auditor", "township_auditor", town_a), ("county", "county_official", county_a),
        ("city", "city_official", city), ("admin", "system_admin", city),
        ("scorer_b", "village_scorer", village_b), ("vadmin_b", "village_admin", village_b),
        ("auditor_b", "township_auditor", town_b), ("county_b", "county_official", county_b),
    ]:
        users[name] = create_user(username=name, password="pw-" + name, display_name=name,
                                  role=role, region=region)
    db.session.commit()
    return {"city": city, "county_a": county_a, "county_b": county_b, "town_a": town_a,
            "town_b": town_b, "village_a": village_a, "village_a2": village_a2,
            "village_b": village_b, "g_a1": g_a1, "g_a2": g_a2, "g_b1": g_b1,
            "hh": hh, "users": users}


@pytest.fixture
def login(app):
    """``login(username)`` returns a test client logged in as that user (password pw-<name>)."""
    def _login(username):
        client = app.test_client()
        resp = client.post("/login", data={"username": username, "password": "pw-" + username})
        assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
        return client
    return _login


def item(village, name):
    """The RuleItem named ``name`` in the rulebook in force today for ``village``."""
    from app.rules.queries import version_in_force
    from app.scoring.periods import local_today
    version = version_in_force(village, local_today())
    for cat in version.categories:
        for it in cat.items:
            if it.name == name:
                return it
    raise KeyError(name)
