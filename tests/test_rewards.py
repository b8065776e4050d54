"""Issue 6: points supermarket — catalogue, stock movements, redemption at the counter
(one spend entry, idempotent, never overspends or oversells, also with concurrent counters on
PostgreSQL and SQLite), cancel/refund as reversal, opening days, reports and access."""
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.households.qr import public_url
from app.rewards import queries, services
from app.rewards.models import Redemption, Reward, StockMovement
from app.rules.engine import Refusal
from app.scoring.checks import verify
from app.scoring.models import HouseholdBalance, LedgerEntry
from app.scoring.periods import local_today
from app.scoring.services import post_entry, reverse_entry
from tests.conftest import item, run_threads


def _award(world, hh="a1", times=1, name="红白喜事简办"):
    """+5 points per time (confirmed at once: the world has no notice period)."""
    entries = [post_entry(household=world["hh"][hh], item_id=item(world["village_a"], name).id,
                          deed_date=local_today(), recorded_by=world["users"]["scorer"])
               for _ in range(times)]
    return entries[-1]


def _shop(world, stock=10):
    """Rice (2.5 points a bag, ``stock`` bags) and a service (3 points, no stock)."""
    v = world["village_a"]
    rice = services.add_reward(village=v, name="大米", points_price="2.5", unit="袋",
                               category="粮油", low_stock_at=3)
    if stock:
        services.stock_in(rice, quantity=stock, supplier="县粮油公司", cost_yuan="35.50")
    haircut = services.add_reward(village=v, name="理发一次", points_price=Decimal("3"),
                                  unit="次", category="服务", is_goods=False)
    return rice, haircut


def _balance(hid):
    bal = db.session.get(HouseholdBalance, hid)
    db.session.refresh(bal)
    return bal


def _stock(reward_id):
    r = db.session.get(Reward, reward_id)
    db.session.refresh(r)
    return r.stock


# -- catalogue and stock ---------------------------------------------------------------------

def test_catalogue_prices_are_exact_and_services_have_no_stock(world):
    rice, haircut = _shop(world)
    db.session.commit()
    assert rice.points_price == Decimal("2.50") and isinstance(rice.points_price, Decimal)
    assert [r.name for r in queries.catalogue(world["village_a"].id)] == ["理发一次", "大米"]
    with pytest.raises(Refusal) as err:
        services.stock_in(haircut, quantity=5)
    assert err.value.code == "not_goods"
    for bad in ("0", "-1", "1.005", "abc"):
        with pytest.raises(Refusal):
            services.add_reward(village=world["village_a"], name="油", points_price=bad)
    with pytest.raises(TypeError):
        services.add_reward(village=world["village_a"], name="油", points_price=2.5)
    services.update_reward(rice, name="大米", points_price="2.5", unit="袋", active=False)
    assert queries.catalogue(world["village_a"].id, active_only=True) == [haircut]


def test_stock_is_the_sum_of_movements_and_never_negative(world):
    rice, _ = _shop(world, stock=10)
    services.stock_in(rice, quantity=5, supplier="超市", cost_yuan=Decimal("12.00"))
    services.adjust_stock(rice, delta=-2, reason="受潮损坏")
    with pytest.raises(Refusal) as err:
        services.adjust_stock(rice, delta=-14, reason="盘点")
    assert err.value.code == "out_of_stock"
    with pytest.raises(Refusal) as err:
        services.adjust_stock(rice, delta=-1, reason=" ")
    assert err.value.code == "reason_required"
    with pytest.raises(Refusal) as err:
        services.stock_in(rice, quantity=1, cost_yuan="1.234")
    assert err.value.code == "bad_cost"
    db.session.commit()
    assert _stock(rice.id) == 13 == queries.movement_sum(rice.id)
    kinds = [m.kind for m in queries.movements(rice.id)]
    assert kinds == ["adjust", "stock_in", "stock_in"]
    assert db.session.scalar(select(func.sum(StockMovement.cost_yuan))) == Decimal("47.50")
    assert queries.low_stock(world["village_a"].id) == []
    services.adjust_stock(rice, delta=-10, reason="盘点")
    assert queries.low_stock(world["village_a"].id) == [rice]


# -- redemption -------------------------------------------------------------------------------

def test_redemption_posts_one_spend_entry_and_takes_stock(world):
    _award(world, times=2)                     # 10 points
    rice, haircut = _shop(world)
    db.session.commit()
    h = world["hh"]["a1"]
    before = db.session.scalar(select(func.count(LedgerEntry.id)))
    r = services.redeem(household=h, basket={rice.id: 2, haircut.id: 1},
                        by_user=world["users"]["scorer"], idempotency_key="k1")
    db.session.commit()
    assert r.total_points == Decimal("8") and r.status == "done"
    assert db.session.scalar(select(func.count(LedgerEntry.id))) == before + 1
    entry = db.session.get(LedgerEntry, r.entry_id)
    assert (entry.kind, entry.points) == ("spend", Decimal("-8"))
    assert [(l.name, l.quantity, l.points) for l in r.lines] == [
        ("大米", 2, Decimal("5")), ("理发一次", 1, Decimal("3"))]
    assert (_balance(h.id).spendable_balance, _balance(h.id).earned_score) == (2, 10)
    assert _stock(rice.id) == 8 == queries.movement_sum(rice.id)
    # the same form again: the first redemption, nothing new
    again = services.redeem(household=h, basket={rice.id: 2, haircut.id: 1},
                            by_user=world["users"]["scorer"], idempotency_key="k1")
    db.session.commit()
    assert again.id == r.id
    assert db.session.scalar(select(func.count(Redemption.id))) == 1
    assert _stock(rice.id) == 8 and _balance(h.id).spendable_balance == 2
    assert verify() == []


@pytest.mark.parametrize("basket,code", [("over_points", "insufficient"),
                                         ("over_stock", "out_of_stock"),
                                         ("empty", "empty_basket"),
                                         ("foreign", "bad_item")])
def test_bad_baskets_are_refused_and_change_nothing(world, basket, code):
    _award(world, times=4)                     # 20 points
    rice, haircut = _shop(world, stock=3)
    other = services.add_reward(village=world["village_b"], name="油", points_price="1")
    db.session.commit()
    baskets = {"over_points": {haircut.id: 7}, "over_stock": {rice.id: 4},
               "empty": {rice.id: 0}, "foreign": {other.id: 1}}
    h = world["hh"]["a1"]
    with pytest.raises(Refusal) as err:
        services.redeem(household=h, basket=baskets[basket], by_user=None)
    db.session.rollback()
    assert err.value.code == code
    assert _balance(h.id).spendable_balance == 20 and _stock(rice.id) == 3
    assert db.session.scalar(select(func.count(Redemption.id))) == 0
    assert verify() == []


def test_cancel_refunds_points_and_stock_as_a_reversal(world):
    _award(world, times=2)
    rice, haircut = _shop(world)
    db.session.commit()
    h, admin = world["hh"]["a1"], world["users"]["vadmin"]
    r = services.redeem(household=h, basket={rice.id: 3}, by_user=None)
    db.session.commit()
    with pytest.raises(Refusal):
        services.cancel_redemption(r, reason="  ", by_user=admin)
    services.cancel_redemption(r, reason="米有虫，退货", by_user=admin, idempotency_key="c1")
    db.session.commit()
    assert r.status == "cancelled" and r.cancel_entry.reverses_id == r.entry_id
    assert _balance(h.id).spendable_balance == 10 and _stock(rice.id) == 10
    # the same cancel form again changes nothing; another cancel is refused
    services.cancel_redemption(r, reason="米有虫，退货", by_user=admin, idempotency_key="c1")
    with pytest.raises(Refusal) as err:
        services.cancel_redemption(r, reason="再退", by_user=admin)
    assert err.value.code == "already_reversed"
    db.session.rollback()
    # redeem, cancel, award, reverse: balances and stock equal their movement sums
    services.redeem(household=h, basket={rice.id: 1, haircut.id: 1}, by_user=None)
    e = _award(world)
    reverse_entry(e, reason="记错", recorded_by=admin)
    db.session.commit()
    assert _balance(h.id).spendable_balance == Decimal("4.5")
    assert _stock(rice.id) == 9 == queries.movement_sum(rice.id)
    assert verify() == []


def test_outside_the_opening_days_redemption_is_refused_in_chinese(world):
    _award(world)
    rice, _ = _shop(world)
    services.set_open_days(world["village_a"].id, "10，25")
    db.session.commit()
    h = world["hh"]["a1"]
    with pytest.raises(Refusal) as err:
        services.redeem(household=h, basket={rice.id: 1}, by_user=None,
                        today=date(2026, 11, 11))
    assert err.value.code == "closed"
    assert "每月 10、25 日开放" in err.value.message and "2026-11-11" in err.value.message
    services.redeem(household=h, basket={rice.id: 1}, by_user=None, today=date(2026, 11, 25))
    with pytest.raises(Refusal):
        services.set_open_days(world["village_a"].id, "32")


# -- concurrency (PostgreSQL and SQLite) ------------------------------------------------------

def _redeemer(app, basket, key=None):
    def redeem(i, hid):
        from app.households.models import Household
        with app.app_context():
            try:
                services.redeem(household=db.session.get(Household, hid), basket=basket,
                                by_user=None, idempotency_key=key(i) if key else None)
                db.session.commit()
                return "ok"
            except Refusal as exc:
                db.session.rollback()
                return exc.code
            finally:
                db.session.remove()
    return redeem


def test_two_counters_never_take_more_than_the_balance(app, world):
    """12 counters redeem a 3-point basket for one household holding 10 points: exactly 3."""
    _award(world, times=2)
    _, haircut = _shop(world)
    db.session.commit()
    hid, basket = world["hh"]["a1"].id, {haircut.id: 1}
    db.session.close()
    redeem = _redeemer(app, basket, key=lambda i: f"c{i}")
    results, errors = run_threads(12, lambda i: redeem(i, hid))
    assert errors == []
    assert results.count("ok") == 3 and set(results) == {"ok", "insufficient"}
    assert _balance(hid).spendable_balance == 1
    assert db.session.scalar(select(func.count(Redemption.id))) == 3
    assert verify() == []


def test_the_last_unit_is_sold_once(app, world):
    """Every household of village A (and one of them twice) wants the last bag of rice."""
    for hh in ("a1", "a2", "a3", "a4"):
        _award(world, hh=hh)
    rice, _ = _shop(world, stock=1)
    db.session.commit()
    hids = [world["hh"][k].id for k in ("a1", "a2", "a3", "a4", "a1", "a2")]
    rid = rice.id
    db.session.close()
    redeem = _redeemer(app, {rid: 1})
    results, errors = run_threads(len(hids), lambda i: redeem(i, hids[i]))
    assert errors == []
    assert results.count("ok") == 1 and set(results) == {"ok", "out_of_stock"}
    assert _stock(rid) == 0 == queries.movement_sum(rid)
    spent = db.session.scalar(select(func.sum(HouseholdBalance.spendable_balance)))
    assert spent == Decimal("17.5")
    assert verify() == []


def test_one_form_posted_by_many_threads_makes_one_redemption(app, world):
    _award(world, times=2)
    rice, _ = _shop(world)
    db.session.commit()
    hid, rid = world["hh"]["a1"].id, rice.id
    db.session.close()
    redeem = _redeemer(app, {rid: 1}, key=lambda i: "same-form")
    results, errors = run_threads(8, lambda i: redeem(i, hid))
    assert errors == [] and set(results) == {"ok"}
    assert db.session.scalar(select(func.count(Redemption.id))) == 1
    assert _stock(rid) == 9 and _balance(hid).spendable_balance == Decimal("7.5")
    assert verify() == []


# -- pages ------------------------------------------------------------------------------------

def test_counter_flow_receipt_and_qr_page(app, world, login):
    _award(world, times=2)
    rice, haircut = _shop(world)
    db.session.commit()
    h = world["hh"]["a1"]
    client = login("scorer")
    page = client.get(f"/villages/{world['village_a'].id}/counter?q=zxs").get_data(as_text=True)
    assert "张小三" in page and f"/counter/{h.id}" in page
    with app.test_request_context():
        url = public_url(h)
    resp = client.get(f"/villages/{world['village_a'].id}/counter", query_string={"q": url})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/counter/{h.id}")
    page = client.get(f"/counter/{h.id}").get_data(as_text=True)
    assert "可用积分" in page and "大米" in page
    resp = client.post(f"/counter/{h.id}", data={f"q{rice.id}": "2", f"q{haircut.id}": "",
                                                 "idempotency_key": "form-1"})
    assert resp.status_code == 302
    receipt = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "兑换小票" in receipt and "大米" in receipt and "打印小票" in receipt
    # no yuan value and no points-to-yuan rate: the yuan total is a dash, not a partial sum
    assert 'data-testid="total-yuan">—<' in receipt
    # a double tap posts the same form: one redemption
    client.post(f"/counter/{h.id}", data={f"q{rice.id}": "2", "idempotency_key": "form-1"})
    assert db.session.scalar(select(func.count(Redemption.id))) == 1
    resp = client.post(f"/counter/{h.id}", data={f"q{haircut.id}": "9",
                                                 "idempotency_key": "form-2"})
    assert resp.status_code == 200 and "可用积分不足" in resp.get_data(as_text=True)
    qr = app.test_client().get(url.replace("http://jf.test", "")).get_data(as_text=True)
    assert "积分兑换记录" in qr and "大米×2" in qr
    assert _balance(h.id).spendable_balance == 5 and _stock(rice.id) == 8


def test_closed_day_is_shown_and_refused_at_the_counter(app, world, login):
    _award(world)
    rice, _ = _shop(world)
    other_day = local_today().day % 28 + 1
    services.set_open_days(world["village_a"].id, str(other_day))
    db.session.commit()
    h = world["hh"]["a1"]
    client = login("scorer")
    assert "不能兑换" in client.get(f"/counter/{h.id}").get_data(as_text=True)
    resp = client.post(f"/counter/{h.id}", data={f"q{rice.id}": "1", "idempotency_key": "x"})
    assert "不能兑换" in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Redemption.id))) == 0


def test_admin_pages_stock_cancel_and_report(app, world, login):
    _award(world, times=2)
    db.session.commit()
    admin = login("vadmin")
    vid = world["village_a"].id
    resp = admin.post(f"/villages/{vid}/rewards/new", data={
        "name": "食用油", "points_price": "4.5", "unit": "瓶", "category": "粮油",
        "kind": "goods", "low_stock_at": "2", "active": "y"})
    assert resp.status_code == 302
    oil = db.session.execute(select(Reward)).scalar_one()
    resp = admin.post(f"/rewards/{oil.id}/stock", data={
        "action": "stock_in", "in-quantity": "5", "in-supplier": "供销社",
        "in-cost_yuan": "60.00"})
    assert resp.status_code == 302 and _stock(oil.id) == 5
    resp = admin.post(f"/rewards/{oil.id}/stock", data={
        "action": "adjust", "adj-delta": "-9", "adj-reason": "盘点"})
    assert "库存不足" in resp.get_data(as_text=True) and _stock(oil.id) == 5
    r = services.redeem(household=world["hh"]["a1"], basket={oil.id: 2}, by_user=None)
    db.session.commit()
    report = admin.get(f"/villages/{vid}/rewards/report").get_data(as_text=True)
    assert "食用油" in report and "60.00" in report
    xlsx = admin.get(f"/villages/{vid}/rewards/report.xlsx")
    from openpyxl import load_workbook
    wb = load_workbook(io.BytesIO(xlsx.data))
    assert wb["热门奖品"]["A2"].value == "食用油" and wb["热门奖品"]["C2"].value == 2
    assert [c.value for c in wb["按村民小组"][2]] == ["第一村民小组", 1, 9]
    resp = admin.post(f"/redemptions/{r.id}/cancel", data={"reason": "退货",
                                                           "idempotency_key": "c"})
    assert resp.status_code == 302 and _stock(oil.id) == 5
    assert "已退还" in admin.get(f"/redemptions/{r.id}").get_data(as_text=True)
    log = login("auditor").get("/audit/log?action=redemption.cancel").get_data(as_text=True)
    assert 'data-action="redemption.cancel"' in log and "退还兑换" in log
    assert "<del>已兑换</del> → 已退还" in log and "退货" in log
    # the scorer at the counter may not refund nor stock; other villages see nothing
    assert login("scorer").get(f"/redemptions/{r.id}/cancel").status_code == 403
    assert login("vadmin_b").get(f"/rewards/{oil.id}/stock").status_code == 404
    assert login("scorer_b").post(f"/counter/{world['hh']['a1'].id}",
                                  data={f"q{oil.id}": "1"}).status_code == 404
    assert login("auditor").get(f"/counter/{world['hh']['a1'].id}").status_code == 403
    assert verify() == []


def test_rulebook_gates_block_redemption(world):
    """A threshold flagged ``suspended`` blocks redemption while the earned score is below
    it; with eligibility ``enrolled`` a household not enrolled cannot redeem."""
    from app.rules.queries import version_in_force
    _award(world, times=2)                     # earned 10
    rice, _ = _shop(world)
    h = world["hh"]["a1"]
    version = version_in_force(world["village_a"], local_today())
    version.params = {"thresholds": [{"below": 12, "flag": "suspended"}]}
    db.session.commit()
    with pytest.raises(Refusal) as err:
        services.redeem(household=h, basket={rice.id: 1}, by_user=None)
    assert err.value.code == "suspended" and "低于 12 分" in err.value.message
    db.session.rollback()
    version.params = {"eligibility": "enrolled"}
    h.enrolled = False
    db.session.commit()
    with pytest.raises(Refusal) as err:
        services.redeem(household=h, basket={rice.id: 1}, by_user=None)
    assert err.value.code == "not_enrolled"
    db.session.rollback()
    h.enrolled = True
    services.redeem(household=h, basket={rice.id: 1}, by_user=None)
    db.session.commit()
    assert _balance(h.id).spendable_balance == Decimal("7.5")


def test_counter_page_says_why_a_suspended_household_cannot_redeem(world, login):
    from app.rules.queries import version_in_force
    _award(world)
    version = version_in_force(world["village_a"], local_today())
    version.params = {"thresholds": [{"below": 70, "flag": "suspended"}]}
    db.session.commit()
    page = login("scorer").get(f"/counter/{world['hh']['a1'].id}").get_data(as_text=True)
    assert "暂停兑换" in page


def test_demo_village_has_a_stocked_supermarket(app):
    from app.demo.loader import load_demo
    demo = load_demo()
    db.session.commit()
    rewards = queries.catalogue(demo["village"].id)
    assert len(rewards) == 6
    assert all(r.stock == queries.movement_sum(r.id) for r in rewards)
    assert db.session.scalar(select(func.count(Redemption.id))) > 10
    assert queries.low_stock(demo["village"].id)      # the soap runs out
    assert verify() == []


def test_report_lists_villager_groups_in_the_villages_order(world):
    """第一, 第二, 第三 (the groups' sort_order), not by the Unicode order of their names
    (第一, 第三, 第二)."""
    from datetime import timedelta

    from app.households.services import add_group, add_household
    g3 = add_group(world["village_a"], "第三村民小组")
    world["hh"]["g3"] = add_household(village=world["village_a"], group=g3,
                                      house_number="31", head_name="孙七")
    rice, _ = _shop(world)
    for hh in ("g3", "a4", "a1"):
        _award(world, hh=hh)
        services.redeem(household=world["hh"][hh], basket={rice.id: 1}, by_user=None)
    db.session.commit()
    today = local_today()
    data = queries.report(world["village_a"].id, today, today + timedelta(days=1))
    assert [name for name, _, _ in data["by_group"]] == [
        "第一村民小组", "第二村民小组", "第三村民小组"]


def test_a_redemption_is_refunded_at_the_supermarket_not_reversed_like_a_score(app, world,
                                                                                login):
    """A scorer's 冲正 of a redemption's spend entry gave the points back but kept the goods
    out of stock, and the redemption could then never be cancelled: a spend entry is refused
    by reverse_entry, its page and the API, and only cancel_redemption refunds it."""
    _award(world, times=2)
    rice, _haircut = _shop(world)
    h = world["hh"]["a1"]
    r = services.redeem(household=h, basket={rice.id: 2}, by_user=None)
    db.session.commit()
    rid, entry_id, hid = r.id, r.entry_id, h.id
    with pytest.raises(Refusal) as err:
        reverse_entry(r.entry, reason="退货", recorded_by=world["users"]["scorer"])
    assert err.value.code == "spend_not_reversible"
    db.session.rollback()
    scorer = login("scorer")
    page = scorer.get(f"/households/{hid}").get_data(as_text=True)
    assert f"/entries/{entry_id}/reverse" not in page                 # no 冲正 button
    resp = scorer.post(f"/entries/{entry_id}/reverse", data={"reason": "退货",
                                                             "idempotency_key": "rv-1"})
    assert resp.status_code == 200 and "请到积分超市“退还”这次兑换" in resp.get_data(as_text=True)
    assert _balance(hid).spendable_balance == 5 and _stock(rice.id) == 8   # nothing moved
    services.cancel_redemption(db.session.get(Redemption, rid), reason="退货",
                               by_user=world["users"]["vadmin"])
    db.session.commit()
    assert _balance(hid).spendable_balance == 10 and _stock(rice.id) == 10
    assert verify() == []


@pytest.mark.parametrize("typed", ["1.5", "abc", "-5", "100", "99999999999999999999"])
def test_a_bad_basket_quantity_names_the_item_and_marks_its_box(app, world, login, typed):
    _award(world, times=2)
    rice, haircut = _shop(world)
    db.session.commit()
    hid, rid = world["hh"]["a1"].id, rice.id
    html = login("scorer").post(f"/counter/{hid}", data={
        f"q{rid}": typed, f"q{haircut.id}": "1", "idempotency_key": "bq-1"}).get_data(as_text=True)
    assert "“大米”的数量须是 1 到 99 之间的整数" in html
    box = re.search(rf'<input class="([^"]*)"[^>]*name="q{rid}" value="([^"]*)"', html)
    assert "is-invalid" in box.group(1) and box.group(2) == typed      # marked, typed kept
    other = re.search(rf'<input class="([^"]*)"[^>]*name="q{haircut.id}"', html)
    assert "is-invalid" not in other.group(1)
    assert db.session.scalar(select(func.count(Redemption.id))) == 0
