"""Backup and restore of the whole database, for ``flask backup`` and ``flask restore``.

- SQLite: the online backup API (``sqlite3.Connection.backup``): a consistent copy while the
  app keeps running, written to a temporary file and renamed when complete. Restore copies
  the file back the same way, page by page, under the database's write lock.
- PostgreSQL: ``pg_dump --format=custom`` (a consistent snapshot while the app runs) and
  ``pg_restore --clean --single-transaction``: the restore replaces every table in one
  transaction, so it either completes or leaves the database as it was. Stop the app
  processes first (a restore waits for their locks; LOCK_TIMEOUT makes it give up instead).

The password never appears on a command line: it goes to pg_dump/pg_restore through
PGPASSWORD.
"""
import os
import shutil
import sqlite3
import subprocess
from datetime import datetime
from pathlib import Path

from app.extensions import db

LOCK_TIMEOUT = "60s"
#: A table every database of this app has; a file without it is not our backup.
MARKER_TABLE = "user_account"


class BackupError(RuntimeError):
    """A backup or restore that could not be done; the message says why."""


def dialect() -> str:
    """"sqlite" or "postgresql": the database the app is configured for."""
    return db.engine.dialect.name


def default_name(now: datetime | None = None) -> str:
    """A file name for a new backup: points-YYYYmmdd-HHMMSS.sqlite3 or .dump."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    return f"points-{stamp}." + ("sqlite3" if dialect() == "sqlite" else "dump")


def _sqlite_path() -> str:
    path = db.engine.url.database
    if not path or path == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return path


def _pg_args():
    """(libpq URL without the password, environment with PGPASSWORD) for pg_dump/restore."""
    url = db.engine.url
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    env["PGOPTIONS"] = f"-c lock_timeout={LOCK_TIMEOUT}"
    libpq = url.set(drivername="postgresql", password=None)
    return libpq.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} not found: install the PostgreSQL client "
                          f"(Debian: apt-get install postgresql-client)")
    return path


def _run(cmd, env):
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BackupError(f"{os.path.basename(cmd[0])} failed: {proc.stderr.strip()}")


def backup(dest) -> Path:
    """Write a consistent backup of the database to ``dest`` (a file path); return it.

    The file appears only once complete (written under a temporary name, then renamed)."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".partial")
    db.session.remove()
    try:
        if dialect() == "sqlite":
            src = sqlite3.connect(_sqlite_path())
            out = sqlite3.connect(tmp)
            try:
                src.backup(out)
                out.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
                if out.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                    raise BackupError("the copy failed SQLite's quick_check")
            finally:
                out.close()
                src.close()
        else:
            url, env = _pg_args()
            _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                  f"--file={tmp}", f"--dbname={url}"], env)
        os.chmod(tmp, 0o600)  # it holds villagers' names and phone numbers
        os.replace(tmp, dest)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return dest


def _check_sqlite_backup(path: Path) -> None:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            ok = conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a SQLite database: {exc}") from None
    if not ok or MARKER_TABLE not in tables:
        raise BackupError(f"{path} is not a backup of this app")


def _check_pg_backup(path: Path, env) -> None:
    proc = subprocess.run([_tool("pg_restore"), "--list", str(path)], env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0 or f"TABLE public {MARKER_TABLE}" not in proc.stdout:
        raise BackupError(f"{path} is not a pg_dump backup of this app")


def restore(src) -> None:
    """Replace the whole database with the backup ``src`` (made by ``backup``).

    Checks first that ``src`` is a backup of this app for this kind of database; on
    PostgreSQL the replacement is one transaction (all or nothing)."""
    src = Path(src)
    if not src.is_file():
        raise BackupError(f"{src}: no such file")
    db.session.remove()
    db.engine.dispose()  # our own pooled connections would hold locks
    if dialect() == "sqlite":
        _check_sqlite_backup(src)
        source = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
        target = sqlite3.connect(_sqlite_path(), timeout=60)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
    else:
        url, env = _pg_args()
        _check_pg_backup(src, env)
        _run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
              "--single-transaction", "--exit-on-error", f"--dbname={url}", str(src)], env)
    db.engine.dispose()
