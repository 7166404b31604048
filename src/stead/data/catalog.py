"""The version index a remote carries: one small JSON file per data set version.

``push`` writes ``<remote>/versions/<name>/<version>.json`` (the version's record: number,
manifest name, path, kind, totals, user, message, profile) next to the objects, so that a
fresh home, whose embedded store knows nothing, learns every version from the remote on
``pull`` (or on a ``checkout name@N`` it cannot resolve), as ``git clone && dvc pull``
would. One file per version, written once: two people pushing different data sets never
overwrite each other, and a version number already taken on the remote by other content
is reported, not replaced. Entries come from a remote and are checked like every path
stead reads (``stead.data.paths``) before anything is recorded or written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import asdict
from typing import TYPE_CHECKING

from stead.data.cache import is_object_name
from stead.data.paths import check_relative
from stead.data.records import DatasetVersion
from stead.data.remotes import Remote
from stead.data.workspace import check_name
from stead.errors import InvalidParameter

if TYPE_CHECKING:
    from stead.data.cache import Cache

__all__ = ["PREFIX", "key", "encode", "decode", "publish", "unknown_entries", "learn"]

PREFIX = "versions/"
_KEY = re.compile(r"^versions/([^/]+)/([1-9][0-9]{0,9})\.json$")


def key(name: str, version: int) -> str:
    return f"{PREFIX}{name}/{version}.json"


def encode(v: DatasetVersion) -> bytes:
    return json.dumps({"format": 1, **asdict(v)}, sort_keys=True, separators=(",", ":")).encode()


def decode(data: bytes, where: str) -> DatasetVersion:
    """A version record read from a remote, checked field by field."""
    try:
        doc = json.loads(data)
        v = DatasetVersion(
            name=doc["name"], version=doc["version"], manifest_hash=doc["manifest_hash"], path=doc["path"],
            kind=doc["kind"], num_files=doc["num_files"], num_bytes=doc["num_bytes"], user_id=doc.get("user_id", ""),
            run_id=doc.get("run_id"), message=doc.get("message", ""), creation_time=doc["creation_time"],
            profile=doc.get("profile"),
        )
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidParameter(f"{where} is not a valid stead version record ({exc}); refusing to use it") from exc
    ints = (v.version, v.num_files, v.num_bytes, v.creation_time)
    strs = (v.user_id, v.message, v.run_id or "")
    if (any(type(i) is not int or i < 0 for i in ints) or v.version < 1 or v.kind not in ("dir", "file")
            or not isinstance(v.manifest_hash, str) or not is_object_name(v.manifest_hash)
            or any(not isinstance(s, str) for s in strs) or not (v.profile is None or isinstance(v.profile, dict))):
        raise InvalidParameter(f"{where} is not a valid stead version record; refusing to use it")
    check_name(v.name)
    check_relative(v.path, where)
    return v


def publish(remote: Remote, versions: Iterable[DatasetVersion]) -> list[tuple[str, str]]:
    """Write the index entries of ``versions`` the remote lacks; the failures, as
    ``(location, reason)``, for numbers the remote holds with other content."""
    failed = []
    have = set(remote.list_meta(PREFIX))
    for v in versions:
        k = key(v.name, v.version)
        if k in have:
            try:
                theirs = json.loads(remote.get_meta(k)).get("manifest_hash")
            except (ValueError, AttributeError):
                theirs = None
            if theirs != v.manifest_hash:
                failed.append((f"{remote.url}/{k}", f"the remote holds another {v.uri} (pushed from another "
                               "store); record this data under another name, or push to another remote"))
            continue
        remote.put_meta(k, encode(v))
    return failed


def unknown_entries(remote: Remote, known: set[tuple[str, int]]) -> list[DatasetVersion]:
    """The remote's version records that ``known`` (``(name, version)``) lacks, checked."""
    out = []
    for k in remote.list_meta(PREFIX):
        m = _KEY.match(k)
        if m is None or (m[1], int(m[2])) in known:
            continue
        where = f"The version record {remote.url}/{k}"
        v = decode(remote.get_meta(k), where)
        if (v.name, v.version) != (m[1], int(m[2])):
            raise InvalidParameter(f"{where} names {v.uri}; refusing to use it")
        out.append(v)
    return out


def learn(cache: "Cache", remote: Remote, store_url: str) -> tuple[int, list[tuple[str, str]]]:
    """Record in the store at ``store_url`` every version the remote's index has and the
    store lacks (fetching their manifests); ``(versions learnt, failures)``.

    Every entry and manifest is checked before the first one is recorded."""
    from stead.data.lite import run
    from stead.data.manifest import Manifest
    from stead.data.pull import fetch_one

    entries = unknown_entries(remote, run(store_url, "known_versions"))
    if not entries:
        return 0, []
    failed: list[tuple[str, str]] = []
    learnt: list[tuple[DatasetVersion, Manifest]] = []
    for v in entries:
        if not cache.has(v.manifest_hash):
            bad = fetch_one(cache, remote, v.manifest_hash, None)
            if bad:
                failed.append(bad)
                continue
        manifest = Manifest.from_bytes(cache.read_bytes(v.manifest_hash), f"The manifest of {v.uri} on {remote.url}")
        learnt.append((v, manifest))
    return (run(store_url, "import_versions", learnt) if learnt else 0), failed
