"""Star households (issue 5 item 4): bands from the rulebook, the period, the veto
disqualifier, the conferment that freezes ratings, the plate and the QR page."""
from datetime import date
from decimal import Decimal

import pytest

from app.extensions import db
from app.honours import services
from app.honours.stars import star_period, star_period_kind, star_ratings
from app.households.qr import derive_token
from app.rules.engine import Refusal
from app.rules.importer import parse_rulebook
from app.rules.services import load_spec
from app.scoring.periods import local_today, year_period
from app.scoring.services import post_entry, reverse_entry
from tests.conftest import item

BOOK = """
rules:
  star_bands: [{min: 10, label: 一星}, {min: 20, label: 二星}, {min: 30, label: 三星}]
  {extra}
categories:
  - name: 测试
    items:
      - {{name: 好事, points: 10}}
      - {{name: 违法犯罪, points: -1, veto: true}}
"""


def _adopt(world, extra=""):
    spec = parse_rulebook(BOOK.replace("{extra}", extra).replace("{{", "{").replace("}}", "}"),
                          code_prefix="ST")
    return load_spec(world["village_a"], spec, "星级测试", adopted_on=date(2025, 12, 20),
                     effective_from=date(2026, 1, 1), decision="村民代表会议")


def _post(world, hh, name, n=1, day=date(2026, 11, 2)):
    return post_entry(household=world["hh"][hh], item_id=item(world["village_a"], name).id,
                      deed_date=day, recorded_by=world["users"]["scorer"], quantity=n)


def _stars(rows):
    return {r.household_id: (r.points, r.band, r.stars, r.vetoed) for r in rows}


def test_star_bands_from_the_rulebook_and_the_veto(world):
    version = _adopt(world)
    hh = world["hh"]
    _post(world, "a1", "好事", 3)                          # 30: 三星
    _post(world, "a2", "好事", 1, day=date(2026, 3, 5))   # 10 in March: 一星 for the year
    _post(world, "a2", "好事", 1)                          # 20: 二星
    _post(world, "a3", "好事", 3)
    veto = _post(world, "a3", "违法犯罪")                   # vetoed: no stars
    db.session.commit()
    assert star_period_kind(version) == "year"
    year = year_period(date(2026, 6, 1))
    got = _stars(star_ratings(world["village_a"], year)[1])
    assert got[hh["a1"].id] == (Decimal("30.00"), "三星", 3, False)
    assert got[hh["a2"].id] == (Decimal("20.00"), "二星", 2, False)
    assert got[hh["a3"].id][1:] == (None, 0, True)
    assert got[hh["a4"].id] == (Decimal("0.00"), None, 0, False)
    # the ranking is the one of standings: same order
    from app.scoring.queries import standings
    rows = star_ratings(world["village_a"], year)[1]
    assert [r.household_id for r in rows] == [s.household_id for s in
                                              standings(world["village_a"].id, year)]
    reverse_entry(veto, reason="误记", recorded_by=world["users"]["scorer"])
    db.session.commit()
    got = _stars(star_ratings(world["village_a"], year)[1])
    assert got[hh["a3"].id] == (Decimal("30.00"), "三星", 3, False)


def test_a_band_may_ask_for_a_quarterly_period(world):
    version = _adopt(world, "star_period: quarter")
    assert star_period_kind(version) == "quarter"
    _post(world, "a1", "好事", 1, day=date(2026, 9, 30))   # Q3
    _post(world, "a1", "好事", 2)                          # Q4: 20
    db.session.commit()
    q4 = star_period("quarter", 2026, 4)
    got = _stars(star_ratings(world["village_a"], q4)[1])
    assert got[world["hh"]["a1"].id][1:3] == ("二星", 2)
    q3 = star_period("quarter", 2026, 3)
    assert _stars(star_ratings(world["village_a"], q3)[1])[world["hh"]["a1"].id][1] == "一星"
    with pytest.raises(ValueError):
        star_period("quarter", 2026, 5)


def test_the_bamingcun_rulebook_bands(world):
    """The project's 八名村 rulebook: 100 base each quarter, stars from 60 (一星) to 100."""
    from app.demo.loader import _rulebook_text
    spec = parse_rulebook(_rulebook_text("rulebooks/project/bamingcun-quarterly-stars.yaml"),
                          code_prefix="B")
    load_spec(world["village_a"], spec, spec.id, adopted_on=date(2026, 7, 1),
              effective_from=date(2026, 7, 1), decision="村民代表会议")
    _post(world, "a1", "检查发现问题（每扣 1 分记一次）", 25)
    db.session.commit()
    q4 = star_period("quarter", 2026, 4)
    got = _stars(star_ratings(world["village_a"], q4)[1])
    assert got[world["hh"]["a1"].id][:3] == (Decimal("-25.00"), None, 0)


def test_conferment_freezes_ratings_against_later_reversals(world, login):
    _adopt(world)
    hh, v = world["hh"], world["village_a"]
    good = _post(world, "a1", "好事", 2, day=local_today())   # 20: 二星
    db.session.commit()
    vadmin = login("vadmin")
    year = local_today().year
    resp = vadmin.post(f"/villages/{v.id}/stars/confer?year={year}",
                       data={"decision_date": local_today().isoformat(),
                             "note": "村民代表会议评定"}, follow_redirects=True)
    body = resp.get_data(as_text=True)
    assert "已授牌" in body and "★★" in body
    reverse_entry(good, reason="误记", recorded_by=world["users"]["scorer"])
    _post(world, "a2", "好事", 3, day=local_today())
    db.session.commit()
    live = _stars(star_ratings(v, year_period(local_today()))[1])
    assert live[hh["a1"].id][2] == 0 and live[hh["a2"].id][2] == 3
    page = vadmin.get(f"/villages/{v.id}/stars?year={year}").get_data(as_text=True)
    table = page[page.index('data-testid="star-table"'):]
    assert "张小三" in table and "二星" in table and "三星" not in table
    from app.honours.models import StarConferment
    conf = db.session.execute(db.select(StarConferment)).scalar_one()
    assert {r.household_id: r.stars for r in conf.ratings}[hh["a1"].id] == 2
    plate = vadmin.get(f"/star-conferments/{conf.id}/plates").get_data(as_text=True)
    assert "★★" in plate and "张小三" in plate and "斗门村委会" in plate and "王五" not in plate
    assert "star-plate.css" in plate
    qr = vadmin.get(f"/h/{derive_token(hh['a1'].qr_nonce)}").get_data(as_text=True)
    assert "★★" in qr and "星级文明户（二星）" in qr
    assert "星级文明户" not in vadmin.get(f"/h/{derive_token(hh['a2'].qr_nonce)}"
                                    ).get_data(as_text=True)
    # once conferred, not again; the audit log has it
    with pytest.raises(Refusal) as err:
        services.confer_stars(v, "year", year_period(local_today()),
                              by_user=world["users"]["vadmin"], decision_date=local_today(),
                              note="again")
    assert err.value.code == "already_conferred"
    from app.audit.models import AuditLog
    assert db.session.execute(db.select(AuditLog.action)).scalars().all()[-1] == "stars.confer"
    # foreign: 404 without data, and a confer from a foreign admin writes nothing
    foreign = login("vadmin_b")
    for url in (f"/star-conferments/{conf.id}/plates", f"/villages/{v.id}/stars"):
        resp = foreign.get(url)
        assert resp.status_code == 404 and "张小三" not in resp.get_data(as_text=True)
    assert foreign.post(f"/villages/{v.id}/stars/confer",
                        data={"decision_date": "2026-11-01", "note": "x"}).status_code == 404
    assert login("scorer").post(f"/villages/{v.id}/stars/confer",
                                data={"decision_date": "2026-11-01", "note": "x"}
                                ).status_code == 403


def test_stars_page_moves_between_periods_and_refuses_bad_ones(world, login):
    _adopt(world, "star_period: quarter")
    _post(world, "a1", "好事", 1, day=date(2026, 9, 30))  # Q3: 一星
    db.session.commit()
    client, v = login("scorer"), world["village_a"]
    page = client.get(f"/villages/{v.id}/stars?year=2026&part=3").get_data(as_text=True)
    assert "2026Q3" in page and "part=2" in page and "part=4" in page
    table = page[page.index('data-testid="star-table"'):]
    assert "一星" in table
    for bad in ("year=abc", "year=2026&part=9", "year=1999"):
        assert client.get(f"/villages/{v.id}/stars?{bad}").status_code == 404
