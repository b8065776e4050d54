"""API tokens and the body fingerprints behind idempotent API posts."""
from app.accounts.models import utcnow
from app.extensions import db


class ApiToken(db.Model):
    """A bearer token of a user account: it acts as that user (same role, region and
    permissions). Only ``token_hash`` (SHA-256 hex of the token) is stored; the token itself
    is shown once, at creation. ``prefix`` (first 8 characters) lets the owner tell tokens
    apart. ``last_used_at`` and ``revoked_at`` are UTC."""

    __tablename__ = "api_token"

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user_account.id"), nullable=False,
                        index=True)
    name = db.Column(db.String(64), nullable=False)
    prefix = db.Column(db.String(16), nullable=False)
    token_hash = db.Column(db.String(64), nullable=False, unique=True)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    last_used_at = db.Column(db.DateTime(timezone=True))
    revoked_at = db.Column(db.DateTime(timezone=True))

    user = db.relationship("User")

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class ApiPosting(db.Model):
    """The request behind a ledger entry posted through the API: ``body_hash`` is the
    SHA-256 of the canonical JSON body, so a repeat of the same Idempotency-Key with another
    body is refused instead of answered with the first entry."""

    __tablename__ = "api_posting"

    entry_id = db.Column(db.Integer, db.ForeignKey("ledger_entry.id"), primary_key=True)
    token_id = db.Column(db.Integer, db.ForeignKey("api_token.id"), nullable=False)
    body_hash = db.Column(db.String(64), nullable=False)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
