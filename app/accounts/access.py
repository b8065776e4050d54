"""Access helpers for views: the current user's scope and permissions."""
from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from app.extensions import db, login_manager


@login_manager.user_loader
def _load_user(user_id):
    from app.accounts.models import User
    try:
        return db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None


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
