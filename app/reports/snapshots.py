"""Roll-up snapshots (issue 10): what the roll-up pages show.

A county's roll-up is computed from the summary tables in about half a second (its cost is
the county's 100,000 households: exact medians sort every household's score), and county
and city officials open the same few roll-ups again and again while the villages keep
scoring. So the pages show a snapshot of the figures at most ``ROLLUP_MAX_AGE`` seconds old
(default 300; 0 computes on every request), say when it was taken, and offer to compute it
again at once (``fresh``). This module is the one place that decides whether a snapshot
may be served: nothing else invalidates it, and a snapshot never outlives its age.

Snapshots live in Flask-Caching (``app.extensions.cache``: Redis when ``CACHE_REDIS_URL``
is set, shared by every app process; else each process's memory). They hold plain figures
(RollupRows without their ORM keys); the keys are loaded again when one is shown. The
pilot evaluation and other services call ``queries.rollup`` directly (always computed).
"""
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from app.accounts.models import utcnow
from app.extensions import cache, db
from app.households.models import Household
from app.regions.models import Region
from app.reports import queries
from app.scoring.periods import Period


@dataclass
class Snapshot:
    """A roll-up as shown: ``rollup`` (keys attached), ``as_of`` (UTC, when its figures were
    computed) and ``cached`` (True when served from an earlier request)."""

    rollup: queries.Rollup
    as_of: datetime
    cached: bool


def _key(region: Region, period: Period) -> str:
    return f"rollup:{region.id}:{period.start.isoformat()}:{period.end.isoformat()}"


def _detach(r: queries.Rollup) -> dict:
    """The figures of ``r`` as plain data (ids instead of ORM objects)."""
    return {"level": r.child_level, "categories": r.categories, "trend": r.trend,
            "rows": [(row.key.id, replace(row, key=None)) for row in r.rows],
            "total": replace(r.total, key=None),
            "ranking": [(row.key.id, replace(row, key=None)) for row in r.ranking]}


def _attach(data: dict, region: Region, period: Period) -> queries.Rollup:
    """A Rollup from ``_detach``'s data, its keys loaded in one query per kind."""
    model = Household if data["level"] == "household" else Region
    ids = {i for i, _ in data["rows"]}
    keys = {o.id: o for o in db.session.execute(
        select(model).where(model.id.in_(ids))).scalars()} if ids else {}
    village_ids = {i for i, _ in data["ranking"]} - (ids if model is Region else set())
    villages = {o.id: o for o in db.session.execute(
        select(Region).where(Region.id.in_(village_ids))).scalars()} if village_ids else {}
    villages.update(keys if model is Region else {})

    def rows(pairs, found):
        return [replace(row, key=found[i]) for i, row in pairs if i in found]
    return queries.Rollup(region=region, period=period, child_level=data["level"],
                          rows=rows(data["rows"], keys), total=replace(data["total"],
                                                                       key=region),
                          categories=data["categories"], trend=data["trend"],
                          ranking=rows(data["ranking"], villages))


def rollup(region: Region, period: Period, *, fresh: bool = False) -> Snapshot:
    """The roll-up of ``region`` (already checked to lie in the user's scope) over
    ``period``: a snapshot computed less than ``ROLLUP_MAX_AGE`` seconds ago when there is
    one and ``fresh`` is False, else computed now (and kept for the next requests)."""
    max_age = int(current_app.config.get("ROLLUP_MAX_AGE", 0))
    key, now = _key(region, period), utcnow()
    if max_age > 0 and not fresh:
        found = _cached(key)
        if found is not None and now - found["as_of"] < timedelta(seconds=max_age):
            return Snapshot(_attach(found["figures"], region, period), found["as_of"], True)
    r = queries.rollup(region, period)
    if max_age > 0:
        try:
            cache.set(key, {"as_of": now, "figures": _detach(r)}, timeout=max_age)
        except Exception:   # noqa: BLE001  the cache is an optimisation: Redis down is fine
            current_app.logger.warning("rollup_snapshot_not_kept", exc_info=True)
    return Snapshot(r, now, False)


def _cached(key: str):
    """The snapshot kept under ``key``, or None (also when the cache cannot be reached)."""
    try:
        return cache.get(key)
    except Exception:   # noqa: BLE001  Redis down: compute instead
        current_app.logger.warning("rollup_snapshot_unreadable", exc_info=True)
        return None
