"""The MLflow artifact proxy (``/mlflow-artifacts/artifacts/...``), streaming both ways.

Uploads are received on the event loop and written by the upload threads in bounded chunks,
downloads read by the download threads and sent in 1 MiB chunks: neither holds a whole file
in memory, and neither takes a thread from the JSON handlers or from each other. Every path goes through ``stead.artifacts.paths`` (and the store's
own root check, which follows symbolic links), so nothing outside the root is reachable.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import mimetypes
import posixpath
from typing import Any

import msgspec

from stead.artifacts.paths import normalize_artifact_path, normalize_object_path
from stead.errors import InvalidParameter
from stead.server.bodies import BodyPipe, Watch, pump, read_window
from stead.server.context import ServerContext
from stead.server.endpoint import Access, ApiCall, Endpoint
from stead.wire.fields import opt_str

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


# An upload that fits the window is written in one call once it is all here; a bigger one
# streams through a pipe holding at most _HIGH_WATER bytes of read-ahead.
_WINDOW = 4 * _CHUNK
_HIGH_WATER = 4 * _CHUNK


async def upload(ctx: ServerContext, scope: dict[str, Any], receive: Any, send: Any, call: ApiCall) -> None:
    """The body is received on the event loop; an upload thread only ever writes bytes that
    are already here (``stead.server.bodies``), so a client that trickles holds no thread."""
    path = normalize_object_path(call.path_params["artifact_path"])
    loop = asyncio.get_running_loop()
    deadlines = ctx.deadlines
    assert deadlines is not None  # create_app makes them
    with deadlines.watching() as watch:
        chunks, _, complete = await read_window(receive, _WINDOW, watch)
        if complete:
            deadlines.stop(watch)
            body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
            await loop.run_in_executor(ctx.uploads, ctx.artifacts.put_stream, io.BytesIO(body), path)
        else:
            await _stream_upload(ctx, path, receive, watch, chunks)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"{}"})


async def _stream_upload(ctx: ServerContext, path: str, receive: Any, watch: Watch, head: list[bytes]) -> None:
    """Write while the body arrives; if the body fails (timeout, disconnect) the writer is told,
    abandons its write (nothing is left at the target), and is waited for."""
    assert ctx.deadlines is not None
    loop = asyncio.get_running_loop()
    pipe = BodyPipe(loop, _HIGH_WATER, ctx.deadlines.timeout)
    writer = loop.run_in_executor(ctx.uploads, ctx.artifacts.put_stream, pipe, path)
    writer.add_done_callback(lambda _: pipe.wake())
    try:
        await pump(receive, pipe, writer, watch, head)
    except BaseException as exc:
        pipe.fail(exc if not isinstance(exc, asyncio.CancelledError) else InvalidParameter("upload abandoned"))
        ctx.deadlines.stop(watch)
        with contextlib.suppress(BaseException):
            await asyncio.shield(writer)
        raise
    ctx.deadlines.stop(watch)
    await writer


async def download(ctx: ServerContext, scope: dict[str, Any], receive: Any, send: Any, call: ApiCall) -> None:
    """Chunks are read on the download threads and sent from the event loop, so a client that
    reads slowly waits on the socket, not on a thread."""
    path = normalize_object_path(call.path_params["artifact_path"])
    loop = asyncio.get_running_loop()
    pool = ctx.downloads
    stream = await loop.run_in_executor(pool, ctx.artifacts.open_read, path)
    try:
        size = None
        try:
            size = await loop.run_in_executor(pool, ctx.artifacts.size, path)
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
        first = await loop.run_in_executor(pool, stream.read, _CHUNK)
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        chunk = first
        while chunk:
            nxt = await loop.run_in_executor(pool, stream.read, _CHUNK)
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
