"""Defects a fresh user found in the review workflow and the score form:

- a decided self-report still showed its accept/decline buttons, and a second POST was not
  turned away with a flash;
- a household could object twice to the same entry;
- an entry approved in review ignored the rulebook's notice cadence (RULE-FEATURES row 18);
- the score form opened for a household that moved away.
"""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.households.qr import public_url
from app.households.services import archive_household
from app.review import services as review
from app.review.models import Objection, SelfReport
from app.rules.engine import Refusal
from app.rules.importer import parse_rulebook
from app.rules.periodic import notice_ends
from app.rules.queries import book_rule
from app.rules.services import load_spec
from app.scoring.models import LedgerEntry, VillageSettings
from app.scoring.periods import local_today
from app.scoring.services import post_entry
from tests.conftest import item


def _notice(world, days=3, review_above=None):
    s = db.session.get(VillageSettings, world["village_a"].id)
    s.notice_days, s.review_above = days, review_above
    db.session.commit()


def _post(world, hh="a1", name="红白喜事简办", user="scorer", **kw):
    return post_entry(household=world["hh"][hh], item_id=item(world["village_a"], name).id,
                      deed_date=kw.pop("deed_date", local_today()),
                      recorded_by=world["users"][user], **kw)


def _qr(app, world, hh="a1"):
    with app.test_request_context():
        return public_url(world["hh"][hh]).replace("http://jf.test", "")


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


# --- 1. a decided self-report ----------------------------------------------------------

def _report(world, hh="a1"):
    report = review.submit_self_report(
        world["hh"][hh], item_id=item(world["village_a"], "帮助困难居民").id,
        deed_date=local_today(), description="送邻居去医院")
    db.session.commit()
    return report


@pytest.mark.parametrize("first", ["accept", "decline"])
def test_decided_self_report_shows_no_buttons_and_refuses_a_second_post(world, login, first):
    _notice(world, days=3)
    report = _report(world)
    admin = login("vadmin")
    url = f"/reports/{report.id}/review"
    page = admin.get(url).get_data(as_text=True)
    assert "采纳，记分并公示" in page and "不采纳" in page      # pending: both buttons
    data = {"action": "accept"} if first == "accept" else {"action": "decline",
                                                            "d-reason": "不属实"}
    assert admin.post(url, data=data).status_code == 302
    db.session.expire_all()
    assert report.status == ("accepted" if first == "accept" else "declined")
    entries = _count(LedgerEntry)

    page = admin.get(url).get_data(as_text=True)
    assert "采纳，记分并公示" not in page and 'value="decline"' not in page
    assert 'data-testid="report-decided"' in page
    assert ("已采纳" if first == "accept" else "未采纳：不属实") in page

    for again in ({"action": "accept"}, {"action": "decline", "d-reason": "再退一次"}):
        resp = admin.post(url, data=again)
        assert resp.status_code == 302 and resp.headers["Location"].endswith(url)
        assert "该申报已经处理过" in admin.get(url).get_data(as_text=True)   # the flash
    db.session.expire_all()
    assert _count(LedgerEntry) == entries
    assert report.status == ("accepted" if first == "accept" else "declined")
    assert report.decision_reason == (None if first == "accept" else "不属实")


def test_accepting_a_decided_report_is_refused_by_the_service(world):
    report = _report(world)
    review.decline_self_report(report, by_user=world["users"]["vadmin"], reason="不属实")
    db.session.commit()
    with pytest.raises(Refusal) as err:
        review.accept_self_report(report, by_user=world["users"]["vadmin"])
    assert err.value.code == "report_closed"
    assert _count(LedgerEntry) == 0


# --- 2. one objection per household and entry ------------------------------------------

def test_a_household_objects_once_to_an_entry(world):
    _notice(world, days=3)
    e = _post(world, hh="a2", name="乱堆乱放")
    a1, a3 = world["hh"]["a1"], world["hh"]["a3"]
    first = review.raise_objection(e, text="门口是干净的", by_household=a1)
    with pytest.raises(Refusal) as err:                                  # while open
        review.raise_objection(e, text="再说一次", by_household=a1)
    assert err.value.code == "already_objected"
    assert "正在处理中" in err.value.template
    review.raise_objection(e, text="我也有意见", by_household=a3)        # another household may
    for o in db.session.scalars(select(Objection)).all():
        review.resolve_objection(o, outcome="entry_upheld", reason="属实",
                                 by_user=world["users"]["vadmin"])
    assert e.status == "under_notice"
    with pytest.raises(Refusal) as err:                                  # after resolution
        review.raise_objection(e, text="还是不服", by_household=a1)
    assert err.value.code == "already_objected" and "已处理" in err.value.template
    assert first.status == "resolved" and _count(Objection) == 2
    cadre = world["users"]["auditor"]
    review.raise_objection(e, text="核实一下", by_user=cadre)
    with pytest.raises(Refusal) as err:
        review.raise_objection(e, text="核实两下", by_user=cadre)
    assert err.value.code == "already_objected"
    assert _count(Objection) == 3


def test_second_objection_from_the_door_plate_page_is_refused(app, world):
    _notice(world, days=3)
    e = _post(world, hh="a2", name="乱堆乱放")
    db.session.commit()
    client = app.test_client()
    url = f"{_qr(app, world, 'a1')}/object/{e.id}"
    assert "提交异议" in client.get(url).get_data(as_text=True)
    resp = client.post(url, data={"text": "门口是干净的", "idempotency_key": "obj-a"})
    assert resp.status_code == 302
    resp = client.post(url, data={"text": "门口是干净的", "idempotency_key": "obj-a"})
    assert resp.status_code == 302                                       # a double tap
    page = client.get(url).get_data(as_text=True)
    assert "您对这条记录的异议正在处理中，不能重复提出" in page and "提交异议" not in page
    page = client.post(url, data={"text": "再提一次", "idempotency_key": "obj-b"}) \
        .get_data(as_text=True)
    assert "您对这条记录的异议正在处理中，不能重复提出" in page
    assert _count(Objection) == 1
    # the objector's own page lists it, saying whose entry it was (a2's, not its own)
    mine = client.get(_qr(app, world, "a1")).get_data(as_text=True)
    listed = mine.split('data-testid="objections"')[1].split("</ul>")[0]
    number = world["hh"]["a2"].house_number
    assert "乱堆乱放" in listed and f"关于 {number} 号户" in listed
    own = _post(world, hh="a1", name="乱堆乱放")
    db.session.commit()
    review.raise_objection(own, text="没有乱堆", by_household=world["hh"]["a1"])
    db.session.commit()
    listed = client.get(_qr(app, world, "a1")).get_data(as_text=True) \
        .split('data-testid="objections"')[1].split("</ul>")[0]
    assert listed.count("关于") == 1                    # its own entry names no household


def test_cadre_objects_once_to_an_entry(world, login):
    _notice(world, days=3)
    e = _post(world, hh="a2", name="乱堆乱放")
    db.session.commit()
    admin = login("vadmin")
    url = f"/entries/{e.id}/object"
    assert admin.post(url, data={"text": "记错了", "idempotency_key": "c-1"}).status_code == 302
    page = admin.post(url, data={"text": "又记错了", "idempotency_key": "c-2"}) \
        .get_data(as_text=True)
    assert "您对这条记录的异议正在处理中，不能重复提出" in page
    assert "提交异议" not in admin.get(url).get_data(as_text=True)
    assert _count(Objection) == 1


# --- 3. review approval follows the notice cadence -------------------------------------

def _cadence_book(world):
    today = local_today()
    kind = "week" if today.weekday() != 6 else "month"   # a period that does not end today
    spec = parse_rulebook(f"""
id: cadence-review
place: 测试村
rules:
  cadences: {{notice: {kind}}}
categories:
  - name: 贡献
    items:
      - {{code: C1, name: 参加义务劳动, points: 5}}
""")
    effective = today - timedelta(days=30)
    version = load_spec(world["village_a"], spec, "公示周期", adopted_on=effective,
                        effective_from=effective, decision="村民代表会议")
    db.session.commit()
    return version


def test_review_approval_uses_the_notice_cadence(world):
    version = _cadence_book(world)
    _notice(world, days=3, review_above=Decimal("4"))
    today = local_today()
    expected = notice_ends(book_rule(version), today, 3)
    assert expected != today + timedelta(days=3)          # the cadence makes a difference
    reviewed = _post(world, hh="a1", name="参加义务劳动")
    assert reviewed.status == "awaiting_review"
    _notice(world, days=3)                                # no threshold: a direct posting
    direct = _post(world, hh="a2", name="参加义务劳动")
    assert direct.status == "under_notice" and direct.notice_until == expected
    review.approve(reviewed, by_user=world["users"]["vadmin"])
    assert reviewed.status == "under_notice"
    assert reviewed.notice_until == direct.notice_until == expected


def test_review_approval_without_cadence_keeps_notice_days(world):
    _notice(world, days=3, review_above=Decimal("4"))
    e = _post(world, name="拾金不昧", points="9")
    review.approve(e, by_user=world["users"]["vadmin"],)
    assert e.notice_until == local_today() + timedelta(days=3)


# --- 4. a household that moved away ----------------------------------------------------

def test_score_form_for_a_moved_household_says_why(world, login):
    h = world["hh"]["a3"]
    archive_household(h, reason="全家迁往县城", by=world["users"]["vadmin"])
    db.session.commit()
    scorer = login("scorer")
    resp = scorer.get(f"/households/{h.id}/score")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "该户已迁出或合并，不能再记分" in page
    assert "确认记分" not in page and 'name="item_id"' not in page
    resp = scorer.post(f"/households/{h.id}/score", data={
        "item_id": item(world["village_a"], "红白喜事简办").id,
        "deed_date": local_today().isoformat(), "quantity": 1, "idempotency_key": "mv-1"})
    assert "该户已迁出或合并，不能再记分" in resp.get_data(as_text=True)
    assert _count(LedgerEntry) == 0


def test_services_refuse_a_moved_household(world):
    from app.tablet.batch import post_row
    h = world["hh"]["a3"]
    archive_household(h, reason="合并到 2 号户", by=world["users"]["vadmin"], to_status="merged")
    with pytest.raises(Refusal) as err:
        _post(world, hh="a3")
    assert err.value.code == "inactive"
    result = post_row(world["village_a"], {
        "key": "tablet-row-1", "household_id": h.id,
        "item_id": item(world["village_a"], "红白喜事简办").id,
        "deed_date": date.today().isoformat()}, recorded_by=world["users"]["scorer"])
    assert result["status"] == "refused" and result["code"] == "inactive"
    assert _count(LedgerEntry) == 0
    assert _count(SelfReport) == 0


def test_door_plate_page_offers_no_second_objection(app, world):
    """After the household's objection was rejected the entry is back under notice, but its
    door-plate page no longer offers 提出异议 for it (a second one would be refused)."""
    _notice(world, days=3)
    e = _post(world, hh="a1", name="乱堆乱放")
    db.session.commit()
    client = app.test_client()
    page = _qr(app, world, "a1")
    assert f"/object/{e.id}" in client.get(page).get_data(as_text=True)
    objection = review.raise_objection(e, text="没有乱堆", by_household=world["hh"]["a1"])
    review.resolve_objection(objection, outcome="entry_upheld", reason="属实",
                             by_user=world["users"]["vadmin"])
    db.session.commit()
    assert db.session.get(LedgerEntry, e.id).status == "under_notice"
    assert f"/object/{e.id}" not in client.get(page).get_data(as_text=True)


def test_door_plate_of_a_household_that_moved_away_says_so(app, world):
    """Its plate answers 410 with a page a villager understands (no figures), not a bare
    404; an unknown token is still a 404, and the moved household's page shows nothing of
    it."""
    client = app.test_client()
    page = _qr(app, world, "a4")
    archive_household(world["hh"]["a4"], reason="迁往外地", by=world["users"]["vadmin"])
    db.session.commit()
    resp = client.get(page)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 410 and "此门牌已停用" in html and "联系村委会" in html
    assert "赵" not in html and 'data-testid="earned"' not in html
    assert client.get(page[:-3] + "abc").status_code == 404


def test_an_entry_held_by_a_neighbours_objection_can_still_be_objected_to_by_its_household(
        app, world):
    """Once another household objected, the entry is held; its own household still found no
    提出异议 on its page or on the notice (the service accepts that objection)."""
    _notice(world, days=3)
    e = _post(world, hh="a2", name="乱堆乱放")
    db.session.commit()
    review.raise_objection(e, text="不属实", by_household=world["hh"]["a1"])
    db.session.commit()
    assert db.session.get(LedgerEntry, e.id).status == "held"
    client = app.test_client()
    own = _qr(app, world, "a2")
    assert f"/object/{e.id}" in client.get(own).get_data(as_text=True)
    assert f"/object/{e.id}" in client.get(f"{own}/notice").get_data(as_text=True)
    assert "提交异议" in client.get(f"{own}/object/{e.id}").get_data(as_text=True)
    # the neighbour that objected is told so, with no second form
    page = client.get(f"{_qr(app, world, 'a1')}/object/{e.id}").get_data(as_text=True)
    assert "提交异议" not in page
