"""The MLflow artifact proxy (``/mlflow-artifacts/artifacts/...``), streaming both ways.

Uploads are copied from the request body to the artifact store in bounded chunks (a worker
thread pulls chunks from the event loop), downloads are sent in 1 MiB chunks; neither holds
a whole file in memory. Every path goes through ``stead.artifacts.paths`` (and the store's
own root check, which follows symbolic links), so nothing outside the root is reachable.
"""

from __future__ import annotations

import mimetypes
import posixpath
from typing import Any

import anyio.from_thread
import anyio.to_thread
import msgspec

from stead.artifacts.paths import normalize_artifact_path, normalize_object_path
from stead.errors import InvalidParameter
from stead.server.context import ServerContext
from stead.server.endpoint import Access, ApiCall, Endpoint
from stead.server.mlflow_json import opt_str

__all__ = ["ENDPOINTS", "list_run_artifacts", "proxied_path_of"]

_CHUNK = 1024 * 1024
_encode = msgspec.json.Encoder().encode


def proxied_path_of(ctx: ServerContext, uri: str) -> str | None:
    """The path inside the proxied store of an artifact URI, or None if it lives elsewhere."""
    if uri.startswith("mlflow-artifacts:"):
        rest = uri[len("mlflow-artifacts:"):]
        if rest.startswith("//"):  # mlflow-artifacts://host:port/path
            rest = rest[2:].partition("/")[2]
        return normalize_artifact_path(rest.strip("/"))
    root = getattr(ctx.artifacts, "root_uri", None)
    if root and (uri == root or uri.startswith(root.rstrip("/") + "/")):
        return normalize_artifact_path(uri[len(root):].strip("/"))
    return None


def _files_json(infos: list[Any], rel_to: str, *, basename: bool) -> list[dict[str, Any]]:
    out = []
    for info in infos:
        if basename:
            path = posixpath.basename(info.path)
        else:
            path = info.path[len(rel_to):].lstrip("/") if rel_to else info.path
        item: dict[str, Any] = {"path": path, "is_dir": info.is_dir}
        if not info.is_dir and info.size is not None:
            item["file_size"] = info.size
        out.append(item)
    return out


def list_run_artifacts(ctx: ServerContext, run_id: str, path: str) -> dict[str, Any]:
    run = ctx.backend.get_run(run_id)
    uri = run.info.artifact_uri
    out: dict[str, Any] = {"root_uri": uri}
    base = proxied_path_of(ctx, uri)
    if base is None:
        return out  # stored elsewhere (an object store the client reads directly)
    rel = normalize_artifact_path(path)
    full = f"{base}/{rel}" if rel else base
    files = _files_json(ctx.artifacts.list(full), base, basename=False)
    if files:
        out["files"] = files
    return out


def list_proxied(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    path = normalize_artifact_path(opt_str(call.params, "path") or "")
    files = _files_json(ctx.artifacts.list(path), path, basename=True)
    return {"files": files} if files else {}


def delete_proxied(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    ctx.artifacts.delete(normalize_object_path(call.path_params["artifact_path"]))
    return {}


class _BodyStream:
    """A blocking ``read(n)`` over the ASGI request body, for use in a worker thread.

    One hop to the event loop gathers messages until ``n`` bytes (or the end) are there,
    rather than one hop per ASGI message (uvicorn hands the body over in 64 KiB pieces):
    the writer reads 1 MiB at a time, so a 50 MiB upload takes ~50 hops, not ~800.
    """

    def __init__(self, receive: Any) -> None:
        self._receive = receive
        self._chunks: list[bytes] = []
        self._size = 0
        self._done = False

    async def _fill(self, n: int) -> None:
        while not self._done and (n < 0 or self._size < n):
            message = await self._receive()
            if message["type"] == "http.disconnect":
                raise InvalidParameter("The client disconnected before the upload was complete")
            body = message.get("body", b"")
            if body:
                self._chunks.append(body)
                self._size += len(body)
            if not message.get("more_body", False):
                self._done = True

    def read(self, n: int = -1, /) -> bytes:
        if n is None:
            n = -1
        if not self._done and (n < 0 or self._size < n):
            anyio.from_thread.run(self._fill, n)
        if n < 0 or n >= self._size:
            data = self._chunks[0] if len(self._chunks) == 1 else b"".join(self._chunks)
            self._chunks, self._size = [], 0
            return data
        data = b"".join(self._chunks)
        out, rest = data[:n], data[n:]
        self._chunks, self._size = ([rest] if rest else []), len(rest)
        return out


async def upload(ctx: ServerContext, scope: dict[str, Any], receive: Any, send: Any, call: ApiCall) -> None:
    path = normalize_object_path(call.path_params["artifact_path"])
    await anyio.to_thread.run_sync(ctx.artifacts.put_stream, _BodyStream(receive), path)
    body = b"{}"
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": body})


async def download(ctx: ServerContext, scope: dict[str, Any], receive: Any, send: Any, call: ApiCall) -> None:
    path = normalize_object_path(call.path_params["artifact_path"])
    stream = await anyio.to_thread.run_sync(ctx.artifacts.open_read, path)
    try:
        size = None
        try:
            size = await anyio.to_thread.run_sync(ctx.artifacts.size, path)
        except Exception:  # an object store without sizes still streams
            size = None
        ctype = mimetypes.guess_type(path)[0] or "application/octet-stream"
        if ctype.startswith("text/html") or "xml" in ctype or "javascript" in ctype:
            ctype = "text/plain"  # never let a browser render an artifact as a page
        name = posixpath.basename(path).replace('"', "")
        headers = [
            (b"content-type", ctype.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"content-disposition", f'attachment; filename="{name}"'.encode("latin-1", "replace")),
        ]
        if size is not None:
            headers.append((b"content-length", str(size).encode()))
        first = await anyio.to_thread.run_sync(stream.read, _CHUNK)
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        chunk = first
        while chunk:
            nxt = await anyio.to_thread.run_sync(stream.read, _CHUNK)
            await send({"type": "http.response.body", "body": chunk, "more_body": bool(nxt)})
            chunk = nxt
        if not first:
            await send({"type": "http.response.body", "body": b""})
    finally:
        stream.close()


_PATH = "/mlflow-artifacts/artifacts/{artifact_path:path}"

ENDPOINTS: list[Endpoint] = [
    Endpoint("PUT", _PATH, upload, Access("artifact", "EDIT"), "Upload an artifact (raw bytes body)", raw=True),
    Endpoint("GET", _PATH, download, Access("artifact", "READ"), "Download an artifact (streamed)", raw=True),
    Endpoint("DELETE", _PATH, delete_proxied, Access("artifact", "MANAGE"), "Delete an artifact or directory"),
    Endpoint("GET", "/mlflow-artifacts/artifacts", list_proxied, Access("artifact", "READ"),
             "List an artifact directory (?path=)", request_fields=("path",), response_fields=("files",)),
]
