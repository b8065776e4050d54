"""Issue 6, the rest: partner merchants (their own counter login, their catalogue, redemptions
recorded against them, a monthly settlement with its Excel export) and catalogues shared by a
township (each village its own stock and may hide an item; never seen by another township)."""
import io
from datetime import date
from decimal import Decimal

from openpyxl import load_workbook
from sqlalchemy import func, select

from app.extensions import db
from app.households.qr import public_url
from app.rewards import merchants, queries, services
from app.rewards.models import Redemption, RedemptionLine, Reward, RewardStock
from app.rules.engine import Refusal
from app.scoring.checks import verify
from app.scoring.periods import local_today
from app.scoring.services import post_entry
from tests.conftest import item, run_threads

import pytest


def _award(world, hh="a1", times=1):
    """+5 points per time, confirmed at once."""
    village = world["hh"][hh].village
    for _ in range(times):
        post_entry(household=world["hh"][hh], item_id=item(village, "红白喜事简办").id,
                   deed_date=local_today(), recorded_by=None)


def _shared(world, stock_a=0, stock_a2=0, name="洗洁精", price="2"):
    """An item of township A's shared catalogue with stock in villages A and A2."""
    soap = services.add_reward(village=world["town_a"], name=name, points_price=price,
                               unit="瓶", yuan_value="4.50")
    if stock_a:
        services.stock_in(soap, quantity=stock_a, village_id=world["village_a"].id)
    if stock_a2:
        services.stock_in(soap, quantity=stock_a2, village_id=world["village_a2"].id)
    return soap


def _row(reward_id, village_id):
    db.session.expire_all()
    return db.session.scalar(select(RewardStock.stock).where(
        RewardStock.reward_id == reward_id, RewardStock.village_id == village_id)) or 0


# -- township-shared catalogue -----------------------------------------------------------

def test_shared_catalogue_is_offered_in_its_villages_only(app, world, login):
    soap = _shared(world, stock_a=3)
    own = services.add_reward(village=world["village_a"], name="大米", points_price="5")
    db.session.commit()
    ids = lambda v: [i.id for i in queries.catalogue(world[v].id)]  # noqa: E731
    assert set(ids("village_a")) == {soap.id, own.id}
    assert ids("village_a2") == [soap.id]
    assert ids("village_b") == []
    # pages: village A's cadres see it; township B's never, neither the list nor the stock
    html = login("scorer").get(f"/villages/{world['village_a'].id}/rewards").get_data(True)
    assert "洗洁精" in html and "乡镇共享" in html
    html = login("scorer_b").get(f"/villages/{world['village_b'].id}/rewards").get_data(True)
    assert "洗洁精" not in html
    vadmin_b = login("vadmin_b")
    assert vadmin_b.get(f"/villages/{world['village_b'].id}/rewards/{soap.id}/stock"
                        ).status_code == 404
    assert vadmin_b.get(f"/rewards/{soap.id}/edit").status_code == 404
    # a village admin cannot edit the township's item, nor reach its stock through the
    # village-item page
    vadmin = login("vadmin")
    assert vadmin.get(f"/rewards/{soap.id}/edit").status_code == 404
    assert vadmin.get(f"/rewards/{soap.id}/stock").status_code == 404
    assert vadmin.get(f"/townships/{world['town_a'].id}/rewards").status_code == 403
    # and a township-B household cannot redeem it, even by posting its id
    _award(world, "b1")
    db.session.commit()
    with pytest.raises(Refusal) as err:
        services.redeem(household=world["hh"]["b1"], basket={soap.id: 1}, by_user=None)
    assert err.value.code == "bad_item"
    db.session.rollback()


def test_shared_item_stock_is_per_village_and_hiding_is_per_village(app, world, login):
    soap = _shared(world, stock_a=3, stock_a2=2)
    _award(world, "a1")
    db.session.commit()
    red = services.redeem(household=world["hh"]["a1"], basket={soap.id: 2}, by_user=None)
    db.session.commit()
    assert (_row(soap.id, world["village_a"].id), _row(soap.id, world["village_a2"].id)) == (1, 2)
    assert db.session.get(Reward, soap.id).stock == 0
    for v in ("village_a", "village_a2"):
        assert _row(soap.id, world[v].id) == queries.movement_sum(soap.id, world[v].id)
    services.cancel_redemption(red, reason="拿错了", by_user=None)
    db.session.commit()
    assert _row(soap.id, world["village_a"].id) == 3
    # village A hides it: its counter no longer offers it, village A2's still does
    vadmin = login("vadmin")
    resp = vadmin.post(f"/villages/{world['village_a'].id}/rewards/{soap.id}/stock",
                       data={"action": "hide"})
    assert resp.status_code == 302
    assert soap.id not in [i.id for i in queries.catalogue(world["village_a"].id, True)]
    assert soap.id in [i.id for i in queries.catalogue(world["village_a2"].id, True)]
    with pytest.raises(Refusal) as err:
        services.redeem(household=world["hh"]["a1"], basket={soap.id: 1}, by_user=None)
    assert err.value.code == "bad_item"
    db.session.rollback()
    # stock-in through the village's page lands in the village's row only
    resp = vadmin.post(f"/villages/{world['village_a'].id}/rewards/{soap.id}/stock",
                       data={"action": "stock_in", "in-quantity": "4", "in-supplier": "供销社"})
    assert resp.status_code == 302
    assert (_row(soap.id, world["village_a"].id), _row(soap.id, world["village_a2"].id)) == (7, 2)
    assert verify() == []


def _redeemer(app, basket, merchant_id=None):
    def redeem(i, hid):
        from app.households.models import Household
        from app.rewards.models import Merchant
        with app.app_context():
            try:
                merchant = db.session.get(Merchant, merchant_id) if merchant_id else None
                services.redeem(household=db.session.get(Household, hid), basket=basket,
                                by_user=None, merchant=merchant)
                db.session.commit()
                return "ok"
            except Refusal as exc:
                db.session.rollback()
                return exc.code
            finally:
                db.session.remove()
    return redeem


def test_shared_stock_never_goes_negative_per_village_under_concurrency(app, world):
    """Eight counters in village A want one of its 3 bottles while village A2 keeps its 5."""
    for hh in ("a1", "a2", "a3", "a4"):
        _award(world, hh)
    soap = _shared(world, stock_a=3, stock_a2=5)
    db.session.commit()
    hids = [world["hh"][k].id for k in ("a1", "a2", "a3", "a4")] * 2
    sid, va, va2 = soap.id, world["village_a"].id, world["village_a2"].id
    db.session.close()
    results, errors = run_threads(len(hids), lambda i: _redeemer(app, {sid: 1})(i, hids[i]))
    assert errors == []
    assert results.count("ok") == 3 and set(results) == {"ok", "out_of_stock"}
    assert _row(sid, va) == 0 == queries.movement_sum(sid, va)
    assert _row(sid, va2) == 5
    assert verify() == []


# -- partner merchants -------------------------------------------------------------------

def _merchant(world, region="village_a", clerk=None):
    m = merchants.add_merchant(region=world[region], name="便民超市" + region[-1],
                               clerk_username=clerk or "",
                               clerk_password="pw-" + (clerk or ""))
    oil = services.add_reward(village=world[region], merchant=m, name="菜籽油", unit="桶",
                              points_price="4", yuan_value="12.50")
    services.stock_in(oil, quantity=10)
    return m, oil


def test_merchants_are_scoped_foreign_township_404(app, world, login):
    m_a, _ = _merchant(world)
    m_b, _ = _merchant(world, "village_b")
    m_town_b = merchants.add_merchant(region=world["town_b"], name="李渡商店")
    db.session.commit()
    for user in ("scorer_b", "vadmin_b", "auditor_b", "county_b"):
        c = login(user)
        for url in (f"/merchants/{m_a.id}", f"/merchants/{m_a.id}/settlement",
                    f"/merchants/{m_a.id}/settlement.xlsx"):
            assert c.get(url).status_code == 404, (user, url)
    scorer = login("scorer")
    for url in (f"/merchants/{m_b.id}", f"/merchants/{m_town_b.id}/settlement",
                f"/merchants/{m_b.id}/counter"):
        assert scorer.get(url).status_code == 404, url
    # village A's list shows its merchants, never township B's
    html = scorer.get(f"/villages/{world['village_a'].id}/merchants").get_data(as_text=True)
    assert "便民超市a" in html and "李渡商店" not in html and "便民超市b" not in html
    # a village-B household at village A's merchant: 404
    assert scorer.get(f"/merchants/{m_a.id}/counter/{world['hh']['b1'].id}").status_code == 404
    # a township is above a village admin: 404; a system admin may register one there
    assert login("vadmin").get(f"/regions/{world['town_a'].id}/merchants/new").status_code == 404
    assert login("admin").get(f"/regions/{world['town_a'].id}/merchants/new").status_code == 200


def test_merchant_clerk_redeems_only_at_its_own_counter(app, world, login):
    m, oil = _merchant(world, clerk="shop_a")
    other, _ = _merchant(world, "village_a2")
    village_rice = services.add_reward(village=world["village_a"], name="大米", points_price="1")
    services.stock_in(village_rice, quantity=5)
    _award(world, "a1", times=2)
    db.session.commit()
    clerk = login("shop_a")
    home = clerk.get("/")
    assert home.status_code == 302 and f"/merchants/{m.id}/counter" in home.headers["Location"]
    v = world["village_a"].id
    for url in (f"/villages/{v}/households", f"/villages/{v}/counter", f"/villages/{v}/rewards",
                f"/households/{world['hh']['a1'].id}", f"/regions/{v}"):
        assert clerk.get(url).status_code == 403, url
    assert clerk.get(f"/merchants/{other.id}").status_code == 404
    html = clerk.get(f"/merchants/{m.id}/counter?q=张").get_data(as_text=True)
    assert "张小三" in html
    hid = world["hh"]["a1"].id
    # the door plate's link finds the household too
    with app.test_request_context():
        plate = public_url(world["hh"]["a1"])
    resp = clerk.get(f"/merchants/{m.id}/counter", query_string={"q": plate})
    assert resp.status_code == 302 and f"/counter/{hid}" in resp.headers["Location"]
    # a village item posted at the merchant is refused; its own item goes through
    resp = clerk.post(f"/merchants/{m.id}/counter/{hid}",
                      data={f"q{village_rice.id}": "1", "idempotency_key": "k0"})
    assert Redemption.query.count() == 0
    resp = clerk.post(f"/merchants/{m.id}/counter/{hid}",
                      data={f"q{oil.id}": "2", "idempotency_key": "k1"})
    assert resp.status_code == 302
    red = db.session.execute(select(Redemption)).scalar_one()
    assert red.merchant_id == m.id and red.village_id == v and red.total_points == 8
    assert red.lines[0].yuan == Decimal("25.00")
    assert clerk.get(resp.headers["Location"]).status_code == 200     # its receipt
    db.session.expire_all()
    assert db.session.get(Reward, oil.id).stock == 8
    # the village counter refuses the merchant's item
    with pytest.raises(Refusal) as err:
        services.redeem(household=world["hh"]["a1"], basket={oil.id: 1}, by_user=None)
    assert err.value.code == "bad_item"
    db.session.rollback()
    # a receipt of the village's own counter is not the clerk's
    own = services.redeem(household=world["hh"]["a1"], basket={village_rice.id: 1},
                          by_user=None)
    db.session.commit()
    assert clerk.get(f"/redemptions/{own.id}").status_code == 404


def test_merchant_registration_errors_at_the_field(app, world, login):
    vadmin = login("vadmin")
    url = f"/regions/{world['village_a'].id}/merchants/new"
    resp = vadmin.post(url, data={"name": "小卖部", "clerk_username": "shop1",
                                  "clerk_password": "12345678"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "密码不能全是数字" in html and 'value="小卖部"' in html
    resp = vadmin.post(url, data={"name": "小卖部", "clerk_username": "scorer",
                                  "clerk_password": "good-pass-1"})
    assert "用户名“scorer”已被使用" in resp.get_data(as_text=True)
    resp = vadmin.post(url, data={"name": "小卖部", "clerk_username": "shop1",
                                  "clerk_password": "pw-shop1"})
    assert resp.status_code == 302
    assert login("shop1").get("/").status_code == 302


def test_settlement_sums_equal_the_redemption_lines(app, world, login):
    m = merchants.add_merchant(region=world["town_a"], name="莲塘供销社")
    oil = services.add_reward(village=world["town_a"], merchant=m, name="菜籽油",
                              points_price="4", yuan_value="12.50")
    salt = services.add_reward(village=world["town_a"], merchant=m, name="食盐",
                               points_price="1.5", yuan_value="2.00", is_goods=False)
    services.stock_in(oil, quantity=20)
    for hh in ("a1", "a2"):
        _award(world, hh, times=2)
    db.session.commit()
    today = local_today()
    r1 = services.redeem(household=world["hh"]["a1"], basket={oil.id: 1, salt.id: 2},
                         by_user=None, merchant=m)
    r2 = services.redeem(household=world["hh"]["a2"], basket={oil.id: 2}, by_user=None,
                         merchant=m)
    r3 = services.redeem(household=world["hh"]["a2"], basket={salt.id: 1}, by_user=None,
                         merchant=m)
    services.cancel_redemption(r3, reason="退货", by_user=None)
    # a later change of price does not change what is owed
    services.update_reward(oil, name="菜籽油", points_price="4", yuan_value="99.00")
    db.session.commit()
    month = date(today.year, today.month, 1)
    data = merchants.settlement(m, month, date(9999, 1, 1))
    lines = db.session.execute(
        select(func.count(func.distinct(RedemptionLine.redemption_id)),
               func.sum(RedemptionLine.points), func.sum(RedemptionLine.yuan))
        .join(Redemption).where(Redemption.merchant_id == m.id,
                                Redemption.status == "done")).one()
    assert (data["count"], data["points"], data["yuan"]) == (2, lines[1], lines[2])
    assert (data["count"], data["points"], data["yuan"]) == (2, Decimal("15"),
                                                             Decimal("41.50"))
    assert sum(v[3] for v in data["by_village"]) == data["yuan"]
    assert [v[0].name for v in data["by_village"]] == ["斗门村委会"]
    assert {r1.id, r2.id} == {line.redemption_id for line in data["lines"]}
    # the page and the workbook show the same totals; township A's auditor sees them
    auditor = login("auditor")
    html = auditor.get(f"/merchants/{m.id}/settlement?month={today:%Y-%m}").get_data(True)
    assert "41.50" in html and "莲塘供销社" in html
    bad = auditor.get(f"/merchants/{m.id}/settlement?month=2026-13").get_data(as_text=True)
    assert "月份格式应为" in bad
    resp = auditor.get(f"/merchants/{m.id}/settlement.xlsx?month={today:%Y-%m}")
    wb = load_workbook(io.BytesIO(resp.data))
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    total = next(r for r in rows if r[0] == "合计")
    assert (total[1], Decimal(str(total[2])), Decimal(str(total[3]))) == (2, Decimal("15"),
                                                                          Decimal("41.5"))
    detail = list(wb.worksheets[1].iter_rows(values_only=True))[1:]
    assert len(detail) == len(data["lines"]) == 3
    assert login("auditor_b").get(f"/merchants/{m.id}/settlement").status_code == 404
    assert verify() == []


def test_merchant_counter_concurrent_last_units(app, world):
    """Merchant stock is the shop's own: six counters, two units, sold twice."""
    for hh in ("a1", "a2", "a3"):
        _award(world, hh)
    m, oil = _merchant(world)
    services.adjust_stock(oil, delta=-8, reason="盘点")
    db.session.commit()
    hids = [world["hh"][k].id for k in ("a1", "a2", "a3")] * 2
    oid, mid = oil.id, m.id
    db.session.close()
    results, errors = run_threads(len(hids),
                                  lambda i: _redeemer(app, {oid: 1}, mid)(i, hids[i]))
    assert errors == []
    # a household that got one has 1 point left: its second try is short of points
    assert results.count("ok") == 2 and set(results) <= {"ok", "out_of_stock", "insufficient"}
    assert "out_of_stock" in results
    db.session.expire_all()
    assert db.session.get(Reward, oid).stock == 0 == queries.movement_sum(oid)
    assert verify() == []
