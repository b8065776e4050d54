"""Issue 8: the batch service (one key per row, valid rows posted, refused rows reported at
their row), the same-origin sync endpoint (scoped per row), the finder (pinyin initials,
door-plate link, recently scored first) and the PWA files."""
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from app.extensions import db
from app.households.services import archive_household
from app.scoring.models import LedgerEntry
from app.scoring.periods import local_today
from app.tablet import batch
from tests.tablet_fixtures import CHECKS, add_scorecard


def _count(**where):
    stmt = select(func.count(LedgerEntry.id)).where(LedgerEntry.kind == "score")
    for k, v in where.items():
        stmt = stmt.where(getattr(LedgerEntry, k) == v)
    return db.session.scalar(stmt)


def _rows(item, households, problems=None, day=None, prefix="k"):
    problems = problems or {}
    return [{"key": f"{prefix}-{h.id}-0123456789", "household_id": h.id, "item_id": item.id,
             "deed_date": (day or local_today()).isoformat(), "problems": problems.get(h.id, 0)}
            for h in households]


def test_checks_come_from_the_rulebook_or_from_the_maximum(app, world):
    item = add_scorecard(world["village_a"])
    assert batch.checks_of(item) == CHECKS
    bare = add_scorecard(world["village_a"], "门前三包", max_points="10", per_problem="2.5",
                         checks=[])
    assert len(batch.checks_of(bare)) == 4  # 10 // 2.5
    assert [i.name for i in batch.scorecard_items(world["village_a"], local_today())] == \
        ["环境卫生检查", "门前三包"]


def test_batch_posts_each_row_once_and_a_resubmit_posts_nothing(app, world):
    v, hh, scorer = world["village_a"], world["hh"], world["users"]["scorer"]
    item = add_scorecard(v)
    group = [hh["a1"], hh["a2"], hh["a3"]]
    rows = _rows(item, group, problems={hh["a2"].id: 2, hh["a3"].id: 9})
    results = batch.post_rows(v, rows, recorded_by=scorer)
    db.session.commit()
    assert [r["status"] for r in results] == ["posted"] * 3
    assert [Decimal(r["points"]) for r in results] == [Decimal(25), Decimal(15), Decimal(0)]
    assert _count() == 3
    assert hh["a2"].balance.earned_score == Decimal(15)
    again = batch.post_rows(v, rows, recorded_by=scorer)
    db.session.commit()
    assert [r["entry_id"] for r in again] == [r["entry_id"] for r in results]
    assert _count() == 3


def test_the_entry_names_the_checks_that_failed(app, world):
    v, hh, scorer = world["village_a"], world["hh"], world["users"]["scorer"]
    item = add_scorecard(v)
    marks = {hh["a1"].id: [0, 1, 2, 0, 0], hh["a2"].id: [0, 0, 0, 0, 0],
             hh["a3"].id: [1, 1, 0, 0, 0]}      # a3's marks do not add up to its count
    rows = _rows(item, [hh["a1"], hh["a2"], hh["a3"]],
                 problems={hh["a1"].id: 3, hh["a3"].id: 3})
    for row in rows:
        row["checks"] = marks[row["household_id"]]
    rows.append({**_rows(item, [hh["a4"]], problems={hh["a4"].id: 1}, prefix="z")[0],
                 "checks": ["1", None, 0, 0, 0]})
    results = batch.post_rows(v, rows, recorded_by=scorer)
    db.session.commit()
    notes = [db.session.get(LedgerEntry, r["entry_id"]).note for r in results]
    assert notes == ["未通过：厨房卫生 1 处、厕所卫生 2 处（共 3 处）", None, None, None]
    assert [Decimal(r["points"]) for r in results] == [Decimal(10), Decimal(25),
                                                      Decimal(10), Decimal(20)]


def test_refused_rows_are_reported_at_their_row_and_the_rest_post(app, world):
    v, hh, scorer = world["village_a"], world["hh"], world["users"]["scorer"]
    item = add_scorecard(v)
    archive_household(hh["a2"], reason="迁往县城", by=world["users"]["vadmin"])
    db.session.commit()
    rows = _rows(item, [hh["a1"], hh["a2"], hh["a3"]])
    rows[2]["deed_date"] = (local_today() + timedelta(days=1)).isoformat()
    rows.append({"key": "short", "household_id": hh["a1"].id, "item_id": item.id,
                 "deed_date": local_today().isoformat()})
    results = batch.post_rows(v, rows, recorded_by=scorer)
    db.session.commit()
    assert [r["status"] for r in results] == ["posted", "refused", "refused", "refused"]
    assert results[1]["code"] == "inactive" and "迁出" in results[1]["message"]
    assert results[2]["code"] == "future_date" and "今天" in results[2]["message"]
    assert _count() == 1 and _count(household_id=hh["a1"].id) == 1
    # the refused row, fixed, posts under its own (unused) key
    rows[2]["deed_date"] = local_today().isoformat()
    fixed = batch.post_rows(v, rows[2:3], recorded_by=scorer)
    db.session.commit()
    assert fixed[0]["status"] == "posted" and _count() == 2


def test_cap_reached_is_a_refusal_at_the_row(app, world):
    v, hh, scorer = world["village_a"], world["hh"], world["users"]["scorer"]
    item = add_scorecard(v, cap={"points": "25", "period": "month"})
    last_month = local_today().replace(day=1) - timedelta(days=1)   # two days of one month
    first = batch.post_rows(v, _rows(item, [hh["a1"]], day=last_month - timedelta(days=1)),
                            recorded_by=scorer)
    second = batch.post_rows(v, _rows(item, [hh["a1"]], day=last_month, prefix="again"),
                             recorded_by=scorer)
    db.session.commit()
    assert first[0]["status"] == "posted"
    assert second[0]["status"] == "refused" and second[0]["code"] == "cap_reached"
    assert _count() == 1


def test_a_household_is_inspected_once_a_day_whatever_the_tablet(app, world):
    """Two tablets on one group (or an outbox synced after another device posted) each
    posted the day's inspection under their own keys: double points."""
    v, hh = world["village_a"], world["hh"]
    scorer, vadmin = world["users"]["scorer"], world["users"]["vadmin"]
    item = add_scorecard(v)
    first = batch.post_rows(v, _rows(item, [hh["a1"], hh["a2"]]), recorded_by=scorer)
    second = batch.post_rows(v, _rows(item, [hh["a1"], hh["a2"]], prefix="tablet-b"),
                             recorded_by=vadmin)
    db.session.commit()
    assert [r["status"] for r in first] == ["posted", "posted"]
    assert [r["code"] for r in second] == ["already_inspected", "already_inspected"]
    assert second[0]["message"] == (f"本户 {local_today().isoformat()} 已记过“环境卫生检查”，"
                                    "每天只记一次；记错了请先冲正原记录")
    assert _count() == 2
    # once the first is reversed (a mistake), the household can be inspected again that day
    from app.scoring.models import LedgerEntry
    from app.scoring.services import reverse_entry
    reverse_entry(db.session.get(LedgerEntry, first[0]["entry_id"]), reason="记错",
                  recorded_by=vadmin)
    again = batch.post_rows(v, _rows(item, [hh["a1"]], prefix="redo"), recorded_by=vadmin)
    assert again[0]["status"] == "posted"
    # another day is another inspection
    other_day = batch.post_rows(v, _rows(item, [hh["a2"]], day=local_today() - timedelta(1),
                                         prefix="yday"), recorded_by=scorer)
    assert other_day[0]["status"] == "posted"


def test_sync_endpoint_posts_json_and_foreign_households_are_not_found(app, world, login):
    v, hh = world["village_a"], world["hh"]
    item = add_scorecard(v)
    db.session.commit()
    client = login("scorer")
    url = f"/tablet/villages/{v.id}/sync"
    token = client.get(url).get_json()
    assert token["csrf_token"] and token["village_id"] == v.id
    rows = _rows(item, [hh["a1"], hh["b1"], hh["a4"]])
    rows[1]["problems"] = 1
    resp = client.post(url, json={"rows": rows})
    assert resp.status_code == 200
    results = resp.get_json()["results"]
    assert [r["status"] for r in results] == ["posted", "not_found", "posted"]
    assert "钱七" not in resp.get_data(as_text=True)
    assert _count(household_id=hh["b1"].id) == 0 and _count() == 2
    # the same rows again (an answer lost on the way back): nothing posted twice
    again = client.post(url, json={"rows": rows}).get_json()["results"]
    assert [r.get("entry_id") for r in again] == [r.get("entry_id") for r in results]
    assert _count() == 2
    assert client.post(url, json={"rows": "x"}).status_code == 400
    assert client.post(url, data="not json").status_code == 400


def test_sync_endpoint_is_scoped_and_needs_the_score_permission(app, world, login):
    v, hh = world["village_a"], world["hh"]
    item = add_scorecard(v)
    db.session.commit()
    rows = _rows(item, [hh["a1"]])
    assert login("scorer_b").post(f"/tablet/villages/{v.id}/sync",
                                  json={"rows": rows}).status_code == 404
    assert login("auditor").post(f"/tablet/villages/{v.id}/sync",
                                 json={"rows": rows}).status_code == 403
    # scorer B posting village A's household through village B's endpoint: not found
    resp = login("scorer_b").post(f"/tablet/villages/{world['village_b'].id}/sync",
                                  json={"rows": rows})
    assert resp.get_json()["results"][0]["status"] == "not_found"
    assert _count() == 0


def test_sync_needs_the_csrf_token_in_a_header_when_csrf_is_on(app, world, login):
    v, hh = world["village_a"], world["hh"]
    item = add_scorecard(v)
    db.session.commit()
    client = login("scorer")
    url = f"/tablet/villages/{v.id}/sync"
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        token = client.get(url).get_json()["csrf_token"]
        rows = _rows(item, [hh["a1"]])
        assert client.post(url, json={"rows": rows}).status_code == 400
        assert _count() == 0
        resp = client.post(url, json={"rows": rows}, headers={"X-CSRFToken": token})
        assert resp.get_json()["results"][0]["status"] == "posted"
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert _count() == 1


def test_finder_pinyin_qr_link_and_recent_first(app, world, login):
    from app.households.qr import public_url
    from app.scoring.services import post_entry
    from tests.conftest import item
    v, hh = world["village_a"], world["hh"]
    post_entry(household=hh["a3"], item_id=item(v, "红白喜事简办").id, deed_date=local_today(),
               recorded_by=world["users"]["scorer"])
    db.session.commit()
    client = login("scorer")
    page = client.get(f"/tablet/villages/{v.id}?q=zxs").get_data(as_text=True)
    assert "张小三" in page and "王五" not in page
    page = client.get(f"/tablet/villages/{v.id}").get_data(as_text=True)
    assert 'data-testid="recent"' in page and "欧阳小明" in page
    # "3" matches a3 only; house numbers starting with 2 list a3's neighbours after recents
    page = client.get(f"/tablet/villages/{v.id}?q=2").get_data(as_text=True)
    assert "王五" in page and "赵六" in page
    with app.test_request_context():
        link = public_url(hh["a1"])
    resp = client.get(f"/tablet/villages/{v.id}", query_string={"q": link})
    assert resp.status_code == 302 and f"/households/{hh['a1'].id}/score" in resp.location
    with app.test_request_context():
        foreign = public_url(hh["b1"])
    page = client.get(f"/tablet/villages/{v.id}", query_string={"q": foreign})
    assert page.status_code == 200 and "钱七" not in page.get_data(as_text=True)
    assert "不是本村有效的门牌" in page.get_data(as_text=True)


def test_recent_households_come_first_in_search_results(app, world):
    from app.scoring.services import post_entry
    from tests.conftest import item
    v, hh, scorer = world["village_a"], world["hh"], world["users"]["scorer"]
    for h in (hh["a2"], hh["a1"]):
        post_entry(household=h, item_id=item(v, "红白喜事简办").id, deed_date=local_today(),
                   recorded_by=scorer)
    db.session.commit()
    assert [h.head_name for h in batch.recent_households(scorer, v.id)] == ["张小三", "王五"]
    assert batch.recent_households(world["users"]["vadmin"], v.id) == []


def test_manifest_service_worker_and_csp(app, world, login):
    client = app.test_client()
    manifest = client.get("/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    assert manifest.get_json()["start_url"] == "/tablet/"
    sw = client.get("/sw.js")
    assert sw.mimetype == "application/javascript" and b"caches" in sw.data
    page = login("scorer").get(f"/tablet/villages/{world['village_a'].id}")
    csp = page.headers["Content-Security-Policy"]
    assert "worker-src 'self'" in csp and "manifest-src 'self'" in csp
    assert "camera=(self)" in page.headers.get("Permissions-Policy", "")


def test_grid_has_a_column_per_check_and_shows_households_scored_today(app, world, login):
    v, hh, scorer = world["village_a"], world["hh"], world["users"]["scorer"]
    item = add_scorecard(v)
    batch.post_rows(v, _rows(item, [hh["a2"]], problems={hh["a2"].id: 1}), recorded_by=scorer)
    db.session.commit()
    page = login("scorer").get(f"/tablet/groups/{world['g_a1'].id}/inspect")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for check in CHECKS:
        assert f">{check}</th>" in html
    assert html.count('class="btn check-cell"') == 3 * len(CHECKS)
    assert html.count("今天已记 20 分") == 1 and "提交本组 2 户" in html
    # a scored row does not claim every check passed: its marks are in the entry's note
    assert html.count('disabled>·</button>') == len(CHECKS)
    assert batch.scored_on(item, [hh["a1"].id, hh["a2"].id], local_today()) == \
        {hh["a2"].id: Decimal(20)}
    # a village (not a group) or a foreign group is a 404
    client = login("scorer")
    assert client.get(f"/tablet/groups/{v.id}/inspect").status_code == 404
    assert client.get(f"/tablet/groups/{world['g_b1'].id}/inspect").status_code == 404


def test_a_scorecard_lists_its_checks_in_the_rulebook_file():
    from app.rules.importer import parse_rulebook
    text = """
categories:
  - name: 人居环境
    items:
      - {name: 环境卫生月检, kind: scorecard, max: 25, per_problem: 5,
         checks: [庭院整洁, 厨房卫生, 厕所卫生]}
"""
    spec = parse_rulebook(text, code_prefix="T")
    assert spec.categories[0].items[0].params["checks"] == ["庭院整洁", "厨房卫生", "厕所卫生"]


def test_a_scorecard_keeps_its_checks_through_an_export(app, world):
    from app.rules.yaml_export import item_dict
    item = add_scorecard(world["village_a"])
    assert item_dict(item)["checks"] == CHECKS


def test_sync_takes_fractional_points_as_decimals(app, world, login):
    from tests.conftest import item
    v, hh = world["village_a"], world["hh"]
    ranged = item(v, "拾金不昧")  # a range item: the panel's value
    db.session.commit()
    body = ('{"rows": [{"key": "frac-0123456789", "household_id": %d, "item_id": %d, '
            '"deed_date": "%s", "points": 5.5}]}' % (hh["a1"].id, ranged.id,
                                                    local_today().isoformat()))
    resp = login("scorer").post(f"/tablet/villages/{v.id}/sync", data=body,
                                content_type="application/json")
    result = resp.get_json()["results"][0]
    assert result["status"] == "posted", result
    assert Decimal(result["points"]) == Decimal("5.5")


def test_sync_rows_with_ids_past_the_integer_range_are_refused_one_by_one(app, world, login):
    """A huge household or item id in one row (app.ids) is that row's refusal; the other
    rows of the batch are posted (a fresh user's batch failed whole with a 500)."""
    v, hh = world["village_a"], world["hh"]
    item = add_scorecard(v)
    db.session.commit()
    rows = _rows(item, [hh["a1"], hh["a4"], hh["a1"]])
    rows[0]["household_id"] = 3000000000
    rows[1]["item_id"] = 10 ** 20
    resp = login("scorer").post(f"/tablet/villages/{v.id}/sync", json={"rows": rows})
    assert resp.status_code == 200
    results = resp.get_json()["results"]
    assert [r["status"] for r in results] == ["not_found", "refused", "posted"]
    assert results[1]["code"] == "item_not_in_force" and _count() == 1


def test_tablets_inspecting_at_once_score_each_household_once(app, world):
    """Eight tablets sync the same household's inspection at the same moment, each under its
    own key: one entry (the check runs under the village's chain lock; on PostgreSQL with
    TEST_DATABASE_URL the requests truly overlap)."""
    from app.households.models import Household
    from app.accounts.models import User
    from tests.conftest import run_threads
    v, hid = world["village_a"], world["hh"]["a1"].id
    item = add_scorecard(v)
    db.session.commit()
    vid, rows_of, scorer_id = v.id, item, world["users"]["scorer"].id
    rows = {i: _rows(rows_of, [db.session.get(Household, hid)], prefix=f"t{i}")
            for i in range(8)}
    db.session.close()

    def sync(i):
        from app.regions.models import Region
        with app.app_context():
            try:
                result = batch.post_rows(db.session.get(Region, vid), rows[i],
                                         recorded_by=db.session.get(User, scorer_id))
                db.session.commit()
                return result[0].get("code") or result[0]["status"]
            finally:
                db.session.remove()

    results, errors = run_threads(8, sync)
    assert errors == []
    assert sorted(results) == ["already_inspected"] * 7 + ["posted"]
    assert _count(household_id=hid) == 1


def test_an_exact_house_number_comes_before_recent_households(app, world, login):
    """Searching 2 listed 21 号 (scored lately) above 2 号: a wrong household one tap away."""
    from app.scoring.services import post_entry
    from tests.conftest import item
    v, hh, scorer = world["village_a"], world["hh"], world["users"]["scorer"]
    post_entry(household=hh["a4"], item_id=item(v, "红白喜事简办").id,      # 21 号, recent
               deed_date=local_today(), recorded_by=scorer)
    db.session.commit()
    for q in ("2", "２"):                                        # full width too
        page = login("scorer").get(f"/tablet/villages/{v.id}?q={q}").get_data(as_text=True)
        hits = page.split('data-testid="hits"')[1].split('data-testid="recent"')[0]
        assert hits.index("王五") < hits.index("赵六"), q           # 2 号 before 21 号


def test_a_row_awaiting_review_says_so(app, world):
    """The grid said 已记分 for an entry a second cadre must still approve."""
    v, hh, scorer = world["village_a"], world["hh"], world["users"]["scorer"]
    item = add_scorecard(v)
    item.needs_review = True
    db.session.flush()
    result = batch.post_rows(v, _rows(item, [hh["a1"]]), recorded_by=scorer)[0]
    assert (result["status"], result["entry_status"]) == ("posted", "awaiting_review")
