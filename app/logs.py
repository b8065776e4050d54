"""Structured logs: one JSON object a line on stderr (journald, or any log shipper, reads
it), or plain text with LOG_FORMAT=text.

Security-relevant events go through ``log_event``: a stable ``event`` name plus fields, and,
inside a request, the client address, method, path and user id. Never log a password, a
session, a whole QR token or a household's personal data.
"""
import logging
import re
import sys

from flask import has_request_context, request
from pythonjsonlogger.json import JsonFormatter

EVENTS = logging.getLogger("app.events")
_HANDLER_MARK = "_points_handler"
_TOKEN = re.compile(r"^/h/([A-Za-z0-9_-]{1,6})[A-Za-z0-9_-]*")


_TOKEN_ANYWHERE = re.compile(r"(/h/[A-Za-z0-9_-]{6})[A-Za-z0-9_-]{10,}")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def redact_text(text: str) -> str:
    """``text`` with every door-plate token in it cut short (for messages that quote a URL,
    like Flask's "Exception on /h/<token> [GET]" or the development server's request lines)."""
    return _TOKEN_ANYWHERE.sub(lambda m: m.group(1) + "…", text)


def redact_path(path: str) -> str:
    """``path`` with a door-plate token cut to its first six characters: the whole token is a
    key to the household's page and does not belong in logs ("/h/AbCdEf…/notice")."""
    return _TOKEN.sub(lambda m: f"/h/{m.group(1)}…", path or "")


class _RequestContext(logging.Filter):
    """Adds the request's client address, method, path and user id to every record (unless
    the record carries its own), and cuts door-plate tokens short in the message."""

    def filter(self, record):
        message = record.getMessage()
        if "\x1b[" in message:  # the development server colours its request lines
            message = _ANSI.sub("", message)
            record.msg, record.args = message, None
        if "/h/" in message:
            record.msg, record.args = redact_text(message), None
        if has_request_context():
            from flask_login import current_user
            context = {"client": request.remote_addr, "method": request.method,
                       "path": redact_path(request.path)}
            try:
                context["user_id"] = (current_user.id if current_user.is_authenticated
                                      else None)
            except Exception:  # the user loader itself failed; keep logging
                context["user_id"] = None
            for key, value in context.items():  # an event's own fields win
                if getattr(record, key, None) is None:
                    setattr(record, key, value)
        return True


def make_handler(fmt: str = "json", stream=None) -> logging.Handler:
    """A handler writing to ``stream`` (stderr by default) in ``fmt`` ("json" or "text")."""
    handler = logging.StreamHandler(stream or sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter(
            "{levelname}{name}{message}", style="{", rename_fields={"levelname": "level",
                                                                    "name": "logger"},
            timestamp="ts", json_ensure_ascii=False))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(_RequestContext())
    return handler


def configure_logging(app):
    """Send the app's logs (and warnings from libraries) to stderr in LOG_FORMAT.

    Under TESTING no handler is attached (pytest's caplog collects the records)."""
    root = logging.getLogger()
    root.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    if not app.config.get("TESTING"):
        handler = make_handler(app.config.get("LOG_FORMAT", "json"))
        setattr(handler, _HANDLER_MARK, True)
        for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
            root.removeHandler(old)
        root.addHandler(handler)
    # Flask's own stderr handler would print every app.logger line a second time.
    from flask.logging import default_handler
    app.logger.removeHandler(default_handler)


def log_event(event: str, message: str = "", level: int = logging.INFO, **fields):
    """Log a security or operations event: ``event`` is a stable name ("login_failed",
    "qr_unknown_token", ...), ``fields`` are extra JSON keys."""
    EVENTS.log(level, message or event, extra={"event": event, **fields})
