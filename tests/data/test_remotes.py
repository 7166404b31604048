"""Team-wide remotes in the metadata store, per-home overrides, and the version index a
remote carries, so a fresh clone learns every version from it (as real CLI processes)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import stead.data
from data_files import make_files
from stead.config import Settings
from stead.errors import InvalidParameter


def _stead(cwd: Path, home: Path, *argv: str, store_url: str | None = None, code: int = 0) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEAD_")}
    env["STEAD_HOME"] = str(home)
    if store_url:
        env["STEAD_STORE_URL"] = store_url
    r = subprocess.run([sys.executable, "-m", "stead.cli", *argv], cwd=cwd, env=env, capture_output=True, text=True)
    assert r.returncode == code, (argv, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    return r.stdout + r.stderr


def _clone(src: Path, dst: Path) -> None:
    """What git carries: the pointer files (and .gitignore files), nothing of the home."""
    for pf in src.rglob("*.stead"):
        if pf.is_file() and ".stead" not in pf.relative_to(src).parts[:-1]:
            target = dst / pf.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(pf, target)


def test_fresh_clone_learns_every_version_from_the_remote(tmp_path) -> None:
    """Home A adds two versions and pushes; fresh home B (own embedded store, only the
    pointer files) pulls and checks out ds@1; fresh home C checks out ds@1 without a pull."""
    a, b, c, remote = tmp_path / "a", tmp_path / "b", tmp_path / "c", tmp_path / "remote"
    v1 = {"x.csv": b"id\n1\n", "sub/y.bin": os.urandom(5000)}
    v2 = {"x.csv": b"id\n1\n2\n", "sub/y.bin": v1["sub/y.bin"], "z.bin": os.urandom(70_000)}
    make_files(a / "data" / "ds", v1)
    _stead(a, a / ".stead", "data", "add", "data/ds", "-m", "first")
    shutil.rmtree(a / "data" / "ds")
    make_files(a / "data" / "ds", v2)
    _stead(a, a / ".stead", "data", "add", "data/ds")
    _stead(a, a / ".stead", "remote", "add", "origin", str(remote))
    _stead(a, a / ".stead", "data", "push", "--all-versions")
    assert sorted(p.name for p in (remote / "versions" / "ds").iterdir()) == ["1.json", "2.json"]

    _clone(a, b)
    assert sorted(p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file()) == ["data/ds.stead"]
    _stead(b, b / ".stead", "remote", "add", "origin", str(remote))
    _stead(b, b / ".stead", "data", "pull")
    for rel, data in v2.items():  # the pointer's version, in place
        assert (b / "data" / "ds" / rel).read_bytes() == data
    out = _stead(b, b / ".stead", "data", "checkout", "ds@1", "--to", "restored")
    assert "written" in out
    for rel, data in v1.items():
        assert (b / "restored" / rel).read_bytes() == data
    assert not (b / "restored" / "z.bin").exists()
    versions = json.loads(_stead(b, b / ".stead", "data", "versions", "ds", "--json"))
    assert [(v["version"], v["message"]) for v in versions] == [(1, "first"), (2, "")]

    _clone(a, c)
    _stead(c, c / ".stead", "remote", "add", "origin", str(remote))
    _stead(c, c / ".stead", "data", "checkout", "ds@1", "--to", "one")
    for rel, data in v1.items():
        assert (c / "one" / rel).read_bytes() == data


def test_team_remotes_live_in_the_store_and_a_home_overrides_them(tmp_path, store_url) -> None:
    """Two homes on one metadata store: a remote one adds is the other's too; a --local
    remote of the same name wins in its home only."""
    a, b = tmp_path / "a", tmp_path / "b"
    team, mirror = tmp_path / "team-remote", tmp_path / "mirror"
    for home in (a, b):
        home.mkdir()
    _stead(a, a / ".stead", "remote", "add", "origin", str(team), store_url=store_url)
    listed = json.loads(_stead(b, b / ".stead", "remote", "list", "--json", store_url=store_url))
    assert listed == [{"name": "origin", "url": str(team), "default": True, "scope": "team", "overrides": False}]
    make_files(b / "ds", {"f.bin": b"from b"})
    _stead(b, b / ".stead", "data", "add", "ds", store_url=store_url)
    _stead(b, b / ".stead", "data", "push", store_url=store_url)  # no remote added in b
    assert (team / "versions" / "ds" / "1.json").is_file()

    _stead(b, b / ".stead", "remote", "add", "origin", str(mirror), "--local", store_url=store_url)
    _stead(b, b / ".stead", "remote", "add", "mirror", str(mirror), "--local", "--default", store_url=store_url)
    listed = json.loads(_stead(b, b / ".stead", "remote", "list", "--json", store_url=store_url))
    assert {r["name"]: (r["url"], r["scope"], r["overrides"], r["default"]) for r in listed} == {
        "origin": (str(mirror), "home", True, False), "mirror": (str(mirror), "home", False, True)}
    _stead(b, b / ".stead", "data", "push", store_url=store_url)
    assert (mirror / "versions" / "ds" / "1.json").is_file()
    listed = json.loads(_stead(a, a / ".stead", "remote", "list", "--json", store_url=store_url))
    assert [(r["name"], r["url"]) for r in listed] == [("origin", str(team))]  # a sees the team's only
    _stead(b, b / ".stead", "remote", "remove", "mirror", "--local", store_url=store_url)
    _stead(b, b / ".stead", "remote", "remove", "origin", "--local", store_url=store_url)
    listed = json.loads(_stead(b, b / ".stead", "remote", "list", "--json", store_url=store_url))
    assert [(r["name"], r["url"], r["default"]) for r in listed] == [("origin", str(team), True)]
    _stead(a, a / ".stead", "remote", "remove", "origin", store_url=store_url)
    assert json.loads(_stead(b, b / ".stead", "remote", "list", "--json", store_url=store_url)) == []
    out = _stead(b, b / ".stead", "data", "push", store_url=store_url, code=2)
    assert "No data remote is configured" in out


def test_a_version_number_taken_on_the_remote_is_reported_not_replaced(tmp_path, monkeypatch) -> None:
    remote = tmp_path / "remote"
    homes = []
    for who, data in (("a", b"aaa"), ("c", b"ccc")):
        root = tmp_path / who
        make_files(root / "ds", {"f.bin": data})
        s = Settings(home=root / ".stead")
        monkeypatch.chdir(root)
        stead.data.add("ds", settings=s)
        stead.data.remotes(s).add("origin", str(remote))
        homes.append(s)
    monkeypatch.chdir(tmp_path / "a")
    assert stead.data.push(settings=homes[0]).ok
    entry = (remote / "versions" / "ds" / "1.json").read_bytes()
    monkeypatch.chdir(tmp_path / "c")
    r = stead.data.push(settings=homes[1])
    assert [reason for _where, reason in r.failed] and "holds another data:/ds@1" in r.failed[0][1]
    assert (remote / "versions" / "ds" / "1.json").read_bytes() == entry


@pytest.mark.parametrize("field, value", [("path", "../../escaped"), ("path", "/tmp/stead-escaped-index"),
                                          ("name", "../x"), ("kind", "link"), ("manifest_hash", "../../x")])
def test_a_hostile_version_index_is_refused(tmp_path, monkeypatch, field, value) -> None:
    """A remote whose index entry points out of the project: nothing recorded or written."""
    remote, root = tmp_path / "remote", tmp_path / "proj"
    make_files(root / "ds", {"f.bin": b"data"})
    monkeypatch.chdir(root)
    s = Settings(home=root / ".stead")
    stead.data.add("ds", settings=s)
    stead.data.remotes(s).add("origin", str(remote))
    assert stead.data.push(settings=s).ok
    entry = remote / "versions" / "ds" / "1.json"
    doc = json.loads(entry.read_bytes())
    entry.unlink()
    (remote / "versions" / "ds" / "2.json").write_text(json.dumps({**doc, "version": 2, field: value}))
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    monkeypatch.chdir(fresh)
    fs = Settings(home=fresh / ".stead")
    stead.data.remotes(fs).add("origin", str(remote))
    with pytest.raises(InvalidParameter, match="refusing|Invalid dataset name"):
        stead.data.checkout("ds@2", settings=fs)
    with pytest.raises(InvalidParameter):
        stead.data.pull(["ds@2"], settings=fs)
    assert stead.data.list_datasets(settings=fs) == []
    assert sorted(p.name for p in fresh.iterdir()) == [".stead"] and not Path("/tmp/stead-escaped-index").exists()


def test_a_hostile_manifest_behind_the_index_is_refused(tmp_path, monkeypatch) -> None:
    from blake3 import blake3

    remote, fresh = tmp_path / "remote", tmp_path / "fresh"
    content = b"pwned\n"
    manifest = json.dumps({"format": 1, "files": [["../../escaped.txt", blake3(content).hexdigest(), 6]]},
                          separators=(",", ":")).encode()
    for data in (content, manifest):
        d = blake3(data).hexdigest()
        make_files(remote / "blake3" / d[:2], {d[2:]: data})
    entry = {"format": 1, "name": "ds", "version": 1, "manifest_hash": blake3(manifest).hexdigest(), "path": "ds",
             "kind": "dir", "num_files": 1, "num_bytes": 6, "user_id": "", "run_id": None, "message": "",
             "creation_time": 0, "profile": None}
    make_files(remote / "versions" / "ds", {"1.json": json.dumps(entry).encode()})
    fresh.mkdir()
    monkeypatch.chdir(fresh)
    fs = Settings(home=fresh / ".stead")
    stead.data.remotes(fs).add("origin", str(remote))
    with pytest.raises(InvalidParameter, match="unsafe path '../../escaped.txt'"):
        stead.data.checkout("ds@1", settings=fs)
    assert stead.data.list_datasets(settings=fs) == [] and not (tmp_path / "escaped.txt").exists()


def test_pull_of_one_version_checks_out_only_that_version(tmp_path, monkeypatch) -> None:
    root = tmp_path / "proj"
    make_files(root / "ds", {"f.bin": b"ds"})
    make_files(root / "other", {"g.bin": b"other"})
    monkeypatch.chdir(root)
    s = Settings(home=root / ".stead")
    stead.data.add("ds", settings=s)
    stead.data.add("other", settings=s)
    stead.data.remotes(s).add("origin", str(tmp_path / "remote"))
    assert stead.data.push(settings=s).ok
    shutil.rmtree(root / "ds")
    shutil.rmtree(root / "other")
    assert stead.data.pull(["ds@1"], settings=s).ok
    assert (root / "ds" / "f.bin").read_bytes() == b"ds" and not (root / "other").exists()


def test_a_home_with_only_local_remotes_uses_its_first(tmp_path, monkeypatch) -> None:
    root = tmp_path / "proj"
    make_files(root / "ds", {"f.bin": b"x"})
    monkeypatch.chdir(root)
    s = Settings(home=root / ".stead")
    stead.data.add("ds", settings=s)
    stead.data.remotes(s).add("mine", str(tmp_path / "mine"), local=True)
    assert stead.data.remotes(s).get(None)[0] == "mine" and stead.data.push(settings=s).ok
    stead.data.remotes(s).add("team", str(tmp_path / "team"))  # a team default takes over
    assert stead.data.remotes(s).get(None)[0] == "team"
