"""Reads of rulebooks: which version judges a deed on a given day."""
from datetime import date
from decimal import Decimal

from sqlalchemy import case, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.ids import as_id
from app.memo import memo, watch
from app.rules.engine import BookRule, Cap, Component, Expiry, ItemRule
from app.rules.models import Category, RuleItem, Rulebook, RulebookVersion
from app.rules.uses import accepted_channels


def version_in_force(village, on: date):
    """The adopted RulebookVersion of ``village`` in force on local date ``on``, or None.

    A village's own rulebook wins; otherwise its township's template. The version in force is
    the adopted one with the latest ``effective_from`` not after ``on``. Read once per
    transaction for each (village, day) (``app.memo``: dropped when a rulebook is written).
    """
    known = memo("version_in_force")
    key = (village.id, on)
    if known is not None and key in known:
        return known[key]
    found = _version_in_force(village, on)
    if known is not None:
        known[key] = found
    return found


watch("version_in_force", Rulebook, RulebookVersion)


def _version_in_force(village, on: date):
    """One query (issue 10: two before, and the township loaded): the village's own
    rulebook's versions sort before its township's."""
    regions = [r for r in (village.id, village.parent_id) if r is not None]
    stmt = (select(RulebookVersion).join(Rulebook)
            .where(Rulebook.region_id.in_(regions), RulebookVersion.status == "adopted",
                   RulebookVersion.effective_from <= on)
            .order_by(case((Rulebook.region_id == village.id, 0), else_=1),
                      RulebookVersion.effective_from.desc(), RulebookVersion.number.desc())
            .limit(1))
    return db.session.execute(stmt).scalar_one_or_none()


def with_items(version):
    """``version`` (or None) with its categories and their items loaded: two queries
    however many categories, instead of one per category when a page lists them all."""
    if version is None:
        return None
    return db.session.execute(
        select(RulebookVersion).where(RulebookVersion.id == version.id)
        .options(selectinload(RulebookVersion.categories).selectinload(Category.items))
    ).scalar_one()


def item_in_version(version, item_id):
    """The RuleItem ``item_id`` when it belongs to ``version``, else None."""
    item_id = as_id(item_id)
    if item_id is None:
        return None
    stmt = (select(RuleItem).join(Category)
            .where(RuleItem.id == item_id, Category.version_id == version.id))
    return db.session.execute(stmt).scalar_one_or_none()


def _cap(spec):
    """A Cap from {"points": "700", "period": "year"} (None stays None)."""
    if not spec:
        return None
    return Cap(points=Decimal(str(spec["points"])), period=spec.get("period", "year"))


def _dec(value):
    return None if value in (None, "") else Decimal(str(value))


def to_rule(item: RuleItem) -> ItemRule:
    """The engine's view of an ORM RuleItem (its params parsed into exact decimals)."""
    p = item.params or {}
    category = item.category
    category_cap = None
    if category.cap_points is not None:
        category_cap = Cap(points=category.cap_points, period=category.cap_period or "year")
    return ItemRule(
        code=item.code, name=item.name, category=category.name, kind=item.kind,
        points=item.points, min_points=item.min_points, max_points=item.max_points,
        once_only=item.once_only, per_problem=_dec(p.get("per_problem")),
        units_per_point=_dec(p.get("units_per_point")),
        tiers=tuple((label, Decimal(str(v))) for label, v in (p.get("tiers") or {}).items()),
        bonus_max=_dec(p.get("bonus_max")), cap=_cap(p.get("cap")),
        category_cap=category_cap, per_person=bool(p.get("per_person")), veto=item.veto,
        zeroes=bool(p.get("zeroes")),
        channels=accepted_channels(p),
        **{"rounding": p.get("rounding", "floor"), "step": _dec(p.get("step")) or Decimal("1"),
           **_assessment(p.get("assessment"))})


def _assessment(spec) -> dict:
    """ItemRule fields of a peer and self assessment item ({self_weight, min_raters})."""
    if not spec:
        return {}
    return {"self_weight": Decimal(str(spec.get("self_weight", "0"))),
            "min_raters": int(spec.get("min_raters", 1)),
            "rounding": "half_up", "step": Decimal("0.01")}


def book_rule(version: RulebookVersion) -> BookRule:
    """The engine's view of a version's rulebook-wide rules (``RulebookVersion.params``)."""
    p = (version.params if version is not None else None) or {}
    base = p.get("base")
    return BookRule(
        household_cap=_cap(p.get("household_cap")), eligibility=p.get("eligibility"),
        base=(Decimal(str(base["points"])), base.get("per", "once"),
              bool(base.get("spendable", True))) if base else None,
        thresholds=tuple((Decimal(str(t["below"])), t["flag"])
                         for t in p.get("thresholds") or ()),
        star_bands=tuple((Decimal(str(b["min"])), b["label"])
                         for b in p.get("star_bands") or ()),
        scale=_dec(p.get("scale")),
        components=tuple(Component(category=c["category"], max=Decimal(str(c["max"])),
                                   period=c.get("period", "year"), floor=bool(c.get("floor")))
                         for c in p.get("components") or ()),
        per_capita=tuple((Decimal(str(b["min"])), b["label"])
                         for b in p.get("per_capita") or ()),
        exhaustion=p.get("exhaustion"),
        cadences=tuple((k, v) for k, v in (p.get("cadences") or {}).items()
                       if k != "redemption_open_days"),
        redemption_open_days=int((p.get("cadences") or {}).get("redemption_open_days") or 0)
        or None,
        expiry=_expiry(p.get("expiry")),
        privileges=tuple((Decimal(str(b["min"])), b["label"], b.get("kind"))
                         for b in p.get("privileges") or ()))


def _expiry(spec):
    """An Expiry from {"every": "year", "carry_over": "all" | "none" | "50"} (None stays)."""
    if not spec:
        return None
    carry = str(spec.get("carry_over", "none"))
    return Expiry(every=spec.get("every", "year"),
                  carry_over=carry if carry in ("all", "none") else Decimal(carry))
