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
