"""Boards (issue 5): definitions drawn from ``standings``, the publication flow, frozen
snapshots, corrections, black-board households until corrected, veto, the township board."""
from datetime import date, timedelta
from decimal import Decimal

import pytest

from app.boards import compute, services
from app.boards.models import BoardLine, BoardPublication
from app.boards.periods import half_period, next_period, parse_period, previous_period
from app.boards.queries import township_board
from app.extensions import db
from app.rules.engine import Refusal
from app.scoring.queries import standings
from app.scoring.services import reverse_entry
from tests.boards_helpers import NOV, OCT, define, ids, post, publish


def _red(lines):
    return [d.household_id for d in lines if d.board == "red"]


def test_zero_point_households_are_never_on_the_red_board_ctfd_577(world):
    hh = world["hh"]
    post(world, "a2", "红白喜事简办", 1)                 # +5
    post(world, "a2", "低俗婚闹", 2)                     # -5: nets to 0 with entries
    entry = post(world, "a3", "红白喜事简办", 3)
    reverse_entry(entry, reason="误记", recorded_by=world["users"]["scorer"])  # 0 again
    post(world, "a1", "义务巡逻", 4)                     # +0.5: the only positive score
    db.session.commit()
    table = standings(world["village_a"].id, NOV)
    zeros = {s.household_id for s in table if s.points == 0}
    assert {hh["a2"].id, hh["a3"].id, hh["a4"].id} <= zeros
    drawn = compute.draw(define(world), world["village_a"].id, NOV)
    assert _red(drawn) == [hh["a1"].id]
    # a threshold of 0 still keeps zero scores off (the board wants points above 0)
    drawn = compute.draw(define(world, name="零分线", red_threshold="0"),
                         world["village_a"].id, NOV)
    assert _red(drawn) == [hh["a1"].id]


def test_award_entered_later_with_an_earlier_deed_date_ctfd_833(world):
    hh = world["hh"]
    post(world, "a1", "红白喜事简办", 1, day=date(2026, 11, 20))   # recorded first
    post(world, "a2", "红白喜事简办", 5, day=date(2026, 11, 3))    # recorded later, earlier deed
    db.session.commit()
    # the ranking function breaks the tie by when the score was recorded (reached), not by
    # the deed date: a1 reached 5 points first
    table = [s for s in standings(world["village_a"].id, NOV) if s.points > 0]
    assert [s.household_id for s in table] == [hh["a1"].id, hh["a2"].id]
    definition = define(world)
    for _ in range(3):   # the same order every time
        assert _red(compute.draw(definition, world["village_a"].id, NOV)) == \
            [s.household_id for s in table]
    pub = publish(definition, NOV, world["users"]["vadmin"])
    assert [(ln.rank, ln.household_id) for ln in pub.on("red")] == \
        [(1, hh["a1"].id), (2, hh["a2"].id)]


def test_a_reversal_after_publication_does_not_change_the_snapshot(world):
    hh = world["hh"]
    first = post(world, "a1", "节俭办红白喜事", 1)          # 10
    post(world, "a2", "红白喜事简办", 2)                    # 5
    db.session.commit()
    pub = publish(define(world), NOV, world["users"]["vadmin"])
    db.session.commit()
    frozen = [(ln.board, ln.rank, ln.household_id, ln.points) for ln in pub.lines]
    reverse_entry(first, reason="重复记分", recorded_by=world["users"]["scorer"])
    db.session.commit()
    db.session.expire_all()
    again = db.session.get(BoardPublication, pub.id)
    assert [(ln.board, ln.rank, ln.household_id, ln.points) for ln in again.lines] == frozen
    assert again.on("red")[0].household_id == hh["a1"].id
    assert again.on("red")[0].points == Decimal("10.00")
    # the live board has moved on
    assert _red(compute.draw(again.definition, world["village_a"].id, NOV)) == [hh["a2"].id]


def test_a_correction_is_a_new_publication_listing_what_changed(world):
    hh = world["hh"]
    vadmin = world["users"]["vadmin"]
    first = post(world, "a1", "节俭办红白喜事", 1)
    post(world, "a2", "红白喜事简办", 2)
    db.session.commit()
    pub = publish(define(world), NOV, vadmin)
    with pytest.raises(Refusal):                 # a published period is corrected, not redrawn
        services.create_draft(pub.definition, NOV, by_user=vadmin)
    with pytest.raises(Refusal):                 # a correction says why
        services.correct(pub, by_user=vadmin, note=" ")
    reverse_entry(first, reason="重复记分", recorded_by=world["users"]["scorer"])
    fix = services.correct(pub, by_user=vadmin, note="张家的记分重复，已冲正")
    assert fix.supersedes_id == pub.id and fix.version == 2
    changes = {(c.board, c.change, c.household_id): c for c in fix.changes}
    assert set(changes) == {("red", "removed", hh["a1"].id), ("red", "points", hh["a2"].id)}
    moved = changes[("red", "points", hh["a2"].id)]
    assert (moved.old_rank, moved.new_rank) == (2, 1)
    for _ in range(3):
        services.advance(fix, by_user=vadmin)
    db.session.commit()
    db.session.expire_all()
    old, new = db.session.get(BoardPublication, pub.id), db.session.get(BoardPublication, fix.id)
    assert old.status == "superseded" and new.status == "published"
    assert ids(old.on("red")) == [hh["a1"].id, hh["a2"].id]      # the old snapshot stays
    assert ids(new.on("red")) == [hh["a2"].id]


def test_a_black_board_household_stays_listed_until_its_correction_is_recorded(world):
    hh, vadmin = world["hh"], world["users"]["vadmin"]
    post(world, "a3", "乱堆乱放", 1, day=date(2026, 10, 5))
    db.session.commit()
    definition = define(world)
    october = publish(definition, OCT, vadmin)
    assert ids(october.on("black")) == [hh["a3"].id]
    db.session.commit()
    november = services.create_draft(definition, NOV, by_user=vadmin)
    late = november.on("uncorrected")
    assert ids(late) == [hh["a3"].id] and late[0].since_label == "2026-10"
    assert november.on("black") == []
    services.record_correction(world["village_a"], hh["a3"], corrected_on=date(2026, 11, 8),
                               note="杂物已清理", by_user=vadmin)
    db.session.commit()
    redrawn = compute.draw(definition, world["village_a"].id, NOV)
    assert [d for d in redrawn if d.board == "uncorrected"] == []
    # the draft drawn before the correction keeps what it showed
    assert ids(db.session.get(BoardPublication, november.id).on("uncorrected")) == [hh["a3"].id]
    with pytest.raises(Refusal):
        services.record_correction(world["village_a"], hh["a3"], corrected_on=date(2026, 11, 8),
                                   note="", by_user=vadmin)


def test_veto_households_are_left_off_the_red_board(world):
    from app.rules.importer import parse_rulebook
    from app.rules.services import load_spec
    spec = parse_rulebook("categories:\n  - name: 一票否决\n    items:\n"
                          "      - {name: 违法犯罪, points: -1, veto: true}\n"
                          "      - {name: 好事, points: 30}\n", code_prefix="V")
    load_spec(world["village_a"], spec, "veto", adopted_on=date(2026, 11, 1),
              effective_from=date(2026, 11, 1), decision="测试")
    hh = world["hh"]
    post(world, "a1", "好事", 1)          # 29 after the veto, still the top score
    post(world, "a2", "好事", 2)
    post(world, "a1", "违法犯罪", 3)
    db.session.commit()
    assert standings(world["village_a"].id, NOV)[0].household_id == hh["a2"].id
    drawn = compute.draw(define(world), world["village_a"].id, NOV)
    assert _red(drawn) == [hh["a2"].id]
    assert [d.household_id for d in drawn if d.board == "black"] == [hh["a1"].id]


def test_red_and_black_rules_top_n_threshold_items_categories(world):
    hh = world["hh"]
    post(world, "a1", "节俭办红白喜事", 1)     # 10
    post(world, "a2", "红白喜事简办", 2)       # 5
    post(world, "a3", "参加村组文化活动", 3)   # 1
    post(world, "a1", "乱堆乱放", 4)           # -2, 环境卫生 SC4-3
    post(world, "a4", "低俗婚闹", 5)           # -5, 家庭文明
    db.session.commit()
    v = world["village_a"].id

    def board(name, **kw):
        drawn = compute.draw(define(world, name=name, **kw), v, NOV)
        return _red(drawn), [d.household_id for d in drawn if d.board == "black"]

    assert board("a", red_top_n=2)[0] == [hh["a1"].id, hh["a2"].id]
    assert board("b", red_top_n=None, red_threshold="5")[0] == [hh["a1"].id, hh["a2"].id]
    assert board("c", red_top_n=1, red_threshold="5")[0] == [hh["a1"].id]
    assert board("d")[1] == [hh["a4"].id, hh["a1"].id]                  # most deducted first
    assert board("e", black_threshold="3")[1] == [hh["a4"].id]
    assert board("f", black_categories="环境卫生")[1] == [hh["a1"].id]
    code = post(world, "a1", "乱堆乱放", 6).item_code
    assert board("g", black_items=code)[1] == [hh["a1"].id]
    assert board("h", black_bottom_n=1)[1] == [hh["a4"].id]
    g1 = world["g_a1"].id                                                 # a4 is in group A2
    assert board("i", group_id=g1)[1] == [hh["a1"].id]
    with pytest.raises(Refusal):
        define(world, name="空", red_top_n=None)


def test_a_board_item_is_posted_through_the_ledger_once(world):
    from app.scoring.models import LedgerEntry
    hh, vadmin = world["hh"], world["users"]["vadmin"]
    post(world, "a1", "红白喜事简办", 1)
    db.session.commit()
    code = post(world, "a2", "拾金不昧", 2, points="5").item_code    # a range item, 5-10
    db.session.commit()
    definition = define(world, red_top_n=1, red_item_code=code, red_points="6")
    pub = publish(definition, NOV, vadmin)
    bonus = db.session.query(LedgerEntry).filter(
        LedgerEntry.idempotency_key.like(f"board:{definition.id}:%")).all()
    assert [(e.household_id, e.points, e.item_code) for e in bonus] == \
        [(hh["a1"].id, Decimal("6.00"), code)]
    assert "上红榜" in bonus[0].note
    fix = services.correct(pub, by_user=vadmin, note="复核")
    for _ in range(3):
        services.advance(fix, by_user=vadmin)
    assert db.session.query(LedgerEntry).filter(
        LedgerEntry.idempotency_key.like(f"board:{definition.id}:%")).count() == 1


def test_publishing_waits_for_the_notice_period(world):
    vadmin = world["users"]["vadmin"]
    post(world, "a1", "红白喜事简办", 1)
    db.session.commit()
    pub = services.create_draft(define(world, notice_days=3), NOV, by_user=vadmin)
    services.advance(pub, by_user=vadmin)
    services.advance(pub, by_user=vadmin)
    assert pub.status == "under_notice" and (pub.notice_until - pub.notice_from).days == 3
    # three days of notice: the first day, the next and the last, counted as honours count
    assert pub.notice_last_day == pub.notice_from + timedelta(days=2)
    with pytest.raises(Refusal) as err:
        services.advance(pub, by_user=vadmin)
    assert str(pub.notice_last_day) in str(err.value) and "次日起" in str(err.value)
    assert pub.status == "under_notice"
    with pytest.raises(Refusal):                         # a period that has not started
        services.create_draft(pub.definition, next_period(NOV, "month").__class__(
            date(2099, 1, 1), date(2099, 2, 1), "2099-01"), by_user=vadmin)


def test_township_board_ranks_villages_by_participation_then_average(world):
    from app.households.services import add_group, add_household
    from app.rules.importer import parse_rulebook
    from app.rules.services import load_spec
    a2 = world["village_a2"]
    spec = parse_rulebook("categories:\n  - name: 好\n    items:\n"
                          "      - {name: 好事, points: 1}\n", code_prefix="T")
    load_spec(a2, spec, "t", adopted_on=date(2020, 1, 1), effective_from=date(2020, 1, 1),
              decision="测试")
    from app.scoring.models import VillageSettings
    db.session.add(VillageSettings(village_id=a2.id, notice_days=0))   # confirmed at once
    group = add_group(a2, "一组")
    world["hh"]["x1"] = add_household(village=a2, group=group, house_number="1",
                                      head_name="孙八")
    post(world, "x1", "好事", 1, village="village_a2")    # 1 of 1 households: 100%
    post(world, "a1", "节俭办红白喜事", 2)                  # 1 of 4 in village A, avg 2.5
    db.session.commit()
    rows = township_board(world["town_a"], NOV)
    assert [(r.rank, r.village.id) for r in rows] == [(1, a2.id), (2, world["village_a"].id)]
    assert rows[1].participation == Decimal("0.25") and rows[1].average == Decimal("2.50")
    # same participation: the higher average wins
    post(world, "a2", "参加村组文化活动", 3)
    post(world, "a3", "参加村组文化活动", 4)
    post(world, "a4", "参加村组文化活动", 5)
    db.session.commit()
    rows = township_board(world["town_a"], NOV)
    assert [r.village.id for r in rows] == [world["village_a"].id, a2.id]
    assert township_board(world["village_a"], NOV)[0].households == 4


def test_board_periods_month_quarter_half_year():
    assert parse_period("2026H2", "half") == half_period(date(2026, 9, 9))
    assert half_period(date(2026, 9, 9)).start == date(2026, 7, 1)
    assert previous_period(parse_period("2026H1", "half"), "half").label == "2025H2"
    assert parse_period("2026Q4", "quarter").end == date(2027, 1, 1)
    assert parse_period("2026", "year").start == date(2026, 1, 1)
    assert parse_period("2026-13", "month") is None and parse_period("2026H3", "half") is None
    assert parse_period("2026-11", "quarter") is None


def test_lines_keep_the_unmasked_name_for_staff_and_the_shown_name(world):
    post(world, "a1", "红白喜事简办", 1)
    db.session.commit()
    pub = services.create_draft(define(world), NOV, by_user=world["users"]["vadmin"])
    line = db.session.query(BoardLine).filter_by(publication_id=pub.id).one()
    assert (line.head_name, line.shown_name) == ("张小三", "张*三")
    services.save_privacy(world["village_a"].id, mask_names=False, black_public=False)
    pub2 = services.create_draft(define(world, name="全名"), NOV, by_user=world["users"]["vadmin"])
    assert pub2.on("red")[0].shown_name == "张小三"


def test_black_filters_must_name_items_and_categories_of_the_rulebook(world):
    code = post(world, "a1", "乱堆乱放", 1).item_code
    assert define(world, name="有效", black_items=f"{code}，", black_categories="环境卫生")
    with pytest.raises(Refusal) as bad:
        define(world, name="编号错", black_items=f"{code}, NOPE9")
    assert bad.value.params["field"] == "black_items" and bad.value.params["item"] == "NOPE9"
    with pytest.raises(Refusal) as bad:
        define(world, name="类别错", black_categories="环境卫生,不存在的类别")
    assert bad.value.params["field"] == "black_categories"
    # a township template: any rulebook it applies to (the township's or one of its villages')
    town = {"name": "镇模板", "period_kind": "month", "red_top_n": 3}
    assert services.save_definition(world["town_a"], {**town, "black_categories": "环境卫生",
                                                      "black_items": code})
    with pytest.raises(Refusal):
        services.save_definition(world["town_a"], {**town, "black_categories": "无此类"})


def test_a_correction_reverses_the_bonus_of_households_dropped_from_the_board(world):
    from app.scoring.models import LedgerEntry
    from tests.conftest import item
    hh, vadmin = world["hh"], world["users"]["vadmin"]
    first = post(world, "a1", "节俭办红白喜事", 1)          # 10
    post(world, "a2", "红白喜事简办", 2)                    # 5
    db.session.commit()
    code = item(world["village_a"], "拾金不昧").code         # a range item, 5-10
    definition = define(world, red_top_n=None, red_threshold="8", red_item_code=code,
                        red_points="6")
    pub = publish(definition, NOV, vadmin)

    def bonuses():
        db.session.expire_all()
        rows = db.session.query(LedgerEntry).filter(
            LedgerEntry.idempotency_key.like(f"board:{definition.id}:%")).all()
        live = sorted(e.household_id for e in rows
                      if e.kind == "score" and e.reversed_by is None)
        return live, len(rows)

    assert bonuses() == ([hh["a1"].id], 1)
    reverse_entry(first, reason="重复记分", recorded_by=world["users"]["scorer"])
    post(world, "a2", "红白喜事简办", 3)                    # a2: 10, a1 off the board
    fix = services.correct(pub, by_user=vadmin, note="复核")
    for _ in range(3):
        services.advance(fix, by_user=vadmin)
    assert ids(fix.on("red")) == [hh["a2"].id]
    live, count = bonuses()
    assert live == [hh["a2"].id] and count == 3           # a1's bonus, its reversal, a2's
    reversal = db.session.query(LedgerEntry).filter(
        LedgerEntry.household_id == hh["a1"].id, LedgerEntry.kind == "reversal",
        LedgerEntry.item_code == code).one()
    assert reversal.points == Decimal("-6.00") and "更正后不在红榜" in reversal.reason
    # the same board published again changes nothing
    again = services.correct(db.session.get(BoardPublication, fix.id), by_user=vadmin,
                             note="再核")
    for _ in range(3):
        services.advance(again, by_user=vadmin)
    assert bonuses() == ([hh["a2"].id], 3)
    # a household back on the board gets its bonus once more
    post(world, "a1", "节俭办红白喜事", 4)
    third = services.correct(db.session.get(BoardPublication, again.id), by_user=vadmin,
                             note="三核")
    for _ in range(3):
        services.advance(third, by_user=vadmin)
    assert bonuses() == ([hh["a1"].id, hh["a2"].id], 4)


def test_extra_items_and_black_filters_must_point_the_right_way(world):
    from tests.conftest import item
    award = item(world["village_a"], "红白喜事简办").code
    deduct = item(world["village_a"], "乱堆乱放").code
    deduct2 = item(world["village_a"], "低俗婚闹").code
    cases = (({"red_item_code": deduct}, "red_item_code", "扣分项"),
             ({"black_item_code": award}, "black_item_code", "加分项"),
             ({"black_items": f"{deduct},{award}"}, "black_items", "加分项"))
    for values, field, word in cases:
        with pytest.raises(Refusal) as bad:
            define(world, name="方向错", **values)
        assert bad.value.params["field"] == field and word in bad.value.message
    ok = define(world, name="方向对", red_item_code=award, black_item_code=deduct,
                black_items=f"{deduct.lower()}、{deduct2}；{deduct}  {deduct2}")
    assert ok.black_items == f"{deduct}, {deduct2}"          # normalised to the rulebook's
    assert ok.black_categories == ""
    two = define(world, name="类别", black_categories="环境卫生、家庭文明")
    assert two.black_categories == "环境卫生, 家庭文明"


def test_split_codes_accepts_the_separators_people_type():
    assert compute.split_codes("SC2-4、SC2-3;sc1 SC5，SC6；SC7,") == [
        "SC2-4", "SC2-3", "sc1", "SC5", "SC6", "SC7"]
    assert compute.split_codes("环境 卫生、家庭文明", spaces=False) == ["环境 卫生", "家庭文明"]
