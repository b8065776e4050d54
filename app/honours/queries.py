"""Reads of honours (always of one village or one household; callers scope the village)."""
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.honours.models import Honour

_ORDER = {"under_notice": 0, "nominated": 1, "awarded": 2, "declined": 3}


def village_honours(village_id: int, year: int, statuses=None) -> list:
    """Honours of a village for ``year`` (all statuses, or those in ``statuses``), ordered
    by status (under notice, nominated, awarded, declined), then title, then id."""
    stmt = (select(Honour).where(Honour.village_id == village_id, Honour.year == year)
            .options(joinedload(Honour.household), selectinload(Honour.objections)))
    if statuses:
        stmt = stmt.where(Honour.status.in_(statuses))
    rows = db.session.execute(stmt).scalars().all()
    return sorted(rows, key=lambda h: (_ORDER.get(h.status, 9), h.title, h.id))


def household_honours(household_id: int) -> list:
    """Awarded honours of a household, newest year first (a list of Honour)."""
    return db.session.execute(
        select(Honour).where(Honour.household_id == household_id, Honour.status == "awarded")
        .order_by(Honour.year.desc(), Honour.id)).scalars().all()


def notice_window(honours) -> tuple:
    """(first day, last day) of the notice periods of ``honours`` (local dates; the last day
    is ``Honour.notice_last_day``, inclusive), or (None, None) when none had a notice of at least
    one day."""
    noticed = [h for h in honours if h.notice_last_day is not None]
    starts = [h.notice_from for h in noticed]
    ends = [h.notice_last_day for h in noticed]
    return (min(starts) if starts else None, max(ends) if ends else None)
