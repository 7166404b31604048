"""Where a model version's files may live: the source check and the storage location.

A version's ``source`` is hostile input (MLflow CVE-2023-1177, -2780, -6909, CVE-2024-1483...):
``/etc``, ``file:///etc``, ``//host/share``, ``../`` into another run, and all of these behind
percent-encoding. A source is accepted only when it names a place inside stead's artifact
store: ``runs:/<run_id>/<path>``, ``mlflow-artifacts:/<path>``, or a URI under the artifact
root (and, when a run id is given, under that run's artifact folder). Pure functions; the
caller looks the run up.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from stead.artifacts.paths import normalize_artifact_path, percent_decodings
from stead.errors import InvalidParameter

__all__ = ["parse_runs_uri", "check_source", "relative_to_root", "join_uri"]

_RUNS = re.compile(r"^runs:/(?P<run_id>[A-Za-z0-9][\w\-]{0,63})(?:/(?P<path>.*))?$")


def _refuse(source: str, why: str) -> InvalidParameter:
    return InvalidParameter(
        f"Invalid model version source {source!r}: {why}. A source must be runs:/<run_id>/<path>, "
        "mlflow-artifacts:/<path> or a location inside the artifact store."
    )


def join_uri(base: str, path: str) -> str:
    return f"{base.rstrip('/')}/{path}" if path else base.rstrip("/")


def parse_runs_uri(uri: str) -> tuple[str, str]:
    """(run_id, canonical artifact path) of ``runs:/<run_id>/<path>``."""
    match = _RUNS.match(uri or "")
    if not match:
        raise InvalidParameter(f"Invalid runs URI {uri!r}: write runs:/<run_id>/<artifact path>, e.g. runs:/0a1b.../model")
    return match["run_id"], normalize_artifact_path(match["path"] or "")


def _check_plain(source: str) -> None:
    """No control characters, backslashes, fragments, queries or '..', however encoded."""
    for form in percent_decodings(source):
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in form):
            raise _refuse(source, "it contains a control character")
        for ch, what in (("\\", "a backslash"), ("#", "a '#' fragment"), ("?", "a '?' query")):
            if ch in form:
                raise _refuse(source, f"it contains {what}")
        if any(seg in ("..", ".") for seg in form.split("/")[1:]) or form.startswith(".."):
            raise _refuse(source, "it contains a '..' or '.' segment")


def _local_path(uri: str) -> Path | None:
    """The local path of a plain path or file:// URI, or None for other schemes."""
    parts = urlsplit(uri)
    if parts.scheme in ("", "file"):
        if parts.netloc not in ("", "localhost") or uri.startswith("//"):
            raise _refuse(uri, "it names a network host")
        path = unquote(parts.path) if parts.scheme == "file" else uri
        if not path.startswith("/"):
            raise _refuse(uri, "a local path must be absolute and inside the artifact root")
        return Path(os.path.realpath(path))
    return None


def relative_to_root(location: str, root: str) -> str | None:
    """``location``'s canonical path inside ``root`` ('' for the root itself), or None.

    Local paths are compared after symlinks are resolved; other URIs (``s3://``,
    ``mlflow-artifacts:``) by scheme, host and path segments after percent-decoding.
    """
    _check_plain(location)
    if not urlsplit(root).scheme and not root.startswith("/"):
        root = os.path.abspath(root)
    local, local_root = _local_path(location), _local_path(root)
    if local is not None or local_root is not None:
        if local is None or local_root is None:
            return None
        if local != local_root and local_root not in local.parents:
            return None
        return local.relative_to(local_root).as_posix().strip(".")
    src, base = urlsplit(location), urlsplit(root)
    if (src.scheme.lower(), src.netloc.lower()) != (base.scheme.lower(), base.netloc.lower()):
        return None
    src_parts = [unquote(p) for p in src.path.split("/") if p]
    base_parts = [unquote(p) for p in base.path.split("/") if p]
    if src_parts[: len(base_parts)] != base_parts:
        return None
    return normalize_artifact_path("/".join(src_parts[len(base_parts):]))


def check_source(
    source: str,
    *,
    artifact_root: str,
    run_id: str | None = None,
    run_artifact_uri: str | None = None,
) -> str:
    """The storage location (artifact URI) of an accepted ``source``, or ``InvalidParameter``.

    ``runs:/`` sources need ``run_artifact_uri`` (the run named in the URI, looked up by the
    caller). With ``run_id``, any other source must lie inside that run's artifact folder.
    """
    if not isinstance(source, str) or not source.strip():
        raise InvalidParameter("Missing value for required parameter 'source': pass runs:/<run_id>/<path>")
    _check_plain(source)
    if source.startswith("runs:"):
        uri_run_id, path = parse_runs_uri(source)
        if run_id and run_id != uri_run_id:
            raise _refuse(source, f"it names run {uri_run_id} but run_id is {run_id}")
        if run_artifact_uri is None:
            raise _refuse(source, f"run {uri_run_id} does not exist")
        return join_uri(run_artifact_uri, path)
    if source.startswith("mlflow-artifacts:"):
        parts = urlsplit(source)
        if parts.netloc:
            raise _refuse(source, "mlflow-artifacts URIs must not name a host; write mlflow-artifacts:/<path>")
        location = "mlflow-artifacts:/" + normalize_artifact_path(unquote(parts.path).lstrip("/"))
    else:
        if urlsplit(source).scheme in ("http", "https", "ftp", "sftp", "hdfs"):
            raise _refuse(source, "the server does not fetch remote URLs")
        if relative_to_root(source, artifact_root) is None:
            raise _refuse(source, "it is outside the artifact store")
        location = source
    if run_id and run_artifact_uri is not None:
        if relative_to_root(location, run_artifact_uri) is None:
            raise _refuse(source, f"it is not inside the artifact folder of run {run_id}")
    return location
