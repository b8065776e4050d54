"""Access matrix: every route of the URL map, as anonymous and as every role, in its own
region and in a foreign one. A route missing from MATRIX fails the test.

Kinds of rule:
- public: anyone gets 200.
- scoped: login required (anonymous -> 302 to the login page); users whose region contains
  the object -> 200; others -> 404 (never 403, never the object's data).
- scoped+PERM: as scoped, and a role without PERM gets 403 before any lookup.
"""
import pytest
from flask import url_for

from app.accounts.roles import role_allows
from app.extensions import db
from app.regions.models import Region
from app.households.qr import public_url
from app.scoring.services import post_entry
from tests.conftest import item


def _ids(world):
    v = world["village_a"]
    entry = post_entry(household=world["hh"]["a1"], item_id=item(v, "乱堆乱放").id,
                       deed_date=__import__("datetime").date(2026, 11, 2),
                       recorded_by=world["users"]["scorer"])
    from app.evidence.services import store_photo
    from app.households.qr import derive_token
    from app.review.models import Objection
    from app.review.services import submit_self_report
    photo = store_photo(_PNG, village_id=v.id)
    objection = Objection(entry_id=entry.id, village_id=v.id, text="核实", status="open",
                          by_household_id=world["hh"]["a2"].id)
    db.session.add(objection)
    report = submit_self_report(world["hh"]["a1"], item_id=item(v, "红白喜事简办").id,
                                deed_date=entry.deed_date, description="好事")
    rewards = _reward_ids(world)
    reports = _report_ids(world)
    extra = {}
    for make_ids in EXTRA_IDS:
        extra.update(make_ids(world))
    db.session.commit()
    return {**extra, "village_id": v.id, "region_id": v.id, "household_id": world["hh"]["a1"].id,
            "entry_id": entry.id, "group": world["g_a1"].id,
            "user_id": world["users"]["scorer"].id, "evidence_id": photo.id,
            "objection_id": objection.id, "report_id": report.id,
            "token": derive_token(world["hh"]["a1"].qr_nonce), **rewards, **reports}


def _reward_ids(world):
    """A reward of village A and a redemption of it by household a2 (issue 6)."""
    from app.rewards.services import add_reward, redeem, stock_in
    v = world["village_a"]
    post_entry(household=world["hh"]["a2"], item_id=item(v, "红白喜事简办").id,
               deed_date=__import__("datetime").date(2026, 11, 2),
               recorded_by=world["users"]["scorer"])
    reward = add_reward(village=v, name="大米", points_price="1", unit="袋")
    stock_in(reward, quantity=5)
    redemption = redeem(household=world["hh"]["a2"], basket={reward.id: 1}, by_user=None)
    return {"reward_id": reward.id, "redemption_id": redemption.id}


def _report_ids(world):
    """Village A as a pilot of a round covering this year, with its plan, and a city
    spot-check drawn in it (issue 7)."""
    from datetime import date

    from app.reports import services as reports
    from app.scoring.periods import local_today
    year = local_today().year
    rnd = reports.add_round(name="access", starts_on=date(year, 1, 1),
                            ends_on=date(year, 12, 31))
    pilot = reports.register_pilot(world["village_a"], rnd, areas=["1", "4"])
    reports.file_plan(pilot, filename="plan.pdf", content_type="application/pdf",
                      data=b"%PDF-1.4", filed_on=local_today(),
                      by_user=world["users"]["county"])
    check = reports.draw_spot_check(world["village_a"], year, village_count=1, entry_count=1,
                                    by_user=world["users"]["city"], seed="access")
    assessment = reports.submit_assessment(
        pilot, year, work_done="做法", results="成效", problems="问题", next_steps="打算",
        self_score="80", by_user=world["users"]["auditor"], attachment=("附件.pdf", b"%PDF"))
    return {"year": year, "check_id": check.id, "assessment_id": assessment.id}

def _png():
    import io

    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", (4, 4), (255, 0, 0)).save(buf, format="PNG")
    return buf.getvalue()


_PNG = _png()


MATRIX = {
    # endpoint: (kind, url builder taking ids)
    "accounts.login": ("public", lambda i: url_for("accounts.login")),
    "accounts.home": ("home", lambda i: url_for("accounts.home")),
    "accounts.logout": ("logout", lambda i: url_for("accounts.logout")),
    "static": ("public", lambda i: url_for("static", filename="css/app.css")),
    "public.household": ("public", None),
    "regions.show": ("scoped", lambda i: url_for("regions.show", region_id=i["region_id"])),
    "households.index": ("scoped", lambda i: url_for("households.index",
                                                     village_id=i["village_id"])),
    "households.show": ("scoped", lambda i: url_for("households.show",
                                                    household_id=i["household_id"])),
    "households.plates": ("scoped+score", lambda i: url_for("households.plates",
                                                      village_id=i["village_id"],
                                                      group=i["group"])),
    "households.roster_template": ("scoped", lambda i: url_for("households.roster_template",
                                                               village_id=i["village_id"])),
    "households.roster_export": ("scoped", lambda i: url_for("households.roster_export",
                                                             village_id=i["village_id"])),
    "households.roster_import": ("scoped+manage_households",
                                 lambda i: url_for("households.roster_import",
                                                   village_id=i["village_id"])),
    "boards.village": ("scoped", lambda i: url_for("boards.village",
                                                   village_id=i["village_id"])),
    "scoring.score": ("scoped+score", lambda i: url_for("scoring.score",
                                                        household_id=i["household_id"])),
    "scoring.reverse": ("scoped+score", lambda i: url_for("scoring.reverse",
                                                          entry_id=i["entry_id"])),
    # security and operations (issue 9)
    "ops.healthz": ("public", lambda i: url_for("ops.healthz")),
    "households.archive": ("scoped+manage_households",
                           lambda i: url_for("households.archive",
                                             household_id=i["household_id"])),
    "households.reissue_qr": ("post:scoped+manage_households",
                              lambda i: url_for("households.reissue_qr",
                                                household_id=i["household_id"])),
    "users.change_my_password": ("login", lambda i: url_for("users.change_my_password")),
    "users.index": ("perm+manage_users", lambda i: url_for("users.index")),
    "users.new": ("perm+manage_users", lambda i: url_for("users.new")),
    # the object is the account of village A's scorer
    "users.reset_password": ("scoped+manage_users",
                             lambda i: url_for("users.reset_password", user_id=i["user_id"])),
    "users.set_active": ("post:scoped+manage_users",
                         lambda i: url_for("users.set_active", user_id=i["user_id"])),
    # township audit (issue 4): a filter naming a foreign village is a 404 like the object
    "audit.entries": ("scoped+view", lambda i: url_for("audit.entries",
                                                       village=i["village_id"])),
    "audit.entry": ("scoped+view", lambda i: url_for("audit.entry", entry_id=i["entry_id"])),
    "audit.entries_csv": ("scoped+view", lambda i: url_for("audit.entries_csv",
                                                           village=i["village_id"])),
    "audit.entries_xlsx": ("scoped+view", lambda i: url_for("audit.entries_xlsx",
                                                            village=i["village_id"])),
    "audit.log": ("scoped+view", lambda i: url_for("audit.log", region=i["village_id"])),
    # review workflow (issue 4)
    "review.queue": ("scoped+review", lambda i: url_for("review.queue",
                                                        village_id=i["village_id"])),
    "review.approve": ("post:scoped+review", lambda i: url_for("review.approve",
                                                               entry_id=i["entry_id"])),
    "review.decline": ("scoped+review", lambda i: url_for("review.decline",
                                                          entry_id=i["entry_id"])),
    "review.object_entry": ("scoped", lambda i: url_for("review.object_entry",
                                                        entry_id=i["entry_id"])),
    "review.resolve": ("scoped+review", lambda i: url_for("review.resolve",
                                                          objection_id=i["objection_id"])),
    "review.review_report": ("scoped+review", lambda i: url_for("review.review_report",
                                                                report_id=i["report_id"])),
    "review.notice": ("scoped", lambda i: url_for("review.notice",
                                                  village_id=i["village_id"])),
    "review.settings": ("scoped+manage_households",
                        lambda i: url_for("review.settings", village_id=i["village_id"])),
    "evidence.photo": ("scoped", lambda i: url_for("evidence.photo",
                                                   evidence_id=i["evidence_id"])),
    "evidence.thumb": ("scoped", lambda i: url_for("evidence.thumb",
                                                   evidence_id=i["evidence_id"])),
    # roll-ups and the pilot registry (issue 7)
    "reports.rollup": ("scoped+reports", lambda i: url_for("reports.rollup",
                                                           region_id=i["region_id"])),
    "reports.rollup_xlsx": ("scoped+reports", lambda i: url_for("reports.rollup_xlsx",
                                                                region_id=i["region_id"])),
    "reports.pilots": ("scoped+reports", lambda i: url_for("reports.pilots",
                                                           region_id=i["region_id"])),
    "reports.pilots_xlsx": ("scoped+reports", lambda i: url_for("reports.pilots_xlsx",
                                                                region_id=i["region_id"])),
    "reports.pilot": ("scoped+reports", lambda i: url_for("reports.pilot",
                                                          village_id=i["village_id"])),
    "reports.pilot_edit": ("scoped+manage_pilots", lambda i: url_for(
        "reports.pilot_edit", village_id=i["village_id"])),
    "reports.plan_document": ("scoped+reports", lambda i: url_for(
        "reports.plan_document", village_id=i["village_id"])),
    "reports.evaluation": ("scoped+reports", lambda i: url_for(
        "reports.evaluation", village_id=i["village_id"], year=i["year"])),
    "reports.assess": ("scoped+assess", lambda i: url_for(
        "reports.assess", village_id=i["village_id"], year=i["year"])),
    "reports.review": ("scoped+review_county", lambda i: url_for(
        "reports.review", village_id=i["village_id"], year=i["year"])),
    "reports.board": ("scoped+reports", lambda i: url_for("reports.board",
                                                          region_id=i["region_id"])),
    "reports.spot_checks": ("scoped+spot_check", lambda i: url_for(
        "reports.spot_checks", region_id=i["region_id"])),
    "reports.spot_check": ("scoped+spot_check", lambda i: url_for(
        "reports.spot_check", check_id=i["check_id"])),
    "reports.yearly_report": ("scoped+reports", lambda i: url_for(
        "reports.yearly_report", region_id=i["region_id"], year=i["year"])),
    "reports.yearly_report_xlsx": ("scoped+reports", lambda i: url_for(
        "reports.yearly_report_xlsx", region_id=i["region_id"], year=i["year"])),
    "reports.attachment": ("scoped+reports", lambda i: url_for(
        "reports.attachment", assessment_id=i["assessment_id"])),
    # the villager's side, by door-plate token (no login)
    "villager.notice": ("public", lambda i: url_for("villager.notice", token=i["token"])),
    "villager.report": ("public", lambda i: url_for("villager.report", token=i["token"])),
    "villager.rules": ("public", lambda i: url_for("villager.rules", token=i["token"])),
    # points supermarket (issue 6)
    "rewards.catalogue": ("scoped", lambda i: url_for("rewards.catalogue",
                                                      village_id=i["village_id"])),
    "rewards.report": ("scoped", lambda i: url_for("rewards.report",
                                                   village_id=i["village_id"])),
    "rewards.report_xlsx": ("scoped", lambda i: url_for("rewards.report_xlsx",
                                                        village_id=i["village_id"])),
    "rewards.receipt": ("scoped", lambda i: url_for("rewards.receipt",
                                                    redemption_id=i["redemption_id"])),
    "rewards.counter": ("scoped+redeem", lambda i: url_for("rewards.counter",
                                                           village_id=i["village_id"])),
    "rewards.basket": ("scoped+redeem", lambda i: url_for("rewards.basket",
                                                          household_id=i["household_id"])),
    "rewards.new": ("scoped+manage_rewards", lambda i: url_for("rewards.new",
                                                               village_id=i["village_id"])),
    "rewards.edit": ("scoped+manage_rewards", lambda i: url_for("rewards.edit",
                                                                reward_id=i["reward_id"])),
    "rewards.stock": ("scoped+manage_rewards", lambda i: url_for("rewards.stock",
                                                                 reward_id=i["reward_id"])),
    "rewards.cancel": ("scoped+manage_rewards",
                       lambda i: url_for("rewards.cancel", redemption_id=i["redemption_id"])),
    "rewards.settings": ("scoped+manage_rewards",
                         lambda i: url_for("rewards.settings", village_id=i["village_id"])),
    "villager.object_entry": ("public", lambda i: url_for("villager.object_entry",
                                                          token=i["token"],
                                                          entry_id=i["entry_id"])),
    # rulebook pages (issue 3): read, author a draft, adopt, export, import, preview
    "rules.index": ("scoped", lambda i: url_for("rules.index", region_id=i["village_id"])),
    "rules.version": ("scoped", lambda i: url_for("rules.version",
                                                  version_id=_rules(i)["version"])),
    "rules.export_yaml_file": ("scoped", lambda i: url_for("rules.export_yaml_file",
                                                           version_id=_rules(i)["version"])),
    "rules.export_xlsx": ("scoped", lambda i: url_for("rules.export_xlsx",
                                                      version_id=_rules(i)["version"])),
    "rules.preview": ("scoped", lambda i: url_for("rules.preview",
                                                  version_id=_rules(i)["draft"])),
    "rules.new_draft": ("post:scoped+edit_rules",
                        lambda i: url_for("rules.new_draft", region_id=i["village_id"])),
    "rules.import_file": ("scoped+edit_rules",
                          lambda i: url_for("rules.import_file", region_id=i["village_id"])),
    "rules.edit": ("scoped+edit_rules", lambda i: url_for("rules.edit",
                                                          version_id=_rules(i)["draft"])),
    "rules.adopt": ("scoped+edit_rules", lambda i: url_for("rules.adopt",
                                                           version_id=_rules(i)["draft"])),
    "rules.book_rules": ("scoped+edit_rules", lambda i: url_for("rules.book_rules",
                                                                version_id=_rules(i)["draft"])),
    "rules.category_new": ("scoped+edit_rules",
                           lambda i: url_for("rules.category_new",
                                             version_id=_rules(i)["draft"])),
    "rules.category_edit": ("scoped+edit_rules",
                            lambda i: url_for("rules.category_edit",
                                              category_id=_rules(i)["category"])),
    "rules.category_delete": ("post:scoped+edit_rules",
                              lambda i: url_for("rules.category_delete",
                                                category_id=_rules(i)["spare_category"])),
    "rules.item_new": ("scoped+edit_rules", lambda i: url_for(
        "rules.item_new", category_id=_rules(i)["category"])),
    "rules.item_edit": ("scoped+edit_rules", lambda i: url_for(
        "rules.item_edit", item_id=_rules(i)["item"])),
    "rules.item_delete": ("post:scoped+edit_rules", lambda i: url_for(
        "rules.item_delete", item_id=_rules(i)["spare_item"])),
    "rules.delete_draft": ("post:scoped+edit_rules", lambda i: url_for(
        "rules.delete_draft", version_id=_rules(i)["spare_draft"])),
}


def _rules(i):
    """Village A's adopted version and a draft of it, with a category and an item to edit and
    a spare category and item to delete (posted without data by the matrix), made once."""
    if "rules" not in i:
        from datetime import date

        from app.rules import services
        from app.rules.queries import version_in_force
        version = version_in_force(db.session.get(Region, i["village_id"]), date(2026, 11, 1))
        draft = services.new_draft_from(version)
        category = draft.categories[0]
        spare_category = services.add_category(draft, "待删类别")
        spare_item = services.add_item(category, name="待删项", kind="fixed", points=1)
        spare_draft = services.new_draft_from(version)
        db.session.commit()
        i["rules"] = {"version": version.id, "draft": draft.id, "category": category.id,
                      "item": category.items[0].id, "spare_category": spare_category.id,
                      "spare_item": spare_item.id, "spare_draft": spare_draft.id}
    return i["rules"]

def _feature_matrices():
    """Routes of later features live in ``tests/access_<feature>.py``: each defines ``ROUTES``
    (endpoint -> (kind, url builder), as MATRIX) and may define ``ids(world) -> dict`` that
    makes its objects in village A (flushed; the caller commits)."""
    import importlib
    from pathlib import Path
    makers = []
    for path in sorted(Path(__file__).parent.glob("access_*.py")):
        module = importlib.import_module(f"tests.{path.stem}")
        clash = set(module.ROUTES) & set(MATRIX)
        assert not clash, f"{path.name} repeats {clash}"
        MATRIX.update(module.ROUTES)
        if hasattr(module, "ids"):
            makers.append(module.ids)
    return makers


EXTRA_IDS = _feature_matrices()

# Users whose region contains village A (the objects' region); the rest are foreign.
OWN = {"scorer", "vadmin", "auditor", "county", "city", "admin"}
USERS = ["anonymous", "scorer", "vadmin", "auditor", "county", "city", "admin", "scorer_b",
         "vadmin_b", "auditor_b", "county_b"]


def test_every_route_is_in_the_matrix(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    assert endpoints - set(MATRIX) == set(), "add these routes to the access matrix"
    assert set(MATRIX) - endpoints == set()


def _expected(kind, username, role):
    """Kinds added for issue 9: ``login`` (any logged-in user: 200), ``perm+PERM`` (not
    object-scoped: 200 for any role with PERM, else 403), and ``post:`` before a kind for
    POST-only routes (posted without data; a granted request redirects, 302)."""
    if kind == "public":
        return 200
    if kind.removeprefix("post:") == "api":  # bearer tokens only: a cookie is 401 (access_api)
        return 401
    if kind == "home":
        return 302
    if kind == "logout":
        return 302
    if username == "anonymous":
        return 302
    if kind == "login":
        return 200
    if kind.startswith("perm+"):
        return 200 if role_allows(role, kind.split("+")[1]) else 403
    post = kind.startswith("post:")
    kind = kind.removeprefix("post:")
    if "+" in kind and not role_allows(role, kind.split("+")[1]):
        return 403
    if username not in OWN:
        return 404
    return 302 if post else 200


@pytest.mark.parametrize("username", USERS)
def test_access_matrix(app, world, login, username):
    ids = _ids(world)
    client = app.test_client() if username == "anonymous" else login(username)
    role = None if username == "anonymous" else world["users"][username].role
    secret_name = world["hh"]["a1"].head_name
    with app.test_request_context():
        urls = {ep: (b(ids) if b else public_url(world["hh"]["a1"]))
                for ep, (_, b) in MATRIX.items()}
    # reissuing the QR token retires the door-plate links: request it after the others
    order = sorted(MATRIX.items(), key=lambda kv: kv[0] == "households.reissue_qr")
    for endpoint, (kind, _) in order:
        method = "post" if endpoint == "accounts.logout" or kind.startswith("post:") else "get"
        if endpoint == "accounts.logout":
            continue  # checked last: it ends the session
        resp = getattr(client, method)(urls[endpoint])
        want = _expected(kind, username, role)
        assert resp.status_code == want, (endpoint, username, resp.status_code)
        if want == 302 and kind not in ("public", "home", "logout"):
            assert ("/login" in resp.headers["Location"]) == (username == "anonymous"), \
                (endpoint, username, resp.headers["Location"])
        if want in (403, 404):
            assert secret_name not in resp.get_data(as_text=True)
    resp = client.post(urls["accounts.logout"])
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_foreign_writes_are_404_and_change_nothing(app, world, login):
    from sqlalchemy import func, select

    from app.scoring.models import LedgerEntry
    ids = _ids(world)
    before = db.session.scalar(select(func.count(LedgerEntry.id)))
    client = login("scorer_b")
    rid = item(world["village_a"], "红白喜事简办").id
    resp = client.post(f"/households/{ids['household_id']}/score",
                       data={"item_id": rid, "deed_date": "2026-11-02", "quantity": 1})
    assert resp.status_code == 404
    resp = client.post(f"/entries/{ids['entry_id']}/reverse", data={"reason": "x"})
    assert resp.status_code == 404
    auditor = login("auditor")
    resp = auditor.post(f"/households/{ids['household_id']}/score",
                        data={"item_id": rid, "deed_date": "2026-11-02", "quantity": 1})
    assert resp.status_code == 403
    assert db.session.scalar(select(func.count(LedgerEntry.id))) == before


def test_unknown_ids_are_404(app, world, login):
    client = login("admin")
    for url in ["/households/999999", "/regions/999999", "/villages/999999/board",
                "/entries/999999/reverse", "/h/" + "x" * 43, "/h/" + "x" * 43 + "/notice",
                "/h/" + "x" * 43 + "/report", "/objections/999999/resolve",
                "/reports/999999/review", "/evidence/999999.jpg"]:
        assert client.get(url).status_code == 404, url
    # a township is not a village: village pages 404 for it
    assert client.get(f"/villages/{world['town_a'].id}/households").status_code == 404


def test_bad_login_is_refused_with_a_message(app, world):
    client = app.test_client()
    resp = client.post("/login", data={"username": "scorer", "password": "wrong"})
    assert resp.status_code == 200 and "用户名或密码不正确" in resp.get_data(as_text=True)
    resp = client.post("/login?next=https://evil.example/", data={"username": "scorer",
                                                                  "password": "pw-scorer"})
    assert resp.status_code == 302 and "evil" not in resp.headers["Location"]
