"""RULE-FEATURES rows 4, 12, 14, 18, 19, 20 and 23: in the rulebook format, enforced by the
engine (pure) or the posting and period services, with the public rulebooks' cases where the
shared data has one (hlj-fangzheng-baming: components, quarterly reset, cadences)."""
from datetime import date, timedelta
from decimal import Decimal

import pytest

from app.demo.loader import _rulebook_text
from app.extensions import db
from app.rules import excel
from app.rules.engine import (BookRule, Component, Deed, Expiry, HouseholdState, ItemRule,
                              Refusal, judge)
from app.rules.importer import RulebookFormatError, parse_rulebook
from app.rules.periodic import (cadence_period, check_scale, expired_points, expiry_due,
                                notice_ends, per_capita_level, redemption_open)
from app.rules.queries import book_rule
from app.rules.services import import_draft, load_spec
from app.rules.yaml_export import export_yaml
from app.scoring.checks import verify
from app.scoring.periods import local_today, quarter_period
from app.scoring.services import grant_base, post_entry, spend
from tests.conftest import item

D = Decimal
DEED_DAY = date(2026, 11, 2)

# A rulebook written with every feature of this file (values from RULE-FEATURES.md's
# examples: base 80 + peer rating 20 + contribution 10; credit level from the average per
# member; base used up: the household leaves; one offence zeroes the balance; daily
# cleaning, monthly scoring, quarterly redemption, yearly award; unused points carry over;
# quarterly self + peer assessment).
FEATURES = """
id: features-example
place: 测试村
rules:
  base: {points: 80, per: once, spendable: false}
  scale: 110
  components:
    - {category: 日常表现, max: 80, period: quarter, floor: true}
    - {category: 互评自评, max: 20, period: quarter}
    - {category: 贡献, max: 10, period: quarter}
  per_capita: [{min: 10, label: 信用户}, {min: 30, label: 诚信示范户}]
  exhaustion: leave
  cadences: {scoring: month, notice: month, redemption: quarter, honours: year,
             redemption_open_days: 10}
  expiry: {every: month, carry_over: 50}
categories:
  - name: 日常表现
    items:
      - {code: P1, name: 乱倒垃圾, points: -5}
      - {code: P2, name: 违法犯罪, points: -10, zeroes: true}
  - name: 互评自评
    items:
      - {code: A1, name: 季度互评自评, points: "0..20",
         assessment: {self_weight: 0.2, min_raters: 3}, cap: {points: 20, period: quarter}}
  - name: 贡献
    items:
      - {code: C1, name: 参加义务劳动, points: 5}
"""


def _features(world, effective=date(2026, 7, 1)):
    spec = parse_rulebook(FEATURES)
    return load_spec(world["village_a"], spec, "功能示例", adopted_on=effective,
                     effective_from=effective, decision="村民代表会议")


def _post(h, name, u, day=DEED_DAY, **deed):
    return post_entry(household=h, item_id=item(h.village, name).id, deed_date=day,
                      recorded_by=u, **deed)


def _bal(h):
    db.session.refresh(h.balance)
    return h.balance.earned_score, h.balance.spendable_balance


# --- the format: YAML and Excel ---------------------------------------------------------

def test_features_rulebook_parses_and_round_trips_through_yaml_and_excel(world):
    version = _features(world)
    db.session.commit()
    book = book_rule(version)
    assert book.scale == D("110") and [c.max for c in book.components] == [D(80), D(20), D(10)]
    assert book.component_of("日常表现").floor and book.exhaustion == "leave"
    assert dict(book.cadences) == {"scoring": "month", "notice": "month",
                                   "redemption": "quarter", "honours": "year"}
    assert book.redemption_open_days == 10
    assert book.expiry == Expiry(every="month", carry_over=D("50"))
    assert book.per_capita == ((D("10"), "信用户"), (D("30"), "诚信示范户"))
    again = import_draft(version.rulebook, parse_rulebook(export_yaml(version)))
    db.session.commit()
    assert book_rule(again) == book
    params = {i.code: i.params for c in again.categories for i in c.items}
    assert params["P2"]["zeroes"] is True
    assert params["A1"]["assessment"] == {"self_weight": "0.20", "min_raters": 3}
    from_excel = import_draft(version.rulebook,
                              excel.parse_workbook(excel.export_workbook(version)),
                              params=version.params)
    db.session.commit()
    params = {i.code: i.params for c in from_excel.categories for i in c.items}
    assert params["P2"]["zeroes"] is True
    assert params["A1"]["assessment"] == {"self_weight": "0.20", "min_raters": 3}


@pytest.mark.parametrize("change, words", [
    ("scale: 110", "scale: 100"),
    ("{category: 贡献, max: 10", "{category: 没有这个类别, max: 10"),
    ("exhaustion: leave", "exhaustion: sometimes"),
    ("honours: year", "honours: decade"),
    ("carry_over: 50", "carry_over: some"),
    ("self_weight: 0.2", "self_weight: 2"),
])
def test_bad_feature_rules_are_refused_with_the_key_named(change, words):
    with pytest.raises(RulebookFormatError):
        parse_rulebook(FEATURES.replace(change, words))


def _one_row_workbook(**cells) -> bytes:
    """A workbook of the import format holding one item row (header: value)."""
    from openpyxl import Workbook
    import io
    wb = Workbook()
    ws = wb.active
    ws.title = excel.SHEET
    headers = [h for _k, h in excel.COLUMNS]
    ws.append(headers)
    row = dict.fromkeys(headers, "")
    row.update(cells)
    ws.append([row[h] for h in headers])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_excel_assessment_columns_are_checked():
    data = _one_row_workbook(类别="互评", 评分项="季度互评", 类型="固定分", 分值="5",
                             自评权重="0.3")
    with pytest.raises(excel.WorkbookError) as err:
        excel.parse_workbook(data)
    assert err.value.errors[0][1:3] == (2, "自评权重")


# --- row 4: components with their own maxima adding to a fixed scale ----------------------

PART = Component(category="日常表现", max=D("80"), period="quarter", floor=True)
DAILY = ItemRule(code="P1", name="乱倒垃圾", category="日常表现", points=D("-5"))


def test_component_floor_stops_deductions_at_zero_pure():
    book = BookRule(components=(PART,))
    v = judge(DAILY, HouseholdState(component_deducted=D("-77")), Deed(), book)
    assert v.points == D("-3.00") and "扣完为止" in v.reason
    with pytest.raises(Refusal) as err:
        judge(DAILY, HouseholdState(component_deducted=D("-80")), Deed(), book)
    assert err.value.code == "component_floor"
    assert check_scale(BookRule(scale=D("100"), components=(PART,))) is not None
    assert check_scale(BookRule(scale=D("80"), components=(PART,))) is None


def test_bamingcun_base_part_never_goes_below_zero_and_contribution_stops_at_20(world):
    """hlj-fangzheng-baming: base part 100 from full marks + contribution at most 20 = 120;
    120 problems in a quarter deduct only the 100 of the base part; the next quarter starts
    again from full marks (scores reset every quarter)."""
    from app.rules.services import load_spec as load
    from app.scoring.queries import standings
    spec = parse_rulebook(_rulebook_text("rulebooks/project/bamingcun-quarterly-stars.yaml"))
    version = load(world["village_a"], spec, spec.id, adopted_on=date(2026, 7, 1),
                   effective_from=date(2026, 7, 1), decision="村民代表会议")
    assert book_rule(version).scale == D("120") and check_scale(book_rule(version)) is None
    v, u, h = world["village_a"], world["users"]["scorer"], world["hh"]["a1"]
    q3, q4 = date(2026, 8, 3), DEED_DAY
    for day in (q3, q4):
        grant_base(h, on=day, by_user=u)
    problem = "检查发现问题（每扣 1 分记一次）"
    _post(h, problem, u, day=q3, quantity=90)
    capped = _post(h, problem, u, day=q3, quantity=20)
    assert capped.points == D("-10") and "扣完为止" in capped.reason
    with pytest.raises(Refusal) as err:
        _post(h, problem, u, day=q3)
    assert err.value.code == "component_floor"
    e = _post(h, problem, u, day=q4, quantity=3)
    assert e.points == D("-3")
    scores = {s.household_id: s.points for s in standings(v.id, quarter_period(q3))}
    assert scores[h.id] == D("0")
    scores = {s.household_id: s.points for s in standings(v.id, quarter_period(q4))}
    assert scores[h.id] == D("97")


# --- row 12: per-person events and the per-capita roll-up -------------------------------

def test_per_capita_level_pure():
    book = BookRule(per_capita=((D("10"), "信用户"), (D("30"), "诚信示范户")))
    assert per_capita_level(book, D("100"), 3) == (D("33.33"), "诚信示范户")
    assert per_capita_level(book, D("100"), 4) == (D("25.00"), "信用户")
    assert per_capita_level(book, D("20"), 4) == (D("5.00"), None)
    with pytest.raises(ValueError):
        per_capita_level(book, D("20"), 0)


def test_household_level_from_average_per_member(world):
    from app.scoring.feature_state import per_capita
    _features(world)
    u, small, big = world["users"]["scorer"], world["hh"]["a2"], world["hh"]["a1"]
    assert big.member_names == ["李四", "张丽"]                   # head + 2 members
    for h in (small, big):
        grant_base(h, on=DEED_DAY, by_user=u)                      # 80 each
    small_roll, big_roll = per_capita(small, DEED_DAY), per_capita(big, DEED_DAY)
    assert (small_roll["headcount"], small_roll["average"], small_roll["level"]) == \
        (1, D("80.00"), "诚信示范户")
    assert (big_roll["headcount"], big_roll["average"], big_roll["level"]) == \
        (3, D("26.67"), "信用户")
    quarter = per_capita(big, DEED_DAY, period=quarter_period(DEED_DAY))
    assert quarter["score"] == D("80") and quarter["level"] == "信用户"


# --- row 14: exhaustion and zeroing -----------------------------------------------------

def test_zeroing_and_exhaustion_pure():
    zero = ItemRule(code="Z", name="违法犯罪", category="日常表现", points=D("-10"),
                    zeroes=True)
    v = judge(zero, HouseholdState(score=D("57.5")), Deed())
    assert v.points == D("-57.50") and "清零" in v.reason
    assert judge(zero, HouseholdState(score=D("3")), Deed()).points == D("-10.00")
    book = BookRule(exhaustion="leave")
    with pytest.raises(Refusal) as err:
        judge(DAILY, HouseholdState(score=D("0"), has_base=True), Deed(), book)
    assert err.value.code == "exhausted"
    assert judge(DAILY, HouseholdState(score=D("0"), has_base=False), Deed(), book).points \
        == D("-5")


def test_one_offence_zeroes_and_a_used_up_base_leaves_the_scheme(world):
    _features(world)
    u, h, other = world["users"]["scorer"], world["hh"]["a1"], world["hh"]["a2"]
    grant_base(h, on=DEED_DAY, by_user=u)
    _post(h, "参加义务劳动", u, quantity=2)                               # 80 + 10 = 90
    e = _post(h, "违法犯罪", u)
    assert e.points == D("-90") and _bal(h)[0] == D("0")
    with pytest.raises(Refusal) as err:
        _post(h, "参加义务劳动", u)
    assert err.value.code == "exhausted"
    assert grant_base(h, on=DEED_DAY, by_user=u) is None          # left: no base again
    grant_base(other, on=DEED_DAY, by_user=u)
    for _ in range(16):
        _post(other, "乱倒垃圾", u)                                        # 80 - 80 = 0
    assert _bal(other)[0] == D("0")
    with pytest.raises(Refusal) as err:
        _post(other, "参加义务劳动", u)
    assert err.value.code == "exhausted"
    assert verify(world["village_a"].id) == []


# --- row 18: separate cadences ----------------------------------------------------------

def test_cadence_periods_pure():
    book = BookRule(cadences=(("scoring", "month"), ("redemption", "quarter"),
                              ("honours", "year"), ("notice", "week")),
                    redemption_open_days=10)
    day = date(2026, 11, 18)
    assert cadence_period(book, "scoring", day)[2] == "2026-11"
    assert cadence_period(book, "redemption", day)[2] == "2026Q4"
    assert cadence_period(book, "honours", day)[2] == "2026"
    assert cadence_period(book, "notice", day)[:2] == (date(2026, 11, 16), date(2026, 11, 23))
    assert cadence_period(BookRule(), "honours", day)[2] == "2026-11"   # default month
    assert notice_ends(book, day, 7) == date(2026, 11, 29)   # posted Sunday 22nd, 7 days
    assert notice_ends(BookRule(), day, 7) == date(2026, 11, 25)
    assert redemption_open(book, date(2026, 10, 10)) and not redemption_open(book, day)
    assert redemption_open(BookRule(), day)


def test_notice_and_redemption_follow_their_own_cadence(world, monkeypatch):
    from app.scoring import feature_state
    from app.scoring.feature_state import cadence_of, check_redemption_cadence
    from app.scoring.models import VillageSettings
    _features(world)
    v, u, h = world["village_a"], world["users"]["scorer"], world["hh"]["a1"]
    db.session.get(VillageSettings, v.id).notice_days = 3
    e = _post(h, "参加义务劳动", u)
    today = local_today()
    month_end = date(today.year + (today.month == 12), today.month % 12 + 1, 1)
    assert e.status == "under_notice"
    assert e.notice_until == month_end - timedelta(days=1) + timedelta(days=3)  # posted monthly
    assert cadence_of(v, "honours", DEED_DAY).label == "2026"
    assert cadence_of(v, "redemption", DEED_DAY).label == "2026Q4"
    check_redemption_cadence(h, date(2026, 10, 5))                  # open: first 10 days
    with pytest.raises(Refusal) as err:
        check_redemption_cadence(h, date(2026, 11, 5))
    assert err.value.code == "redemption_closed"
    monkeypatch.setattr(feature_state, "local_today", lambda: date(2026, 11, 5))
    with pytest.raises(Refusal) as err:
        spend(household=h, points="1", recorded_by=u, reason="兑换")
    assert err.value.code == "redemption_closed"


# --- row 19: periodic expiry with carry-over --------------------------------------------

def test_expired_points_pure():
    assert expired_points(Expiry(carry_over=D("50")), D("80")) == D("30")
    assert expired_points(Expiry(carry_over=D("50")), D("20")) == D("0")
    assert expired_points(Expiry(carry_over="none"), D("20")) == D("20")
    assert expired_points(Expiry(carry_over="all"), D("20")) == D("0")
    assert expired_points(Expiry(carry_over="none"), D("-5")) == D("0")
    book = BookRule(expiry=Expiry(every="year"))
    assert expiry_due(book, date(2027, 1, 10))[2] == "2026"
    assert expiry_due(BookRule(), date(2027, 1, 10)) is None


def test_expiry_cli_carries_over_and_is_idempotent_per_period(app, world, monkeypatch):
    """Unused points carry over up to the rulebook's limit; the rest expire as a new ledger
    entry; running again for the same period changes nothing."""
    import app.scoring.expiry as exp_mod
    from app.rules.services import adopt_version, new_draft_from
    _features(world)
    v, u = world["village_a"], world["users"]["scorer"]
    h, poor = world["hh"]["a1"], world["hh"]["a2"]
    _post(h, "参加义务劳动", u, day=date(2026, 8, 3), quantity=2)          # September: 10
    _post(h, "季度互评自评", u, day=date(2026, 10, 7), ratings=["20", "20", "20"],
          self_rating="20")                                               # October: 20
    _post(h, "参加义务劳动", u, day=date(2026, 11, 2), quantity=2)          # November: 10
    _post(poor, "参加义务劳动", u, day=date(2026, 10, 5))                   # 5
    db.session.commit()
    assert _bal(h) == (D("40"), D("40"))
    runner = app.test_cli_runner()
    # October closes with 30 held: under the carry-over of 50, nothing expires.
    result = runner.invoke(args=["rules", "expire", "--village", v.code, "--on", "2026-11-10"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("0 户")
    # From November the village keeps only 10 points a month.
    draft = new_draft_from(_version_in_force(v))
    draft.params = {**draft.params, "expiry": {"every": "month", "carry_over": "10"}}
    adopt_version(draft, adopted_on=date(2026, 11, 1), effective_from=date(2026, 11, 1),
                  decision="村民代表会议")
    db.session.commit()
    monkeypatch.setattr(exp_mod, "local_today", lambda: date(2026, 12, 3))
    made = exp_mod.expire_balances(v, date(2026, 12, 1), by_user=u)
    db.session.commit()
    again = exp_mod.expire_balances(v, date(2026, 12, 3), by_user=u)
    assert [e.household_id for e in made] == [h.id] and again == []
    entry = made[0]
    assert (entry.kind, entry.direction, entry.points) == ("expiry", "spend", D("-30"))
    assert entry.deed_date == date(2026, 11, 30) and "结转 10" in entry.reason
    assert _bal(h) == (D("40"), D("10"))          # earned score untouched; 10 carried over
    assert _bal(poor) == (D("5"), D("5"))         # below the carry-over: nothing expires
    assert verify(v.id) == []
    monkeypatch.undo()
    result = runner.invoke(args=["rules", "expire", "--village", v.code, "--on", "2099-01-01"])
    assert result.exit_code != 0 and "不能晚于今天" in result.output


def _version_in_force(village):
    from app.rules.queries import version_in_force
    return version_in_force(village, DEED_DAY)


# --- row 20: ranking on the average of period scores ------------------------------------

def test_ranking_by_average_of_quarter_scores_differs_from_the_sum(world):
    """A household scored in one quarter only is averaged over that quarter: 110 beats a
    household with 100 in each of two quarters (sum 200)."""
    from app.scoring.queries import average_of_periods, standings
    spec = parse_rulebook(_rulebook_text("rulebooks/project/bamingcun-quarterly-stars.yaml"))
    load_spec(world["village_a"], spec, spec.id, adopted_on=date(2026, 7, 1),
              effective_from=date(2026, 7, 1), decision="村民代表会议")
    v, u, admin = world["village_a"], world["users"]["scorer"], world["users"]["admin"]
    from app.review.services import approve
    steady, newcomer, weak = world["hh"]["a1"], world["hh"]["a2"], world["hh"]["a3"]
    q3, q4 = date(2026, 8, 3), DEED_DAY
    for day in (q3, q4):
        grant_base(steady, on=day, by_user=u)
        grant_base(weak, on=day, by_user=u)
    _post(weak, "检查发现问题（每扣 1 分记一次）", u, day=q4, quantity=15)
    grant_base(newcomer, on=q4, by_user=u)
    approve(_post(newcomer, "为村集体作贡献", u, points="10"), by_user=admin)
    quarters = [quarter_period(q3), quarter_period(q4)]
    table = average_of_periods(v.id, quarters)
    points = {s.household_id: s.points for s in table}
    assert points[steady.id] == D("100") and points[newcomer.id] == D("110")
    assert points[weak.id] == D("92.50")                                # (100 + 85) / 2
    order = [s.household_id for s in table][:3]
    assert order == [newcomer.id, steady.id, weak.id]
    by_sum = [s.household_id for s in standings(v.id)][:3]
    assert by_sum[0] == steady.id                                        # 200 by the sum


# --- row 23: peer and self assessment as scored components ------------------------------

ASSESS = ItemRule(code="A", name="季度互评自评", category="互评自评", kind="range",
                  min_points=D("0"), max_points=D("20"), self_weight=D("0.2"), min_raters=3,
                  rounding="half_up", step=D("0.5"))


def test_peer_and_self_assessment_pure():
    v = judge(ASSESS, HouseholdState(), Deed(ratings=("18", "16", "15"), self_rating="20"))
    # 20 x 0.2 + (49 / 3) x 0.8 = 4 + 13.0667 = 17.0667 -> 17 (half up to 0.5)
    assert v.points == D("17.00") and "互评" in v.reason and "自评" in v.reason
    with pytest.raises(Refusal) as err:
        judge(ASSESS, HouseholdState(), Deed(ratings=("18", "16"), self_rating="20"))
    assert err.value.code == "bad_ratings"
    with pytest.raises(Refusal) as err:
        judge(ASSESS, HouseholdState(), Deed(ratings=("18", "16", "21"), self_rating="20"))
    assert err.value.code == "out_of_range"
    with pytest.raises(Refusal) as err:
        judge(ASSESS, HouseholdState(), Deed(ratings=("18", "16", "15")))
    assert err.value.code == "bad_ratings"


def test_assessment_is_posted_once_a_quarter_within_its_component(world):
    _features(world)
    u, h = world["users"]["scorer"], world["hh"]["a1"]
    e = _post(h, "季度互评自评", u, ratings=["18", "16", "15"], self_rating="20")
    assert e.points == D("17.07") and "平均 16.33" in e.reason
    rest = _post(h, "季度互评自评", u, ratings=["20", "20", "20"], self_rating="20")
    assert rest.points == D("2.93")                         # the quarter's component is 20
    with pytest.raises(Refusal) as err:
        _post(h, "季度互评自评", u, ratings=["20", "20", "20"], self_rating="20")
    assert err.value.code == "cap_reached"


def test_the_score_form_takes_peer_and_self_ratings(app, world, login):
    _features(world)
    db.session.commit()
    v, hid = world["village_a"], world["hh"]["a1"].id
    client = login("scorer")
    form = client.get(f"/households/{hid}/score").get_data(as_text=True)
    assert 'data-kind="assessment"' in form and 'name="ratings"' in form
    assert "-10，清零" in form                                  # the zeroing item says so
    url = f"/households/{hid}/score"
    data = {"item_id": item(v, "季度互评自评").id, "deed_date": "2026-11-20", "quantity": 1}
    html = client.post(url, data={**data, "ratings": "18、16"}).get_data(as_text=True)
    assert "互评至少需要 3 人打分" in html and 'value="18、16"' in html
    resp = client.post(url, data={**data, "ratings": "18，16、15", "self_rating": "20"})
    assert resp.status_code == 302
    from app.scoring.models import LedgerEntry
    entry = db.session.query(LedgerEntry).filter_by(item_code="A1").one()
    assert entry.points == D("17.07")


def test_preview_tries_an_assessment_before_adoption(app, world, login):
    version = _features(world)
    db.session.commit()
    client = login("vadmin")
    args = {"household": world["hh"]["a1"].id, "item": item(world["village_a"], "季度互评自评").id,
            "deed_date": "2026-11-20", "ratings": "18、16、15", "self_rating": "20"}
    html = client.get(f"/rulebook-versions/{version.id}/preview", query_string=args)
    assert "17.07" in html.get_data(as_text=True)


# --- row 25: points-to-money rate for reporting and redemption --------------------------

def test_jiangxia_points_to_yuan_rate_values_redemptions(world):
    """hb-jiangxia-baxiu: 1 point = 1 yuan; an eligible household with 50 redeems 大米5kg
    (39 points) and keeps 11; the report values the redemption at 39 yuan by the rate."""
    from app.rewards import services as rewards
    from app.rewards.queries import points_per_yuan, report
    spec = parse_rulebook(_rulebook_text("rulebooks/project/jiangxia-baxiu.yaml"))
    load_spec(world["village_a"], spec, spec.id, adopted_on=date(2026, 1, 1),
              effective_from=date(2026, 1, 1), decision="村民代表会议")
    v, u, h = world["village_a"], world["users"]["scorer"], world["hh"]["a3"]
    _post(h, "劳动就业", u, quantity=5)                                      # 50
    rice = rewards.add_reward(village=v, name="大米5kg", points_price="39")
    rewards.stock_in(rice, quantity=3)
    today = local_today()
    rewards.redeem(household=h, basket={rice.id: 1}, by_user=u, today=today)
    assert _bal(h) == (D("50"), D("11"))
    rate = points_per_yuan(v.id)
    assert rate == D("1")
    got = report(v.id, today, today + timedelta(days=1), rate)
    assert (got["points"], got["rate_yuan"]) == (D("39"), D("39.00"))


@pytest.mark.browser
def test_score_form_shows_the_rating_boxes_for_an_assessment_item(app, world, live_server):
    from tests.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, PHONE, TABLET, \
        require_chromium
    require_chromium()
    from playwright.sync_api import expect, sync_playwright
    _features(world)
    db.session.commit()
    hid, item_id = world["hh"]["a1"].id, item(world["village_a"], "季度互评自评").id
    db.session.close()
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for size, name in ((TABLET, "tablet"), (PHONE, "phone")):
                page = browser.new_context(viewport=size, locale="zh-CN").new_page()
                page.set_default_timeout(15_000)
                errors = []
                page.on("pageerror", lambda e, errs=errors: errs.append(str(e)))
                page.goto(live_server + "/login")
                page.get_by_label("用户名").fill("scorer")
                page.get_by_label("密码").fill("pw-scorer")
                page.get_by_role("button", name="登录").click()
                page.goto(f"{live_server}/households/{hid}/score")
                ratings = page.get_by_label("互评分（每人一个分数，用顿号分隔）")
                expect(ratings).to_be_hidden()
                page.locator(f"label[for=item-{item_id}]").click()
                expect(ratings).to_be_visible()
                ratings.fill("18、16、15")
                page.get_by_label("本户自评分").fill("20")
                ratings.scroll_into_view_if_needed()
                page.screenshot(path=str(ARTIFACTS / f"rule-features-assessment-{name}.png"))
                assert errors == []
        finally:
            browser.close()
