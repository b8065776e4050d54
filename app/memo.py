"""Transaction-scoped memos (issue 10: a posting read the rulebook in force five times).

A memo is a dict kept in the session's ``info`` for the life of one transaction: it is
dropped when any transaction or savepoint of the session ends (commit, rollback, release),
so nothing read under one transaction, or inside a savepoint that was rolled back, is served
to the next. A memo that depends on some tables names their mapped classes (``watch``): the
memo is also dropped when a flush writes a row of one of them, and bypassed while such a row
is pending in the session. This module is the one place memos are invalidated.
"""
from itertools import chain

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db

_WATCHED: dict = {}   # memo name -> tuple of mapped classes whose writes drop it


def watch(name: str, *classes) -> None:
    """Drop memo ``name`` whenever a row of one of ``classes`` is written (at import time)."""
    _WATCHED[name] = _WATCHED.get(name, ()) + classes


def memo(name: str) -> dict | None:
    """The current transaction's memo ``name`` (a dict to read and fill), or None outside a
    transaction or while a row it depends on is pending (added, changed or deleted, not yet
    flushed): the caller then reads the database, which begins a transaction or flushes."""
    session = db.session()
    if not session.in_transaction():
        return None
    classes = _WATCHED.get(name)
    if classes and _pending(session, classes):
        return None
    return session.info.setdefault("memo", {}).setdefault(name, {})


def _pending(session, classes) -> bool:
    return any(isinstance(obj, classes)
               for obj in chain(session.new, session.dirty, session.deleted))


@event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session, transaction):
    session.info.pop("memo", None)


@event.listens_for(Session, "after_flush")
def _flushed(session, flush_context):
    memos = session.info.get("memo")
    if not memos:
        return
    for name, classes in _WATCHED.items():
        if name in memos and _pending(session, classes):
            del memos[name]
