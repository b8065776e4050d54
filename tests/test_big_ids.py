"""Ids past the database's integer range (app.ids), in a URL, a query string, a form or a
tablet batch, name no row: a 404 or the page's own refusal, never a 500 (PostgreSQL refuses
an integer above 2147483647; SQLite one above 2**63)."""
import pytest

from app.ids import MAX_ID, as_id

BIG = ["3000000000", "99999999999999999999"]


def test_as_id_bounds():
    assert as_id("12") == 12 and as_id(MAX_ID) == MAX_ID and as_id(-1) == -1
    assert [as_id(v) for v in (MAX_ID + 1, "1e3", "1.5", "abc", None, True)] == [None] * 6


@pytest.mark.parametrize("big", BIG)
def test_big_ids_in_urls_are_not_found(app, world, login, big):
    scorer = login("scorer")
    for path in (f"/households/{big}", f"/households/{big}/score", f"/villages/{big}/board",
                 f"/entries/{big}/reverse", f"/counter/{big}"):
        assert scorer.get(path).status_code == 404, path


@pytest.mark.parametrize("big", BIG)
def test_big_ids_in_query_strings_never_fail(app, world, login, big):
    v, a1 = world["village_a"].id, world["hh"]["a1"].id
    pages = {
        "auditor": [f"/audit/entries?village={big}", f"/audit/entries?group={big}",
                    f"/audit/entries?scorer={big}", f"/audit/entries?page={big}",
                    f"/audit/log?region={big}&actor={big}&page={big}"],
        "scorer": [f"/villages/{v}/households?group={big}&page={big}",
                   f"/households/{a1}?page={big}", f"/villages/{v}/notice?group={big}"],
    }
    for user, paths in pages.items():
        client = login(user)
        for path in paths:
            assert client.get(path).status_code in (200, 404), path


@pytest.mark.parametrize("big", BIG)
def test_a_big_item_id_on_the_scoring_form_is_refused_at_its_field(app, world, login, big):
    a1 = world["hh"]["a1"]
    resp = login("scorer").post(f"/households/{a1.id}/score", data={
        "item_id": big, "deed_date": "2026-11-02", "quantity": "1"})
    assert resp.status_code == 200
    assert "该评分项不在 2026-11-02 生效的细则中" in resp.get_data(as_text=True)
