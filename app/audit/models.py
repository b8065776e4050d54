"""The audit log (操作日志): one row per administrative action, append-only."""
from app.accounts.models import utcnow
from app.extensions import db


class AuditLog(db.Model):
    """An administrative action: who (``actor_id``; None for the command line), when (``at``,
    UTC), what (``action``, a code such as ``roster.import``; labels in
    ``audit.services.ACTION_LABELS``), on which object (``target_type`` = its table name,
    ``target_id``), and the state ``before`` and ``after`` it as JSON (None when not
    applicable). ``region_id`` is the region the action concerns (a village for a roster
    import); the log is read through the region scope like every other scoped table.

    Rows are only ever added (``audit.services.log_action``), never edited or deleted.
    """

    __tablename__ = "audit_log"
    __table_args__ = (db.Index("ix_audit_log_region_at", "region_id", "at"),)

    id = db.Column(db.Integer, primary_key=True)
    actor_id = db.Column(db.Integer, db.ForeignKey("user_account.id"), index=True)
    region_id = db.Column(db.Integer, db.ForeignKey("region.id"), nullable=False)
    action = db.Column(db.String(64), nullable=False, index=True)
    target_type = db.Column(db.String(64))
    target_id = db.Column(db.Integer)
    before = db.Column(db.JSON(none_as_null=True))
    after = db.Column(db.JSON(none_as_null=True))
    at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)

    actor = db.relationship("User")
    region = db.relationship("Region")
