"""Issue 7 with issue 5: the roll-up counts red/black board listings, honours and star
ratings per bucket (reports.distinctions), and the Excel export carries them."""
import io
from datetime import date, timedelta

from openpyxl import load_workbook

from app.extensions import db
from app.honours import services as honours
from app.honours.models import StarConferment, StarRating
from app.reports import queries
from app.reports.periods import year_period
from app.scoring.periods import local_today
from tests.boards_helpers import NOV, define, post, publish


def _stars(world, stars_by_house, period_start):
    conferment = StarConferment(
        village_id=world["village_a"].id, period_kind="year", period_start=period_start,
        period_end=period_start.replace(year=period_start.year + 1),
        period_label=str(period_start.year), decision_date=period_start,
        decision_note="村民代表会议评定", conferred_by_id=world["users"]["vadmin"].id)
    db.session.add(conferment)
    db.session.flush()
    for i, (hh, stars) in enumerate(stars_by_house.items()):
        h = world["hh"][hh]
        db.session.add(StarRating(conferment_id=conferment.id, household_id=h.id, position=i + 1,
                                  house_number=h.house_number, head_name=h.head_name,
                                  points=10, stars=stars))
    db.session.flush()


def _honour(world, hh, title, award=True):
    honour = honours.nominate(world["hh"][hh], title=title, year=2026, reason="孝敬老人",
                              by_user=world["users"]["scorer"])
    honours.start_notice(honour, days=0, start=local_today() - timedelta(days=1))
    if award:
        honours.award(honour, by_user=world["users"]["vadmin"], decision_date=local_today(),
                      note="村民代表会议表决通过")
    return honour


def test_rollup_counts_listings_honours_and_stars(app, world):
    post(world, "a1", "红白喜事简办", 1)
    post(world, "a2", "乱堆乱放", 2)
    user = world["users"]["vadmin"]
    pub = publish(define(world, black_threshold="0.01"), NOV, user)
    red = [ln.household_id for ln in pub.lines if ln.board == "red"]
    black = [ln.household_id for ln in pub.lines if ln.board == "black"]
    assert red == [world["hh"]["a1"].id] and black == [world["hh"]["a2"].id]
    _honour(world, "a1", "好人榜")
    _honour(world, "a2", "最美孝子", award=False)      # still under notice: not counted
    _stars(world, {"a1": 3, "a2": 0}, date(2026, 1, 1))  # zero stars: not counted
    db.session.commit()

    year = year_period(2026)
    town = queries.rollup(world["town_a"], year)
    row = next(r for r in town.rows if r.key.id == world["village_a"].id)
    assert (row.red_listed, row.black_listed, row.honours, row.stars) == (1, 1, 1, 1)
    other = next(r for r in town.rows if r.key.id == world["village_a2"].id)
    assert (other.red_listed, other.black_listed, other.honours, other.stars) == (0, 0, 0, 0)
    assert (town.total.red_listed, town.total.honours, town.total.stars) == (1, 1, 1)
    # a villager group's roll-up goes down to its households
    group = queries.rollup(world["hh"]["a1"].group, year)
    by_house = {r.key.id: r for r in group.rows}
    assert by_house[world["hh"]["a1"].id].red_listed == 1
    assert by_house[world["hh"]["a1"].id].black_listed == 0
    # another year counts nothing
    assert queries.rollup(world["town_a"], year_period(2025)).total.red_listed == 0


def test_a_superseded_board_no_longer_counts_its_correction_does(app, world):
    from app.boards import services as boards
    post(world, "a1", "红白喜事简办", 1)
    user = world["users"]["vadmin"]
    pub = publish(define(world), NOV, user)
    fixed = boards.correct(pub, by_user=user, note="补录一条")
    for _ in range(3):
        boards.advance(fixed, by_user=user)
    db.session.commit()
    assert pub.status == "superseded" and fixed.status == "published"
    assert queries.rollup(world["town_a"], year_period(2026)).total.red_listed == 1


def test_rollup_workbook_has_the_distinction_columns(app, world, login):
    post(world, "a1", "红白喜事简办", 1)
    publish(define(world), NOV, world["users"]["vadmin"])
    db.session.commit()
    resp = login("auditor").get(f"/rollups/{world['town_a'].id}/export.xlsx?period=2026")
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.data)).active
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    header = next(r for r in rows if r and "上红榜户次" in r)
    col = header.index("上红榜户次")
    village = next(r for r in rows if r and r[0] == world["village_a"].name)
    assert village[col] == 1
