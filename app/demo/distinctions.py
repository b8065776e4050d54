"""The demo village's boards and honours, made through the same services as the pages, so a
new user finds a published monthly board (with its posters) and an honour list to look at."""
from datetime import date, timedelta

from app.boards import services as boards
from app.boards.periods import parse_period
from app.honours import services as honours
from app.scoring.periods import month_period


def load_distinctions(village, households, users, today: date) -> None:
    """Define a monthly red/black board (no notice days, so the demo can publish at once),
    publish last month's, and award two honours of this year with one more under notice.
    Flushes; the caller commits."""
    admin = users["villageadmin"]
    definition = boards.save_definition(village, {
        "name": "月度红黑榜", "period_kind": "month", "red_top_n": 10, "notice_days": 0})
    last_month = month_period(month_period(today).start - timedelta(days=1))
    pub = boards.create_draft(definition, parse_period(last_month.label, "month"),
                              by_user=admin)
    for _ in range(3):  # reviewed, under notice (0 days), published
        boards.advance(pub, by_user=admin)
    for household, title, reason in (
            (households[4], "最美孝子", "照料卧床的母亲十余年，邻里称道"),
            (households[11], "好人榜", "冬天义务为村里独居老人送柴送菜")):
        honour = honours.nominate(household, title=title, year=today.year, reason=reason,
                                  by_user=admin)
        honours.start_notice(honour, days=0, start=today)
        honours.award(honour, by_user=admin, decision_date=today,
                      note="村民代表会议评议通过（到会 35 人，赞成 35 票）")
    waiting = honours.nominate(households[20], title="最美村户", year=today.year,
                               reason="庭院整洁，带头垃圾分类", by_user=admin)
    honours.start_notice(waiting, days=7, start=today)


def load_pilot_round(village, today: date) -> None:
    """A pilot round covering last year and this one (evaluations due 30 November), with the
    demo village registered for content areas 1 (party building) and 4 (the points system),
    so the yearly evaluation pages have a pilot to assess. Flushes."""
    from app.reports import services as reports
    rnd = reports.add_round(name=f"{today.year - 1}-{today.year}",
                            starts_on=date(today.year - 1, 1, 1), ends_on=date(today.year, 12, 31))
    reports.register_pilot(village, rnd, areas=["1", "4"])
