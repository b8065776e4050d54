"""The pilot registry and the yearly evaluation (issue 7): content areas, the pilot plan,
self-assessment pre-filled with the roll-up, county review, the city's spot-check reproduced
from its seed, and signed-off records that cannot change (a correction is a new version)."""
import json
from datetime import date

import pytest

from app.extensions import db
from app.reports import services
from app.reports.models import SignedRecordChanged
from app.scoring.services import post_entry
from tests.conftest import item


@pytest.fixture
def pilot(world):
    rnd = services.add_round(name="2025-2026", starts_on=date(2025, 1, 1),
                             ends_on=date(2026, 12, 31))
    p = services.register_pilot(world["village_a"], rnd, areas=["4", "1"])
    for day in (3, 4, 5):
        post_entry(household=world["hh"]["a1"], item_id=item(world["village_a"],
                                                             "参加村组文化活动").id,
                   deed_date=date(2025, 6, day), recorded_by=world["users"]["scorer"])
    db.session.commit()
    return p


def _assess(p, world, **kw):
    args = dict(work_done="开展积分评比", results="参与率提高", problems="台账不全",
                next_steps="完善台账", self_score="88.5", by_user=world["users"]["auditor"])
    args.update(kw)
    return services.submit_assessment(p, 2025, **args)


def test_rounds_and_registry(app, world):
    first = services.first_round()
    assert (first.starts_on, first.ends_on, first.plan_due) == (
        date(2021, 1, 1), date(2022, 12, 31), date(2021, 5, 15))
    assert first.years() == [2021, 2022] and first.due("assessment", 2022) == date(2022, 11, 30)
    with pytest.raises(services.Refusal):
        services.register_pilot(world["village_a"], first, areas=["4"])
    with pytest.raises(services.Refusal):
        services.register_pilot(world["village_a"], first, areas=["1", "2", "3", "4"])
    p = services.register_pilot(world["village_a"], first, areas=["4", "2"])
    assert p.area_codes == ["2", "4"] and world["village_a"].is_pilot
    services.file_plan(p, filename="斗门村试点方案.docx", content_type="application/msword",
                       data=b"PK\x03\x04plan", filed_on=date(2021, 5, 20),
                       by_user=world["users"]["county"])
    assert p.plan_late and p.plan_sha256


def test_assessment_is_prefilled_signed_and_versioned(app, world, pilot):
    first = _assess(pilot, world, attachment=("台账照片.pdf", b"%PDF-1.4 photo"))
    db.session.commit()
    assert first.attachment_sha256 and first.attachment_name == "台账照片.pdf"
    figures = json.loads(first.figures)
    assert figures["households"] == 4 and figures["participating"] == 1
    assert figures["awarded"] == "3.00" and figures["rate"] == "25.0"
    first.self_score = 99                      # a submitted assessment cannot be edited
    with pytest.raises(SignedRecordChanged):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(services.Refusal):      # a second one must say why
        _assess(pilot, world)
    second = _assess(pilot, world, correction_reason="补充成效")
    assert (second.version, second.supersedes_id) == (2, first.id)
    db.session.delete(second)
    with pytest.raises(SignedRecordChanged):
        db.session.flush()
    db.session.rollback()


def test_county_review_return_then_accept(app, world, pilot):
    a1 = _assess(pilot, world)
    county = world["users"]["county"]
    with pytest.raises(services.Refusal):
        services.submit_review(a1, decision="returned", comments=" ", by_user=county)
    back = services.submit_review(a1, decision="returned", comments="成效数据不全",
                                  by_user=county)
    assert back.score is None
    a2 = _assess(pilot, world, correction_reason="按县级意见补充")
    with pytest.raises(services.Refusal):      # the old version is no longer reviewable
        services.submit_review(a1, decision="accepted", score="90", comments="好",
                               by_user=county)
    with pytest.raises(services.Refusal):
        services.submit_review(a2, decision="accepted", score="101", comments="好",
                               by_user=county)
    ok = services.submit_review(a2, decision="accepted", score="90", comments="同意",
                                by_user=county)
    assert str(ok.score) == "90.0"
    with pytest.raises(services.Refusal):      # accepted: the township cannot change it
        _assess(pilot, world, correction_reason="再改")
    db.session.commit()
    rows = services.status_rows(world["city"], 2025)
    assert [(r["county"].name, r["pilots"], r["assessed"], r["accepted"], r["missing"])
            for r in rows] == [("南昌县", 1, 1, 1, 0)]


def test_spot_check_draw_is_reproduced_from_its_seed(app, world, pilot):
    other = services.register_pilot(world["village_b"], pilot.round, areas=["2", "4"])
    for day in (1, 2):
        post_entry(household=world["hh"]["b1"], item_id=item(world["village_b"],
                                                             "参加村组文化活动").id,
                   deed_date=date(2025, 7, day), recorded_by=world["users"]["scorer_b"])
    city = world["users"]["city"]
    check = services.draw_spot_check(world["city"], 2025, village_count=1, entry_count=2,
                                     by_user=city, seed="nanchang-2025")
    db.session.commit()
    assert check.seed == "nanchang-2025" and services.redo_draw(check)
    villages, entries_of = services.candidates(world["city"], 2025)
    assert villages == [world["village_a"].id, world["village_b"].id]
    again = services.draw("nanchang-2025", villages, entries_of, 1, 2)
    assert again[0] == json.loads(check.villages)
    # an independent re-implementation of the documented draw
    import random
    rng = random.Random("nanchang-2025")
    vid = rng.sample(villages, 1)[0]
    assert json.loads(check.entries)[str(vid)] == sorted(rng.sample(entries_of(vid), 2))
    fresh = services.draw_spot_check(world["city"], 2025, village_count=2, entry_count=5,
                                     by_user=city)
    assert len(fresh.seed) == 16 and services.redo_draw(fresh)
    drawn = json.loads(check.entries)
    vid = int(next(iter(drawn)))
    entry_id = drawn[str(vid)][0]
    f1 = services.record_finding(check, village_id=vid, entry_id=entry_id, verdict="problem",
                                 text="无照片佐证", by_user=city)
    services.record_finding(check, village_id=vid, entry_id=None, verdict="ok",
                            text="台账规范", by_user=city)
    with pytest.raises(services.Refusal):
        services.record_finding(check, village_id=vid, entry_id=999999, verdict="ok",
                                text="x", by_user=city)
    fix = services.record_finding(check, village_id=vid, entry_id=entry_id, verdict="ok",
                                  text="已补照片", by_user=city, supersedes=f1,
                                  correction_reason="村里补交了照片")
    assert fix.supersedes_id == f1.id
    # a result already corrected is corrected through its correction, about the same target
    # (a second correction was a 500; a correction could name another entry)
    with pytest.raises(services.Refusal, match=f"第 {f1.id} 条已由第 {fix.id} 条更正"):
        services.record_finding(check, village_id=vid, entry_id=entry_id, verdict="ok",
                                text="再改", by_user=city, supersedes=f1, correction_reason="再查")
    with pytest.raises(services.Refusal, match="更正须选同一个对象"):
        services.record_finding(check, village_id=vid, entry_id=None, verdict="ok",
                                text="村级", by_user=city, supersedes=fix, correction_reason="改")
    again = services.record_finding(check, village_id=vid, entry_id=entry_id, verdict="ok",
                                    text="再改", by_user=city, supersedes=fix,
                                    correction_reason="再查")
    assert again.supersedes_id == fix.id
    db.session.commit()
    f1.text = "改"
    with pytest.raises(SignedRecordChanged):
        db.session.flush()
    db.session.rollback()
    assert other.village.is_pilot


def test_three_steps_through_the_pages(app, world, login, pilot):
    vid = world["village_a"].id
    county = login("county")
    html = county.get(f"/pilots/village/{vid}").get_data(as_text=True)
    assert "推广运用积分制" in html and "2025-2026" in html
    resp = county.post(f"/pilots/village/{vid}/edit", data={
        "round_id": pilot.round_id, "areas": ["1", "4", "6"], "filed_on": "2025-05-10",
        "plan": (__import__("io").BytesIO(b"PK\x03\x04plan text"), "方案.docx")},
        content_type="multipart/form-data")
    assert resp.status_code == 302
    assert county.get(f"/pilots/village/{vid}/plan").data == b"PK\x03\x04plan text"
    township = login("auditor")
    page = township.get(f"/evaluations/{vid}/2025/assess").get_data(as_text=True)
    assert "25.0" in page                                    # pre-filled participation rate
    form = {"work_done": "评比", "results": "成效", "problems": "问题", "next_steps": "打算",
            "self_score": "85"}
    assert township.post(f"/evaluations/{vid}/2025/assess", data=form).status_code == 302
    resp = county.post(f"/evaluations/{vid}/2025/review",
                       data={"decision": "returned", "comments": "请补充数据"})
    assert resp.status_code == 302
    page = township.post(f"/evaluations/{vid}/2025/assess", data=form).get_data(as_text=True)
    assert "请写明修改原因" in page                          # a new version must say why
    form["correction_reason"] = "按退回意见补充"
    assert township.post(f"/evaluations/{vid}/2025/assess", data=form).status_code == 302
    county.post(f"/evaluations/{vid}/2025/review",
                data={"decision": "accepted", "score": "90", "comments": "同意"})
    page = county.get(f"/evaluations/{vid}/2025").get_data(as_text=True)
    assert "县级复核通过" in page and "按退回意见补充" in page and "请补充数据" in page
    board = county.get(f"/evaluations/board/{world['county_a'].id}?year=2025").get_data(
        as_text=True)
    assert "南昌县" in board
    city = login("city")
    for count, message in (("0", "须是 1 到 100 之间的整数"), ("", "请填写抽查村数"),
                           ("1.5", "请填写整数，例如 1、2、3")):   # 0 said "required"
        html = city.post(f"/spot-checks/{world['city'].id}?year=2025",
                         data={"village_count": count, "entry_count": 2}).get_data(as_text=True)
        assert message in html and "该字段是必填字段" not in html, count
    resp = city.post(f"/spot-checks/{world['city'].id}?year=2025",
                     data={"village_count": 1, "entry_count": 2, "seed": "s-2025"})
    assert resp.status_code == 302
    page = city.get(resp.headers["Location"]).get_data(as_text=True)
    assert "s-2025" in page and "结果一致" in page
    from app.reports.models import SpotCheck
    check = db.session.query(SpotCheck).one()
    eid = json.loads(check.entries)[str(vid)][0]
    resp = city.post(f"/spot-checks/check/{check.id}",
                     data={"target": f"e{vid}:{eid}", "verdict": "problem", "text": "缺照片"})
    assert resp.status_code == 302
    assert "缺照片" in city.get(f"/spot-checks/check/{check.id}").get_data(as_text=True)
    # a correction of a result that does not exist is refused at its field, nothing saved
    from app.reports.models import SpotCheckFinding
    html = city.post(f"/spot-checks/check/{check.id}", data={
        "target": f"e{vid}:{eid}", "verdict": "ok", "text": "复查属实", "supersedes": "999",
        "correction_reason": "改"}).get_data(as_text=True)
    assert "本次抽查没有第 999 条结果" in html and "复查属实" in html
    assert db.session.query(SpotCheckFinding).count() == 1
    first = db.session.query(SpotCheckFinding).one()
    assert city.post(f"/spot-checks/check/{check.id}", data={
        "target": f"e{vid}:{eid}", "verdict": "ok", "text": "复查属实",
        "supersedes": str(first.id), "correction_reason": "补了照片"}).status_code == 302
    html = city.post(f"/spot-checks/check/{check.id}", data={
        "target": f"e{vid}:{eid}", "verdict": "ok", "text": "第二次更正",
        "supersedes": str(first.id), "correction_reason": "再查"}).get_data(as_text=True)
    fix = db.session.query(SpotCheckFinding).filter_by(supersedes_id=first.id).one()
    assert f"第 {first.id} 条已由第 {fix.id} 条更正" in html and "第二次更正" in html
    assert db.session.query(SpotCheckFinding).count() == 2
    assert login("county_b").get(f"/evaluations/{vid}/2025").status_code == 404
    assert login("county").post(f"/evaluations/{vid}/2025/assess", data=form).status_code == 403


def test_round_commands(app, world):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reports", "add-round", "2025-2026", "2025-01-01",
                                 "2026-12-31", "--due", "11-15"])
    assert result.exit_code == 0, result.output
    assert "plan due 2025-05-15" in result.output
    result = runner.invoke(args=["reports", "rounds"])
    assert "2021-2022" in result.output and "2025-2026" in result.output
    bad = runner.invoke(args=["reports", "add-round", "x", "2026-01-01", "2025-01-01"])
    assert bad.exit_code != 0


def test_yearly_report_page_and_workbook(app, world, login, pilot):
    a = _assess(pilot, world)
    services.submit_review(a, decision="accepted", score="91", comments="同意上报",
                           by_user=world["users"]["county"])
    city = world["users"]["city"]
    check = services.draw_spot_check(world["city"], 2025, village_count=1, entry_count=1,
                                     by_user=city)
    vid = int(next(iter(json.loads(check.entries))))
    first = services.record_finding(check, village_id=vid, entry_id=None, verdict="problem",
                                    text="台账缺页", by_user=city)
    services.record_finding(check, village_id=vid, entry_id=None, verdict="ok",
                            text="已补齐", by_user=city, supersedes=first,
                            correction_reason="村里补交")
    db.session.commit()
    county = login("county")
    html = county.get(f"/evaluations/report/{world['county_a'].id}?year=2025").get_data(
        as_text=True)
    assert "斗门村委会" in html and "同意上报" in html and "开展积分评比" in html
    assert 'data-action="print"' in html
    resp = county.get(f"/evaluations/report/{world['county_a'].id}/export.xlsx?year=2025")
    from io import BytesIO

    from openpyxl import load_workbook
    wb = load_workbook(BytesIO(resp.data))
    assert wb.sheetnames == ["评估进度", "试点示范村", "积分制汇总", "抽查结果"]
    rows = list(wb["试点示范村"].iter_rows(values_only=True))
    assert any(r and r[0] == "斗门村委会" and r[6] == "通过" and r[7] == 91 for r in rows)
    # the village by name (it was its id), and which result a correction corrects
    found = [r for r in wb["抽查结果"].iter_rows(values_only=True) if r and r[1] == "斗门村委会"]
    assert [(r[3], r[5], r[6]) for r in found] == [("有问题", None, None),
                                                   ("属实", first.id, "村里补交")]
    assert f"更正第 {first.id} 条：村里补交" in html
    assert login("county_b").get(
        f"/evaluations/report/{world['county_a'].id}?year=2025").status_code == 404


def test_attachment_download_is_scoped(app, world, login, pilot):
    a = _assess(pilot, world, attachment=("附件.pdf", b"%PDF-1.4 x"))
    db.session.commit()
    assert login("county").get(f"/evaluations/attachment/{a.id}").data == b"%PDF-1.4 x"
    assert login("county_b").get(f"/evaluations/attachment/{a.id}").status_code == 404
    assert login("scorer").get(f"/evaluations/attachment/{a.id}").status_code == 403


def test_a_plan_filing_date_after_today_is_refused_at_the_field(app, world, login, pilot):
    from datetime import timedelta

    from app.scoring.periods import local_today
    vid = world["village_a"].id
    county = login("county")
    later = (local_today() + timedelta(days=1)).isoformat()
    for plan in (None, (__import__("io").BytesIO(b"PK\x03\x04plan text"), "方案.docx")):
        data = {"round_id": pilot.round_id, "areas": ["1", "4"], "filed_on": later}
        if plan:
            data["plan"] = plan
        resp = county.post(f"/pilots/village/{vid}/edit", data=data,
                           content_type="multipart/form-data")
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200 and "备案日期不能晚于今天" in html
        assert 'is-invalid" id="filed_on"' in html and f'value="{later}"' in html
    db.session.refresh(pilot)
    assert pilot.plan_filed_on is None and pilot.plan_data is None


def test_only_documents_and_pictures_may_be_attached(app, world, pilot):
    """A plan or an attachment must be a PDF, Office/WPS document or a JPG/PNG picture, by
    name and by content: an executable, renamed or not, is refused in Chinese."""
    Refusal = services.Refusal
    for name, data in (("evil.exe", b"MZ\x90\x00"), ("evil.pdf", b"MZ\x90\x00"),
                       ("notes.txt", b"hello")):
        with pytest.raises(Refusal) as err:
            _assess(pilot, world, attachment=(name, data))
        assert "只能上传" in str(err.value)
        with pytest.raises(Refusal):
            services.file_plan(pilot, filename=name, content_type="x", data=data,
                               filed_on=date(2021, 5, 20), by_user=world["users"]["county"])
    db.session.rollback()
    for name, data in (("a.pdf", b"%PDF-1.7"), ("b.jpg", b"\xff\xd8\xff\xe0"),
                       ("c.xlsx", b"PK\x03\x04"), ("d.doc", b"\xd0\xcf\x11\xe0")):
        services.check_document(name, data)


def test_a_refused_file_is_named_at_its_field(app, world, login, pilot):
    import io
    county = login("county")
    vid = world["village_a"].id
    html = county.post(f"/pilots/village/{vid}/edit", data={
        "round_id": str(pilot.round_id), "areas": ["4", "1"], "filed_on": "2025-05-10",
        "plan": (io.BytesIO(b"MZ\x90\x00"), "plan.exe")},
        content_type="multipart/form-data").get_data(as_text=True)
    field = html.split('id="plan"')[1][:600]            # the file input and its messages
    assert "只能上传 PDF" in field and "请重新选择文件" in field


@pytest.mark.parametrize("typed, kept", [("95.5", "95.5"), ("95.50", "95.5"), (" 100 ", "100.0"),
                                         ("0", "0.0")])
def test_a_score_is_kept_as_typed(typed, kept):
    from app.reports.services import _score
    assert str(_score(typed)) == kept


@pytest.mark.parametrize("typed, words", [("NaN", "0 到 100"), ("sNaN", "0 到 100"),
                                          ("Infinity", "0 到 100"), ("-0.1", "0 到 100"),
                                          ("100.1", "0 到 100"), ("九十", "0 到 100"),
                                          ("95.55", "一位小数"), ("88.25", "一位小数")])
def test_a_score_that_is_no_score_or_would_be_rounded_is_refused(typed, words):
    """NaN was a 500 on both sign-off forms, and 95.55 was signed as 95.6 (a fresh user)."""
    from app.reports.services import Refusal, _score
    with pytest.raises(Refusal) as err:
        _score(typed)
    assert words in str(err.value)
