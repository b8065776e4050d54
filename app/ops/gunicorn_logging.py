"""Gunicorn's access log as JSON lines, with door-plate tokens cut short.

Named by ``logger_class`` in gunicorn.conf.py. A request to ``/h/<token>...`` is logged as
``/h/<first six characters>…``: the whole token is a key to the household's page and does
not belong in logs.
"""
import json
import time

from gunicorn.glogging import Logger

from app.logs import redact_path


class JsonAccessLogger(Logger):
    """Gunicorn logger writing one JSON object per request to the access log."""

    def access(self, resp, req, environ, request_time):
        """Log one request: time, client, method, path (token redacted), status, size,
        duration in milliseconds, user agent. Query strings are left out."""
        if not self.access_log_enabled:
            return
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        line = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "level": "INFO",
            "logger": "gunicorn.access",
            "event": "request",
            # the address nginx put last (the client's own X-Forwarded-For is not trusted)
            "client": environ.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
            or environ.get("REMOTE_ADDR", "-"),
            "method": environ.get("REQUEST_METHOD"),
            "path": redact_path(environ.get("PATH_INFO", "")),
            "status": int(status),
            "bytes": getattr(resp, "sent", None),
            "ms": round(request_time.total_seconds() * 1000, 1),
            "user_agent": environ.get("HTTP_USER_AGENT", "")[:200],
        }
        try:
            self.access_log.info(json.dumps(line, ensure_ascii=False))
        except Exception:  # never let logging break a response
            self.exception("access log failed")
