"""The QR page: masked, minimal, unguessable, revocable."""
import math
from datetime import date

from app.extensions import db
from app.households.qr import assign_token, derive_token, public_url
from app.public.masking import mask_name
from app.scoring.services import post_entry
from tests.conftest import item


def test_mask_name():
    assert mask_name("张三") == "张*"
    assert mask_name("张小三") == "张*三"
    assert mask_name("欧阳小明") == "欧**明"
    assert mask_name("𠮷") == "𠮷" and mask_name("") == ""
    assert mask_name("阿不都热合曼·买买提江") == "阿***江"     # at most three stars


def _url(app, household):
    with app.test_request_context():
        return public_url(household)


def test_public_page_shows_masked_score_and_leaks_nothing(app, world):
    a1, a2 = world["hh"]["a1"], world["hh"]["a2"]
    v, u = world["village_a"], world["users"]["scorer"]
    post_entry(household=a1, item_id=item(v, "红白喜事简办").id, deed_date=date(2026, 11, 2),
               recorded_by=u, note="备注里写了王五的电话13800000002")
    post_entry(household=a2, item_id=item(v, "焚烧秸秆或垃圾").id,
               deed_date=date(2026, 11, 2), recorded_by=u)
    db.session.commit()
    resp = app.test_client().get(_url(app, a1).replace("http://jf.test", ""))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "张*三" in html and "红白喜事简办" in html and "+5" in html
    for secret in ["张小三", "李四", "张丽", "13800000001", "王五", "13800000002",
                   "焚烧秸秆或垃圾", "备注", a1.house_number + " 号"]:
        assert secret not in html, secret
    assert resp.headers["Referrer-Policy"] == "no-referrer"
    assert "noindex" in resp.headers["X-Robots-Tag"]


def test_token_has_at_least_128_bits_and_only_its_hash_is_stored(app, world):
    a1 = world["hh"]["a1"]
    token = derive_token(a1.qr_nonce)
    assert len(token) * 6 >= 128 and len(a1.qr_nonce) * 4 >= 128
    assert token not in (a1.qr_token_hash, a1.qr_nonce)
    entropy_chars = set(token)
    assert len(entropy_chars) > 10 and math.log2(64) * len(token) >= 128


def test_reissued_token_stops_the_old_plate(app, world):
    a1 = world["hh"]["a1"]
    old = _url(app, a1).replace("http://jf.test", "")
    client = app.test_client()
    assert client.get(old).status_code == 200
    assign_token(a1)
    db.session.commit()
    assert client.get(old).status_code == 404
    assert client.get(_url(app, a1).replace("http://jf.test", "")).status_code == 200


def test_moved_household_page_is_closed(app, world):
    a1 = world["hh"]["a1"]
    url = _url(app, a1).replace("http://jf.test", "")
    a1.status = "moved"
    db.session.commit()
    resp = app.test_client().get(url)           # closed: says so, shows nothing of it
    assert resp.status_code == 410 and "此门牌已停用" in resp.get_data(as_text=True)
    assert 'data-testid="earned"' not in resp.get_data(as_text=True)


def test_door_plates_print_each_house_number(app, world, login):
    resp = login("scorer").get(f"/villages/{world['village_a'].id}/plates"
                               f"?group={world['g_a1'].id}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert html.count("<svg") == 3 and html.count('class="plate"') == 3
    for h in ("a1", "a2", "a3"):
        assert f'{world["hh"][h].house_number} 号' in html
    assert world["hh"]["a4"].head_name not in html
    resp = login("scorer").get(f"/villages/{world['village_a'].id}/plates"
                               f"?group={world['g_b1'].id}")
    assert resp.status_code == 404


def test_search_treats_wildcards_literally_and_pages_past_the_end(app, world, login):
    client = login("scorer")
    vid = world["village_a"].id
    for q in ("%", "_"):
        html = client.get(f"/villages/{vid}/households?q={q}").get_data(as_text=True)
        assert "张小三" not in html and "没有找到" in html
    html = client.get(f"/villages/{vid}/households?q=oyxm").get_data(as_text=True)
    assert "欧阳小明" in html and "张小三" not in html      # pinyin initials
    from app.scoring.services import post_entry
    post_entry(household=world["hh"]["a1"], item_id=item(world["village_a"], "乱堆乱放").id,
               deed_date=date(2026, 11, 2), recorded_by=world["users"]["scorer"])
    db.session.commit()
    html = client.get(f"/households/{world['hh']['a1'].id}?page=999").get_data(as_text=True)
    assert "乱堆乱放" in html


def test_rulebook_is_readable_from_the_door_plate(app, world):
    url = _url(app, world["hh"]["a1"]).replace("http://jf.test", "") + "/rules"
    html = app.test_client().get(url).get_data(as_text=True)
    assert "拾金不昧" in html and "5～10" in html and "村民代表会议" in html
    assert "张小三" not in html


def test_the_visit_that_ends_a_notice_period_shows_the_rank_it_gives(app, world):
    """The QR page confirms entries whose notice has ended before it ranks the household,
    so the first visit after the notice shows the new rank, not the old one."""
    import re
    from datetime import timedelta

    from app.scoring.models import LedgerEntry, VillageSettings
    from app.scoring.periods import local_today
    a1, a2 = world["hh"]["a1"], world["hh"]["a2"]
    v, u = world["village_a"], world["users"]["scorer"]
    db.session.get(VillageSettings, v.id).notice_days = 7
    other = post_entry(household=a1, item_id=item(v, "红白喜事简办").id,
                       deed_date=date(2026, 11, 2), recorded_by=u)
    entry = post_entry(household=a2, item_id=item(v, "拾金不昧").id, points="8",
                       deed_date=date(2026, 11, 2), recorded_by=u, review=False)
    other.notice_until = local_today() - timedelta(days=1)     # a1's +5 counts now
    entry.notice_until = local_today() + timedelta(days=3)     # a2's +8 not yet
    db.session.commit()
    first = app.test_client().get(_url(app, a2).replace("http://jf.test", ""))
    assert re.search(r'data-testid="rank">(\d+)', first.get_data(as_text=True)).group(1) == "2"
    db.session.get(LedgerEntry, entry.id).notice_until = local_today() - timedelta(days=1)
    db.session.commit()
    html = app.test_client().get(_url(app, a2).replace("http://jf.test", "")).get_data(
        as_text=True)
    assert re.search(r'data-testid="rank">(\d+)', html).group(1) == "1"
    assert db.session.get(LedgerEntry, entry.id).status == "confirmed"
