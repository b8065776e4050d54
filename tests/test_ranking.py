"""One ranking function; ties break by points, then who reached them first, then id."""
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.boards.queries import Board, village_board
from app.extensions import db
from app.scoring.periods import month_period, parse_month
from app.scoring.queries import rank_of, standings
from app.scoring.services import post_entry, reverse_entry
from tests.conftest import item

T0 = datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc)
NOV = parse_month("2026-11")


def _post(world, hh, name, minutes, day=date(2026, 11, 2), **kw):
    return post_entry(household=world["hh"][hh], item_id=item(world["village_a"], name).id,
                      deed_date=day, recorded_by=world["users"]["scorer"],
                      recorded_at=T0 + timedelta(minutes=minutes), **kw)


def test_tie_break_points_then_first_reached_then_id(world):
    _post(world, "a3", "红白喜事简办", 1)          # 5 points, reached first
    _post(world, "a2", "红白喜事简办", 2)          # 5 points, reached later
    _post(world, "a1", "红白喜事简办", 3)
    _post(world, "a1", "义务巡逻", 4)              # 5.5 points: top
    db.session.commit()
    order = [s.household_id for s in standings(world["village_a"].id)]
    hh = world["hh"]
    assert order[:3] == [hh["a1"].id, hh["a3"].id, hh["a2"].id]
    assert order[3] == hh["a4"].id              # no entries: 0 points, last
    # same points and same time: lower id first
    _post(world, "a4", "红白喜事简办", 2)
    db.session.commit()
    table = standings(world["village_a"].id)
    assert hh["a2"].id < hh["a4"].id
    assert [s.household_id for s in table[1:4]] == [hh["a3"].id, hh["a2"].id, hh["a4"].id]
    assert [s.rank for s in table] == [1, 2, 3, 4]


def test_rank_on_pages_agrees_with_the_board(app, world, login):
    _post(world, "a2", "拾金不昧", 1, points="9")
    _post(world, "a1", "红白喜事简办", 2)
    db.session.commit()
    board = village_board(world["village_a"].id, NOV)
    assert [s.household_id for s in board.red] == [world["hh"]["a2"].id, world["hh"]["a1"].id]
    assert rank_of(world["hh"]["a1"]) == (2, 4)
    html = login("scorer").get(f"/households/{world['hh']['a1'].id}").get_data(as_text=True)
    assert 'data-testid="rank">2<' in html


def test_black_board_lists_net_deductions_of_the_month(world):
    _post(world, "a1", "焚烧秸秆或垃圾", 1)                       # -5
    d = _post(world, "a2", "乱堆乱放", 2)                          # -2, then reversed
    reverse_entry(d, reason="误扣", recorded_by=world["users"]["scorer"])
    _post(world, "a3", "乱堆乱放", 3)                              # -2
    _post(world, "a3", "红白喜事简办", 4)                          # +5: net +3, still deducted
    _post(world, "a4", "乱堆乱放", 5, day=date(2026, 10, 30))      # October
    db.session.commit()
    board = village_board(world["village_a"].id, NOV)
    assert [(s.household_id, s.deductions) for s in board.black] == [
        (world["hh"]["a1"].id, Decimal("-5.00")), (world["hh"]["a3"].id, Decimal("-2.00"))]
    assert [s.household_id for s in board.red] == [world["hh"]["a3"].id]
    october = village_board(world["village_a"].id, month_period(date(2026, 10, 1)))
    assert [s.household_id for s in october.black] == [world["hh"]["a4"].id]


def test_board_page_renders_both_boards(app, world, login):
    _post(world, "a1", "焚烧秸秆或垃圾", 1)
    _post(world, "a2", "红白喜事简办", 2)
    db.session.commit()
    resp = login("auditor").get(f"/villages/{world['village_a'].id}/board?month=2026-11")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    red = html.split('data-testid="red-board"')[1].split("</table>")[0]
    black = html.split('data-testid="black-board"')[1].split("</table>")[0]
    assert "王五" in red and "张小三" not in red
    assert "张小三" in black and "-5" in black


def test_a_veto_item_keeps_a_household_off_the_red_board(world):
    from app.rules.importer import parse_rulebook
    from app.rules.services import load_spec
    spec = parse_rulebook("categories:\n  - name: 一票否决\n    items:\n"
                          "      - {name: 违法犯罪, points: -1, veto: true}\n"
                          "      - {name: 好事, points: 30}\n", code_prefix="V")
    load_spec(world["village_a"], spec, "veto", adopted_on=date(2026, 11, 1),
              effective_from=date(2026, 11, 1), decision="测试")
    _post(world, "a1", "好事", 1)
    _post(world, "a2", "好事", 2)
    veto = _post(world, "a1", "违法犯罪", 3)
    db.session.commit()
    board = village_board(world["village_a"].id, NOV)
    assert [s.household_id for s in board.red] == [world["hh"]["a2"].id]
    reverse_entry(veto, reason="误记", recorded_by=world["users"]["scorer"])
    db.session.commit()
    board = village_board(world["village_a"].id, NOV)   # both 30; a2 reached it first
    assert [s.household_id for s in board.red] == [world["hh"]["a2"].id, world["hh"]["a1"].id]


MONTH_ROW = st.one_of(st.none(), st.tuples(
    # 1E-15 and -1E-16: what SQLite's float sums leave of entries that cancel out
    st.sampled_from(["0", "5", "5", "7.5", "-2", "0.1", "1E-15"]),
    st.sampled_from(["0", "0", "-2", "-0.3", "-1E-16"]), st.integers(0, 2)))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(MONTH_ROW, MONTH_ROW), min_size=4, max_size=4),
       size=st.integers(1, 4), veto=st.sampled_from([None, "a1", "a3"]))
def test_the_board_ranked_in_the_database_equals_the_board_from_standings(
        world, monkeypatch, rows, size, veto):
    """``village_board`` reads a month's ranks and the earlier month's from the database
    (``scoring.queries.ranked``); the reference is ``standings`` ranked in Python. Ties on
    points and on the time they were reached (or never reached) included, with a veto."""
    from app.boards import queries as boards_q
    from app.scoring.models import HouseholdMonth
    oct_ = parse_month("2026-10")
    v = world["village_a"].id
    db.session.query(HouseholdMonth).delete()
    for key, months in zip(["a1", "a2", "a3", "a4"], rows, strict=True):
        for period, row in zip((oct_, NOV), months, strict=True):
            if row is not None:
                points, deductions, minutes = row
                db.session.add(HouseholdMonth(
                    household_id=world["hh"][key].id, village_id=v, period=period.label,
                    points=Decimal(points) + Decimal(deductions),
                    deductions=Decimal(deductions), entries=1, scored=1,
                    last_at=T0 + timedelta(minutes=minutes)))
    db.session.commit()
    vetoed = {world["hh"][veto].id} if veto else set()
    monkeypatch.setattr(boards_q, "_vetoed", _vetoed_of(vetoed))
    monkeypatch.setattr(boards_q, "vetoed_households", lambda village_id, period: vetoed)
    board = village_board(v, NOV, size, previous=oct_)
    reference = boards_q._board_of(v, NOV, size, oct_)
    assert board == reference
    before = {s.household_id: s.rank for s in standings(v, oct_) if s.reached_at is not None}
    assert board.moved == {s.household_id: before[s.household_id] - s.rank
                           for s in board.red if s.household_id in before}
    assert village_board(v, NOV, size) == Board(NOV, reference.red, reference.black)


def test_entries_reversed_to_nothing_keep_a_household_off_both_boards(world):
    """5.1 and 5.2 reversed, and -0.1 and -0.2 reversed: SQLite sums them as floats to a
    remainder of about 1e-15, which must not put the household on either board."""
    from app.rules.importer import parse_rulebook
    from app.rules.services import load_spec
    posted = [_post(world, "a1", "拾金不昧", 1, points="5.1"),
              _post(world, "a1", "拾金不昧", 2, points="5.2")]
    spec = parse_rulebook("categories:\n  - name: 小额\n    items:\n"
                          "      - {name: 好事, points: 1}\n"
                          "      - {name: 小扣甲, points: -0.1}\n"
                          "      - {name: 小扣乙, points: -0.2}\n", code_prefix="S")
    load_spec(world["village_a"], spec, "small", adopted_on=date(2026, 11, 1),
              effective_from=date(2026, 11, 1), decision="测试")
    scorer = world["users"]["scorer"]
    posted += [_post(world, "a2", "小扣甲", 3), _post(world, "a2", "小扣乙", 4)]
    _post(world, "a3", "好事", 5)
    for entry in posted:
        reverse_entry(entry, reason="误记", recorded_by=scorer)
    db.session.commit()
    board = village_board(world["village_a"].id, NOV)
    assert [s.household_id for s in board.red] == [world["hh"]["a3"].id]
    assert board.black == []


def _vetoed_of(ids):
    """A stand-in for ``boards.queries._vetoed`` naming ``ids`` (the rulebook's veto items
    are tested above, through the ledger)."""
    from sqlalchemy import false

    return lambda village_id, period, household_id: (household_id.in_(ids) if ids
                                                      else false())
