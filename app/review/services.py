"""Review workflow writes: second-person review, the end of public notice, objections and
self-reports. Services flush, never commit; each takes the village's chain lock through the
scoring services it calls.
"""
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from app.accounts.models import utcnow
from app.extensions import db
from app.review.models import Objection, SelfReport
from app.rules import queries as rules_q
from app.rules.engine import N_, Refusal, to_points
from app.rules.models import RulebookVersion
from app.rules.periodic import notice_ends
from app.scoring import chain
from app.scoring.models import LedgerEntry, VillageSettings
from app.scoring.periods import local_today, to_local
from app.scoring.services import _record, move, post_entry, reverse_entry, village_settings


def _check_second_person(entry: LedgerEntry, user) -> None:
    if user.id == entry.recorded_by_id:
        raise Refusal("same_person", N_("审核须由记分人以外的另一人进行"))
    if user.household_id == entry.household_id:
        raise Refusal("own_family", N_("不能审核自己家的积分"))


def approve(entry: LedgerEntry, *, by_user, at=None) -> LedgerEntry:
    """A second person approves an entry awaiting review: it goes under public notice until
    ``notice_until_for`` (the rulebook's notice cadence, as a direct posting), or is
    confirmed at once when the village has no notice period. Raises Refusal when the entry
    is not awaiting review or the reviewer recorded it or belongs to the household.
    ``at`` (UTC) defaults to now; only bulk loads of past records set it."""
    _check_second_person(entry, by_user)
    chain.lock_chain(entry.village_id)
    db.session.refresh(entry)
    if entry.status != "awaiting_review":
        raise Refusal("not_awaiting_review", N_("该记录不在待审核状态"))
    settings = village_settings(entry.village_id)
    if settings.notice_days <= 0:
        return move(entry, "confirmed", by_user=by_user, reason="审核通过", at=at)
    day = to_local(at).date() if at else local_today()
    entry.notice_until = notice_until_for(entry, day, settings.notice_days)
    return move(entry, "under_notice", by_user=by_user, reason="审核通过", at=at)


def notice_until_for(entry: LedgerEntry, day: date, notice_days: int) -> date:
    """The local date the notice of ``entry``, put under notice on local date ``day``, ends:
    the same rule as a direct posting (``rules.periodic.notice_ends``, RULE-FEATURES row 18:
    with the rulebook's notice cadence, posted at the end of the notice period, then
    ``notice_days``; else ``notice_days`` from ``day``), with the entry's own rulebook
    version."""
    version = db.session.get(RulebookVersion, entry.rulebook_version_id) \
        if entry.rulebook_version_id else None
    if version is None:
        return day + timedelta(days=notice_days)
    return notice_ends(rules_q.book_rule(version), day, notice_days)


def decline(entry: LedgerEntry, *, by_user, reason: str) -> LedgerEntry:
    """A second person declines an entry awaiting review (with a reason); it counts nowhere."""
    reason = (reason or "").strip()
    if not reason:
        raise Refusal("reason_required", N_("请填写不通过的原因"))
    _check_second_person(entry, by_user)
    chain.lock_chain(entry.village_id)
    db.session.refresh(entry)
    if entry.status != "awaiting_review":
        raise Refusal("not_awaiting_review", N_("该记录不在待审核状态"))
    return move(entry, "declined", by_user=by_user, reason=reason)


def confirm_due(village_id: int, today: date | None = None, at=None) -> int:
    """Confirm the village's entries whose public notice ended (``notice_until <= today``,
    a local date) and that no open objection holds. Returns how many were confirmed.
    ``at`` (UTC) stamps the transitions; it defaults to now."""
    today = today or local_today()
    due = select(LedgerEntry.id).where(LedgerEntry.village_id == village_id,
                                       LedgerEntry.status == "under_notice",
                                       LedgerEntry.notice_until <= today)
    if db.session.execute(due.limit(1)).first() is None:
        return 0
    chain.lock_chain(village_id)
    entries = db.session.execute(
        select(LedgerEntry).where(LedgerEntry.id.in_(due)).order_by(LedgerEntry.id)
    ).scalars().all()
    for entry in entries:
        move(entry, "confirmed", reason="公示期满无异议", at=at)
    return len(entries)


def objection_by(entry: LedgerEntry, *, by_household=None, by_user=None) -> Objection | None:
    """The latest objection to ``entry`` raised by ``by_household`` (a villager's QR page)
    or ``by_user`` (a cadre), open or resolved, or None."""
    if by_household is not None:
        who = Objection.by_household_id == by_household.id
    elif by_user is not None:
        who = Objection.by_user_id == by_user.id
    else:
        return None
    return db.session.execute(
        select(Objection).where(Objection.entry_id == entry.id, who)
        .order_by(Objection.id.desc()).limit(1)).scalar_one_or_none()


def check_no_objection_yet(entry: LedgerEntry, *, by_household=None, by_user=None) -> None:
    """Refuse ("already_objected") a second objection by the same household or cadre to
    ``entry``, whether the first is still open or already resolved."""
    first = objection_by(entry, by_household=by_household, by_user=by_user)
    if first is None:
        return
    if first.status == "open":
        raise Refusal("already_objected", N_("您对这条记录的异议正在处理中，不能重复提出"))
    raise Refusal("already_objected", N_("您已对这条记录提出过异议，村委会已处理，不能再次提出"))


def raise_objection(entry: LedgerEntry, *, text: str, by_household=None, by_user=None,
                    evidence_id: int | None = None,
                    idempotency_key: str | None = None) -> Objection:
    """Object to an entry under public notice; the entry is held until resolved.

    ``by_household`` (a villager through a QR page) must live in the entry's village.
    Raises Refusal when the text is blank or too long, the entry is not under notice, or
    the same household (or cadre) already objected to it ("already_objected": once per
    objector and entry, open or resolved; checked under the chain lock). A repeated
    ``idempotency_key`` returns the first objection.
    """
    if idempotency_key:
        if len(idempotency_key) > 64:
            raise Refusal("bad_key", N_("请求有误，请刷新页面后重试"))
        first = db.session.execute(select(Objection).where(
            Objection.idempotency_key == idempotency_key)).scalar_one_or_none()
        if first is not None:
            return first
    text = (text or "").strip()
    if not text:
        raise Refusal("text_required", N_("请写明异议的理由"))
    if len(text) > 500:
        raise Refusal("text_too_long", N_("异议理由不能超过 500 字"))
    if by_household is not None and by_household.village_id != entry.village_id:
        raise Refusal("not_in_village", N_("只能对本村的记录提出异议"))
    chain.lock_chain(entry.village_id)
    db.session.refresh(entry)
    if entry.status not in ("under_notice", "held"):
        raise Refusal("not_under_notice", N_("该记录不在公示期内，不能提出异议"))
    check_no_objection_yet(entry, by_household=by_household, by_user=by_user)
    objection = Objection(entry_id=entry.id, village_id=entry.village_id,
                          by_household_id=by_household.id if by_household else None,
                          by_user_id=by_user.id if by_user else None, text=text,
                          evidence_id=evidence_id, status="open",
                          idempotency_key=idempotency_key or None)
    db.session.add(objection)
    db.session.flush()
    move(entry, "held", by_user=by_user, reason=f"异议 #{objection.id}")
    return objection


def resolve_objection(objection: Objection, *, outcome: str, reason: str, by_user,
                      adjusted_points=None) -> Objection:
    """The committee resolves an open objection with a reason.

    ``outcome``: ``entry_upheld`` (the entry stands: back under notice until its notice ends,
    else confirmed), ``reversed`` (the entry is cancelled by a reversal), or ``adjusted``
    (cancelled, and a confirmed entry of ``adjusted_points`` for the same item replaces it:
    same sign, within the item's range, or smaller for fixed items). The entry leaves
    ``held`` once no other objection to it is open. Raises Refusal on a closed objection,
    a blank reason or a bad adjustment.
    """
    reason = (reason or "").strip()
    if not reason:
        raise Refusal("reason_required", N_("请填写处理理由"))
    if outcome not in ("entry_upheld", "adjusted", "reversed"):
        raise Refusal("bad_outcome", N_("请选择处理结果"))
    entry = objection.entry
    chain.lock_chain(entry.village_id)
    db.session.refresh(objection)
    db.session.refresh(entry)
    if objection.status != "open":
        raise Refusal("objection_closed", N_("该异议已经处理过"))
    amount = _check_adjustment(entry, adjusted_points) if outcome == "adjusted" else None
    objection.status, objection.outcome, objection.resolution = "resolved", outcome, reason
    objection.resolved_by_id, objection.resolved_at = by_user.id, utcnow()
    objection.adjusted_points = amount
    db.session.flush()
    others_open = db.session.execute(
        select(Objection.id).where(Objection.entry_id == entry.id, Objection.status == "open")
    ).first() is not None
    if outcome == "entry_upheld":
        if not others_open and entry.status == "held":
            ended = entry.notice_until is None or entry.notice_until <= local_today()
            move(entry, "confirmed" if ended else "under_notice", by_user=by_user,
                 reason=f"异议 #{objection.id} 处理：维持原记录")
        return objection
    if entry.status != "cancelled":
        reverse_entry(entry, reason=f"异议 #{objection.id}：{reason}", recorded_by=by_user)
    if amount is not None:
        _record(LedgerEntry(
            household_id=entry.household_id, village_id=entry.village_id, kind="score",
            direction=entry.direction, rulebook_version_id=entry.rulebook_version_id,
            item_id=entry.item_id, item_code=entry.item_code, item_name=entry.item_name,
            category_name=entry.category_name, unit_points=amount, quantity=1, points=amount,
            deed_date=entry.deed_date, period=entry.period,
            reason=f"异议 #{objection.id} 调整：{reason}", recorded_by_id=by_user.id,
            recorded_at=utcnow()), "confirmed", by_user, reason)
    return objection


def _check_adjustment(entry: LedgerEntry, value) -> Decimal:
    if value in (None, ""):
        raise Refusal("bad_points", N_("请填写调整后的分值"))
    amount = to_points(value)
    original = Decimal(entry.points)
    if amount == 0 or (amount > 0) != (original > 0):
        raise Refusal("bad_points", N_("调整后的分值须与原分值同为加分或同为扣分，且不为 0"))
    if amount == original:
        raise Refusal("same_points", N_("调整后的分值与原分值相同；不改分请选“维持原记录”"))
    item = entry.item
    if item is not None and item.kind == "range":
        low, high = sorted((item.min_points * entry.quantity, item.max_points * entry.quantity))
        if not low <= amount <= high:
            raise Refusal("bad_points", N_("调整后的分值须在该项范围 %(low)s～%(high)s 内"),
                          low=format(low.normalize(), "f"), high=format(high.normalize(), "f"))
    elif abs(amount) > abs(original):
        raise Refusal("bad_points", N_("固定分值项只能调低，不能超过原分值"))
    return amount


def report_by_key(idempotency_key: str | None) -> SelfReport | None:
    """The report already submitted under ``idempotency_key``, or None. Raises Refusal
    ("bad_key") for a key over 64 characters."""
    if not idempotency_key:
        return None
    if len(idempotency_key) > 64:
        raise Refusal("bad_key", N_("请求有误，请刷新页面后重试"))
    return db.session.execute(select(SelfReport).where(
        SelfReport.idempotency_key == idempotency_key)).scalar_one_or_none()


def check_declaration(village, item_id, deed_date: date, description: str, blank: str):
    """The checks every declaration shares (self, person helped, peer, volunteer): returns
    (the stripped description, the RuleItem ``item_id`` of the rulebook in force in
    ``village`` on ``deed_date``, or None). Raises Refusal when the description is blank
    (the ``blank`` msgid) or over 500 characters, or the date is in the future or more than
    90 days ago."""
    description = (description or "").strip()
    if not description:
        raise Refusal("text_required", blank)
    if len(description) > 500:
        raise Refusal("text_too_long", N_("说明不能超过 500 字"))
    today = local_today()
    if deed_date > today:
        raise Refusal("future_date", N_("事情发生日期不能晚于今天"))
    if (today - deed_date).days > 90:
        raise Refusal("too_old", N_("只能申报 90 天以内的事情"))
    version = rules_q.version_in_force(village, deed_date)
    return description, rules_q.item_in_version(version, item_id) if version else None


def pending_twin(**fields) -> SelfReport | None:
    """A pending report with exactly these column values (``household_id``, ``item_id``,
    ``deed_date``, ``description``, ``channel``, the declarer), or None. The back button
    brings a submitted form back with what was typed but a fresh idempotency key: sending it
    again must not make a second report for the cadres to review."""
    return db.session.execute(
        select(SelfReport).where(SelfReport.status == "pending",
                                 *(getattr(SelfReport, k) == v if v is not None
                                   else getattr(SelfReport, k).is_(None)
                                   for k, v in fields.items()))
        .order_by(SelfReport.id).limit(1)).scalar_one_or_none()


def submit_self_report(household, *, item_id, deed_date: date, description: str,
                       evidence_id: int | None = None,
                       idempotency_key: str | None = None) -> SelfReport:
    """A household declares a deed from its QR page; it waits for a cadre's review.

    Raises Refusal when the description is blank or too long, the date is in the future or
    more than 90 days ago, or the item is not in the rulebook in force on that date, or the
    item does not accept the ``self`` channel (row 22: "channel_refused"). A repeated
    ``idempotency_key``, or the same declaration still pending (``pending_twin``), returns
    the first report.
    """
    first = report_by_key(idempotency_key)
    if first is not None:
        return first
    description, item = check_declaration(household.village, item_id, deed_date, description,
                                          N_("请简单写明做了什么好事"))
    if item is None or item.is_deduction or item.kind == "scorecard":   # inspections: cadres
        raise Refusal("item_not_in_force", N_("请选择细则中的一个加分项"))
    from app.rules.uses import accepted_channels, check_channel  # row 22
    check_channel(item.name, accepted_channels(item.params), "self")
    twin = pending_twin(household_id=household.id, item_id=item.id, deed_date=deed_date,
                        description=description, channel="self")
    if twin is not None:
        return twin
    report = SelfReport(household_id=household.id, village_id=household.village_id,
                        item_id=item.id, deed_date=deed_date, description=description,
                        evidence_id=evidence_id, status="pending",
                        idempotency_key=idempotency_key or None)
    db.session.add(report)
    db.session.flush()
    return report


def _check_pending(report: SelfReport) -> None:
    """Refuse ("report_closed") a report already accepted or declined, re-read under the
    village's chain lock so a second submission waits for the first and then sees it."""
    if report.status == "pending":
        chain.lock_chain(report.village_id)
        db.session.refresh(report)
    if report.status != "pending":
        raise Refusal("report_closed", N_("该申报已经处理过"))


def accept_self_report(report: SelfReport, *, by_user, points=None) -> LedgerEntry:
    """Accept a pending self-report: it becomes an entry recorded by ``by_user`` (judged by
    the engine as any other, with the report's channel, then under public notice); its note
    names the channel (``review.channels.entry_note``). Raises Refusal ("report_closed")
    when already decided (checked under the village's chain lock, so two cadres submitting
    at once record it once) or when the engine refuses."""
    _check_pending(report)
    from app.review.channels import entry_note
    entry = post_entry(household=report.household, item_id=report.item_id,
                       deed_date=report.deed_date, recorded_by=by_user, points=points,
                       note=entry_note(report),
                       evidence_id=report.evidence_id, idempotency_key=f"self-report-{report.id}",
                       channel=report.channel or "self")
    report.status, report.entry_id = "accepted", entry.id
    report.decided_by_id, report.decided_at = by_user.id, utcnow()
    db.session.flush()
    return entry


def decline_self_report(report: SelfReport, *, by_user, reason: str) -> SelfReport:
    """Decline a pending self-report with a reason the household sees on its QR page.
    Raises Refusal when the reason is blank or the report is already decided."""
    reason = (reason or "").strip()
    if not reason:
        raise Refusal("reason_required", N_("请填写不采纳的原因"))
    _check_pending(report)
    report.status, report.decision_reason = "declined", reason
    report.decided_by_id, report.decided_at = by_user.id, utcnow()
    db.session.flush()
    return report


def save_settings(village_id: int, *, notice_days: int, review_above=None) -> VillageSettings:
    """Set a village's notice period (0-30 days) and the amount above which an entry needs a
    second person (None: no threshold). Entries already recorded keep their notice dates.
    Returns the flushed settings; raises Refusal("bad_points") for a bad amount."""
    amount = None
    if review_above not in (None, ""):
        amount = to_points(review_above)
        if amount <= 0:
            raise Refusal("bad_points", N_("审核分值须大于 0"))
    settings = db.session.get(VillageSettings, village_id)
    if settings is None:
        settings = VillageSettings(village_id=village_id)
        db.session.add(settings)
    settings.notice_days, settings.review_above = int(notice_days), amount
    db.session.flush()
    return settings
