"""Transaction-scoped memos (app.memo, issue 10): what a request reads once is never served
after the rows behind it changed, after the transaction ended, or after a savepoint that
wrote the chain was rolled back."""
from datetime import date, timedelta

from sqlalchemy import event, select

from app.extensions import db
from app.memo import memo
from app.rewards.gates import set_open_days, settings_of
from app.rules.queries import version_in_force
from app.rules.services import adopt_version, new_draft_from
from app.scoring.chain import chain_head
from app.scoring.checks import verify
from app.scoring.models import EntryTransition, LedgerEntry
from app.scoring.services import post_entry
from tests.conftest import item

DAY = date(2026, 11, 2)


def _post(world, hh="a1"):
    return post_entry(household=world["hh"][hh], recorded_by=world["users"]["scorer"],
                      item_id=item(world["village_a"], "红白喜事简办").id, deed_date=DAY)


def test_the_rulebook_in_force_is_read_again_once_a_version_is_adopted(world):
    v = world["village_a"]
    first = version_in_force(v, DAY)
    assert version_in_force(v, DAY) is first            # the memo answers
    draft = new_draft_from(first)
    adopt_version(draft, adopted_on=DAY, effective_from=DAY, decision="村民代表会议")
    assert version_in_force(v, DAY) is draft            # the flush dropped the memo
    draft.effective_from = date(2026, 11, 20)           # pending, not flushed: bypassed
    assert version_in_force(v, DAY) is first
    db.session.rollback()
    assert version_in_force(v, DAY).id == first.id


def test_memos_end_with_their_transaction(world):
    db.session.execute(select(1))
    memo("probe")["k"] = 1
    assert memo("probe") == {"k": 1}
    db.session.commit()
    assert memo("probe") is None                        # no transaction: nothing to keep
    db.session.execute(select(1))
    assert memo("probe") == {}
    memo("probe")["k"] = 2
    db.session.rollback()
    db.session.execute(select(1))
    assert memo("probe") == {}


def test_chain_stays_whole_when_a_savepoint_with_appends_is_rolled_back(world):
    """The chain head remembered under the lock is forgotten when a savepoint ends, so an
    append after a rolled-back one continues from the head the database kept."""
    vid = world["village_a"].id
    _post(world)
    savepoint = db.session.begin_nested()
    _post(world, "a2")
    savepoint.rollback()
    _post(world, "a3")
    db.session.commit()
    assert verify() == []
    seqs = sorted([*db.session.scalars(select(LedgerEntry.seq)
                                       .where(LedgerEntry.village_id == vid)),
                   *db.session.scalars(select(EntryTransition.seq)
                                       .where(EntryTransition.village_id == vid))])
    assert seqs == list(range(1, len(seqs) + 1)) and chain_head(vid)[0] == len(seqs)
    households = db.session.scalars(select(LedgerEntry.household_id)
                                     .where(LedgerEntry.village_id == vid)).all()
    assert world["hh"]["a2"].id not in households


def test_supermarket_settings_are_read_again_once_saved(world):
    vid = world["village_a"].id
    assert settings_of(vid).open_days == ""
    set_open_days(vid, "10,25")
    assert settings_of(vid).open_days == "10,25"
    db.session.commit()
    set_open_days(vid, "")
    assert settings_of(vid).open_days == ""


def test_a_sanction_is_read_once_a_transaction_and_again_once_reversed(world):
    """A redemption asks for the household's sanction in the view and in the service: one
    read; a reversal flushed in the same transaction lifts it at once."""
    from app.rules.uses_state import redemption_block
    from app.scoring.periods import local_today
    from app.scoring.services import reverse_entry
    from tests.rule_uses_helpers import uses_rulebook
    uses_rulebook(world)
    h, today = world["hh"]["a1"], local_today()
    sanction = post_entry(household=h, recorded_by=world["users"]["vadmin"],
                          item_id=item(world["village_a"], "参与赌博").id,
                          deed_date=today - timedelta(days=3))
    db.session.commit()
    assert sanction.status == "confirmed"               # the test villages have no notice
    statements = []
    listen = lambda *args: statements.append(args[2])   # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        first = redemption_block(h, today)
        reads = len(statements)
        assert first[0].id == sanction.id and reads >= 1
        assert redemption_block(h, today) == first and len(statements) == reads
        reverse_entry(sanction, reason="复核", recorded_by=world["users"]["vadmin"])
        db.session.flush()
        assert redemption_block(h, today) is None       # the flush dropped the memo
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    db.session.rollback()
    assert redemption_block(h, today)[0].id == sanction.id   # the reversal was rolled back
