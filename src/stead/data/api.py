"""The Python API of data versioning: ``stead.data.add``, ``get``, ``validate``, ...

Each function takes optional ``settings`` (default: ``stead.load_settings()``) and wires
the workspace, cache and metadata store to the verb modules, which hold the logic.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stead.data.workspace import CacheLock, Workspace

if TYPE_CHECKING:
    from stead.config import Settings
    from stead.data.add import AddResult
    from stead.data.checkout import CheckoutResult
    from stead.data.diff import VersionDiff
    from stead.data.gc import GcResult
    from stead.data.lite import LiteStore
    from stead.data.records import Dataset, DatasetVersion
    from stead.data.status import DataStatus
    from stead.data.transfer import Progress, TransferResult
    from stead.data.validate import ValidationReport
    from stead.store.engine import Store

__all__ = [
    "add",
    "get",
    "status",
    "checkout",
    "push",
    "pull",
    "gc",
    "list_datasets",
    "list_versions",
    "get_version",
    "diff",
    "validate",
    "remotes",
]


def _settings(settings: "Settings | None") -> "Settings":
    if settings is not None:
        return settings
    from stead.config import load_settings

    return load_settings()


def _store(settings: "Settings") -> "Store":
    from stead.store import open_store

    return open_store(settings.resolved_store_url)


def _store_for_add(settings: "Settings") -> "Store | LiteStore":
    """The store ``add`` records in: plain sqlite3 for a current SQLite store (no SQLAlchemy
    to import, see ``stead.data.lite``), else the SQLAlchemy store."""
    from stead.data.lite import open_lite

    return open_lite(settings.resolved_store_url) or _store(settings)


def _tracking_loaded() -> bool:
    """Whether a run of ``stead.start_run`` can be active: none is before its module is
    imported, so ``stead data add`` (whose fast path never imports tracking) skips the lineage
    look-up and the ~10 ms of tracking imports it costs."""
    return "stead.tracking.fluent" in sys.modules


def add(
    path: str | os.PathLike[str],
    name: str | None = None,
    *,
    message: str = "",
    run_id: str | None = None,
    profile: bool = True,
    settings: "Settings | None" = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> "AddResult":
    """Version a file or folder as data set ``name``; a new version only if it changed.

    The run that makes it is ``run_id`` (default: the active run, if any).
    """
    from concurrent.futures import ThreadPoolExecutor

    from stead.data.add import add as add_version

    if not run_id and _tracking_loaded():
        from stead.data.lineage import active_run_id

        run_id = active_run_id()
    s = _settings(settings)
    ws = Workspace.from_settings(s)
    with ThreadPoolExecutor(1) as pool:
        # Opening the store (maybe importing SQLAlchemy) overlaps hashing; add waits for it to record.
        opening = pool.submit(_store_for_add, s)
        try:
            with CacheLock(ws):
                return add_version(
                    ws, opening.result, path, name=name, message=message, run_id=run_id,
                    profile=profile, on_progress=on_progress,
                )
        finally:
            if opening.exception() is None:
                opening.result().dispose()


def get_version(ref: str, *, settings: "Settings | None" = None) -> "DatasetVersion":
    """The record of ``customers@4`` / ``data:/customers@latest``."""
    from stead.data import service
    from stead.data.records import parse_ref

    name, version = parse_ref(ref)
    s = _settings(settings)
    store = _store(s)
    try:
        return service.get_version(store, name, version)
    finally:
        store.dispose()


def list_datasets(*, settings: "Settings | None" = None) -> "list[Dataset]":
    from stead.data import service

    store = _store(_settings(settings))
    try:
        return service.list_datasets(store)
    finally:
        store.dispose()


def list_versions(name: str, *, settings: "Settings | None" = None) -> "list[DatasetVersion]":
    from stead.data import service

    store = _store(_settings(settings))
    try:
        return service.list_versions(store, name)
    finally:
        store.dispose()


def _manifest(store: "Store", ref: str):  # type: ignore[no-untyped-def]
    from stead.data import service
    from stead.data.records import parse_ref

    name, version = parse_ref(ref)
    return service.get_manifest(store, name, version)


def _fetch_missing(s: "Settings", ws: Workspace, objects: dict[str, int], remote: str | None) -> None:
    """Pull objects the cache lacks from ``remote`` (or the default one, if configured)."""
    cache = ws.cache()
    if all(cache.has(d) for d in objects):
        return
    from stead.data.remote_config import Remotes

    if remote is None and Remotes(s).default() is None:
        return  # checkout reports what is missing
    pull(remote=remote, objects=objects, settings=s)


def _resolve(s: "Settings", ws: Workspace, ref: str, remote: str | None):  # type: ignore[no-untyped-def]
    """``(version, manifest)`` of ``ref``; a version the store lacks is looked up in the
    remote's version index (a fresh home learns it there, see ``stead.data.catalog``)."""
    from stead.errors import NotFound

    store = _store(s)
    try:
        return _manifest(store, ref)
    except NotFound:
        from stead.data.remote_config import Remotes

        if remote is None and Remotes(s).default() is None:
            raise
    finally:
        store.dispose()
    _learn(s, ws, remote)
    store = _store(s)
    try:
        return _manifest(store, ref)
    finally:
        store.dispose()


def _learn(s: "Settings", ws: Workspace, remote: str | None) -> list[tuple[str, str]]:
    """Record the versions the remote's index has and the store lacks; the failures."""
    from stead.data.catalog import learn
    from stead.data.remote_config import Remotes
    from stead.data.remotes import open_remote

    _name, url = Remotes(s).get(remote)
    return learn(ws.cache(), open_remote(url, s.aws), s.resolved_store_url)[1]


def checkout(
    ref: str,
    to: str | os.PathLike[str] | None = None,
    *,
    force: bool = False,
    link: str = "auto",
    remote: str | None = None,
    settings: "Settings | None" = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> "CheckoutResult":
    """Put version ``ref`` (``customers@3``) at ``to`` (default: where it was added from)."""
    from stead.data.checkout import checkout as checkout_files
    from stead.data.pointer import Pointer, pointer_path, write_pointer

    s = _settings(settings)
    ws = Workspace.from_settings(s)
    version, manifest = _resolve(s, ws, ref, remote)
    ws.cache().put_bytes(manifest.to_bytes())
    _fetch_missing(s, ws, manifest.objects(), remote)
    if to is None:
        dest = ws.data_path(version.path, f"The record of {version.uri}")
    else:
        dest = ws.destination(to)
        if version.kind == "file" and (dest.is_dir() or str(to).endswith(("/", os.sep))):
            dest = dest / _file_name(version)  # like cp: the file goes inside the folder given
    with CacheLock(ws):
        result = checkout_files(ws, manifest, dest, kind=version.kind, force=force, link=link, on_progress=on_progress)
    if to is None:
        write_pointer(
            pointer_path(dest),
            Pointer(version.name, version.version, dest.name, version.kind, version.manifest_hash,
                    version.num_files, version.num_bytes),
        )
    return result


_checkout_ref = checkout


def _file_name(version: "DatasetVersion") -> str:
    """The name a file version had where it was added (checked: it may come from a remote)."""
    from stead.data.paths import check_relative

    return check_relative(version.path, f"The record of {version.uri}").rsplit("/", 1)[-1]


def checkout_pointers(
    targets: Sequence[str | os.PathLike[str]] = (),
    *,
    force: bool = False,
    link: str = "auto",
    settings: "Settings | None" = None,
    on_progress: Callable[[int, int], None] | None = None,
    verified: "Collection[str]" = (),
    fetched: "Mapping[str, bytes] | None" = None,
) -> "list[CheckoutResult]":
    """Restore the data named by pointer files (all of the project's by default): what a
    ``git checkout`` of an older commit needs next."""
    from stead.data.checkout import checkout as checkout_files
    from stead.data.pointer import read_pointer
    from stead.data.status import load_manifest

    ws = Workspace.from_settings(_settings(settings))
    results = []
    with CacheLock(ws):
        for pf in _pointer_files(ws, targets):
            p = read_pointer(pf)
            dest = ws.check_inside(p.data_path(pf), f"The pointer file {ws.relative(pf)}")
            manifest = load_manifest(ws, p.manifest, ws.relative(pf))
            results.append(checkout_files(ws, manifest, dest, kind=p.kind, force=force, link=link,
                                          on_progress=on_progress, verified=verified, fetched=fetched))
    return results


def _pointer_files(ws: Workspace, targets: Sequence[str | os.PathLike[str]]) -> list[Path]:
    from stead.data.pointer import SUFFIX
    from stead.errors import NotFound

    if not targets:
        return ws.pointers()
    out = []
    for t in targets:
        p = ws.resolve(t, must_exist=False)
        if p.is_dir() and not p.with_name(p.name + SUFFIX).exists():
            out += ws.pointers(p)
            continue
        pf = p if p.name.endswith(SUFFIX) else p.with_name(p.name + SUFFIX)
        if not pf.is_file():
            raise NotFound(f"{t} is not versioned: no pointer file {pf.name}; run `stead data add {t}` first")
        out.append(pf)
    return out


def status(
    targets: Sequence[str | os.PathLike[str]] = (), *, settings: "Settings | None" = None
) -> "list[DataStatus]":
    """What changed in versioned data since its pointer's version (all pointers by default)."""
    from stead.data.status import status as one

    ws = Workspace.from_settings(_settings(settings))
    return [one(ws, pf) for pf in _pointer_files(ws, targets)]


def get(
    ref: str,
    *,
    to: str | os.PathLike[str] | None = None,
    log_input: bool = True,
    settings: "Settings | None" = None,
) -> Path:
    """A local path holding version ``ref`` (``data:/customers@4``), fetched if needed.

    Without ``to`` the files go to ``<home>/checkouts/<name>@<version>`` (reused next
    time; treat it as read-only). Inside an active run the version is logged as an input.
    """
    from stead.data.checkout import checkout as checkout_files

    s = _settings(settings)
    ws = Workspace.from_settings(s)
    version, manifest = _resolve(s, ws, ref, None)
    if to is not None:
        dest = Path(to).expanduser().resolve()
        if version.kind == "file" and dest.is_dir():
            dest = dest / _file_name(version)
    else:
        dest = ws.home / "checkouts" / f"{version.name}@{version.version}"
        if version.kind == "file":
            dest = dest / _file_name(version)
    marker = ws.home / "checkouts" / f".{version.name}@{version.version}.done"
    if not (to is None and marker.exists() and marker.read_text() == version.manifest_hash):
        ws.cache().put_bytes(manifest.to_bytes())
        _fetch_missing(s, ws, manifest.objects(), None)
        with CacheLock(ws):
            checkout_files(ws, manifest, dest, kind=version.kind, force=to is None)
        if to is None:
            marker.write_text(version.manifest_hash)
    if log_input and _tracking_loaded():
        from stead.data import lineage

        if lineage.active_run_id() is not None:
            lineage.log_input(version.uri)
    return dest


def remotes(settings: "Settings | None" = None):  # type: ignore[no-untyped-def]
    """The named remotes of this project: the team's, overridden by this home's (``Remotes``)."""
    from stead.data.remote_config import Remotes

    return Remotes(_settings(settings))


def _objects_for(
    s: "Settings", ws: Workspace, targets: Sequence[str], all_versions: bool
) -> tuple[dict[str, int | None], list[str], list[tuple[str, int, str]]]:
    """Objects (name -> size) of the targets: pointer files or paths, ``name@version``
    references, or every pointer of the project; the manifests' own names; and the
    versions they are, as ``(name, version, manifest)``."""
    from stead.data.manifest import Manifest
    from stead.data.pointer import read_pointer

    objects: dict[str, int | None] = {}
    manifests: list[str] = []
    versions: list[tuple[str, int, str]] = []
    cache = ws.cache()
    refs = _refs(targets)
    paths = [t for t in targets if t not in refs]
    if all_versions or refs:
        from stead.data import service

        store = _store(s)
        try:
            if all_versions:
                for digest, text in service.all_manifest_hashes(store):
                    cache.put_bytes(text.encode())
                    manifests.append(digest)
                    objects.update(Manifest.from_bytes(text.encode()).objects())
                versions += [(v.name, v.version, v.manifest_hash)
                             for v in service.versions_of(store, sorted(service.known_versions(store)))]
            for ref in refs:
                v, m = _manifest(store, ref)
                cache.put_bytes(m.to_bytes())
                manifests.append(m.digest)
                objects.update(m.objects())
                versions.append((v.name, v.version, v.manifest_hash))
        finally:
            store.dispose()
    if paths or not (refs or all_versions):
        for pf in _pointer_files(ws, paths):
            p = read_pointer(pf)
            manifests.append(p.manifest)
            versions.append((p.name, p.version, p.manifest))
            try:
                objects.update(Manifest.from_bytes(cache.read_bytes(p.manifest), f"The manifest of {pf}").objects())
            except OSError:
                pass  # pull fetches the manifest first
    return objects, manifests, versions


def _refs(targets: Sequence[str]) -> list[str]:
    return [t for t in targets if "@" in str(t) or str(t).startswith("data:/")]


def push(
    targets: Sequence[str] = (),
    *,
    remote: str | None = None,
    all_versions: bool = False,
    jobs: int | None = None,
    settings: "Settings | None" = None,
    progress: "Progress | None" = None,
) -> "TransferResult":
    """Send the objects of the targets (default: every pointer in the project) to a remote,
    then their versions' records (the remote's version index, ``stead.data.catalog``)."""
    from stead.data.catalog import publish
    from stead.data.lite import run
    from stead.data.push import push as push_objects
    from stead.data.remote_config import Remotes
    from stead.data.remotes import open_remote

    s = _settings(settings)
    ws = Workspace.from_settings(s)
    _name, url = Remotes(s).get(remote)
    objects, manifests, versions = _objects_for(s, ws, targets, all_versions)
    cache = ws.cache()
    for m in manifests:
        objects[m] = os.stat(cache.path(m)).st_size if cache.has(m) else 0
    rem = open_remote(url, s.aws)
    result = push_objects(cache, rem, {d: z or 0 for d, z in objects.items()},
                          manifests=manifests, jobs=jobs, progress=progress)
    if result.ok and versions:  # a remote never indexes a version whose objects it lacks
        wanted = {(n, v): m for n, v, m in versions}
        records = run(s.resolved_store_url, "versions_of", sorted(wanted))
        result.failed += publish(rem, [r for r in records if wanted[(r.name, r.version)] == r.manifest_hash])
    return result


def pull(
    targets: Sequence[str] = (),
    *,
    remote: str | None = None,
    objects: dict[str, int] | None = None,
    checkout: bool = True,
    force: bool = False,
    jobs: int | None = None,
    settings: "Settings | None" = None,
    progress: "Progress | None" = None,
) -> "TransferResult":
    """Learn the versions the remote's index has and the store lacks, fetch the targets'
    objects (default: every pointer in the project), then check the pointers' data out
    (unless ``checkout=False``)."""
    from stead.data.catalog import learn
    from stead.data.pull import fetch_one
    from stead.data.pull import pull as pull_objects
    from stead.data.remote_config import Remotes
    from stead.data.remotes import open_remote

    s = _settings(settings)
    ws = Workspace.from_settings(s)
    _name, url = Remotes(s).get(remote)
    rem = open_remote(url, s.aws)
    cache = ws.cache()
    failed: list[tuple[str, str]] = []
    refs = _refs(targets)
    paths = [t for t in targets if t not in refs]
    with CacheLock(ws):
        if objects is None:
            from stead.data.pointer import read_pointer

            failed += learn(cache, rem, s.resolved_store_url)[1]
            wanted = [read_pointer(pf).manifest for pf in _pointer_files(ws, paths)] if paths or not refs else []
            for m in wanted:
                if not cache.has(m):
                    bad = fetch_one(cache, rem, m, None)
                    if bad:
                        failed.append(bad)
            objs, _m, _v = _objects_for(s, ws, targets, False)
        else:
            objs = dict(objects)
        result = pull_objects(cache, rem, objs, jobs=jobs, progress=progress)
    fetched, result.fetched = result.fetched, {}  # bytes of small objects, for the checkout below
    result.failed[:0] = failed
    if not result.ok:
        return result
    if checkout and objects is None:
        if paths or not refs:
            checkout_pointers(paths, force=force, settings=s, verified=result.done, fetched=fetched)
        for ref in refs:
            _checkout_ref(ref, force=force, settings=s)
    return result


def gc(*, dry_run: bool = False, settings: "Settings | None" = None) -> "GcResult":
    """Remove cache objects no recorded version and no pointer file refers to."""
    from stead.data import service
    from stead.data.gc import gc as gc_cache
    from stead.data.manifest import Manifest
    from stead.data.pointer import read_pointer

    s = _settings(settings)
    ws = Workspace.from_settings(s)
    cache = ws.cache()
    keep: set[str] = set()
    store = _store(s)
    with CacheLock(ws, exclusive=True):
        try:
            for digest, text in service.all_manifest_hashes(store):
                keep.add(digest)
                keep.update(Manifest.from_bytes(text.encode()).objects())
        finally:
            store.dispose()
        for pf in ws.pointers():
            p = read_pointer(pf)
            keep.add(p.manifest)
            if cache.has(p.manifest):
                keep.update(Manifest.from_bytes(cache.read_bytes(p.manifest)).objects())
        state = ws.state()
        try:
            return gc_cache(cache, keep, state, dry_run=dry_run)
        finally:
            state.close()


def diff(a: str, b: str, *, settings: "Settings | None" = None) -> "VersionDiff":
    """Files, schema and distribution changes from version ``a`` to ``b``."""
    from stead.data.diff import diff_versions

    store = _store(_settings(settings))
    try:
        va, ma = _manifest(store, a)
        vb, mb = _manifest(store, b)
    finally:
        store.dispose()
    return diff_versions(va, ma, vb, mb)


def validate(
    ref: str,
    expectations: "str | os.PathLike[str] | dict[str, Any]",
    *,
    raise_on_failure: bool = False,
    settings: "Settings | None" = None,
) -> "ValidationReport":
    """Check a version's tabular files against expectations (a YAML file or a dict)."""
    from stead.data.validate import load_expectations, validate_files

    s = _settings(settings)
    ws = Workspace.from_settings(s)
    exp = load_expectations(expectations)
    store = _store(s)
    try:
        version, manifest = _manifest(store, ref)
    finally:
        store.dispose()
    _fetch_missing(s, ws, manifest.objects(), None)
    report = validate_files(ws.cache(), manifest, exp, label=version.uri)
    if raise_on_failure and not report.ok:
        from stead.errors import InvalidState

        raise InvalidState(f"{version.uri} failed validation: {report.summary()}")
    return report
