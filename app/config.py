"""Settings read from the environment, with defaults for a laptop or a village office PC.

Defaults: SQLite under ``instance/``, time zone Asia/Shanghai, locale zh_CN.
"""
import os
import secrets
from pathlib import Path


def _instance_secret(instance_path: str) -> str:
    """Return a per-installation secret kept in ``instance/secret_key`` (created on first use)."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


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
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
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
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.config.update(overrides)
    if not app.config.get("QR_TOKEN_KEY"):
        app.config["QR_TOKEN_KEY"] = app.config["SECRET_KEY"]
