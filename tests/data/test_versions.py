"""add, status, checkout, get, pointer files and the records in the store (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

import stead.data
from data_files import make_files, object_files
from stead.data.workspace import Workspace
from stead.errors import Conflict, InvalidParameter, InvalidState, NotFound


def _data(root: Path) -> Path:
    return make_files(root / "data" / "customers", {"a.csv": b"id,x\n1,2\n", "sub/b.bin": os.urandom(5000), "c.txt": b"c"})


def test_add_records_version_and_pointer(project) -> None:
    d = _data(Path.cwd())
    r = stead.data.add("data/customers", "customers", message="first", settings=project)
    assert r.created and r.version.uri == "data:/customers@1"
    assert r.version.num_files == 3 and r.version.path == "data/customers"
    assert (d.parent / "customers.stead").read_text().count("version: 1") == 1
    assert len(object_files(project.home)) == 4  # 3 files + the manifest
    again = stead.data.add("data/customers", "customers", settings=project)
    assert not again.created and again.version.version == 1
    (d / "c.txt").write_bytes(b"changed")
    r2 = stead.data.add("data/customers", "customers", settings=project)
    assert r2.created and r2.version.version == 2
    assert [v.version for v in stead.data.list_versions("customers", settings=project)] == [1, 2]
    assert stead.data.get_version("data:/customers@latest", settings=project).version == 2
    assert stead.data.list_datasets(settings=project)[0].latest_version == 2
    prof = stead.data.get_version("customers@1", settings=project).profile
    assert prof["a.csv"]["columns"]["x"]["mean"] == 2.0


def test_status_reports_added_modified_deleted(project) -> None:
    d = _data(Path.cwd())
    stead.data.add("data/customers", "customers", settings=project)
    [s] = stead.data.status(settings=project)
    assert s.clean
    (d / "c.txt").write_bytes(b"x")
    (d / "new.txt").write_bytes(b"n")
    (d / "sub" / "b.bin").unlink()
    [s] = stead.data.status(["data/customers"], settings=project)
    assert (s.added, s.modified, s.deleted) == (["new.txt"], ["c.txt"], ["sub/b.bin"])


def _age(root: Path, seconds: int = 60) -> None:
    """Date every file back, so that its (inode, size, mtime) is trusted (not racy)."""
    past = int((os.stat(root).st_mtime - seconds) * 1e9)
    for p in root.rglob("*"):
        if p.is_file():
            os.utime(p, ns=(past, past))


def test_clean_status_reads_no_file_and_changes_are_still_seen(project, monkeypatch) -> None:
    import sys

    import stead.data.status  # noqa: F401  (the module, which stead.data.status shadows)

    d = _data(Path.cwd())
    _age(d)
    stead.data.add("data/customers", "customers", settings=project)

    def no_hashing(*_a, **_k):  # type: ignore[no-untyped-def]
        raise AssertionError("a clean status hashed or looked files up one by one")

    with monkeypatch.context() as m:
        m.setattr(sys.modules["stead.data.status"], "hash_tree", no_hashing)
        assert stead.data.status(settings=project)[0].clean
    (d / "c.txt").write_bytes(b"x")
    (d / "new.txt").write_bytes(b"n")
    (d / "sub" / "b.bin").unlink()
    os.utime(d / "a.csv")  # touched, same content
    [s] = stead.data.status(settings=project)
    assert (s.added, s.modified, s.deleted) == (["new.txt"], ["c.txt"], ["sub/b.bin"])
    stead.data.checkout("customers@1", force=True, settings=project)
    assert stead.data.status(settings=project)[0].clean


def test_status_without_its_index_takes_the_long_way(project) -> None:
    import sqlite3

    d = _data(Path.cwd())
    _age(d)
    stead.data.add("data/customers", "customers", settings=project)
    (d / "c.txt").write_bytes(b"x")
    with sqlite3.connect(project.home / "cache" / "state.db") as db:
        db.execute("DELETE FROM tree_index")
    [s] = stead.data.status(settings=project)
    assert (s.added, s.modified, s.deleted) == ([], ["c.txt"], [])
    [s] = stead.data.status(settings=project)  # now from the index it rebuilt
    assert (s.added, s.modified, s.deleted) == ([], ["c.txt"], [])


def test_checkout_restores_and_protects_unsaved_changes(project) -> None:
    d = _data(Path.cwd())
    stead.data.add("data/customers", "customers", settings=project)
    original = (d / "c.txt").read_bytes()
    (d / "c.txt").write_bytes(b"v2")
    stead.data.add("data/customers", "customers", settings=project)
    res = stead.data.checkout("customers@1", settings=project)
    assert (d / "c.txt").read_bytes() == original and res.written == ["c.txt"]
    assert "version: 1" in (d.parent / "customers.stead").read_text()
    (d / "c.txt").write_bytes(b"unsaved work")
    with pytest.raises(Conflict, match="not saved"):
        stead.data.checkout("customers@2", settings=project)
    assert (d / "c.txt").read_bytes() == b"unsaved work"
    stead.data.checkout("customers@2", force=True, settings=project)
    assert (d / "c.txt").read_bytes() == b"v2"
    out = stead.data.checkout("customers@1", to="elsewhere/c1", settings=project)
    assert (Path.cwd() / "elsewhere/c1/c.txt").read_bytes() == original and out.dest.name == "c1"


def test_git_checkout_then_data_checkout_restores_that_commit(project) -> None:
    root = Path.cwd()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    d = _data(root)
    stead.data.add("data/customers", "customers", settings=project)
    assert "/customers" in (root / "data/.gitignore").read_text()
    subprocess.run([*git, "add", "data/customers.stead", "data/.gitignore"], check=True)
    subprocess.run([*git, "commit", "-qm", "v1"], check=True)
    (d / "c.txt").write_bytes(b"second")
    stead.data.add("data/customers", "customers", settings=project)
    subprocess.run([*git, "commit", "-qam", "v2"], check=True)
    subprocess.run([*git, "checkout", "-q", "HEAD~1"], check=True)
    stead.data.checkout_pointers(settings=project)
    assert (d / "c.txt").read_bytes() == b"c"
    assert stead.data.status(settings=project)[0].clean


def test_get_returns_a_local_path_and_logs_the_run_input(project, fluent) -> None:
    _data(Path.cwd())
    stead.data.add("data/customers", "customers", settings=project)
    with fluent.start_run() as run:
        path = stead.data.get("data:/customers@1", settings=project)
        assert (path / "c.txt").read_bytes() == b"c"
        assert stead.data.get("data:/customers@1", settings=project) == path
    inputs = fluent.get_client().get_run(run.info.run_id).inputs
    uri = "data:/customers@1"
    assert any(getattr(i, "uri", None) == uri or uri in (i.source or "") for i in getattr(inputs, "dataset_inputs", inputs))


def test_corrupt_cache_object_is_never_checked_out(project) -> None:
    d = _data(Path.cwd())
    v1 = stead.data.add("data/customers", "customers", settings=project)
    (d / "c.txt").write_bytes(b"other")
    stead.data.add("data/customers", "customers", settings=project)
    from stead.data.workspace import Workspace

    cache = Workspace.from_settings(project).cache()
    obj = Path(cache.path(__import__("blake3").blake3(b"c").hexdigest()))
    os.chmod(obj, 0o644)
    obj.write_bytes(b"X")  # same size, wrong bytes
    with pytest.raises(InvalidState, match=str(obj)):
        stead.data.checkout(v1.version.uri, settings=project)
    assert (d / "c.txt").read_bytes() == b"other"
    assert not obj.exists()  # removed, so that a pull fetches a good copy


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda s: stead.data.add("/etc", "x", settings=s), InvalidParameter, "outside the project"),
        (lambda s: stead.data.add("missing", "x", settings=s), NotFound, "No such file or folder: missing"),
        (lambda s: stead.data.add("data", "bad name!", settings=s), InvalidParameter, "Invalid dataset name"),
        (lambda s: stead.data.get("data:/customers@9", settings=s), NotFound, "no version 9"),
        (lambda s: stead.data.get("data:/nope@1", settings=s), NotFound, "No dataset named"),
        (lambda s: stead.data.get("customers@x1", settings=s), InvalidParameter, "Invalid dataset reference"),
    ],
)
def test_bad_input_is_one_clear_error(project, call, error, match) -> None:
    _data(Path.cwd())
    stead.data.add("data/customers", "customers", settings=project)
    before = sorted(object_files(project.home))
    with pytest.raises(error, match=match):
        call(project)
    assert sorted(object_files(project.home)) == before
    assert [v.version for v in stead.data.list_versions("customers", settings=project)] == [1]


def test_a_missing_file_is_no_such_file_wherever_the_project_is(local_project, tmp_path, monkeypatch) -> None:
    """From a folder above the project (a repository root whose project is a subfolder) a
    missing file is "no such file", not "outside the project"."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(NotFound, match=r"No such file or folder: data/customers.csv \(looked in "):
        stead.data.add("data/customers.csv", settings=local_project)
    make_files(tmp_path / "data", {"customers.csv": b"id\n1\n"})
    with pytest.raises(InvalidParameter, match="outside the project"):
        stead.data.add("data/customers.csv", settings=local_project)


def test_full_disk_leaves_everything_consistent(local_project, monkeypatch) -> None:
    """ENOSPC injected on the 3rd object write: clear error, no version, no pointer, no temp file."""
    import errno

    from stead.data import cache as cache_mod

    d = make_files(Path.cwd() / "ds", {f"f{i}": os.urandom(100 + i) for i in range(10)})
    real = cache_mod._write_new
    calls = {"n": 0}

    def failing(path: str, data: bytes) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, data)

    monkeypatch.setattr(cache_mod, "_write_new", failing)
    with pytest.raises(Exception, match="No space left"):
        stead.data.add("ds", "ds", settings=local_project)
    assert not (d.parent / "ds.stead").exists()
    assert list(Workspace.from_settings(local_project).cache().iter_temporaries()) == []
    with pytest.raises(NotFound):
        stead.data.list_versions("ds", settings=local_project)
    monkeypatch.setattr(cache_mod, "_write_new", real)
    r = stead.data.add("ds", "ds", settings=local_project)
    assert r.version.version == 1 and len(object_files(local_project.home)) == 11
    assert all(local_project.home / "cache" / "objects" in p.parents for p in object_files(local_project.home))


def test_gc_keeps_recorded_versions_and_removes_orphans(project) -> None:
    d = _data(Path.cwd())
    stead.data.add("data/customers", "customers", settings=project)
    from stead.data.workspace import Workspace

    cache = Workspace.from_settings(project).cache()
    orphan = cache.put_bytes(b"orphan object")
    r = stead.data.gc(settings=project)
    assert r.removed == 1 and not cache.has(orphan) and r.kept == 4
    assert stead.data.checkout("customers@1", to="restored", settings=project).written
    assert (Path.cwd() / "restored/c.txt").read_bytes() == (d / "c.txt").read_bytes()


def test_gc_removes_abandoned_temporaries_only(project) -> None:
    _data(Path.cwd())
    stead.data.add("data/customers", "customers", settings=project)
    cache = Workspace.from_settings(project).cache()
    digest = next(iter(cache.iter_objects()))
    abandoned = Path(cache.tmp_path(digest))  # a killed add's half-written object, beside its final name
    fresh = Path(cache.tmp_path(digest))  # a running add's
    legacy = cache.tmp / "12-ab-3"  # where earlier releases wrote them
    legacy.parent.mkdir(parents=True, exist_ok=True)
    for path in (abandoned, fresh, legacy):
        path.write_bytes(b"half")
    hour_ago = time.time() - 2 * 3600
    for path in (abandoned, legacy):
        os.utime(path, (hour_ago, hour_ago))
    assert digest in set(cache.iter_objects()) and not any(d.startswith(digest[:2] + ".") for d in cache.iter_objects())
    r = stead.data.gc(settings=project)
    assert r.tmp_removed == 2 and r.removed == 0
    assert fresh.exists() and not abandoned.exists() and not legacy.exists()
    assert sorted(cache.iter_temporaries()) == [str(fresh)]
