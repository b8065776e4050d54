"""Rulebooks (积分细则) with versions, categories (类别) and rule items (评分项).

Points are ``Numeric(10, 2)``: exact decimals, halves and quarters allowed, never floats.
"""
from decimal import Decimal

from flask_babel import gettext as _

from app.extensions import db
from app.points import fmt_points

POINTS = db.Numeric(10, 2)
ITEM_KINDS = ("fixed", "range")


class Rulebook(db.Model):
    """A village's (or a township template's) points rulebook."""

    __tablename__ = "rulebook"

    id = db.Column(db.Integer, primary_key=True)
    region_id = db.Column(db.Integer, db.ForeignKey("region.id"), nullable=False, index=True)
    name = db.Column(db.String(128), nullable=False)
    source = db.Column(db.Text)
    points_per_yuan = db.Column(POINTS)

    region = db.relationship("Region")
    versions = db.relationship("RulebookVersion", back_populates="rulebook",
                               order_by="RulebookVersion.number")


class RulebookVersion(db.Model):
    """One version of a rulebook. Only adopted versions judge deeds, from ``effective_from``."""

    __tablename__ = "rulebook_version"
    __table_args__ = (db.UniqueConstraint("rulebook_id", "number"),)

    id = db.Column(db.Integer, primary_key=True)
    rulebook_id = db.Column(db.Integer, db.ForeignKey("rulebook.id"), nullable=False)
    number = db.Column(db.Integer, nullable=False)
    status = db.Column(db.String(16), nullable=False, default="draft")
    effective_from = db.Column(db.Date)
    adopted_on = db.Column(db.Date)
    decision = db.Column(db.Text)
    # Rulebook-wide rules (rules.engine.BookRule), numbers as strings: household_cap
    # {points, period}, eligibility ("enrolled"), base {points, per, spendable},
    # thresholds [{below, flag}], star_bands [{min, label}].
    params = db.Column(db.JSON)

    rulebook = db.relationship("Rulebook", back_populates="versions")
    categories = db.relationship("Category", back_populates="version",
                                 order_by="Category.position", cascade="all, delete-orphan")


class Category(db.Model):
    """A category of a rulebook version, e.g. 孝老爱亲."""

    __tablename__ = "rule_category"

    id = db.Column(db.Integer, primary_key=True)
    version_id = db.Column(db.Integer, db.ForeignKey("rulebook_version.id"), nullable=False,
                           index=True)
    name = db.Column(db.String(64), nullable=False)
    position = db.Column(db.Integer, nullable=False, default=0)
    cap_points = db.Column(POINTS)   # at most this many award points per cap_period
    cap_period = db.Column(db.String(16))

    version = db.relationship("RulebookVersion", back_populates="categories")
    items = db.relationship("RuleItem", back_populates="category",
                            order_by="RuleItem.position", cascade="all, delete-orphan")


class RuleItem(db.Model):
    """A rule item. ``kind`` fixed: ``points`` each time (negative = deduction);
    range: the panel picks a value in ``min_points..max_points``. ``once_only`` items are
    given to a household at most once (reversed ones don't count). ``needs_review`` entries
    wait for a second person before their public notice."""

    __tablename__ = "rule_item"

    id = db.Column(db.Integer, primary_key=True)
    category_id = db.Column(db.Integer, db.ForeignKey("rule_category.id"), nullable=False,
                           index=True)
    code = db.Column(db.String(32), nullable=False)
    name = db.Column(db.String(128), nullable=False)
    kind = db.Column(db.String(16), nullable=False, default="fixed")
    points = db.Column(POINTS)
    min_points = db.Column(POINTS)
    max_points = db.Column(POINTS)
    once_only = db.Column(db.Boolean, nullable=False, default=False)
    needs_review = db.Column(db.Boolean, nullable=False, default=False)
    veto = db.Column(db.Boolean, nullable=False, default=False)
    # Kind-specific parameters (rules.engine.ItemRule), numbers as strings: per_problem,
    # units_per_point, rounding, step, tiers {label: points}, bonus_max, cap {points, period},
    # per_person.
    params = db.Column(db.JSON)
    note = db.Column(db.Text)
    position = db.Column(db.Integer, nullable=False, default=0)

    category = db.relationship("Category", back_populates="items")

    @property
    def is_deduction(self) -> bool:
        value = self.points if self.kind == "fixed" else self.max_points
        return value is not None and value < 0

    @property
    def tiers(self) -> list:
        """The tier labels of a tiered item, in rulebook order."""
        return list((self.params or {}).get("tiers", {}))

    @property
    def takes_bonus(self) -> bool:
        return bool((self.params or {}).get("bonus_max"))

    @property
    def is_assessment(self) -> bool:
        """A peer and self assessment item (RULE-FEATURES row 23): the score is the weighted
        self rating plus the peer average (``params["assessment"]``)."""
        return bool((self.params or {}).get("assessment"))

    @property
    def per_person(self) -> bool:
        return bool((self.params or {}).get("per_person"))

    @property
    def points_label(self) -> str:
        """The points as a rulebook prints them: "+5", "-2", "5～10", "满分 25，每处 -5",
        "每 4 单位 1 分", "10～50"."""
        p = self.params or {}
        if self.kind == "scorecard":
            return _("≤%(max)s，-%(per)s/处", max=fmt_points(self.max_points, sign=False),
                     per=fmt_points(Decimal(p["per_problem"]), sign=False))
        if self.kind == "rate":
            return f"{fmt_points(Decimal(p['units_per_point']), sign=False)}:1"
        if self.kind == "tiered":
            values = sorted(Decimal(v) for v in p.get("tiers", {}).values())
            return f"{fmt_points(values[0], sign=False)}～{fmt_points(values[-1], sign=False)}"
        if self.kind in ("range", "analogy"):
            low, high = (fmt_points(v, sign=False) for v in (self.min_points, self.max_points))
            return f"{low}～{high}"
        if p.get("zeroes"):
            return f"{fmt_points(self.points)}，清零"
        return fmt_points(self.points)
