"""What a request must be before any handler sees it: size, content type, well-formed JSON.

Mutating calls must say ``Content-Type: application/json`` (CVE-2023-43472: a cross-site
``text/plain`` POST changed an experiment), bodies are bounded (413 past the limit) and must
keep arriving (408 when they stop), and malformed JSON is a 400 in MLflow's error shape,
never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import msgspec

from stead.errors import InvalidParameter, RequestTooLarge

if TYPE_CHECKING:
    from stead.server.bodies import Deadlines

__all__ = ["MAX_JSON_BODY", "read_body", "check_json_content_type", "parse_json_body", "parse_query"]

MAX_JSON_BODY = 16 * 1024 * 1024  # MLflow's log-batch limit is 1 MB; tag values up to 8 kB each

_decode = msgspec.json.Decoder().decode


def header(scope: dict[str, Any], name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return value  # type: ignore[no-any-return]
    return None


async def read_body(scope: dict[str, Any], receive: Any, limit: int = MAX_JSON_BODY,
                    deadlines: "Deadlines | None" = None) -> bytes:
    """The whole request body, refused with 413 as soon as it is known to exceed ``limit``,
    and (with ``deadlines``) with 408 when it stops arriving."""
    length = header(scope, b"content-length")
    if length is not None:
        try:
            if int(length) > limit:
                raise RequestTooLarge(f"Request body of {int(length)} bytes exceeds the limit of {limit} bytes")
        except ValueError:
            raise InvalidParameter("Content-Length is not a number") from None
    chunks: list[bytes] = []
    size = 0
    with deadlines.watching() if deadlines is not None else contextlib.nullcontext() as watch:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            if chunk:
                size += len(chunk)
                if size > limit:
                    raise RequestTooLarge(f"Request body exceeds the limit of {limit} bytes")
                chunks.append(chunk)
            if not message.get("more_body", False):
                break
            if watch is not None:
                watch.touch(asyncio.get_running_loop().time())
    return b"".join(chunks) if len(chunks) != 1 else chunks[0]


def check_json_content_type(scope: dict[str, Any]) -> None:
    """Refuse a mutating call that does not declare a JSON body (MLflow's wording)."""
    value = header(scope, b"content-type")
    if value is None:
        raise InvalidParameter("Bad Request. Content-Type header is missing.")
    if value.split(b";", 1)[0].strip().lower() != b"application/json":
        raise InvalidParameter("Bad Request. Content-Type must be one of ['application/json'].")


def parse_json_body(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        data = _decode(body)
    except msgspec.DecodeError as exc:
        raise InvalidParameter(f"Malformed JSON in request body: {exc}") from None
    except RecursionError:
        raise InvalidParameter("Malformed request body: JSON nested too deeply; no field takes more than a "
                               "few levels") from None
    if isinstance(data, str):  # old clients double-encode; MLflow decodes again
        try:
            data = _decode(data)
        except msgspec.DecodeError as exc:
            raise InvalidParameter(f"Malformed JSON in request body: {exc}") from None
        except RecursionError:
            raise InvalidParameter("Malformed request body: JSON nested too deeply") from None
    if not isinstance(data, dict):
        raise InvalidParameter("Malformed request body: expected a JSON object")
    return data


def parse_query(query_string: bytes) -> dict[str, Any]:
    """Query parameters; a repeated key becomes a list (MLflow's repeated proto fields)."""
    out: dict[str, Any] = {}
    if not query_string:
        return out
    for key, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if key in out:
            prev = out[key]
            if isinstance(prev, list):
                prev.append(value)
            else:
                out[key] = [prev, value]
        else:
            out[key] = value
    return out
