"""Domain writes of honours and star conferments (they flush, never commit; the caller logs
to the audit log and commits). Refusals carry Chinese ``N_`` msgids (rules.engine)."""
from datetime import date, timedelta

from sqlalchemy import select

from app.accounts.models import utcnow
from app.extensions import db
from app.honours.models import (BUILTIN_TITLES, Honour, HonourObjection, HonourTitle,
                                StarConferment, StarRating)
from app.honours.stars import conferment_of, star_ratings
from app.rules.engine import N_, Refusal
from app.scoring.periods import Period, local_today


def titles_of(village_id: int) -> list:
    """Title names a village may award: the built-in ones, then its own, by creation."""
    own = db.session.execute(
        select(HonourTitle.name).where(HonourTitle.village_id == village_id)
        .order_by(HonourTitle.id)).scalars().all()
    return list(BUILTIN_TITLES) + [t for t in own if t not in BUILTIN_TITLES]


def add_title(village, name: str) -> HonourTitle:
    """Add a village-defined title. Raises Refusal when blank, longer than 20 characters or
    already a title of the village."""
    name = (name or "").strip()
    if not name:
        raise Refusal("title_required", N_("请填写称号名称"))
    if len(name) > 20:
        raise Refusal("title_too_long", N_("称号名称不能超过 20 个字"))
    if name in titles_of(village.id):
        raise Refusal("title_exists", N_("“%(name)s”已经是本村的称号"), name=name)
    title = HonourTitle(village_id=village.id, name=name)
    db.session.add(title)
    db.session.flush()
    return title


def _key(idempotency_key):
    if idempotency_key and len(idempotency_key) > 64:
        raise Refusal("bad_key", N_("请求有误，请刷新页面后重试"))
    return idempotency_key or None


def nominate(household, *, title: str, year: int, reason: str, by_user=None,
             by_household=None, idempotency_key: str | None = None) -> Honour:
    """Nominate ``household`` (active) for ``title`` of ``year``, by a cadre (``by_user``)
    or a villager's household (``by_household``, from its door-plate page). A repeated
    ``idempotency_key`` returns the first nomination.

    Raises Refusal when the title is not one of the village's, the year is not this year or
    last year, the reason is blank or over 500 characters, the household is not active, or
    the household already holds or is nominated for the title that year.
    """
    key = _key(idempotency_key)
    if key:
        first = db.session.execute(select(Honour).where(Honour.idempotency_key == key)
                                   ).scalar_one_or_none()
        if first is not None:
            return first
    if household is None or household.status != "active":
        raise Refusal("inactive", N_("请选择一户在册农户"))
    if title not in titles_of(household.village_id):
        raise Refusal("bad_title", N_("请选择本村的一个称号"))
    this_year = local_today().year
    if year not in (this_year, this_year - 1):
        raise Refusal("bad_year", N_("只能提名今年或去年的称号"))
    reason = (reason or "").strip()
    if not reason:
        raise Refusal("reason_required", N_("请写明推荐理由（事迹）"))
    if len(reason) > 500:
        raise Refusal("reason_too_long", N_("推荐理由不能超过 500 字"))
    dup = db.session.execute(select(Honour.id).where(
        Honour.household_id == household.id, Honour.title == title, Honour.year == year,
        Honour.status != "declined")).first()
    if dup is not None:
        raise Refusal("already_nominated", N_("该户已被提名或已获得%(year)s年“%(title)s”"),
                      year=year, title=title)
    honour = Honour(village_id=household.village_id, household_id=household.id, title=title,
                    year=year, reason=reason, status="nominated",
                    nominated_by_id=getattr(by_user, "id", None),
                    nominated_by_household_id=getattr(by_household, "id", None),
                    idempotency_key=key)
    db.session.add(honour)
    db.session.flush()
    return honour


def start_notice(honour: Honour, *, days: int, start: date | None = None) -> Honour:
    """Put a nomination under public notice for ``days`` (0-30) days from ``start`` (local
    date, today by default): it may be awarded from ``notice_until`` on. Raises Refusal
    when it is not a fresh nomination or ``days`` is out of range."""
    if honour.status != "nominated":
        raise Refusal("honour_closed", N_("该提名已公示或已处理"))
    if days is None or not 0 <= days <= 30:
        raise Refusal("bad_days", N_("公示天数须在 0 到 30 之间"))
    start = start or local_today()
    honour.status, honour.notice_days = "under_notice", days
    honour.notice_from, honour.notice_until = start, start + timedelta(days=days)
    db.session.flush()
    return honour


def award(honour: Honour, *, by_user, decision_date: date, note: str) -> Honour:
    """Award an honour whose public notice has ended, recording the decision (四议两公开:
    the meeting's date and a note). Raises Refusal when not under notice, the notice period
    has not ended, the decision date is in the future or before the notice began, or the
    note is blank."""
    if honour.status != "under_notice":
        raise Refusal("not_under_notice", N_("须先公示，公示期满后才能授予"))
    today = local_today()
    if today < honour.notice_until:
        raise Refusal("notice_running", N_("公示期到 %(until)s 结束，期满后才能授予"),
                      until=(honour.notice_last_day or honour.notice_until).isoformat())
    if decision_date is None or decision_date > today or decision_date < honour.notice_from:
        raise Refusal("bad_decision_date", N_("决定日期须在公示开始之后、今天之前"))
    note = (note or "").strip()
    if not note:
        raise Refusal("note_required", N_("请填写决定记录（会议、到会人数、表决结果）"))
    honour.status, honour.decided_by_id, honour.decided_at = "awarded", by_user.id, utcnow()
    honour.decision_date, honour.decision_note = decision_date, note[:1000]
    db.session.flush()
    return honour


def decline(honour: Honour, *, by_user, reason: str) -> Honour:
    """Decline a nomination (nominated or under notice) with a reason the nominator sees.
    Raises Refusal when already decided or the reason is blank."""
    if honour.status not in ("nominated", "under_notice"):
        raise Refusal("honour_closed", N_("该提名已经处理过"))
    reason = (reason or "").strip()
    if not reason:
        raise Refusal("reason_required", N_("请填写不授予的原因"))
    honour.status, honour.decided_by_id, honour.decided_at = "declined", by_user.id, utcnow()
    honour.decline_reason = reason[:500]
    db.session.flush()
    return honour


def has_objected(honour: Honour, household) -> bool:
    """Whether ``household`` has already raised an objection to ``honour``."""
    return db.session.execute(select(HonourObjection.id).where(
        HonourObjection.honour_id == honour.id,
        HonourObjection.by_household_id == household.id).limit(1)).first() is not None


def object_to(honour: Honour, *, text: str, by_household=None,
              idempotency_key: str | None = None) -> HonourObjection:
    """Raise an objection to an honour under public notice (a repeated ``idempotency_key``
    returns the first). Raises Refusal when it is not under notice, the text is blank or
    over 500 characters, or ``by_household`` already objected to this honour (checked with
    the honour's row locked, so two submissions at once make one objection)."""
    key = _key(idempotency_key)
    if key:
        first = db.session.execute(select(HonourObjection).where(
            HonourObjection.idempotency_key == key)).scalar_one_or_none()
        if first is not None:
            return first
    if honour.status != "under_notice" or local_today() >= honour.notice_until:
        raise Refusal("not_under_notice", N_("该称号不在公示期内，不能提出异议"))
    text = (text or "").strip()
    if not text:
        raise Refusal("text_required", N_("请写明异议的理由"))
    if len(text) > 500:
        raise Refusal("text_too_long", N_("异议理由不能超过 500 字"))
    if by_household is not None:
        db.session.refresh(honour, with_for_update=True)
        if has_objected(honour, by_household):
            raise Refusal("already_objected",
                          N_("您家已经对这项荣誉提出过异议，村委会会在授予前核实，请勿重复提交"))
    objection = HonourObjection(honour_id=honour.id, text=text, idempotency_key=key,
                                by_household_id=getattr(by_household, "id", None))
    db.session.add(objection)
    db.session.flush()
    return objection


def confer_stars(village, kind: str, period: Period, *, by_user, decision_date: date,
                 note: str) -> StarConferment:
    """Freeze the village's star ratings of ``period`` (kind month|quarter|year) as computed
    now by ``stars.star_ratings``: later reversals or entries never change them. Returns the
    StarConferment. Raises Refusal when the period has not started, it is already conferred,
    the decision date is in the future, or the note (the decision record) is blank."""
    today = local_today()
    if period.start > today:
        raise Refusal("period_not_started", N_("这个时期还没有开始"))
    if conferment_of(village.id, kind, period) is not None:
        raise Refusal("already_conferred", N_("%(period)s的星级已经授牌，不能重复授牌"),
                      period=period.label)
    if decision_date is None or decision_date > today:
        raise Refusal("bad_decision_date", N_("决定日期不能晚于今天"))
    note = (note or "").strip()
    if not note:
        raise Refusal("note_required", N_("请填写决定记录（会议、到会人数、表决结果）"))
    version, rows = star_ratings(village, period)
    conferment = StarConferment(
        village_id=village.id, period_kind=kind, period_start=period.start,
        period_end=period.end, period_label=period.label,
        rulebook_version_id=getattr(version, "id", None), decision_date=decision_date,
        decision_note=note[:1000], conferred_by_id=by_user.id)
    db.session.add(conferment)
    db.session.flush()
    for r in rows:
        db.session.add(StarRating(conferment_id=conferment.id, household_id=r.household_id,
                                  position=r.position, house_number=r.house_number,
                                  head_name=r.head_name, points=r.points, band=r.band,
                                  stars=r.stars, vetoed=r.vetoed))
    db.session.flush()
    return conferment
