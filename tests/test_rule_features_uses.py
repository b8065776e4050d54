"""RULE-FEATURES row 26, non-goods uses of points: privileges by score bands (loan limits,
service privileges), dividends of a pool in proportion to points, and sanctions blocking
redemption for a time."""
import io
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal as D

import pytest
from openpyxl import load_workbook

from app.extensions import db
from app.rewards import services as rewards
from app.rules.engine import Refusal
from app.rules.queries import book_rule
from app.rules.uses import add_months, dividend_shares, privileges
from app.scoring.periods import local_today
from app.scoring.services import post_entry, reverse_entry
from tests.rule_uses_helpers import item_id, qr, uses_rulebook


def _post(world, hh, name, *, day=None, at=None):
    return post_entry(household=world["hh"][hh], item_id=item_id(world, name),
                      deed_date=day or local_today(), recorded_by=world["users"]["scorer"],
                      recorded_at=at)


def test_privilege_bands_pure():
    bands = ((D(10), "信用贷款额度 5 万元", "loan"), (D(20), "信用贷款额度 10 万元", "loan"),
             (D(5), "村卫生室优先就诊", None))
    assert privileges(bands, D("4.99")) == []
    assert privileges(bands, D(10)) == ["村卫生室优先就诊", "信用贷款额度 5 万元"]
    assert privileges(bands, D(25)) == ["村卫生室优先就诊", "信用贷款额度 10 万元"]


def test_privileges_show_on_the_household_and_qr_pages(app, world, login):
    version = uses_rulebook(world)
    assert book_rule(version).privileges[0] == (D(10), "信用贷款额度 5 万元", "loan")
    _post(world, "a1", "帮助邻里")                     # earned 10
    db.session.commit()
    staff = login("scorer").get(f"/households/{world['hh']['a1'].id}").get_data(as_text=True)
    public = app.test_client().get(qr(app, world, "a1")).get_data(as_text=True)
    for page in (staff, public):
        assert "信用贷款额度 5 万元" in page and "村卫生室优先就诊" in page
        assert "信用贷款额度 10 万元" not in page
    other = app.test_client().get(qr(app, world, "a2")).get_data(as_text=True)
    assert "信用贷款额度" not in other                  # a2 has no points
    _post(world, "a1", "帮助邻里")                     # earned 20
    db.session.commit()
    public = app.test_client().get(qr(app, world, "a1")).get_data(as_text=True)
    assert "信用贷款额度 10 万元" in public and "信用贷款额度 5 万元" not in public


def test_dividend_shares_pure_sum_exactly_by_largest_remainder():
    shares = dividend_shares(D("0.10"), [("y", D(2)), ("x", D(1)), ("z", D(0))])
    assert shares == {"y": D("0.07"), "x": D("0.03"), "z": D("0.00")}
    shares = dividend_shares(D("100"), [("b", D(10)), ("a", D(10)), ("c", D(10))])
    assert shares == {"b": D("33.34"), "a": D("33.33"), "c": D("33.33")}  # standings order
    shares = dividend_shares(D("10000"), [(i, D(i) / 7) for i in range(1, 30)])
    assert sum(shares.values()) == D("10000")
    assert dividend_shares(D("50"), [("a", D(-3))]) == {"a": D("0.00")}
    with pytest.raises(Refusal):
        dividend_shares(D("1.005"), [("a", D(1))])


def test_dividend_page_export_and_cli_follow_the_standings_tie_break(app, world, login):
    uses_rulebook(world)
    start = datetime.now(timezone.utc) - timedelta(hours=3)
    day = local_today().replace(day=1)
    # a2 reached its 10 points first, then a3, then a1: equal points rank by who was first
    for n, hh in enumerate(("a2", "a3", "a1")):
        _post(world, hh, "帮助邻里", day=day, at=start + timedelta(minutes=n))
    _post(world, "a4", "义务劳动", day=day, at=start)  # 3 points
    db.session.commit()
    v = world["village_a"]
    client = login("vadmin")
    page = client.get(f"/villages/{v.id}/dividend?year={local_today().year}&pool=100").get_data(
        as_text=True)
    # 100 × 10/33 = 30.303..., 100 × 3/33 = 9.0909...: 30.30 × 3 + 9.09 = 99.99, one fen
    # left goes to the largest remainder, a tie of the three tens broken by the standings
    got = re.findall(r"<tr><td>\d+</td><td>([^<]*)</td><td>[^<]*</td><td[^>]*>[^<]*</td>"
                     r"<td[^>]*>([^<]*)</td></tr>", page)
    assert got == [("2", "30.31"), ("3", "30.30"), ("1", "30.30"), ("21", "9.09")]
    assert 'data-testid="total">100.00<' in page
    resp = client.get(f"/villages/{v.id}/dividend.xlsx?year={local_today().year}&pool=100")
    ws = load_workbook(io.BytesIO(resp.data)).active
    values = [row for row in ws.iter_rows(values_only=True) if row and row[0] in (1, 2, 3, 4)]
    assert [(r[1], D(str(r[4]))) for r in values] == [
        ("2", D("30.31")), ("3", D("30.30")), ("1", D("30.30")), ("21", D("9.09"))]
    assert "须是" in client.get(f"/villages/{v.id}/dividend?pool=-5").get_data(as_text=True)
    result = app.test_cli_runner().invoke(args=["rules", "dividend", "--village", v.code,
                                                "--year", str(local_today().year), "--pool", "100"])
    assert result.exit_code == 0, result.output
    assert "\t2\t王五\t10.00\t30.31" in result.output and "total\t100.00" in result.output
    from app.scoring.models import LedgerEntry
    assert db.session.scalar(db.select(db.func.count(LedgerEntry.id))) == 4   # nothing posted


def test_a_sanction_blocks_redemption_until_its_date_and_a_reversal_lifts_it(app, world):
    uses_rulebook(world)
    _post(world, "a1", "帮助邻里")
    deed = local_today() - timedelta(days=30)
    sanction = _post(world, "a1", "参与赌博", day=deed)
    rice = rewards.add_reward(village=world["village_a"], name="大米", points_price="1",
                              unit="袋")
    rewards.stock_in(rice, quantity=5)
    db.session.commit()
    until = add_months(deed, 12)
    h = world["hh"]["a1"]
    with pytest.raises(Refusal) as err:
        rewards.redeem(household=h, basket={rice.id: 1}, by_user=None)
    assert err.value.code == "sanctioned"
    assert err.value.message == (f"本户因“参与赌博”（{deed.isoformat()}）按积分细则停止兑换，"
                                 f"{until.isoformat()} 起恢复")
    db.session.rollback()
    page = app.test_client().get(qr(app, world, "a1")).get_data(as_text=True)
    assert f"{until.isoformat()} 起恢复" in page
    with pytest.raises(Refusal):                       # still blocked the day before
        rewards.redeem(household=h, basket={rice.id: 1}, by_user=None,
                       today=until - timedelta(days=1))
    db.session.rollback()
    rewards.redeem(household=h, basket={rice.id: 1}, by_user=None, today=until)
    db.session.rollback()                              # allowed from the date it ends
    reverse_entry(sanction, reason="复核：非本户所为", recorded_by=world["users"]["vadmin"])
    db.session.commit()
    redemption = rewards.redeem(household=h, basket={rice.id: 1}, by_user=None)
    db.session.commit()
    assert redemption.total_points == D("1")
    assert "起恢复" not in app.test_client().get(qr(app, world, "a1")).get_data(as_text=True)


def test_add_months_clamps_to_the_month_end():
    from datetime import date
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 3, 15), 12) == date(2027, 3, 15)
