"""Reads of households, always through the region scope."""
from flask import abort, g
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.households.models import Household, HouseholdMember
from app.households.numbers import house_number
from app.regions.queries import get_scoped_or_404, region_or_404


def village_or_404(village_id, scope):
    """The village ``village_id`` when it is a village inside ``scope``, else 404."""
    region = region_or_404(village_id, scope)
    if region.level != "village":
        abort(404)
    return region


def household_or_404(household_id, scope) -> Household:
    """The household ``household_id`` when its village lies inside ``scope``, else 404."""
    return get_scoped_or_404(Household, household_id, "village_id", scope)


def house_order():
    """Natural order of house numbers for numeric ones: "2" before "10"."""
    return (Household.group_id, func.length(Household.house_number), Household.house_number)


def search_stmt(village_id: int, q: str = "", group_id: int | None = None):
    """A Select of a village's active households matching ``q`` (NFKC-normalised): house
    number (exact or prefix), head's or a member's name (substring), or pinyin initials
    ("zs" finds 张三).
    Ordered by group, then house number (see ``house_order``)."""
    stmt = (select(Household)
            .options(joinedload(Household.balance), joinedload(Household.group),
                     selectinload(Household.members))
            .where(Household.village_id == village_id, Household.status == "active"))
    if group_id:
        stmt = stmt.where(Household.group_id == group_id)
    q = house_number(q)   # NFKC: a full-width ２ typed on a phone is 2
    if q:
        member = select(HouseholdMember.household_id).where(
            HouseholdMember.name.contains(q, autoescape=True))
        clauses = [Household.house_number == q,
                   Household.house_number.startswith(q, autoescape=True),
                   Household.head_name.contains(q, autoescape=True),
                   Household.id.in_(member)]
        if q.isascii() and q.isalpha():
            clauses.append(Household.name_initials.startswith(q.lower()))
        stmt = stmt.where(or_(*clauses))
    return stmt.order_by(*house_order())


def households_of_group(group) -> list:
    """Active households of a villager group, by house number."""
    return db.session.execute(
        select(Household).where(Household.group_id == group.id, Household.status == "active")
        .order_by(*house_order())
    ).scalars().all()


def household_for_token(token: str):
    """The active household whose door-plate token is ``token``, else None (no lookup is
    made for a token of impossible length)."""
    from app.households.qr import token_hash
    if not 20 <= len(token or "") <= 64:
        return None
    # once per request: the rate limiter's exemption and the view ask for the same token
    found, wanted = g.setdefault("households_by_token", {}), token_hash(token)
    household = found.get(token)
    if household is None or household.qr_token_hash != wanted:  # not asked yet, or reissued
        # with what every door-plate page shows of it (its village, group and balance)
        household = found[token] = db.session.execute(
            select(Household).where(Household.qr_token_hash == wanted)
            .options(joinedload(Household.village), joinedload(Household.group),
                     joinedload(Household.balance))).scalar_one_or_none()
    return household if household is not None and household.status == "active" else None


def closed_household_for_token(token: str):
    """The household whose door-plate token is ``token`` when it is no longer active (moved
    away or merged), else None: its plate gets a page saying so instead of a bare 404."""
    household_for_token(token)
    household = g.get("households_by_token", {}).get(token)
    return household if household is not None and household.status != "active" else None
