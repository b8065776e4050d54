"""Login, logout and the home page that sends each role to its region."""
from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.accounts import access  # noqa: F401  (registers the user loader)
from app.accounts import credentials
from app.accounts.forms import LoginForm
from app.extensions import db, limiter
from app.logs import log_event
from app.security import rate

bp = Blueprint("accounts", __name__)


def _safe_next(target):
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/"):
        return None
    return target


@bp.route("/")
def home():
    """Send a logged-in user to the page of their region; others to the login page."""
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login"))
    return redirect(url_for("regions.show", region_id=current_user.region_id))


def start_session(user):
    """Log ``user`` in on this browser: a fresh session carrying the account's token."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    login_user(user)
    session[credentials.SESSION_KEY] = credentials.session_token(user)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(rate("RATELIMIT_LOGIN"), methods=["POST"])
def login():
    """The login form; wrong passwords count towards a temporary lock of the account."""
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        result = credentials.attempt_login(form.username.data, form.password.data)
        if result.user is not None:
            start_session(result.user)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")) or url_for("accounts.home"))
        db.session.commit()  # the failure counter and lock
        if result.error == "locked":
            error = _("密码错误次数太多，账号已暂时锁定。请 %(n)s 分钟后再试，或请管理员重置密码。",
                      n=result.minutes)
        elif result.error == "inactive":
            error = _("这个账号已停用，请联系管理员。")
        else:
            error = _("用户名或密码不正确")
    return render_template("accounts/login.html", form=form, error=error)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Log out: ends every session of this account (on every device), not just this one."""
    credentials.revoke_sessions(current_user)
    log_event("logout", target_user_id=current_user.id)
    db.session.commit()
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("accounts.login"))
