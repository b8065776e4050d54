"""Pilot rounds (试点轮次) set on a page: their dates, the plan's due date and the yearly
evaluation's due dates. Writes flush, never commit. Errors name the field they belong to,
so the page shows each under its field, in Chinese.
"""
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.reports.models import PilotRound
from app.reports.services import Refusal, overlap_message, overlapping_round

STEPS = ("assessment_due", "review_due", "spot_check_due")


class RoundError(Refusal):
    """A refused round: ``errors`` is {field name: lazily translated Chinese message}."""

    def __init__(self, errors: dict):
        super().__init__(next(iter(errors.values())))
        self.errors = errors


def parse_month_day(text) -> str | None:
    """``text`` as a normalised ``MM-DD`` (e.g. "11-30", "1-5" -> "01-05", also "11月30日");
    None when it is not a day of the year (29 February is refused: not every year has it)."""
    text = (text or "").strip().replace("月", "-").replace("日", "").replace("/", "-")
    parts = text.split("-")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return None
    try:
        day = date(2001, int(parts[0]), int(parts[1]))
    except ValueError:
        return None
    return day.strftime("%m-%d")


ORDER = (("assessment_due", "review_due", _l("县级复核截止不能早于乡镇自评截止")),
         ("review_due", "spot_check_due", _l("市级抽查截止不能早于县级复核截止")))


def save_round(rnd: PilotRound | None, *, name: str, starts_on, ends_on, plan_due=None,
               assessment_due="11-30", review_due="11-30", spot_check_due="11-30"
               ) -> PilotRound:
    """Create (``rnd`` None) or change a pilot round. Dates are local ``date`` objects (None
    when missing); due dates of the steps are ``MM-DD`` texts, each year of the round; the
    plan is due 15 May of the first year unless ``plan_due`` is given.

    Returns the flushed PilotRound. Raises RoundError with every problem by field: name
    missing or taken, a date missing, the end before the start, dates overlapping another
    round (at the start date), the plan due outside the
    round, a due date that is not a day of the year, or due dates out of the steps' order
    (self-assessment, county review, city spot-check). The notice (2021) sets rounds of
    several years with evaluations due 30 November each year.
    """
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = _l("请填写轮次名称")
    elif len(name) > 64:
        errors["name"] = _l("轮次名称不能超过 64 个字")
    else:
        taken = db.session.scalar(select(PilotRound.id).where(PilotRound.name == name))
        if taken and (rnd is None or taken != rnd.id):
            errors["name"] = _l("已有同名的轮次“%(name)s”", name=name)
    if starts_on is None:
        errors["starts_on"] = _l("请填写开始日期")
    if ends_on is None:
        errors["ends_on"] = _l("请填写结束日期")
    elif starts_on is not None and ends_on < starts_on:
        errors["ends_on"] = _l("结束日期不能早于开始日期")
    elif starts_on is not None:
        other = overlapping_round(starts_on, ends_on, rnd.id if rnd is not None else None)
        if other is not None:
            errors["starts_on"] = overlap_message(other)
    if plan_due is not None and starts_on is not None and ends_on is not None \
            and not starts_on <= plan_due <= ends_on:
        errors["plan_due"] = _l("方案备案截止日期应在本轮起止日期之间")
    dues = {}
    for step, text in zip(STEPS, (assessment_due, review_due, spot_check_due), strict=True):
        dues[step] = parse_month_day(text)
        if dues[step] is None:
            errors[step] = _l("请按“月-日”填写，如 11-30")
    # the notice's order: township self-assessment, then county review, then city spot-check
    for earlier, later, message in ORDER:
        if dues.get(earlier) and dues.get(later) and dues[later] < dues[earlier] \
                and later not in errors:
            errors[later] = message
    if errors:
        raise RoundError(errors)
    if rnd is None:
        rnd = PilotRound()
        db.session.add(rnd)
    rnd.name, rnd.starts_on, rnd.ends_on = name, starts_on, ends_on
    rnd.plan_due = plan_due or date(starts_on.year, 5, 15)
    for step, value in dues.items():
        setattr(rnd, step, value)
    db.session.flush()
    return rnd


def all_rounds() -> list:
    """Every pilot round, by start date (the notice's first round is created if missing)."""
    from app.reports.services import first_round
    first_round()
    return db.session.execute(select(PilotRound).order_by(PilotRound.starts_on, PilotRound.id)
                              ).scalars().all()
