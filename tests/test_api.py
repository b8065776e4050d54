"""JSON API v1: token authentication, region scoping, reads, pagination, JSON shapes."""
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from app.api.models import ApiToken
from app.api.tokens import create_token, revoke_token, token_hash
from app.extensions import db
from app.scoring.models import LedgerEntry
from app.scoring.periods import local_today
from app.scoring.services import post_entry
from tests.api_helpers import bearer
from tests.conftest import item

POINTS = re.compile(r"^-?\d+\.\d\d$")


def _error(resp, status, code=None):
    assert resp.status_code == status, resp.get_data(as_text=True)[:300]
    body = resp.get_json()
    assert set(body["error"]) == {"code", "message", "field"}
    if code:
        assert body["error"]["code"] == code
    return body["error"]


# ---- authentication -------------------------------------------------------------------

def test_missing_bad_and_revoked_tokens_are_401(app, world):
    client = app.test_client()
    url = f"/api/v1/villages/{world['village_a'].id}/households"
    err = _error(client.get(url), 401, "unauthorized")
    assert "令牌" in err["message"]
    _error(client.get(url, headers={"Authorization": "Bearer vp_" + "x" * 43}), 401)
    _error(client.get(url, headers={"Authorization": "Basic c2NvcmVyOnB3LXNjb3Jlcg=="}), 401)
    row, token = create_token(world["users"]["scorer"], "平板")
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(url, headers=headers).status_code == 200
    revoke_token(row)
    db.session.commit()
    _error(client.get(url, headers=headers), 401)


def test_a_session_cookie_alone_is_401(app, world, login):
    client = login("scorer")
    assert client.get(f"/households/{world['hh']['a1'].id}").status_code == 200  # logged in
    _error(client.get(f"/api/v1/households/{world['hh']['a1'].id}"), 401)
    rid = item(world["village_a"], "红白喜事简办").id
    resp = client.post(f"/api/v1/households/{world['hh']['a1'].id}/entries",
                       json={"item_id": rid, "deed_date": str(local_today())},
                       headers={"Idempotency-Key": "cookie-only"})
    _error(resp, 401)
    assert db.session.scalar(select(func.count(LedgerEntry.id))) == 0


def test_a_deactivated_account_s_token_stops_working(app, world):
    headers = bearer(world, "scorer")
    world["users"]["scorer"].is_active_flag = False
    db.session.commit()
    _error(app.test_client().get("/api/v1/me", headers=headers), 401)


def test_only_a_hash_of_the_token_is_stored_and_last_use_is_kept(app, world):
    row, token = create_token(world["users"]["vadmin"], "县平台")
    db.session.commit()
    stored = db.session.execute(select(ApiToken)).scalar_one()
    assert stored.token_hash == token_hash(token) and token not in (stored.prefix, stored.name)
    assert len(token) >= 40 and stored.last_used_at is None
    resp = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200
    assert resp.get_json()["username"] == "vadmin" and "manage_users" in resp.get_json()[
        "permissions"]
    db.session.rollback()   # whatever the request did not commit is gone
    assert db.session.get(ApiToken, row.id).last_used_at is not None


def test_token_page_creates_shows_once_and_revokes(app, world, login):
    client = login("scorer")
    page = client.get("/account/api-tokens")
    assert page.status_code == 200 and "API 令牌" in page.get_data(as_text=True)
    resp = client.post("/account/api-tokens", data={"action": "create", "name": "一组平板"})
    assert resp.status_code == 302          # Post/Redirect/Get: a reload posts nothing again
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    token = re.search(r'value="(vp_[A-Za-z0-9_-]+)"', html).group(1)
    with client.session_transaction() as sess:
        assert "new_api_token" not in sess   # shown once: gone from the session
    assert client.get("/account/api-tokens").get_data(as_text=True).count(token) == 0
    api = app.test_client()
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    row = db.session.execute(select(ApiToken)).scalar_one()
    # another user cannot revoke it (404), its owner can
    other = login("vadmin")
    assert other.post("/account/api-tokens", data={"action": "revoke",
                                                   "token_id": row.id}).status_code == 404
    resp = client.post("/account/api-tokens", data={"action": "revoke", "token_id": row.id})
    assert resp.status_code == 302
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    blank = client.post("/account/api-tokens", data={"action": "create", "name": " "})
    assert "请填写令牌名称" in blank.get_data(as_text=True)


def test_failed_authentications_are_rate_limited(app, world):
    app.config["RATELIMIT_API_AUTH_FAIL"] = "3 per minute"
    try:
        client = app.test_client()
        codes = [client.get("/api/v1/me", headers={"Authorization": f"Bearer bad{i:030d}"})
                 .status_code for i in range(5)]
        assert codes == [401, 401, 401, 429, 429]
        err = _error(client.get("/api/v1/me"), 429, "rate_limited")
        assert "频繁" in err["message"]
    finally:
        app.config["RATELIMIT_API_AUTH_FAIL"] = "30 per 10 minutes"


# ---- scoping -------------------------------------------------------------------------

def test_foreign_village_household_and_entry_are_404(app, world):
    b = world["hh"]["b1"]
    entry = post_entry(household=b, item_id=item(world["village_b"], "红白喜事简办").id,
                       deed_date=date(2026, 11, 2), recorded_by=world["users"]["scorer_b"])
    db.session.commit()
    client, headers = app.test_client(), bearer(world, "scorer")
    for url in [f"/api/v1/villages/{world['village_b'].id}/households",
                f"/api/v1/villages/{world['village_b'].id}/rulebook",
                f"/api/v1/villages/{world['village_b'].id}/board",
                f"/api/v1/villages/{world['village_b'].id}/balances",
                f"/api/v1/villages/{world['town_a'].id}/households",  # not a village
                f"/api/v1/households/{b.id}", f"/api/v1/households/{b.id}/entries",
                f"/api/v1/households/{b.id}/balance", f"/api/v1/entries/{entry.id}",
                "/api/v1/households/99999999999999", "/api/v1/nowhere"]:
        err = _error(client.get(url, headers=headers), 404, "not_found")
        assert "钱七" not in str(err)
    before = db.session.scalar(select(func.count(LedgerEntry.id)))
    resp = client.post(f"/api/v1/entries/{entry.id}/reversal", json={"reason": "x"},
                       headers={**headers, "Idempotency-Key": "foreign-1"})
    _error(resp, 404)
    resp = client.post(f"/api/v1/households/{b.id}/entries", headers={
        **headers, "Idempotency-Key": "foreign-2"}, json={
        "item_id": item(world["village_b"], "红白喜事简办").id, "deed_date": "2026-11-02"})
    _error(resp, 404)
    assert db.session.scalar(select(func.count(LedgerEntry.id))) == before


def test_the_township_auditor_reads_but_may_not_post(app, world):
    client, headers = app.test_client(), bearer(world, "auditor")
    a1 = world["hh"]["a1"]
    assert client.get(f"/api/v1/households/{a1.id}", headers=headers).status_code == 200
    resp = client.post(f"/api/v1/households/{a1.id}/entries", headers={
        **headers, "Idempotency-Key": "auditor-1"}, json={
        "item_id": item(world["village_a"], "红白喜事简办").id, "deed_date": "2026-11-02"})
    _error(resp, 403, "forbidden")
    assert db.session.scalar(select(func.count(LedgerEntry.id))) == 0


# ---- reads --------------------------------------------------------------------------

def test_household_search_by_number_name_and_pinyin_initials(app, world):
    client, headers = app.test_client(), bearer(world)
    url = f"/api/v1/villages/{world['village_a'].id}/households"

    def numbers(**args):
        resp = client.get(url, headers=headers, query_string=args)
        assert resp.status_code == 200
        return [h["house_number"] for h in resp.get_json()["items"]]
    assert numbers() == ["1", "2", "3", "21"]
    assert numbers(q="zxs") == ["1"]            # 张小三
    assert numbers(q="王五") == ["2"]
    assert numbers(q="21") == ["21"]
    assert numbers(q="李四") == ["1"]            # a member's name
    assert numbers(group_id=world["g_a2"].id) == ["21"]
    err = _error(client.get(url, headers=headers, query_string={"per_page": "0"}), 400)
    assert err["field"] == "per_page"


def test_household_balance_rank_and_decimal_strings(app, world):
    v = world["village_a"]
    for hh in ("a1", "a2"):
        post_entry(household=world["hh"][hh], item_id=item(v, "红白喜事简办").id,
                   deed_date=date(2026, 11, 2), recorded_by=world["users"]["scorer"])
    post_entry(household=world["hh"]["a2"], item_id=item(v, "红白喜事简办").id,
               deed_date=date(2026, 11, 3), recorded_by=world["users"]["scorer"])
    db.session.commit()
    client, headers = app.test_client(), bearer(world)
    body = client.get(f"/api/v1/households/{world['hh']['a2'].id}", headers=headers).get_json()
    assert body["rank"] == 1 and body["out_of"] == 4 and body["entry_count"] == 2
    assert body["earned_score"] == "10.00" and body["spendable_balance"] == "10.00"
    assert body["members"] == [] and body["head_name"] == "王五"
    one = client.get(f"/api/v1/households/{world['hh']['a1'].id}/balance",
                     headers=headers).get_json()
    assert (one["rank"], one["earned_score"]) == (2, "5.00")
    table = client.get(f"/api/v1/villages/{v.id}/balances", headers=headers).get_json()
    assert [r["house_number"] for r in table["items"]] == ["2", "1", "3", "21"]
    for row in table["items"]:
        for key in ("earned_score", "spendable_balance", "pending_points"):
            assert isinstance(row[key], str) and POINTS.match(row[key])


def test_rulebook_in_force_lists_items_with_kinds_and_points(app, world):
    client, headers = app.test_client(), bearer(world)
    url = f"/api/v1/villages/{world['village_a'].id}/rulebook"
    body = client.get(url, headers=headers).get_json()
    assert body["effective_from"] == "2020-01-01"
    items = {i["name"]: i for c in body["categories"] for i in c["items"]}
    assert items["红白喜事简办"]["id"] == item(world["village_a"], "红白喜事简办").id
    assert items["红白喜事简办"]["points"] == "5.00" and items["红白喜事简办"]["kind"] == "fixed"
    assert all(i["kind"] in ("fixed", "range", "scorecard", "rate", "tiered", "analogy")
               for i in items.values())
    err = _error(client.get(url, headers=headers, query_string={"on": "2019-01-01"}), 404)
    assert err["code"] == "no_rulebook" and err["field"] == "on"
    err = _error(client.get(url, headers=headers, query_string={"on": "2019-13-45"}), 400)
    assert err["field"] == "on"


def test_entries_are_paginated_newest_first(app, world):
    v, a1 = world["village_a"], world["hh"]["a1"]
    made = [post_entry(household=a1, item_id=item(v, "红白喜事简办").id,
                       deed_date=date(2026, 11, 2), recorded_by=world["users"]["scorer"]).id
            for _ in range(5)]
    db.session.commit()
    client, headers = app.test_client(), bearer(world)
    url = f"/api/v1/households/{a1.id}/entries"
    first = client.get(url, headers=headers, query_string={"per_page": 2}).get_json()
    assert [e["id"] for e in first["items"]] == made[::-1][:2]
    assert (first["total"], first["pages"], first["page"]) == (5, 3, 1)
    last = client.get(url, headers=headers, query_string={"per_page": 2, "page": 3}).get_json()
    assert [e["id"] for e in last["items"]] == [made[0]]
    past = client.get(url, headers=headers, query_string={"per_page": 2, "page": 4}).get_json()
    assert past["items"] == []  # never loops a client that pages until empty
    entry = first["items"][0]
    assert entry["points"] == "5.00" and entry["deed_date"] == "2026-11-02"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", entry["recorded_at"])


def test_village_board_is_the_live_board(app, world):
    v = world["village_a"]
    post_entry(household=world["hh"]["a3"], item_id=item(v, "红白喜事简办").id,
               deed_date=date(2026, 11, 2), recorded_by=world["users"]["scorer"])
    post_entry(household=world["hh"]["a4"], item_id=item(v, "乱堆乱放").id,
               deed_date=date(2026, 11, 2), recorded_by=world["users"]["scorer"])
    db.session.commit()
    client, headers = app.test_client(), bearer(world, "county")
    body = client.get(f"/api/v1/villages/{v.id}/board", headers=headers,
                      query_string={"period": "2026-11"}).get_json()
    assert body["period"] == "2026-11" and body["start"] == "2026-11-01"
    assert [s["house_number"] for s in body["red"]] == ["3"]
    assert [s["house_number"] for s in body["black"]] == ["21"]
    assert body["black"][0]["deductions"].startswith("-")
    _error(client.get(f"/api/v1/villages/{v.id}/board", headers=headers,
                      query_string={"period": "2026-13"}), 400)


@pytest.mark.parametrize("path", ["/api/v1/me", "/api/v1/openapi.json"])
def test_api_answers_are_not_cached(app, world, path):
    resp = app.test_client().get(path, headers=bearer(world))
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
