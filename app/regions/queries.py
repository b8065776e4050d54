"""The one scoped query: every read of scoped data goes through ``in_scope``.

A user's scope is a region; anything outside it does not exist for them (404, never 403).
"""
from flask import abort
from sqlalchemy import select

from app.extensions import db
from app.ids import as_id
from app.regions.models import Region


def in_scope(stmt, region_column, scope: Region):
    """Restrict ``stmt`` to rows whose ``region_column`` (a Region id column) lies in ``scope``.

    ``stmt`` is a SQLAlchemy Select; returns the filtered Select. The filter is a join on the
    region table by path prefix, so it works for any level of scope.
    """
    scoped = select(Region.id).where(Region.path.startswith(scope.path))
    return stmt.where(region_column.in_(scoped))


def get_scoped_or_404(model, ident, region_attr: str, scope: Region):
    """Load ``model`` by primary key when its ``region_attr`` region lies in ``scope``, else 404."""
    ident = as_id(ident)
    if ident is None:
        abort(404)
    stmt = in_scope(select(model).where(model.id == ident), getattr(model, region_attr), scope)
    obj = db.session.execute(stmt).scalar_one_or_none()
    if obj is None:
        abort(404)
    return obj


def region_or_404(region_id, scope: Region) -> Region:
    """The region ``region_id`` when it lies within ``scope``, else 404."""
    return get_scoped_or_404(Region, region_id, "id", scope)


def children(region: Region):
    """Direct children of ``region`` ordered by sort order then code (a list of Region)."""
    return db.session.execute(
        select(Region).where(Region.parent_id == region.id)
        .order_by(Region.sort_order, Region.code)
    ).scalars().all()


def villages_under(scope: Region):
    """Every village in ``scope`` (a list of Region ordered by code)."""
    stmt = in_scope(select(Region).where(Region.level == "village"), Region.id, scope)
    return db.session.execute(stmt.order_by(Region.code)).scalars().all()
