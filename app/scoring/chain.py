"""The per-village hash chain over ledger entries and their status transitions.

Every append takes the village's ``LedgerChain`` row first (an UPDATE: a row lock on
PostgreSQL, the write lock on SQLite), so a village's appends are serialized and ``seq`` runs
1, 2, 3... without gaps. Each row's ``hash`` is SHA-256 over the previous row's hash and a
canonical text of the row's unchangeable fields; the chain head (last seq and hash) is kept
in ``LedgerChain`` and printed on audit exports, so a later check proves nothing changed.
"""
import hashlib
from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.memo import memo
from app.scoring.models import EntryTransition, LedgerChain, LedgerEntry

ENTRY_FIELDS = ("seq", "village_id", "household_id", "kind", "direction",
                "rulebook_version_id", "item_id", "item_code", "item_name", "category_name",
                "unit_points", "quantity", "points", "deed_date", "period",
                "note", "reason", "recorded_by_id", "recorded_at", "idempotency_key",
                "reverses_id", "evidence_id", "spendable", "member_name")
TRANSITION_FIELDS = ("seq", "village_id", "entry_id", "from_status", "to_status",
                     "by_user_id", "at", "reason")


def _canon(value) -> str:
    """A stable text for a field value, equal before and after a database round trip."""
    if value is None:
        return "\u2400"
    if isinstance(value, Decimal):
        return format(value.quantize(Decimal("0.01")), "f")
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def row_hash(row, prev_hash: str) -> str:
    """SHA-256 (hex) of ``prev_hash`` and the canonical fields of an entry or transition."""
    if isinstance(row, LedgerEntry):
        tag, fields = "E", ENTRY_FIELDS
    else:
        tag, fields = "T", TRANSITION_FIELDS
    text = "\x1f".join([tag, prev_hash] + [_canon(getattr(row, f)) for f in fields])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def lock_chain(village_id: int):
    """Lock the village's chain row for this transaction; return (seq, head_hash).

    Creates the row on a village's first append (racing creators are resolved by the
    primary key, in a savepoint). The head is remembered for this transaction
    (``app.memo``), so the appends under the lock need not read it again.
    """
    stmt = (update(LedgerChain).where(LedgerChain.village_id == village_id)
            .values(seq=LedgerChain.seq).returning(LedgerChain.seq, LedgerChain.head_hash))
    row = db.session.execute(stmt).first()
    if row is None:
        try:
            with db.session.begin_nested():
                db.session.execute(insert(LedgerChain).values(village_id=village_id, seq=0,
                                                              head_hash=""))
        except IntegrityError:
            pass
        row = db.session.execute(stmt).first()
    heads = memo("chain_head")
    if heads is not None:
        heads[village_id] = (row[0], row[1])
    return row[0], row[1]


def append(row) -> None:
    """Give ``row`` (a new LedgerEntry or EntryTransition, not yet added) the next place in
    its village's chain, add and flush it, and move the chain head. The caller must hold the
    chain lock (``lock_chain``) in this transaction. A failed insert (a unique violation)
    raises before the head moves, and the caller's transaction is rolled back."""
    heads = memo("chain_head")
    if heads is not None and row.village_id in heads:
        seq, head = heads[row.village_id]
    else:   # a savepoint ended since the lock was taken: read the head again
        seq, head = db.session.execute(
            select(LedgerChain.seq, LedgerChain.head_hash)
            .where(LedgerChain.village_id == row.village_id)).one()
    row.seq = seq + 1
    row.prev_hash = head
    row.hash = row_hash(row, head)
    db.session.add(row)
    db.session.flush()
    db.session.execute(update(LedgerChain).where(LedgerChain.village_id == row.village_id)
                       .values(seq=row.seq, head_hash=row.hash))
    heads = memo("chain_head")
    if heads is not None:
        heads[row.village_id] = (row.seq, row.hash)


def chain_head(village_id: int):
    """(seq, head_hash) of a village's chain; (0, "") before its first entry."""
    row = db.session.execute(select(LedgerChain.seq, LedgerChain.head_hash)
                             .where(LedgerChain.village_id == village_id)).first()
    return (row[0], row[1]) if row else (0, "")


def chain_rows(village_id: int):
    """A village's entries and transitions merged in chain order (a list)."""
    entries = db.session.execute(select(LedgerEntry).where(LedgerEntry.village_id == village_id)
                                 ).scalars().all()
    moves = db.session.execute(select(EntryTransition)
                               .where(EntryTransition.village_id == village_id)).scalars().all()
    return sorted([*entries, *moves], key=lambda r: r.seq)
