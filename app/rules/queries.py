"""Reads of rulebooks: which version judges a deed on a given day."""
from datetime import date

from sqlalchemy import select

from app.extensions import db
from app.rules.engine import ItemRule
from app.rules.models import Category, RuleItem, Rulebook, RulebookVersion


def version_in_force(village, on: date):
    """The adopted RulebookVersion of ``village`` in force on local date ``on``, or None.

    A village's own rulebook wins; otherwise its township's template. The version in force is
    the adopted one with the latest ``effective_from`` not after ``on``.
    """
    for region in (village, village.parent):
        if region is None:
            continue
        stmt = (select(RulebookVersion).join(Rulebook)
                .where(Rulebook.region_id == region.id, RulebookVersion.status == "adopted",
                       RulebookVersion.effective_from <= on)
                .order_by(RulebookVersion.effective_from.desc(), RulebookVersion.number.desc())
                .limit(1))
        version = db.session.execute(stmt).scalar_one_or_none()
        if version is not None:
            return version
    return None


def item_in_version(version, item_id):
    """The RuleItem ``item_id`` when it belongs to ``version``, else None."""
    try:
        item_id = int(item_id)
    except (TypeError, ValueError):
        return None
    stmt = (select(RuleItem).join(Category)
            .where(RuleItem.id == item_id, Category.version_id == version.id))
    return db.session.execute(stmt).scalar_one_or_none()


def to_rule(item: RuleItem) -> ItemRule:
    """The engine's view of an ORM RuleItem."""
    return ItemRule(code=item.code, name=item.name, category=item.category.name, kind=item.kind,
                    points=item.points, min_points=item.min_points, max_points=item.max_points,
                    once_only=item.once_only)
