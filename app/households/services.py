"""Writes to households. Services flush; the caller commits."""
from datetime import datetime, timezone
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

from app.accounts.models import utcnow
from app.extensions import db
from app.households.models import STATUSES, Household, HouseholdMember, HouseholdStatusChange
from app.households.qr import assign_token
from app.logs import log_event
from app.regions.services import add_region
from app.scoring.services import ensure_balance


@lru_cache(maxsize=65536)
def initials(name: str) -> str:
    """Pinyin initials of a Chinese name, lower case: "张三" -> "zs" (pypinyin; cached, as
    names repeat across a county's rosters and pypinyin's segmentation is slow)."""
    letters = lazy_pinyin(name or "", style=Style.FIRST_LETTER, errors="ignore")
    return "".join(letters).lower()[:32]


def add_household(*, village, group, house_number: str, head_name: str,
                  members=(), phone: str | None = None,
                  registered_at: datetime | None = None) -> Household:
    """Create an active household with a QR token and a zero balance (flushed), registered
    at ``registered_at`` (an aware UTC datetime, default now; the demo backdates it).

    ``group`` must be a villager group of ``village``; raises ValueError otherwise.
    """
    if group.parent_id != village.id:
        raise ValueError("villager group does not belong to the village")
    household = Household(village=village, group=group, house_number=house_number,
                          head_name=head_name, name_initials=initials(head_name),
                          phone=phone or None, status="active",
                          registered_at=registered_at or utcnow())
    assign_token(household)
    for pos, name in enumerate(members):
        household.members.append(HouseholdMember(name=name, position=pos))
    db.session.add(household)
    db.session.flush()
    ensure_balance(household)
    return household


def add_households(village, specs) -> list:
    """Create many active households of ``village`` at once, as ``add_household`` does for
    one (QR tokens, members, zero balances), with three bulk INSERTs instead of two flushes
    per household (issue 10: a 10,000-household roster). ``specs`` is a list of dicts with
    ``group`` (a villager group Region of ``village``), ``house_number``, ``head_name``,
    ``members`` and ``phone``. Returns the new household ids in order. Raises ValueError
    when a group does not belong to the village."""
    from sqlalchemy import insert

    from app.households.qr import derive_token, new_nonce, token_hash
    from app.scoring.models import HouseholdBalance
    if not specs:
        return []
    rows, now = [], utcnow()
    for spec in specs:
        if spec["group"].parent_id != village.id:
            raise ValueError("villager group does not belong to the village")
        nonce = new_nonce()
        rows.append(dict(village_id=village.id, group_id=spec["group"].id,
                         house_number=spec["house_number"], head_name=spec["head_name"],
                         name_initials=initials(spec["head_name"]),
                         phone=spec.get("phone") or None, status="active", enrolled=True,
                         qr_nonce=nonce, qr_token_hash=token_hash(derive_token(nonce)),
                         registered_at=now))
    db.session.flush()
    # Core inserts of the tables (not the ORM's bulk path, which builds each row again:
    # a third of a 10,000-household import); Column defaults still apply
    households = Household.__table__
    ids = db.session.scalars(insert(households).returning(households.c.id,
                                                          sort_by_parameter_order=True),
                             rows).all()
    members = [dict(household_id=hid, name=name, position=pos)
               for hid, spec in zip(ids, specs, strict=True)
               for pos, name in enumerate(spec.get("members") or ())]
    if members:
        db.session.execute(insert(HouseholdMember.__table__), members)
    db.session.execute(insert(HouseholdBalance.__table__), [
        dict(household_id=hid, earned_score=0, spendable_balance=0, pending_points=0,
             entry_count=0) for hid in ids])
    return ids


def update_household(household: Household, *, group, head_name: str, members,
                     phone: str | None) -> bool:
    """Bring a household's roster fields to the given values; True when anything changed."""
    changed = False
    if household.group_id != group.id:
        household.group = group
        changed = True
    if household.head_name != head_name:
        household.head_name = head_name
        household.name_initials = initials(head_name)
        changed = True
    if (household.phone or None) != (phone or None):
        household.phone = phone or None
        changed = True
    if household.member_names != list(members):
        household.members.clear()
        db.session.flush()
        for pos, name in enumerate(members):
            household.members.append(HouseholdMember(name=name, position=pos))
        changed = True
    db.session.flush()
    return changed


def group_code(village, number: int) -> str:
    """Our code for the ``number``-th villager group of a village: village code + 2 digits."""
    return f"{village.code}{number:02d}"


def add_group(village, name: str):
    """Create a villager group under ``village`` with the next free group code."""
    taken = {child.code for child in village.children}
    number = 1
    while group_code(village, number) in taken:
        number += 1
    return add_region(code=group_code(village, number), name=name, level="group",
                      parent=village, sort_order=number)


def reissue_token(household: Household, *, by) -> str:
    """Give ``household`` a new door-plate token (flushed); return it. The old plate stops
    working at once: only the new token's hash is stored."""
    token = assign_token(household)
    db.session.flush()
    log_event("qr_reissued", household_id=household.id, by_user_id=by.id)
    return token


def archive_household(household: Household, *, reason: str, by, to_status: str = "moved"):
    """Archive ``household`` (status ``moved`` by default), recording who, when and why
    (flushed). Its ledger is kept; its public page closes (only active households have one)
    and it leaves the search, the boards and the ranking. Raises ValueError when it is not
    active or ``reason`` is blank."""
    reason = (reason or "").strip()
    if household.status != "active":
        raise ValueError("household is not active")
    if to_status not in STATUSES or to_status == "active":
        raise ValueError(f"cannot archive as {to_status!r}")
    if not reason:
        raise ValueError("a reason is required")
    change = HouseholdStatusChange(household=household, from_status=household.status,
                                   to_status=to_status, reason=reason, changed_by=by,
                                   changed_at=datetime.now(timezone.utc))
    household.status = to_status
    db.session.add(change)
    db.session.flush()
    log_event("household_archived", household_id=household.id, to_status=to_status,
              by_user_id=by.id)
    return change
