"""Board pages over HTTP (issue 5): defining and publishing through the forms, who may do
what, the public pages' privacy, the posters, and the QR page's 12-month chart."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import event

from app.boards import services
from app.boards.models import BoardDefinition, BoardPublication
from app.boards.queries import monthly_trend
from app.extensions import db
from app.households.qr import derive_token
from app.scoring.periods import local_today, month_period
from tests.boards_helpers import NOV, define, post, publish


def _token(world, hh="a1"):
    return derive_token(world["hh"][hh].qr_nonce)


def test_define_draft_review_notice_publish_through_the_pages(app, world, login):
    post(world, "a1", "红白喜事简办", 1)
    post(world, "a2", "乱堆乱放", 2)
    db.session.commit()
    vid = world["village_a"].id
    admin = login("vadmin")
    form = {"name": "十一月红黑榜", "period_kind": "month", "group_id": "0", "red_top_n": "5",
            "red_threshold": "", "black_items": "", "black_categories": "",
            "black_threshold": "", "black_bottom_n": "", "red_item_code": "",
            "red_points": "", "black_item_code": "", "black_points": "", "notice_days": ""}
    bad = admin.post(f"/regions/{vid}/boards/new", data={**form, "red_top_n": "",
                                                         "red_threshold": "abc"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 200 and "red_threshold 须" not in text   # no field code shown
    assert 'is-invalid" id="red_threshold"' in text and "分值必须是数字" in text
    assert 'value="十一月红黑榜"' in bad.get_data(as_text=True)      # what was typed is kept
    # points as everywhere: more than two decimals refused, not rounded; too large said so
    for typed, message in (("1.555", "分值最多保留两位小数"), ("1e-400", "分值必须是数字"),
                           ("99999999999", "分值太大，最多 99999999.99 分"),
                           ("100000.01", "须是 0 到 100000 之间的数")):
        text = admin.post(f"/regions/{vid}/boards/new", data={**form, "red_threshold": typed}
                          ).get_data(as_text=True)
        assert 'is-invalid" id="red_threshold"' in text and message in text, typed
    assert admin.post(f"/regions/{vid}/boards/new", data=form).status_code == 302
    definition = db.session.query(BoardDefinition).filter_by(name="十一月红黑榜").one()
    scorer = login("scorer")                                   # drafting needs manage_households
    assert scorer.post(f"/board-definitions/{definition.id}/draft",
                       data={"period": "2026-11"}).status_code == 403
    resp = admin.post(f"/board-definitions/{definition.id}/draft", data={"period": "2026-11"})
    assert resp.status_code == 302
    pub = db.session.query(BoardPublication).filter_by(definition_id=definition.id).one()
    assert scorer.post(f"/board-publications/{pub.id}/advance").status_code == 403
    for want in ("reviewed", "under_notice", "published"):
        assert admin.post(f"/board-publications/{pub.id}/advance").status_code == 302
        db.session.expire_all()
        assert db.session.get(BoardPublication, pub.id).status == want
    page = admin.get(f"/board-publications/{pub.id}").get_data(as_text=True)
    assert "张*三" in page and "张小三" in page and "王*" in page   # staff see both names
    for size, css in (("a4", "poster-a4.css"), ("a3", "poster-a3.css")):
        poster = admin.get(f"/board-publications/{pub.id}/poster/{size}").get_data(as_text=True)
        assert css in poster and world["village_a"].name in poster and "2026-11" in poster
        assert "张*三" in poster and "张小三" not in poster
    assert admin.get(f"/board-publications/{pub.id}/poster/a5").status_code == 404
    assert login("vadmin_b").get(f"/board-publications/{pub.id}").status_code == 404
    # a bad period is refused with a Chinese message, nothing drawn
    resp = admin.post(f"/board-definitions/{definition.id}/draft", data={"period": "11/2026"},
                      follow_redirects=True)
    assert "写法不对" in resp.get_data(as_text=True)


def test_public_page_masks_names_and_keeps_the_black_board_in_the_village(app, world):
    post(world, "a1", "红白喜事简办", 1)
    post(world, "a2", "乱堆乱放", 2)
    db.session.commit()
    pub = publish(define(world), NOV, world["users"]["vadmin"])
    db.session.commit()
    client = app.test_client()
    page = client.get(f"/h/{_token(world, 'a4')}/boards").get_data(as_text=True)
    assert "张*三" in page and "张小三" not in page
    assert "王*" in page and "王五" not in page and 'data-testid="black-board"' in page
    assert client.get(f"/h/{_token(world, 'a4')}/boards/{pub.id}").status_code == 200
    # a door plate of another village does not open this village's boards
    assert client.get(f"/h/{_token(world, 'b1')}/boards/{pub.id}").status_code == 404
    wall = client.get(f"/villages/{world['village_a'].id}/notice-wall").get_data(as_text=True)
    assert "张*三" in wall and 'data-testid="black-board"' not in wall and "王*" not in wall
    services.save_privacy(world["village_a"].id, mask_names=True, black_public=True)
    db.session.commit()
    wall = client.get(f"/villages/{world['village_a'].id}/notice-wall").get_data(as_text=True)
    assert 'data-testid="black-board"' in wall and "王*" in wall and "王五" not in wall


def test_drafts_are_not_public(app, world):
    post(world, "a1", "红白喜事简办", 1)
    db.session.commit()
    pub = services.create_draft(define(world), NOV, by_user=world["users"]["vadmin"])
    db.session.commit()
    client = app.test_client()
    assert client.get(f"/h/{_token(world)}/boards/{pub.id}").status_code == 404
    assert "张*三" not in client.get(f"/h/{_token(world)}/boards").get_data(as_text=True)


def test_qr_page_chart_of_twelve_months_from_one_query(app, world):
    post(world, "a1", "红白喜事简办", 1, day=date(2026, 11, 2))
    post(world, "a1", "乱堆乱放", 2, day=date(2026, 9, 3))
    post(world, "a1", "节俭办红白喜事", 3, day=date(2025, 10, 3))   # 13 months back: out
    db.session.commit()
    hid = world["hh"]["a1"].id
    statements = []

    def count(*_args):
        statements.append(1)
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        trend = monthly_trend(hid, date(2026, 11, 30))
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 1
    assert [t[0] for t in trend][0] == "2025-12" and trend[-1][0] == "2026-11"
    values = dict(trend)
    assert values["2026-11"] == Decimal("5.00") and values["2026-09"] == Decimal("-2.00")
    assert sum(values.values()) == Decimal("3.00")
    page = app.test_client().get(f"/h/{_token(world)}").get_data(as_text=True)
    assert 'data-testid="trend"' in page and "trend.js" in page and "echarts.min.js" in page
    assert "boards" in page                                  # link to the village boards


def test_township_page_and_live_board_movers(app, world, login):
    post(world, "a1", "红白喜事简办", 1, day=date(2026, 10, 2))
    post(world, "a2", "节俭办红白喜事", 2, day=date(2026, 10, 2))
    post(world, "a1", "节俭办红白喜事", 3)
    db.session.commit()
    page = login("auditor").get(f"/regions/{world['town_a'].id}/village-board?period=2026-11")
    assert page.status_code == 200 and world["village_a"].name in page.get_data(as_text=True)
    board = login("vadmin").get(f"/villages/{world['village_a'].id}/board?month=2026-11")
    text = board.get_data(as_text=True)
    assert "↑1" in text                     # a1 was 2nd in October, 1st in November
    assert 'data-testid="bad-month"' not in text


@pytest.mark.parametrize("asked", ["2026-13", "abc", "1999-12", "2026-99999999999999999999"])
def test_a_month_that_does_not_parse_shows_this_month_with_a_notice(app, world, login, asked):
    """It was a 500 for a month past C's int, and silent for the others."""
    page = login("vadmin").get(f"/villages/{world['village_a'].id}/board",
                               query_string={"month": asked})
    html = page.get_data(as_text=True)
    this_month = month_period(local_today()).label
    assert page.status_code == 200 and 'data-testid="bad-month"' in html
    assert f"没有“{asked}”这个月份" in html and f"下面是 {this_month} 的榜单" in html


def test_the_first_month_kept_offers_no_month_before_it(app, world, login):
    html = login("vadmin").get(f"/villages/{world['village_a'].id}/board?month=2000-01") \
        .get_data(as_text=True)
    assert "month=1999-12" not in html and "2000 年 1 月红黑榜" in html
    assert 'data-testid="bad-month"' not in html


def test_a_township_template_is_copied_by_a_village(app, world, login):
    town = world["town_a"].id
    vid = world["village_a"].id
    form = {"name": "镇季度红黑榜", "period_kind": "half", "group_id": "0", "red_top_n": "3",
            "red_threshold": "", "black_items": "", "black_categories": "环境卫生",
            "black_threshold": "2", "black_bottom_n": "", "red_item_code": "",
            "red_points": "", "black_item_code": "", "black_points": "", "notice_days": "5"}
    assert login("vadmin").get(f"/regions/{town}/boards/new").status_code == 404   # not theirs
    assert login("admin").post(f"/regions/{town}/boards/new", data=form).status_code == 302
    template = db.session.query(BoardDefinition).filter_by(region_id=town).one()
    admin = login("vadmin")
    page = admin.get(f"/regions/{vid}/boards").get_data(as_text=True)
    assert "镇季度红黑榜" in page and "复制到本村" in page
    # a template of another township cannot be copied
    other = services.save_definition(world["town_b"], {"name": "外镇", "period_kind": "month",
                                                       "red_top_n": 1})
    db.session.commit()
    admin.post(f"/villages/{vid}/boards/copy", data={"template_id": other.id})
    assert db.session.query(BoardDefinition).filter_by(region_id=vid).count() == 0
    admin.post(f"/villages/{vid}/boards/copy", data={"template_id": template.id})
    copy = db.session.query(BoardDefinition).filter_by(region_id=vid).one()
    assert (copy.copied_from_id, copy.period_kind, copy.black_categories, copy.notice_days,
            copy.black_threshold) == (template.id, "half", "环境卫生", 5, Decimal("2.00"))
    edit = admin.get(f"/board-definitions/{copy.id}/edit").get_data(as_text=True)
    assert 'value="环境卫生"' in edit
    assert admin.get(f"/board-definitions/{template.id}/edit").status_code == 404
    # a template cannot be drawn directly
    assert login("admin").post(f"/board-definitions/{template.id}/draft").status_code == 302
    assert db.session.query(BoardPublication).count() == 0


def test_correction_and_black_board_fix_through_the_pages(app, world, login):
    from app.boards.models import BlackCorrection
    from app.scoring.services import reverse_entry
    from tests.boards_helpers import OCT
    first = post(world, "a1", "节俭办红白喜事", 1)
    post(world, "a3", "乱堆乱放", 2, day=date(2026, 10, 5))
    db.session.commit()
    definition = define(world)
    october = publish(definition, OCT, world["users"]["vadmin"])
    november = publish(definition, NOV, world["users"]["vadmin"])
    db.session.commit()
    vid, a3 = world["village_a"].id, world["hh"]["a3"].id
    page = login("vadmin").get(f"/board-publications/{november.id}").get_data(as_text=True)
    assert 'data-testid="uncorrected"' in page and "2026-10" in page
    data = {"household_id": a3, "corrected_on": "2026-11-09", "note": "已清理"}
    assert login("scorer").post(f"/villages/{vid}/black-corrections",
                                data=data).status_code == 403
    foreign = {**data, "household_id": world["hh"]["b1"].id}
    assert login("vadmin").post(f"/villages/{vid}/black-corrections",
                                data=foreign).status_code == 404
    resp = login("vadmin").post(f"/villages/{vid}/black-corrections", data={**data, "note": ""},
                                follow_redirects=True)
    assert "请填写" in resp.get_data(as_text=True)
    assert login("vadmin").post(f"/villages/{vid}/black-corrections",
                                data=data).status_code == 302
    assert db.session.query(BlackCorrection).filter_by(household_id=a3).count() == 1
    reverse_entry(first, reason="重复", recorded_by=world["users"]["scorer"])
    db.session.commit()
    resp = login("vadmin").post(f"/board-publications/{november.id}/correct",
                                data={"note": "张家记分重复"})
    assert resp.status_code == 302
    fix = db.session.query(BoardPublication).filter_by(supersedes_id=november.id).one()
    text = login("vadmin").get(f"/board-publications/{fix.id}").get_data(as_text=True)
    assert 'data-testid="changes"' in text and "张家记分重复" in text and "移除" in text
    assert fix.on("uncorrected") == []                  # the fix recorded since then counts
    assert october.status == "published"


def test_no_publish_button_while_the_notice_runs(app, world, login):
    """Under a 7-day notice the page says when the board can be published instead of
    offering a button that can only be refused."""
    post(world, "a1", "红白喜事简办", 1)
    admin = world["users"]["vadmin"]
    pub = services.create_draft(define(world, notice_days=7), NOV, by_user=admin)
    services.advance(pub, by_user=admin)
    services.advance(pub, by_user=admin)
    db.session.commit()
    assert pub.status == "under_notice"
    page = login("vadmin").get(f"/board-publications/{pub.id}").get_data(as_text=True)
    assert 'data-testid="notice-running"' in page and 'data-testid="advance"' not in page


def test_an_unknown_black_board_item_or_category_is_refused_at_its_field(app, world, login):
    vid = world["village_a"].id
    form = {"name": "错编号榜", "period_kind": "month", "group_id": "0", "red_top_n": "5",
            "red_threshold": "", "black_items": "ZZ99", "black_categories": "",
            "black_threshold": "", "black_bottom_n": "", "red_item_code": "",
            "red_points": "", "black_item_code": "", "black_points": "", "notice_days": ""}
    admin = login("vadmin")
    resp = admin.post(f"/regions/{vid}/boards/new", data=form)
    text = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'is-invalid" id="black_items"' in text
    assert "现行细则里没有编号为 ZZ99 的评分项" in text
    resp = admin.post(f"/regions/{vid}/boards/new",
                      data={**form, "black_items": "", "black_categories": "没有这类"})
    text = resp.get_data(as_text=True)
    assert 'is-invalid" id="black_categories"' in text and "没有名为 没有这类 的类别" in text
    assert db.session.query(BoardDefinition).count() == 0


def test_a_wrong_way_extra_item_is_refused_at_its_field_and_the_list_shows_extras(app, world,
                                                                                  login):
    from tests.conftest import item
    vid = world["village_a"].id
    award, deduct = item(world["village_a"], "红白喜事简办"), item(world["village_a"], "乱堆乱放")
    form = {"name": "另记分榜", "period_kind": "month", "group_id": "0", "red_top_n": "5",
            "red_threshold": "", "black_items": "", "black_categories": "",
            "black_threshold": "", "black_bottom_n": "", "red_item_code": deduct.code,
            "red_points": "", "black_item_code": "", "black_points": "", "notice_days": ""}
    admin = login("vadmin")
    text = admin.post(f"/regions/{vid}/boards/new", data=form).get_data(as_text=True)
    assert 'is-invalid" id="red_item_code"' in text and "须是加分项" in text
    text = admin.post(f"/regions/{vid}/boards/new",
                      data={**form, "red_item_code": "", "black_item_code": award.code}
                      ).get_data(as_text=True)
    assert 'is-invalid" id="black_item_code"' in text and "须是扣分项" in text
    text = admin.post(f"/regions/{vid}/boards/new",
                      data={**form, "red_item_code": "", "black_items": award.code}
                      ).get_data(as_text=True)
    assert 'is-invalid" id="black_items"' in text and "黑榜只能按扣分项筛选" in text
    assert db.session.query(BoardDefinition).count() == 0
    assert admin.post(f"/regions/{vid}/boards/new",
                      data={**form, "red_item_code": award.code,
                            "black_item_code": deduct.code}).status_code == 302
    page = admin.get(f"/regions/{vid}/boards").get_data(as_text=True)
    assert f"上红榜另记：{award.code} {award.name}" in page
    assert f"上黑榜另记：{deduct.code} {deduct.name}" in page
    assert award.points_label in page and deduct.points_label in page


def test_a_long_board_prints_in_smaller_type_rather_than_on_more_sheets(app, world):
    """15 uncorrected lines under an 18-line black board printed on five A4 sheets, the
    "2026-10 上榜，未整改" text wrapping in the points column: the month alone now, under one
    heading, and the type scale follows the longer column's rows."""
    from types import SimpleNamespace
    from flask import render_template

    def line(i, **more):
        return SimpleNamespace(rank=i, house_number=str(i), shown_name="张*", points=5,
                               deductions=-5, since_label="2026-10", **more)

    def render(red, black, late):
        boards = {"red": [line(i) for i in range(red)], "black": [line(i) for i in range(black)],
                  "uncorrected": [line(i) for i in range(late)]}
        pub = SimpleNamespace(on=lambda b: boards[b], definition=SimpleNamespace(name="月度红黑榜"),
                              period_label="2026-11", version=1, status="published",
                              supersedes_id=None, notice_from=None, notice_last_day=None,
                              published_on="2026-11-30")
        with app.test_request_context():
            return render_template("boards/poster.html", pub=pub, village=world["village_a"],
                                   size="a4", kind="月度", show_black=True, statuses={},
                                   html_lang="zh-CN")

    assert '<body class="poster poster-a4" data-rows="10">' in render(10, 8, 0)
    assert 'poster-a4 dense" data-rows="18"' in render(10, 18, 0)
    html = render(10, 18, 15)                      # 18 + a heading + 15 late rows
    assert 'poster-a4 densest" data-rows="34"' in html
    assert "往期黑榜，尚未整改（右为上榜月份）" in html and "上榜，未整改" not in html
    assert html.count('<td class="num">2026-10</td>') == 15
