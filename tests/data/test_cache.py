"""The cache, the state table and hashing, without a metadata store."""

from __future__ import annotations

import os
from pathlib import Path

from blake3 import blake3

from stead.data.cache import Cache
from stead.data.hashing import hash_file, hash_files
from stead.data.manifest import Manifest, diff_manifests
from stead.data.pointer import Pointer, read_pointer, write_pointer
from stead.data.state import RACY_NS, State, hash_tree
from stead.data.workspace import walk


def _age(path: Path, seconds: float = 10) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - int(seconds * 1e9)))


def test_hash_file_streams_large_and_small(tmp_path: Path) -> None:
    small = tmp_path / "s"
    small.write_bytes(b"abc")
    big = tmp_path / "b"
    data = os.urandom(9 << 20)
    big.write_bytes(data)
    assert hash_file(str(small)) == (blake3(b"abc").hexdigest(), 3)
    assert hash_file(str(big)) == (blake3(data).hexdigest(), len(data))
    assert dict(hash_files([str(small), str(big)]))[str(big)] == (blake3(data).hexdigest(), len(data))


def test_cache_dedups_and_writes_read_only_objects(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    cache.ensure()
    for name in ("a", "b"):
        (tmp_path / name).write_bytes(b"same bytes")
    d1, _, stored1 = cache.add_file(str(tmp_path / "a"))
    d2, _, stored2 = cache.add_file(str(tmp_path / "b"))
    assert d1 == d2 and stored1 and not stored2
    assert list(cache.iter_objects()) == [d1]
    assert os.stat(cache.path(d1)).st_mode & 0o777 == 0o444
    assert list(cache.iter_temporaries()) == []


def test_large_object_streamed_into_cache(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    cache.ensure()
    data = os.urandom(6 << 20)
    (tmp_path / "big").write_bytes(data)
    digest, size, stored = cache.add_file(str(tmp_path / "big"))
    assert stored and size == len(data) and Path(cache.path(digest)).read_bytes() == data
    assert cache.verify(digest, size)
    os.chmod(cache.path(digest), 0o644)
    with open(cache.path(digest), "r+b") as f:
        f.write(b"X")
    assert not cache.verify(digest, size)


def test_state_hashes_unchanged_files_once(tmp_path: Path) -> None:
    root = tmp_path / "d"
    root.mkdir()
    for i in range(50):
        (root / f"f{i}").write_bytes(os.urandom(100))
        _age(root / f"f{i}")
    state = State(tmp_path / "state.db")
    h1, errors, hashed = hash_tree(state, str(root), walk(str(root)), hash_file)
    assert hashed == 50 and not errors
    h2, _, hashed = hash_tree(state, str(root), walk(str(root)), hash_file)
    assert hashed == 0 and h1 == h2
    (root / "f3").write_bytes(os.urandom(100))  # same size, new mtime
    h3, _, hashed = hash_tree(state, str(root), walk(str(root)), hash_file)
    assert hashed == 1 and h3["f3"] != h1["f3"]


def test_racy_entries_are_not_trusted(tmp_path: Path) -> None:
    """A file modified right after being hashed may keep its mtime; it is re-hashed."""
    root = tmp_path / "d"
    root.mkdir()
    f = root / "x"
    f.write_bytes(b"one")
    state = State(tmp_path / "state.db")
    hash_tree(state, str(root), walk(str(root)), hash_file)
    st = f.stat()
    f.write_bytes(b"two")
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))  # same mtime, same size, same inode
    h, _, hashed = hash_tree(state, str(root), walk(str(root)), hash_file)
    assert hashed == 1 and h["x"][0] == blake3(b"two").hexdigest()
    assert RACY_NS >= 1_000_000_000


def test_manifest_roundtrip_and_diff() -> None:
    m = Manifest.from_entries({"b": ("2" * 64, 2), "a": ("1" * 64, 1)})
    again = Manifest.from_bytes(m.to_bytes())
    assert again == m and again.digest == m.digest and list(again.files) == ["a", "b"]
    d = diff_manifests(m.files, {"a": ("1" * 64, 1), "b": ("3" * 64, 2), "c": ("4" * 64, 3)})
    assert (d.added, d.modified, d.deleted) == (["c"], ["b"], [])


def test_pointer_file_is_plain_text(tmp_path: Path) -> None:
    p = Pointer("customers", 4, "customers", "dir", "a" * 64, 3, 100)
    write_pointer(tmp_path / "customers.stead", p)
    text = (tmp_path / "customers.stead").read_text()
    assert "name: customers\nversion: 4\n" in text
    assert read_pointer(tmp_path / "customers.stead") == p


def test_copy_verified_copies_only_what_matches_its_name(tmp_path: Path) -> None:
    from stead.data.cache import KERNEL_COPY, copy_verified

    for size in (10, KERNEL_COPY + 1, 5 << 20):
        data = os.urandom(size)
        src = tmp_path / f"src{size}"
        src.write_bytes(data)
        good, bad = tmp_path / f"good{size}", tmp_path / f"bad{size}"
        assert copy_verified(str(src), str(good), blake3(data).hexdigest(), size)
        assert good.read_bytes() == data and (os.geteuid() == 0 or not os.access(good, os.W_OK))
        assert not copy_verified(str(src), str(bad), blake3(b"other").hexdigest(), size)
        assert not bad.exists()
        assert not copy_verified(str(src), str(bad), blake3(data).hexdigest(), size + 1)


def test_walk_lists_files_below_and_skips_tool_folders(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / ".git").mkdir()
    for rel in ("x", "a/y", "a/b/z", ".git/HEAD"):
        (tmp_path / rel).write_bytes(rel.encode())
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    files = walk(str(tmp_path))
    assert sorted(files) == ["a/b/z", "a/y", "x"] and files["a/y"].st_size == 3
