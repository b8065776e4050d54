"""API tokens: create (shown once), revoke, authenticate. Services flush, never commit.

A token is ``vp_`` + 43 URL-safe characters (256 random bits). Only its SHA-256 is stored,
so a copy of the database does not give anyone a working token.
"""
import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select

from app.accounts.models import utcnow
from app.api.models import ApiToken
from app.extensions import db

TOKEN_PREFIX = "vp_"
# last_used_at is written at most this often per token (one UPDATE a minute, not per call)
_TOUCH_EVERY = timedelta(minutes=1)


def token_hash(token: str) -> str:
    """SHA-256 hex digest of ``token`` (what the database keeps)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(user, name: str) -> tuple:
    """Create a token for ``user`` named ``name`` (1-64 characters, stripped).

    Returns ``(ApiToken, token)``: the flushed row and the token text, which is never
    stored and must be shown to the user now. Raises ValueError when the name is blank or
    too long.
    """
    name = (name or "").strip()
    if not name or len(name) > 64:
        raise ValueError("name")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name, prefix=token[:8], token_hash=token_hash(token),
                   created_at=utcnow())
    db.session.add(row)
    db.session.flush()
    return row, token


def revoke_token(row: ApiToken) -> ApiToken:
    """Revoke ``row`` now (idempotent: a revoked token keeps its first revocation time)."""
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        db.session.flush()
    return row


def revoke_tokens_of(user) -> int:
    """Revoke every token of ``user`` not yet revoked (flushed); returns how many."""
    live = db.session.execute(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).scalars().all()
    for row in live:
        revoke_token(row)
    return len(live)


def tokens_of(user) -> list:
    """``user``'s tokens, newest first (a list of ApiToken, revoked ones included)."""
    return db.session.execute(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
    ).scalars().all()


def authenticate(token: str):
    """The (ApiToken, User) for ``token`` when it is known, not revoked, and its user is
    active; else None. Touches ``last_used_at`` (at most once a minute; flushed)."""
    if not token or not 20 <= len(token) <= 128:
        return None
    row = db.session.execute(
        select(ApiToken).where(ApiToken.token_hash == token_hash(token))
    ).scalar_one_or_none()
    if row is None or row.revoked_at is not None or not row.user.is_active:
        return None
    now = utcnow()
    last = row.last_used_at
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=now.tzinfo)
    if last is None or now - last >= _TOUCH_EVERY:
        row.last_used_at = now
        db.session.flush()
    return row, row.user
