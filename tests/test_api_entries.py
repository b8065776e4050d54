"""JSON API v1 writes: idempotent posting and reversal, refusals, concurrency."""
from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.scoring.checks import verify
from app.scoring.models import HouseholdBalance, LedgerEntry
from app.scoring.periods import local_today
from tests.api_helpers import bearer
from tests.conftest import item, run_threads


def _count():
    return db.session.scalar(select(func.count(LedgerEntry.id)))


def _post(client, headers, hid, key, **body):
    extra = {"Idempotency-Key": key} if key else {}
    return client.post(f"/api/v1/households/{hid}/entries", json=body,
                       headers={**headers, **extra})


def test_post_twice_with_one_key_makes_one_entry(app, world):
    client, headers = app.test_client(), bearer(world)
    a1, rid = world["hh"]["a1"], item(world["village_a"], "红白喜事简办").id
    body = {"item_id": rid, "deed_date": str(local_today()), "note": "帮邻居办丧事从简"}
    first = _post(client, headers, a1.id, "tab1-0001", **body)
    assert first.status_code == 201, first.get_json()
    again = _post(client, headers, a1.id, "tab1-0001", **body)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert first.get_json()["points"] == "5.00" and first.get_json()["status"] == "confirmed"
    assert first.headers["Location"].endswith(f"/api/v1/entries/{first.get_json()['id']}")
    assert _count() == 1
    assert db.session.get(HouseholdBalance, a1.id).earned_score == 5
    # the same key with another body is refused with the Chinese reason, nothing recorded
    other = _post(client, headers, a1.id, "tab1-0001", **{**body, "note": "别的"})
    assert other.status_code == 422
    assert other.get_json()["error"]["code"] == "key_reused"
    assert "已经提交过" in other.get_json()["error"]["message"]
    elsewhere = _post(client, headers, world["hh"]["a2"].id, "tab1-0001", **body)
    assert elsewhere.status_code == 422 and _count() == 1
    assert verify() == []


def test_refusals_are_422_with_code_field_and_chinese_message(app, world):
    client, headers = app.test_client(), bearer(world)
    a1, rid = world["hh"]["a1"], item(world["village_a"], "红白喜事简办").id
    tomorrow = str(local_today() + timedelta(days=1))
    resp = _post(client, headers, a1.id, "future-1", item_id=rid, deed_date=tomorrow)
    assert resp.status_code == 422
    assert resp.get_json()["error"] == {"code": "future_date", "field": "deed_date",
                                        "message": "事情发生日期不能晚于今天"}
    assert _count() == 0


def test_bad_requests_are_400_naming_the_field(app, world):
    client, headers = app.test_client(), bearer(world)
    hid, rid = world["hh"]["a1"].id, item(world["village_a"], "红白喜事简办").id
    today = str(local_today())
    cases = [
        ({"deed_date": today}, "item_id"),
        ({"item_id": rid, "deed_date": "2026/11/02"}, "deed_date"),
        ({"item_id": rid, "deed_date": today, "points": 1.5}, "points"),   # never a float
        ({"item_id": rid, "deed_date": today, "quantity": 0}, "quantity"),
        ({"item_id": rid, "deed_date": today, "colour": "red"}, "body"),
        ({"item_id": rid, "deed_date": today, "note": "好\x00事"}, "note"),
    ]
    for i, (body, field) in enumerate(cases):
        resp = _post(client, headers, hid, f"bad-{i}", **body)
        assert resp.status_code == 400, (body, resp.get_json())
        assert resp.get_json()["error"]["field"] == field, body
    missing = _post(client, headers, hid, None, item_id=rid, deed_date=today)
    assert missing.status_code == 400
    assert missing.get_json()["error"]["code"] == "idempotency_key_required"
    long_key = _post(client, headers, hid, "k" * 65, item_id=rid, deed_date=today)
    assert long_key.status_code == 400
    not_json = client.post(f"/api/v1/households/{hid}/entries", data="item_id=1",
                           headers={**headers, "Idempotency-Key": "form-1"})
    assert not_json.status_code == 415
    assert _count() == 0


def test_reverse_is_idempotent_and_needs_a_reason(app, world):
    client, headers = app.test_client(), bearer(world)
    a1, rid = world["hh"]["a1"], item(world["village_a"], "红白喜事简办").id
    entry = _post(client, headers, a1.id, "p-1", item_id=rid,
                  deed_date=str(local_today())).get_json()
    url = f"/api/v1/entries/{entry['id']}/reversal"
    blank = client.post(url, json={"reason": "  "}, headers={**headers, "Idempotency-Key": "r0"})
    assert blank.status_code == 422 and blank.get_json()["error"]["code"] == "reason_required"
    first = client.post(url, json={"reason": "记错户了"}, headers={**headers,
                                                               "Idempotency-Key": "r-1"})
    assert first.status_code == 201
    reversal = first.get_json()
    assert reversal["kind"] == "reversal" and reversal["points"] == "-5.00"
    assert reversal["reverses_id"] == entry["id"]
    again = client.post(url, json={"reason": "记错户了"}, headers={**headers,
                                                               "Idempotency-Key": "r-1"})
    assert again.status_code == 200 and again.get_json()["id"] == reversal["id"]
    other_key = client.post(url, json={"reason": "记错户了"}, headers={
        **headers, "Idempotency-Key": "r-2"})
    assert other_key.status_code == 422
    assert other_key.get_json()["error"]["code"] == "already_reversed"
    assert _count() == 2
    assert db.session.get(HouseholdBalance, a1.id).earned_score == 0
    shown = client.get(f"/api/v1/entries/{entry['id']}", headers=headers).get_json()
    assert shown["reversed_by_id"] == reversal["id"]
    assert verify() == []


def test_two_concurrent_posts_with_one_key_make_one_entry(app, world):
    headers = bearer(world)
    hid, rid = world["hh"]["a1"].id, item(world["village_a"], "红白喜事简办").id
    body = {"item_id": rid, "deed_date": str(local_today())}
    db.session.close()

    def post(_i):
        with app.app_context():
            try:
                resp = app.test_client().post(
                    f"/api/v1/households/{hid}/entries", json=body,
                    headers={**headers, "Idempotency-Key": "race-0001"})
                return resp.status_code, resp.get_json()["id"]
            finally:
                db.session.remove()
    results, errors = run_threads(2, post)
    assert errors == []
    assert sorted(code for code, _ in results) == [200, 201]
    assert len({ident for _, ident in results}) == 1
    assert _count() == 1
    assert db.session.get(HouseholdBalance, hid).earned_score == 5
    assert verify() == []
