"""API v1 views (blueprint ``api`` at /api/v1). Thin: they check the token's permission,
look objects up through the region scope (foreign objects are 404), call the services and
serialize. Routes come from ``spec.OPERATIONS``, so the document lists exactly these."""
import hashlib

from flask import Blueprint, g, jsonify, url_for
from flask_babel import gettext as _
from sqlalchemy import inspect, select
from sqlalchemy.orm import joinedload, selectinload

from app.api import serialize as ser
from app.api import validation
from app.api.auth import (api_limit, auth_fail_limit, authenticate_request, require,
                          scope)
from app.api.errors import ApiError, register
from app.api.models import ApiPosting
from app.api.spec import BY_NAME, INT32
from app.boards.queries import village_board
from app.extensions import csrf, db
from app.households.queries import household_or_404, search_stmt, village_or_404
from app.regions.queries import get_scoped_or_404
from app.rules.engine import N_, Refusal
from app.rules.queries import version_in_force
from app.scoring import services
from app.scoring.models import LedgerEntry
from app.scoring.periods import local_today, month_period
from app.scoring.queries import rank_of, standings

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)   # bearer tokens, never cookies: nothing for a forged request to ride on
register(bp)
# Rate limits on the whole blueprint, checked before authentication (so 401s count too).
api_limit(bp)
auth_fail_limit(bp)
bp.before_request(authenticate_request)


@bp.url_value_preprocessor
def _ids_in_range(_endpoint, values):
    """Path ids beyond a 32-bit integer cannot exist: 404 (not a database overflow)."""
    for value in (values or {}).values():
        if isinstance(value, int) and not 1 <= value <= INT32:
            raise ApiError(404, "not_found", _("没有找到"))


@bp.after_request
def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


def operation(name):
    """Register the decorated view for the operation ``name`` of the spec (its rule and
    method)."""
    op = BY_NAME[name]

    def deco(view):
        view.api_public = not op.auth
        bp.add_url_rule(op.rule, endpoint=name, view_func=view, methods=[op.method])
        return view
    return deco


@operation("openapi")
def openapi():
    """The OpenAPI 3.1 document (public)."""
    from app.api.openapi import document
    return jsonify(document())


@operation("me")
def me():
    """The token's account: role, region and permissions."""
    return jsonify(ser.user(g.api_user))


@operation("households")
def households(village_id):
    """A page of a village's active households matching ``q`` (households.queries)."""
    require("view")
    village = village_or_404(village_id, scope())
    args = validation.query(BY_NAME["households"])
    stmt = search_stmt(village.id, args["q"] or "", args["group_id"])
    result = db.paginate(stmt, page=args["page"], per_page=args["per_page"], error_out=False)
    return jsonify(ser.page(result, ser.household))


@operation("household")
def household(household_id):
    """One household with its balances and rank (scoring.queries.rank_of)."""
    require("view")
    h = household_or_404(household_id, scope())
    rank, out_of = rank_of(h)
    return jsonify(ser.household_detail(h, rank, out_of))


@operation("rulebook")
def rulebook(village_id):
    """The rulebook version in force on ``on`` (default today), with its items."""
    require("view")
    village = village_or_404(village_id, scope())
    on = validation.query(BY_NAME["rulebook"])["on"] or local_today()
    version = version_in_force(village, on)
    if version is None:
        raise ApiError(404, "no_rulebook", _("这一天没有生效的积分细则"), "on")
    return jsonify(ser.rulebook(village, version, on))


@operation("entries")
def entries(household_id):
    """A page of a household's ledger entries, newest first (past the end: empty)."""
    require("view")
    h = household_or_404(household_id, scope())
    args = validation.query(BY_NAME["entries"])
    stmt = (select(LedgerEntry).where(LedgerEntry.household_id == h.id)
            .options(selectinload(LedgerEntry.reversed_by), joinedload(LedgerEntry.recorded_by))
            .order_by(LedgerEntry.id.desc()))
    result = db.paginate(stmt, page=args["page"], per_page=args["per_page"], error_out=False)
    return jsonify(ser.page(result, ser.entry))


@operation("entry")
def entry(entry_id):
    """One ledger entry."""
    require("view")
    return jsonify(ser.entry(get_scoped_or_404(LedgerEntry, entry_id, "village_id", scope())))


def _fingerprint(target: str, canonical: str) -> str:
    return hashlib.sha256(f"{target}\n{canonical}".encode("utf-8")).hexdigest()


def _key_used(key: str) -> bool:
    """True when an entry already carries idempotency ``key`` (committed before this
    request looked)."""
    return db.session.execute(
        select(LedgerEntry.id).where(LedgerEntry.idempotency_key == key)
    ).first() is not None


def _answer(entry_row, fingerprint: str, same_request, key_was_used: bool):
    """201 for an entry this request created (its fingerprint kept), 200 for the first
    answer to a repeated key; a repeat whose body differs is refused (422 key_reused).

    Created means: the key was unused when the request began and the service added the row
    in this session (``insert_order``; a twin request's row is loaded, not added)."""
    created = not key_was_used and inspect(entry_row).insert_order is not None
    if created:
        db.session.add(ApiPosting(entry_id=entry_row.id, token_id=g.api_token.id,
                                  body_hash=fingerprint))
    else:
        posting = db.session.get(ApiPosting, entry_row.id)
        same = posting.body_hash == fingerprint if posting else same_request(entry_row)
        if not same:
            raise Refusal("key_reused", N_("这个表单已经提交过别的记录，请刷新页面后重试"))
    db.session.commit()
    resp = jsonify(ser.entry(entry_row))
    resp.status_code = 201 if created else 200
    resp.headers["Location"] = url_for("api.entry", entry_id=entry_row.id)
    if not created:
        resp.headers["Idempotent-Replayed"] = "true"
    return resp


_DEED = ("problems", "units", "tier", "bonus", "reference", "member")


@operation("post_entry")
def post_entry(household_id):
    """Score a household (scoring.services.post_entry), idempotent by Idempotency-Key:
    201 new, 200 repeat, 422 refusal or key reused for another body."""
    require("score")
    h = household_or_404(household_id, scope())
    key = validation.idempotency_key()
    data, canonical = validation.body(BY_NAME["post_entry"])
    used = _key_used(key)
    extras = {k: data[k] for k in _DEED if data.get(k) not in (None, "")}
    row = services.post_entry(
        household=h, item_id=data["item_id"], deed_date=data["deed_date"],
        recorded_by=g.api_user, quantity=data.get("quantity", 1), points=data.get("points"),
        note=data.get("note"), idempotency_key=key, **extras)
    return _answer(row, _fingerprint(f"entry:{h.id}", canonical),
                   lambda e: (e.item_id, e.deed_date) == (data["item_id"], data["deed_date"]),
                   used)


@operation("reverse_entry")
def reverse_entry(entry_id):
    """Reverse an entry with a reason (scoring.services.reverse_entry), idempotent."""
    require("score")
    original = get_scoped_or_404(LedgerEntry, entry_id, "village_id", scope())
    key = validation.idempotency_key()
    data, canonical = validation.body(BY_NAME["reverse_entry"])
    used = _key_used(key)
    row = services.reverse_entry(original, reason=data["reason"], recorded_by=g.api_user,
                                 idempotency_key=key)
    return _answer(row, _fingerprint(f"reversal:{original.id}", canonical),
                   lambda e: (e.reason or "") == data["reason"].strip(), used)


@operation("balance")
def balance(household_id):
    """A household's balances and rank."""
    require("view")
    h = household_or_404(household_id, scope())
    rank, out_of = rank_of(h)
    return jsonify(ser.balance(h, rank, out_of))


@operation("balances")
def balances(village_id):
    """Balances of a village's active households in rank order (standings)."""
    require("view")
    village = village_or_404(village_id, scope())
    table = standings(village.id)
    rows = {h.id: h for h in db.session.execute(
        search_stmt(village.id)).unique().scalars()}
    items = [ser.balance(rows[s.household_id], s.rank, len(table))
             for s in table if s.household_id in rows]
    return jsonify({"village_id": village.id, "items": items})


@operation("board")
def board(village_id):
    """The live red/black board of a month (boards.queries.village_board)."""
    require("view")
    village = village_or_404(village_id, scope())
    text = validation.query(BY_NAME["board"])["period"]
    period = month_period(local_today())
    if text:
        from app.scoring.periods import parse_month
        period = parse_month(text)
        if period is None:
            raise ApiError(400, "invalid", _("月份应为 2000-01～2099-12"), "period")
    return jsonify(ser.board(village.id, village_board(village.id, period)))
