"""Reads of the review workflow: the review queue and the public notice list."""
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.households.models import Household
from app.review.models import Objection, SelfReport
from app.scoring.models import LedgerEntry


def review_queue(village_id: int) -> dict:
    """What waits for the village committee: {"entries": awaiting review, "objections":
    open, "reports": pending self-reports}, oldest first."""
    entries = db.session.execute(
        select(LedgerEntry).options(joinedload(LedgerEntry.household),
                                    joinedload(LedgerEntry.recorded_by))
        .where(LedgerEntry.village_id == village_id, LedgerEntry.status == "awaiting_review")
        .order_by(LedgerEntry.id)).scalars().all()
    objections = db.session.execute(
        select(Objection).options(joinedload(Objection.entry).joinedload(LedgerEntry.household))
        .where(Objection.village_id == village_id, Objection.status == "open")
        .order_by(Objection.id)).scalars().all()
    reports = db.session.execute(
        select(SelfReport).options(joinedload(SelfReport.household), joinedload(SelfReport.item))
        .where(SelfReport.village_id == village_id, SelfReport.status == "pending")
        .order_by(SelfReport.id)).scalars().all()
    return {"entries": entries, "objections": objections, "reports": reports}


def notice_entries(village_id: int, period, group_id: int | None = None,
                   open_now: bool = False):
    """Entries of a month to post on the public notice (公示): awards and deductions whose
    deed date falls in ``period`` and that are under notice, held or confirmed (reversed ones
    show with their reversal); with ``open_now`` (the current month's notice) also every
    entry still under notice or held whatever its deed date (an entry of 15 November
    recorded on 1 December is open to objection now, so this notice shows it). A list of
    LedgerEntry ordered by house, then date."""
    in_period = and_(LedgerEntry.deed_date >= period.start, LedgerEntry.deed_date < period.end)
    still_open = LedgerEntry.status.in_(("under_notice", "held"))
    stmt = (select(LedgerEntry).join(Household, Household.id == LedgerEntry.household_id)
            .options(joinedload(LedgerEntry.household))
            .where(LedgerEntry.village_id == village_id, LedgerEntry.direction != "spend",
                   LedgerEntry.status.in_(("under_notice", "held", "confirmed")),
                   or_(in_period, still_open) if open_now else in_period))
    if group_id is not None:
        stmt = stmt.where(Household.group_id == group_id)
    rows = db.session.execute(stmt).scalars().all()
    return sorted(rows, key=lambda e: (len(e.household.house_number), e.household.house_number,
                                       e.deed_date, e.id))


def household_objections(household_id: int):
    """Objections a household raised, newest first (for its QR page), with each entry and
    the entry's household (an objection may be about another household's entry)."""
    return db.session.execute(
        select(Objection).options(joinedload(Objection.entry).joinedload(LedgerEntry.household))
        .where(Objection.by_household_id == household_id).order_by(Objection.id.desc())
        .limit(20)).scalars().all()


def household_reports(household_id: int):
    """Reports a household made, newest first (for its QR page): its own self-reports and
    its declarations about other households (beneficiary, peer; RULE-FEATURES row 22).
    Declarations by others about it are not listed (once accepted they are entries under
    public notice, open to objection)."""
    made = or_(and_(SelfReport.household_id == household_id,
                    SelfReport.declared_by_household_id.is_(None),
                    SelfReport.declared_by_user_id.is_(None)),
               SelfReport.declared_by_household_id == household_id)
    return db.session.execute(
        select(SelfReport).options(joinedload(SelfReport.item))
        .where(made).order_by(SelfReport.id.desc())
        .limit(20)).scalars().all()


def prize_released(household_id: int, period) -> bool:
    """True when a household's result for ``period`` may be rewarded: no objection to any of
    its entries of that period is still open (bamingcun: prizes are handed out only where no
    objection was raised; an open objection holds the prize until it is resolved)."""
    open_objection = (select(Objection.id).join(LedgerEntry, LedgerEntry.id == Objection.entry_id)
                      .where(LedgerEntry.household_id == household_id,
                             LedgerEntry.deed_date >= period.start,
                             LedgerEntry.deed_date < period.end, Objection.status == "open")
                      .limit(1))
    return db.session.execute(open_objection).first() is None
