"""Helpers shared by the API tests: tokens for the world's users."""
from app.api.tokens import create_token
from app.extensions import db


def bearer(world, username="scorer", name="平板") -> dict:
    """Authorization headers with a fresh token of ``username`` (committed)."""
    _row, token = create_token(world["users"][username], name)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}
