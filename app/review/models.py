"""Objections (异议) to entries and self-reports (申报) of deeds by villagers."""
from app.accounts.models import utcnow
from app.extensions import db
from app.rules.models import POINTS

OBJECTION_OUTCOMES = ("entry_upheld", "adjusted", "reversed")


class Objection(db.Model):
    """An objection to one entry during its notice period, by a villager (through a
    household's QR page: ``by_household_id``) or a cadre (``by_user_id``). While open, the
    entry is held. ``outcome``: entry_upheld (维持), adjusted (调整), reversed (撤销)."""

    __tablename__ = "objection"

    id = db.Column(db.Integer, primary_key=True)
    entry_id = db.Column(db.Integer, db.ForeignKey("ledger_entry.id"), nullable=False,
                         index=True)
    village_id = db.Column(db.Integer, db.ForeignKey("region.id"), nullable=False, index=True)
    by_household_id = db.Column(db.Integer, db.ForeignKey("household.id"), index=True)
    by_user_id = db.Column(db.Integer, db.ForeignKey("user_account.id"))
    text = db.Column(db.Text, nullable=False)
    evidence_id = db.Column(db.Integer, db.ForeignKey("evidence.id"))
    raised_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    status = db.Column(db.String(16), nullable=False, default="open")
    outcome = db.Column(db.String(16))
    adjusted_points = db.Column(POINTS)
    resolution = db.Column(db.Text)
    resolved_by_id = db.Column(db.Integer, db.ForeignKey("user_account.id"))
    resolved_at = db.Column(db.DateTime(timezone=True))
    idempotency_key = db.Column(db.String(64), unique=True)

    entry = db.relationship("LedgerEntry")
    by_household = db.relationship("Household")
    by_user = db.relationship("User", foreign_keys=[by_user_id])
    resolved_by = db.relationship("User", foreign_keys=[resolved_by_id])
    evidence = db.relationship("Evidence")


class SelfReport(db.Model):
    """A deed brought to the review queue; a cadre accepts it (it becomes an entry,
    ``entry_id``) or declines it with a reason. ``household_id`` is the household whose deed
    it is. ``channel`` (RULE-FEATURES row 22, ``app.rules.uses``): ``self`` (the household
    declares it from its QR page), ``beneficiary`` (the person helped declares it from their
    own QR page: ``declared_by_household_id``), ``peer`` (another household reports it, good
    or bad: ``declared_by_household_id``), ``volunteer`` (a 志愿记录员 records it:
    ``declared_by_user_id``)."""

    __tablename__ = "self_report"

    id = db.Column(db.Integer, primary_key=True)
    household_id = db.Column(db.Integer, db.ForeignKey("household.id"), nullable=False,
                             index=True)
    village_id = db.Column(db.Integer, db.ForeignKey("region.id"), nullable=False, index=True)
    item_id = db.Column(db.Integer, db.ForeignKey("rule_item.id"), nullable=False)
    deed_date = db.Column(db.Date, nullable=False)
    description = db.Column(db.Text, nullable=False)
    evidence_id = db.Column(db.Integer, db.ForeignKey("evidence.id"))
    submitted_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    status = db.Column(db.String(16), nullable=False, default="pending")
    decision_reason = db.Column(db.Text)
    decided_by_id = db.Column(db.Integer, db.ForeignKey("user_account.id"))
    decided_at = db.Column(db.DateTime(timezone=True))
    entry_id = db.Column(db.Integer, db.ForeignKey("ledger_entry.id"))
    idempotency_key = db.Column(db.String(64), unique=True)
    channel = db.Column(db.String(16), nullable=False, default="self",
                        server_default="self")
    declared_by_household_id = db.Column(db.Integer, db.ForeignKey("household.id"),
                                         index=True)
    declared_by_user_id = db.Column(db.Integer, db.ForeignKey("user_account.id"))

    household = db.relationship("Household", foreign_keys=[household_id])
    declared_by_household = db.relationship("Household",
                                            foreign_keys=[declared_by_household_id])
    declared_by_user = db.relationship("User", foreign_keys=[declared_by_user_id])
    item = db.relationship("RuleItem")
    evidence = db.relationship("Evidence")
    entry = db.relationship("LedgerEntry")
    decided_by = db.relationship("User", foreign_keys=[decided_by_id])
