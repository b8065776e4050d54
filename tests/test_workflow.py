"""Issue 4 workflow: review by a second person, public notice, objections, self-reports,
evidence photos, and a state machine that keeps every invariant."""
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from PIL import Image
from sqlalchemy import func, select

from app.extensions import db
from app.households.qr import public_url
from app.review import services as review
from app.review.models import Objection
from app.rules.engine import Refusal
from app.scoring.checks import verify
from app.scoring.models import LedgerEntry, VillageSettings
from app.scoring.periods import local_today
from app.scoring.services import post_entry, reverse_entry, spend
from tests.conftest import item


def _notice(world, days=3, review_above=None):
    s = db.session.get(VillageSettings, world["village_a"].id)
    s.notice_days, s.review_above = days, review_above
    db.session.commit()


def _post(world, hh="a1", name="红白喜事简办", user="scorer", **kw):
    return post_entry(household=world["hh"][hh], item_id=item(world["village_a"], name).id,
                      deed_date=kw.pop("deed_date", local_today()),
                      recorded_by=world["users"][user], **kw)


def _bal(world, hh):
    b = world["hh"][hh].balance
    db.session.refresh(b)
    return b.earned_score, b.spendable_balance, b.pending_points


def _qr(app, world, hh="a1"):
    with app.test_request_context():
        return public_url(world["hh"][hh]).replace("http://jf.test", "")


def test_notice_period_then_confirmation(world):
    _notice(world, days=3)
    e = _post(world)
    db.session.commit()
    assert e.status == "under_notice" and e.notice_until == local_today() + timedelta(days=3)
    assert _bal(world, "a1") == (0, 0, 5)
    assert review.confirm_due(world["village_a"].id, local_today() + timedelta(days=2)) == 0
    assert review.confirm_due(world["village_a"].id, local_today() + timedelta(days=3)) == 1
    db.session.commit()
    assert e.status == "confirmed" and _bal(world, "a1") == (5, 5, 0)
    assert [t.to_status for t in e.transitions] == ["under_notice", "confirmed"]
    assert verify() == []


def test_second_person_review(world):
    _notice(world, days=0, review_above=Decimal("8"))
    big = _post(world, name="拾金不昧", points="9")         # above review_above
    small = _post(world, name="拾金不昧", hh="a2", points="6")
    assert (big.status, small.status) == ("awaiting_review", "confirmed")
    world["users"]["vadmin"].household_id = world["hh"]["a1"].id
    with pytest.raises(Refusal) as err:
        review.approve(big, by_user=world["users"]["scorer"])
    assert err.value.code == "same_person"
    with pytest.raises(Refusal) as err:
        review.approve(big, by_user=world["users"]["vadmin"])
    assert err.value.code == "own_family"
    review.approve(big, by_user=world["users"]["admin"])
    assert big.status == "confirmed" and _bal(world, "a1")[0] == Decimal("9")
    declined = _post(world, name="拾金不昧", hh="a3", points="10")
    review.decline(declined, by_user=world["users"]["admin"], reason="无证明")
    db.session.commit()
    assert declined.status == "declined" and _bal(world, "a3") == (0, 0, 0)
    assert verify() == []


def test_nobody_scores_their_own_family(world):
    _notice(world, days=0)
    world["users"]["scorer"].household_id = world["hh"]["a2"].id
    assert _post(world, hh="a2").status == "awaiting_review"
    assert _post(world, hh="a1").status == "confirmed"


def test_board_and_spending_see_confirmed_points_only(app, world, login):
    _notice(world, days=3)
    _post(world)
    db.session.commit()
    with pytest.raises(Refusal):
        spend(household=world["hh"]["a1"], points="1", recorded_by=None, reason="x")
    from app.boards.queries import village_board
    from app.scoring.periods import month_period
    assert village_board(world["village_a"].id, month_period(local_today())).red == []


def test_this_months_notice_shows_every_entry_still_open_to_objection(app, world, login):
    """An entry of last month recorded today is under notice now: the notice of last month
    was printed already and this month's left it out (a fresh user found it missing from
    both the cadre's and the door plate's notice)."""
    today = local_today()
    last_month = today.replace(day=1) - timedelta(days=3)
    old = _post(world, hh="a3", name="乱堆乱放", deed_date=last_month - timedelta(days=40))
    assert old.status == "confirmed"         # no notice period yet: not on this month's
    _notice(world, days=5)
    late = _post(world, hh="a2", name="乱堆乱放", deed_date=last_month)
    db.session.commit()
    page = login("vadmin").get(f"/villages/{world['village_a'].id}/notice").get_data(
        as_text=True)
    assert "王五" in page and str(last_month) in page and "欧阳小明" not in page
    plate = app.test_client().get(_qr(app, world, "a1") + "/notice").get_data(as_text=True)
    assert "王*" in plate and f"/object/{late.id}" in plate
    # last month's own notice still shows it, as before
    prev = login("vadmin").get(f"/villages/{world['village_a'].id}/notice?month="
                               f"{last_month:%Y-%m}").get_data(as_text=True)
    assert "王五" in prev


def test_villager_objects_from_qr_page_and_sees_the_outcome(app, world, login):
    _notice(world, days=3)
    e = _post(world, hh="a2", name="乱堆乱放")
    db.session.commit()
    client = app.test_client()
    url = _qr(app, world, "a1")
    html = client.get(url + "/notice").get_data(as_text=True)
    assert "王*" in html and "王五" not in html and "乱堆乱放" in html
    resp = client.post(f"{url}/object/{e.id}", data={"text": "那天他家门口是干净的",
                                                      "idempotency_key": "obj-1"})
    assert resp.status_code == 302
    client.post(f"{url}/object/{e.id}", data={"text": "重复提交", "idempotency_key": "obj-1"})
    objections = db.session.scalars(select(Objection)).all()
    assert len(objections) == 1 and e.status == "held"
    assert _bal(world, "a2") == (0, 0, Decimal("-2"))
    admin = login("vadmin")
    resp = admin.post(f"/objections/{objections[0].id}/resolve",
                      data={"outcome": "reversed", "reason": "核实后确实干净"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(LedgerEntry, e.id).status == "cancelled"
    assert _bal(world, "a2") == (0, 0, 0)
    page = client.get(url).get_data(as_text=True)
    assert "核实后确实干净" in page and "撤销原记录" in page
    assert verify() == []


def test_objection_outcomes_uphold_and_adjust(world):
    _notice(world, days=3)
    a = _post(world, hh="a1", name="拾金不昧", points="10")
    b = _post(world, hh="a2", name="拾金不昧", points="10")
    oa = review.raise_objection(a, text="分太高", by_user=world["users"]["auditor"])
    ob = review.raise_objection(b, text="分太高", by_household=world["hh"]["a3"])
    admin = world["users"]["vadmin"]
    with pytest.raises(Refusal):
        review.resolve_objection(oa, outcome="adjusted", reason="x", by_user=admin,
                                 adjusted_points="12")
    for same in ("10", "10.00", None):   # an "adjustment" to the same points, or to nothing
        with pytest.raises(Refusal):
            review.resolve_objection(oa, outcome="adjusted", reason="x", by_user=admin,
                                     adjusted_points=same)
    review.resolve_objection(oa, outcome="adjusted", reason="按 6 分记", by_user=admin,
                             adjusted_points="6")
    review.resolve_objection(ob, outcome="entry_upheld", reason="属实", by_user=admin)
    db.session.commit()
    assert a.status == "cancelled" and _bal(world, "a1") == (6, 6, 0)
    assert b.status == "under_notice" and _bal(world, "a2") == (0, 0, 10)
    with pytest.raises(Refusal) as err:
        review.resolve_objection(ob, outcome="reversed", reason="再处理", by_user=admin)
    assert err.value.code == "objection_closed"
    assert verify() == []


def test_objection_only_during_notice_and_in_own_village(world):
    _notice(world, days=0)
    e = _post(world)
    with pytest.raises(Refusal) as err:
        review.raise_objection(e, text="晚了", by_household=world["hh"]["a2"])
    assert err.value.code == "not_under_notice"
    _notice(world, days=3)
    e2 = _post(world)
    with pytest.raises(Refusal) as err:
        review.raise_objection(e2, text="外村", by_household=world["hh"]["b1"])
    assert err.value.code == "not_in_village"


def _jpeg_with_gps():
    img = Image.new("RGB", (800, 600), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"             # Make
    exif[0x8825] = {1: "N", 2: (28.0, 40.0, 0.0)}   # GPS IFD
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif)
    data = buf.getvalue()
    assert b"PhoneMaker" in data
    return data


def test_self_report_with_photo_accept_and_decline(app, world, login):
    _notice(world, days=3)
    client = app.test_client()
    url = _qr(app, world, "a1")
    item_id = item(world["village_a"], "帮助困难居民").id
    resp = client.post(url + "/report", data={
        "item_id": item_id, "deed_date": local_today().isoformat(), "description": "送邻居去医院",
        "photo": (io.BytesIO(_jpeg_with_gps()), "p.jpg"), "idempotency_key": "sr-1"},
        content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    from app.evidence.services import file_path
    from app.review.models import SelfReport
    report = db.session.scalars(select(SelfReport)).one()
    stored = open(file_path(report.evidence), "rb").read()
    assert b"PhoneMaker" not in stored and Image.open(io.BytesIO(stored)).getexif() == {}
    assert open(file_path(report.evidence, thumb=True), "rb").read()[:2] == b"\xff\xd8"
    html = client.post(url + "/report", data={
        "item_id": item_id, "deed_date": local_today().isoformat(), "description": "x",
        "photo": (io.BytesIO(b"not an image"), "p.jpg")},
        content_type="multipart/form-data").get_data(as_text=True)
    assert "上传的文件不是有效的照片" in html
    admin = login("vadmin")
    assert "送邻居去医院" in admin.get(f"/villages/{world['village_a'].id}/review").get_data(
        as_text=True)
    resp = admin.post(f"/reports/{report.id}/review", data={"action": "accept"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert report.status == "accepted" and report.entry.status == "under_notice"
    assert report.entry.evidence_id == report.evidence_id
    assert "已采纳" in client.get(url).get_data(as_text=True)
    assert verify() == []


def test_cadre_pages_of_the_workflow(app, world, login):
    _notice(world, days=3)
    e = _post(world, name="拾金不昧", points="9", review=True)
    db.session.commit()
    admin = login("vadmin")
    page = admin.get(f"/villages/{world['village_a'].id}/review").get_data(as_text=True)
    assert "拾金不昧" in page
    assert admin.post(f"/entries/{e.id}/approve").status_code == 302
    db.session.expire_all()
    assert db.session.get(LedgerEntry, e.id).status == "under_notice"
    from app.audit.models import AuditLog
    log = db.session.scalars(select(AuditLog).where(AuditLog.action == "entry.approve")).one()
    assert (log.actor_id, log.target_id, log.after) == (world["users"]["vadmin"].id, e.id,
                                                        {"status": "under_notice"})
    notice = admin.get(f"/villages/{world['village_a'].id}/notice").get_data(as_text=True)
    assert "拾金不昧" in notice and "张小三" in notice
    resp = login("auditor").post(f"/entries/{e.id}/object", data={"text": "请核实"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(LedgerEntry, e.id).status == "held"


class LedgerMachine(RuleBasedStateMachine):
    """Random postings, reversals, objections, resolutions, approvals, notice ends and spends;
    after every step the ledger verifies and no balance is negative through a spend."""

    world = None

    def __init__(self):
        super().__init__()
        self.entries = []
        self.day = local_today()

    def _try(self, fn):
        try:
            fn()
            db.session.commit()
        except Refusal:
            db.session.rollback()

    @rule(hh=st.sampled_from(["a1", "a2"]), name=st.sampled_from(
        ["红白喜事简办", "乱堆乱放", "义务巡逻", "拾金不昧"]), pts=st.sampled_from(["5", "9"]))
    def post(self, hh, name, pts):
        def go():
            self.entries.append(_post(self.world, hh=hh, name=name,
                                      points=pts if name == "拾金不昧" else None))
        self._try(go)

    @rule(i=st.integers(0, 30))
    def reverse(self, i):
        if self.entries:
            e = self.entries[i % len(self.entries)]
            self._try(lambda: reverse_entry(e, reason="改错",
                                            recorded_by=self.world["users"]["scorer"]))

    @rule(i=st.integers(0, 30))
    def object(self, i):
        if self.entries:
            e = self.entries[i % len(self.entries)]
            self._try(lambda: review.raise_objection(e, text="不对",
                                                     by_household=self.world["hh"]["a3"]))

    @rule(outcome=st.sampled_from(["entry_upheld", "reversed", "adjusted"]))
    def resolve(self, outcome):
        o = db.session.scalars(select(Objection).where(Objection.status == "open")).first()
        if o is not None:
            pts = "1" if o.entry.points > 0 else "-1"
            self._try(lambda: review.resolve_objection(
                o, outcome=outcome, reason="处理", by_user=self.world["users"]["vadmin"],
                adjusted_points=pts))

    @rule()
    def approve(self):
        e = db.session.scalars(select(LedgerEntry).where(
            LedgerEntry.status == "awaiting_review")).first()
        if e is not None:
            self._try(lambda: review.approve(e, by_user=self.world["users"]["admin"]))

    @rule()
    def next_day(self):
        self.day += timedelta(days=1)
        review.confirm_due(self.world["village_a"].id, self.day)
        db.session.commit()

    @rule(hh=st.sampled_from(["a1", "a2"]), pts=st.sampled_from(["0.5", "3", "20"]))
    def redeem(self, hh, pts):
        self._try(lambda: spend(household=self.world["hh"][hh], points=pts, recorded_by=None,
                                reason="兑换"))

    @invariant()
    def ledger_verifies(self):
        assert verify() == []
        assert spends_were_covered(self.world["village_a"].id)


def spends_were_covered(village_id) -> bool:
    """Replay the chain: when each spend was confirmed, the spendable balance covered it.
    (A later reversal of a spent award may still take the balance below zero.)"""
    from app.scoring.chain import chain_rows
    from app.scoring.models import EntryTransition
    spendable = {}
    for row in chain_rows(village_id):
        if not isinstance(row, EntryTransition):
            continue
        entry = row.entry
        before = spendable.get(entry.household_id, Decimal(0))
        if entry.kind == "spend" and row.from_status is None and before < -entry.points:
            return False
        delta = Decimal(0)
        if row.to_status == "confirmed":
            delta += entry.points
        if row.from_status == "confirmed":
            delta -= entry.points
        spendable[entry.household_id] = before + delta
    return True


def test_state_machine_keeps_every_invariant(world):
    from tests.test_ledger import reset_ledger
    _notice(world, days=2, review_above=Decimal("8"))
    LedgerMachine.world = world
    LedgerMachine.TestCase.settings = settings(
        max_examples=12, stateful_step_count=25, deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture])
    original_init = LedgerMachine.__init__

    def init(self):
        db.session.execute(Objection.__table__.delete())
        reset_ledger()
        original_init(self)
    LedgerMachine.__init__ = init
    try:
        LedgerMachine.TestCase().runTest()
    finally:
        LedgerMachine.__init__ = original_init


def test_scorer_attaches_a_photo_to_an_entry(app, world, login):
    client = login("scorer")
    resp = client.post(f"/households/{world['hh']['a1'].id}/score", data={
        "item_id": item(world["village_a"], "乱堆乱放").id, "deed_date": local_today().isoformat(),
        "quantity": 1, "photo": (io.BytesIO(_jpeg_with_gps()), "p.jpg")},
        content_type="multipart/form-data")
    assert resp.status_code == 302
    entry = db.session.scalars(select(LedgerEntry)).one()
    assert entry.evidence is not None and entry.evidence.width == 800
    page = client.get(f"/households/{world['hh']['a1'].id}").get_data(as_text=True)
    assert f"/evidence/{entry.evidence_id}.jpg" in page
    photo = client.get(f"/evidence/{entry.evidence_id}.jpg")
    assert photo.status_code == 200 and photo.data[:2] == b"\xff\xd8"
    assert login("scorer_b").get(f"/evidence/{entry.evidence_id}.jpg").status_code == 404
    assert app.test_client().get(f"/evidence/{entry.evidence_id}.jpg").status_code == 302
    html = client.post(f"/households/{world['hh']['a1'].id}/score", data={
        "item_id": item(world["village_a"], "乱堆乱放").id, "deed_date": local_today().isoformat(),
        "quantity": 1, "photo": (io.BytesIO(b"GIF89a not really"), "p.gif")},
        content_type="multipart/form-data").get_data(as_text=True)
    assert "上传的文件不是有效的照片" in html
    assert db.session.scalar(select(func.count(LedgerEntry.id))) == 1


def test_the_score_form_lists_what_the_household_already_has_for_that_day(app, world, login):
    """Scoring the same item twice by mistake: the form says what is recorded for the day
    (a fresh user found no hint), and a reversed entry is not listed."""
    h, scorer = world["hh"]["a1"], world["users"]["scorer"]
    today = local_today()
    litter = item(world["village_a"], "乱堆乱放")
    post_entry(household=h, item_id=litter.id, deed_date=today, recorded_by=scorer)
    wrong = post_entry(household=h, item_id=item(world["village_a"], "参加村组文化活动").id,
                       deed_date=today, recorded_by=scorer)
    reverse_entry(wrong, reason="记错了户", recorded_by=scorer)
    post_entry(household=world["hh"]["a2"], item_id=litter.id, deed_date=today,
               recorded_by=scorer)                                   # another household
    db.session.commit()
    client = login("scorer")
    page = client.get(f"/households/{h.id}/score").get_data(as_text=True)
    assert f"本户 {today} 已记 1 条" in page and page.count("当天已记") == 1
    assert "参加村组文化活动</li>" not in page.split('data-testid="already-scored"')[1][:600]
    # another day: nothing recorded, no hint
    day = (today - timedelta(days=3)).isoformat()
    page = client.post(f"/households/{h.id}/score", data={"deed_date": day}).get_data(
        as_text=True)
    assert "already-scored" not in page and "当天已记" not in page


def test_village_settings_page_sets_notice_and_review_threshold(app, world, login):
    admin = login("vadmin")
    url = f"/villages/{world['village_a'].id}/settings"
    html = admin.post(url, data={"notice_days": "31", "review_above": ""}).get_data(
        as_text=True)
    assert "公示天数须在 0 到 30 之间" in html
    html = admin.post(url, data={"notice_days": "5", "review_above": "abc"}).get_data(
        as_text=True)
    assert "分值必须是数字" in html and 'value="abc"' in html
    assert admin.post(url, data={"notice_days": "5", "review_above": "8"}).status_code == 302
    s = db.session.get(VillageSettings, world["village_a"].id)
    db.session.refresh(s)
    assert (s.notice_days, s.review_above) == (5, Decimal("8"))
    e = _post(world, name="拾金不昧", points="9")
    assert e.status == "awaiting_review"
    assert login("scorer").get(url).status_code == 403
    assert login("vadmin_b").get(url).status_code == 404
