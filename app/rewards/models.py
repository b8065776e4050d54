"""Points supermarket tables: rewards (the catalogue), stock movements, redemptions and their
lines, and each village's supermarket settings (opening days).

Stock is the sum of a reward's movements; ``Reward.stock`` keeps that sum and only changes by
a conditional UPDATE (``stock + delta >= 0``) in the same transaction as the movement, so it
can never go negative. A redemption is paid by one spend entry of the ledger (``entry_id``);
a cancellation by the reversal of that entry (``cancel_entry_id``).
"""
from app.accounts.models import utcnow
from app.extensions import db
from app.rules.models import POINTS

YUAN = db.Numeric(12, 2)
MOVEMENT_KINDS = ("stock_in", "adjust", "redeem", "refund")


class Reward(db.Model):
    """An item of a village's catalogue: goods with stock, or a service/privilege
    (``is_goods`` False) that needs none. ``points_price`` is the price of one ``unit``."""

    __tablename__ = "reward"
    __table_args__ = (db.CheckConstraint("stock >= 0", name="ck_reward_stock_nonneg"),)

    id = db.Column(db.Integer, primary_key=True)
    village_id = db.Column(db.Integer, db.ForeignKey("region.id"), nullable=False, index=True)
    name = db.Column(db.String(64), nullable=False)
    category = db.Column(db.String(32), nullable=False, default="")
    unit = db.Column(db.String(16), nullable=False, default="")
    points_price = db.Column(POINTS, nullable=False)
    is_goods = db.Column(db.Boolean, nullable=False, default=True)
    stock = db.Column(db.Integer, nullable=False, default=0)
    low_stock_at = db.Column(db.Integer, nullable=False, default=5)
    active = db.Column(db.Boolean, nullable=False, default=True)
    photo_id = db.Column(db.Integer, db.ForeignKey("evidence.id"))
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)

    village = db.relationship("Region")
    photo = db.relationship("Evidence")

    @property
    def is_low(self) -> bool:
        """True for goods whose stock is at or below the alert level."""
        return self.is_goods and self.stock <= self.low_stock_at


class Redemption(db.Model):
    """One confirmed basket at the counter, paid by the spend entry ``entry_id``.

    ``status``: ``done``, or ``cancelled`` once refunded by the reversal ``cancel_entry_id``.
    ``day`` is the local date of the redemption (for the reports).
    """

    __tablename__ = "redemption"
    __table_args__ = (db.Index("ix_redemption_village_day", "village_id", "day"),)

    id = db.Column(db.Integer, primary_key=True)
    village_id = db.Column(db.Integer, db.ForeignKey("region.id"), nullable=False)
    household_id = db.Column(db.Integer, db.ForeignKey("household.id"), nullable=False,
                             index=True)
    entry_id = db.Column(db.Integer, db.ForeignKey("ledger_entry.id"), nullable=False,
                         unique=True)
    total_points = db.Column(POINTS, nullable=False)
    status = db.Column(db.String(16), nullable=False, default="done")
    idempotency_key = db.Column(db.String(64), unique=True)
    day = db.Column(db.Date, nullable=False)
    at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    by_user_id = db.Column(db.Integer, db.ForeignKey("user_account.id"))
    cancel_entry_id = db.Column(db.Integer, db.ForeignKey("ledger_entry.id"), unique=True)
    cancel_reason = db.Column(db.Text)
    cancelled_at = db.Column(db.DateTime(timezone=True))
    cancelled_by_id = db.Column(db.Integer, db.ForeignKey("user_account.id"))

    household = db.relationship("Household")
    entry = db.relationship("LedgerEntry", foreign_keys=[entry_id])
    cancel_entry = db.relationship("LedgerEntry", foreign_keys=[cancel_entry_id])
    by_user = db.relationship("User", foreign_keys=[by_user_id])
    cancelled_by = db.relationship("User", foreign_keys=[cancelled_by_id])
    lines = db.relationship("RedemptionLine", back_populates="redemption",
                            order_by="RedemptionLine.id")


class RedemptionLine(db.Model):
    """A line of a basket: the reward and a snapshot of its name, unit and price."""

    __tablename__ = "redemption_line"

    id = db.Column(db.Integer, primary_key=True)
    redemption_id = db.Column(db.Integer, db.ForeignKey("redemption.id"), nullable=False,
                              index=True)
    reward_id = db.Column(db.Integer, db.ForeignKey("reward.id"), nullable=False, index=True)
    name = db.Column(db.String(64), nullable=False)
    unit = db.Column(db.String(16), nullable=False, default="")
    unit_points = db.Column(POINTS, nullable=False)
    quantity = db.Column(db.Integer, nullable=False)
    points = db.Column(POINTS, nullable=False)

    redemption = db.relationship("Redemption", back_populates="lines")
    reward = db.relationship("Reward")


class StockMovement(db.Model):
    """A change of a reward's stock: ``stock_in`` (with supplier and cost in yuan),
    ``adjust`` (with a reason: damaged, stocktake), ``redeem`` and ``refund`` (linked to the
    redemption). ``quantity`` is signed."""

    __tablename__ = "stock_movement"

    id = db.Column(db.Integer, primary_key=True)
    reward_id = db.Column(db.Integer, db.ForeignKey("reward.id"), nullable=False, index=True)
    village_id = db.Column(db.Integer, db.ForeignKey("region.id"), nullable=False, index=True)
    kind = db.Column(db.String(16), nullable=False)
    quantity = db.Column(db.Integer, nullable=False)
    supplier = db.Column(db.String(128))
    cost_yuan = db.Column(YUAN)
    reason = db.Column(db.Text)
    redemption_id = db.Column(db.Integer, db.ForeignKey("redemption.id"))
    by_user_id = db.Column(db.Integer, db.ForeignKey("user_account.id"))
    at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)

    reward = db.relationship("Reward", backref=db.backref("movements",
                                                          order_by="StockMovement.id"))
    by_user = db.relationship("User")


class RewardSettings(db.Model):
    """A village's supermarket settings: ``open_days`` lists the days of the month it is open
    ("10" or "10,25"); empty means every day."""

    __tablename__ = "reward_settings"

    village_id = db.Column(db.Integer, db.ForeignKey("region.id"), primary_key=True)
    open_days = db.Column(db.String(100), nullable=False, default="")
