"""Writes to the region tree. Services flush; the caller commits."""
from app.extensions import db
from app.regions.models import LEVELS, Region


def add_region(*, code, name, level, parent=None, **fields) -> Region:
    """Create a region under ``parent`` and set its materialized path.

    Returns the flushed Region. Raises ValueError when ``level`` is unknown or does not sit
    directly below the parent's level.
    """
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}")
    if parent is not None and LEVELS.index(level) != LEVELS.index(parent.level) + 1:
        raise ValueError(f"a {level} cannot sit under a {parent.level}")
    region = Region(code=code, name=name, level=level, parent=parent, **fields)
    db.session.add(region)
    db.session.flush()
    region.path = (parent.path if parent else "/") + f"{region.id}/"
    db.session.flush()
    return region


def get_or_add_region(*, code, name, level, parent=None, **fields) -> Region:
    """Return the region with ``code``, creating it (see ``add_region``) when absent."""
    region = Region.query.filter_by(code=code).one_or_none()
    if region is None:
        region = add_region(code=code, name=name, level=level, parent=parent, **fields)
    return region
