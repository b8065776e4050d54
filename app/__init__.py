"""乡村治理积分制 — village points system. ``create_app`` builds the Flask application."""
import os

from flask import Flask, has_request_context, render_template, request, session
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.config import load_config
from app.extensions import babel, cache, csrf, db, login_manager, migrate

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _select_locale():
    """Locale: ?lang= (remembered in the session), else zh_CN. English is the second locale."""
    if not has_request_context():
        return "zh_CN"
    lang = request.args.get("lang")
    if lang in ("zh_CN", "en"):
        session["lang"] = lang
    return session.get("lang", "zh_CN")


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_conn, _record):
    """On SQLite: enforce foreign keys, WAL, and wait for locks instead of failing."""
    if type(dbapi_conn).__module__.startswith("sqlite3"):
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.close()
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see below)


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn):
    """On SQLite, start every transaction with BEGIN IMMEDIATE: writers queue on the lock
    instead of deadlocking on an upgrade from a read lock (SQLAlchemy's documented recipe)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_app(config=None):
    """Build the app. ``config`` (a dict) overrides settings read from the environment."""
    app = Flask(__name__, instance_path=os.path.join(PROJECT_ROOT, "instance"),
                template_folder=os.path.join(PROJECT_ROOT, "templates"))
    os.makedirs(app.instance_path, exist_ok=True)
    load_config(app, config)

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(PROJECT_ROOT, "migrations"),
                     render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None
    csrf.init_app(app)
    cache.init_app(app)
    babel.init_app(app, locale_selector=_select_locale,
                   default_translation_directories=os.path.join(
                       os.path.dirname(__file__), "translations"))
    from app.logs import configure_logging
    from app.security import init_security
    configure_logging(app)
    init_security(app)

    from app import models  # noqa: F401  (registers every table with the metadata)
    from app.ids import IdConverter
    app.url_map.converters["int"] = IdConverter   # before the routes: ids past MAX_ID 404
    _register_blueprints(app)

    from app.cli import register_cli
    register_cli(app)
    _register_template_helpers(app)
    _register_errors(app)
    return app


def _register_blueprints(app):
    """Attach every feature's blueprint."""
    from app.accounts.manage_views import bp as users_bp
    from app.accounts.views import bp as accounts_bp
    from app.api.token_views import bp as api_tokens_bp
    from app.api.views import bp as api_bp
    from app.audit.views import bp as audit_bp
    from app.boards.views import bp as boards_bp
    from app.evidence.views import bp as evidence_bp
    from app.honours import public_views as honours_public, star_views, views as honours_views
    from app.households.views import bp as households_bp
    from app.ops.views import bp as ops_bp
    from app.public.views import bp as public_bp
    from app.regions.views import bp as regions_bp
    from app.reports.views import bp as reports_bp
    from app.review.channel_views import bp as channels_bp
    from app.review.public_views import bp as villager_bp
    from app.review.views import bp as review_bp
    from app.rewards.views import bp as rewards_bp
    from app.rules.uses_views import bp as uses_bp
    from app.rules.views import bp as rules_bp
    from app.scoring.views import bp as scoring_bp
    from app.tablet.views import bp as tablet_bp
    for bp in (accounts_bp, users_bp, regions_bp, households_bp, rules_bp, uses_bp,
               scoring_bp, tablet_bp, review_bp, villager_bp, channels_bp, evidence_bp,
               boards_bp, honours_views.bp, star_views.bp, honours_public.bp, rewards_bp,
               reports_bp, audit_bp, public_bp, ops_bp, api_bp, api_tokens_bp):
        app.register_blueprint(bp)


def _register_template_helpers(app):
    from app.points import fmt_points
    from app.scoring.periods import to_local

    app.jinja_env.filters["points"] = fmt_points
    app.jinja_env.filters["local_time"] = lambda ts: to_local(ts).strftime("%Y-%m-%d %H:%M")
    app.jinja_env.filters["month_short"] = _month_short
    from app.scoring.periods import local_today
    app.jinja_env.globals["local_today"] = local_today   # date fields' max: not the future

    @app.context_processor
    def _globals():
        from flask_babel import get_locale
        locale = get_locale()
        return {"current_user": current_user,
                "html_lang": "en" if locale and locale.language == "en" else "zh-CN"}


def _month_short(month) -> str:
    """Month number 1-12 (int or "MM", or a "YYYY-MM" label) as the locale writes it short:
    "11月" in Chinese, "Nov" in English (Babel's CLDR names)."""
    from babel.dates import get_month_names
    from flask_babel import get_locale
    number = int(str(month)[-2:])
    return get_month_names("abbreviated", locale=get_locale() or "zh_CN")[number]


def _upload_limit_text(app) -> str:
    size = app.config.get("MAX_CONTENT_LENGTH") or 0
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g} MB"
    return f"{max(1, size // 1024)} KB"


def _register_errors(app):
    for code in (400, 403, 404, 405, 413, 429, 500):
        def handler(err, code=code):
            if code in (413, 500):
                db.session.rollback()
            if request.path.startswith("/api/"):  # the JSON API answers in JSON
                from app.api.errors import http_error
                return http_error(err, code)
            # a door-plate page's error leads back to the household's page, not the login;
            # an unknown plate asks for a new scan
            token = ((request.view_args or {}).get("token")
                     if request.path.startswith("/h/") else None)
            if token:
                from app.households.queries import household_for_token
                plate = "known" if household_for_token(str(token)) is not None else "unknown"
            else:
                plate = None
            return render_template("errors.html", code=code, token=token, plate=plate,
                                   max_upload=_upload_limit_text(app)), code
        app.register_error_handler(code, handler)
