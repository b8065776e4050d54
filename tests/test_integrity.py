"""Issue 4 integrity: hash chain, tamper detection at the row, conditional spends, and
idempotency under concurrency (PostgreSQL and SQLite)."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from app.extensions import db
from app.rules.engine import Refusal
from app.scoring.chain import chain_head
from app.scoring.checks import verify
from app.scoring.models import EntryTransition, HouseholdBalance, LedgerEntry
from app.scoring.services import post_entry, reverse_entry, spend
from tests.conftest import item, run_threads

DAY = date(2026, 11, 2)


def _post(world, hh="a1", name="红白喜事简办", **kw):
    return post_entry(household=world["hh"][hh], item_id=item(world["village_a"], name).id,
                      deed_date=DAY, recorded_by=world["users"]["scorer"], **kw)


def _some_ledger(world):
    e1 = _post(world)
    _post(world, hh="a2", name="乱堆乱放")
    reverse_entry(e1, reason="记错", recorded_by=world["users"]["scorer"])
    _post(world, hh="a3", name="拾金不昧", points="8")
    db.session.commit()


def test_chain_links_every_row_and_verify_passes(world):
    _some_ledger(world)
    vid = world["village_a"].id
    entries = db.session.scalars(select(LedgerEntry).where(LedgerEntry.village_id == vid)
                                 .order_by(LedgerEntry.seq)).all()
    moves = db.session.scalars(select(EntryTransition).order_by(EntryTransition.seq)).all()
    seqs = sorted([e.seq for e in entries] + [m.seq for m in moves])
    assert seqs == list(range(1, len(seqs) + 1))
    assert chain_head(vid)[0] == len(seqs)
    assert verify() == []


TAMPERS = [
    ("ledger_entry", "UPDATE ledger_entry SET points = points + 1 WHERE id = :id"),
    ("ledger_entry", "UPDATE ledger_entry SET item_name = 'x' WHERE id = :id"),
    ("ledger_entry", "UPDATE ledger_entry SET recorded_by_id = NULL WHERE id = :id"),
    ("ledger_entry", "UPDATE ledger_entry SET deed_date = '2026-10-01' WHERE id = :id"),
    ("ledger_entry", "UPDATE ledger_entry SET status = 'cancelled' WHERE id = :id"),
    ("entry_transition", "UPDATE entry_transition SET to_status = 'declined' WHERE id = :id"),
    ("household_balance",
     "UPDATE household_balance SET spendable_balance = spendable_balance + 100 "
     "WHERE household_id = :id"),
]


@pytest.mark.parametrize("table,sql", TAMPERS)
def test_raw_sql_tampering_is_reported_at_that_row(world, table, sql):
    _some_ledger(world)
    if table == "household_balance":
        target = world["hh"]["a2"].id
    elif table == "entry_transition":
        target = db.session.scalars(select(EntryTransition.id).order_by(EntryTransition.id)
                                    .offset(2)).first()
    else:
        target = db.session.scalars(select(LedgerEntry.id).order_by(LedgerEntry.id)
                                    .offset(1)).first()
    db.session.execute(text(sql), {"id": target})
    db.session.commit()
    faults = verify()
    assert faults, "tampering went unnoticed"
    assert (faults[0].table, faults[0].row_id) == (table, target), faults


def test_deleting_a_row_or_the_tail_is_reported(world):
    _some_ledger(world)
    last = db.session.scalars(select(EntryTransition).order_by(EntryTransition.seq.desc())
                              ).first()
    db.session.execute(text("DELETE FROM entry_transition WHERE id = :id"), {"id": last.id})
    db.session.commit()
    faults = verify()
    assert faults[0].table == "ledger_chain"
    middle = db.session.scalars(select(LedgerEntry).order_by(LedgerEntry.seq)).all()[1]
    db.session.execute(text("DELETE FROM entry_transition WHERE entry_id = :id"),
                       {"id": middle.id})
    db.session.execute(text("DELETE FROM ledger_entry WHERE id = :id"), {"id": middle.id})
    db.session.commit()
    faults = verify()
    assert "seq" in faults[0].message


def test_verify_cli_exits_non_zero_and_names_the_row(app, world):
    _some_ledger(world)
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["ledger", "verify", "--village", world["village_a"].code])
    assert ok.exit_code == 0 and "0 fault(s)" in ok.output and "chain head" in ok.output
    target = db.session.scalars(select(LedgerEntry.id).order_by(LedgerEntry.id)).first()
    db.session.execute(text("UPDATE ledger_entry SET points = 99 WHERE id = :id"),
                       {"id": target})
    db.session.commit()
    bad = runner.invoke(args=["ledger", "verify"])
    assert bad.exit_code == 1 and f"ledger_entry#{target}" in bad.output


def test_spend_never_overspends_and_does_not_touch_earned(world):
    for _ in range(2):
        _post(world)  # 10 points
    db.session.commit()
    h = world["hh"]["a1"]
    spend(household=h, points="7", recorded_by=world["users"]["scorer"], reason="大米")
    with pytest.raises(Refusal) as err:
        spend(household=h, points="3.01", recorded_by=world["users"]["scorer"], reason="油")
    assert err.value.code == "insufficient"
    db.session.commit()
    db.session.refresh(h.balance)
    assert (h.balance.earned_score, h.balance.spendable_balance) == (Decimal("10"),
                                                                     Decimal("3"))
    assert verify() == []


def test_fifty_concurrent_redemptions_yield_exactly_k(app, world):
    """50 threads each spend 1.5 points against a balance that covers exactly k = 7."""
    k = 7
    for _ in range(2):
        _post(world)   # +10
    _post(world, name="义务巡逻")   # +0.5 -> 10.5 = 7 x 1.5
    db.session.commit()
    hid = world["hh"]["a1"].id
    db.session.close()

    def redeem(i):
        from app.households.models import Household
        with app.app_context():
            try:
                spend(household=db.session.get(Household, hid), points="1.5",
                      recorded_by=None, reason="兑换", idempotency_key=f"r{i}")
                db.session.commit()
                return True
            except Refusal as exc:
                db.session.rollback()
                assert exc.code == "insufficient"
                return False
            finally:
                db.session.remove()

    results, errors = run_threads(50, redeem)
    assert errors == []
    assert results.count(True) == k
    bal = db.session.get(HouseholdBalance, hid)
    assert bal.spendable_balance == Decimal("0") and bal.earned_score == Decimal("10.5")
    assert verify() == []


def test_twenty_parallel_posts_with_one_key_make_one_entry(app, world):
    hid, iid = world["hh"]["a1"].id, item(world["village_a"], "红白喜事简办").id
    uid = world["users"]["scorer"].id
    db.session.close()

    def post(i):
        from app.accounts.models import User
        from app.households.models import Household
        with app.app_context():
            try:
                e = post_entry(household=db.session.get(Household, hid), item_id=iid,
                               deed_date=DAY, recorded_by=db.session.get(User, uid),
                               idempotency_key="same-key")
                db.session.commit()
                return e.id
            finally:
                db.session.remove()

    results, errors = run_threads(20, post)
    assert errors == []
    assert len(set(results)) == 1
    assert db.session.scalar(select(func.count(LedgerEntry.id))) == 1
    assert db.session.get(HouseholdBalance, hid).earned_score == Decimal("5")
    assert verify() == []
