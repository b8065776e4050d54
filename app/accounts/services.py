"""Writes to accounts. Services flush; the caller commits."""
from app.accounts.models import User
from app.accounts.roles import ROLES
from app.extensions import db


def create_user(*, username: str, password: str, display_name: str, role: str, region,
                phone: str | None = None) -> User:
    """Create a user holding ``role`` over ``region``.

    Raises ValueError when the role is unknown or ``region`` is not of the role's level
    (a village scorer must be scoped to a village, a township auditor to a township...).
    """
    spec = ROLES.get(role)
    if spec is None:
        raise ValueError(f"unknown role {role!r}")
    if region.level != spec["level"]:
        raise ValueError(f"role {role} is held over a {spec['level']}, not a {region.level}")
    user = User(username=username, display_name=display_name, role=role, region=region,
                phone=phone)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(username: str, password: str):
    """The active User with these credentials, or None. Goes through the login throttle
    (accounts.credentials.attempt_login), so failures count towards the lock (flushed)."""
    from app.accounts.credentials import attempt_login
    return attempt_login(username, password).user
