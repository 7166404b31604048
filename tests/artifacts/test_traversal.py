"""Every traversal vector is refused by every method of every store, before any I/O."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stead.artifacts import ArtifactStore
from stead.errors import InvalidParameter

VECTORS = [
    "../escape.txt",
    "../../../../etc/passwd",
    "a/../../escape.txt",
    "/etc/passwd",
    "//proc/self/root/etc/passwd",
    "file:///etc/passwd",
    "http:///?/../../etc/",
    "\\..\\..\\escape.txt",
    "%2e%2e/escape.txt",
    "%2E%2E%2Fescape.txt",
    "%252E%252E%252Fescape.txt",
    "..%5cescape.txt",
    "a%2f..%2f..%2fescape.txt",
    "x#/../../escape.txt",
    "x?/../../escape.txt",
    "a\x00.txt",
    "C:/escape.txt",
]

Method = Callable[[ArtifactStore, str, Path], Any]

METHODS: dict[str, Method] = {
    "put_file": lambda s, p, tmp: s.put_file(tmp / "src.txt", p),
    "put_bytes": lambda s, p, tmp: s.put_bytes(b"pwned", p),
    "put_stream": lambda s, p, tmp: s.put_stream(io.BytesIO(b"pwned"), p),
    "put_dir": lambda s, p, tmp: s.put_dir(tmp / "srcdir", p),
    "open_read": lambda s, p, tmp: s.open_read(p),
    "get_bytes": lambda s, p, tmp: s.get_bytes(p),
    "get_file": lambda s, p, tmp: s.get_file(p, tmp / "out.txt"),
    "get_dir": lambda s, p, tmp: s.get_dir(p, tmp / "outdir"),
    "list": lambda s, p, tmp: s.list(p),
    "exists": lambda s, p, tmp: s.exists(p),
    "is_dir": lambda s, p, tmp: s.is_dir(p),
    "size": lambda s, p, tmp: s.size(p),
    "delete": lambda s, p, tmp: s.delete(p),
    "uri_for": lambda s, p, tmp: s.uri_for(p),
}


@pytest.mark.parametrize("vector", VECTORS, ids=[repr(v)[1:30] for v in VECTORS])
def test_every_method_refuses_the_vector(store: ArtifactStore, vector: str, tmp_path: Path) -> None:
    work = tmp_path / "work"
    (work / "srcdir").mkdir(parents=True)
    (work / "src.txt").write_bytes(b"pwned")
    (work / "srcdir" / "f.txt").write_bytes(b"pwned")
    # Something to find if a read escaped: the store's own neighbour files.
    (tmp_path / "escape.txt").write_bytes(b"secret")
    store.put_bytes(b"inside", "a/inside.txt")

    for name, method in METHODS.items():
        with pytest.raises(InvalidParameter):
            method(store, vector, work)
            pytest.fail(f"{name}({vector!r}) was accepted")

    assert (tmp_path / "escape.txt").read_bytes() == b"secret"
    assert not (work / "out.txt").exists() and not (work / "outdir").exists()
    assert [i.path for i in store.list()] == ["a"]
    assert [i.path for i in store.list("a")] == ["a/inside.txt"]


@pytest.mark.parametrize(
    "name", ["put_file", "put_bytes", "put_stream", "open_read", "get_bytes", "get_file", "size", "delete"]
)
def test_file_methods_refuse_the_root(store: ArtifactStore, name: str, tmp_path: Path) -> None:
    (tmp_path / "src.txt").write_bytes(b"x")
    with pytest.raises(InvalidParameter, match="store root"):
        METHODS[name](store, "", tmp_path)


def test_directory_methods_accept_the_root(store: ArtifactStore, tmp_path: Path) -> None:
    (tmp_path / "srcdir").mkdir()
    (tmp_path / "srcdir" / "f.txt").write_bytes(b"x")
    store.put_dir(tmp_path / "srcdir", "")
    assert [i.path for i in store.list("")] == ["f.txt"]
    assert store.exists("")
    store.get_dir("", tmp_path / "outdir")
    assert (tmp_path / "outdir" / "f.txt").read_bytes() == b"x"
    assert store.uri_for("") == store.root_uri


def test_put_dir_refuses_a_local_tree_with_a_bad_name_before_writing(
    store: ArtifactStore, tmp_path: Path
) -> None:
    src = tmp_path / "srcdir"
    src.mkdir()
    (src / "a-good.txt").write_bytes(b"x")
    (src / "bad#name.txt").write_bytes(b"x")
    with pytest.raises(InvalidParameter, match="'#'"):
        store.put_dir(src, "up")
    assert store.list() == []
