"""LocalArtifactStore specifics: symbolic links out of the root, temp files, permissions."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest

from stead.artifacts import LocalArtifactStore
from stead.artifacts.atomic import TEMP_PREFIX
from stead.errors import InvalidParameter


@pytest.fixture
def layout(tmp_path: Path) -> tuple[LocalArtifactStore, Path]:
    """A store whose root holds links to an outside directory and an outside file."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"secret")
    root = tmp_path / "root"
    root.mkdir()
    (root / "dirlink").symlink_to(outside, target_is_directory=True)
    (root / "filelink").symlink_to(outside / "secret.txt")
    (root / "dotdotlink").symlink_to("../outside")  # relative link, same place
    return LocalArtifactStore(root), outside


ESCAPES = ["dirlink/secret.txt", "filelink", "dotdotlink/secret.txt"]


@pytest.mark.parametrize("path", ESCAPES)
def test_reads_through_an_escaping_link_are_refused(
    layout: tuple[LocalArtifactStore, Path], path: str, tmp_path: Path
) -> None:
    store, _ = layout
    for read in (
        store.open_read,
        store.get_bytes,
        store.size,
        store.exists,
        store.is_dir,
        lambda p: store.get_file(p, tmp_path / "stolen.txt"),
    ):
        with pytest.raises(InvalidParameter, match="outside the artifact root"):
            read(path)
    assert not (tmp_path / "stolen.txt").exists()


@pytest.mark.parametrize("path", ESCAPES + ["dirlink/new.txt", "dirlink/deep/new.txt"])
def test_writes_through_an_escaping_link_are_refused(
    layout: tuple[LocalArtifactStore, Path], path: str, tmp_path: Path
) -> None:
    store, outside = layout
    src = tmp_path / "src.txt"
    src.write_bytes(b"pwned")
    for write in (
        lambda p: store.put_bytes(b"pwned", p),
        lambda p: store.put_stream(io.BytesIO(b"pwned"), p),
        lambda p: store.put_file(src, p),
    ):
        with pytest.raises(InvalidParameter, match="outside the artifact root"):
            write(path)
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert (outside / "secret.txt").read_bytes() == b"secret"


def test_directory_operations_through_an_escaping_link_are_refused(
    layout: tuple[LocalArtifactStore, Path], tmp_path: Path
) -> None:
    store, outside = layout
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "f.txt").write_bytes(b"pwned")
    with pytest.raises(InvalidParameter, match="outside the artifact root"):
        store.list("dirlink")
    with pytest.raises(InvalidParameter, match="outside the artifact root"):
        store.get_dir("dirlink", tmp_path / "stolen")
    with pytest.raises(InvalidParameter, match="outside the artifact root"):
        store.put_dir(tmp_path / "src", "dirlink")
    with pytest.raises(InvalidParameter, match="outside the artifact root"):
        store.delete("dirlink/secret.txt")
    assert not (tmp_path / "stolen").exists()
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


def test_listing_hides_escaping_links(layout: tuple[LocalArtifactStore, Path]) -> None:
    store, _ = layout
    store.put_bytes(b"x", "real.txt")
    assert [i.path for i in store.list()] == ["real.txt"]


def test_get_dir_refuses_a_tree_containing_an_escaping_link(
    layout: tuple[LocalArtifactStore, Path], tmp_path: Path
) -> None:
    store, outside = layout
    store.put_bytes(b"x", "run/ok.txt")
    (Path(store.root_uri) / "run" / "z-link").symlink_to(outside / "secret.txt")
    with pytest.raises(InvalidParameter, match="outside the artifact root"):
        store.get_dir("run", tmp_path / "copy")
    assert not (tmp_path / "copy").exists()  # checked before anything was written


def test_deleting_an_escaping_link_removes_only_the_link(layout: tuple[LocalArtifactStore, Path]) -> None:
    store, outside = layout
    store.delete("dirlink")
    store.delete("filelink")
    assert not os.path.lexists(Path(store.root_uri) / "dirlink")
    assert not os.path.lexists(Path(store.root_uri) / "filelink")
    assert (outside / "secret.txt").read_bytes() == b"secret"


def test_links_that_stay_inside_the_root_work(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "root")
    store.put_bytes(b"v1", "models/m/1/model.bin")
    (tmp_path / "root" / "latest").symlink_to("models/m/1", target_is_directory=True)
    assert store.get_bytes("latest/model.bin") == b"v1"
    assert [i.path for i in store.list("latest")] == ["latest/model.bin"]


def test_a_root_reached_through_a_link_works(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "alias").symlink_to(tmp_path / "real", target_is_directory=True)
    store = LocalArtifactStore(tmp_path / "alias")
    store.put_bytes(b"x", "a/b.txt")
    assert (tmp_path / "real" / "a" / "b.txt").read_bytes() == b"x"
    assert store.root_uri == str(tmp_path / "alias")


def test_no_temporary_files_remain_and_modes_follow_the_umask(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "root")
    old = os.umask(0o022)
    try:
        store.put_bytes(b"x", "a/b.txt")
        store.put_stream(io.BytesIO(b"y" * 3_000_000), "a/c.bin")
    finally:
        os.umask(old)
    names = sorted(os.listdir(tmp_path / "root" / "a"))
    assert names == ["b.txt", "c.bin"]
    assert not any(n.startswith(TEMP_PREFIX) for n in names)
    assert stat.S_IMODE((tmp_path / "root" / "a" / "b.txt").stat().st_mode) == 0o644


def test_writing_over_a_directory_or_under_a_file_is_invalid(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "root")
    store.put_bytes(b"x", "d/f.txt")
    with pytest.raises(InvalidParameter, match="is a directory"):
        store.put_bytes(b"y", "d")
    with pytest.raises(InvalidParameter, match="a parent of it is a file"):
        store.put_bytes(b"y", "d/f.txt/g.txt")
    assert store.get_bytes("d/f.txt") == b"x"


def test_the_root_is_created_on_first_write_not_before(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "later")
    assert not (tmp_path / "later").exists()
    assert store.list() == [] and not store.exists("x")
    store.put_bytes(b"x", "x")
    assert (tmp_path / "later" / "x").is_file()
