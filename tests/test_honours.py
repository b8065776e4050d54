"""Honours (issue 5 item 4): nomination by a cadre and by a villager through the QR page,
public notice, award with the decision record, decline, objections; honours on the household
page and the QR page; the A4 poster; foreign regions are 404s."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.audit.models import AuditLog
from app.extensions import db
from app.honours import services
from app.honours.models import Honour
from app.households.qr import derive_token
from app.rules.engine import Refusal
from app.scoring.periods import local_today


def _token(h):
    return derive_token(h.qr_nonce)


def _actions():
    return [a.action for a in db.session.execute(
        select(AuditLog).order_by(AuditLog.id)).scalars()]


def test_cadre_nominates_notice_then_award_shows_on_household_and_qr_page(world, login):
    year = local_today().year
    scorer, vadmin = login("scorer"), login("vadmin")
    v, h = world["village_a"], world["hh"]["a2"]
    for bad in (-5, 0, year - 2, year + 1):   # refused at the 年度 field, the rest kept
        html = scorer.post(f"/villages/{v.id}/honours/nominate",
                           data={"house_number": "2", "title": "最美孝子", "year": bad,
                                 "reason": "照顾瘫痪老母亲十年", "idempotency_key": "k0"}
                           ).get_data(as_text=True)
        year_box = re.search(r'<input[^>]*id="year"[^>]*>', html).group(0)
        assert "is-invalid" in year_box, bad
        assert '<div class="invalid-feedback d-block fs-6">只能提名今年或去年的称号</div>' in html
        assert "照顾瘫痪老母亲十年" in html
    resp = scorer.post(f"/villages/{v.id}/honours/nominate",
                       data={"house_number": "2", "title": "最美孝子", "year": year,
                             "reason": "照顾瘫痪老母亲十年", "idempotency_key": "k1"})
    assert resp.status_code == 302
    honour = db.session.execute(select(Honour)).scalar_one()
    assert (honour.household_id, honour.status, honour.nominated_by_id) == (
        h.id, "nominated", world["users"]["scorer"].id)
    # a scorer may nominate but not award
    assert scorer.post(f"/honours/{honour.id}/notice", data={"days": 0}).status_code == 403
    # award before notice is refused
    vadmin.post(f"/honours/{honour.id}/award",
                data={"decision_date": local_today().isoformat(), "note": "会议"})
    db.session.refresh(honour)
    assert honour.status == "nominated"
    vadmin.post(f"/honours/{honour.id}/notice", data={"days": 0})
    db.session.refresh(honour)
    assert honour.status == "under_notice" and honour.notice_from == local_today()
    resp = vadmin.post(f"/honours/{honour.id}/award", data={
        "decision_date": local_today().isoformat(),
        "note": "村民代表会议，到会 30 人，赞成 29 人"}, follow_redirects=True)
    db.session.refresh(honour)
    assert honour.status == "awarded" and honour.decision_note.startswith("村民代表会议")
    assert "村民代表会议，到会 30 人" in resp.get_data(as_text=True)
    assert _actions()[-3:] == ["honour.nominate", "honour.notice", "honour.award"]
    page = scorer.get(f"/households/{h.id}").get_data(as_text=True)
    assert f"{year} 年度“最美孝子”" in page
    qr = login("scorer").get(f"/h/{_token(h)}").get_data(as_text=True)
    assert f"{year} 年度“最美孝子”" in qr
    other = scorer.get(f"/households/{world['hh']['a1'].id}").get_data(as_text=True)
    assert "最美孝子" not in other
    # the poster: village, year, titles, households, the notice period, the date
    poster = scorer.get(f"/villages/{v.id}/honours/poster?year={year}").get_data(as_text=True)
    assert "斗门村委会" in poster and f"{year} 年度荣誉榜" in poster
    assert "2 号 王五" in poster and "公示期" not in poster     # awarded without a notice
    other = services.nominate(world["hh"]["a3"], title="好人榜", year=year, reason="救人",
                              by_user=world["users"]["scorer"])
    services.start_notice(other, days=5)
    db.session.commit()
    poster = scorer.get(f"/villages/{v.id}/honours/poster?year={year}").get_data(as_text=True)
    today = local_today()
    assert f"公示期：{today} 至 {today + timedelta(days=4)}" in poster
    assert "3 号 欧阳小明" in poster and "公示中" in poster
    assert f"{today.year}年{today.month}月{today.day}日" in poster
    a3 = scorer.get(f"/villages/{v.id}/honours/poster?year={year}&size=a3")
    assert a3.status_code == 200 and "honours-a3.css" in a3.get_data(as_text=True)
    assert "honours-a3.css" not in poster
    assert scorer.get(f"/villages/{v.id}/honours/poster?size=a5").status_code == 404


def test_award_waits_for_the_notice_period(world):
    vadmin = world["users"]["vadmin"]
    honour = services.nominate(world["hh"]["a1"], title="好人榜", year=local_today().year,
                               reason="拾金不昧", by_user=world["users"]["scorer"])
    services.start_notice(honour, days=5)
    assert honour.notice_until == local_today() + timedelta(days=5)
    with pytest.raises(Refusal) as err:
        services.award(honour, by_user=vadmin, decision_date=local_today(), note="会议")
    assert err.value.code == "notice_running"
    # a notice that began five days ago has ended today
    services_start = local_today() - timedelta(days=5)
    honour.notice_from, honour.notice_until = services_start, local_today()
    with pytest.raises(Refusal) as err:
        services.award(honour, by_user=vadmin, decision_date=local_today(), note=" ")
    assert err.value.code == "note_required"
    services.award(honour, by_user=vadmin, decision_date=local_today(), note="会议决定")
    assert honour.status == "awarded"
    with pytest.raises(Refusal):
        services.decline(honour, by_user=vadmin, reason="晚了")


def test_decline_with_reason_is_logged_and_not_shown(world, login):
    vadmin = login("vadmin")
    h = world["hh"]["a3"]
    honour = services.nominate(h, title="好媳妇", year=local_today().year, reason="孝敬公婆",
                               by_user=world["users"]["scorer"])
    db.session.commit()
    resp = vadmin.post(f"/honours/{honour.id}/decline", data={"reason": ""},
                       follow_redirects=True)
    assert "请填写不授予的原因" in resp.get_data(as_text=True)
    db.session.refresh(honour)
    assert honour.status == "nominated"
    vadmin.post(f"/honours/{honour.id}/decline", data={"reason": "事迹核实不符"})
    db.session.refresh(honour)
    assert (honour.status, honour.decline_reason) == ("declined", "事迹核实不符")
    assert _actions()[-1] == "honour.decline"
    assert "好媳妇" not in vadmin.get(f"/households/{h.id}").get_data(as_text=True)
    assert "好媳妇" not in login("scorer").get(f"/h/{_token(h)}").get_data(as_text=True)
    # declined: the household may be nominated again
    again = services.nominate(h, title="好媳妇", year=local_today().year, reason="再次推荐",
                              by_user=world["users"]["scorer"])
    assert again.id != honour.id


def test_villager_nominates_through_the_qr_page_once_per_key(world, app):
    client = app.test_client()
    a1, a4 = world["hh"]["a1"], world["hh"]["a4"]
    token = _token(a4)
    page = client.get(f"/h/{token}/honours/nominate")
    assert page.status_code == 200 and "最美村户" in page.get_data(as_text=True)
    assert page.headers["Referrer-Policy"] == "no-referrer"
    data = {"house_number": "1", "title": "最美村户", "reason": "常年义务打扫村道",
            "idempotency_key": "villager-key-1"}
    assert client.post(f"/h/{token}/honours/nominate", data=data).status_code == 302
    assert client.post(f"/h/{token}/honours/nominate", data=data).status_code == 302
    honours = db.session.execute(select(Honour)).scalars().all()
    assert len(honours) == 1
    assert (honours[0].household_id, honours[0].nominated_by_household_id,
            honours[0].nominated_by_id) == (a1.id, a4.id, None)
    # an unknown house number keeps what was typed and says why
    resp = client.post(f"/h/{token}/honours/nominate",
                       data={**data, "house_number": "999", "idempotency_key": "k2"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "本村没有这个门牌号" in body and "常年义务打扫村道" in body
    # a foreign village's house number is not found either (b1 is house 1 of village B)
    assert len(db.session.execute(select(Honour)).scalars().all()) == 1
    # bad tokens are 404s on every honours QR route
    for url in ("/h/not-a-real-token-at-all-xx/honours/nominate",
                "/h/not-a-real-token-at-all-xx/honours",
                f"/h/not-a-real-token-at-all-xx/honours/{honours[0].id}/object"):
        assert client.get(url).status_code == 404
    assert client.post("/h/not-a-real-token-at-all-xx/honours/nominate",
                       data=data).status_code == 404


def test_villager_objection_during_notice_is_visible_to_the_admin(world, app, login):
    client = app.test_client()
    honour = services.nominate(world["hh"]["a1"], title="好人榜", year=local_today().year,
                               reason="拾金不昧", by_user=world["users"]["scorer"])
    services.start_notice(honour, days=5)
    db.session.commit()
    token = _token(world["hh"]["a2"])
    listing = client.get(f"/h/{token}/honours").get_data(as_text=True)
    assert "好人榜" in listing and "提出异议" in listing
    assert "张小三" not in listing          # names are masked on villagers' phones
    data = {"text": "事情不属实", "idempotency_key": "obj-1"}
    assert client.post(f"/h/{token}/honours/{honour.id}/object", data=data).status_code == 302
    assert client.post(f"/h/{token}/honours/{honour.id}/object", data=data).status_code == 302
    assert [o.text for o in honour.objections] == ["事情不属实"]
    assert "事情不属实" in login("vadmin").get(f"/honours/{honour.id}").get_data(as_text=True)
    # another village's door plate cannot reach this honour
    foreign = _token(world["hh"]["b1"])
    assert client.get(f"/h/{foreign}/honours/{honour.id}/object").status_code == 404


def test_a_household_objects_to_an_honour_once(world, app):
    """A second objection by the same household (a new form, not a double click) is refused
    in Chinese and the 提出异议 link is gone for it; another household may still object."""
    client = app.test_client()
    honour = services.nominate(world["hh"]["a1"], title="好人榜", year=local_today().year,
                               reason="拾金不昧", by_user=world["users"]["scorer"])
    services.start_notice(honour, days=5)
    db.session.commit()
    token = _token(world["hh"]["a2"])
    url = f"/h/{token}/honours/{honour.id}/object"
    assert client.post(url, data={"text": "事情不属实", "idempotency_key": "o-1"}
                       ).status_code == 302
    again = client.post(url, data={"text": "再说一次", "idempotency_key": "o-2"})
    assert again.status_code == 200 and "已经对这项荣誉提出过异议" in again.get_data(as_text=True)
    page = client.get(url).get_data(as_text=True)
    assert "已经对这项荣誉提出过异议" in page and "提交异议" not in page   # no form to refuse
    with pytest.raises(Refusal) as bad:
        services.object_to(honour, text="第三次", by_household=world["hh"]["a2"])
    assert bad.value.code == "already_objected"
    db.session.rollback()
    assert [o.text for o in honour.objections] == ["事情不属实"]
    listing = client.get(f"/h/{token}/honours").get_data(as_text=True)
    assert f"/honours/{honour.id}/object" not in listing and "您家已提出异议" in listing
    other = client.get(f"/h/{_token(world['hh']['a3'])}/honours").get_data(as_text=True)
    assert f"/honours/{honour.id}/object" in other and "您家已提出异议" not in other
    assert services.object_to(honour, text="也有异议", by_household=world["hh"]["a3"])


def test_village_titles_and_foreign_regions(world, login):
    vadmin = login("vadmin")
    v = world["village_a"]
    assert vadmin.post(f"/villages/{v.id}/honour-titles", data={"name": "最美庭院"}
                       ).status_code == 302
    assert services.titles_of(v.id)[-1] == "最美庭院"
    assert "最美庭院" not in services.titles_of(world["village_b"].id)
    resp = vadmin.post(f"/villages/{v.id}/honour-titles", data={"name": "好人榜"})
    assert "已经是本村的称号" in resp.get_data(as_text=True)
    honour = services.nominate(world["hh"]["a1"], title="最美庭院", year=local_today().year,
                               reason="庭院整洁", by_user=world["users"]["scorer"])
    db.session.commit()
    with pytest.raises(Refusal):
        services.nominate(world["hh"]["b1"], title="最美庭院", year=local_today().year,
                          reason="x", by_user=world["users"]["scorer_b"])
    foreign = login("vadmin_b")
    for url in (f"/honours/{honour.id}", f"/villages/{v.id}/honours",
                f"/villages/{v.id}/honours/poster"):
        resp = foreign.get(url)
        assert resp.status_code == 404 and "张小三" not in resp.get_data(as_text=True)
    for action in ("notice", "award", "decline"):
        assert foreign.post(f"/honours/{honour.id}/{action}",
                            data={"days": 0, "reason": "x"}).status_code == 404
    db.session.refresh(honour)
    assert honour.status == "nominated"
    assert re.search(r"最美庭院", login("scorer").get(f"/villages/{v.id}/honours")
                     .get_data(as_text=True))


def test_the_honour_page_and_the_poster_show_the_same_last_day_of_notice(world, login):
    honour = services.nominate(world["hh"]["a1"], title="好人榜", year=local_today().year,
                               reason="拾金不昧", by_user=world["users"]["scorer"])
    services.start_notice(honour, days=5)
    db.session.commit()
    last = local_today() + timedelta(days=4)                   # five days, today the first
    assert honour.notice_last_day == last
    client = login("vadmin")
    page = client.get(f"/honours/{honour.id}").get_data(as_text=True)
    assert f"（{last} 期满）" in page and str(honour.notice_until) not in page
    poster = client.get(f"/villages/{world['village_a'].id}/honours/poster").get_data(
        as_text=True)
    assert f"至 {last}。" in poster
    listing = client.get(f"/villages/{world['village_a'].id}/honours").get_data(as_text=True)
    assert f"公示至 {last}" in listing


def test_a_failed_award_keeps_the_typed_decision_note(world, login):
    honour = services.nominate(world["hh"]["a1"], title="好人榜", year=local_today().year,
                               reason="拾金不昧", by_user=world["users"]["scorer"])
    services.start_notice(honour, days=0)
    db.session.commit()
    client = login("vadmin")
    note = "村民代表会议，到会 28 人，赞成 27 人"
    resp = client.post(f"/honours/{honour.id}/award", data={"decision_date": "", "note": note})
    assert resp.status_code == 302                       # Post/Redirect/Get, values kept
    text = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert note in text and "请填写决定日期" in text and 'is-invalid" id="decision_date"' in text
    # shown once: a later visit starts afresh
    assert note not in client.get(f"/honours/{honour.id}").get_data(as_text=True)
    # a refusal of the service (a decision date in the future) keeps both typed values
    later = (local_today() + timedelta(days=3)).isoformat()
    resp = client.post(f"/honours/{honour.id}/award", data={"decision_date": later,
                                                            "note": note},
                       follow_redirects=True)
    text = resp.get_data(as_text=True)
    assert note in text and f'value="{later}"' in text and "决定日期须在公示开始之后" in text
    db.session.refresh(honour)
    assert honour.status == "under_notice"
