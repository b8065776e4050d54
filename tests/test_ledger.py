"""The ledger: append-only, exact, idempotent, and balances always equal the entries."""
import threading
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.extensions import db
from app.rules.engine import Refusal
from app.scoring.checks import balance_faults, verify
from app.scoring.models import HouseholdBalance, LedgerEntry
from app.scoring.services import post_entry, reverse_entry
from tests.conftest import item

DAY = date(2026, 11, 2)


def _post(world, hh="a1", name="乱堆乱放", **kw):
    return post_entry(household=world["hh"][hh], item_id=item(world["village_a"], name).id,
                      deed_date=kw.pop("deed_date", DAY), recorded_by=world["users"]["scorer"],
                      **kw)


def test_entry_snapshots_item_and_survives_rulebook_edits(world):
    entry = _post(world, name="乱堆乱放")
    db.session.commit()
    it = item(world["village_a"], "乱堆乱放")
    it.name, it.points = "改名后的项", Decimal("-9")
    db.session.commit()
    db.session.refresh(entry)
    assert (entry.item_name, entry.category_name, entry.points) == \
        ("乱堆乱放", "环境卫生", Decimal("-2.00"))
    assert entry.rulebook_version_id is not None and entry.direction == "deduction"


def test_reversal_cancels_and_keeps_the_original(world):
    entry = _post(world, name="红白喜事简办")
    rev = reverse_entry(entry, reason="记错户", recorded_by=world["users"]["scorer"])
    db.session.commit()
    assert rev.points == -entry.points and rev.deed_date == entry.deed_date
    assert rev.reverses_id == entry.id and entry.reversed_by.id == rev.id
    assert world["hh"]["a1"].balance.earned_score == 0
    assert db.session.get(LedgerEntry, entry.id).points == Decimal("5.00")
    with pytest.raises(Refusal) as err:
        reverse_entry(entry, reason="再来一次", recorded_by=world["users"]["scorer"])
    assert err.value.code == "already_reversed"
    with pytest.raises(Refusal) as err:
        reverse_entry(rev, reason="冲正的冲正", recorded_by=world["users"]["scorer"])
    assert err.value.code == "not_reversible"
    with pytest.raises(Refusal) as err:
        reverse_entry(_post(world), reason="  ", recorded_by=world["users"]["scorer"])
    assert err.value.code == "reason_required"


def test_idempotency_key_returns_the_first_entry(world):
    a = _post(world, name="红白喜事简办", idempotency_key="k-1")
    b = _post(world, name="乱堆乱放", idempotency_key="k-1")
    db.session.commit()
    assert a.id == b.id
    assert db.session.scalar(select(func.count(LedgerEntry.id))) == 1
    assert world["hh"]["a1"].balance.earned_score == Decimal("5")


def test_refusals_record_nothing(world):
    with pytest.raises(Refusal) as err:
        _post(world, deed_date=date(2999, 1, 1))
    assert err.value.code == "future_date"
    with pytest.raises(Refusal) as err:
        _post(world, deed_date=date(2019, 6, 1))
    assert err.value.code == "no_rulebook"
    foreign_item = item(world["village_b"], "乱堆乱放")
    with pytest.raises(Refusal) as err:
        post_entry(household=world["hh"]["a1"], item_id=foreign_item.id, deed_date=DAY,
                   recorded_by=world["users"]["scorer"])
    assert err.value.code == "item_not_in_force"
    db.session.rollback()
    assert db.session.scalar(select(func.count(LedgerEntry.id))) == 0


def test_ledger_check_finds_tampering(world):
    _post(world, name="红白喜事简办")
    db.session.commit()
    assert balance_faults() == []
    db.session.execute(LedgerEntry.__table__.update().values(points=Decimal("50")))
    db.session.commit()
    faults = balance_faults()
    assert [f[0] for f in faults] == [world["hh"]["a1"].id]
    # the row's hash, the balance, the month's and the year's totals and the village's
    # month all disagree with the tampered row
    assert [f.table for f in verify()] == ["ledger_entry", "household_balance",
                                           "household_month", "household_month",
                                           "village_month"]


ITEMS = ["红白喜事简办", "乱堆乱放", "义务巡逻", "焚烧秸秆或垃圾", "拾金不昧"]
step = st.one_of(
    st.tuples(st.just("post"), st.sampled_from(["a1", "a2", "a3"]), st.sampled_from(ITEMS),
              st.integers(1, 4), st.sampled_from(["5", "7.5", "10", "11"])),
    st.tuples(st.just("reverse"), st.integers(0, 50)),
)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, max_size=30))
def test_random_postings_and_reversals_keep_balances_equal_to_entries(world, steps):
    """Invariant 1 after any sequence, committed step by step; refusals change nothing."""
    posted = []
    for s in steps:
        try:
            if s[0] == "post":
                _, hh, name, qty, pts = s
                e = _post(world, hh=hh, name=name, quantity=qty,
                          points=pts if name == "拾金不昧" else None)
                posted.append(e)
            elif posted:
                reverse_entry(posted[s[1] % len(posted)], reason="测试",
                              recorded_by=world["users"]["scorer"])
            db.session.commit()
        except Refusal:
            db.session.rollback()
    assert balance_faults() == [] and verify() == []
    for bal in db.session.scalars(select(HouseholdBalance)):
        total = db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.points), 0))
                                  .where(LedgerEntry.household_id == bal.household_id))
        assert bal.earned_score == Decimal(total)
    reset_ledger()


def reset_ledger():
    """Empty the ledger between hypothesis examples (the world stays)."""
    from app.scoring.models import EntryTransition, HouseholdMonth, LedgerChain, VillageMonth
    db.session.execute(EntryTransition.__table__.delete())
    db.session.execute(HouseholdMonth.__table__.delete())
    db.session.execute(VillageMonth.__table__.delete())
    db.session.execute(LedgerEntry.__table__.delete().where(LedgerEntry.reverses_id.isnot(None)))
    db.session.execute(LedgerEntry.__table__.delete())
    db.session.execute(LedgerChain.__table__.delete())
    db.session.execute(HouseholdBalance.__table__.update().values(
        earned_score=0, spendable_balance=0, pending_points=0, entry_count=0, reached_at=None))
    db.session.commit()


def test_concurrent_postings_and_reversals_lose_nothing(app, world):
    """Eight threads post to one household at once (and race to reverse one entry)."""
    hid, item_id = world["hh"]["a1"].id, item(world["village_a"], "义务巡逻").id
    uid = world["users"]["scorer"].id
    target_id = _post(world, name="红白喜事简办").id
    db.session.commit()
    db.session.close()  # on SQLite every transaction holds the write lock (BEGIN IMMEDIATE)
    errors, reversals = [], []
    barrier = threading.Barrier(8)

    def worker(n):
        from app.accounts.models import User
        from app.households.models import Household
        with app.app_context():
            try:
                barrier.wait()
                for i in range(5):
                    post_entry(household=db.session.get(Household, hid), item_id=item_id,
                               deed_date=DAY, recorded_by=db.session.get(User, uid),
                               idempotency_key=f"t{n}-{i % 4}")
                    db.session.commit()
                try:
                    reverse_entry(db.session.get(LedgerEntry, target_id), reason="并发",
                                  recorded_by=db.session.get(User, uid))
                    db.session.commit()
                    reversals.append(n)
                except Refusal:
                    db.session.rollback()
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(reversals) == 1
    db.session.expire_all()
    bal = db.session.get(HouseholdBalance, hid)
    assert bal.earned_score == Decimal("16.00")   # 8 threads x 4 distinct keys x 0.5
    assert bal.entry_count == 8 * 4 + 2
    assert balance_faults() == []
