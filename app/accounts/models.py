"""Users. Passwords are stored as salted hashes (werkzeug's scrypt)."""
from datetime import datetime, timezone

from flask import current_app
from flask_login import UserMixin
from werkzeug.security import check_password_hash, generate_password_hash

from app.accounts.roles import ROLE_LABELS, role_allows
from app.extensions import db


def utcnow():
    """The current UTC time as an aware datetime."""
    return datetime.now(timezone.utc)


class User(UserMixin, db.Model):
    """A person who logs in. ``region`` is the scope of ``role``."""

    __tablename__ = "user_account"

    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(64), nullable=False, unique=True)
    display_name = db.Column(db.String(64), nullable=False)
    password_hash = db.Column(db.String(255), nullable=False)
    role = db.Column(db.String(32), nullable=False)
    region_id = db.Column(db.Integer, db.ForeignKey("region.id"), nullable=False, index=True)
    phone = db.Column(db.String(32))
    # The cadre's own household, if they live in the village: nobody scores their own family.
    household_id = db.Column(db.Integer, db.ForeignKey("household.id"))
    is_active_flag = db.Column("is_active", db.Boolean, nullable=False, default=True)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)

    region = db.relationship("Region")

    def set_password(self, password: str) -> None:
        """Store a salted hash of ``password`` (config PASSWORD_HASH_METHOD, scrypt by
        default); the password itself is never kept."""
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        """True when ``password`` matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self):
        return bool(self.is_active_flag)

    def can(self, perm: str) -> bool:
        """True when this user's role carries ``perm``."""
        return role_allows(self.role, perm)

    @property
    def role_label(self):
        return ROLE_LABELS.get(self.role, self.role)
