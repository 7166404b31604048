"""HTTP routes of the model server: thin adapters from the two protocols to the endpoint.

The inference routes are plain ASGI callables (no Request/Response objects on the hot
path): read the body under a size limit, decode, pick a variant, check the signature,
queue on the variant's batcher with a deadline, encode. Errors are JSON: ``{"error": ...}``
on V2 routes, MLflow's ``{"error_code", "message"}`` on ``/invocations``; both add
``fields`` (one entry per bad field) when the input did not match the signature.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
import zlib
from typing import Any

import msgspec
import numpy as np
from starlette.routing import Route

from stead import __version__
from stead.errors import BadRequest, NotFound, RequestTooLarge, SteadError, UnsupportedMediaType, http_status_for
from stead.serving.metrics import CONTENT_TYPE as METRICS_TYPE
from stead.serving.metrics import ServingMetrics
from stead.serving.oip_binary import EXTENSION, HEADER
from stead.serving.routing import choose, key_point
from stead.serving.swap import Endpoint, LiveVariant

__all__ = ["Handlers"]

log = logging.getLogger("stead.serving")
_encode = msgspec.json.Encoder().encode
_JSON = [(b"content-type", b"application/json")]
_TIMEOUT_MESSAGE = "Request processing time exceeded limit"


def _new_id() -> str:
    """A random (version 4) UUID for a request that brought no id; a request id needs to be
    unique, not secret, so it comes from ``random`` rather than a system call per request."""
    return str(uuid.UUID(int=random.getrandbits(128), version=4))


async def _send(send: Any, status: int, body: bytes, headers: list[tuple[bytes, bytes]] = _JSON) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [*headers, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _request_id(scope: dict[str, Any], given: str | None = None) -> str:
    """The id a prediction is answered and logged under, so that labels sent later join it:
    the V2 body's ``id``, else the client's ``x-request-id`` header, else a new one."""
    if given:
        return given
    header = _header(scope, b"x-request-id")
    if header:
        text = header.decode("latin-1")[:200]
        if text.isprintable():
            return text
    return _new_id()


def _header(scope: dict[str, Any], name: bytes) -> bytes | None:
    for k, v in scope["headers"]:
        if k == name:
            return v
    return None


async def _read_body(scope: dict[str, Any], receive: Any, limit: int) -> bytes:
    length = _header(scope, b"content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise RequestTooLarge(f"Request body of {int(length)} bytes is over the limit of {limit} bytes")
    chunks: list[bytes] = []
    total = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise asyncio.CancelledError
        chunk = message.get("body", b"")
        total += len(chunk)
        if total > limit:
            raise RequestTooLarge(f"Request body is over the limit of {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _inflate(scope: dict[str, Any], body: bytes, limit: int) -> bytes:
    """A V2 body sent with ``Content-Encoding: gzip`` or ``deflate`` (``tritonclient``'s
    request compression), decompressed up to the body limit."""
    encoding = _header(scope, b"content-encoding")
    kind = encoding.strip().lower() if encoding is not None else b"identity"
    if kind == b"identity":
        return body
    if kind not in (b"gzip", b"deflate"):
        raise UnsupportedMediaType(f"Content-Encoding {kind.decode('latin-1')[:40]!r} is not supported; "
                                   "send the body as it is, or gzip or deflate it")
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16 if kind == b"gzip" else zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise BadRequest(f"The {kind.decode()} body cannot be decompressed: {exc}") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise RequestTooLarge(f"Request body is over the limit of {limit} bytes once decompressed")
    return out


def _header_length(scope: dict[str, Any]) -> int | None:
    """``Inference-Header-Content-Length``: where the JSON of a V2 request with binary tensor
    data ends (None when the body is JSON alone)."""
    value = _header(scope, HEADER)
    if value is None:
        return None
    if not value.strip().isdigit():
        raise BadRequest(f"Inference-Header-Content-Length must be a byte count, not {value[:40].decode('latin-1')!r}")
    return int(value)


def _v2_error(exc: SteadError) -> bytes:
    body: dict[str, Any] = {"error": exc.message}
    if exc.details.get("fields"):
        body["fields"] = exc.details["fields"]
    return _encode(body)


def _mlflow_error(exc: SteadError) -> bytes:
    body: dict[str, Any] = {"error_code": exc.code, "message": exc.message}
    if exc.details.get("fields"):
        body["fields"] = exc.details["fields"]
    return _encode(body)


class _Timeout(SteadError):
    code = "DEADLINE_EXCEEDED"


class Handlers:
    """The route table over one endpoint."""

    def __init__(self, endpoint: Endpoint, metrics: ServingMetrics, prediction_log: Any, *,
                 timeout_s: float, max_body_bytes: int) -> None:
        self.endpoint = endpoint
        self.metrics = metrics
        self.log = prediction_log
        self.timeout_s = timeout_s
        self.max_body_bytes = max_body_bytes
        self._shadow_tasks: set[asyncio.Task[Any]] = set()

    # ---- shared inference path -------------------------------------------------------
    def _pick(self, scope: dict[str, Any], version: str | None) -> LiveVariant:
        ep = self.endpoint
        if not ep.ready:
            raise _NotReady(f"Model {ep.name} is not ready yet; poll /v2/health/ready")
        if version is not None:
            v = ep.by_version(version)
            if v is None:
                raise NotFound(f"Model {ep.name} version {version} is not served here; it serves "
                               f"{', '.join(x.version for x in ep.live)}")
            return v
        live = ep.live
        if len(live) == 1:
            return live[0]
        key = _header(scope, ep.sticky_header) if ep.sticky_header else None
        point = key_point(key.decode("latin-1")) if key else random.random()
        return choose(live, point)

    async def _infer(self, scope: dict[str, Any], inputs: Any, version: str | None,
                     request_id: str) -> tuple[LiveVariant, Any]:
        variant = self._pick(scope, version)
        prepared = variant.runtime.prepare(inputs)  # no await between pick and submit: swaps stay atomic
        try:
            async with asyncio.timeout(self.timeout_s):
                outputs = await variant.batcher.submit(prepared)
        except TimeoutError:
            raise _Timeout(_TIMEOUT_MESSAGE, variant=variant) from None
        except SteadError as exc:  # the model refused or failed: counted for the variant that ran it
            exc.details.setdefault("variant", variant)
            raise
        for shadow in self.endpoint.shadows:
            task = asyncio.get_running_loop().create_task(self._shadow(shadow, inputs, outputs, request_id))
            self._shadow_tasks.add(task)
            task.add_done_callback(self._shadow_tasks.discard)
        return variant, outputs

    async def _shadow(self, shadow: LiveVariant, inputs: Any, primary: dict[str, np.ndarray],
                      request_id: str) -> None:
        start = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout_s):
                outputs = await shadow.batcher.submit(shadow.runtime.prepare(inputs))
        except Exception as exc:  # noqa: BLE001 - a shadow failure is counted, never returned
            self.metrics.shadow(shadow.version, shadow.name, "error")
            if self.log is not None:
                self.log.record(shadow.name, shadow.version, "shadow", request_id, time.perf_counter() - start,
                                inputs, {"error": str(exc)}, shadow=True, status=500)
            return
        same = primary.keys() == outputs.keys() and all(
            np.array_equal(np.asarray(primary[k]), np.asarray(outputs[k])) for k in primary)
        self.metrics.shadow(shadow.version, shadow.name, "match" if same else "mismatch")
        if self.log is not None:
            self.log.record(shadow.name, shadow.version, "shadow", request_id, time.perf_counter() - start, inputs,
                            outputs, shadow=True)

    async def drain_shadows(self) -> None:
        if self._shadow_tasks:
            await asyncio.gather(*list(self._shadow_tasks), return_exceptions=True)

    def _done(self, variant: LiveVariant | None, protocol: str, status: int, start: float, request_id: str | None,
              inputs: Any = None, outputs: Any = None) -> None:
        seconds = time.perf_counter() - start
        if variant is None:
            live = self.endpoint.live
            variant = live[0] if len(live) == 1 else None
        self.metrics.request(variant.version if variant else "", variant.name if variant else "", protocol,
                             status, seconds)
        if self.log is not None and variant is not None:
            # a failed request is logged too (its status, no outputs): a canary analysis counts the errors
            self.log.record(variant.name, variant.version, protocol, request_id, seconds, inputs, outputs,
                            status=status)

    # ---- V2 inference ----------------------------------------------------------------
    async def v2_infer(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        from stead.serving.oip import decode_infer, encode_infer

        start = time.perf_counter()
        params = scope["path_params"]
        variant: LiveVariant | None = None
        request_id = None
        try:
            self._check_name(params["name"])
            body = _inflate(scope, await _read_body(scope, receive, self.max_body_bytes), self.max_body_bytes)
            live = self.endpoint.live
            request = decode_infer(body, live[0].runtime.column_names if live else None, _header_length(scope))
            inputs, request_id = request.inputs, _request_id(scope, request.id)
            variant, outputs = await self._infer(scope, inputs, params.get("version"), request_id)
            out, json_length = encode_infer(self.endpoint.name, variant.version, request_id, outputs,
                                            request=request)
        except SteadError as exc:
            variant = exc.details.get("variant", variant)
            status = 503 if isinstance(exc, _NotReady) else http_status_for(exc.code)
            await _send(send, status, _v2_error(exc))
            self._done(variant, "v2", status, start, request_id)
            return
        headers = self._headers(variant, request_id)
        if json_length is not None:  # binary tensor data follows the JSON header
            headers = [(b"content-type", b"application/octet-stream"), *headers[1:],
                       (HEADER, str(json_length).encode())]
        await _send(send, 200, out, headers)
        self._done(variant, "v2", 200, start, request_id, inputs, outputs)

    @staticmethod
    def _headers(variant: LiveVariant, request_id: str) -> list[tuple[bytes, bytes]]:
        return [*_JSON, (b"x-stead-variant", variant.name.encode()), (b"x-stead-model-version", variant.version.encode()),
                (b"x-request-id", request_id.encode("latin-1", "replace"))]

    def _check_name(self, name: str) -> None:
        if name != self.endpoint.name:
            raise NotFound(f"Model {name} is not served here; this server serves {self.endpoint.name}")

    # ---- MLflow scoring --------------------------------------------------------------
    async def invocations(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        from stead.serving.scoring import decode_invocation, encode_predictions

        start = time.perf_counter()
        variant: LiveVariant | None = None
        request_id = _request_id(scope)
        try:
            body = await _read_body(scope, receive, self.max_body_bytes)
            ctype = (_header(scope, b"content-type") or b"application/json").decode("latin-1")
            inputs = decode_invocation(body, ctype)
            variant, outputs = await self._infer(scope, inputs, None, request_id)
            out = encode_predictions(outputs)
        except SteadError as exc:
            variant = exc.details.get("variant", variant)
            status = 503 if isinstance(exc, _NotReady) else http_status_for(exc.code)
            await _send(send, status, _mlflow_error(exc))
            self._done(variant, "mlflow", status, start, request_id)
            return
        await _send(send, 200, out, self._headers(variant, request_id))
        self._done(variant, "mlflow", 200, start, request_id, inputs, outputs)

    # ---- health and metadata ---------------------------------------------------------
    async def live(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await _send(send, 200, b'{"live":true}')

    def _variant_states(self) -> dict[str, str]:
        return {s.name: s.state for s in self.endpoint.states}

    async def ready(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        ok = self.endpoint.ready
        await _send(send, 200 if ok else 503, _encode({"ready": ok, "variants": self._variant_states()}))

    async def model_ready(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            variant = self._variant_for(scope["path_params"])
        except SteadError as exc:
            await _send(send, http_status_for(exc.code), _v2_error(exc))
            return
        ok = self.endpoint.ready and (variant is None or variant.runtime.ready)
        await _send(send, 200 if ok else 503, _encode({"name": self.endpoint.name, "ready": ok,
                                                       "variants": self._variant_states()}))

    def _variant_for(self, params: dict[str, str]) -> LiveVariant | None:
        self._check_name(params["name"])
        version = params.get("version")
        if version is None:
            return None
        v = self.endpoint.by_version(version)
        if v is None:
            raise NotFound(f"Model {self.endpoint.name} version {version} is not served here")
        return v

    async def server_metadata(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await _send(send, 200, _encode({"name": "stead", "version": __version__, "extensions": [EXTENSION]}))

    async def model_metadata(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            variant = self._variant_for(scope["path_params"])
        except SteadError as exc:
            await _send(send, http_status_for(exc.code), _v2_error(exc))
            return
        ep = self.endpoint
        states = [s.to_dict() for s in ep.states]
        if variant is None and not ep.live:
            down = "; ".join(f"{s['name']}: {s['error']}" for s in states if s.get("error"))
            await _send(send, 503, _encode({"error": f"Model {ep.name} is not loaded" + (f" ({down})" if down else
                                                                                          " yet"),
                                            "variants": states}))
            return
        meta = (variant or ep.live[0]).runtime.metadata()
        await _send(send, 200, _encode({"name": ep.name, "versions": [v.version for v in ep.live],
                                        "weights": {s.name: s.applied for s in ep.states if not s.shadow},
                                        "variants": states, "platform": "stead", **meta}))

    async def models(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await _send(send, 200, _encode({"models": [self.endpoint.name]}))

    async def ping(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        ok = self.endpoint.ready
        await _send(send, 200 if ok else 404, b"\n", [(b"content-type", b"application/json")])

    async def version(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await _send(send, 200, __version__.encode(), [(b"content-type", b"text/plain; charset=utf-8")])

    async def metrics_text(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await _send(send, 200, self.metrics.render(), [(b"content-type", METRICS_TYPE.encode())])

    def routes(self) -> list[Route]:
        get, post = ["GET"], ["POST"]
        table = [
            ("/v2/health/live", self.live, get), ("/v2/health/ready", self.ready, get),
            ("/v2", self.server_metadata, get), ("/v2/models", self.models, get),
            ("/v2/models/{name}", self.model_metadata, get),
            ("/v2/models/{name}/versions/{version}", self.model_metadata, get),
            ("/v2/models/{name}/ready", self.model_ready, get),
            ("/v2/models/{name}/versions/{version}/ready", self.model_ready, get),
            ("/v2/models/{name}/infer", self.v2_infer, post),
            ("/v2/models/{name}/versions/{version}/infer", self.v2_infer, post),
            ("/invocations", self.invocations, post), ("/ping", self.ping, get), ("/health", self.ping, get),
            ("/version", self.version, get), ("/metrics", self.metrics_text, get),
        ]
        return [Route(path, _Asgi(fn), methods=methods) for path, fn, methods in table]


class _NotReady(SteadError):
    code = "TEMPORARILY_UNAVAILABLE"


class _Asgi:
    """A bound ``(scope, receive, send)`` method as an ASGI app Starlette mounts as is."""

    __slots__ = ("fn",)

    def __init__(self, fn: Any) -> None:
        self.fn = fn

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await self.fn(scope, receive, send)
