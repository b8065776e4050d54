"""Opening days and rulebook gates of the points supermarket: when a village's counter is
open (``RewardSettings.open_days``) and which households the rulebook lets redeem. Writes
flush, never commit."""
from decimal import Decimal

from app.extensions import db
from app.memo import memo, watch
from app.rewards.models import RewardSettings
from app.rules.engine import N_, Refusal
from app.scoring.periods import local_today


def settings_of(village_id: int) -> RewardSettings:
    """The village's supermarket settings (open every day when none were saved; not added).
    Read once per transaction (``app.memo``; a village without saved settings would
    otherwise be looked up again on every call)."""
    known = memo("reward_settings")
    if known is not None and village_id in known:
        return known[village_id]
    found = db.session.get(RewardSettings, village_id) or RewardSettings(village_id=village_id,
                                                                         open_days="")
    if known is not None:
        known[village_id] = found
    return found


watch("reward_settings", RewardSettings)


def parse_days(text: str) -> list:
    """Days of the month from "10, 25" or "10，25" (sorted ints 1..31). Raises
    Refusal("bad_days")."""
    days = set()
    for part in (text or "").replace("，", ",").replace("、", ",").replace(" ", ",").split(","):
        if not part:
            continue
        if not part.isdigit() or not 1 <= int(part) <= 31:
            raise Refusal("bad_days", N_("开放日必须是 1 到 31 之间的日期，用逗号分开"))
        days.add(int(part))
    return sorted(days)


def set_open_days(village_id: int, text: str) -> RewardSettings:
    """Open the supermarket only on the days of the month in ``text`` ("10" or "10,25";
    blank: every day). Returns the flushed settings. Raises Refusal("bad_days")."""
    days = parse_days(text)
    found = db.session.get(RewardSettings, village_id)
    if found is None:
        found = RewardSettings(village_id=village_id)
        db.session.add(found)
    found.open_days = ",".join(str(d) for d in days)
    db.session.flush()
    return found


def check_window(village_id: int, today=None) -> None:
    """Raise Refusal("closed") when the village's supermarket is not open on ``today`` (a local
    date, default today)."""
    today = today or local_today()
    days = parse_days(settings_of(village_id).open_days)
    if days and today.day not in days:
        raise Refusal("closed", N_("本村积分超市只在每月 %(days)s 日开放兑换，今天（%(today)s）"
                                   "不能兑换"),
                      days="、".join(str(d) for d in days), today=today.isoformat())


def check_eligible(household, today=None) -> None:
    """Apply the rulebook in force on ``today`` to a redemption: raise Refusal
    ("not_enrolled") when only enrolled households take part and this one is not, and
    Refusal("suspended") while its earned score is below a threshold flagged ``suspended``
    (the flag lifts by itself once the score is back), and Refusal("sanctioned") while a
    sanction item (``blocks_redemption_months``) blocks it (``rules.uses_state``)."""
    from app.rules import queries as rules_q
    from app.rules.engine import household_flags
    version = rules_q.version_in_force(household.village, today or local_today())
    if version is None:
        return
    book = rules_q.book_rule(version)
    if book.eligibility == "enrolled" and not household.enrolled:
        raise Refusal("not_enrolled", N_("该户没有参加本村积分制，不能兑换"))
    from app.rules.uses_state import check_sanctions  # row 26: "sanctioned"
    check_sanctions(household, today)
    balance = household.balance
    score = Decimal(balance.earned_score) if balance is not None else Decimal(0)
    if "suspended" in household_flags(book, score):
        below = min(b for b, flag in book.thresholds if flag == "suspended" and score < b)
        raise Refusal("suspended", N_("本户累计积分低于 %(n)s 分，按积分细则暂停兑换，"
                                      "回到 %(n)s 分后恢复"),
                      n=format(below.normalize(), "f"))
