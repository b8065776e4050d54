"""Defects a fresh user found on the villagers' QR forms:

- the objection form opened for an entry that cannot be objected to (cancelled, a spend,
  confirmed, not under notice); the villager learned it only after typing;
- the self-report select preselected the first item (an elderly user sent the wrong one)
  and offered the inspection scorecard's items.
"""
import re

from sqlalchemy import func, select

from app.extensions import db
from app.households.qr import public_url
from app.review.models import Objection, SelfReport
from app.scoring.models import VillageSettings
from app.scoring.periods import local_today
from app.scoring.services import post_entry, reverse_entry, spend
from tests.conftest import item
from tests.tablet_fixtures import add_scorecard

REASON = "该记录不在公示期内，不能提出异议"


def _qr(app, world, hh="a1"):
    with app.test_request_context():
        return public_url(world["hh"][hh]).replace("http://jf.test", "")


def _notice_days(world, days):
    db.session.get(VillageSettings, world["village_a"].id).notice_days = days
    db.session.commit()


def _post(world, hh="a2", name="红白喜事简办"):
    return post_entry(household=world["hh"][hh], item_id=item(world["village_a"], name).id,
                      deed_date=local_today(), recorded_by=world["users"]["scorer"])


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_objection_page_says_at_once_why_an_entry_cannot_be_objected_to(app, world):
    """On the household's own entries past notice; another household's are a 404 (a door
    plate opened any entry of the village by its id, a fresh user found)."""
    scorer = world["users"]["scorer"]
    _notice_days(world, 0)
    confirmed = _post(world, hh="a1")
    spent = spend(household=world["hh"]["a1"], points=1, recorded_by=scorer, reason="大米×1")
    theirs = _post(world)
    _notice_days(world, 3)
    cancelled = _post(world, hh="a1")
    db.session.flush()
    reverse_entry(cancelled, reason="记错了", recorded_by=scorer)
    open_one = _post(world)
    db.session.commit()
    assert confirmed.status == "confirmed" and open_one.status == "under_notice"
    client = app.test_client()
    qr = _qr(app, world)
    assert client.get(f"{qr}/object/{theirs.id}").status_code == 404
    assert client.post(f"{qr}/object/{theirs.id}", data={
        "text": "不对", "idempotency_key": "k-theirs"}).status_code == 404
    for entry in (confirmed, spent, cancelled):
        page = client.get(f"{qr}/object/{entry.id}").get_data(as_text=True)
        assert REASON in page, entry.status
        assert "提交异议" not in page and 'name="text"' not in page
        page = client.post(f"{qr}/object/{entry.id}", data={
            "text": "不对", "idempotency_key": f"k-{entry.id}"}).get_data(as_text=True)
        assert REASON in page                                  # the POST is still refused
    page = client.get(f"{qr}/object/{open_one.id}").get_data(as_text=True)
    assert "提交异议" in page and REASON not in page
    assert _count(Objection) == 0


def test_self_report_select_starts_empty_and_offers_no_scorecard_item(app, world):
    card = add_scorecard(world["village_a"])
    helped = item(world["village_a"], "帮助困难居民")
    db.session.commit()
    client = app.test_client()
    url = _qr(app, world) + "/report"
    page = client.get(url).get_data(as_text=True)
    select_html = re.search(r'<select[^>]*name="item_id".*?</select>', page, re.S).group(0)
    options = re.findall(r"<option[^>]*>", select_html)
    assert 'value=""' in options[0] and "请选择…" in select_html
    assert sum("selected" in o for o in options) <= 1
    assert all("selected" not in o for o in options[1:])
    assert f'value="{helped.id}"' in select_html and f'value="{card.id}"' not in select_html
    assert card.name not in select_html

    page = client.post(url, data={"item_id": "", "deed_date": local_today().isoformat(),
                                  "description": "送邻居去医院", "idempotency_key": "r-1"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "请选择一项" in html and "Invalid" not in html and "Not a valid" not in html
    resp = client.post(url, data={"item_id": str(card.id),
                                  "deed_date": local_today().isoformat(),
                                  "description": "卫生检查", "idempotency_key": "r-2"})
    assert resp.status_code == 200 and _count(SelfReport) == 0

    def report(text, key):
        return client.post(url, data={"item_id": str(helped.id), "description": text,
                                      "deed_date": local_today().isoformat(),
                                      "idempotency_key": key}).status_code

    assert report("送邻居去医院", "r-3") == 302 and _count(SelfReport) == 1
    # back, and the restored form sent again under the page's fresh key: still one report
    assert report("送邻居去医院", "r-4") == 302 and _count(SelfReport) == 1
    # another deed is another report
    assert report("帮邻居收稻谷", "r-5") == 302 and _count(SelfReport) == 2


def test_service_refuses_a_self_report_of_a_scorecard_item(world):
    import pytest

    from app.review.services import submit_self_report
    from app.rules.engine import Refusal
    card = add_scorecard(world["village_a"])
    with pytest.raises(Refusal) as err:
        submit_self_report(world["hh"]["a1"], item_id=card.id, deed_date=local_today(),
                           description="卫生检查")
    assert err.value.code == "item_not_in_force"
