"""Evidence channels beyond the cadre and the household itself (RULE-FEATURES row 22): the
person helped declares the deed, a villager reports another household's deed, a volunteer
recorder (志愿记录员) records one. Each is a SelfReport with its ``channel`` that waits in the
review queue; nothing here writes the ledger. Services flush, never commit.
"""
from datetime import date

from sqlalchemy import select

from app.extensions import db
from app.households.models import Household
from app.households.numbers import house_number as normal_house_number
from app.review.models import SelfReport
from app.review.services import check_declaration, pending_twin, report_by_key
from app.rules.engine import N_, Refusal
from app.rules.queries import with_items
from app.rules.uses import CHANNEL_NAMES, DEDUCTION_CHANNELS, accepted_channels, check_channel

#: Channels a villager uses from a door plate's page about another household.
VILLAGER_CHANNELS = ("beneficiary", "peer")


def household_by_number(village_id: int, house_number: str):
    """The active household of ``village_id`` with door number ``house_number`` (stripped),
    or None."""
    number = normal_house_number(house_number)
    if not number or len(number) > 32:
        return None
    return db.session.execute(
        select(Household).where(Household.village_id == village_id,
                                Household.house_number == number,
                                Household.status == "active")).scalar_one_or_none()


def channel_items(version, channel: str) -> list:
    """Rule items of ``version`` that accept ``channel`` (award items only for a channel
    that declares good deeds), in rulebook order."""
    version = with_items(version)
    if version is None:
        return []
    return [i for c in version.categories for i in c.items
            if channel in accepted_channels(i.params)
            and (channel in DEDUCTION_CHANNELS or not i.is_deduction)]


def submit_declaration(subject, *, channel: str, item_id, deed_date: date, description: str,
                       by_household=None, by_user=None, evidence_id: int | None = None,
                       idempotency_key: str | None = None) -> SelfReport:
    """Bring a deed of household ``subject`` to the review queue through ``channel``:
    ``beneficiary`` or ``peer`` (``by_household``: the villager's household, from its QR
    page) or ``volunteer`` (``by_user``: a 志愿记录员). ``deed_date`` is a local date.
    Returns the flushed pending SelfReport; a repeated ``idempotency_key`` returns the first.

    Raises Refusal when: the subject is not an active household of the declarer's village
    ("not_in_village") or is the declarer's own household ("own_household": use the self
    report); the description is blank or over 500 characters; the date is in the future or
    more than 90 days ago; the item is not in the rulebook in force on that date
    ("item_not_in_force"); the item does not accept the channel ("channel_refused") or the
    channel declares good deeds only ("channel_deduction").
    """
    if channel not in (*VILLAGER_CHANNELS, "volunteer"):
        raise ValueError(f"unknown channel {channel!r}")
    first = report_by_key(idempotency_key)
    if first is not None:
        return first
    if by_household is not None:
        inside = subject is not None and subject.village_id == by_household.village_id
    else:
        inside = subject is not None and by_user.region.contains(subject.village)
    if not inside or subject.status != "active":
        raise Refusal("not_in_village", N_("本村没有这一户，请核对门牌号"))
    if by_household is not None and subject.id == by_household.id:
        raise Refusal("own_household", N_("不能为自己家申报，请用“申报好人好事”"))
    description, item = check_declaration(subject.village, item_id, deed_date, description,
                                          N_("请简单写明是什么事"))
    if item is None:
        raise Refusal("item_not_in_force", N_("请选择细则中的一项"))
    check_channel(item.name, accepted_channels(item.params), channel, item.is_deduction)
    twin = pending_twin(household_id=subject.id, item_id=item.id, deed_date=deed_date,
                        description=description, channel=channel,
                        declared_by_household_id=by_household.id if by_household else None,
                        declared_by_user_id=by_user.id if by_user else None)
    if twin is not None:   # the same declaration sent again (the back button)
        return twin
    report = SelfReport(household_id=subject.id, village_id=subject.village_id,
                        item_id=item.id, deed_date=deed_date, description=description,
                        evidence_id=evidence_id, status="pending", channel=channel,
                        declared_by_household_id=by_household.id if by_household else None,
                        declared_by_user_id=by_user.id if by_user else None,
                        idempotency_key=idempotency_key or None)
    db.session.add(report)
    db.session.flush()
    return report


def entry_note(report: SelfReport) -> str:
    """The note of the ledger entry a report becomes, naming its channel (at most 500
    characters): "村民申报 #7：…" for the household's own report, e.g. "受助人申报 #8（2 号户
    申报）：…" for the others (a peer report leaves the reporter out). The note is part of
    the entry's hash (scoring.chain)."""
    channel = report.channel or "self"
    if channel == "self":
        return f"村民申报 #{report.id}：{report.description}"[:500]
    by = ""  # a peer report does not name who reported (the review queue does)
    if report.declared_by_household is not None and channel != "peer":
        by = f"（{report.declared_by_household.house_number} 号户申报）"
    elif report.declared_by_user is not None:
        by = f"（{report.declared_by_user.display_name}）"
    return f"{CHANNEL_NAMES[channel]} #{report.id}{by}：{report.description}"[:500]


def village_households(village_id: int) -> list:
    """Active households of a village ordered by house number (for a volunteer's form)."""
    rows = db.session.execute(select(Household).where(
        Household.village_id == village_id, Household.status == "active")).scalars().all()
    return sorted(rows, key=lambda h: (len(h.house_number), h.house_number, h.id))


def recent_by_user(user_id: int, limit: int = 20) -> list:
    """The latest reports a volunteer recorder submitted, newest first (to see outcomes)."""
    return db.session.execute(
        select(SelfReport).where(SelfReport.declared_by_user_id == user_id)
        .order_by(SelfReport.id.desc()).limit(limit)).scalars().all()
