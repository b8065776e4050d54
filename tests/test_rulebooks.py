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
