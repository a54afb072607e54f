"""The OpenAPI 3.1 document of /mp/v1, generated from the route table and the pydantic models.

Nothing here is written by hand per endpoint: paths, parameters, bodies and responses come
from `Endpoint` declarations, schemas from `model_json_schema`, so the document describes
exactly what the server validates.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from miniprogram_api.endpoints import Endpoint
from miniprogram_api.schemas import Error

REF = "#/components/schemas/{model}"
_ERROR_TEXT = {
    400: "请求格式有误", 401: "未登录或登录已过期", 403: "无权访问", 404: "不存在（或不属于当前客户）",
    409: "状态冲突", 413: "上传内容过大", 415: "不支持的内容类型", 422: "请求参数有误",
    429: "请求过于频繁",
    502: "微信接口异常", 503: "微信接口暂不可用",
}


def _models(endpoints: Sequence[Endpoint]) -> list[tuple[type[BaseModel], str]]:
    wanted: list[tuple[type[BaseModel], str]] = [(Error, "serialization")]
    for ep in endpoints:
        if ep.body is not None:
            wanted.append((ep.body, "validation"))
        wanted.append((ep.response, "serialization"))
    return list(dict.fromkeys(wanted))


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF)
    required = set(schema.get("required", []))
    params = []
    for name, prop in schema.get("properties", {}).items():
        prop = dict(prop)
        description = prop.pop("description", None)
        param: dict[str, Any] = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if description:
            param["description"] = description
        params.append(param)
    return params


def _operation(ep: Endpoint) -> dict[str, Any]:
    op: dict[str, Any] = {"operationId": ep.operation_id, "summary": ep.summary, "tags": [ep.tag]}
    params: list[dict[str, Any]] = []
    for name in ep.path_params:
        schema = {"type": "integer", "minimum": 1} if name in ep.int_params else {"type": "string", "minLength": 1}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    if ep.query is not None:
        params.extend(_query_parameters(ep.query))
    for header in ep.headers:
        params.append({
            "name": header.name, "in": "header", "required": header.required, "description": header.description,
            "schema": {"type": "string", "minLength": 1, "maxLength": header.max_length},
        })
    if params:
        op["parameters"] = params
    if ep.body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(ep.body)}}}
    elif ep.upload:
        op["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file"],
            "properties": {"file": {"type": "string", "format": "binary", "description": "订单照片（≤ 8 MB）"}},
        }}}}
    responses: dict[str, Any] = {
        str(status): {"description": "OK", "content": {"application/json": {"schema": _ref(ep.response)}}}
        for status in (ep.status, *ep.also)
    }
    errors = set(ep.errors) | ({401} if ep.auth else set()) | ({422} if ep.body or ep.query else set())
    errors |= {400, 413} if ep.body else set()  # not JSON (invalid_json); over MAX_JSON_BODY
    for status in sorted(errors):
        responses[str(status)] = {
            "description": _ERROR_TEXT.get(status, "错误"),
            "content": {"application/json": {"schema": _ref(Error)}},
        }
    op["responses"] = responses
    if ep.auth:
        op["security"] = [{"bearerAuth": []}]
    return op


def build_openapi(endpoints: Sequence[Endpoint], *, prefix: str = "/mp/v1") -> dict[str, Any]:
    _, defs = models_json_schema(_models(endpoints), ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    for ep in endpoints:
        paths.setdefault(prefix + ep.path, {})[ep.method.lower()] = _operation(ep)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "orderbot mini-program API",
            "version": "1",
            "description": "小程序下单接口。错误统一为 {code, message}；除登录与商品目录外都需要 "
                           "Authorization: Bearer <token>（POST /auth/login 获取）。",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }
