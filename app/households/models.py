"""Households (户) and their members."""
from app.extensions import db

STATUSES = ("active", "moved", "merged")


class Household(db.Model):
    """A household of a village, scored as one unit.

    ``village_id`` and ``group_id`` point at Region rows of level village and group.
    ``qr_nonce`` is 128 random bits from which the door-plate token is derived (see
    ``households.qr``); only the token's SHA-256 is stored, in ``qr_token_hash``.
    ``name_initials`` holds the pinyin initials of the head's name ("zs" for 张三).
    ``registered_at`` (UTC) is when it was added to the app; NULL for households added
    before that was kept (migration 0009), which count in every period's roll-up.
    """

    __tablename__ = "household"
    __table_args__ = (db.UniqueConstraint("village_id", "house_number"),)

    id = db.Column(db.Integer, primary_key=True)
    village_id = db.Column(db.Integer, db.ForeignKey("region.id"), nullable=False, index=True)
    group_id = db.Column(db.Integer, db.ForeignKey("region.id"), nullable=False, index=True)
    house_number = db.Column(db.String(32), nullable=False)
    head_name = db.Column(db.String(64), nullable=False)
    name_initials = db.Column(db.String(32), nullable=False, default="", index=True)
    phone = db.Column(db.String(32))
    status = db.Column(db.String(16), nullable=False, default="active")
    # Enrolled in the village's scheme (rulebooks with an eligibility gate score only these).
    enrolled = db.Column(db.Boolean, nullable=False, default=True)
    qr_nonce = db.Column(db.String(64), nullable=False)
    qr_token_hash = db.Column(db.String(64), nullable=False, unique=True)
    registered_at = db.Column(db.DateTime(timezone=True))

    village = db.relationship("Region", foreign_keys=[village_id])
    group = db.relationship("Region", foreign_keys=[group_id])
    members = db.relationship(
        "HouseholdMember", back_populates="household", order_by="HouseholdMember.position",
        cascade="all, delete-orphan",
    )

    def __repr__(self):
        return f"<Household {self.house_number} {self.head_name}>"

    @property
    def member_names(self):
        """Names of the members other than the head, in roster order (a list of str)."""
        return [m.name for m in self.members]


class HouseholdMember(db.Model):
    """A member of a household other than its head, as listed on the roster."""

    __tablename__ = "household_member"

    id = db.Column(db.Integer, primary_key=True)
    household_id = db.Column(db.Integer, db.ForeignKey("household.id"), nullable=False,
                             index=True)
    name = db.Column(db.String(64), nullable=False)
    position = db.Column(db.Integer, nullable=False, default=0)

    household = db.relationship("Household", back_populates="members")


class HouseholdStatusChange(db.Model):
    """A change of a household's status (e.g. archived as moved away), with its reason.

    Append-only history: the household keeps its ledger; ``Household.status`` is the current
    value, these rows say who changed it, when and why.
    """

    __tablename__ = "household_status_change"

    id = db.Column(db.Integer, primary_key=True)
    household_id = db.Column(db.Integer, db.ForeignKey("household.id"), nullable=False,
                             index=True)
    from_status = db.Column(db.String(16), nullable=False)
    to_status = db.Column(db.String(16), nullable=False)
    reason = db.Column(db.String(500), nullable=False)
    changed_by_id = db.Column(db.Integer, db.ForeignKey("user_account.id"), nullable=False)
    changed_at = db.Column(db.DateTime(timezone=True), nullable=False)

    household = db.relationship("Household", backref=db.backref(
        "status_changes", order_by="HouseholdStatusChange.id"))
    changed_by = db.relationship("User")
