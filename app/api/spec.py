"""The one declarative description of API v1: every operation (its Flask rule, method,
parameters, request body and responses) and every schema.

``views`` registers its routes from ``OPERATIONS`` and validates requests against these
schemas (``validation``); ``openapi`` turns the same data into the OpenAPI 3.1 document.
Schemas are JSON Schema 2020-12 (OpenAPI 3.1's dialect), so a live response can be checked
with ``jsonschema`` against exactly what the document says.
"""
from dataclasses import dataclass, field

INT32 = 2147483647
# Points are exact decimals sent as strings, never JSON numbers (no float touches a point).
POINTS = {"type": "string", "pattern": r"^-?\d{1,8}(\.\d{1,2})?$", "examples": ["5.00"]}
DECIMAL_IN = {"type": "string", "pattern": r"^\d{1,8}(\.\d{1,2})?$", "maxLength": 11}
DATE = {"type": "string", "format": "date", "examples": ["2026-11-02"]}
TIMESTAMP = {"type": "string", "format": "date-time",
             "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$",
             "description": "UTC, ISO 8601 with Z"}
ID = {"type": "integer", "minimum": 1, "maximum": INT32}


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema):
    return {"anyOf": [schema, {"type": "null"}]}


def _obj(props, required=None, **extra):
    return {"type": "object", "properties": props,
            "required": list(props) if required is None else required, **extra}


def _page_of(item):
    return _obj({"items": {"type": "array", "items": _ref(item)},
                 "page": {"type": "integer", "minimum": 1},
                 "per_page": {"type": "integer", "minimum": 1},
                 "total": {"type": "integer", "minimum": 0},
                 "pages": {"type": "integer", "minimum": 0}})


_BALANCE = {"earned_score": POINTS, "spendable_balance": POINTS, "pending_points": POINTS}

SCHEMAS = {
    "Error": _obj({"error": _obj({
        "code": {"type": "string"},
        "message": {"type": "string", "description": "简体中文"},
        "field": _nullable({"type": "string"})})}),
    "User": _obj({"id": ID, "username": {"type": "string"},
                  "display_name": {"type": "string"}, "role": {"type": "string"},
                  "region_id": ID, "permissions": {"type": "array",
                                                   "items": {"type": "string"}}}),
    "Household": _obj({"id": ID, "village_id": ID, "group_id": ID,
                       "group_name": {"type": "string"}, "house_number": {"type": "string"},
                       "head_name": {"type": "string"},
                       "members": {"type": "array", "items": {"type": "string"}},
                       "status": {"enum": ["active", "moved", "merged"]},
                       "enrolled": {"type": "boolean"}, **_BALANCE}),
    "HouseholdPage": _page_of("Household"),
    "HouseholdDetail": {"allOf": [_ref("Household"), _obj({
        "rank": _nullable({"type": "integer", "minimum": 1}),
        "out_of": {"type": "integer", "minimum": 0},
        "entry_count": {"type": "integer", "minimum": 0}})]},
    "Balance": _obj({"household_id": ID, "house_number": {"type": "string"},
                     "head_name": {"type": "string"},
                     "rank": _nullable({"type": "integer", "minimum": 1}),
                     "out_of": {"type": "integer", "minimum": 0},
                     "entry_count": {"type": "integer", "minimum": 0}, **_BALANCE}),
    "BalanceList": _obj({"village_id": ID, "items": {"type": "array",
                                                     "items": _ref("Balance")}}),
    "RuleItem": _obj({"id": ID, "code": {"type": "string"}, "name": {"type": "string"},
                      "kind": {"enum": ["fixed", "range", "scorecard", "rate", "tiered",
                                        "analogy"]},
                      "points": _nullable(POINTS), "min_points": _nullable(POINTS),
                      "max_points": _nullable(POINTS), "points_label": {"type": "string"},
                      "once_only": {"type": "boolean"}, "needs_review": {"type": "boolean"},
                      "veto": {"type": "boolean"},
                      "params": {"type": "object",
                                 "description": "kind-specific, numbers as strings"},
                      "note": _nullable({"type": "string"})}),
    "Category": _obj({"id": ID, "name": {"type": "string"},
                      "cap_points": _nullable(POINTS),
                      "cap_period": _nullable({"type": "string"}),
                      "items": {"type": "array", "items": _ref("RuleItem")}}),
    "Rulebook": _obj({"village_id": ID, "rulebook_id": ID, "name": {"type": "string"},
                      "version_id": ID, "version": {"type": "integer"},
                      "effective_from": DATE, "on": DATE,
                      "params": {"type": "object"},
                      "categories": {"type": "array", "items": _ref("Category")}}),
    "Entry": _obj({
        "id": ID, "household_id": ID, "village_id": ID,
        "kind": {"enum": ["score", "base", "reversal", "spend"]},
        "direction": {"enum": ["award", "deduction", "spend"]},
        "item_id": _nullable(ID), "item_code": {"type": "string"},
        "item_name": {"type": "string"}, "category_name": {"type": "string"},
        "unit_points": POINTS, "quantity": {"type": "integer"}, "points": POINTS,
        "deed_date": DATE, "period": {"type": "string", "pattern": r"^\d{4}-\d\d$"},
        "status": {"type": "string"}, "notice_until": _nullable(DATE),
        "note": _nullable({"type": "string"}), "reason": _nullable({"type": "string"}),
        "member_name": _nullable({"type": "string"}),
        "recorded_by": _nullable({"type": "string"}), "recorded_at": TIMESTAMP,
        "idempotency_key": _nullable({"type": "string"}),
        "reverses_id": _nullable(ID), "reversed_by_id": _nullable(ID)}),
    "EntryPage": _page_of("Entry"),
    "Standing": _obj({"rank": {"type": "integer", "minimum": 1}, "household_id": ID,
                      "house_number": {"type": "string"}, "head_name": {"type": "string"},
                      "group_id": ID, "points": POINTS, "deductions": POINTS}),
    "Board": _obj({"village_id": ID, "period": {"type": "string", "pattern": r"^\d{4}-\d\d$"},
                   "start": DATE, "end": DATE,
                   "red": {"type": "array", "items": _ref("Standing")},
                   "black": {"type": "array", "items": _ref("Standing")}}),
    "NewEntry": _obj({
        "item_id": ID, "deed_date": DATE,
        "quantity": {"type": "integer", "minimum": 1, "maximum": 100, "default": 1},
        "points": {**POINTS, "description": "range and analogy items: the panel's value"},
        "note": {"type": "string", "maxLength": 500},
        "problems": {"type": "integer", "minimum": 0, "maximum": 999,
                     "description": "scorecards: problems found"},
        "units": {**DECIMAL_IN, "description": "rate items: units measured"},
        "tier": {"type": "string", "maxLength": 64},
        "bonus": {**DECIMAL_IN, "description": "bonus points on top"},
        "reference": {"type": "string", "maxLength": 128},
        "member": {"type": "string", "maxLength": 64}},
        required=["item_id", "deed_date"], additionalProperties=False),
    "Reversal": _obj({"reason": {"type": "string", "minLength": 1, "maxLength": 500}},
                     additionalProperties=False),
}


@dataclass(frozen=True)
class Param:
    """A query parameter: ``name``, its JSON schema, whether it is required."""

    name: str
    schema: dict
    description: str = ""
    required: bool = False


@dataclass(frozen=True)
class Operation:
    """One API operation. ``rule`` is the Flask rule under /api/v1 (``<int:x>`` path
    parameters); ``ok`` maps success statuses to a schema name; ``errors`` lists the error
    statuses it may answer; ``body`` names the request schema; ``idempotent`` means it takes
    the Idempotency-Key header."""

    name: str
    rule: str
    method: str
    summary: str
    ok: dict
    errors: tuple = (401, 404, 429)
    query: tuple = ()
    body: str | None = None
    idempotent: bool = False
    auth: bool = True
    tags: tuple = field(default=())


PAGE = (Param("page", {"type": "integer", "minimum": 1, "maximum": 100000, "default": 1}),
        Param("per_page", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}))
_READ = (400, 401, 403, 404, 429)
_WRITE = (400, 401, 403, 404, 422, 429)

OPERATIONS = (
    Operation("openapi", "/openapi.json", "GET", "本文档（OpenAPI 3.1）", {200: None},
              errors=(429,), auth=False, tags=("meta",)),
    Operation("me", "/me", "GET", "当前令牌所属账号", {200: "User"}, errors=(401, 429),
              tags=("meta",)),
    Operation("households", "/villages/<int:village_id>/households", "GET",
              "村里的户（按门牌号、姓名或拼音首字母查找）", {200: "HouseholdPage"},
              errors=_READ, tags=("households",),
              query=(Param("q", {"type": "string", "maxLength": 64},
                           "门牌号、姓名或拼音首字母（zs 找到张三）"),
                     Param("group_id", ID, "村民小组"), *PAGE)),
    Operation("household", "/households/<int:household_id>", "GET",
              "一户：积分、可用积分和排名", {200: "HouseholdDetail"}, errors=_READ,
              tags=("households",)),
    Operation("rulebook", "/villages/<int:village_id>/rulebook", "GET",
              "某日生效的积分细则（类别和评分项）", {200: "Rulebook"}, errors=_READ,
              tags=("rulebooks",), query=(Param("on", DATE, "日期，默认今天"),)),
    Operation("entries", "/households/<int:household_id>/entries", "GET",
              "一户的积分明细（最新的在前，分页）", {200: "EntryPage"}, errors=_READ,
              tags=("entries",), query=PAGE),
    Operation("post_entry", "/households/<int:household_id>/entries", "POST",
              "记分：按生效细则记一条积分（幂等）", {201: "Entry", 200: "Entry"},
              errors=_WRITE, body="NewEntry", idempotent=True, tags=("entries",)),
    Operation("entry", "/entries/<int:entry_id>", "GET", "一条积分明细", {200: "Entry"},
              errors=_READ, tags=("entries",)),
    Operation("reverse_entry", "/entries/<int:entry_id>/reversal", "POST",
              "冲正一条记录（须填原因，幂等）", {201: "Entry", 200: "Entry"},
              errors=_WRITE, body="Reversal", idempotent=True, tags=("entries",)),
    Operation("balance", "/households/<int:household_id>/balance", "GET",
              "一户的积分余额和排名", {200: "Balance"}, errors=_READ, tags=("balances",)),
    Operation("balances", "/villages/<int:village_id>/balances", "GET",
              "全村在册户的积分余额（按排名）", {200: "BalanceList"}, errors=_READ,
              tags=("balances",)),
    Operation("board", "/villages/<int:village_id>/board", "GET",
              "村红黑榜（实时，按月）", {200: "Board"}, errors=_READ, tags=("boards",),
              query=(Param("period", {"type": "string", "pattern": r"^\d{4}-(0[1-9]|1[0-2])$"},
                           "月份 YYYY-MM，默认本月"),)),
)

BY_NAME = {op.name: op for op in OPERATIONS}
