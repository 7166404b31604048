"""push and pull to local folders and S3 (moto's server on 127.0.0.1)."""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

import stead.data
from data_files import make_files
from stead.errors import BackendUnavailable, InvalidParameter


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def remote(request, tmp_path, local_project):  # type: ignore[no-untyped-def]
    """(remote URL, settings that reach it) for each remote kind."""
    if request.param == "local":
        return str(tmp_path / "remote"), local_project
    url, aws = request.getfixturevalue("s3_remote")
    return url, replace(local_project, aws=aws)


def _clone(tmp_path: Path, settings, url: str):  # type: ignore[no-untyped-def]
    """A second checkout of the project: the pointer files and the remote, no cache."""
    clone = tmp_path / "clone"
    clone.mkdir()
    for pf in [p for p in Path.cwd().rglob("*.stead") if p.is_file()]:
        target = clone / pf.relative_to(Path.cwd())
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(pf, target)
    s = replace(settings, home=clone / ".stead", store_url=f"sqlite:///{tmp_path / 'clone.db'}")
    stead.data.remotes(s).add("origin", url)
    return clone, s


def test_push_then_pull_into_a_fresh_clone(remote, tmp_path) -> None:
    url, s = remote
    files = {f"f{i:02d}": os.urandom(1000 + i) for i in range(20)} | {"big.bin": os.urandom(5 << 20)}
    make_files(Path.cwd() / "ds", files)
    stead.data.add("ds", "ds", settings=s)
    stead.data.remotes(s).add("origin", url)
    r = stead.data.push(settings=s)
    assert r.ok and r.transferred == 22  # 21 files + manifest
    assert stead.data.push(settings=s).transferred == 0  # only missing objects move
    clone, cs = _clone(tmp_path, s, url)
    os.chdir(clone)
    pulled = stead.data.pull(settings=cs)
    assert pulled.ok and pulled.transferred == 21
    for rel, data in files.items():
        assert (clone / "ds" / rel).read_bytes() == data
    assert stead.data.status(settings=cs)[0].clean
    assert stead.data.pull(settings=cs).transferred == 0
    # the clone's own store learnt the version from the remote's index
    assert [v.version for v in stead.data.list_versions("ds", settings=cs)] == [1]
    fresh = replace(cs, home=tmp_path / "fresh" / ".stead", store_url=f"sqlite:///{tmp_path / 'fresh.db'}")
    stead.data.remotes(fresh).add("origin", url)
    got = stead.data.get("data:/ds@1", settings=fresh)  # no pull: learnt on the way
    assert (got / "big.bin").read_bytes() == files["big.bin"]


def test_corrupt_remote_object_is_reported_and_not_used(tmp_path, local_project) -> None:
    s = local_project
    make_files(Path.cwd() / "ds", {"a": b"aaaa", "b": b"bbbb"})
    stead.data.add("ds", "ds", settings=s)
    remote_dir = tmp_path / "remote"
    stead.data.remotes(s).add("origin", str(remote_dir))
    stead.data.push(settings=s)
    from blake3 import blake3

    digest = blake3(b"aaaa").hexdigest()
    bad = remote_dir / "blake3" / digest[:2] / digest[2:]
    bad.write_bytes(b"aa")  # truncated
    clone, cs = _clone(tmp_path, s, str(remote_dir))
    os.chdir(clone)
    r = stead.data.pull(settings=cs)
    assert not r.ok and r.failed[0][0] == str(bad) and "truncated" in r.failed[0][1]
    assert not (clone / "ds" / "a").exists()
    assert not (cs.home / "cache" / "objects" / digest[:2] / digest[2:]).exists()


def test_unreachable_remotes_fail_clearly(tmp_path, local_project) -> None:
    s = local_project
    make_files(Path.cwd() / "ds", {"a": b"a"})
    stead.data.add("ds", "ds", settings=s)
    with pytest.raises(InvalidParameter, match="No data remote"):
        stead.data.push(settings=s)
    stead.data.remotes(s).add("gone", str(tmp_path / "no" / "such" / "dir"))
    with pytest.raises(BackendUnavailable, match="cannot be reached"):
        stead.data.push(settings=s)
    stead.data.remotes(s).add("dead", "s3://bucket/x")
    dead = replace(s, aws={"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"})
    with pytest.raises(BackendUnavailable, match="cannot be reached"):
        stead.data.push(remote="dead", settings=dead)


def test_remote_config(local_project, tmp_path) -> None:
    cfg = stead.data.remotes(local_project)
    cfg.add("a", str(tmp_path / "a"))
    cfg.add("b", "s3://bucket/p", default=True)
    remotes, default = cfg.load()
    assert remotes == {"a": str(tmp_path / "a"), "b": "s3://bucket/p"} and default == "b"
    cfg.remove("b")
    assert cfg.load() == ({"a": str(tmp_path / "a")}, "a")
    with pytest.raises(InvalidParameter):
        cfg.add("x", "ftp://host/p")


def test_push_and_pull_command_lines_are_lean_and_report_failures(tmp_path, local_project) -> None:
    """``stead data push|pull`` as real processes: no typer, rich or SQLAlchemy; a bad
    remote object makes pull exit 1 naming it (nothing is checked out), and a rerun once it
    is repaired fetches only that object."""
    import json
    import subprocess
    import sys

    from blake3 import blake3

    s = local_project
    files = {f"f{i}": os.urandom(100 + i) for i in range(30)} | {"big.bin": os.urandom(1 << 20)}
    make_files(Path.cwd() / "ds", files)
    stead.data.add("ds", "ds", settings=s)
    remote_dir = tmp_path / "remote"
    stead.data.remotes(s).add("origin", str(remote_dir))

    def stead_cli(cwd: Path, settings, *argv: str) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
        code = ("import atexit, sys\n"
                "atexit.register(lambda: sys.stderr.write(' '.join(m for m in ('typer', 'rich', 'sqlalchemy')"
                " if m in sys.modules)))\n"
                f"sys.argv = ['stead', *{list(argv)!r}]\n"
                "from stead.cli.main import run\n"
                "run()\n")
        env = {**os.environ, "STEAD_HOME": str(settings.home), "STEAD_STORE_URL": settings.store_url}
        return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True)

    r = stead_cli(Path.cwd(), s, "data", "push", "--json")
    assert r.returncode == 0 and r.stderr == "" and json.loads(r.stdout)["transferred"] == 32
    r = stead_cli(Path.cwd(), s, "data", "push", "-r", "origin")
    assert r.returncode == 0 and r.stdout.startswith("Pushed 0 object(s)") and "32 already there" in r.stdout
    bad = remote_dir / "blake3" / (d := blake3(files["f3"]).hexdigest())[:2] / d[2:]
    bad.write_bytes(b"not f3 at all" + bytes(90))  # same size, other bytes
    clone, cs = _clone(tmp_path, s, str(remote_dir))
    r = stead_cli(clone, cs, "data", "pull")
    assert r.returncode == 1 and f"failed {bad}: corrupt on the remote" in r.stdout, r.stdout
    assert r.stderr == ""
    assert not (clone / "ds" / "f3").exists() and not (cs.home / "cache" / "objects" / d[:2] / d[2:]).exists()
    bad.write_bytes(files["f3"])  # repaired: the rerun fetches only it, then checks everything out
    r = stead_cli(clone, cs, "data", "pull", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["transferred"] == 1
    for rel, data in files.items():
        assert (clone / "ds" / rel).read_bytes() == data


def test_local_remote_lists_only_whole_objects(tmp_path, local_project) -> None:
    """A push writes each object beside its final name and renames it there; what a killed
    push leaves (a dotted temporary file) is never listed as an object."""
    from stead.data.remotes import open_remote

    s = local_project
    make_files(Path.cwd() / "ds", {"a": b"aaaa", "b": b"bbbb"})
    stead.data.add("ds", "ds", settings=s)
    remote_dir = tmp_path / "remote"
    stead.data.remotes(s).add("origin", str(remote_dir))
    assert stead.data.push(settings=s).transferred == 3
    listed = open_remote(str(remote_dir)).list_objects()
    sub = next((remote_dir / "blake3").iterdir())
    (sub / ".12-ab-3.tmp").write_bytes(b"aa")  # a half-written object of a killed push
    assert open_remote(str(remote_dir)).list_objects() == listed and len(listed) == 3
    assert not list(remote_dir.rglob("tmp"))
