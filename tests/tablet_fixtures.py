"""Helpers for the tablet tests (issue 8): an inspection scorecard in a village's rulebook."""
from decimal import Decimal

from app.extensions import db
from app.rules.models import Category, RuleItem
from app.rules.queries import version_in_force
from app.scoring.periods import local_today

CHECKS = ["庭院整洁", "厨房卫生", "厕所卫生", "畜禽圈养", "柴草堆放"]


def add_scorecard(village, name="环境卫生检查", *, max_points="25", per_problem="5",
                  checks=CHECKS, cap=None) -> RuleItem:
    """Add a scorecard item (max ``max_points``, ``per_problem`` off per failed check) to
    the version in force today for ``village`` (a test shortcut: real rulebooks get it
    through a draft and an adoption). ``cap`` is {"points", "period"} or None. Flushed."""
    version = version_in_force(village, local_today())
    category = Category(version_id=version.id, name="检查评比",
                        position=len(version.categories) + 1)
    db.session.add(category)
    params = {"per_problem": per_problem, "checks": list(checks)}
    if cap:
        params["cap"] = cap
    item = RuleItem(code=f"INS-{village.id}-{name}"[:32], name=name, kind="scorecard",
                    max_points=Decimal(max_points), params=params, position=0)
    category.items.append(item)
    db.session.flush()
    return item
