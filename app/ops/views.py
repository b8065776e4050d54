"""``/healthz``: is the app up and its database reachable? For load balancers, systemd
watchdogs and monitoring. Says nothing else (no version, no counts, no error text)."""
from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db, limiter
from app.logs import log_event
from app.security import plain_http_allowed

bp = Blueprint("ops", __name__)


@bp.route("/healthz")
@limiter.exempt
@plain_http_allowed
def healthz():
    """200 {"status": "ok"} when the database answers, else 503 {"status": "unavailable"}."""
    try:
        db.session.execute(text("SELECT 1"))
        status, code = "ok", 200
    except SQLAlchemyError as exc:
        db.session.rollback()
        log_event("health_db_unreachable", error=type(exc).__name__, level=40)
        status, code = "unavailable", 503
    resp = jsonify(status=status)
    resp.status_code = code
    resp.headers["Cache-Control"] = "no-store"
    return resp
