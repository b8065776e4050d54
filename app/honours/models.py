"""Honours, their objections and village-defined titles; star conferments and their frozen
ratings (a conferment is a snapshot: later reversals never change a conferred plate)."""
from datetime import timedelta

from app.accounts.models import utcnow
from app.extensions import db
from app.rules.models import POINTS

#: Titles every village has (in this order); villages add their own (HonourTitle).
BUILTIN_TITLES = ("好人榜", "最美村户", "好媳妇", "最美孝子")

#: nominated -> under_notice -> awarded | declined (declined also from nominated).
HONOUR_STATUSES = ("nominated", "under_notice", "awarded", "declined")


class HonourTitle(db.Model):
    """A village-defined honour title (e.g. 最美庭院), next to the built-in ones."""

    __tablename__ = "honour_title"
    __table_args__ = (db.UniqueConstraint("village_id", "name"),)

    id = db.Column(db.Integer, primary_key=True)
    village_id = db.Column(db.Integer, db.ForeignKey("region.id"), nullable=False, index=True)
    name = db.Column(db.String(40), nullable=False)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)


class Honour(db.Model):
    """One household nominated for one title in one year.

    Nominated by a cadre (``nominated_by_id``) or by a villager from a door-plate page
    (``nominated_by_household_id``); put under public notice from ``notice_from`` (local
    date) for ``notice_days`` days (ends before ``notice_until``); then awarded by the village
    admin with the decision's date and note (四议两公开), or declined with a reason.
    """

    __tablename__ = "honour"

    id = db.Column(db.Integer, primary_key=True)
    village_id = db.Column(db.Integer, db.ForeignKey("region.id"), nullable=False, index=True)
    household_id = db.Column(db.Integer, db.ForeignKey("household.id"), nullable=False,
                             index=True)
    title = db.Column(db.String(40), nullable=False)
    year = db.Column(db.Integer, nullable=False, index=True)
    reason = db.Column(db.Text, nullable=False)
    status = db.Column(db.String(16), nullable=False, default="nominated")
    nominated_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    nominated_by_id = db.Column(db.Integer, db.ForeignKey("user_account.id"))
    nominated_by_household_id = db.Column(db.Integer, db.ForeignKey("household.id"))
    notice_from = db.Column(db.Date)
    notice_until = db.Column(db.Date)
    notice_days = db.Column(db.Integer)
    decided_at = db.Column(db.DateTime(timezone=True))
    decided_by_id = db.Column(db.Integer, db.ForeignKey("user_account.id"))
    decision_date = db.Column(db.Date)
    decision_note = db.Column(db.Text)
    decline_reason = db.Column(db.Text)
    idempotency_key = db.Column(db.String(64), unique=True)

    household = db.relationship("Household", foreign_keys=[household_id])
    nominated_by = db.relationship("User", foreign_keys=[nominated_by_id])
    nominated_by_household = db.relationship("Household",
                                             foreign_keys=[nominated_by_household_id])
    decided_by = db.relationship("User", foreign_keys=[decided_by_id])
    objections = db.relationship("HonourObjection", back_populates="honour",
                                 order_by="HonourObjection.id")

    @property
    def notice_last_day(self):
        """The last local day of the public notice, inclusive (the day before
        ``notice_until``, from which the honour may be awarded); None without a notice of at
        least one day. The honour page, the list and the poster all show this day."""
        if not (self.notice_from and self.notice_until and self.notice_days):
            return None
        return self.notice_until - timedelta(days=1)


class HonourObjection(db.Model):
    """An objection raised during an honour's public notice (from a door-plate page, or by a
    cadre); shown to the village admin next to the award and decline buttons."""

    __tablename__ = "honour_objection"

    id = db.Column(db.Integer, primary_key=True)
    honour_id = db.Column(db.Integer, db.ForeignKey("honour.id"), nullable=False, index=True)
    text = db.Column(db.Text, nullable=False)
    by_household_id = db.Column(db.Integer, db.ForeignKey("household.id"))
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    idempotency_key = db.Column(db.String(64), unique=True)

    honour = db.relationship("Honour", back_populates="objections")


class StarConferment(db.Model):
    """The village's star ratings of one period, frozen when conferred (授牌)."""

    __tablename__ = "star_conferment"
    __table_args__ = (db.UniqueConstraint("village_id", "period_kind", "period_start"),)

    id = db.Column(db.Integer, primary_key=True)
    village_id = db.Column(db.Integer, db.ForeignKey("region.id"), nullable=False, index=True)
    period_kind = db.Column(db.String(8), nullable=False)       # month | quarter | year
    period_start = db.Column(db.Date, nullable=False)
    period_end = db.Column(db.Date, nullable=False)            # exclusive
    period_label = db.Column(db.String(32), nullable=False)
    rulebook_version_id = db.Column(db.Integer, db.ForeignKey("rulebook_version.id"))
    decision_date = db.Column(db.Date, nullable=False)
    decision_note = db.Column(db.Text, nullable=False)
    conferred_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    conferred_by_id = db.Column(db.Integer, db.ForeignKey("user_account.id"))

    village = db.relationship("Region")
    conferred_by = db.relationship("User")
    ratings = db.relationship("StarRating", back_populates="conferment",
                              order_by="StarRating.position")


class StarRating(db.Model):
    """One household's frozen rating in a conferment: its period points, band label and
    number of stars (0 when below every band or vetoed)."""

    __tablename__ = "star_rating"
    __table_args__ = (db.UniqueConstraint("conferment_id", "household_id"),)

    id = db.Column(db.Integer, primary_key=True)
    conferment_id = db.Column(db.Integer, db.ForeignKey("star_conferment.id"), nullable=False,
                              index=True)
    household_id = db.Column(db.Integer, db.ForeignKey("household.id"), nullable=False,
                             index=True)
    position = db.Column(db.Integer, nullable=False)       # rank in the period's standings
    house_number = db.Column(db.String(32), nullable=False)
    head_name = db.Column(db.String(64), nullable=False)
    points = db.Column(POINTS, nullable=False)
    band = db.Column(db.String(32))
    stars = db.Column(db.Integer, nullable=False, default=0)
    vetoed = db.Column(db.Boolean, nullable=False, default=False)

    conferment = db.relationship("StarConferment", back_populates="ratings")
    household = db.relationship("Household")
