"""The rules engine is pure: no database, no app."""
from decimal import Decimal

import pytest

from app.rules.engine import Deed, HouseholdState, ItemRule, Refusal, judge, to_points

FIXED = ItemRule(code="F", name="义务巡逻", category="公益", kind="fixed", points=Decimal("0.5"))
DEDUCT = ItemRule(code="D", name="焚烧秸秆", category="环境卫生", kind="fixed",
                  points=Decimal("-5"))
RANGE = ItemRule(code="R", name="拾金不昧", category="好人好事", kind="range",
                 min_points=Decimal("5"), max_points=Decimal("10"))
ONCE = ItemRule(code="O", name="被评为敬老爱亲之星", category="好人好事", kind="fixed",
                points=Decimal("20"), once_only=True)
NEW = HouseholdState()


def test_fixed_award_is_exact_decimal_times_quantity():
    v = judge(FIXED, NEW, Deed(quantity=3))
    assert v.points == Decimal("1.50") and v.unit_points == Decimal("0.50")
    assert isinstance(v.points, Decimal)


def test_deduction_is_negative():
    assert judge(DEDUCT, NEW, Deed()).points == Decimal("-5.00")


def test_fixed_item_refuses_another_value():
    with pytest.raises(Refusal) as err:
        judge(DEDUCT, NEW, Deed(points="-3"))
    assert err.value.code == "fixed_points"


@pytest.mark.parametrize("value", ["5", "7.5", "10"])
def test_range_accepts_values_inside(value):
    assert judge(RANGE, NEW, Deed(points=value)).points == Decimal(value)


@pytest.mark.parametrize("value", ["4.99", "12", "-5", None])
def test_range_refuses_values_outside_or_missing(value):
    with pytest.raises(Refusal) as err:
        judge(RANGE, NEW, Deed(points=value))
    assert err.value.code == "out_of_range"
    assert "5" in err.value.message


def test_once_only_item_refused_when_held():
    judge(ONCE, NEW, Deed())
    with pytest.raises(Refusal) as err:
        judge(ONCE, HouseholdState(held_once_only=frozenset({"O"})), Deed())
    assert err.value.code == "once_only" and "只能记一次" in err.value.message


@pytest.mark.parametrize("quantity", [0, -1, 101])
def test_quantity_bounds(quantity):
    with pytest.raises(Refusal) as err:
        judge(FIXED, NEW, Deed(quantity=quantity))
    assert err.value.code == "bad_quantity"


def test_inactive_household_refused():
    with pytest.raises(Refusal) as err:
        judge(FIXED, HouseholdState(active=False), Deed())
    assert err.value.code == "inactive"


def test_points_never_accept_floats_or_garbage():
    with pytest.raises(TypeError):
        to_points(0.5)
    for bad in ["abc", "1.234", "NaN", "Infinity", ""]:
        with pytest.raises(Refusal):
            to_points(bad)
    assert to_points("0.1") + to_points("0.2") == Decimal("0.30")


# --- issue 3: the other kinds and the rulebook-wide rules ---------------------------------
from app.rules.engine import (BookRule, Cap, base_grant, household_flags,  # noqa: E402
                              star_band)

D = Decimal


def test_scorecard_deducts_per_problem_with_floor_zero():
    card = ItemRule(code="C", name="宅前屋后无乱堆物", category="环境卫生", kind="scorecard",
                    max_points=D("25"), per_problem=D("5"))
    assert judge(card, NEW, Deed(problems=0)).points == D("25")
    assert judge(card, NEW, Deed(problems=2)).points == D("15")
    assert judge(card, NEW, Deed(problems=9)).points == D("0")
    with pytest.raises(Refusal) as err:
        judge(card, NEW, Deed(problems=-1))
    assert err.value.code == "bad_problems"


@pytest.mark.parametrize("rounding,hours,expected", [
    ("floor", "10", "2"), ("half_up", "10", "3"), ("ceiling", "9", "3"), ("floor", "3", "0")])
def test_rate_items_round_by_the_stated_rule(rounding, hours, expected):
    rate = ItemRule(code="V", name="志愿服务（每 4 小时 1 分）", category="公益", kind="rate",
                    units_per_point=D("4"), rounding=rounding)
    v = judge(rate, NEW, Deed(units=hours))
    assert v.points == D(expected)


def test_rate_with_half_point_step():
    rate = ItemRule(code="V", name="志愿服务", category="公益", kind="rate",
                    units_per_point=D("4"), rounding="floor", step=D("0.5"))
    assert judge(rate, NEW, Deed(units="10")).points == D("2.5")


def test_tiered_values_by_level():
    honour = ItemRule(code="H", name="获得荣誉", category="荣誉", kind="tiered",
                      tiers=(("国家", D("50")), ("省", D("30")), ("县", D("15")), ("乡镇", D("10"))))
    assert judge(honour, NEW, Deed(tier="省")).points == D("30")
    with pytest.raises(Refusal) as err:
        judge(honour, NEW, Deed(tier="村"))
    assert err.value.code == "bad_tier"


def test_bonus_points_on_top_and_their_limit():
    item = ItemRule(code="B", name="见义勇为", category="好人好事", points=D("10"),
                    bonus_max=D("5"))
    assert judge(item, NEW, Deed(bonus="5")).points == D("15")
    with pytest.raises(Refusal):
        judge(item, NEW, Deed(bonus="6"))
    with pytest.raises(Refusal):
        judge(FIXED, NEW, Deed(bonus="1"))


def test_catch_all_by_analogy_needs_a_reference():
    catch = ItemRule(code="X", name="其他好人好事", category="好人好事", kind="analogy",
                     min_points=D("1"), max_points=D("10"))
    with pytest.raises(Refusal) as err:
        judge(catch, NEW, Deed(points="5"))
    assert err.value.code == "reference_required"
    v = judge(catch, NEW, Deed(points="5", reference="帮助困难居民"))
    assert v.points == D("5") and "参照“帮助困难居民”" in v.reason


def test_per_person_items_name_the_member():
    edu = ItemRule(code="E", name="子女考上大学", category="家庭文明", points=D("5"),
                   per_person=True)
    with pytest.raises(Refusal) as err:
        judge(edu, NEW, Deed())
    assert err.value.code == "member_required"
    assert "张丽" in judge(edu, NEW, Deed(member="张丽")).reason


def test_caps_clip_an_award_and_refuse_when_reached():
    """jiangxia-baxiu: 700 per household per year; 690 earned + 20 -> 10 recorded."""
    book = BookRule(household_cap=Cap(D("700"), "year"))
    item = ItemRule(code="A", name="集体奉献", category="八秀村", points=D("20"))
    v = judge(item, HouseholdState(earned_household=D("690")), Deed(), book)
    assert v.points == D("10") and "上限 700" in v.reason
    with pytest.raises(Refusal) as err:
        judge(item, HouseholdState(earned_household=D("700")), Deed(), book)
    assert err.value.code == "cap_reached"
    capped = ItemRule(code="A", name="x", category="c", points=D("20"), cap=Cap(D("30")),
                      category_cap=Cap(D("25"), "month"))
    assert judge(capped, HouseholdState(earned_item=D("5"), earned_category=D("10")),
                 Deed()).points == D("15")
    # deductions are never capped
    assert judge(DEDUCT, HouseholdState(earned_household=D("9999")), Deed(), book).points \
        == D("-5")


def test_eligibility_gate():
    """jiangxia-baxiu: a household not in the eligible group gets nothing recorded."""
    book = BookRule(eligibility="enrolled")
    with pytest.raises(Refusal) as err:
        judge(FIXED, HouseholdState(enrolled=False), Deed(), book)
    assert err.value.code == "not_enrolled"
    assert judge(FIXED, HouseholdState(enrolled=True), Deed(), book).points == D("0.5")


def test_thresholds_base_and_star_bands():
    """fengjie-baijia: below 70 suspended until back to 70; base 100 not spendable."""
    book = BookRule(base=(D("100"), "once", False), thresholds=((D("70"), "suspended"),),
                    star_bands=((D("5"), "铜"), (D("8"), "银"), (D("10"), "金")))
    assert base_grant(book) == (D("100"), False)
    assert household_flags(book, D("68")) == {"suspended"}
    assert household_flags(book, D("70")) == frozenset()
    assert [star_band(book, D(s)) for s in ("4", "5", "9", "12")] == [None, "铜", "银", "金"]
