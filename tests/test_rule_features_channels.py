"""RULE-FEATURES row 22, evidence channels: cadre, self-declaration, the person helped, peer
reports and volunteer recorders, each accepted or refused per item by the rulebook, all but
the cadre through the review queue."""
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.accounts.services import create_user
from app.extensions import db
from app.review import channels
from app.review.models import SelfReport
from app.rules import excel
from app.rules.engine import Deed, HouseholdState, ItemRule, Refusal, judge
from app.rules.importer import RulebookFormatError, parse_rulebook
from app.rules.services import import_draft
from app.rules.uses import DEFAULT_CHANNELS, accepted_channels
from app.rules.yaml_export import export_yaml
from app.scoring.checks import verify
from app.scoring.models import LedgerEntry
from app.scoring.periods import local_today
from app.scoring.services import post_entry
from tests.rule_uses_helpers import USES_YAML, item_id, qr, uses_rulebook


def _count(model):
    return db.session.scalar(select(func.count(model.id)))


def _declare(client, url, channel, number, iid, key, description="帮我修好了屋顶"):
    return client.post(f"{url}/declare/{channel}", data={
        "house_number": number, "item_id": iid, "deed_date": local_today().isoformat(),
        "description": description, "idempotency_key": key})


def test_channels_key_defaults_round_trips_and_is_checked(world):
    version = uses_rulebook(world)
    params = {i.code: i.params or {} for c in version.categories for i in c.items}
    assert accepted_channels(params["H1"]) == ("cadre", "self", "beneficiary", "volunteer")
    assert accepted_channels(params["H2"]) == DEFAULT_CHANNELS == ("cadre", "self")
    assert params["B2"]["blocks_redemption_months"] == 12
    again = import_draft(version.rulebook, parse_rulebook(export_yaml(version)))
    from_excel = import_draft(version.rulebook,
                              excel.parse_workbook(excel.export_workbook(version)),
                              params=version.params)
    db.session.commit()
    for copy in (again, from_excel):
        got = {i.code: i.params or {} for c in copy.categories for i in c.items}
        assert got["H1"]["channels"] == ["cadre", "self", "beneficiary", "volunteer"]
        assert got["B1"]["channels"] == ["cadre", "peer", "volunteer"]
        assert "channels" not in got["H2"]
        assert got["B2"]["blocks_redemption_months"] == 12
    bad = USES_YAML.replace("channels: [peer, cadre]", "channels: [peer, 村长]")
    with pytest.raises(RulebookFormatError) as err:
        parse_rulebook(bad)
    assert "channels" in str(err.value) and "村长" in str(err.value)


def test_a_bad_channel_cell_is_named_by_sheet_row_and_column(world):
    from openpyxl import load_workbook
    import io
    version = uses_rulebook(world)
    wb = load_workbook(io.BytesIO(excel.export_workbook(version)))
    ws = wb[excel.SHEET]
    header = [c.value for c in ws[1]]
    ws.cell(row=2, column=header.index("申报渠道") + 1, value="本户申报、邻居")
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(excel.WorkbookError) as err:
        excel.parse_workbook(buf.getvalue())
    assert [(s, r, c) for s, r, c, _m in err.value.errors] == [(excel.SHEET, 2, "申报渠道")]


def test_the_engine_refuses_a_channel_the_item_does_not_accept():
    rule = ItemRule(code="X", name="只能受助人申报", category="c", points=Decimal("2"),
                    channels=("beneficiary",))
    with pytest.raises(Refusal) as err:
        judge(rule, HouseholdState(), Deed())
    assert err.value.code == "channel_refused"
    assert err.value.message == "按积分细则，“只能受助人申报”不接受村干部记录，只接受：受助人申报"
    assert judge(rule, HouseholdState(), Deed(channel="beneficiary")).points == Decimal("2")


def test_a_cadre_cannot_record_an_item_closed_to_cadres(world):
    uses_rulebook(world)
    with pytest.raises(Refusal) as err:
        post_entry(household=world["hh"]["a1"], item_id=item_id(world, "只能受助人申报"),
                   deed_date=local_today(), recorded_by=world["users"]["scorer"])
    assert err.value.code == "channel_refused"
    entry = post_entry(household=world["hh"]["a1"], item_id=item_id(world, "义务劳动"),
                       deed_date=local_today(), recorded_by=world["users"]["scorer"])
    assert entry.points == Decimal("3")


def test_self_report_is_refused_when_the_item_does_not_accept_self(app, world):
    uses_rulebook(world)
    client = app.test_client()
    url = qr(app, world, "a1")
    html = client.post(url + "/report", data={
        "item_id": item_id(world, "拾金不昧"), "deed_date": local_today().isoformat(),
        "description": "捡到钱包", "idempotency_key": "s-1"}).get_data(as_text=True)
    assert "不接受本户申报" in html and _count(SelfReport) == 0
    resp = client.post(url + "/report", data={
        "item_id": item_id(world, "义务劳动"), "deed_date": local_today().isoformat(),
        "description": "清扫村道", "idempotency_key": "s-2"})
    assert resp.status_code == 302
    assert db.session.scalars(select(SelfReport)).one().channel == "self"


def test_the_person_helped_declares_and_review_confirms_with_the_channel(app, world, login):
    uses_rulebook(world)
    client = app.test_client()
    url = qr(app, world, "a2")                     # 王五 (No. 2) was helped by No. 1
    page = client.get(url).get_data(as_text=True)
    assert "我受到了帮助" in page and "/declare/beneficiary" in page
    h1 = item_id(world, "帮助邻里")
    assert _declare(client, url, "beneficiary", "1", h1, "b-1").status_code == 302
    assert _declare(client, url, "beneficiary", "1", h1, "b-1").status_code == 302  # repeat
    report = db.session.scalars(select(SelfReport)).one()
    assert (report.channel, report.household_id, report.declared_by_household_id,
            report.status) == ("beneficiary", world["hh"]["a1"].id, world["hh"]["a2"].id,
                               "pending")
    assert _count(LedgerEntry) == 0
    assert "关于 1 号户" in client.get(url).get_data(as_text=True)
    admin = login("vadmin")
    queue = admin.get(f"/villages/{world['village_a'].id}/review").get_data(as_text=True)
    assert "受助人申报" in queue and "由 2 号 王五 提出" in queue
    assert admin.post(f"/reports/{report.id}/review",
                      data={"action": "accept"}).status_code == 302
    db.session.expire_all()
    entry = report.entry
    assert (entry.household_id, entry.status, entry.points) == (
        world["hh"]["a1"].id, "confirmed", Decimal("10"))
    assert entry.note.startswith(f"受助人申报 #{report.id}（2 号户申报）")
    assert verify() == []


def test_beneficiary_declarations_refused(app, world):
    uses_rulebook(world)
    client = app.test_client()
    url = qr(app, world, "a2")
    cases = [("1", item_id(world, "义务劳动"), "不接受受助人申报"),   # item closed to it
             ("99", item_id(world, "帮助邻里"), "本村没有这一户"),     # no such house
             ("2", item_id(world, "帮助邻里"), "不能为自己家申报")]    # its own house
    for i, (number, iid, words) in enumerate(cases):
        html = _declare(client, url, "beneficiary", number, iid, f"r-{i}").get_data(
            as_text=True)
        assert words in html, words
        assert f'value="{number}"' in html        # what was typed is kept
    assert _count(SelfReport) == 0
    # village B's rulebook (langao) accepts no beneficiary channel: nothing to declare, and a
    # post naming village A's item and a house number of A is refused
    b_url = qr(app, world, "b1")
    html = _declare(client, b_url, "beneficiary", "2", item_id(world, "帮助邻里"),
                    "r-b").get_data(as_text=True)
    assert "没有接受这种申报的项目" in html and _count(SelfReport) == 0
    assert client.get("/h/" + "x" * 43 + "/declare/beneficiary").status_code == 404
    assert client.get(url + "/declare/mayor").status_code == 404
    with pytest.raises(Refusal) as err:
        channels.submit_declaration(world["hh"]["b1"], channel="beneficiary",
                                    item_id=item_id(world, "帮助邻里"), deed_date=local_today(),
                                    description="x", by_household=world["hh"]["a2"])
    assert err.value.code == "not_in_village"
    with pytest.raises(Refusal) as err:
        channels.submit_declaration(world["hh"]["a1"], channel="beneficiary",
                                    item_id=item_id(world, "帮助邻里"),
                                    deed_date=local_today() + timedelta(days=1), description="x",
                                    by_household=world["hh"]["a2"])
    assert err.value.code == "future_date"


def test_a_peer_reports_good_and_bad_deeds_without_being_named(app, world, login):
    uses_rulebook(world)
    client = app.test_client()
    url = qr(app, world, "a3")
    assert "不接受村民反映" in _declare(client, url, "peer", "1", item_id(world, "帮助邻里"),
                                    "p-0").get_data(as_text=True)
    assert _declare(client, url, "peer", "1", item_id(world, "乱扔垃圾"), "p-1",
                    "在河边倒垃圾").status_code == 302
    assert _declare(client, url, "peer", "21", item_id(world, "拾金不昧"), "p-2",
                    "捡到钱包交还").status_code == 302
    bad, good = db.session.scalars(select(SelfReport).order_by(SelfReport.id)).all()
    assert (bad.channel, bad.household_id, bad.declared_by_household_id) == (
        "peer", world["hh"]["a1"].id, world["hh"]["a3"].id)
    # the household reported does not see the report on its page; the reporter does
    assert "在河边倒垃圾" not in client.get(qr(app, world, "a1")).get_data(as_text=True)
    assert "关于 1 号户" in client.get(url).get_data(as_text=True)
    admin = login("vadmin")
    assert admin.post(f"/reports/{bad.id}/review", data={"action": "accept"}).status_code == 302
    assert admin.post(f"/reports/{good.id}/review",
                      data={"action": "accept", "a-points": "8"}).status_code == 302
    db.session.expire_all()
    assert bad.entry.points == Decimal("-2") and bad.entry.note.startswith(f"村民反映 #{bad.id}：")
    assert "号户" not in bad.entry.note           # the reporter is not in the ledger note
    assert good.entry.points == Decimal("8") and good.entry.household_id == world["hh"]["a4"].id
    assert verify() == []


def test_a_volunteer_recorder_submits_but_never_posts(app, world, login):
    uses_rulebook(world)
    create_user(username="vol", password="pw-vol", display_name="志愿者小李",
                role="village_volunteer", region=world["village_a"])
    db.session.commit()
    vol = login("vol")
    v = world["village_a"]
    page = vol.get(f"/villages/{v.id}/declare").get_data(as_text=True)
    assert "志愿记录" in page and "帮助邻里" in page and "义务劳动" not in page
    assert "乱扔垃圾" in page                      # volunteers may record deductions
    before = _count(LedgerEntry)
    resp = vol.post(f"/villages/{v.id}/declare", data={
        "household_id": world["hh"]["a1"].id, "item_id": item_id(world, "乱扔垃圾"),
        "deed_date": local_today().isoformat(), "description": "路口乱扔垃圾",
        "idempotency_key": "v-1"})
    assert resp.status_code == 302
    from app.accounts.models import User
    user = db.session.scalars(select(User).where(User.username == "vol")).one()
    with pytest.raises(Refusal) as err:   # an item closed to volunteers
        channels.submit_declaration(world["hh"]["a1"], channel="volunteer",
                                    item_id=item_id(world, "义务劳动"), deed_date=local_today(),
                                    description="x", by_user=user)
    assert err.value.code == "channel_refused" and "不接受志愿记录员记录" in err.value.message
    db.session.rollback()
    report = db.session.scalars(select(SelfReport)).one()
    assert (report.channel, report.declared_by_user_id, report.status) == (
        "volunteer", user.id, "pending")
    assert _count(LedgerEntry) == before           # nothing posted
    hid = world["hh"]["a1"].id
    assert vol.post(f"/households/{hid}/score", data={
        "item_id": item_id(world, "乱扔垃圾"), "deed_date": local_today().isoformat(),
        "quantity": 1}).status_code == 403
    assert vol.post(f"/reports/{report.id}/review",
                    data={"action": "accept"}).status_code == 403
    assert vol.get(f"/villages/{v.id}/review").status_code == 403
    assert vol.get(f"/villages/{world['village_b'].id}/declare").status_code == 404
    assert _count(LedgerEntry) == before
    with pytest.raises(Refusal) as err:   # a household of another village: not allowed
        channels.submit_declaration(world["hh"]["b1"], channel="volunteer",
                                    item_id=item_id(world, "乱扔垃圾"), deed_date=local_today(),
                                    description="x", by_user=user)
    assert err.value.code == "not_in_village"
    admin = login("vadmin")
    assert "志愿记录员记录" in admin.get(f"/villages/{v.id}/review").get_data(as_text=True)
    assert admin.post(f"/reports/{report.id}/review", data={"action": "accept"}).status_code == 302
    db.session.expire_all()
    assert report.entry.note.startswith(f"志愿记录员记录 #{report.id}（志愿者小李）")
    assert report.entry.recorded_by_id == world["users"]["vadmin"].id
    assert "已采纳" in vol.get(f"/villages/{v.id}/declare").get_data(as_text=True)


def test_editing_an_item_on_the_tablet_form_keeps_its_channels(world, login):
    from app.rules.services import new_draft_from
    version = uses_rulebook(world)
    draft = new_draft_from(version)
    db.session.commit()
    target = next(i for c in draft.categories for i in c.items if i.code == "B2")
    resp = login("vadmin").post(f"/rule-items/{target.id}/edit", data={
        "name": "参与赌博（含网络赌博）", "kind": "fixed", "points": "-5", "cap_period": "year"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:400]
    db.session.expire_all()
    assert target.name == "参与赌博（含网络赌博）"
    assert target.params["blocks_redemption_months"] == 12
    h1 = next(i for c in draft.categories for i in c.items if i.code == "H1")
    resp = login("vadmin").post(f"/rule-items/{h1.id}/edit", data={
        "name": "帮助邻里", "kind": "fixed", "points": "8", "cap_period": "year"})
    db.session.expire_all()
    assert h1.points == Decimal("8")
    assert h1.params["channels"] == ["cadre", "self", "beneficiary", "volunteer"]


def test_the_village_page_links_a_volunteer_to_its_form(world, login):
    create_user(username="vol", password="pw-vol", display_name="志愿者小李",
                role="village_volunteer", region=world["village_a"])
    db.session.commit()
    v = world["village_a"]
    page = login("vol").get(f"/regions/{v.id}").get_data(as_text=True)
    assert f"/villages/{v.id}/declare" in page
    assert f"/villages/{v.id}/declare" not in login("scorer").get(f"/regions/{v.id}").get_data(
        as_text=True)
