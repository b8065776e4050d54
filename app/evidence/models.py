"""Evidence photos attached to entries, objections and self-reports."""
from app.accounts.models import utcnow
from app.extensions import db


class Evidence(db.Model):
    """A photo, re-encoded as JPEG without metadata. Files live under
    ``instance/evidence/<village id>/<sha256>.jpg`` (and ``..._thumb.jpg``); ``sha256`` is of
    the stored JPEG, so the ledger hash chain covers the picture itself."""

    __tablename__ = "evidence"

    id = db.Column(db.Integer, primary_key=True)
    village_id = db.Column(db.Integer, db.ForeignKey("region.id"), nullable=False, index=True)
    sha256 = db.Column(db.String(64), nullable=False)
    width = db.Column(db.Integer, nullable=False)
    height = db.Column(db.Integer, nullable=False)
    size_bytes = db.Column(db.Integer, nullable=False)
    uploaded_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    uploaded_by_id = db.Column(db.Integer, db.ForeignKey("user_account.id"))
