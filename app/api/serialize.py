"""Model -> JSON dicts for the API. Points are decimal strings with two places ("5.00"),
dates local ISO dates, timestamps UTC ISO 8601 with Z (the shapes are in ``spec``)."""
from datetime import timezone
from decimal import Decimal

CENT = Decimal("0.01")


def points(value) -> str | None:
    """Decimal points as a string with two decimals; None stays None."""
    if value is None:
        return None
    return format(Decimal(value).quantize(CENT), "f")


def day(value) -> str | None:
    """A local date as YYYY-MM-DD."""
    return value.isoformat() if value is not None else None


def timestamp(value) -> str | None:
    """A UTC timestamp as YYYY-MM-DDTHH:MM:SSZ (naive values from SQLite are UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _balance(balance) -> dict:
    return {"earned_score": points(balance.earned_score if balance else 0),
            "spendable_balance": points(balance.spendable_balance if balance else 0),
            "pending_points": points(balance.pending_points if balance else 0)}


def user(u) -> dict:
    from app.accounts.roles import ROLES
    return {"id": u.id, "username": u.username, "display_name": u.display_name,
            "role": u.role, "region_id": u.region_id,
            "permissions": sorted(ROLES.get(u.role, {}).get("perms", ()))}


def household(h) -> dict:
    return {"id": h.id, "village_id": h.village_id, "group_id": h.group_id,
            "group_name": h.group.name if h.group else "", "house_number": h.house_number,
            "head_name": h.head_name, "members": list(h.member_names), "status": h.status,
            "enrolled": bool(h.enrolled), **_balance(h.balance)}


def household_detail(h, rank, out_of) -> dict:
    return {**household(h), "rank": rank, "out_of": out_of,
            "entry_count": h.balance.entry_count if h.balance else 0}


def balance(h, rank, out_of) -> dict:
    return {"household_id": h.id, "house_number": h.house_number, "head_name": h.head_name,
            "rank": rank, "out_of": out_of,
            "entry_count": h.balance.entry_count if h.balance else 0, **_balance(h.balance)}


def entry(e) -> dict:
    return {"id": e.id, "household_id": e.household_id, "village_id": e.village_id,
            "kind": e.kind, "direction": e.direction, "item_id": e.item_id,
            "item_code": e.item_code, "item_name": e.item_name,
            "category_name": e.category_name, "unit_points": points(e.unit_points),
            "quantity": e.quantity, "points": points(e.points), "deed_date": day(e.deed_date),
            "period": e.period, "status": e.status, "notice_until": day(e.notice_until),
            "note": e.note, "reason": e.reason, "member_name": e.member_name,
            "recorded_by": e.recorded_by.display_name if e.recorded_by else None,
            "recorded_at": timestamp(e.recorded_at), "idempotency_key": e.idempotency_key,
            "reverses_id": e.reverses_id,
            "reversed_by_id": e.reversed_by.id if e.reversed_by is not None else None}


def page(pagination, serialize) -> dict:
    return {"items": [serialize(x) for x in pagination.items], "page": pagination.page,
            "per_page": pagination.per_page, "total": pagination.total or 0,
            "pages": pagination.pages}


def rule_item(i) -> dict:
    return {"id": i.id, "code": i.code, "name": i.name, "kind": i.kind,
            "points": points(i.points), "min_points": points(i.min_points),
            "max_points": points(i.max_points), "points_label": i.points_label,
            "once_only": bool(i.once_only), "needs_review": bool(i.needs_review),
            "veto": bool(i.veto), "params": i.params or {}, "note": i.note}


def rulebook(village, version, on) -> dict:
    return {"village_id": village.id, "rulebook_id": version.rulebook_id,
            "name": version.rulebook.name, "version_id": version.id,
            "version": version.number, "effective_from": day(version.effective_from),
            "on": day(on), "params": version.params or {},
            "categories": [{"id": c.id, "name": c.name, "cap_points": points(c.cap_points),
                            "cap_period": c.cap_period,
                            "items": [rule_item(i) for i in c.items]}
                           for c in version.categories]}


def standing(s) -> dict:
    return {"rank": s.rank, "household_id": s.household_id, "house_number": s.house_number,
            "head_name": s.head_name, "group_id": s.group_id, "points": points(s.points),
            "deductions": points(s.deductions)}


def board(village_id, b) -> dict:
    return {"village_id": village_id, "period": b.period.label, "start": day(b.period.start),
            "end": day(b.period.end), "red": [standing(s) for s in b.red],
            "black": [standing(s) for s in b.black]}
