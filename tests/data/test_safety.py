"""Nothing a pointer file, a manifest, a remote or a store record says can make a checkout
or a pull write outside the project, and ``add`` never follows a link out of its folder."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from blake3 import blake3

import stead.data
from data_files import make_files
from stead.data.workspace import Workspace
from stead.errors import InvalidParameter

UNSAFE = ["../../escaped.txt", "/tmp/escaped.txt", "a/../../escaped.txt", "C:escaped.txt", "C:/escaped.txt",
          "..\\..\\escaped.txt", "a\x00b", "a//b", ".git/hooks/post-checkout", "x/.STEAD/cache", "./a", "a/"]


def _files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


def _pointer_fields(pf: Path) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in pf.read_text().splitlines() if line and not line.startswith("#"))


def _write_pointer(pf: Path, **fields: str) -> None:
    pf.write_text("".join(f"{k}: {v}\n" for k, v in fields.items()))


def _hostile_manifest(s, rel: str) -> str:  # type: ignore[no-untyped-def]
    """A manifest object in the cache naming ``rel``, whose content object is there too."""
    cache = Workspace.from_settings(s).cache()
    digest = cache.put_bytes(b"pwned\n")
    doc = {"format": 1, "files": [[rel, digest, 6]]}
    return cache.put_bytes(json.dumps(doc, separators=(",", ":")).encode())


@pytest.mark.parametrize("path", ["../../escaped", "/tmp/stead-escaped-abs", "..", "a/b", "C:x", "x\\..\\..\\y", ".git"])
def test_pointer_path_outside_the_project_is_refused(local_project, tmp_path, path) -> None:
    make_files(Path.cwd() / "data" / "ds", {"a.txt": b"a"})
    stead.data.add("data/ds", "ds", settings=local_project)
    pf = Path.cwd() / "data" / "ds.stead"
    fields = _pointer_fields(pf)
    _write_pointer(pf, **{**fields, "path": path})
    before = _files_under(tmp_path)
    for call in (lambda: stead.data.checkout_pointers(settings=local_project),
                 lambda: stead.data.checkout_pointers(["data/ds"], settings=local_project),
                 lambda: stead.data.status(settings=local_project)):
        with pytest.raises(InvalidParameter, match="unsafe path"):
            call()
    assert _files_under(tmp_path) == before and not Path("/tmp/stead-escaped-abs").exists()


def test_pointer_whose_folder_is_a_link_out_of_the_project_is_refused(local_project, tmp_path) -> None:
    make_files(Path.cwd() / "data" / "ds", {"a.txt": b"a"})
    stead.data.add("data/ds", "ds", settings=local_project)
    outside = tmp_path / "outside"
    outside.mkdir()
    (Path.cwd() / "data" / "ds").rename(Path.cwd() / "gone")
    (Path.cwd() / "data" / "ds").symlink_to(outside)
    with pytest.raises(InvalidParameter, match="outside the project"):
        stead.data.checkout_pointers(settings=local_project)
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize("rel", UNSAFE)
def test_manifest_path_outside_the_data_folder_is_refused(local_project, tmp_path, rel) -> None:
    make_files(Path.cwd() / "data" / "ds", {"a.txt": b"a"})
    stead.data.add("data/ds", "ds", settings=local_project)
    pf = Path.cwd() / "data" / "ds.stead"
    _write_pointer(pf, **{**_pointer_fields(pf), "manifest": _hostile_manifest(local_project, rel)})
    before = _files_under(tmp_path)
    with pytest.raises(InvalidParameter, match="unsafe path"):
        stead.data.checkout_pointers(settings=local_project, force=True)
    assert _files_under(tmp_path) == before and not Path("/tmp/escaped.txt").exists()
    assert (Path.cwd() / "data" / "ds" / "a.txt").read_bytes() == b"a"


def test_store_record_path_outside_the_project_is_refused(local_project, tmp_path) -> None:
    make_files(Path.cwd() / "data" / "ds", {"a.txt": b"a"})
    stead.data.add("data/ds", "ds", settings=local_project)
    db = sqlite3.connect(local_project.resolved_store_url.removeprefix("sqlite:///"))
    db.execute("UPDATE dataset_versions SET path = '../../escaped'")
    db.commit()
    db.close()
    before = _files_under(tmp_path)
    with pytest.raises(InvalidParameter, match="unsafe path"):
        stead.data.checkout("ds@1", settings=local_project)
    assert _files_under(tmp_path) == before


def test_store_record_manifest_outside_the_folder_is_refused(local_project, tmp_path) -> None:
    make_files(Path.cwd() / "data" / "ds", {"a.txt": b"a"})
    stead.data.add("data/ds", "ds", settings=local_project)
    digest = Workspace.from_settings(local_project).cache().put_bytes(b"pwned\n")
    manifest = json.dumps({"format": 1, "files": [["../../escaped.txt", digest, 6]]})
    db = sqlite3.connect(local_project.resolved_store_url.removeprefix("sqlite:///"))
    db.execute("UPDATE dataset_versions SET manifest = ?", (manifest,))
    db.commit()
    db.close()
    with pytest.raises(InvalidParameter, match="unsafe path"):
        stead.data.checkout("ds@1", to="elsewhere", settings=local_project)
    assert not (tmp_path / "escaped.txt").exists() and not (Path.cwd() / "elsewhere").exists()


def test_hostile_remote_manifest_is_refused_by_pull_as_a_process(local_project, tmp_path) -> None:
    """A clone whose pointer (from git) names a manifest that a hostile remote serves."""
    remote = tmp_path / "remote"
    content = b"pwned\n"
    manifest = json.dumps({"format": 1, "files": [["../../escaped.txt", blake3(content).hexdigest(), 6]]},
                          separators=(",", ":")).encode()
    for data in (content, manifest):
        digest = blake3(data).hexdigest()
        obj = remote / "blake3" / digest[:2] / digest[2:]
        obj.parent.mkdir(parents=True, exist_ok=True)
        obj.write_bytes(data)
    (Path.cwd() / "data").mkdir()
    _write_pointer(Path.cwd() / "data" / "ds.stead", name="ds", version="1", path="ds", kind="dir",
                   manifest=blake3(manifest).hexdigest(), files="1", bytes="6")
    env = {**os.environ, "STEAD_HOME": str(local_project.home), "STEAD_STORE_URL": local_project.store_url}
    cli = [sys.executable, "-m", "stead.cli"]
    subprocess.run([*cli, "remote", "add", "origin", str(remote)], env=env, check=True, capture_output=True)
    before = _files_under(tmp_path)
    r = subprocess.run([*cli, "data", "pull"], env=env, capture_output=True, text=True)
    assert r.returncode != 0 and "unsafe path '../../escaped.txt'" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run([*cli, "data", "checkout"], env=env, capture_output=True, text=True)
    assert r.returncode != 0 and "unsafe path" in r.stderr
    assert not (tmp_path / "escaped.txt").exists() and not (Path.cwd() / "data" / "ds").exists()
    home = local_project.home
    assert {p for p in _files_under(tmp_path) - before if p != home and home not in p.parents} == set()


def test_checkout_into_a_folder_with_a_link_out_is_refused(local_project, tmp_path) -> None:
    make_files(Path.cwd() / "data" / "ds", {"sub/a.txt": b"a"})
    stead.data.add("data/ds", "ds", settings=local_project)
    outside = tmp_path / "outside"
    outside.mkdir()
    sub = Path.cwd() / "data" / "ds" / "sub"
    (sub / "a.txt").unlink()
    sub.rmdir()
    sub.symlink_to(outside)  # e.g. committed to git by someone else
    with pytest.raises(InvalidParameter, match="outside"):
        stead.data.checkout_pointers(settings=local_project, force=True)
    assert list(outside.iterdir()) == []


def test_add_refuses_a_link_out_of_the_folder(local_project, tmp_path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"secret")
    d = make_files(Path.cwd() / "ds", {"a.txt": b"a"})
    (d / "leak.txt").symlink_to(secret)
    with pytest.raises(InvalidParameter, match="symbolic link to .*outside"):
        stead.data.add("ds", settings=local_project)
    assert not (Path.cwd() / "ds.stead").exists()
    (d / "leak.txt").unlink()
    (d / "up").symlink_to(tmp_path, target_is_directory=True)
    with pytest.raises(InvalidParameter, match="outside"):
        stead.data.add("ds", settings=local_project)


def test_add_follows_links_inside_the_folder_and_refuses_a_cycle(local_project) -> None:
    d = make_files(Path.cwd() / "ds", {"real/a.txt": b"a"})
    (d / "alias").symlink_to(d / "real", target_is_directory=True)
    (d / "b.txt").symlink_to(d / "real" / "a.txt")
    r = stead.data.add("ds", settings=local_project)
    assert r.version.num_files == 3  # a link inside the folder is versioned as the file it names
    (d / "real" / "loop").symlink_to(d, target_is_directory=True)
    with pytest.raises(InvalidParameter, match="link cycle"):
        stead.data.add("ds", settings=local_project)
    (d / "real" / "loop").unlink()
    (d / "self").symlink_to(d / "self")
    with pytest.raises(InvalidParameter, match="link cycle"):
        stead.data.add("ds", settings=local_project)


def test_add_refuses_a_name_checkout_would_refuse(local_project) -> None:
    make_files(Path.cwd() / "ds", {"a\\b.txt": b"a"})
    with pytest.raises(InvalidParameter, match="rename it"):
        stead.data.add("ds", settings=local_project)
