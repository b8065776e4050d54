"""Operations (issue 9): backup and restore round trip on the database under test (SQLite, or
PostgreSQL with TEST_DATABASE_URL), the health endpoint, structured logs."""
import io
import json
import logging
import os
import shutil
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from app.extensions import db
from app.households.models import Household
from app.logs import log_event, make_handler
from app.ops import backup as ops
from app.ops.cli import ledger_report
from app.scoring.models import HouseholdBalance, LedgerEntry
from app.scoring.services import post_entry
from tests.conftest import item


def _needs_tools(app):
    if db.engine.dialect.name == "postgresql" and not shutil.which("pg_dump"):
        if os.environ.get("CI"):
            pytest.fail("CI is set but pg_dump is missing")
        pytest.skip("pg_dump not installed")


def _sums():
    """Ledger sums per household and the stored balances: what must survive a round trip."""
    entries = dict(db.session.execute(
        select(LedgerEntry.household_id, func.sum(LedgerEntry.points))
        .group_by(LedgerEntry.household_id)).all())
    balances = {b.household_id: (b.earned_score, b.spendable_balance)
                for b in db.session.execute(select(HouseholdBalance)).scalars()}
    count = db.session.scalar(select(func.count(LedgerEntry.id)))
    return entries, balances, count


def _post_some(world, n, deed=date(2026, 11, 2)):
    """Post ``n`` entries (objects are loaded afresh: a backup or restore ends the session)."""
    from app.accounts.models import User
    from app.regions.models import Region
    v = db.session.get(Region, world["ids"]["village_a"])
    u = db.session.get(User, world["ids"]["scorer"])
    for i in range(n):
        household = db.session.get(Household, world["ids"]["a1" if i % 2 else "a2"])
        post_entry(household=household,
                   item_id=item(v, "乱堆乱放" if i % 3 else "红白喜事简办").id,
                   deed_date=deed, recorded_by=u)
    db.session.commit()


@pytest.fixture
def world(world):
    """The conftest world plus the ids this module reloads objects by."""
    world["ids"] = {"village_a": world["village_a"].id, "scorer": world["users"]["scorer"].id,
                    "a1": world["hh"]["a1"].id, "a2": world["hh"]["a2"].id}
    return world


def test_backup_and_restore_round_trip(app, world, tmp_path):
    """Back up, change things (new entries, a changed phone), restore: the ledger verifies,
    the chain heads, sums and balances are those of the backup, the later changes are gone."""
    _needs_tools(app)
    _post_some(world, 6)
    faults, heads = ledger_report()
    assert faults == [] and heads
    before = _sums()
    runner = app.test_cli_runner()
    target = tmp_path / "b"
    target.mkdir()
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert "ledger: 0 fault(s)" in result.output
    files = list(target.iterdir())
    assert len(files) == 1 and files[0].stat().st_size > 0
    assert oct(files[0].stat().st_mode & 0o777) == "0o600"

    _post_some(world, 3, deed=date(2026, 11, 3))
    a1 = db.session.get(Household, world["ids"]["a1"])
    a1.phone = "13999999999"
    db.session.commit()
    assert _sums() != before

    app.config["BACKUP_DIR"] = str(tmp_path / "safety")
    result = runner.invoke(args=["restore", "--yes", str(files[0])])
    assert result.exit_code == 0, result.output
    assert "ledger: 0 fault(s)" in result.output
    assert len(list((tmp_path / "safety").iterdir())) == 1  # the state before the restore
    faults_after, heads_after = ledger_report()
    assert faults_after == [] and heads_after == heads
    assert _sums() == before
    assert db.session.get(Household, world["ids"]["a1"]).phone == "13800000001"
    # the app keeps working on the restored database
    _post_some(world, 1, deed=date(2026, 11, 4))
    assert ledger_report()[0] == []


def test_restore_refuses_what_is_not_a_backup(app, world, tmp_path):
    _needs_tools(app)
    _post_some(world, 2)
    before = _sums()
    bogus = tmp_path / "bogus.dump"
    bogus.write_bytes(b"not a backup at all")
    result = app.test_cli_runner().invoke(args=["restore", "--yes", "--no-safety-backup",
                                                str(bogus)])
    assert result.exit_code == 1
    assert "恢复失败，数据库未改动" in result.output
    assert _sums() == before


def test_restore_asks_first(app, world, tmp_path):
    _needs_tools(app)
    path = ops.backup(tmp_path / "x.bak")
    result = app.test_cli_runner().invoke(args=["restore", str(path)], input="n\n")
    assert result.exit_code != 0 and "Aborted" in result.output


# --- health --------------------------------------------------------------------------------

def test_healthz_says_ok_and_nothing_else(app):
    resp = app.test_client().get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok"}
    assert resp.headers["Cache-Control"] == "no-store"


def test_healthz_reports_an_unreachable_database(app, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused to 10.0.0.5"))
    monkeypatch.setattr(db.session, "execute", broken)
    resp = app.test_client().get("/healthz")
    assert resp.status_code == 503
    assert resp.get_json() == {"status": "unavailable"}
    assert "10.0.0.5" not in resp.get_data(as_text=True)
    assert any(getattr(r, "event", None) == "health_db_unreachable" for r in caplog.records)


def test_healthz_is_never_rate_limited(app, monkeypatch):
    client = app.test_client()
    assert {client.get("/healthz").status_code for _ in range(50)} == {200}


# --- logs ----------------------------------------------------------------------------------

def test_events_are_json_lines_with_the_request_context(app, world):
    stream = io.StringIO()
    handler = make_handler("json", stream)
    logger = logging.getLogger("app.events")
    logger.addHandler(handler)
    try:
        app.test_client().post("/login", data={"username": "scorer", "password": "wrong"},
                               environ_base={"REMOTE_ADDR": "198.51.100.7"})
        with app.test_request_context("/x"):
            log_event("backup_written", path="/tmp/b", size=3)
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    failed = next(x for x in lines if x["event"] == "login_failed")
    assert failed["level"] == "INFO" and failed["logger"] == "app.events"
    assert failed["client"] == "198.51.100.7" and failed["path"] == "/login"
    assert failed["reason"] == "bad_password" and "ts" in failed
    assert "wrong" not in json.dumps(failed)  # never the password
    written = next(x for x in lines if x["event"] == "backup_written")
    assert written["size"] == 3 and written["path"] == "/tmp/b"


# --- gunicorn ------------------------------------------------------------------------------

def test_gunicorn_config_loads_and_access_lines_hide_tokens():
    import subprocess
    import sys
    from datetime import timedelta
    from pathlib import Path
    from types import SimpleNamespace

    from app.logs import redact_path
    from app.ops.gunicorn_logging import JsonAccessLogger
    root = Path(__file__).resolve().parent.parent
    check = subprocess.run([sys.executable, "-m", "gunicorn", "--check-config", "-c",
                            "gunicorn.conf.py", "wsgi:app"], cwd=root, capture_output=True,
                           text=True, env=dict(os.environ, SECRET_KEY="x",
                                               DATABASE_URL="sqlite://"))
    assert check.returncode == 0, check.stderr[-2000:]
    token = "AbCdEf" + "x" * 37
    assert redact_path(f"/h/{token}") == "/h/AbCdEf…"
    assert redact_path(f"/h/{token}/object/7") == "/h/AbCdEf…/object/7"
    assert redact_path("/households/1") == "/households/1"

    lines = []
    logger = JsonAccessLogger.__new__(JsonAccessLogger)
    logger._access_log_enabled = True
    logger.access_log = SimpleNamespace(info=lines.append)
    logger.access(SimpleNamespace(status="404 NOT FOUND", sent=12), None,
                  {"REQUEST_METHOD": "GET", "PATH_INFO": f"/h/{token}", "REMOTE_ADDR": "127.0.0.1",
                   "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.5", "HTTP_USER_AGENT": "手机"},
                  timedelta(milliseconds=12))
    line = json.loads(lines[0])
    assert line["path"] == "/h/AbCdEf…" and token not in lines[0]
    assert line["client"] == "203.0.113.5" and line["status"] == 404
    assert line["user_agent"] == "手机"


def test_app_logs_never_carry_a_whole_token(app, world):
    token = "Q" * 43
    stream = io.StringIO()
    handler = make_handler("json", stream)
    logger = logging.getLogger("app.events")
    logger.addHandler(handler)
    try:
        app.test_client().get("/h/" + token + "/notice")
    finally:
        logger.removeHandler(handler)
    line = json.loads(stream.getvalue().splitlines()[0])
    assert line["event"] == "qr_unknown_token" and line["path"] == "/h/QQQQQQ…/notice"
    assert token not in stream.getvalue()


# --- accounts from the command line --------------------------------------------------------

def test_first_admin_and_password_recovery_from_the_command_line(app, world):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "chief", "--region", "3601",
                                 "--name", "县管理员"],
                           input="12345678\n12345678\nchief-2026\nchief-2026\n")
    assert result.exit_code == 0, result.output
    assert "密码不能全是数字" in result.output and "created chief" in result.output
    client = app.test_client()
    assert client.post("/login", data={"username": "chief",
                                       "password": "chief-2026"}).status_code == 302
    for _ in range(5):
        app.test_client().post("/login", data={"username": "chief", "password": "no"})
    result = runner.invoke(args=["users", "set-password", "chief"],
                           input="fresh-pass-1\nfresh-pass-1\n")
    assert result.exit_code == 0, result.output
    assert client.get("/users").status_code == 302  # the old session ended
    assert app.test_client().post("/login", data={
        "username": "chief", "password": "fresh-pass-1"}).status_code == 302
    assert runner.invoke(args=["users", "create", "x", "--region", "nope",
                               "--name", "x"]).exit_code == 2


def test_error_and_server_lines_do_not_carry_a_whole_token():
    """Flask logs "Exception on <path>", the development server logs request lines: the
    handler cuts door-plate tokens short in any message."""
    token = "Zz09_-" + "k" * 37
    stream = io.StringIO()
    handler = make_handler("json", stream)
    logger = logging.getLogger("test.redaction")
    logger.addHandler(handler)
    try:
        logger.error(f"Exception on /h/{token}/notice [GET]")
        logger.info('%s - - "GET %s HTTP/1.1" 200 -', "127.0.0.1", f"/h/{token}")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert token not in text and text.count("/h/Zz09_-…") == 2


def test_log_lines_carry_no_terminal_colour_codes():
    """Werkzeug's development server colours request lines (ANSI escapes); a JSON log line
    must hold plain text."""
    stream = io.StringIO()
    handler = make_handler("json", stream)
    logger = logging.getLogger("test.ansi")
    logger.addHandler(handler)
    try:
        logger.info('%s - - "%s" %s -', "127.0.0.1", "\x1b[33mGET /nope HTTP/1.1\x1b[0m", 404)
    finally:
        logger.removeHandler(handler)
    line = json.loads(stream.getvalue())
    assert "\x1b" not in line["message"] and '"GET /nope HTTP/1.1" 404' in line["message"]
