"""Settings read from the environment, with defaults for a laptop or a village office PC.

Defaults: SQLite under ``instance/``, time zone Asia/Shanghai, locale zh_CN.
"""
import os
import secrets
from pathlib import Path


def _instance_secret(instance_path: str) -> str:
    """Return a per-installation secret kept in ``instance/secret_key`` (created on first use).

    Several app processes may start at once (gunicorn workers): the file is created with
    O_EXCL from a complete temporary file, so every process reads the same key (two keys
    would make sessions and door-plate tokens work in one worker and fail in the other).
    """
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"secret_key.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
        try:
            os.link(tmp, path)  # atomic; fails when another process got there first
        except FileExistsError:
            pass
        finally:
            Path(tmp).unlink(missing_ok=True)
    return path.read_text().strip()


def _env_flag(name: str, default: bool = False) -> bool:
    """An environment variable read as a yes/no flag ("1", "true", "yes", "on" are yes)."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _engine_options(db_url: str) -> dict:
    """SQLAlchemy engine options. On PostgreSQL the planner is told random reads cost about
    what sequential ones do (``PG_RANDOM_PAGE_COST``, default 1.1, the usual value for SSDs;
    empty keeps the server's): with the default 4 it reads all 100,000 balances of a county
    to rank one village of 500 households instead of 500 index look-ups (issue 10,
    docs/scale.md)."""
    options = {"pool_pre_ping": True}
    cost = os.environ.get("PG_RANDOM_PAGE_COST", "1.1").strip()
    if db_url.startswith("postgresql") and cost:
        options["connect_args"] = {"options": f"-c random_page_cost={float(cost)}"}
    return options


def load_config(app, overrides=None):
    """Fill ``app.config`` from the environment, then apply ``overrides`` (a dict, tests use it)."""
    overrides = dict(overrides or {})
    instance = app.instance_path
    default_db = "sqlite:///" + os.path.join(instance, "points.sqlite3")
    db_url = (overrides.pop("SQLALCHEMY_DATABASE_URI", None) or os.environ.get("DATABASE_URL")
              or default_db)
    if db_url.startswith("postgresql://"):
        db_url = "postgresql+psycopg://" + db_url[len("postgresql://"):]
    app.config.update(
        SECRET_KEY=os.environ.get("SECRET_KEY") or overrides.get("SECRET_KEY")
        or _instance_secret(instance),
        SQLALCHEMY_DATABASE_URI=db_url,
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(db_url),
        TIMEZONE=os.environ.get("POINTS_TIMEZONE", "Asia/Shanghai"),
        BABEL_DEFAULT_LOCALE="zh_CN",
        BABEL_DEFAULT_TIMEZONE="Asia/Shanghai",
        LANGUAGES=["zh_CN", "en"],
        # Absolute base of the public QR links printed on door plates, e.g. https://jf.example.cn
        PUBLIC_BASE_URL=os.environ.get("PUBLIC_BASE_URL", "").rstrip("/"),
        # Key that derives QR tokens (see households.qr); defaults to SECRET_KEY.
        QR_TOKEN_KEY=os.environ.get("QR_TOKEN_KEY"),
        ENTRIES_PER_PAGE=20,
        RED_BOARD_SIZE=10,
        MAX_CONTENT_LENGTH=5 * 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Secure cookies need HTTPS; village installs may be plain HTTP on a LAN.
        SESSION_COOKIE_SECURE=_env_flag("SESSION_COOKIE_SECURE"),
        PERMANENT_SESSION_LIFETIME=12 * 3600,
        WTF_CSRF_TIME_LIMIT=None,
        # Security headers (Flask-Talisman): redirect to HTTPS only when asked to.
        FORCE_HTTPS=_env_flag("FORCE_HTTPS"),
        # Trust X-Forwarded-For/-Proto from this many reverse proxies (nginx in front: 1).
        PROXY_COUNT=int(os.environ.get("PROXY_COUNT", "0")),
        # Rate limits (Flask-Limiter): Redis when RATELIMIT_STORAGE_URI is set (needed with
        # several app processes), memory otherwise. Limits are per client address.
        RATELIMIT_STORAGE_URI=os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        # Redis down: count in each process's memory until it is back, rather than fail.
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_STRATEGY="moving-window",
        RATELIMIT_HEADERS_ENABLED=True,
        RATELIMIT_KEY_PREFIX="points",
        # Roll-up snapshots (app.reports.snapshots): served while younger than
        # ROLLUP_MAX_AGE seconds (0: computed on every request). Kept in Redis when
        # CACHE_REDIS_URL is set (shared by every app process), else in each process.
        ROLLUP_MAX_AGE=int(os.environ.get("ROLLUP_MAX_AGE", "300")),
        CACHE_TYPE="RedisCache" if os.environ.get("CACHE_REDIS_URL") else "SimpleCache",
        CACHE_REDIS_URL=os.environ.get("CACHE_REDIS_URL"),
        CACHE_KEY_PREFIX="points:",
        CACHE_DEFAULT_TIMEOUT=300,
        RATELIMIT_LOGIN=os.environ.get("RATELIMIT_LOGIN", "20 per minute;300 per day"),
        RATELIMIT_QR=os.environ.get("RATELIMIT_QR", "60 per minute"),
        RATELIMIT_QR_MISS=os.environ.get("RATELIMIT_QR_MISS", "10 per 10 minutes"),
        RATELIMIT_SELF_REPORT=os.environ.get("RATELIMIT_SELF_REPORT", "10 per hour"),
        # JSON API (issue 8): per bearer token; failed authentications (401) per address.
        RATELIMIT_API=os.environ.get("RATELIMIT_API", "600 per minute"),
        RATELIMIT_API_AUTH_FAIL=os.environ.get("RATELIMIT_API_AUTH_FAIL", "30 per 10 minutes"),
        # Login throttling: this many failures for one account within the window lock it.
        LOGIN_MAX_FAILURES=int(os.environ.get("LOGIN_MAX_FAILURES", "5")),
        LOGIN_FAILURE_WINDOW=int(os.environ.get("LOGIN_FAILURE_WINDOW", "900")),
        LOGIN_LOCK_SECONDS=int(os.environ.get("LOGIN_LOCK_SECONDS", "900")),
        # Logs: "json" (one object a line, for journald / log shippers) or "text".
        LOG_FORMAT=os.environ.get("LOG_FORMAT", "json"),
        LOG_LEVEL=os.environ.get("LOG_LEVEL", "INFO"),
        # Where `flask backup` writes when no path is given.
        BACKUP_DIR=os.environ.get("BACKUP_DIR") or os.path.join(instance, "backups"),
    )
    app.config.update(overrides)
    if not app.config.get("QR_TOKEN_KEY"):
        app.config["QR_TOKEN_KEY"] = app.config["SECRET_KEY"]
