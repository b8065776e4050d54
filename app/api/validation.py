"""Request validation against the schemas of ``spec`` (the same ones the document shows).

Failures raise ``ApiError(400)`` naming the field, with a Chinese message.
"""
import json
from datetime import date
from decimal import Decimal

from flask import request
from flask_babel import gettext as _
from jsonschema import Draft202012Validator

from app.api.errors import ApiError
from app.api.spec import SCHEMAS

_REGISTRY = {"components": {"schemas": SCHEMAS}}


def _validator(schema):
    return Draft202012Validator({**schema, "components": _REGISTRY["components"]})


def _fail(field, message=None):
    raise ApiError(400, "invalid", message or _("%(field)s 填写不正确", field=field), field)


def _check(schema, value, field):
    error = next(iter(_validator(schema).iter_errors(value)), None)
    if error is None:
        return
    path = [str(p) for p in error.absolute_path]
    name = path[0] if path else field
    if error.validator == "required":
        name = error.message.split("'")[1] if "'" in error.message else field
        _fail(name, _("缺少 %(field)s", field=name))
    if error.validator == "additionalProperties":
        _fail(name, _("不认识的字段：%(detail)s", detail=error.message))
    _fail(name)


def _iso_date(value, field):
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        _fail(field, _("%(field)s 应为日期 YYYY-MM-DD", field=field))


def query(op) -> dict:
    """The query parameters of ``op`` (a spec.Operation), typed and validated: integers
    parsed, dates as ``date``; missing optional ones take their default (or None)."""
    values = {}
    for param in op.query:
        raw = request.args.get(param.name)
        if raw is None or raw == "":
            if param.required:
                _fail(param.name, _("缺少 %(field)s", field=param.name))
            values[param.name] = param.schema.get("default")
            continue
        value = raw
        if param.schema.get("type") == "integer":
            if not raw.lstrip("-").isdigit() or len(raw) > 12:
                _fail(param.name)
            value = int(raw)
        _check(param.schema, value, param.name)
        if param.schema.get("format") == "date":
            value = _iso_date(value, param.name)
        values[param.name] = value
    return values


def body(op) -> tuple:
    """``(data, fingerprint)``: the JSON body of ``op`` validated against its schema (dates
    parsed; decimal strings as Decimal) and the canonical JSON text it was read from."""
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", _("请求内容须为 JSON"))
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", _("请求内容须为 JSON 对象"))
    schema = SCHEMAS[op.body]
    _check(schema, data, "body")
    for name, value in data.items():   # no database stores NUL; PostgreSQL raises on it
        if isinstance(value, str) and "\x00" in value:
            _fail(name)
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    parsed = dict(data)
    for name, prop in schema["properties"].items():
        if name not in parsed:
            continue
        if prop.get("format") == "date":
            parsed[name] = _iso_date(parsed[name], name)
        elif prop.get("type") == "string" and "pattern" in prop and name in (
                "points", "units", "bonus"):
            parsed[name] = Decimal(parsed[name])
    return parsed, canonical


def idempotency_key() -> str:
    """The Idempotency-Key header: required, 1-64 characters of ``A-Z a-z 0-9 . _ : -``."""
    key = request.headers.get("Idempotency-Key", "")
    if not key:
        raise ApiError(400, "idempotency_key_required",
                       _("请在 Idempotency-Key 请求头里给出幂等键"), "Idempotency-Key")
    if len(key) > 64 or not all(c.isascii() and (c.isalnum() or c in "._:-") for c in key):
        raise ApiError(400, "bad_idempotency_key",
                       _("Idempotency-Key 须为 1～64 个字母、数字或 . _ : -"), "Idempotency-Key")
    return key


IDEMPOTENCY_KEY_SCHEMA = {"type": "string", "minLength": 1, "maxLength": 64,
                          "pattern": r"^[A-Za-z0-9._:-]{1,64}$"}
