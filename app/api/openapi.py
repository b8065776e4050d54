"""The OpenAPI 3.1 document of API v1, built from ``spec`` (the description the views are
registered and validated from), so the document cannot drift from the code."""
import re

from app.api.spec import ID, OPERATIONS, SCHEMAS
from app.api.validation import IDEMPOTENCY_KEY_SCHEMA

PREFIX = "/api/v1"
_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")
_REASONS = {200: "成功", 201: "已创建", 400: "请求有误（字段见 error.field）",
            401: "缺少、无效或已撤销的令牌", 403: "账号角色没有这个权限",
            404: "没有找到（含不在本账号辖区内的对象）", 405: "方法不支持",
            422: "细则或台账拒绝（error.code 为拒绝代码，error.message 为中文原因），"
                 "或幂等键已用于不同的请求", 429: "请求太频繁"}


def openapi_path(rule: str) -> str:
    """``/households/<int:household_id>`` -> ``/api/v1/households/{household_id}``."""
    return PREFIX + _PARAM.sub(lambda m: "{" + m.group(2) + "}", rule)


def _json(schema_name):
    schema = {"$ref": f"#/components/schemas/{schema_name}"} if schema_name else {
        "type": "object"}
    return {"application/json": {"schema": schema}}


def _operation(op) -> dict:
    params = [{"name": name, "in": "path", "required": True, "schema": ID}
              for _conv, name in _PARAM.findall(op.rule)]
    params += [{"name": p.name, "in": "query", "required": p.required, "schema": p.schema,
                **({"description": p.description} if p.description else {})}
               for p in op.query]
    if op.idempotent:
        params.append({"name": "Idempotency-Key", "in": "header", "required": True,
                       "schema": IDEMPOTENCY_KEY_SCHEMA,
                       "description": "客户端生成的唯一键（如 UUID）。同一键重发同一请求返回"
                                      "第一次的结果（200），不会重复记账；同一键换了请求内容"
                                      "则拒绝（422 key_reused）。"})
    responses = {str(status): {"description": _REASONS.get(status, "成功"),
                               "content": _json(name)} for status, name in op.ok.items()}
    for status in op.errors:
        responses[str(status)] = {"description": _REASONS[status], "content": _json("Error")}
    out = {"operationId": op.name, "summary": op.summary, "tags": list(op.tags),
           "parameters": params, "responses": responses}
    if op.body:
        out["requestBody"] = {"required": True, "content": _json(op.body)}
    out["security"] = [{"bearerAuth": []}] if op.auth else []
    return out


def document() -> dict:
    """The OpenAPI 3.1 document (a dict) of every operation in ``spec.OPERATIONS``."""
    paths = {}
    for op in OPERATIONS:
        paths.setdefault(openapi_path(op.rule), {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {"title": "乡村治理积分制 API", "version": "1.0.0",
                 "description": "平板客户端与县级平台、小程序对接用的 JSON 接口。"
                                "积分一律是两位小数的字符串（不用浮点数）；日期是当地日期"
                                "（Asia/Shanghai）YYYY-MM-DD；时间戳是 UTC，ISO 8601，以 Z 结尾。"
                                "令牌代表创建它的账号：角色、辖区和权限都与网页相同。"},
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearerAuth": {
                "type": "http", "scheme": "bearer",
                "description": "在“API 令牌”页面创建的令牌：Authorization: Bearer <令牌>"}},
        },
        "security": [{"bearerAuth": []}],
    }
