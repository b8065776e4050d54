"""Every public rulebook parses; the worked examples in scope reproduce exactly."""
from datetime import date
from decimal import Decimal
from importlib import resources

import pytest

from app.demo.loader import _rulebook_text
from app.extensions import db
from app.rules.engine import Refusal
from app.rules.importer import RulebookFormatError, parse_rulebook
from app.rules.services import load_spec
from app.scoring.services import post_entry, reverse_entry
from tests.conftest import item

FILES = sorted(p.name for p in resources.files("app.demo").joinpath("data", "rulebooks")
               .iterdir() if p.name.endswith(".yaml"))


def test_all_five_public_rulebooks_parse():
    assert len(FILES) == 5
    for name in FILES:
        spec = parse_rulebook(_rulebook_text("rulebooks/" + name))
        assert spec.id and spec.sources


def test_halves_stay_exact_and_pairs_split():
    gujing = parse_rulebook(_rulebook_text("rulebooks/gujing-half-points.yaml"))
    patrol = gujing.categories[0].items[0]
    assert patrol.name == "义务巡逻" and patrol.points == Decimal("0.50")
    fengjie = parse_rulebook(_rulebook_text("rulebooks/fengjie-baijia.yaml"))
    names = [i.name for i in fengjie.categories[1].items]
    assert "桌子板凳摆整齐（合格）" in names and "桌子板凳摆整齐（不合格）" in names


def test_bad_rulebook_names_the_item():
    text = "categories:\n  - name: 公益\n    items:\n      - {name: 巡逻, points: '10..5'}\n"
    with pytest.raises(RulebookFormatError) as err:
        parse_rulebook(text)
    assert "公益" in str(err.value) and "第 1 项" in str(err.value)


def _post(household, village, name, user, points=None, quantity=1):
    return post_entry(household=household, item_id=item(village, name).id,
                      deed_date=date(2026, 11, 2), recorded_by=user, points=points,
                      quantity=quantity)


def test_langao_examples(world):
    """sn-langao: 8 + 10 + 20 = 38; 12 is outside 5..10; the star is once-only."""
    v, h, u = world["village_a"], world["hh"]["a1"], world["users"]["scorer"]
    _post(h, v, "拾金不昧", u, points="8")
    _post(h, v, "帮助困难居民", u)
    _post(h, v, "被评为敬老爱亲之星", u)
    assert h.balance.earned_score == Decimal("38")
    with pytest.raises(Refusal) as err:
        _post(world["hh"]["a2"], v, "拾金不昧", u, points="12")
    assert err.value.code == "out_of_range"
    with pytest.raises(Refusal) as err:
        _post(h, v, "被评为敬老爱亲之星", u)
    assert err.value.code == "once_only"
    db.session.refresh(h.balance)
    assert h.balance.earned_score == Decimal("38")


def test_once_only_can_be_given_again_after_reversal(world):
    v, h, u = world["village_a"], world["hh"]["a1"], world["users"]["scorer"]
    first = _post(h, v, "被评为敬老爱亲之星", u)
    reverse_entry(first, reason="评错了", recorded_by=u)
    _post(h, v, "被评为敬老爱亲之星", u)
    db.session.refresh(h.balance)
    assert h.balance.earned_score == Decimal("20")


def test_gujing_examples(world):
    """sc-gujing: 7 x 0.5 with one reversed = 3.0; 3 x 0.5 - 5 = -3.5."""
    village = world["village_a"]
    spec = parse_rulebook(_rulebook_text("rulebooks/gujing-half-points.yaml"), code_prefix="G")
    load_spec(village, spec, "古井社区", adopted_on=date(2026, 10, 1),
              effective_from=date(2026, 10, 1), decision="居民代表会议")
    u, h1, h2 = world["users"]["scorer"], world["hh"]["a1"], world["hh"]["a2"]
    entries = [_post(h1, village, "义务巡逻", u) for _ in range(7)]
    reverse_entry(entries[0], reason="重复登记", recorded_by=u)
    db.session.refresh(h1.balance)
    assert h1.balance.earned_score == Decimal("3.0")
    _post(h2, village, "义务巡逻", u, quantity=3)
    _post(h2, village, "污染水资源", u)
    db.session.refresh(h2.balance)
    assert h2.balance.earned_score == Decimal("-3.5")


# --- issue 3: rulebook-wide rules, with the worked examples of the public rulebooks -------
from app.rules.engine import base_grant, household_flags, star_band  # noqa: E402
from app.rules.queries import book_rule  # noqa: E402
from app.scoring.periods import quarter_period  # noqa: E402
from app.scoring.queries import standings  # noqa: E402
from app.scoring.services import grant_base, spend  # noqa: E402


def _adopt(world, path, prefix, effective=date(2026, 7, 1)):
    v = world["village_a"]
    spec = parse_rulebook(_rulebook_text(path), code_prefix=prefix)
    return load_spec(v, spec, spec.id, adopted_on=effective, effective_from=effective,
                     decision="村民代表会议")


def _bal(h):
    db.session.refresh(h.balance)
    return h.balance.earned_score, h.balance.spendable_balance


def test_fengjie_base_not_spendable_pairs_and_threshold(world):
    """cq-fengjie-baijia: 100 base (not spendable); 迟到 x1, 积极发言 x2, one inspection with
    5 checks passed and 1 failed -> balance 109, spendable 9; 72 - 2x2 = 68 suspended;
    68 + 2 = 70 no longer suspended."""
    version = _adopt(world, "rulebooks/fengjie-baijia.yaml", "F")
    v, u, h = world["village_a"], world["users"]["scorer"], world["hh"]["a1"]
    grant_base(h, on=date(2026, 11, 2), by_user=u)
    _post(h, v, "迟到", u)
    _post(h, v, "积极发言", u, quantity=2)
    for check in ["桌子板凳摆整齐", "锅碗瓢盆放整齐", "衣服铺盖折整齐", "棍棍棒棒码整齐",
                  "撮箕扁担收整齐"]:
        _post(h, v, check + "（合格）", u)
    _post(h, v, "屋里屋外扫整齐（不合格）", u)
    assert _bal(h) == (Decimal("109"), Decimal("9"))
    assert grant_base(h, on=date(2026, 11, 3), by_user=u).points == Decimal("100")  # once
    assert _bal(h) == (Decimal("109"), Decimal("9"))
    with pytest.raises(Refusal) as err:
        spend(household=h, points="10", recorded_by=u, reason="兑换")
    assert err.value.code == "insufficient"
    book = book_rule(version)
    h2 = world["hh"]["a2"]
    grant_base(h2, on=date(2026, 11, 2), by_user=u)
    for _ in range(5):
        _post(h2, v, "会上不说会后乱说", u, quantity=2)                  # 100 - 20 = 80
    _post(h2, v, "迟到", u, quantity=8)                                     # 72
    assert _bal(h2)[0] == Decimal("72") and household_flags(book, Decimal("72")) == set()
    _post(h2, v, "会上不说会后乱说", u, quantity=2)
    assert _bal(h2)[0] == Decimal("68")
    assert household_flags(book, _bal(h2)[0]) == {"suspended"}
    _post(h2, v, "按时参会", u, quantity=2)
    assert _bal(h2)[0] == Decimal("70") and household_flags(book, _bal(h2)[0]) == set()


def test_jiangxia_eligibility_base_cap_and_redemption(world, login):
    """hb-jiangxia-baxiu: an eligible household starts the year at 100; with 690 earned
    (base not counted) a 20-point item records 10; a household outside the eligible group
    gets nothing; an eligible household with 50 redeems 大米5kg (39) and keeps 11."""
    _adopt(world, "rulebooks/project/jiangxia-baxiu.yaml", "J", effective=date(2026, 1, 1))
    v, u = world["village_a"], world["users"]["scorer"]
    h, outsider, poor = world["hh"]["a1"], world["hh"]["a2"], world["hh"]["a3"]
    outsider.enrolled = False
    assert grant_base(h, on=date(2026, 1, 1), by_user=u).points == Decimal("100")
    assert grant_base(outsider, on=date(2026, 1, 1), by_user=u) is None
    assert _bal(h) == (Decimal("100"), Decimal("100"))
    for _ in range(34):
        _post(h, v, "发展产业", u)                                   # 680
    _post(h, v, "劳动就业", u)                                       # 690
    e = _post(h, v, "发展产业", u)
    assert e.points == Decimal("10") and "上限 700" in e.reason
    db.session.commit()
    page = login("auditor").get(f"/audit/entries/{e.id}").get_data(as_text=True)
    assert "（按细则记为此分，不是 +20 × 1）" in page and "= <strong>" not in page
    with pytest.raises(Refusal) as err:
        _post(h, v, "环境卫生", u)
    assert err.value.code == "cap_reached"
    with pytest.raises(Refusal) as err:
        _post(outsider, v, "发展产业", u)
    assert err.value.code == "not_enrolled"
    _post(poor, v, "劳动就业", u, quantity=5)                        # 50 (no base granted)
    spend(household=poor, points="39", recorded_by=u, reason="大米5kg")
    assert _bal(poor) == (Decimal("50"), Decimal("11"))


def test_bamingcun_quarter_scores_cap_pass_mark_and_stars(world):
    """hlj-fangzheng-baming: no deductions + 12 contribution -> 112; 45 deductions -> 55,
    not passed; 25 contribution recorded -> 120 (contribution capped at 20)."""
    version = _adopt(world, "rulebooks/project/bamingcun-quarterly-stars.yaml", "B")
    v, u, admin = world["village_a"], world["users"]["scorer"], world["users"]["admin"]
    from app.review.services import approve
    q = quarter_period(date(2026, 11, 2))
    a, b, c = world["hh"]["a1"], world["hh"]["a2"], world["hh"]["a3"]
    for h in (a, b, c):
        grant_base(h, on=date(2026, 11, 2), by_user=u)
    approve(_post(a, v, "为村集体作贡献", u, points="12"), by_user=admin)
    _post(b, v, "检查发现问题（每扣 1 分记一次）", u, quantity=45)
    approve(_post(c, v, "为村集体作贡献", u, points="15"), by_user=admin)
    capped = _post(c, v, "为村集体作贡献", u, points="10")
    assert capped.points == Decimal("5")
    approve(capped, by_user=admin)
    scores = {s.household_id: s.points for s in standings(v.id, q)}
    assert (scores[a.id], scores[b.id], scores[c.id]) == (Decimal("112"), Decimal("55"),
                                                          Decimal("120"))
    book = book_rule(version)
    assert household_flags(book, scores[b.id]) == {"failed"}
    assert household_flags(book, scores[a.id]) == set()
    assert star_band(book, scores[a.id]) == "五星"
    assert star_band(book, Decimal("75")) == "二星"
    assert base_grant(book) == (Decimal("100"), False)


def test_versions_judge_deeds_by_the_version_in_force_on_the_deed_date(world):
    """Draft, adoption with a recorded decision, a later version: entries before and after
    the change are judged by their own version, and the first version never changes."""
    from app.rules.services import adopt_version, new_draft_from
    from app.rules.queries import version_in_force
    v, u, h = world["village_a"], world["users"]["scorer"], world["hh"]["a1"]
    first = version_in_force(v, date(2026, 6, 1))
    before = _post(h, v, "红白喜事简办", u)                      # judged by version 1: +5
    draft = new_draft_from(first)
    assert draft.status == "draft" and draft.number == first.number + 1
    changed = next(i for c in draft.categories for i in c.items if i.name == "红白喜事简办")
    changed.points = Decimal("8")
    adopt_version(draft, adopted_on=date(2026, 11, 1), effective_from=date(2026, 11, 10),
                  decision="2026-11-01 村民代表会议：到会 30 人，赞成 28，反对 1，弃权 1")
    with pytest.raises(ValueError):
        adopt_version(draft, adopted_on=date(2026, 11, 1), effective_from=date(2026, 11, 10),
                      decision="again")
    old_deed = post_entry(household=h, item_id=next(
        i.id for c in first.categories for i in c.items if i.name == "红白喜事简办"),
        deed_date=date(2026, 11, 9), recorded_by=u)
    new_deed = post_entry(household=h, item_id=changed.id, deed_date=date(2026, 11, 10),
                          recorded_by=u)
    assert (before.points, old_deed.points, new_deed.points) == (Decimal("5"), Decimal("5"),
                                                                  Decimal("8"))
    assert old_deed.rulebook_version_id == first.id
    assert new_deed.rulebook_version_id == draft.id
    with pytest.raises(Refusal) as err:   # version 2's item on a day version 1 is in force
        post_entry(household=h, item_id=changed.id, deed_date=date(2026, 11, 9),
                   recorded_by=u)
    assert err.value.code == "item_not_in_force"
    original = next(i for c in first.categories for i in c.items if i.name == "红白喜事简办")
    assert original.points == Decimal("5")


PROJECT = """
id: demo-kinds
place: 测试村
rules:
  star_bands: [{min: 10, label: 一星}]
categories:
  - name: 检查
    items:
      - {name: 宅前屋后无乱堆物, kind: scorecard, max: 25, per_problem: 5}
      - {name: 志愿服务, kind: rate, units_per_point: 4, rounding: half_up}
      - {name: 获得荣誉, kind: tiered, tiers: {国家: 50, 省: 30, 县: 15, 乡镇: 10}}
      - {name: 见义勇为, points: 10, bonus_max: 5}
      - {name: 其他好人好事, kind: analogy, points: "1..10"}
      - {name: 子女考上大学, points: 5, per_person: true}
"""


def test_the_score_form_feeds_every_kind_to_the_engine(app, world, login):
    v = world["village_a"]
    spec = parse_rulebook(PROJECT, code_prefix="K")
    load_spec(v, spec, "kinds", adopted_on=date(2026, 11, 1), effective_from=date(2026, 11, 1),
              decision="测试")
    db.session.commit()
    client = login("scorer")
    hid = world["hh"]["a1"].id

    def score(name, **fields):
        data = {"item_id": item(v, name).id, "deed_date": "2026-11-20", "quantity": 1}
        data.update(fields)
        return client.post(f"/households/{hid}/score", data=data)

    assert score("宅前屋后无乱堆物", problems=2).status_code == 302
    assert score("志愿服务", units="10").status_code == 302
    assert score("获得荣誉", tier="省").status_code == 302
    assert score("见义勇为", bonus="5").status_code == 302
    assert score("其他好人好事", points="6", reference="帮助困难居民").status_code == 302
    assert score("子女考上大学", member="张丽").status_code == 302
    html = score("获得荣誉", tier="村").get_data(as_text=True)
    assert "请选择级别：国家、省、县、乡镇" in html
    html = score("其他好人好事", points="6").get_data(as_text=True)
    assert "请写明参照哪一项" in html
    from app.scoring.models import LedgerEntry
    got = [(e.item_name, e.points, e.member_name) for e in
           db.session.query(LedgerEntry).order_by(LedgerEntry.id)]
    assert got == [("宅前屋后无乱堆物", Decimal("15"), None), ("志愿服务", Decimal("3"), None),
                   ("获得荣誉", Decimal("30"), None), ("见义勇为", Decimal("15"), None),
                   ("其他好人好事", Decimal("6"), None), ("子女考上大学", Decimal("5"), "张丽")]
    form = client.get(f"/households/{hid}/score").get_data(as_text=True)
    assert "≤25，-5/处" in form and 'data-tiers="国家|省|县|乡镇"' in form


def test_langao_redemption_and_bamingcun_prize_held_by_an_open_objection(world):
    """sn-langao: a household with 58 redeems goods costing 30 and keeps 28.
    hlj-fangzheng-baming: a quarter result with an open objection releases no prize."""
    from app.review.queries import prize_released
    from app.review.services import raise_objection, resolve_objection
    from app.scoring.models import VillageSettings
    v, u, h = world["village_a"], world["users"]["scorer"], world["hh"]["a1"]
    _post(h, v, "被评为敬老爱亲之星", u)
    _post(h, v, "劝阻他人参加非法活动", u)
    _post(h, v, "帮助困难居民", u)
    _post(h, v, "拾金不昧", u, points="8")                       # 20 + 20 + 10 + 8 = 58
    assert _bal(h) == (Decimal("58"), Decimal("58"))
    spend(household=h, points="30", recorded_by=u, reason="兑换商品")
    assert _bal(h) == (Decimal("58"), Decimal("28"))
    db.session.get(VillageSettings, v.id).notice_days = 7
    q = quarter_period(date(2026, 11, 2))
    other = world["hh"]["a2"]
    held = _post(other, v, "帮助困难居民", u)
    assert prize_released(other.id, q)
    objection = raise_objection(held, text="未核实", by_household=h)
    assert not prize_released(other.id, q) and prize_released(h.id, q)
    resolve_objection(objection, outcome="entry_upheld", reason="属实",
                      by_user=world["users"]["vadmin"])
    assert prize_released(other.id, q)
