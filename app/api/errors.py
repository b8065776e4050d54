"""JSON errors of the API: ``{"error": {"code", "message" (Chinese), "field"}}``.

``ApiError`` is raised by the API's code; HTTP errors (abort(404) from the scoped lookups,
429 from Flask-Limiter, 405...) and engine refusals are turned into the same shape.
"""
from flask import jsonify
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from app.extensions import db
from app.i18n import refusal_text

# Messages of HTTP errors (Chinese msgids).
_HTTP = {
    400: ("bad_request", _l("请求有误")),
    401: ("unauthorized", _l("需要有效的 API 令牌（Authorization: Bearer <令牌>）")),
    403: ("forbidden", _l("当前账号没有这个权限")),
    404: ("not_found", _l("没有找到")),
    405: ("method_not_allowed", _l("不支持这个请求方法")),
    409: ("conflict", _l("请求冲突，请稍后重试")),
    413: ("too_large", _l("请求内容太大")),
    415: ("unsupported_media_type", _l("请求内容须为 JSON")),
    422: ("unprocessable", _l("无法处理这个请求")),
    429: ("rate_limited", _l("请求太频繁，请稍后再试")),
    500: ("server_error", _l("服务器出错了，请稍后再试")),
}

# Which request field an engine refusal is about (rules.engine.Refusal codes).
REFUSAL_FIELD = {"out_of_range": "points", "bad_points": "points", "fixed_points": "points",
                 "bad_problems": "problems", "bad_units": "units", "bad_tier": "tier",
                 "bad_bonus": "bonus", "reference_required": "reference",
                 "member_required": "member", "bad_quantity": "quantity",
                 "future_date": "deed_date", "no_rulebook": "deed_date",
                 "item_not_in_force": "item_id", "once_only": "item_id",
                 "reason_required": "reason", "bad_key": "Idempotency-Key",
                 "key_reused": "Idempotency-Key"}


class ApiError(Exception):
    """An API error: HTTP ``status``, stable ``code``, Chinese ``message``, and the request
    ``field`` it concerns (or None)."""

    def __init__(self, status: int, code: str, message, field: str | None = None):
        super().__init__(str(message))
        self.status, self.code, self.message, self.field = status, code, message, field


def error_response(status: int, code: str, message, field=None, headers=None):
    """The JSON error response."""
    resp = jsonify({"error": {"code": code, "message": str(message), "field": field}})
    resp.status_code = status
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def http_error(err, status: int | None = None):
    """JSON for an HTTPException (or a plain exception taken as a 500)."""
    status = status or getattr(err, "code", None) or 500
    if status >= 500:
        db.session.rollback()
    code, message = _HTTP.get(status, ("error", _("请求有误")))
    headers = {}
    if isinstance(err, HTTPException):
        headers = {k: v for k, v in err.get_headers() if k.lower() in ("allow", "retry-after")}
    return error_response(status, code, message, headers=headers)


def register(bp):
    """Attach the JSON error handlers to the API blueprint ``bp`` (code-specific handlers,
    so they win over the app's HTML ones for requests routed to the API)."""
    from app.rules.engine import Refusal

    @bp.errorhandler(ApiError)
    def _api_error(err):
        db.session.rollback()
        return error_response(err.status, err.code, err.message, err.field)

    @bp.errorhandler(Refusal)
    def _refusal(err):
        db.session.rollback()
        return error_response(422, err.code, refusal_text(err), REFUSAL_FIELD.get(err.code))

    for status in _HTTP:
        bp.register_error_handler(status, http_error)
