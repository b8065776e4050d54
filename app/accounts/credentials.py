"""Logins, sessions and passwords: the writes behind the login form, logout, password
change and reset, and account deactivation. Services flush; the caller commits.

Login throttling: LOGIN_MAX_FAILURES wrong passwords for one account within
LOGIN_FAILURE_WINDOW seconds lock it for LOGIN_LOCK_SECONDS; while locked, even the right
password is refused. (Rate limits per client address are separate: app.security.)

Sessions: each session carries the account's ``LoginState.session_token``; the user loader
(``accounts.access``) accepts a session only while the token matches. ``revoke_sessions``
rotates it: every session of the account ends, in every app process.
"""
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from app.accounts.login_state import LoginState
from app.accounts.models import User
from app.extensions import db
from app.logs import log_event

SESSION_KEY = "_sv"


def utcnow() -> datetime:
    """The current UTC time (tests replace this to move the clock)."""
    return datetime.now(timezone.utc)


def aware(ts):
    """``ts`` as an aware UTC datetime (SQLite hands back naive ones)."""
    if ts is None:
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)


def login_state(user: User, *, for_update: bool = False) -> LoginState:
    """The LoginState of ``user``, created (flushed) when it has none yet.

    ``for_update`` locks the row (PostgreSQL) so concurrent failed logins count exactly."""
    stmt = select(LoginState).where(LoginState.user_id == user.id)
    if for_update:
        stmt = stmt.with_for_update()
    state = db.session.execute(stmt).scalar_one_or_none()
    if state is None:
        try:  # two first logins of one account at once: the second reads the first's row
            with db.session.begin_nested():
                state = LoginState(user_id=user.id, session_token=secrets.token_hex(16),
                                   failed_logins=0)
                db.session.add(state)
        except IntegrityError:
            state = db.session.execute(stmt).scalar_one()
    return state


def session_token(user: User) -> str:
    """The token a new session of ``user`` carries."""
    return login_state(user).session_token


def session_is_current(user: User, token) -> bool:
    """True when ``token`` (from a session) is ``user``'s current session token."""
    state = db.session.get(LoginState, user.id)
    if state is None or not isinstance(token, str):
        return False
    return hmac.compare_digest(state.session_token, token)


def revoke_sessions(user: User) -> str:
    """End every session of ``user`` (rotate the token); return the new token."""
    state = login_state(user)
    state.session_token = secrets.token_hex(16)
    db.session.flush()
    return state.session_token


@dataclass
class LoginResult:
    """What a login attempt came to: ``user`` when it succeeded; otherwise ``error`` is
    "invalid" (unknown user or wrong password), "inactive" or "locked" (``minutes`` left)."""

    user: User | None = None
    error: str | None = None
    minutes: int = 0


_DUMMY_HASHES = {}


def _spend_a_hash(password) -> None:
    """Check ``password`` against a throwaway hash made with the configured method, so an
    unknown username takes as long to refuse as a known one with a wrong password."""
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    if method not in _DUMMY_HASHES:
        _DUMMY_HASHES[method] = generate_password_hash(secrets.token_hex(8), method=method)
    check_password_hash(_DUMMY_HASHES[method], password or "")


def _minutes_left(until, now) -> int:
    return max(1, math.ceil((until - now).total_seconds() / 60))


def attempt_login(username: str, password: str) -> LoginResult:
    """Check a login and record its outcome (failure counter, lock, last login).

    Unknown usernames are refused like wrong passwords and counted only by the per-address
    rate limit; they are logged without the name (people type passwords into it)."""
    cfg = current_app.config
    now = utcnow()
    username = (username or "").strip()
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        _spend_a_hash(password)  # as long as a wrong password: no telling names apart
        log_event("login_failed", reason="unknown_user")
        return LoginResult(error="invalid")
    state = login_state(user, for_update=True)
    locked_until = aware(state.locked_until)
    if locked_until and locked_until > now:
        log_event("login_refused_locked", target_user_id=user.id)
        return LoginResult(error="locked", minutes=_minutes_left(locked_until, now))
    if user.check_password(password or ""):
        if not user.is_active:
            log_event("login_refused_inactive", target_user_id=user.id)
            return LoginResult(error="inactive")
        state.failed_logins, state.first_failed_at, state.locked_until = 0, None, None
        state.last_login_at = now
        db.session.flush()
        log_event("login", target_user_id=user.id)
        return LoginResult(user=user)
    first = aware(state.first_failed_at)
    if first is None or now - first > timedelta(seconds=cfg["LOGIN_FAILURE_WINDOW"]):
        state.failed_logins, state.first_failed_at = 1, now
    else:
        state.failed_logins += 1
    if state.failed_logins >= cfg["LOGIN_MAX_FAILURES"]:
        until = now + timedelta(seconds=cfg["LOGIN_LOCK_SECONDS"])
        state.locked_until, state.failed_logins, state.first_failed_at = until, 0, None
        db.session.flush()
        log_event("account_locked", target_user_id=user.id,
                  lock_seconds=cfg["LOGIN_LOCK_SECONDS"])
        return LoginResult(error="locked", minutes=_minutes_left(until, now))
    db.session.flush()
    log_event("login_failed", reason="bad_password", target_user_id=user.id,
              failures=state.failed_logins)
    return LoginResult(error="invalid")


def is_locked(user: User) -> bool:
    """True while ``user`` is locked out after too many failed logins."""
    state = db.session.get(LoginState, user.id)
    until = aware(state.locked_until) if state else None
    return bool(until and until > utcnow())


def set_password(user: User, password: str, *, by: User | None = None) -> int:
    """Give ``user`` a new password, end all their sessions and revoke all their API tokens
    (flushed); returns how many tokens were revoked.

    ``by`` is the admin resetting it (None: the user changed it): a reset also lifts a lock.
    The caller has checked the password rules (``accounts.passwords``)."""
    from app.api.tokens import revoke_tokens_of
    user.set_password(password)
    state = login_state(user)
    state.password_changed_at = utcnow()
    if by is not None:
        state.failed_logins, state.first_failed_at, state.locked_until = 0, None, None
    revoke_sessions(user)
    revoked = revoke_tokens_of(user)
    log_event("password_reset" if by is not None else "password_changed",
              target_user_id=user.id, by_user_id=by.id if by is not None else user.id,
              api_tokens_revoked=revoked)
    return revoked


def set_active(user: User, active: bool, *, by: User) -> None:
    """Activate or deactivate ``user`` (flushed); deactivating ends all their sessions."""
    user.is_active_flag = bool(active)
    if not active:
        revoke_sessions(user)
    db.session.flush()
    log_event("account_activated" if active else "account_deactivated",
              target_user_id=user.id, by_user_id=by.id)
