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
    """An item of a catalogue: goods with stock, or a service/privilege (``is_goods`` False)
    that needs none. ``points_price`` is the price of one ``unit``; ``yuan_value`` its value
    in yuan (what the village pays for it, for settlements and reports; optional).

    ``village_id`` is the owner region: a village (its own catalogue; stock in ``stock``), or
    a township (a catalogue shared by its villages: each village keeps its own stock, and may
    hide the item, in a ``RewardStock`` row; ``stock`` stays 0). With ``merchant_id`` the item
    is in that partner merchant's catalogue (owner: the merchant's region; stock in ``stock``,
    the shop's own) and is offered only at the merchant's counter.
    """

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
    merchant_id = db.Column(db.Integer, db.ForeignKey("merchant.id"), index=True)
    yuan_value = db.Column(YUAN)

    village = db.relationship("Region")
    photo = db.relationship("Evidence")
    merchant = db.relationship("Merchant")

    @property
    def region_id(self) -> int:
        """The owner region (a village, or a township for a shared catalogue)."""
        return self.village_id

    @property
    def is_shared(self) -> bool:
        """True for an item of a township's shared catalogue (stock kept per village)."""
        return self.merchant_id is None and self.village is not None \
            and self.village.level == "township"

    @property
    def is_low(self) -> bool:
        """True for goods whose stock is at or below the alert level."""
        return self.is_goods and self.stock <= self.low_stock_at


class Redemption(db.Model):
    """One confirmed basket at the counter, paid by the spend entry ``entry_id``
    (``total_points``: the points spent; with a cash top-up the basket is worth
    ``total_points + cash_points``).
    ``merchant_id``: the partner merchant whose counter served it (None: the village's own).

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
    merchant_id = db.Column(db.Integer, db.ForeignKey("merchant.id"), index=True)
    # row 25, cash top-up (app.rewards.cash): the points of the basket paid in cash and the
    # yuan taken; None when the basket was paid in points only
    cash_points = db.Column(POINTS)
    cash_yuan = db.Column(YUAN)

    household = db.relationship("Household")
    merchant = db.relationship("Merchant")
    entry = db.relationship("LedgerEntry", foreign_keys=[entry_id])
    cancel_entry = db.relationship("LedgerEntry", foreign_keys=[cancel_entry_id])
    by_user = db.relationship("User", foreign_keys=[by_user_id])
    cancelled_by = db.relationship("User", foreign_keys=[cancelled_by_id])
    lines = db.relationship("RedemptionLine", back_populates="redemption",
                            order_by="RedemptionLine.id")

    @property
    def basket_points(self):
        """The points the basket was worth (Decimal): spent points plus those paid in cash."""
        return self.total_points + (self.cash_points or 0)

    @property
    def basket_yuan(self):
        """The basket's worth in yuan (Decimal): the sum of its lines' ``yuan``; None when any
        line has no yuan value (a partial sum would understate it)."""
        values = [line.yuan for line in self.lines]
        if not values or any(v is None for v in values):
            return None
        return sum(values)


class RedemptionLine(db.Model):
    """A line of a basket: the reward and a snapshot of its name, unit and price, in points
    and in yuan (``unit_yuan`` and ``yuan`` = unit_yuan x quantity; None when the item had no
    yuan value and the rulebook no points-to-yuan rate at the time)."""

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
    unit_yuan = db.Column(YUAN)
    yuan = db.Column(YUAN)

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


class RewardStock(db.Model):
    """A village's stock of an item of its township's shared catalogue, and whether the
    village hides the item. Changed only by ``services._move_stock`` (conditional UPDATE,
    never below zero) or ``services.set_hidden``. No row: stock 0, not hidden."""

    __tablename__ = "reward_stock"
    __table_args__ = (db.CheckConstraint("stock >= 0", name="ck_reward_stock_row_nonneg"),
                      db.UniqueConstraint("reward_id", "village_id"))

    id = db.Column(db.Integer, primary_key=True)
    reward_id = db.Column(db.Integer, db.ForeignKey("reward.id"), nullable=False)
    village_id = db.Column(db.Integer, db.ForeignKey("region.id"), nullable=False, index=True)
    stock = db.Column(db.Integer, nullable=False, default=0)
    hidden = db.Column(db.Boolean, nullable=False, default=False)

    reward = db.relationship("Reward")


class Merchant(db.Model):
    """A partner merchant (合作商户): a shop that accepts points on behalf of a village or of
    a township (``region_id``), with its own catalogue (``Reward.merchant_id``) and counter
    logins (``MerchantStaff``). Its redemptions are settled by the region per period."""

    __tablename__ = "merchant"

    id = db.Column(db.Integer, primary_key=True)
    region_id = db.Column(db.Integer, db.ForeignKey("region.id"), nullable=False, index=True)
    name = db.Column(db.String(64), nullable=False)
    contact = db.Column(db.String(64), nullable=False, default="")
    phone = db.Column(db.String(32), nullable=False, default="")
    address = db.Column(db.String(128), nullable=False, default="")
    active = db.Column(db.Boolean, nullable=False, default=True)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)

    region = db.relationship("Region")


class MerchantStaff(db.Model):
    """A counter login of a merchant: the user (role ``merchant_clerk``) may redeem only at
    this merchant's counter, from its catalogue."""

    __tablename__ = "merchant_staff"

    user_id = db.Column(db.Integer, db.ForeignKey("user_account.id"), primary_key=True)
    merchant_id = db.Column(db.Integer, db.ForeignKey("merchant.id"), nullable=False,
                            index=True)

    user = db.relationship("User")
    merchant = db.relationship("Merchant")
