"""An ``ArtifactStore`` over a server's MLflow artifact proxy (``mlflow-artifacts:/`` URIs).

Uploads stream the local file (or any readable stream) as the PUT body; downloads stream
the response to a temporary file that is renamed into place. Clients need no object-store
credentials: the server holds them.
"""

from __future__ import annotations

import builtins
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

import httpx

from stead.artifacts.base import FileInfo, ReadableStream
from stead.artifacts.paths import join_path, normalize_artifact_path, normalize_object_path
from stead.config import Settings
from stead.errors import InvalidParameter, NotFound
from stead.tracking.rest_backend import http_client, raise_for_error

__all__ = ["open_proxied_artifacts", "ProxiedArtifactStore"]

_CHUNK = 1024 * 1024
_ENDPOINT = "/api/2.0/mlflow-artifacts/artifacts"


def open_proxied_artifacts(settings: Settings, uri: str) -> "ProxiedArtifactStore":
    """The store rooted at ``mlflow-artifacts:/<path>`` on ``settings.tracking_uri``."""
    if not uri.startswith("mlflow-artifacts:"):
        raise InvalidParameter(f"{uri!r} is not an mlflow-artifacts: URI")
    rest = uri[len("mlflow-artifacts:"):]
    if rest.startswith("//"):
        rest = rest[2:].partition("/")[2]
    if not settings.tracking_uri:
        raise InvalidParameter(f"Artifacts at {uri} live on a server: set STEAD_TRACKING_URI to its URL")
    return ProxiedArtifactStore(http_client(settings), normalize_artifact_path(rest.strip("/")))


class _ResponseReader:
    """A file-like ``read(n)`` over a streaming httpx response."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self._chunks: Iterator[bytes] = response.iter_bytes(_CHUNK)
        self._buffer = bytearray()
        self._eof = False

    def read(self, n: int = -1, /) -> bytes:
        while not self._eof and (n is None or n < 0 or len(self._buffer) < n):
            try:
                self._buffer += next(self._chunks)
            except StopIteration:
                self._eof = True
        size = len(self._buffer) if n is None or n < 0 else min(n, len(self._buffer))
        out = bytes(self._buffer[:size])
        del self._buffer[:size]
        return out

    def close(self) -> None:
        self._response.close()

    def __enter__(self) -> "_ResponseReader":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _iter_stream(stream: ReadableStream | BinaryIO, counter: list[int]) -> Iterator[bytes]:
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            return
        counter[0] += len(chunk)
        yield chunk


class ProxiedArtifactStore:
    """Artifacts under ``base`` on the server's proxy."""

    def __init__(self, http: httpx.Client, base: str) -> None:
        self.http = http
        self.base = base
        self.root_uri = f"mlflow-artifacts:/{base}" if base else "mlflow-artifacts:/"

    def _full(self, path: str) -> str:
        return join_path(self.base, path)

    def _url(self, path: str) -> str:
        return f"{_ENDPOINT}/{quote(self._full(path))}"

    # -- writing --------------------------------------------------------------------
    def put_stream(self, stream: ReadableStream | BinaryIO, path: str) -> int:
        rel = normalize_object_path(path)
        counter = [0]
        response = self.http.put(self._url(rel), content=_iter_stream(stream, counter),
                                 headers={"Content-Type": "application/octet-stream"})
        raise_for_error(response)
        return counter[0]

    def put_file(self, local_path: str | Path, path: str) -> None:
        try:
            with open(local_path, "rb") as f:
                self.put_stream(f, path)
        except FileNotFoundError as exc:
            raise NotFound(f"Local file {local_path} does not exist.") from exc

    def put_bytes(self, data: bytes, path: str) -> None:
        rel = normalize_object_path(path)
        response = self.http.put(self._url(rel), content=data, headers={"Content-Type": "application/octet-stream"})
        raise_for_error(response)

    def put_dir(self, local_dir: str | Path, path: str = "") -> None:
        prefix = normalize_artifact_path(path)
        root = Path(local_dir)
        for dirpath, _dirs, files in os.walk(root):
            for name in sorted(files):
                local = Path(dirpath, name)
                self.put_file(local, join_path(prefix, local.relative_to(root).as_posix()))

    # -- reading --------------------------------------------------------------------
    def open_read(self, path: str) -> BinaryIO:
        rel = normalize_object_path(path)
        request = self.http.build_request("GET", self._url(rel))
        response = self.http.send(request, stream=True)
        if response.status_code != 200:
            response.read()
            response.close()
            raise_for_error(response)
        return _ResponseReader(response)  # type: ignore[return-value]

    def get_bytes(self, path: str) -> bytes:
        with self.open_read(path) as src:
            return src.read()

    def get_file(self, path: str, local_path: str | Path) -> None:
        target = Path(local_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        try:
            with os.fdopen(fd, "wb") as out, self.open_read(path) as src:
                while chunk := src.read(_CHUNK):
                    out.write(chunk)
            os.replace(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def get_dir(self, path: str, local_dir: str | Path) -> None:
        rel_dir = normalize_artifact_path(path)
        found = False
        for info in self._walk(rel_dir):
            found = True
            sub = info.path[len(rel_dir):].lstrip("/") if rel_dir else info.path
            self.get_file(info.path, Path(local_dir, *sub.split("/")))
        if not found and not self.is_dir(rel_dir):
            raise NotFound(f"Artifact directory {path!r} does not exist in {self.root_uri}.")

    def _walk(self, rel_dir: str) -> Iterator[FileInfo]:
        for info in self.list(rel_dir):
            if info.is_dir:
                yield from self._walk(info.path)
            else:
                yield info

    def list(self, path: str = "") -> builtins.list[FileInfo]:
        rel = normalize_artifact_path(path)
        response = self.http.get(_ENDPOINT, params={"path": self._full(rel)})
        raise_for_error(response)
        out = []
        for f in response.json().get("files", []):
            name = f["path"]
            if "/" in name or name in ("", ".", ".."):
                raise InvalidParameter(f"The server listed an unsafe artifact name {name!r}")
            out.append(FileInfo(join_path(rel, name), bool(f.get("is_dir")),
                                None if f.get("is_dir") else int(f.get("file_size", 0))))
        return sorted(out)

    def _entry(self, path: str) -> FileInfo | None:
        rel = normalize_artifact_path(path)
        if not rel:
            return None
        parent, _, _name = rel.rpartition("/")
        for info in self.list(parent):
            if info.path == rel:
                return info
        return None

    def exists(self, path: str) -> bool:
        rel = normalize_artifact_path(path)
        if not rel:
            return bool(self.list(""))
        return self._entry(rel) is not None

    def is_dir(self, path: str) -> bool:
        rel = normalize_artifact_path(path)
        if not rel:
            return True
        info = self._entry(rel)
        return bool(info and info.is_dir)

    def size(self, path: str) -> int:
        info = self._entry(normalize_object_path(path))
        if info is None:
            raise NotFound(f"Artifact {path!r} does not exist in {self.root_uri}.")
        if info.is_dir:
            raise InvalidParameter(f"Artifact path {path!r} is a directory; it has no size.")
        return int(info.size or 0)

    # -- deleting -------------------------------------------------------------------
    def delete(self, path: str) -> None:
        rel = normalize_object_path(path)
        response = self.http.delete(self._url(rel))
        raise_for_error(response)

    def uri_for(self, path: str) -> str:
        rel = normalize_artifact_path(path)
        return f"{self.root_uri.rstrip('/')}/{rel}" if rel else self.root_uri

    def close(self) -> None:
        self.http.close()
