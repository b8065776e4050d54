"""bench/generate.py builds a county the app's own invariants accept (issue 10): hash chains,
statuses and balances pass ``flask ledger verify``, with a realistic mix of entries."""
import importlib.util
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from app.extensions import db
from app.scoring.models import HouseholdBalance, LedgerEntry

ROOT = Path(__file__).resolve().parent.parent


def _generator():
    spec = importlib.util.spec_from_file_location("bench_generate",
                                                  ROOT / "bench" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_county(app):
    """One small county (the fixture cost is the region tree and rulebooks): it verifies,
    its mix is realistic, and an edit behind the app's back is found."""
    county = _generator().populate(villages=2, households=80, entries=3000, seed=7)
    _passes_ledger_verify(app, county)
    _mix_is_realistic()
    _tampering_is_found(app)


def _passes_ledger_verify(app, county):
    assert county["entries"] == 3000
    assert db.session.execute(select(func.count(LedgerEntry.id))).scalar_one() == 3000
    result = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert result.exit_code == 0, result.output
    assert "0 fault(s)" in result.output
    for vid in county["villages"]:
        assert f"chain head village {vid}: seq" in result.output


def _mix_is_realistic():
    counts = dict(db.session.execute(
        select(LedgerEntry.kind, func.count()).group_by(LedgerEntry.kind)).all())
    assert counts.get("reversal", 0) > 3000 * 0.01
    assert counts.get("spend", 0) > 0
    statuses = dict(db.session.execute(
        select(LedgerEntry.status, func.count()).group_by(LedgerEntry.status)).all())
    assert statuses["confirmed"] > 3000 * 0.8
    assert statuses.get("under_notice", 0) > 0
    deductions = db.session.execute(select(func.count()).where(
        LedgerEntry.direction == "deduction", LedgerEntry.kind == "score")).scalar_one()
    assert deductions > 0
    # no household ever spends more than it holds
    assert db.session.execute(select(func.min(HouseholdBalance.spendable_balance))
                              ).scalar_one() >= Decimal(0)


def _tampering_is_found(app):
    """The hashes are the app's, not a look-alike: an edit behind the app's back is found."""
    entry = db.session.execute(select(LedgerEntry).where(LedgerEntry.kind == "score")
                               .order_by(LedgerEntry.id).limit(1)).scalar_one()
    db.session.execute(LedgerEntry.__table__.update().where(LedgerEntry.id == entry.id)
                       .values(note="改过"))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert result.exit_code != 0
    assert f"ledger_entry#{entry.id}" in result.output
