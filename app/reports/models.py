"""The pilot registry (试点示范村) and the yearly evaluation (乡镇自评 / 县级复核 / 市级抽查).

Every evaluation record is signed off when it is created and never changes afterwards: a
correction is a new row (``version`` + 1) that names the row it supersedes and says why.
``guard_signed_records`` refuses any update or delete of such a row at flush time.
"""
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.accounts.models import utcnow
from app.extensions import db
from app.rules.models import POINTS

# The six content areas of the notice (二、主要内容); a pilot village chooses two or three.
CONTENT_AREAS = {
    "1": _l("创新村民议事协商形式"),
    "2": _l("探索依法治理乡村制度"),
    "3": _l("探索乡村道德激励约束机制"),
    "4": _l("推广运用积分制"),
    "5": _l("探索规范农村权责及代办服务"),
    "6": _l("创新现代乡村治理手段"),
}
DECISIONS = ("accepted", "returned")
VERDICTS = ("ok", "problem")


class PilotRound(db.Model):
    """A round of the pilot programme: its dates, the plan's filing date and the yearly
    evaluation's due dates (``MM-DD`` each year; 30 November by default, as in the notice).
    The notice's first round ran two years, 2021-01-01 to 2022-12-31."""

    __tablename__ = "pilot_round"

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(64), nullable=False, unique=True)
    starts_on = db.Column(db.Date, nullable=False)
    ends_on = db.Column(db.Date, nullable=False)          # last day, inclusive
    plan_due = db.Column(db.Date, nullable=False)
    assessment_due = db.Column(db.String(5), nullable=False, default="11-30")
    review_due = db.Column(db.String(5), nullable=False, default="11-30")
    spot_check_due = db.Column(db.String(5), nullable=False, default="11-30")

    def years(self) -> list:
        """The calendar years the round covers (each gets an evaluation)."""
        return list(range(self.starts_on.year, self.ends_on.year + 1))

    def due(self, step: str, year: int) -> date:
        """Due date of ``step`` (assessment, review, spot_check) in ``year``."""
        month, day = (int(x) for x in getattr(self, f"{step}_due").split("-"))
        return date(year, month, day)


class PilotVillage(db.Model):
    """A designated pilot village in a round: the content areas it chose (codes of
    CONTENT_AREAS, comma-separated) and its pilot plan (the uploaded document, kept in the
    database with its SHA-256, and the date it was filed)."""

    __tablename__ = "pilot_village"
    __table_args__ = (db.UniqueConstraint("round_id", "village_id"),)

    id = db.Column(db.Integer, primary_key=True)
    round_id = db.Column(db.Integer, db.ForeignKey("pilot_round.id"), nullable=False)
    village_id = db.Column(db.Integer, db.ForeignKey("region.id"), nullable=False, index=True)
    content_areas = db.Column(db.String(32), nullable=False, default="")
    plan_filename = db.Column(db.String(128))
    plan_content_type = db.Column(db.String(128))
    plan_data = db.Column(db.LargeBinary)
    plan_sha256 = db.Column(db.String(64))
    plan_filed_on = db.Column(db.Date)
    plan_uploaded_by_id = db.Column(db.Integer, db.ForeignKey("user_account.id"))
    plan_uploaded_at = db.Column(db.DateTime(timezone=True))

    round = db.relationship("PilotRound")
    village = db.relationship("Region")

    @property
    def area_codes(self) -> list:
        """The chosen content areas' codes, in order."""
        return [c for c in (self.content_areas or "").split(",") if c]

    @property
    def plan_late(self) -> bool:
        """True when the plan was filed after the round's due date (or is still missing
        after it)."""
        from app.scoring.periods import local_today
        filed = self.plan_filed_on or local_today()
        return filed > self.round.plan_due


class SelfAssessment(db.Model):
    """A township's self-assessment (乡镇自评) of one pilot village for one year, signed
    off on submission. ``figures`` is the village's roll-up for the year as JSON, taken when
    the form was filled. Version 1 has no ``supersedes``; later versions name it and give
    ``correction_reason``."""

    __tablename__ = "self_assessment"
    __table_args__ = (db.UniqueConstraint("pilot_id", "year", "version"),)

    id = db.Column(db.Integer, primary_key=True)
    pilot_id = db.Column(db.Integer, db.ForeignKey("pilot_village.id"), nullable=False,
                         index=True)
    year = db.Column(db.Integer, nullable=False)
    version = db.Column(db.Integer, nullable=False, default=1)
    supersedes_id = db.Column(db.Integer, db.ForeignKey("self_assessment.id"), unique=True)
    correction_reason = db.Column(db.Text)
    figures = db.Column(db.Text, nullable=False)
    work_done = db.Column(db.Text, nullable=False)
    results = db.Column(db.Text, nullable=False)
    problems = db.Column(db.Text, nullable=False)
    next_steps = db.Column(db.Text, nullable=False)
    self_score = db.Column(POINTS, nullable=False)
    attachment_name = db.Column(db.String(128))
    attachment_data = db.Column(db.LargeBinary)
    attachment_sha256 = db.Column(db.String(64))
    submitted_by_id = db.Column(db.Integer, db.ForeignKey("user_account.id"), nullable=False)
    submitted_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)

    pilot = db.relationship("PilotVillage")
    submitted_by = db.relationship("User")


class CountyReview(db.Model):
    """The county's review (县级复核) of one self-assessment: accepted with a score and
    comments, or returned to the township with reasons. Signed off on submission;
    corrections are new versions."""

    __tablename__ = "county_review"
    __table_args__ = (db.UniqueConstraint("assessment_id", "version"),)

    id = db.Column(db.Integer, primary_key=True)
    assessment_id = db.Column(db.Integer, db.ForeignKey("self_assessment.id"), nullable=False,
                              index=True)
    version = db.Column(db.Integer, nullable=False, default=1)
    supersedes_id = db.Column(db.Integer, db.ForeignKey("county_review.id"), unique=True)
    correction_reason = db.Column(db.Text)
    decision = db.Column(db.String(16), nullable=False)
    score = db.Column(POINTS)
    comments = db.Column(db.Text, nullable=False)
    submitted_by_id = db.Column(db.Integer, db.ForeignKey("user_account.id"), nullable=False)
    submitted_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)

    assessment = db.relationship("SelfAssessment", backref=db.backref(
        "reviews", order_by="CountyReview.version"))
    submitted_by = db.relationship("User")


class SpotCheck(db.Model):
    """The city's spot-check draw (市级抽查) for one year within ``region``: the seed, the
    sample sizes asked for, and what was drawn (village ids and entry ids as JSON), so the
    draw can be redone from the seed and compared."""

    __tablename__ = "spot_check"

    id = db.Column(db.Integer, primary_key=True)
    region_id = db.Column(db.Integer, db.ForeignKey("region.id"), nullable=False, index=True)
    year = db.Column(db.Integer, nullable=False)
    seed = db.Column(db.String(64), nullable=False)
    village_count = db.Column(db.Integer, nullable=False)
    entry_count = db.Column(db.Integer, nullable=False)
    villages = db.Column(db.Text, nullable=False)
    entries = db.Column(db.Text, nullable=False)
    drawn_by_id = db.Column(db.Integer, db.ForeignKey("user_account.id"), nullable=False)
    drawn_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)

    region = db.relationship("Region")
    drawn_by = db.relationship("User")


class SpotCheckFinding(db.Model):
    """A finding of a spot-check on one drawn village (``entry_id`` None) or one drawn
    ledger entry: ``ok`` or ``problem``, with the text. Signed off when recorded; a
    correction is a new finding that supersedes it and says why."""

    __tablename__ = "spot_check_finding"

    id = db.Column(db.Integer, primary_key=True)
    spot_check_id = db.Column(db.Integer, db.ForeignKey("spot_check.id"), nullable=False,
                              index=True)
    village_id = db.Column(db.Integer, db.ForeignKey("region.id"), nullable=False)
    entry_id = db.Column(db.Integer, db.ForeignKey("ledger_entry.id"))
    verdict = db.Column(db.String(16), nullable=False)
    text = db.Column(db.Text, nullable=False)
    supersedes_id = db.Column(db.Integer, db.ForeignKey("spot_check_finding.id"), unique=True)
    correction_reason = db.Column(db.Text)
    recorded_by_id = db.Column(db.Integer, db.ForeignKey("user_account.id"), nullable=False)
    recorded_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)

    spot_check = db.relationship("SpotCheck", backref=db.backref(
        "findings", order_by="SpotCheckFinding.id"))
    recorded_by = db.relationship("User")
    village = db.relationship("Region")


SIGNED = (SelfAssessment, CountyReview, SpotCheck, SpotCheckFinding)


class SignedRecordChanged(Exception):
    """Raised when something tries to update or delete a signed-off evaluation record."""


@event.listens_for(Session, "before_flush")
def guard_signed_records(session, _context, _instances):
    """Refuse updates and deletes of signed-off records (SIGNED) at flush time."""
    for obj in session.deleted:
        if isinstance(obj, SIGNED):
            raise SignedRecordChanged(f"{type(obj).__name__} {obj.id} is signed off")
    for obj in session.dirty:
        if isinstance(obj, SIGNED) and session.is_modified(obj, include_collections=False):
            raise SignedRecordChanged(f"{type(obj).__name__} {obj.id} is signed off")
