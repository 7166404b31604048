"""Where a new experiment's artifacts may live (its ``artifact_location``), checked once.

A location is hostile input: ``/etc``, ``file:///etc``, traversal, percent-encoding, and
also *another experiment's folder* (``mlflow-artifacts:/3`` would put one user's runs beside
another's files, and let a version registered from them look like the other's). A location
is accepted in one canonical spelling:

- outside the server's artifact store: an object-store URI (``s3://bucket/prefix``, ``gs://``,
  ...), scheme and host lower-cased, ``.`` and repeated ``/`` dropped, no trailing ``/``;
- inside it (``mlflow-artifacts:/team-a``, a path or URI under the artifact root): only when
  an admin asks (or auth is off), written ``mlflow-artifacts:/<path>``, and never the root,
  an experiment's folder (``<id>/...``), a reserved part (``models``, ``pipelines``,
  ``prediction-logs``, names starting with ``.``) or a folder that holds or lies in another
  experiment's location.

Every message quotes the location as the caller wrote it, never the artifact root.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from sqlalchemy import select

from stead.artifacts.paths import normalize_artifact_path
from stead.errors import InvalidParameter
from stead.server.visibility import sees_everything

if TYPE_CHECKING:
    from stead.server.context import ServerContext
    from stead.server.users import User

__all__ = ["check_artifact_location", "RESERVED_FOLDERS"]

RESERVED_FOLDERS = frozenset({"models", "pipelines", "prediction-logs", "blake3"})
_OBJECT_STORES = frozenset({"s3", "gs", "wasbs", "abfss", "hdfs", "oss"})
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]+):(.*)$", re.DOTALL)


def _refuse(location: str, why: str) -> InvalidParameter:
    shown = repr(location) if len(location) <= 300 else f"{location[:300]!r}..."
    return InvalidParameter(
        f"Invalid artifact_location {shown}: {why}. Leave artifact_location empty (the server keeps the "
        "experiment's files behind its proxy) or use an object-store URI such as s3://bucket/prefix"
    )


def _clean(location: str, path: str) -> str:
    """``path`` without '.' or repeated '/'; '..', encodings and odd characters refused."""
    if "%" in path:
        raise _refuse(location, "it contains percent-encoding")
    try:
        return normalize_artifact_path(path.strip("/"))
    except InvalidParameter:
        raise _refuse(location, "it contains '..', a backslash, a control character or another unsafe part") from None


def _key(ctx: "ServerContext", location: str) -> tuple[str, list[str]]:
    """(``"store"`` or the URI's scheme://host, path segments) of a well-formed location."""
    match = _SCHEME.match(location)
    if match and match[1].lower() == "mlflow-artifacts":
        path = match[2]
        if path.startswith("//"):
            host, _, path = path[2:].partition("/")
            if host:
                raise _refuse(location, "an mlflow-artifacts location must not name a host")
        return "store", [s for s in _clean(location, path).split("/") if s]
    root_uri = str(getattr(ctx.artifacts, "root_uri", "") or "")
    if match and match[1].lower() in _OBJECT_STORES:
        rest = match[2]
        if not rest.startswith("//") or not rest[2:].split("/", 1)[0]:
            raise _refuse(location, "an object-store URI needs a bucket: s3://bucket/prefix")
        host, _, path = rest[2:].partition("/")
        base, segments = f"{match[1].lower()}://{host.lower()}", [s for s in _clean(location, path).split("/") if s]
        if root_uri.lower().startswith(base + "/") or root_uri.lower() == base:
            root_segments = [s for s in root_uri[len(base):].split("/") if s]
            if segments[: len(root_segments)] == root_segments:
                return "store", segments[len(root_segments):]
        return base, segments
    local = getattr(ctx.artifacts, "root", None)
    if match and match[1].lower() == "file":
        path = match[2]
        if path.startswith("//"):
            host, _, rest = path[2:].partition("/")
            if host not in ("", "localhost"):
                raise _refuse(location, "it names a network host")
            path = "/" + rest
    elif match:
        raise _refuse(location, f"the scheme {match[1]!r} is not an artifact store")
    else:
        path = location
    if "%" in path or any(ord(c) < 32 for c in path) or "\\" in path:
        raise _refuse(location, "it contains percent-encoding, a control character or a backslash")
    if local is None or not path.startswith("/") or path.startswith("//"):
        raise _refuse(location, "a local path is accepted only inside the server's artifact store")
    real, real_root = os.path.realpath(path), os.path.realpath(str(local))
    if real != real_root and not real.startswith(real_root.rstrip("/") + "/"):
        raise _refuse(location, "it is outside the server's artifact store")
    return "store", [s for s in real[len(real_root):].split("/") if s]


def _overlaps(a: tuple[str, list[str]], b: tuple[str, list[str]]) -> bool:
    if a[0] != b[0]:
        return False
    n = min(len(a[1]), len(b[1]))
    return a[1][:n] == b[1][:n]


def check_artifact_location(ctx: "ServerContext", location: str, user: "User | None") -> str:
    """The canonical form of an accepted ``artifact_location``, or ``InvalidParameter``."""
    from stead.store.tables import experiments

    if not isinstance(location, str) or not location.strip():
        raise _refuse(str(location), "it is empty")
    key = _key(ctx, location.strip())
    where, segments = key
    if where == "store":
        if not sees_everything(ctx, user):
            raise _refuse(location, "only an admin may place an experiment inside the server's artifact store")
        if not segments:
            raise _refuse(location, "it is the root of the server's artifact store")
        first = segments[0]
        if first.isdigit():
            raise _refuse(location, f"it is inside the artifact folder of experiment {first}")
        if first in RESERVED_FOLDERS or first.startswith("."):
            raise _refuse(location, f"'{first}' is a reserved part of the server's artifact store")
    with ctx.store.read() as conn:
        existing = [str(r[0]) for r in conn.execute(select(experiments.c.artifact_location))]
    for other in existing:
        try:
            other_key = _key(ctx, other)
        except InvalidParameter:
            continue  # a location this server would not accept today cannot hold a new one
        if _overlaps(key, other_key):
            raise _refuse(location, "it holds, or lies inside, the artifact folder of another experiment")
    if where == "store":
        return "mlflow-artifacts:/" + "/".join(segments)
    return where + ("/" + "/".join(segments) if segments else "")
