"""Writes of the pilot registry and the yearly evaluation. Services flush, never commit.

Refusals carry a Chinese message template (``Refusal``), shown by the views.
"""
import hashlib
import json
import random
import secrets
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.accounts.models import utcnow
from app.extensions import db
from app.regions.models import Region
from app.regions.queries import in_scope
from app.reports.models import (CONTENT_AREAS, DECISIONS, VERDICTS, CountyReview, PilotRound,
                                PilotVillage, SelfAssessment, SpotCheck, SpotCheckFinding)
from app.reports.periods import year_period
from app.scoring.models import LedgerEntry
from app.scoring.periods import local_today

MAX_PLAN_BYTES = 10 * 1024 * 1024
MAX_SCORE = Decimal(100)


class Refusal(Exception):
    """A write the rules refuse; ``message`` is a lazily translated Chinese text, ``field``
    the form field it is about (None: the form as a whole)."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


def first_round() -> PilotRound:
    """The notice's round (2021-2022, plans due 15 May 2021), created when missing."""
    found = db.session.execute(select(PilotRound).where(PilotRound.name == "2021-2022")
                               ).scalar_one_or_none()
    if found is None:
        found = PilotRound(name="2021-2022", starts_on=date(2021, 1, 1),
                           ends_on=date(2022, 12, 31), plan_due=date(2021, 5, 15))
        db.session.add(found)
        db.session.flush()
    return found


def overlapping_round(starts_on: date, ends_on: date, except_id: int | None = None):
    """The first existing PilotRound (other than ``except_id``) whose dates overlap
    ``starts_on``..``ends_on`` (both inclusive), else None. Rounds are city-wide (the
    notice's programme has no region), so every round counts."""
    stmt = select(PilotRound).where(PilotRound.starts_on <= ends_on,
                                    PilotRound.ends_on >= starts_on)
    if except_id is not None:
        stmt = stmt.where(PilotRound.id != except_id)
    return db.session.execute(stmt.order_by(PilotRound.starts_on)).scalars().first()


def overlap_message(other: PilotRound):
    """The Chinese message of a round overlapping ``other``."""
    return _l("与已有轮次“%(name)s”（%(a)s 至 %(b)s）的日期重叠", name=other.name,
              a=other.starts_on.isoformat(), b=other.ends_on.isoformat())


def add_round(*, name: str, starts_on: date, ends_on: date, plan_due: date | None = None,
              due: str = "11-30") -> PilotRound:
    """A later round; the plan is due 15 May of its first year unless ``plan_due`` says
    otherwise, and every evaluation step on ``due`` (MM-DD) of each year. Raises Refusal
    when the end is before the start or the dates overlap another round."""
    if ends_on < starts_on:
        raise Refusal(_l("结束日期不能早于开始日期"))
    other = overlapping_round(starts_on, ends_on)
    if other is not None:
        raise Refusal(overlap_message(other))
    date(2000, *(int(x) for x in due.split("-")))  # ValueError on a bad MM-DD
    rnd = PilotRound(name=name, starts_on=starts_on, ends_on=ends_on,
                     plan_due=plan_due or date(starts_on.year, 5, 15), assessment_due=due,
                     review_due=due, spot_check_due=due)
    db.session.add(rnd)
    db.session.flush()
    return rnd


def round_for_year(year: int) -> PilotRound | None:
    """The round covering ``year`` (the latest one starting first), else None."""
    return db.session.execute(
        select(PilotRound).where(PilotRound.starts_on <= date(year, 12, 31),
                                 PilotRound.ends_on >= date(year, 1, 1))
        .order_by(PilotRound.starts_on.desc())).scalars().first()


def pilot_for(village: Region, year: int | None = None) -> PilotVillage | None:
    """The village's PilotVillage in the round covering ``year`` (default: this year's,
    else its latest)."""
    stmt = (select(PilotVillage).join(PilotRound)
            .where(PilotVillage.village_id == village.id)
            .order_by(PilotRound.starts_on.desc()))
    if year is not None:
        stmt = stmt.where(PilotRound.starts_on <= date(year, 12, 31),
                          PilotRound.ends_on >= date(year, 1, 1))
    return db.session.execute(stmt).scalars().first()


def register_pilot(village: Region, rnd: PilotRound, *, areas) -> PilotVillage:
    """Record (or update) ``village`` as a pilot of ``rnd`` with the content areas it chose:
    two or three of the six codes of CONTENT_AREAS. Marks the village ``is_pilot``."""
    codes = sorted({str(a) for a in areas})
    if any(c not in CONTENT_AREAS for c in codes) or not 2 <= len(codes) <= 3:
        raise Refusal(_l("请从六个方面中选择 2 到 3 个试点示范内容"))
    if village.level != "village":
        raise Refusal(_l("只有村可以确定为试点示范村"))
    pilot = db.session.execute(select(PilotVillage).where(
        PilotVillage.round_id == rnd.id, PilotVillage.village_id == village.id)
    ).scalar_one_or_none()
    if pilot is None:
        pilot = PilotVillage(round=rnd, village=village)
        db.session.add(pilot)
    pilot.content_areas = ",".join(codes)
    village.is_pilot = True
    db.session.flush()
    return pilot


# Documents a plan or a self-assessment may carry: (extensions, leading bytes of the file).
DOCUMENT_KINDS = (
    ((".pdf",), (b"%PDF",)),
    ((".docx", ".xlsx", ".pptx"), (b"PK\x03\x04",)),                 # Office Open XML
    ((".doc", ".xls", ".ppt", ".wps", ".et"), (b"\xd0\xcf\x11\xe0",)),  # older Office, WPS
    ((".jpg", ".jpeg"), (b"\xff\xd8\xff",)),
    ((".png",), (b"\x89PNG",)),
)


def check_document(filename: str, data: bytes) -> None:
    """Refuse a file that is not a PDF, Word, Excel, PowerPoint, WPS, JPG or PNG document:
    its name must end in one of their extensions and its first bytes must be that kind's
    (an executable renamed .pdf is refused too). Raises Refusal in Chinese."""
    name = (filename or "").lower().strip()
    for extensions, magics in DOCUMENT_KINDS:
        if name.endswith(extensions) and any(data.startswith(m) for m in magics):
            return
    raise Refusal(_l("只能上传 PDF、Word、Excel、WPS 文档或 JPG、PNG 图片"), field="file")


def file_plan(pilot: PilotVillage, *, filename: str, content_type: str, data: bytes,
              filed_on: date, by_user) -> PilotVillage:
    """Store the pilot plan document and the date it was filed (not in the future)."""
    if not data:
        raise Refusal(_l("请选择方案文件"))
    if len(data) > MAX_PLAN_BYTES:
        raise Refusal(_l("方案文件不能超过 10 MB"))
    if filed_on > local_today():
        raise Refusal(_l("备案日期不能晚于今天"))
    check_document(filename, data)
    pilot.plan_filename = (filename or "plan")[-128:]
    pilot.plan_content_type = (content_type or "application/octet-stream")[:128]
    pilot.plan_data = data
    pilot.plan_sha256 = hashlib.sha256(data).hexdigest()
    pilot.plan_filed_on = filed_on
    pilot.plan_uploaded_by_id = by_user.id
    pilot.plan_uploaded_at = utcnow()
    db.session.flush()
    return pilot


def figures_of(village: Region, year: int) -> dict:
    """The village's roll-up for ``year`` as plain JSON-able values (pre-fills the
    self-assessment)."""
    from app.reports.queries import rollup
    t = rollup(village, year_period(year)).total

    def s(v):
        return None if v is None else str(v)
    return {"households": t.households, "participating": t.participating,
            "rate": s(t.rate), "awarded": s(t.awarded_total), "deducted": s(t.deducted_total),
            "average": s(t.average), "median": s(t.median), "objections": t.objections,
            "upheld": t.upheld, "redemptions": t.redemptions, "redeemed": s(t.redeemed),
            "redeemed_yuan": s(t.redeemed_yuan), "red_listed": t.red_listed,
            "black_listed": t.black_listed, "honours": t.honours, "stars": t.stars}


def _score(value, *, required=True) -> Decimal | None:
    """An evaluation score (自评分, 复核得分) as typed: 0 to MAX_SCORE with at most one
    decimal, kept exactly as typed (a signed figure is never rounded behind the signer's
    back). None when empty and not ``required``. Raises Refusal (Chinese) for anything
    else, NaN and infinities included."""
    if value in (None, ""):
        if required:
            raise Refusal(_l("请填写 0 到 100 的分数"))
        return None
    try:
        score = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise Refusal(_l("请填写 0 到 100 的分数")) from None
    if not score.is_finite() or not 0 <= score <= MAX_SCORE:
        raise Refusal(_l("请填写 0 到 100 的分数"))
    if score != score.quantize(Decimal("0.1")):
        raise Refusal(_l("分数最多保留一位小数，如 95.5"))
    return score.quantize(Decimal("0.1"))


def latest_assessment(pilot: PilotVillage, year: int) -> SelfAssessment | None:
    """The latest version of the pilot's self-assessment for ``year``."""
    return db.session.execute(
        select(SelfAssessment).where(SelfAssessment.pilot_id == pilot.id,
                                     SelfAssessment.year == year)
        .order_by(SelfAssessment.version.desc())).scalars().first()


def latest_review(assessment: SelfAssessment | None) -> CountyReview | None:
    """The latest version of the county's review of ``assessment``."""
    if assessment is None:
        return None
    return db.session.execute(
        select(CountyReview).where(CountyReview.assessment_id == assessment.id)
        .order_by(CountyReview.version.desc())).scalars().first()


def submit_assessment(pilot: PilotVillage, year: int, *, work_done: str, results: str,
                      problems: str, next_steps: str, self_score, by_user,
                      correction_reason: str | None = None, attachment=None
                      ) -> SelfAssessment:
    """Sign off the township's self-assessment of ``pilot`` for ``year``, with the
    village's roll-up figures taken now. A later submission is a new version and needs a
    ``correction_reason``; it is refused once the county has accepted the latest version.
    ``attachment`` is (filename, bytes) or None."""
    if year not in pilot.round.years():
        raise Refusal(_l("该年度不在本轮试点示范期内"))
    texts = [(t or "").strip() for t in (work_done, results, problems, next_steps)]
    if not all(texts):
        raise Refusal(_l("请填写主要做法、成效、存在问题和下一步打算"))
    score = _score(self_score)
    prior = latest_assessment(pilot, year)
    reason = (correction_reason or "").strip() or None
    if prior is not None:
        review = latest_review(prior)
        if review is not None and review.decision == "accepted":
            raise Refusal(_l("县级已复核通过，不能再修改自评"))
        if reason is None:
            raise Refusal(_l("修改已提交的自评，请写明修改原因"))
    name, data = attachment if attachment else (None, None)
    if data:
        check_document(name, data)
    row = SelfAssessment(
        pilot_id=pilot.id, year=year, version=(prior.version + 1) if prior else 1,
        supersedes_id=prior.id if prior else None, correction_reason=reason,
        figures=json.dumps(figures_of(pilot.village, year), ensure_ascii=False),
        work_done=texts[0], results=texts[1], problems=texts[2], next_steps=texts[3],
        self_score=score, attachment_name=name[-128:] if name else None,
        attachment_data=data or None,
        attachment_sha256=hashlib.sha256(data).hexdigest() if data else None,
        submitted_by_id=by_user.id, submitted_at=utcnow())
    db.session.add(row)
    db.session.flush()
    return row


def submit_review(assessment: SelfAssessment, *, decision: str, comments: str, by_user,
                  score=None, correction_reason: str | None = None) -> CountyReview:
    """Sign off the county's review of the latest self-assessment: ``accepted`` with a
    score (0-100) and comments, or ``returned`` with the reasons in ``comments``. A second
    review of the same assessment is a new version with a ``correction_reason``."""
    if decision not in DECISIONS:
        raise Refusal(_l("请选择通过或退回"))
    comments = (comments or "").strip()
    if not comments:
        raise Refusal(_l("请填写复核意见或退回理由"))
    latest = latest_assessment(assessment.pilot, assessment.year)
    if latest.id != assessment.id:
        raise Refusal(_l("乡镇已提交新的自评，请复核最新版本"))
    value = _score(score) if decision == "accepted" else None
    prior = latest_review(assessment)
    reason = (correction_reason or "").strip() or None
    if prior is not None and reason is None:
        raise Refusal(_l("修改已提交的复核，请写明修改原因"))
    row = CountyReview(assessment_id=assessment.id, version=(prior.version + 1) if prior else 1,
                       supersedes_id=prior.id if prior else None, correction_reason=reason,
                       decision=decision, score=value, comments=comments,
                       submitted_by_id=by_user.id, submitted_at=utcnow())
    db.session.add(row)
    db.session.flush()
    return row


def draw(seed: str, villages: list, entries_of, village_count: int, entry_count: int):
    """The pure random draw: ``village_count`` of ``villages`` (ids, in a fixed order) and,
    in each drawn village, ``entry_count`` of ``entries_of(village_id)`` (ids, fixed order),
    with ``random.Random(seed)``. Returns (village ids, {village id: entry ids})."""
    rng = random.Random(seed)
    chosen = sorted(rng.sample(list(villages), min(village_count, len(villages))))
    picked = {}
    for vid in chosen:
        pool = list(entries_of(vid))
        picked[vid] = sorted(rng.sample(pool, min(entry_count, len(pool))))
    return chosen, picked


def candidates(region: Region, year: int):
    """(pilot village ids in ``region`` by code, function giving a village's confirmed
    score entries of ``year`` by id): the populations a spot-check draws from."""
    stmt = in_scope(select(Region.id).where(Region.level == "village",
                                            Region.is_pilot.is_(True)), Region.id, region)
    villages = list(db.session.execute(stmt.order_by(Region.code)).scalars())
    period = year_period(year)

    def entries_of(village_id):
        return list(db.session.execute(
            select(LedgerEntry.id).where(LedgerEntry.village_id == village_id,
                                         LedgerEntry.kind == "score",
                                         LedgerEntry.status == "confirmed",
                                         LedgerEntry.deed_date >= period.start,
                                         LedgerEntry.deed_date < period.end)
            .order_by(LedgerEntry.id)).scalars())
    return villages, entries_of


def draw_spot_check(region: Region, year: int, *, village_count: int, entry_count: int,
                    by_user, seed: str | None = None) -> SpotCheck:
    """Draw the city's sample for ``year`` in ``region`` and record it with its seed (a
    fresh random one unless given)."""
    if not 1 <= village_count <= 100 or not 1 <= entry_count <= 100:
        raise Refusal(_l("抽查村数和每村抽查记录数须在 1 到 100 之间"))
    seed = (seed or secrets.token_hex(8)).strip()[:64]
    villages, entries_of = candidates(region, year)
    if not villages:
        raise Refusal(_l("范围内没有试点示范村"))
    chosen, picked = draw(seed, villages, entries_of, village_count, entry_count)
    row = SpotCheck(region_id=region.id, year=year, seed=seed, village_count=village_count,
                    entry_count=entry_count, villages=json.dumps(chosen),
                    entries=json.dumps({str(k): v for k, v in picked.items()}),
                    drawn_by_id=by_user.id, drawn_at=utcnow())
    db.session.add(row)
    db.session.flush()
    return row


def redo_draw(check: SpotCheck) -> bool:
    """True when drawing again from the recorded seed gives the recorded sample (the
    ledger is append-only, so the populations have not changed)."""
    villages, entries_of = candidates(check.region, check.year)
    chosen, picked = draw(check.seed, villages, entries_of, check.village_count,
                          check.entry_count)
    return (chosen == json.loads(check.villages)
            and {str(k): v for k, v in picked.items()} == json.loads(check.entries))


def record_finding(check: SpotCheck, *, village_id: int, entry_id: int | None, verdict: str,
                   text: str, by_user, supersedes: SpotCheckFinding | None = None,
                   correction_reason: str | None = None) -> SpotCheckFinding:
    """Record a finding on a drawn village or a drawn entry of it (signed off at once)."""
    drawn = json.loads(check.entries)
    if str(village_id) not in drawn or (entry_id is not None
                                        and entry_id not in drawn[str(village_id)]):
        raise Refusal(_l("只能对抽中的村和记录填写抽查结果"))
    if verdict not in VERDICTS:
        raise Refusal(_l("请选择抽查结论"))
    text = (text or "").strip()
    if not text:
        raise Refusal(_l("请填写抽查情况"))
    reason = (correction_reason or "").strip() or None
    if supersedes is not None and reason is None:
        raise Refusal(_l("修改已提交的抽查结果，请写明修改原因"))
    if supersedes is not None:
        _check_correction(supersedes, village_id, entry_id)
    row = SpotCheckFinding(spot_check_id=check.id, village_id=village_id, entry_id=entry_id,
                           verdict=verdict, text=text,
                           supersedes_id=supersedes.id if supersedes else None,
                           correction_reason=reason, recorded_by_id=by_user.id,
                           recorded_at=utcnow())
    db.session.add(row)
    db.session.flush()
    return row


def _check_correction(prior: SpotCheckFinding, village_id: int, entry_id: int | None) -> None:
    """A correction is about what the result it corrects was about, and corrects the latest
    version: a result already corrected is corrected through its correction (one chain per
    target; before, a second correction was a 500 and a correction could name another
    entry). Raises Refusal at the ``supersedes`` field."""
    if (prior.village_id, prior.entry_id) != (village_id, entry_id):
        raise Refusal(_l("第 %(n)s 条结果说的是另一个抽查对象，更正须选同一个对象",
                         n=prior.id), field="supersedes")
    later = db.session.execute(select(SpotCheckFinding.id).where(
        SpotCheckFinding.supersedes_id == prior.id)).scalar()
    if later is not None:
        raise Refusal(_l("第 %(n)s 条已由第 %(m)s 条更正，请更正第 %(m)s 条",
                         n=prior.id, m=later), field="supersedes")


def status_rows(region: Region, year: int) -> list:
    """Per county in ``region``: pilots, self-assessments submitted, reviews accepted,
    returned, and pilots whose township has not yet submitted (grouped queries)."""
    from sqlalchemy.orm import aliased
    county, village = aliased(Region), aliased(Region)
    base = (select(county.id, func.count(PilotVillage.id.distinct()))
            .join(village, village.path.startswith(county.path))
            .join(PilotVillage, PilotVillage.village_id == village.id)
            .join(PilotRound, PilotRound.id == PilotVillage.round_id)
            .where(county.level == "county", PilotRound.starts_on <= date(year, 12, 31),
                   PilotRound.ends_on >= date(year, 1, 1)))
    if region.level in ("city", "county"):
        base = in_scope(base, county.id, region)
    else:
        base = in_scope(base, village.id, region)
    pilots = dict(db.session.execute(base.group_by(county.id)).all())
    assessed = dict(db.session.execute(
        base.join(SelfAssessment, (SelfAssessment.pilot_id == PilotVillage.id)
                  & (SelfAssessment.year == year)).group_by(county.id)).all())
    latest = (select(SelfAssessment.pilot_id, func.max(SelfAssessment.version).label("v"))
              .where(SelfAssessment.year == year).group_by(SelfAssessment.pilot_id)
              .subquery())
    last_review = (select(CountyReview.assessment_id,
                          func.max(CountyReview.version).label("v"))
                   .group_by(CountyReview.assessment_id).subquery())
    decided = (base.with_only_columns(county.id, CountyReview.decision,
                                      func.count(PilotVillage.id.distinct()))
               .join(latest, latest.c.pilot_id == PilotVillage.id)
               .join(SelfAssessment, (SelfAssessment.pilot_id == PilotVillage.id)
                     & (SelfAssessment.year == year) & (SelfAssessment.version == latest.c.v))
               .join(last_review, last_review.c.assessment_id == SelfAssessment.id)
               .join(CountyReview, (CountyReview.assessment_id == SelfAssessment.id)
                     & (CountyReview.version == last_review.c.v))
               .group_by(county.id, CountyReview.decision))
    decisions = {}
    for cid, decision, n in db.session.execute(decided):
        decisions[(cid, decision)] = n
    counties = db.session.execute(select(Region).where(Region.id.in_(list(pilots)))
                                  .order_by(Region.sort_order, Region.code)).scalars().all()
    return [{"county": c, "pilots": pilots[c.id], "assessed": assessed.get(c.id, 0),
             "missing": pilots[c.id] - assessed.get(c.id, 0),
             "accepted": decisions.get((c.id, "accepted"), 0),
             "returned": decisions.get((c.id, "returned"), 0)} for c in counties]


def yearly_report(region: Region, year: int) -> dict:
    """What the county files with the city for ``year`` (one dict of tables): the status
    per county, every pilot village's self-assessment and review, the region's roll-up for
    the year, and the city's spot-check findings on villages of the region."""
    from app.reports.queries import pilot_villages, rollup
    pilots = []
    for village in pilot_villages(region):
        found = pilot_for(village, year)
        if found is None:
            continue
        assessment = latest_assessment(found, year)
        pilots.append({"village": village, "pilot": found, "assessment": assessment,
                       "review": latest_review(assessment)})
    findings = db.session.execute(
        in_scope(select(SpotCheckFinding).join(SpotCheck), SpotCheckFinding.village_id, region)
        .options(joinedload(SpotCheckFinding.village))
        .where(SpotCheck.year == year).order_by(SpotCheckFinding.id)).scalars().all()
    return {"region": region, "year": year, "round": round_for_year(year),
            "status": status_rows(region, year), "pilots": pilots,
            "rollup": rollup(region, year_period(year)), "findings": findings}
