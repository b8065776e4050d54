"""The per household per month totals (issue 10) always equal the ledger: every write path
keeps them (post, confirm after the notice, objection, reversal, spend), boards read them,
and ``summary.rebuild`` recomputes the same rows."""
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.review.services import confirm_due, raise_objection
from app.scoring import summary
from app.scoring.models import HouseholdMonth, VillageSettings
from app.scoring.periods import Period, parse_month
from app.scoring.queries import period_points, standings
from app.scoring.services import post_entry, reverse_entry, spend
from tests.conftest import item

T0 = datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc)
NOV, OCT = parse_month("2026-11"), parse_month("2026-10")


def _post(world, hh, name, minutes, day=date(2026, 11, 2), **kw):
    return post_entry(household=world["hh"][hh], item_id=item(world["village_a"], name).id,
                      deed_date=day, recorded_by=world["users"]["scorer"],
                      recorded_at=T0 + timedelta(minutes=minutes), **kw)


def _rows():
    return {(r.household_id, r.period): (Decimal(r.points).quantize(Decimal("0.01")),
                                         Decimal(r.deductions).quantize(Decimal("0.01")),
                                         r.entries)
            for r in db.session.execute(select(HouseholdMonth)).scalars()
            if r.entries and len(r.period) == 7}


def test_totals_follow_every_write_and_equal_the_ledger(world):
    hh, scorer = world["hh"], world["users"]["scorer"]
    _post(world, "a1", "义务巡逻", 1)                               # +0.5
    d = _post(world, "a1", "乱堆乱放", 2)                           # -2, reversed below
    _post(world, "a2", "焚烧秸秆或垃圾", 3)                         # -5
    _post(world, "a2", "红白喜事简办", 4, day=date(2026, 10, 30))   # October
    reverse_entry(d, reason="误扣", recorded_by=scorer)
    spend(household=hh["a1"], points="0.2", recorded_by=scorer, reason="兑换")  # not counted
    db.session.commit()
    rows = _rows()
    assert rows[(hh["a1"].id, "2026-11")] == (Decimal("0.50"), Decimal("0.00"), 3)
    assert rows[(hh["a2"].id, "2026-11")] == (Decimal("-5.00"), Decimal("-5.00"), 1)
    assert rows[(hh["a2"].id, "2026-10")][0] == Decimal("5.00")
    assert summary.faults() == []
    assert period_points(hh["a1"].id, NOV) == Decimal("0.50")
    # rebuilt from the ledger: the same rows
    summary.rebuild()
    assert _rows() == rows


def test_pending_entries_count_only_once_confirmed(world):
    hh, village = world["hh"], world["village_a"]
    db.session.merge(VillageSettings(village_id=village.id, notice_days=7))
    e1 = _post(world, "a1", "义务巡逻", 1)
    e2 = _post(world, "a2", "义务巡逻", 2)
    db.session.commit()
    assert e1.status == "under_notice"
    assert _rows() == {} and summary.faults() == []
    raise_objection(e2, by_user=world["users"]["vadmin"], text="不对")   # held: still nothing
    confirm_due(village.id, date(2026, 12, 1), at=T0 + timedelta(days=10))
    db.session.commit()
    assert _rows() == {(hh["a1"].id, "2026-11"): (Decimal("0.50"), Decimal("0.00"), 1)}
    assert summary.faults() == []


def test_boards_from_totals_equal_boards_from_the_ledger(world):
    """The same standings whether the month is read from the totals or summed from the
    ledger (a period that is not whole months)."""
    _post(world, "a3", "红白喜事简办", 1)
    _post(world, "a2", "红白喜事简办", 2)
    _post(world, "a1", "乱堆乱放", 3)
    _post(world, "a4", "红白喜事简办", 2)
    db.session.commit()
    vid = world["village_a"].id
    fast = standings(vid, NOV)
    # the same days, but not a whole month: the ledger path
    slow = standings(vid, Period(date(2026, 11, 1), date(2026, 11, 30), "x"))
    assert summary.month_labels(Period(date(2026, 11, 1), date(2026, 11, 30), "x")) is None
    assert [(s.household_id, s.points, s.deductions, s.rank) for s in fast] == \
        [(s.household_id, s.points, s.deductions, s.rank) for s in slow]
    assert [s.reached_at for s in fast] == [s.reached_at for s in slow]
    assert fast[0].points == Decimal("5.00")
    assert standings(vid, OCT)[0].points == Decimal("0.00")


def test_month_labels_of_quarters_and_years():
    assert summary.month_labels(Period(date(2026, 10, 1), date(2027, 1, 1), "2026Q4")) == \
        ["2026-10", "2026-11", "2026-12"]
    assert len(summary.month_labels(Period(date(2026, 1, 1), date(2027, 1, 1), "2026"))) == 12


def test_ledger_verify_reports_a_tampered_monthly_total(world):
    """A monthly total changed behind the ledger's back (or a writer that bypassed
    ``_update_balance``) is a fault of ``checks.verify`` like a tampered balance."""
    from sqlalchemy import update

    from app.scoring.checks import verify
    hh = world["hh"]
    _post(world, "a1", "红白喜事简办", 1)
    db.session.commit()
    assert verify() == [] and verify(world["village_a"].id) == []
    db.session.execute(update(HouseholdMonth).where(HouseholdMonth.household_id == hh["a1"].id)
                       .values(points=HouseholdMonth.points + 100))
    db.session.commit()
    found = [f for f in verify(world["village_a"].id) if f.table == "household_month"]
    # its month and its year
    assert [f.row_id for f in found] == [hh["a1"].id] * 2
    assert sorted(f.message[:7] for f in found) == ["2026-11", "2026: s"]
    assert verify(world["village_b"].id) == []
