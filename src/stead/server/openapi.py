"""The OpenAPI 3 document of every endpoint, generated from the route tables.

A pure function of the tables it is given: ``stead.server.app`` serves it at
``/openapi.json`` and prints it for ``docs/openapi.json`` (``python -m stead.server.app``).
"""

from __future__ import annotations

import re
from typing import Any

from stead.server.endpoint import Endpoint

__all__ = ["openapi_document"]

_PATH_PARAM = re.compile(r"{([a-zA-Z_][a-zA-Z0-9_]*)(?::path)?}")
_ERROR = {
    "description": "MLflow error",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


def _operation(prefix: str, e: Endpoint) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": e.summary,
        "operationId": f"{e.method.lower()}{(prefix + e.path).replace('/', '_').replace('-', '_').replace('{', '').replace('}', '').replace(':path', '')}",
        "x-stead-access": {"resource": e.access.resource, "level": e.access.level},
        "responses": {"200": {"description": "OK"}, "400": _ERROR, "401": _ERROR, "403": _ERROR, "404": _ERROR},
    }
    fields = {name: {"description": name} for name in e.request_fields}
    if e.raw and e.method == "PUT":
        op["requestBody"] = {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}
    elif fields and e.method in ("GET", "DELETE"):
        op["parameters"] = [{"name": n, "in": "query", "required": False, "schema": {}} for n in e.request_fields]
    elif fields:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object", "properties": fields}}},
        }
    for name in _PATH_PARAM.findall(e.path):  # every {name} and {name:path} of the route
        op.setdefault("parameters", []).append({"name": name, "in": "path", "required": True,
                                                "schema": {"type": "string", "minLength": 1}})
    if e.response_fields:
        op["responses"]["200"] = {
            "description": "OK",
            "content": {"application/json": {"schema": {
                "type": "object", "properties": {n: {"description": n} for n in e.response_fields}}}},
        }
    return op


def openapi_document(tables: list[tuple[str, list[Endpoint]]], version: str) -> dict[str, Any]:
    """``tables`` is ``[(prefix, endpoints), ...]`` as mounted by ``create_app``."""
    paths: dict[str, dict[str, Any]] = {}
    for prefix, endpoints in tables:
        for e in endpoints:
            path = _PATH_PARAM.sub(lambda m: "{" + m.group(1) + "}", prefix + e.path)
            paths.setdefault(path, {})[e.method.lower()] = _operation(prefix, e)
    return {
        "openapi": "3.0.3",
        "info": {"title": "stead server (MLflow-compatible REST API)", "version": version},
        "paths": paths,
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error_code", "message"],
                    "properties": {"error_code": {"type": "string"}, "message": {"type": "string"}},
                }
            },
            "securitySchemes": {"basic": {"type": "http", "scheme": "basic"},
                                "bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
