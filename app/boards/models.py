"""Board definitions, their frozen publications, and black-board corrections (issue 5).

The live board is derived from ``scoring.queries.standings``; a *publication* copies what
the board showed into its own rows (``BoardLine``) so later reversals never change it. A
correction is a new publication of the same definition and period that supersedes the old
one and lists what changed (``BoardChange``).
"""
from datetime import timedelta

from flask_babel import lazy_gettext as _l

from app.accounts.models import utcnow
from app.extensions import db
from app.rules.models import POINTS

PERIOD_KINDS = ("month", "quarter", "half", "year")
PUB_STATUSES = ("draft", "reviewed", "under_notice", "published", "superseded")
STATUS_LABELS = {"draft": _l("草稿"), "reviewed": _l("已审核"), "under_notice": _l("公示中"),
                 "published": _l("已发布"), "superseded": _l("已被更正")}


class BoardDefinition(db.Model):
    """How a village (or a township, as a template its villages copy) draws its boards.

    Red board: households with points > 0 in the period, veto households left out, then
    ``red_top_n`` and/or ``red_threshold`` (points >= threshold). Black board: households with
    deductions < 0 in the period, counted only in ``black_items`` / ``black_categories``
    (comma-separated item codes / category names; both empty = every deduction), then
    ``black_threshold`` (deducted at least that many points) and/or ``black_bottom_n``.
    ``red_item_code`` / ``black_item_code`` name a rulebook item posted (through
    ``post_entry``) to each household on the board at publication, with ``*_points`` for
    range items. ``group_id`` limits the board to one villager group.
    """

    id = db.Column(db.Integer, primary_key=True)
    region_id = db.Column(db.Integer, db.ForeignKey("region.id"), nullable=False, index=True)
    name = db.Column(db.String(64), nullable=False)
    period_kind = db.Column(db.String(8), nullable=False, default="month")
    group_id = db.Column(db.Integer, db.ForeignKey("region.id"))
    red_top_n = db.Column(db.Integer)
    red_threshold = db.Column(POINTS)
    black_items = db.Column(db.String(255), nullable=False, default="")
    black_categories = db.Column(db.String(255), nullable=False, default="")
    black_threshold = db.Column(POINTS)
    black_bottom_n = db.Column(db.Integer)
    red_item_code = db.Column(db.String(32))
    red_points = db.Column(POINTS)
    black_item_code = db.Column(db.String(32))
    black_points = db.Column(POINTS)
    notice_days = db.Column(db.Integer)
    copied_from_id = db.Column(db.Integer, db.ForeignKey("board_definition.id"))
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)

    region = db.relationship("Region", foreign_keys=[region_id])
    group = db.relationship("Region", foreign_keys=[group_id])


class BoardPrivacy(db.Model):
    """A village's privacy choices for published boards: ``mask_names`` (张*三) and
    ``black_public``: False = the black board only on pages reached by a door-plate token of
    this village (its villagers); True = also on the no-login notice wall page."""

    village_id = db.Column(db.Integer, db.ForeignKey("region.id"), primary_key=True)
    mask_names = db.Column(db.Boolean, nullable=False, default=True)
    black_public = db.Column(db.Boolean, nullable=False, default=False)


class BoardPublication(db.Model):
    """One board of one period: draft -> reviewed -> under_notice -> published; a published
    board is superseded when its correction is published. ``version`` counts corrections of
    the same definition and period (1 = first)."""

    id = db.Column(db.Integer, primary_key=True)
    definition_id = db.Column(db.Integer, db.ForeignKey("board_definition.id"), nullable=False,
                              index=True)
    village_id = db.Column(db.Integer, db.ForeignKey("region.id"), nullable=False, index=True)
    period_label = db.Column(db.String(8), nullable=False)
    period_start = db.Column(db.Date, nullable=False)
    period_end = db.Column(db.Date, nullable=False)
    version = db.Column(db.Integer, nullable=False, default=1)
    supersedes_id = db.Column(db.Integer, db.ForeignKey("board_publication.id"))
    correction_note = db.Column(db.Text)
    status = db.Column(db.String(16), nullable=False, default="draft")
    mask_names = db.Column(db.Boolean, nullable=False, default=True)
    notice_days = db.Column(db.Integer, nullable=False, default=0)
    notice_from = db.Column(db.Date)
    notice_until = db.Column(db.Date)
    published_on = db.Column(db.Date)
    created_by_id = db.Column(db.Integer, db.ForeignKey("user_account.id"))
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    reviewed_by_id = db.Column(db.Integer, db.ForeignKey("user_account.id"))
    published_by_id = db.Column(db.Integer, db.ForeignKey("user_account.id"))
    published_at = db.Column(db.DateTime(timezone=True))

    definition = db.relationship(BoardDefinition)
    village = db.relationship("Region", foreign_keys=[village_id])
    supersedes = db.relationship("BoardPublication", remote_side=[id])
    lines = db.relationship("BoardLine", order_by="BoardLine.id", lazy="selectin")
    changes = db.relationship("BoardChange", order_by="BoardChange.id", lazy="selectin")

    @property
    def notice_last_day(self):
        """The last local day of the public notice, inclusive (the day before
        ``notice_until``, from which the board may be published; as honours and entries
        count it); None without a notice. The publication page, the public page and the
        poster all show this day."""
        if not (self.notice_from and self.notice_until and self.notice_days):
            return None
        return self.notice_until - timedelta(days=1)

    def on(self, board: str) -> list:
        """Lines of ``board`` ("red", "black" or "uncorrected") in rank order."""
        return sorted((ln for ln in self.lines if ln.board == board), key=lambda ln: ln.rank)


class BoardLine(db.Model):
    """One frozen line: the ``rank`` on its board, the household, the name as shown
    (``shown_name``, masked when the village masks names) beside the unmasked ``head_name``
    for staff, ``points`` and ``deductions`` in the period, and ``prev_rank`` (the village
    rank of the previous period, for up/down arrows). ``since_label``: for "uncorrected"
    lines, the period the household was first put on the black board."""

    id = db.Column(db.Integer, primary_key=True)
    publication_id = db.Column(db.Integer, db.ForeignKey("board_publication.id"),
                               nullable=False, index=True)
    board = db.Column(db.String(12), nullable=False)
    rank = db.Column(db.Integer, nullable=False)
    village_rank = db.Column(db.Integer)
    prev_rank = db.Column(db.Integer)
    household_id = db.Column(db.Integer, db.ForeignKey("household.id"), nullable=False)
    house_number = db.Column(db.String(32), nullable=False)
    head_name = db.Column(db.String(64), nullable=False)
    shown_name = db.Column(db.String(64), nullable=False)
    points = db.Column(POINTS, nullable=False)
    deductions = db.Column(POINTS, nullable=False)
    since_label = db.Column(db.String(8))

    household = db.relationship("Household")

    @property
    def moved(self):
        """Places moved up (> 0) or down (< 0) since last period; None when not ranked then."""
        if self.prev_rank is None or self.village_rank is None:
            return None
        return self.prev_rank - self.village_rank


class BoardChange(db.Model):
    """What a correction changed versus the publication it supersedes: ``change`` is
    "added", "removed" or "points" (same board, other points or rank)."""

    id = db.Column(db.Integer, primary_key=True)
    publication_id = db.Column(db.Integer, db.ForeignKey("board_publication.id"),
                               nullable=False, index=True)
    board = db.Column(db.String(12), nullable=False)
    change = db.Column(db.String(8), nullable=False)
    household_id = db.Column(db.Integer, db.ForeignKey("household.id"), nullable=False)
    shown_name = db.Column(db.String(64), nullable=False)
    old_rank = db.Column(db.Integer)
    new_rank = db.Column(db.Integer)
    old_points = db.Column(POINTS)
    new_points = db.Column(POINTS)


class BlackCorrection(db.Model):
    """The committee's record that a household corrected what put it on the black board
    (整改): from then on it is no longer listed as "not yet corrected"."""

    id = db.Column(db.Integer, primary_key=True)
    village_id = db.Column(db.Integer, db.ForeignKey("region.id"), nullable=False, index=True)
    household_id = db.Column(db.Integer, db.ForeignKey("household.id"), nullable=False,
                             index=True)
    corrected_on = db.Column(db.Date, nullable=False)
    note = db.Column(db.Text, nullable=False)
    recorded_by_id = db.Column(db.Integer, db.ForeignKey("user_account.id"))
    recorded_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
