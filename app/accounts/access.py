"""Access helpers for views: the current user's scope and permissions."""
from functools import wraps

from flask import abort, session
from flask_login import current_user, login_required

from app.extensions import db, login_manager


@login_manager.user_loader
def _load_user(user_id):
    """The session's user, while the account is active and the session's token is the
    account's current one (see accounts.credentials: logout, a password change or reset and
    deactivation rotate it)."""
    from sqlalchemy import select
    from sqlalchemy.orm import joinedload

    from app.accounts.credentials import SESSION_KEY, session_is_current
    from app.accounts.login_state import LoginState
    from app.accounts.models import User
    try:
        uid = int(user_id)
    except (TypeError, ValueError):
        return None
    # one query for the account, its scope and its login state (issue 10: three before);
    # session_is_current then finds the LoginState in the identity map
    row = db.session.execute(
        select(User, LoginState).outerjoin(LoginState, LoginState.user_id == User.id)
        .options(joinedload(User.region)).where(User.id == uid)).first()
    user = row[0] if row else None
    if user is None or not user.is_active or not session_is_current(user,
                                                                    session.get(SESSION_KEY)):
        return None
    return user


def scope():
    """The Region the logged-in user may see (everything at or below it)."""
    return current_user.region


def require(perm: str):
    """View decorator: login required, then ``perm`` (403 when the role lacks it).

    Scoping is separate: objects outside the user's region are 404 (regions.queries).
    """
    def deco(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.can(perm):
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return deco
