"""Bearer-token authentication and rate limits of the API.

Only ``Authorization: Bearer <token>`` authenticates: a session cookie alone is refused
(401), so the API needs no CSRF token and a page on another site can never call it with a
villager cadre's cookie. The token acts as its user: same role, region and permissions.
"""
import hashlib

from flask import current_app, g, request
from flask_babel import gettext as _

from app.api.errors import ApiError
from app.extensions import db, limiter
from app.security import client_address, rate


def bearer_token() -> str | None:
    """The token of the request's ``Authorization: Bearer`` header, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def api_rate_key() -> str:
    """Rate-limit key: the bearer token (hashed; one budget per integration or tablet),
    else the client address."""
    token = bearer_token()
    if token:
        return "api-token:" + hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()[:32]
    return "api-ip:" + client_address()


def _is_401(response) -> bool:
    return response.status_code == 401


#: RATELIMIT_API per token (or address); RATELIMIT_API_AUTH_FAIL: 401s per client address,
#: so guessing tokens is slow.
api_limit = limiter.shared_limit(rate("RATELIMIT_API"), scope="api", key_func=api_rate_key)
auth_fail_limit = limiter.shared_limit(rate("RATELIMIT_API_AUTH_FAIL"), scope="api-auth-fail",
                                       key_func=client_address, deduct_when=_is_401)


def authenticate_request():
    """Blueprint ``before_request``: set ``g.api_token`` and ``g.api_user`` from the bearer
    token, or raise ApiError(401). Views marked ``public`` (the document) pass through.
    A token's ``last_used_at`` is committed here, apart from the request's own work."""
    from app.api.tokens import authenticate
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, "api_public", False):
        return None
    found = authenticate(bearer_token() or "")
    if found is None:
        raise ApiError(401, "unauthorized",
                       _("需要有效的 API 令牌（Authorization: Bearer <令牌>）"))
    g.api_token, g.api_user = found
    db.session.commit()   # keeps last_used_at even when the request itself fails
    return None


def require(perm: str):
    """Raise ApiError(403) unless the token's user has ``perm`` (accounts.roles)."""
    if not g.api_user.can(perm):
        raise ApiError(403, "forbidden", _("当前账号没有这个权限"))


def scope():
    """The region the token's user may see (as ``accounts.access.scope`` for the web)."""
    return g.api_user.region
