"""Web defences in one place, bound by ``create_app`` through ``init_security``:

- security headers and a strict Content-Security-Policy (Flask-Talisman): scripts and styles
  only from our own static files, no inline script, no inline handler, no inline style, no
  framing. HTTPS redirect only when FORCE_HTTPS is set (village installs may be plain HTTP on
  a LAN); the Secure cookie flag follows SESSION_COOKIE_SECURE;
- client addresses behind a reverse proxy (PROXY_COUNT trusted hops, werkzeug's ProxyFix), so
  rate limits and logs see the villager's address, not nginx's;
- rate limits (Flask-Limiter), read from the config at request time (``rate``);
- private pages (``private_page``): no referrer, not indexed, not cached; door-plate pages
  (``qr_capability``) also get rate limits, and their 404s are counted and logged;
- requests carrying NUL bytes in their parameters are refused (400): no database stores
  them and PostgreSQL raises on them.
"""
from flask import abort, current_app, request
from flask_talisman import Talisman
from werkzeug.middleware.proxy_fix import ProxyFix

from app.extensions import limiter

# default-src 'self' and nothing inline. Bootstrap's CSS draws its icons (menu button,
# select arrow) from data: SVGs, hence img-src data:.
CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    # the tablet pages' service worker and web app manifest (issue 8), same origin only
    "worker-src": "'self'",
    "manifest-src": "'self'",
}

PRIVATE_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "Cache-Control": "no-store",
}


def rate(key: str):
    """A rate-limit provider for ``limiter.limit``: the limit string in ``app.config[key]``,
    read at request time (so a deployment, or a test, can change it without a restart)."""
    return lambda: current_app.config[key]


def client_address() -> str:
    """The client's address (after ProxyFix: the one the trusted proxy saw)."""
    return request.remote_addr or "-"


def plain_http_allowed(view):
    """Mark a view as reachable over plain HTTP even with FORCE_HTTPS (health checks from a
    load balancer or systemd on the same machine). Flask-Talisman's per-view option."""
    options = dict(getattr(view, "talisman_view_options", {}))
    options["force_https"] = False
    view.talisman_view_options = options
    return view


def qr_capability(view):
    """Decorate a view reached by a door-plate token (``/h/<token>...``, no login):

    - a private page (``private_page``);
    - RATELIMIT_QR: requests per client address and door plate, shared by every QR page
      of that plate;
    - RATELIMIT_QR_MISS: 404s per client address (unknown, reissued or closed tokens:
      guessing), shared by every QR page, so guessing through one page spends the budget of
      all; once spent, every unknown token answers 429 to that address for a while. A valid
      door-plate token is exempt (``_token_is_valid``): villagers behind the same mobile
      network address as a guesser still reach their own pages;
    - each 404 is logged (``qr_unknown_token``) with the client address and the token's first
      six characters, never the whole token.
    """
    view = _QR_MISS_LIMIT(view)
    view = _QR_LIMIT(view)
    view.private_page = True
    view.qr_capability = True
    return view


def token_key() -> str:
    """Rate-limit key: the door-plate token of the request (one household's budget), for
    villagers' submissions (self-reports, objections), so neighbours behind one mobile
    network address do not share a budget."""
    return "token:" + str((request.view_args or {}).get("token", ""))[:64]


def _404s(response) -> bool:
    return response.status_code == 404


def _token_is_valid() -> bool:
    """True when the request's door-plate token belongs to an active household."""
    from app.households.queries import household_for_token
    return household_for_token(str((request.view_args or {}).get("token", ""))) is not None


def address_and_token_key() -> str:
    """Rate-limit key: the client address and the door-plate token: one household's pages
    from one address (families behind one village Wi-Fi or carrier address each keep their
    own budget; guessing other tokens is RATELIMIT_QR_MISS's job)."""
    return f"{client_address()}|{token_key()}"


_QR_LIMIT = limiter.shared_limit(rate("RATELIMIT_QR"), scope="qr",
                                 key_func=address_and_token_key)
_QR_MISS_LIMIT = limiter.shared_limit(rate("RATELIMIT_QR_MISS"), scope="qr-miss",
                                      deduct_when=_404s, exempt_when=_token_is_valid)
def _submitted(response) -> bool:
    """A villager's form went through (the redirect after it); a refused one (shown again
    with its errors) costs nothing of the budget."""
    return response.status_code in (301, 302, 303)


#: For the POST of villagers' submissions by door-plate token: RATELIMIT_SELF_REPORT per token,
#: counting the submissions that went through (an elderly villager's typing mistakes do not
#: lock the door plate for an hour; every QR page still counts against RATELIMIT_QR).
self_report_limit = limiter.shared_limit(rate("RATELIMIT_SELF_REPORT"), scope="self-report",
                                         key_func=token_key, methods=["POST"],
                                         deduct_when=_submitted)


def private_page(view):
    """Mark a view as private: its responses (including its 404s) get ``no-referrer``,
    ``noindex`` and ``no-store``, so a capability URL never leaks through a Referer header,
    a search engine or a shared cache."""
    view.private_page = True
    return view


def _private_headers(response):
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    if getattr(view, "private_page", False):
        response.headers.update(PRIVATE_HEADERS)
    if getattr(view, "qr_capability", False) and response.status_code == 404:
        from app.logs import log_event
        token = str((request.view_args or {}).get("token", ""))
        log_event("qr_unknown_token", "QR page not found", level=30,
                  client=client_address(), token_prefix=token[:6],
                  token_length=len(token), endpoint=request.endpoint)
    return response


def _refuse_nul_bytes():
    for values in (request.args, request.form):
        for value in values.values():
            if "\x00" in value:
                abort(400)


def init_security(app):
    """Bind the security extensions and hooks to ``app`` (call once, in ``create_app``)."""
    if app.config.get("PROXY_COUNT"):
        n = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)

    # Registered before Talisman's own after_request hook, so it runs after it (Flask runs
    # after_request hooks in reverse order) and a private page's Referrer-Policy wins.
    app.after_request(_private_headers)
    app.before_request(_refuse_nul_bytes)

    # One Talisman per app (its options live on the instance): tests build several apps.
    app.extensions["talisman"] = Talisman(
        app,
        force_https=app.config["FORCE_HTTPS"],
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_http_only=True,
        session_cookie_samesite=app.config["SESSION_COOKIE_SAMESITE"],
        content_security_policy=CSP,
        frame_options="DENY",
        # same-origin, not no-referrer: Flask-WTF checks the Referer of form posts over HTTPS
        referrer_policy="same-origin",
        strict_transport_security=app.config["FORCE_HTTPS"],
        permissions_policy={"browsing-topics": "()", "camera": "()", "microphone": "()",
                            "geolocation": "()"},
    )
    limiter.init_app(app)
