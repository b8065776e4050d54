"""The ledger (台账): append-only entries and the balances kept beside them.

Nothing here is updated or deleted once written: a mistaken entry is cancelled by a reversal
entry (冲正) that points at it. Balances are updated in the same transaction as each entry.
"""
from app.accounts.models import utcnow
from app.extensions import db
from app.rules.models import POINTS

ENTRY_KINDS = ("score", "reversal")
DIRECTIONS = ("award", "deduction")


class LedgerEntry(db.Model):
    """One ledger entry (积分明细).

    Snapshots the item (code, name, category, unit points) as judged, so later rulebook edits
    never change history. ``points`` = ``unit_points`` x ``quantity`` (negative for a
    deduction; a reversal carries the opposite of the entry it reverses). ``deed_date`` is the
    local date of the deed and fixes the ``period`` (YYYY-MM) the entry counts in; a reversal
    keeps the deed date of its original. ``recorded_at`` is UTC.
    """

    __tablename__ = "ledger_entry"
    __table_args__ = (
        db.Index("ix_ledger_village_period", "village_id", "period"),
        db.Index("ix_ledger_household_id", "household_id", "id"),
    )

    id = db.Column(db.Integer, primary_key=True)
    household_id = db.Column(db.Integer, db.ForeignKey("household.id"), nullable=False)
    village_id = db.Column(db.Integer, db.ForeignKey("region.id"), nullable=False)
    kind = db.Column(db.String(16), nullable=False, default="score")
    direction = db.Column(db.String(16), nullable=False)
    rulebook_version_id = db.Column(db.Integer, db.ForeignKey("rulebook_version.id"))
    item_id = db.Column(db.Integer, db.ForeignKey("rule_item.id"))
    item_code = db.Column(db.String(32), nullable=False)
    item_name = db.Column(db.String(128), nullable=False)
    category_name = db.Column(db.String(64), nullable=False)
    unit_points = db.Column(POINTS, nullable=False)
    quantity = db.Column(db.Integer, nullable=False, default=1)
    points = db.Column(POINTS, nullable=False)
    deed_date = db.Column(db.Date, nullable=False)
    period = db.Column(db.String(7), nullable=False)
    status = db.Column(db.String(16), nullable=False, default="confirmed")
    note = db.Column(db.Text)
    reason = db.Column(db.Text)
    recorded_by_id = db.Column(db.Integer, db.ForeignKey("user_account.id"))
    recorded_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    idempotency_key = db.Column(db.String(64), unique=True)
    reverses_id = db.Column(db.Integer, db.ForeignKey("ledger_entry.id"), unique=True)

    household = db.relationship("Household")
    recorded_by = db.relationship("User")
    reverses = db.relationship("LedgerEntry", remote_side=[id], foreign_keys=[reverses_id],
                               backref=db.backref("reversed_by", uselist=False))

    @property
    def is_reversal(self) -> bool:
        return self.kind == "reversal"


class HouseholdBalance(db.Model):
    """Running totals of a household, kept in the same transaction as every entry.

    ``earned_score`` (累计积分) ranks households; ``spendable_balance`` (可用积分) is what the
    points supermarket may spend. ``reached_at`` is the UTC time the earned score last changed:
    the tie-break "who reached it first".
    """

    __tablename__ = "household_balance"

    household_id = db.Column(db.Integer, db.ForeignKey("household.id"), primary_key=True)
    earned_score = db.Column(POINTS, nullable=False, default=0)
    spendable_balance = db.Column(POINTS, nullable=False, default=0)
    entry_count = db.Column(db.Integer, nullable=False, default=0)
    reached_at = db.Column(db.DateTime(timezone=True))

    household = db.relationship("Household", backref=db.backref("balance", uselist=False))
