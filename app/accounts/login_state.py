"""Per-account login state, kept apart from ``User``: the session token that every session
of the account carries (rotated to end them all), and the failed-login counter and lock."""
from app.extensions import db


class LoginState(db.Model):
    """One row per user, made on first need (``accounts.credentials.login_state``).

    ``session_token``: 128 random bits stored in each session at login; the user loader
    accepts a session only while it matches, so rotating it (logout, password change or
    reset, deactivation) ends every session of the account at once, in every app process.
    ``failed_logins`` counts failures since ``first_failed_at`` (a sliding window);
    ``locked_until`` refuses every login, even a correct one, until then.
    """

    __tablename__ = "user_login_state"

    user_id = db.Column(db.Integer, db.ForeignKey("user_account.id"), primary_key=True)
    session_token = db.Column(db.String(64), nullable=False)
    failed_logins = db.Column(db.Integer, nullable=False, default=0)
    first_failed_at = db.Column(db.DateTime(timezone=True))
    locked_until = db.Column(db.DateTime(timezone=True))
    password_changed_at = db.Column(db.DateTime(timezone=True))
    last_login_at = db.Column(db.DateTime(timezone=True))

    user = db.relationship("User", backref=db.backref("login_state", uselist=False))
