"""Who manages which accounts, and the scoped reads behind the account pages.

- a system admin: every account in its region (city-wide), any role, except its own
  account (it changes its own password like everyone else);
- a village admin: the village scorers of its own village;
- nobody else manages accounts.

Accounts outside what the actor manages do not exist for it (404).
"""
from flask import abort
from sqlalchemy import select

from app.accounts.models import User
from app.accounts.roles import ROLES
from app.extensions import db
from app.regions.models import LEVELS, Region
from app.regions.queries import in_scope


def manageable_roles(actor) -> list:
    """The roles ``actor`` may give to accounts it creates (a list, in ROLES order)."""
    if actor.role == "system_admin":
        return list(ROLES)
    if actor.role == "village_admin":
        return ["village_scorer", "village_volunteer"]
    return []


def managed_users_stmt(actor):
    """A Select of the accounts ``actor`` manages (never its own), by region then username."""
    stmt = in_scope(select(User), User.region_id, actor.region).where(User.id != actor.id)
    roles = manageable_roles(actor)
    if actor.role != "system_admin":
        stmt = stmt.where(User.role.in_(roles))
    return stmt.order_by(User.region_id, User.username)


def managed_user_or_404(actor, user_id) -> User:
    """The account ``user_id`` when ``actor`` manages it, else 404."""
    try:
        user_id = int(user_id)
    except (TypeError, ValueError):
        abort(404)
    user = db.session.execute(managed_users_stmt(actor).where(User.id == user_id)) \
        .scalar_one_or_none()
    if user is None:
        abort(404)
    return user


def region_choices(actor) -> list:
    """(region, label) pairs ``actor`` may place accounts in: its own region and, for a
    system admin, every city, county, township and village below it. Labels are the path of
    names ("南昌县 / 莲塘镇 / 斗门村委会"); ordered by level, then by path."""
    if actor.role != "system_admin":
        return [(actor.region, actor.region.name)]
    regions = db.session.execute(
        in_scope(select(Region), Region.id, actor.region).where(Region.level != "group")
    ).scalars().all()
    by_id = {r.id: r for r in regions}

    def label(region):
        names = []
        node = region
        while node is not None and node.id in by_id:
            names.append(node.name)
            node = by_id.get(node.parent_id)
        return " / ".join(reversed(names))

    labelled = [(r, label(r)) for r in regions]
    labelled.sort(key=lambda pair: (LEVELS.index(pair[0].level), pair[1]))
    return labelled
