"""RULE-FEATURES row 25, cash top-up: ``redemption: {cash_top_up: true|false}``. Without it a
basket above the spendable balance is refused; with it the whole balance is spent (one spend
entry) and the shortfall is paid in cash at the rulebook's points-to-yuan rate, once the cadre
confirmed the amount (app/rewards/cash.py)."""
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.rewards import services
from app.rewards.cash import to_yuan
from app.rewards.models import Redemption
from app.rules import queries as rules_q
from app.rules.importer import RulebookFormatError, parse_rulebook
from app.rules.models import Rulebook
from app.rules.yaml_export import export_yaml
from app.scoring.checks import verify
from app.scoring.models import HouseholdBalance, LedgerEntry
from app.scoring.periods import local_today
from app.scoring.services import post_entry
from tests.conftest import item

D = Decimal


def _setup(world, *, top_up=True, rate="3"):
    """Household a1 holds 10 points; rice 2.5 a bag (10 bags), a haircut 3. The rulebook in
    force gets ``cash_top_up`` and the points-to-yuan ``rate`` (None: no rate)."""
    v, h = world["village_a"], world["hh"]["a1"]
    for _ in range(2):
        post_entry(household=h, item_id=item(v, "红白喜事简办").id, deed_date=local_today(),
                   recorded_by=world["users"]["scorer"])
    version = rules_q.version_in_force(v, local_today())
    params = {k: val for k, val in (version.params or {}).items() if k != "cash_top_up"}
    if top_up:
        params["cash_top_up"] = True
    version.params = params or None
    book = db.session.get(Rulebook, version.rulebook_id)
    book.points_per_yuan = D(rate) if rate else None
    rice = services.add_reward(village=v, name="大米", points_price="2.5", unit="袋")
    services.stock_in(rice, quantity=10)
    haircut = services.add_reward(village=v, name="理发一次", points_price="3", is_goods=False)
    db.session.commit()
    return h, rice, haircut


def _spendable(h):
    bal = db.session.get(HouseholdBalance, h.id)
    db.session.refresh(bal)
    return bal.spendable_balance


def _spends(h):
    return db.session.scalars(select(LedgerEntry).where(LedgerEntry.household_id == h.id,
                                                        LedgerEntry.kind == "spend")).all()


BASKET_OVER = {"rice": 5, "haircut": 1}        # 12.5 + 3 = 15.5 points; the balance is 10


def _basket(rice, haircut):
    return {rice.id: BASKET_OVER["rice"], haircut.id: BASKET_OVER["haircut"]}


def test_not_allowed_is_refused_as_before(world):
    from app.rules.engine import Refusal
    h, rice, haircut = _setup(world, top_up=False)
    with pytest.raises(Refusal) as err:
        services.redeem(household=h, basket=_basket(rice, haircut), by_user=None,
                        cash_yuan="1.83")
    assert err.value.code == "insufficient"
    db.session.rollback()
    assert _spendable(h) == D("10") and _spends(h) == []


def test_allowed_and_confirmed_spends_the_balance_and_takes_the_rest_in_cash(world):
    h, rice, haircut = _setup(world, rate="3")
    before = db.session.scalar(select(func.count(LedgerEntry.id)))
    short = D("15.5") - D("10")
    due = (short / D("3")).quantize(D("0.01"), ROUND_HALF_UP)
    assert due == D("1.83")
    r = services.redeem(household=h, basket=_basket(rice, haircut), by_user=None,
                        idempotency_key="cash-1", cash_yuan=str(due))
    db.session.commit()
    assert db.session.scalar(select(func.count(LedgerEntry.id))) == before + 1
    (entry,) = _spends(h)
    assert entry.id == r.entry_id and entry.points == D("-10")
    assert (r.total_points, r.cash_points, r.cash_yuan) == (D("10"), short, due)
    assert r.basket_points == D("15.5") == sum(line.points for line in r.lines)
    assert _spendable(h) == 0
    assert verify() == []
    # a repeat of the same form returns the first redemption
    again = services.redeem(household=h, basket=_basket(rice, haircut), by_user=None,
                            idempotency_key="cash-1", cash_yuan=str(due))
    assert again.id == r.id and len(_spends(h)) == 1
    # cancel: the spend is reversed as today, the cash is to be returned (shown, not posted)
    services.cancel_redemption(r, reason="退货", by_user=world["users"]["vadmin"])
    db.session.commit()
    assert _spendable(h) == D("10") and r.cash_yuan == due and verify() == []


def test_within_the_balance_no_cash_is_involved(world):
    h, rice, _ = _setup(world)
    r = services.redeem(household=h, basket={rice.id: 2}, by_user=None, cash_yuan="9.99")
    db.session.commit()
    assert (r.total_points, r.cash_points, r.cash_yuan) == (D("5"), None, None)
    assert _spendable(h) == D("5")


def test_allowed_but_not_confirmed_is_refused_with_the_amount(world):
    from app.rules.engine import Refusal
    h, rice, haircut = _setup(world, rate="3")
    for confirmed in (None, "", "1.80", "abc"):
        with pytest.raises(Refusal) as err:
            services.redeem(household=h, basket=_basket(rice, haircut), by_user=None,
                            cash_yuan=confirmed)
        db.session.rollback()
        assert err.value.code == "cash_needed"
        assert "1.83 元" in err.value.message and "5.5 分" in err.value.message
    assert _spendable(h) == D("10") and _spends(h) == []
    assert db.session.scalar(select(func.count(Redemption.id))) == 0


def test_no_rate_is_refused(world):
    from app.rules.engine import Refusal
    h, rice, haircut = _setup(world, rate=None)
    with pytest.raises(Refusal) as err:
        services.redeem(household=h, basket=_basket(rice, haircut), by_user=None,
                        cash_yuan="1.83")
    assert err.value.code == "cash_no_rate" and "折算比例" in err.value.message
    db.session.rollback()
    assert _spendable(h) == D("10") and _spends(h) == []


def test_yuan_is_rounded_half_up_to_the_fen():
    assert to_yuan(D("0.5"), D("4")) == D("0.13")      # 0.125: half up, not to even
    assert to_yuan(D("1"), D("3")) == D("0.33")
    assert to_yuan(D("5.5"), D("1")) == D("5.50")


def test_counter_shows_the_checkbox_then_the_receipt_shows_the_cash(app, world, login):
    h, rice, haircut = _setup(world, rate="3")
    hid, form = h.id, {f"q{rice.id}": "5", f"q{haircut.id}": "1", "idempotency_key": "web-1"}
    db.session.close()
    client = login("scorer")
    page = client.get(f"/counter/{hid}").get_data(as_text=True)
    assert 'data-testid="cash-top-up"' not in page        # not needed yet
    page = client.post(f"/counter/{hid}", data=form).get_data(as_text=True)
    assert "1.83" in page and 'data-testid="cash-top-up"' in page
    assert 'name="cash_yuan" value="1.83"' in page
    resp = client.post(f"/counter/{hid}", data={**form, "cash_yuan": "1.83"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    receipt = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="cash"' in receipt and "1.83" in receipt
    r = db.session.scalar(select(Redemption).where(Redemption.household_id == hid))
    assert r.cash_yuan == D("1.83") and r.total_points == D("10")
    # the 合计 row gives the basket's yuan too: the sum of its lines
    yuan = [line.yuan for line in r.lines]
    assert None not in yuan and f'data-testid="total-yuan">{sum(yuan)}<' in receipt
    admin = login("vadmin")
    assert "1.83" in admin.get(f"/redemptions/{r.id}/cancel").get_data(as_text=True)
    resp = admin.post(f"/redemptions/{r.id}/cancel", data={"reason": "退货",
                                                           "idempotency_key": "c-1"})
    assert resp.status_code == 302
    receipt = admin.get(resp.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="cash-refund"' in receipt


def test_counter_without_top_up_shows_no_checkbox(app, world, login):
    h, rice, haircut = _setup(world, top_up=False)
    hid = h.id
    form = {f"q{rice.id}": "5", f"q{haircut.id}": "1", "idempotency_key": "web-2"}
    db.session.close()
    page = login("scorer").post(f"/counter/{hid}", data=form).get_data(as_text=True)
    assert "可用积分不足" in page and 'data-testid="cash-top-up"' not in page


YAML = """id: t-cash
place: 测试村
redemption: {points_per_yuan: 2, cash_top_up: %s}
categories:
  - name: 美德
    items:
      - {name: 帮扶邻里, points: 5}
"""


def test_yaml_round_trip_keeps_the_key(world):
    from datetime import date

    from app.rules.services import load_spec
    from app.rules.yaml_export import version_dict
    spec = parse_rulebook(YAML % "true")
    assert spec.rules.get("cash_top_up") is True and spec.points_per_yuan == D("2")
    assert "cash_top_up" not in parse_rulebook(YAML % "false").rules
    with pytest.raises(RulebookFormatError) as err:
        parse_rulebook(YAML % "'是'")
    assert "cash_top_up" in str(err.value)
    version = load_spec(world["village_a"], spec, spec.id, adopted_on=date(2026, 1, 1),
                        effective_from=date(2026, 1, 1), decision="村民代表会议")
    db.session.commit()
    db.session.expire_all()     # the freshly loaded version lists its categories twice in
    data = version_dict(version)  # the session until reloaded (load_spec; not row 25)
    assert data["redemption"] == {"points_per_yuan": D("2"), "cash_top_up": True}
    assert "cash_top_up" not in (data.get("rules") or {})
    again = parse_rulebook(export_yaml(version))
    assert again.rules.get("cash_top_up") is True and again.points_per_yuan == D("2")
    # the adopted version is in force: the counter reads the key from it
    from app.rewards.cash import allowed
    assert allowed(world["hh"]["a1"], date(2026, 2, 1)) is True


@pytest.mark.browser
def test_basket_page_offers_the_cash_top_up_on_a_tablet_and_a_phone(app, world, live_server):
    from tests.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, PHONE, TABLET, \
        require_chromium
    require_chromium()
    from playwright.sync_api import expect, sync_playwright
    h, rice, haircut = _setup(world, rate="3")
    hid, rid, cid = h.id, rice.id, haircut.id
    db.session.close()
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for size, name in ((PHONE, "phone"), (TABLET, "tablet")):  # tablet confirms
                page = browser.new_context(viewport=size, locale="zh-CN").new_page()
                page.set_default_timeout(15_000)
                page.on("dialog", lambda d: d.accept())
                page.goto(live_server + "/login")
                page.get_by_label("用户名").fill("scorer")
                page.get_by_label("密码").fill("pw-scorer")
                page.get_by_role("button", name="登录").click()
                page.goto(f"{live_server}/counter/{hid}")
                page.locator(f"input[name=q{rid}]").fill("5")
                page.locator(f"input[name=q{cid}]").fill("1")
                page.get_by_role("button", name="确认兑换").click()
                box = page.get_by_label("收取现金补差 1.83 元")
                expect(box).to_be_visible()
                box.scroll_into_view_if_needed()
                page.screenshot(path=str(ARTIFACTS / f"rule-features-cash-{name}.png"))
                if name == "tablet":
                    box.check()
                    page.get_by_role("button", name="确认兑换").click()
                    expect(page.get_by_test_id("cash")).to_contain_text("1.83")
                    page.screenshot(path=str(ARTIFACTS / "rule-features-cash-receipt.png"))
        finally:
            browser.close()


def test_the_report_shows_the_cash_top_up_apart_from_the_points_value(app, world, login):
    from app.rewards import queries as rewards_q
    from app.scoring.periods import month_period
    h, rice, haircut = _setup(world, rate="3")
    r = services.redeem(household=h, basket=_basket(rice, haircut), by_user=None,
                        cash_yuan="1.83")
    db.session.commit()
    goods = sum((line.yuan for line in r.lines), D("0.00"))
    month = month_period(local_today())
    data = rewards_q.report(world["village_a"].id, month.start, month.end, D("3"))
    assert (data["goods_yuan"], data["cash_yuan"]) == (goods, D("1.83"))
    assert data["yuan"] == goods - D("1.83")          # what the points paid for
    page = login("vadmin").get(f"/villages/{world['village_a'].id}/rewards/report")
    html = page.get_data(as_text=True)
    assert "积分兑换金额（元，不含现金补差）" in html
    assert f">{goods - D('1.83')}<" in html and "另收现金补差 1.83 元" in html


def test_the_rollup_counts_the_yuan_redeemed_with_points_like_the_report(app, world):
    """The roll-up's 兑换金额 is what the report calls 积分兑换金额: the goods' yuan less the
    cash top-up; cancelling the redemption takes it out again (summary tables and ledger
    agree throughout)."""
    from app.reports import queries as reports_q
    from app.rewards import queries as rewards_q
    from app.scoring import summary
    from app.reports.periods import year_period
    from app.scoring.periods import month_period
    h, rice, haircut = _setup(world, rate="3")
    r = services.redeem(household=h, basket=_basket(rice, haircut), by_user=None,
                        cash_yuan="1.83")
    db.session.commit()
    month = month_period(local_today())
    report = rewards_q.report(world["village_a"].id, month.start, month.end, D("3"))
    total = reports_q.rollup(world["town_a"], year_period(local_today().year)).total
    assert total.redeemed_yuan == report["yuan"] == report["goods_yuan"] - D("1.83")
    assert summary.faults() == []
    services.cancel_redemption(r, reason="退货", by_user=world["users"]["vadmin"])
    db.session.commit()
    total = reports_q.rollup(world["town_a"], year_period(local_today().year)).total
    assert (total.redemptions, total.redeemed_yuan) == (0, D("0.00"))
    assert summary.faults() == []
