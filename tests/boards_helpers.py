"""Shared helpers of the board tests (issue 5)."""
from datetime import date, datetime, timedelta, timezone

from app.boards import services
from app.boards.periods import parse_period
from app.scoring.services import post_entry
from tests.conftest import item

T0 = datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc)
NOV = parse_period("2026-11", "month")
OCT = parse_period("2026-10", "month")


def post(world, hh, name, minutes, day=date(2026, 11, 2), village="village_a", **kw):
    """Post item ``name`` to household ``hh`` recorded ``minutes`` after T0."""
    return post_entry(household=world["hh"][hh], item_id=item(world[village], name).id,
                      deed_date=day, recorded_by=world["users"]["scorer"],
                      recorded_at=T0 + timedelta(minutes=minutes), **kw)


def define(world, village="village_a", **values):
    """A board definition of ``village`` (monthly, red top 10 unless given)."""
    base = {"name": "月度红黑榜", "period_kind": "month", "red_top_n": 10}
    base.update(values)
    return services.save_definition(world[village], base)


def publish(definition, period, user, **kw):
    """Draft, review, notice and publish ``definition``'s board of ``period``."""
    pub = services.create_draft(definition, period, by_user=user, **kw)
    for _ in range(3):
        services.advance(pub, by_user=user)
    assert pub.status == "published"
    return pub


def ids(lines):
    return [ln.household_id for ln in lines]
