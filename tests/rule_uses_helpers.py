"""Shared setup of tests/test_rule_features_channels.py and tests/test_rule_features_uses.py:
a rulebook of village A (effective 2021-01-01, so it judges today's deeds) with evidence
channels, privileges and a sanction item."""
from datetime import date

from app.extensions import db
from app.households.qr import public_url
from app.rules.importer import parse_rulebook
from app.rules.services import load_spec
from tests.conftest import item

USES_YAML = """
id: t-uses
place: 斗门村
rules:
  privileges:
    - {min: 10, label: 信用贷款额度 5 万元, kind: loan}
    - {min: 20, label: 信用贷款额度 10 万元, kind: loan}
    - {min: 5, label: 村卫生室优先就诊}
categories:
  - name: 好人好事
    items:
      - {code: H1, name: 帮助邻里, points: 10, channels: [cadre, self, beneficiary, volunteer]}
      - {code: H2, name: 义务劳动, points: 3}
      - {code: H3, name: 拾金不昧, points: "5..10", channels: [peer, cadre]}
      - {code: H4, name: 只能受助人申报, points: 2, channels: [beneficiary]}
  - name: 不文明行为
    items:
      - {code: B1, name: 乱扔垃圾, points: -2, channels: [cadre, peer, volunteer]}
      - {code: B2, name: 参与赌博, points: -5, blocks_redemption_months: 12}
"""


def uses_rulebook(world):
    """Adopt USES_YAML for village A (committed); returns the version."""
    version = load_spec(world["village_a"], parse_rulebook(USES_YAML), "村规民约积分（渠道）",
                        adopted_on=date(2020, 12, 20), effective_from=date(2021, 1, 1),
                        decision="村民代表会议")
    db.session.commit()
    return version


def qr(app, world, hh):
    """The door-plate path of household ``hh`` (no host)."""
    with app.test_request_context():
        return public_url(world["hh"][hh]).replace("http://jf.test", "")


def item_id(world, name):
    return item(world["village_a"], name).id
