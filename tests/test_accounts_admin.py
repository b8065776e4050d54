"""Account management (issue 9): a system admin manages every account of its region; a village
admin the scorers of its own village; everything else is 404 (or 403 without the right)."""
import re

from sqlalchemy import select

from app.accounts.models import User
from app.extensions import db


def _rows(html):
    return set(re.findall(r'data-testid="user-([^"]+)"', html))


def _new(client, **fields):
    data = {"username": "newscorer", "display_name": "新评分员", "role": "village_scorer",
            "password": "good-pass-1", "confirm": "good-pass-1"}
    data.update(fields)
    return client.post("/users/new", data=data)


def test_village_admin_sees_and_manages_only_its_scorers(app, world, login):
    html = login("vadmin").get("/users").get_data(as_text=True)
    assert _rows(html) == {"scorer"}
    html = login("vadmin_b").get("/users").get_data(as_text=True)
    assert _rows(html) == {"scorer_b"}
    users = world["users"]
    for target in ("vadmin", "auditor", "admin", "scorer_b", "vadmin_b"):
        uid = users[target].id
        assert login("vadmin").get(f"/users/{uid}/password").status_code == 404, target
        assert login("vadmin").post(f"/users/{uid}/active",
                                    data={"active": "0"}).status_code == 404, target
    db.session.expire_all()
    assert all(u.is_active for u in User.query)


def test_system_admin_manages_everyone_but_itself(app, world, login):
    html = login("admin").get("/users").get_data(as_text=True)
    assert _rows(html) == set(world["users"]) - {"admin"}
    assert login("admin").get(f"/users/{world['users']['admin'].id}/password").status_code \
        == 404


def test_roles_without_the_right_get_403(app, world, login):
    for user in ("scorer", "auditor", "county", "city"):
        client = login(user)
        assert client.get("/users").status_code == 403, user
        assert _new(client, region=world["village_a"].id).status_code == 403, user
    assert db.session.scalar(select(User).where(User.username == "newscorer")) is None


def test_village_admin_creates_a_scorer_of_its_own_village(app, world, login):
    client = login("vadmin")
    form = client.get("/users/new").get_data(as_text=True)
    assert "村管理员" not in form.split('name="role"')[1].split("</select>")[0]
    resp = _new(client, region=world["village_a"].id, phone="13912345678")
    assert resp.status_code == 302
    user = db.session.scalar(select(User).where(User.username == "newscorer"))
    assert (user.role, user.region_id, user.phone) == ("village_scorer", world["village_a"].id,
                                                      "13912345678")
    assert app.test_client().post("/login", data={"username": "newscorer",
                                                  "password": "good-pass-1"}).status_code == 302


def test_village_admin_cannot_escalate_or_leave_its_village(app, world, login):
    client = login("vadmin")
    before = User.query.count()
    html = _new(client, role="village_admin", region=world["village_a"].id).get_data(
        as_text=True)
    assert 'id="role"' in html and "is-invalid" in html
    html = _new(client, role="system_admin", region=world["city"].id).get_data(as_text=True)
    assert "is-invalid" in html
    html = _new(client, region=world["village_b"].id).get_data(as_text=True)
    assert "is-invalid" in html
    assert User.query.count() == before


def test_system_admin_creates_any_role_at_its_level(app, world, login):
    client = login("admin")
    resp = _new(client, username="county2", role="county_official",
                region=world["county_b"].id)
    assert resp.status_code == 302
    html = _new(client, username="county3", role="county_official",
                region=world["village_a"].id).get_data(as_text=True)
    assert "县级干部只能设在县（区）一级，请重新选择所属地区" in html
    html = _new(client, username="scorer", region=world["village_a"].id).get_data(as_text=True)
    assert "用户名“scorer”已经有人用了，请换一个" in html
    html = _new(client, username="a b", region=world["village_a"].id).get_data(as_text=True)
    assert "用户名只能用 3 到 32 个英文字母、数字、下划线、点或减号" in html
    html = _new(client, username="abc", region=world["village_a"].id,
                confirm="other-pass-1").get_data(as_text=True)
    assert "两次输入的新密码不一样" in html
    assert db.session.scalar(select(User).where(User.username == "county3")) is None


def test_reset_password_follows_the_rules(app, world, login):
    uid = world["users"]["scorer"].id
    html = login("vadmin").post(f"/users/{uid}/password", data={
        "password": "scorer", "confirm": "scorer"}).get_data(as_text=True)
    assert "密码至少要有 8 位" in html
    html = login("vadmin").post(f"/users/{uid}/password", data={
        "password": "87654321", "confirm": "87654321"}).get_data(as_text=True)
    assert "密码不能全是数字" in html
    assert app.test_client().post("/login", data={"username": "scorer",
                                                  "password": "pw-scorer"}).status_code == 302


def test_nav_links(app, world, login):
    html = login("vadmin").get(f"/regions/{world['village_a'].id}").get_data(as_text=True)
    assert 'href="/users"' in html and 'href="/account/password"' in html
    html = login("county").get(f"/regions/{world['county_a'].id}").get_data(as_text=True)
    assert 'href="/users"' not in html and 'href="/account/password"' in html


def test_changing_or_resetting_a_password_revokes_the_api_tokens(app, world, login):
    from app.api import tokens
    from app.api.models import ApiToken
    scorer = world["users"]["scorer"]
    _row, token = tokens.create_token(scorer, "一组平板")
    _old, _gone = tokens.create_token(scorer, "旧平板")
    tokens.revoke_token(_old)
    db.session.commit()
    api = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/v1/me", headers=auth).status_code == 200
    client = login("scorer")
    resp = client.post("/account/password", data={
        "current": "pw-scorer", "password": "village-2026", "confirm": "village-2026"},
        follow_redirects=True)
    assert "1 个 API 令牌已一并撤销" in resp.get_data(as_text=True)
    assert api.get("/api/v1/me", headers=auth).status_code == 401
    db.session.expire_all()
    assert all(r.revoked_at is not None for r in db.session.query(ApiToken))
    # an administrator's reset revokes them too
    _row, token = tokens.create_token(scorer, "新平板")
    db.session.commit()
    resp = login("vadmin").post(f"/users/{scorer.id}/password", data={
        "password": "village-2027", "confirm": "village-2027"}, follow_redirects=True)
    assert "scorer 的 1 个 API 令牌已一并撤销" in resp.get_data(as_text=True)
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code \
        == 401
