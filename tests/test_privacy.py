"""Privacy and QR tokens (issue 9): phone numbers only for the village's own cadres; a
household that moves away is archived with its ledger kept and its public page closed; door
plates can be reissued, and the old plate stops at once."""
import io
from datetime import date

from openpyxl import load_workbook
from sqlalchemy import func, select

from app.extensions import db
from app.households.models import Household, HouseholdStatusChange
from app.households.qr import public_url
from app.scoring.models import LedgerEntry
from app.scoring.services import post_entry
from tests.conftest import item

PHONE = "13800000001"  # household a1's


def _path(app, household):
    with app.test_request_context():
        return public_url(household).replace("http://jf.test", "")


def test_phone_numbers_only_for_the_village_cadres(app, world, login):
    a1 = world["hh"]["a1"]
    for user in ("scorer", "vadmin"):
        assert PHONE in login(user).get(f"/households/{a1.id}").get_data(as_text=True), user
    for user in ("auditor", "county", "city", "admin"):
        resp = login(user).get(f"/households/{a1.id}")
        assert resp.status_code == 200
        html = resp.get_data(as_text=True)
        assert PHONE not in html and "张小三" in html, user


def test_roster_export_leaves_phones_out_for_officials(app, world, login):
    v = world["village_a"]
    url = f"/villages/{v.id}/roster/export.xlsx"

    def sheet(user):
        ws = load_workbook(io.BytesIO(login(user).get(url).data)).worksheets[0]
        return [[c.value for c in row] for row in ws.iter_rows()]

    rows = sheet("vadmin")
    assert rows[0][-1] == "联系电话" and [PHONE] == [r[4] for r in rows if r[0] == "1"]
    for user in ("auditor", "county", "admin"):
        rows = sheet(user)
        assert "联系电话" not in rows[0], user
        assert not any(PHONE in str(c) for r in rows for c in r), user


def test_importing_an_export_without_phones_keeps_the_phones(app, world, login):
    v = world["village_a"]
    data = login("admin").get(f"/villages/{v.id}/roster/export.xlsx").data
    resp = login("admin").post(f"/villages/{v.id}/roster/import",
                               data={"file": (io.BytesIO(data), "r.xlsx")},
                               content_type="multipart/form-data")
    assert "未变 4 户" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert world["hh"]["a1"].phone == PHONE


# --- archiving a household that moved away -------------------------------------------------

def _ledger(household):
    return db.session.execute(
        select(func.count(LedgerEntry.id), func.sum(LedgerEntry.points))
        .where(LedgerEntry.household_id == household.id)).one()


def test_archive_keeps_the_ledger_and_closes_the_public_page(app, world, login):
    a1, v = world["hh"]["a1"], world["village_a"]
    post_entry(household=a1, item_id=item(v, "红白喜事简办").id, deed_date=date(2026, 11, 2),
               recorded_by=world["users"]["scorer"])
    db.session.commit()
    public = _path(app, a1)
    assert app.test_client().get(public).status_code == 200
    before = _ledger(a1)
    admin = login("vadmin")
    resp = admin.post(f"/households/{a1.id}/archive", data={"reason": "全家迁往南昌市区"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert a1.status == "moved"
    change = db.session.execute(select(HouseholdStatusChange)).scalar_one()
    assert (change.from_status, change.to_status, change.reason, change.changed_by.username) \
        == ("active", "moved", "全家迁往南昌市区", "vadmin")
    assert _ledger(a1) == before
    closed = app.test_client().get(public)       # the plate says it is no longer in use
    assert closed.status_code == 410 and "红白喜事简办" not in closed.get_data(as_text=True)
    html = admin.get(f"/households/{a1.id}").get_data(as_text=True)
    assert "已迁出" in html and "全家迁往南昌市区" in html and "红白喜事简办" in html
    assert "<svg" not in html and "/h/" not in html  # no QR code, no link
    search = admin.get(f"/villages/{v.id}/households").get_data(as_text=True)
    assert "张小三" not in search
    # scoring it is refused and the ledger stays as it was
    admin.post(f"/households/{a1.id}/score",
               data={"item_id": item(v, "红白喜事简办").id, "deed_date": "2026-11-03",
                     "quantity": "1"})
    assert _ledger(a1) == before
    # archiving twice changes nothing
    admin.post(f"/households/{a1.id}/archive", data={"reason": "again"})
    assert db.session.scalar(select(func.count(HouseholdStatusChange.id))) == 1


def test_archive_needs_a_reason_and_the_right_to_manage(app, world, login):
    a1 = world["hh"]["a1"]
    html = login("vadmin").post(f"/households/{a1.id}/archive",
                                data={"reason": "  "}).get_data(as_text=True)
    assert '<div class="invalid-feedback d-block fs-6">请填写迁出原因，例如：全家迁往南昌市区</div>' \
        in html
    assert login("scorer").post(f"/households/{a1.id}/archive",
                                data={"reason": "x"}).status_code == 403
    assert login("vadmin_b").post(f"/households/{a1.id}/archive",
                                  data={"reason": "x"}).status_code == 404
    db.session.expire_all()
    assert db.session.get(Household, a1.id).status == "active"


# --- reissuing door plates -----------------------------------------------------------------

def test_reissue_stops_the_old_plate_at_once(app, world, login, caplog):
    a1 = world["hh"]["a1"]
    old = _path(app, a1)
    villager = app.test_client()
    assert villager.get(old).status_code == 200
    resp = login("vadmin").post(f"/households/{a1.id}/qr/reissue", follow_redirects=True)
    assert "已为 1 号重新生成二维码：旧门牌已经失效，请打印新门牌贴上。" in resp.get_data(as_text=True)
    db.session.expire_all()
    new = _path(app, a1)
    assert new != old
    assert villager.get(old).status_code == 404
    assert villager.get(new).status_code == 200
    assert any(getattr(r, "event", None) == "qr_reissued" for r in caplog.records)


def test_only_admins_of_the_village_reissue(app, world, login):
    a1 = world["hh"]["a1"]
    old = _path(app, a1)
    assert login("scorer").post(f"/households/{a1.id}/qr/reissue").status_code == 403
    assert login("county").post(f"/households/{a1.id}/qr/reissue").status_code == 403
    assert login("vadmin_b").post(f"/households/{a1.id}/qr/reissue").status_code == 404
    assert app.test_client().get(old).status_code == 200
    # the button is there for the village admin, not for the scorer
    assert "重新生成二维码" in login("vadmin").get(f"/households/{a1.id}").get_data(as_text=True)
    assert "重新生成二维码" not in login("scorer").get(f"/households/{a1.id}").get_data(
        as_text=True)


def test_an_import_by_someone_who_may_not_see_phones_neither_shows_nor_changes_them(
        app, world, login):
    """The system admin may import rosters but not see phone numbers: a file with phone
    numbers sets them for new households only; existing ones keep theirs, and neither the
    list of changes nor the counts say whether a guessed number was right."""
    from tests.test_roster import xlsx
    v, admin = world["village_a"], login("admin")
    rows = [["1", "第一村民小组", "张小三", "李四、张丽", "13912345678"],   # a wrong guess
            ["2", "第一村民小组", "王五", "", "13800000002"],             # a right guess
            ["901", "第一村民小组", "新户", "", "13700000000"]]           # a new household
    resp = admin.post(f"/villages/{v.id}/roster/import",
                      data={"file": (io.BytesIO(xlsx(rows)), "r.xlsx")},
                      content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert "新建 1 户，更新 0 户，未变 2 户" in html
    assert "13800000001" not in html and 'data-testid="changes"' not in html
    db.session.expire_all()
    phones = {h.house_number: h.phone for h in Household.query.filter_by(village_id=v.id)}
    assert (phones["1"], phones["2"], phones["901"]) == ("13800000001", "13800000002",
                                                         "13700000000")
    # the village admin's import does change them
    resp = login("vadmin").post(f"/villages/{v.id}/roster/import",
                                data={"file": (io.BytesIO(xlsx(rows[:1])), "r.xlsx")},
                                content_type="multipart/form-data")
    assert "13800000001" in resp.get_data(as_text=True)  # shown in the changes to confirm


def test_door_plate_links_are_for_cadres_who_score_only(app, world, login):
    """A door-plate link acts for its household (objections, reports in its name): the
    household page and the plate sheets show it to scoring cadres, not to volunteers or
    township officials."""
    from app.accounts.models import User
    v, a1 = world["village_a"], world["hh"]["a1"]
    volunteer = User(username="vol", display_name="志愿者", role="village_volunteer",
                     region_id=v.id)
    volunteer.set_password("pw-vol")
    db.session.add(volunteer)
    db.session.commit()
    with app.test_request_context():
        link = public_url(a1)
    token = link.rsplit("/h/", 1)[1]
    assert token in login("scorer").get(f"/households/{a1.id}").get_data(as_text=True)
    for who in ("vol", "auditor"):
        page = login(who).get(f"/households/{a1.id}")
        assert page.status_code == 200 and token not in page.get_data(as_text=True), who
        assert login(who).get(f"/villages/{v.id}/plates").status_code == 403, who
