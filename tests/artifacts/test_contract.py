"""The artifact store contract, run over every implementation (local, S3, memory)."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from stead.artifacts import ArtifactStore, FileInfo, open_artifact_store
from stead.artifacts.atomic import CHUNK_SIZE
from stead.artifacts.fsspec_store import PART_SIZE
from stead.errors import InvalidParameter, NotFound

MB = 1024 * 1024


class CountingReader:
    """A ``read(n)`` source of ``size`` pseudo-random bytes that records how it is read."""

    def __init__(self, size: int, seed: bytes = b"stead") -> None:
        self.size = size
        self.position = 0
        self.calls: list[int] = []
        self.digest = hashlib.sha256()
        self._block = hashlib.sha256(seed).digest() * 4096  # 128 KiB pattern

    def read(self, n: int = -1) -> bytes:
        self.calls.append(n)
        want = self.size - self.position if n is None or n < 0 else min(n, self.size - self.position)
        out = bytearray()
        while len(out) < want:
            offset = (self.position + len(out)) % len(self._block)
            out += self._block[offset : offset + want - len(out)]
        self.position += len(out)
        self.digest.update(out)
        return bytes(out)


class SourceBroke(Exception):
    """Raised by FailingReader: a client disconnecting midway through an upload."""


class FailingReader(CountingReader):
    def __init__(self, fail_after: int, error: type[Exception] = SourceBroke) -> None:
        super().__init__(size=fail_after * 10)
        self.fail_after = fail_after
        self.error = error

    def read(self, n: int = -1) -> bytes:
        if self.position >= self.fail_after:
            raise self.error("connection reset by peer")
        return super().read(n)


def sha256_of_stream(stream) -> str:  # type: ignore[no-untyped-def]
    digest = hashlib.sha256()
    for chunk in iter(lambda: stream.read(CHUNK_SIZE), b""):
        digest.update(chunk)
    return digest.hexdigest()


def make_tree(root: Path) -> dict[str, bytes]:
    files = {
        "MLmodel": b"flavors: {}\n",
        "model.pkl": bytes(range(256)) * 10,
        "empty.txt": b"",
        "data/train.csv": b"a,b\n1,2\n",
        "data/nested/deep/x.bin": os.urandom(3000),
    }
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return files


# -- round trips ---------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"hello", bytes(range(256)) * 1000])
def test_bytes_round_trip(store: ArtifactStore, data: bytes) -> None:
    store.put_bytes(data, "dir/blob.bin")
    assert store.get_bytes("dir/blob.bin") == data
    assert store.size("dir/blob.bin") == len(data)


def test_put_replaces_existing_content(store: ArtifactStore) -> None:
    store.put_bytes(b"old content that is longer", "f.txt")
    store.put_bytes(b"new", "f.txt")
    assert store.get_bytes("f.txt") == b"new"


def test_file_round_trip(store: ArtifactStore, tmp_path: Path) -> None:
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(100_000))
    store.put_file(src, "models/m1/weights.bin")
    dest = tmp_path / "out" / "sub" / "weights.bin"  # parents do not exist yet
    store.get_file("models/m1/weights.bin", dest)
    assert dest.read_bytes() == src.read_bytes()


def test_put_file_from_missing_local_file_is_not_found(store: ArtifactStore, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="does not exist"):
        store.put_file(tmp_path / "nope.bin", "x.bin")
    assert not store.exists("x.bin")


def test_dir_round_trip(store: ArtifactStore, tmp_path: Path) -> None:
    files = make_tree(tmp_path / "model")
    store.put_dir(tmp_path / "model", "runs/1/model")
    store.get_dir("runs/1/model", tmp_path / "copy")
    copied = {
        p.relative_to(tmp_path / "copy").as_posix(): p.read_bytes()
        for p in (tmp_path / "copy").rglob("*")
        if p.is_file()
    }
    assert copied == files


def test_put_dir_into_root_and_get_subdir(store: ArtifactStore, tmp_path: Path) -> None:
    make_tree(tmp_path / "model")
    store.put_dir(tmp_path / "model")
    assert store.get_bytes("data/train.csv") == b"a,b\n1,2\n"
    store.get_dir("data", tmp_path / "data-copy")
    assert (tmp_path / "data-copy" / "nested" / "deep" / "x.bin").is_file()
    assert not (tmp_path / "data-copy" / "MLmodel").exists()


def test_stream_round_trip_is_chunked(store: ArtifactStore, tmp_path: Path) -> None:
    size = 20 * MB + 12345
    source = CountingReader(size)
    assert store.put_stream(source, "big/blob.bin") == size
    # Streamed: bounded reads, many of them, never "read everything".
    assert all(0 < n <= CHUNK_SIZE for n in source.calls), set(source.calls)
    assert len(source.calls) > size // CHUNK_SIZE
    assert store.size("big/blob.bin") == size
    with store.open_read("big/blob.bin") as stream:
        assert sha256_of_stream(stream) == source.digest.hexdigest()
    store.get_file("big/blob.bin", tmp_path / "blob.bin")
    assert hashlib.sha256((tmp_path / "blob.bin").read_bytes()).hexdigest() == source.digest.hexdigest()


def test_open_read_streams_from_the_start(store: ArtifactStore) -> None:
    store.put_bytes(b"0123456789" * 1000, "f.txt")
    with store.open_read("f.txt") as stream:
        assert stream.read(5) == b"01234"
        assert stream.read(5) == b"56789"
        assert len(stream.read()) == 9990


# -- listing, existence, size ----------------------------------------------------------


def test_list_gives_direct_children_sorted(store: ArtifactStore) -> None:
    store.put_bytes(b"12345", "b.txt")
    store.put_bytes(b"1", "a.txt")
    store.put_bytes(b"xx", "sub/inner.txt")
    store.put_bytes(b"yy", "sub/deeper/leaf.txt")
    assert store.list() == [
        FileInfo("a.txt", False, 1),
        FileInfo("b.txt", False, 5),
        FileInfo("sub", True, None),
    ]
    assert store.list("sub") == [
        FileInfo("sub/deeper", True, None),
        FileInfo("sub/inner.txt", False, 2),
    ]
    assert store.list("sub/deeper/") == [FileInfo("sub/deeper/leaf.txt", False, 2)]


def test_list_of_missing_dir_or_file_is_empty(store: ArtifactStore) -> None:
    assert store.list() == []
    assert store.list("nope") == []
    store.put_bytes(b"x", "file.txt")
    assert store.list("file.txt") == []
    assert store.list("nope/deeper") == []


def test_exists(store: ArtifactStore) -> None:
    store.put_bytes(b"x", "d/f.txt")
    assert store.exists("d/f.txt")
    assert store.exists("d")
    assert not store.exists("d/g.txt")
    assert not store.exists("f.txt")


def test_is_dir(store: ArtifactStore) -> None:
    assert store.is_dir("")  # the root, even while empty
    store.put_bytes(b"x", "d/e/f.txt")
    assert store.is_dir("d") and store.is_dir("d/e/") and store.is_dir("")
    assert not store.is_dir("d/e/f.txt")
    assert not store.is_dir("missing")


def test_size_of_directory_is_invalid(store: ArtifactStore) -> None:
    store.put_bytes(b"x", "d/f.txt")
    with pytest.raises(InvalidParameter, match="directory"):
        store.size("d")


def test_open_read_of_directory_is_invalid(store: ArtifactStore) -> None:
    store.put_bytes(b"x", "d/f.txt")
    with pytest.raises(InvalidParameter, match="directory"):
        store.open_read("d")


@pytest.mark.parametrize(
    "call",
    [
        lambda s, tmp: s.open_read("missing.txt"),
        lambda s, tmp: s.get_bytes("missing.txt"),
        lambda s, tmp: s.get_file("missing.txt", tmp / "out.txt"),
        lambda s, tmp: s.get_dir("missing", tmp / "out"),
        lambda s, tmp: s.size("missing.txt"),
        lambda s, tmp: s.delete("missing.txt"),
        lambda s, tmp: s.delete("missing/dir"),
    ],
    ids=["open_read", "get_bytes", "get_file", "get_dir", "size", "delete", "delete-dir"],
)
def test_missing_is_not_found(store: ArtifactStore, tmp_path: Path, call: Callable) -> None:  # type: ignore[type-arg]
    store.put_bytes(b"unrelated", "present.txt")
    with pytest.raises(NotFound) as info:
        call(store, tmp_path)
    assert "missing" in str(info.value)
    assert not (tmp_path / "out.txt").exists() and not (tmp_path / "out").exists()


# -- deleting ------------------------------------------------------------------------------


def test_delete_file(store: ArtifactStore) -> None:
    store.put_bytes(b"x", "d/f.txt")
    store.put_bytes(b"y", "d/g.txt")
    store.delete("d/f.txt")
    assert not store.exists("d/f.txt")
    assert store.get_bytes("d/g.txt") == b"y"


def test_delete_directory_is_recursive_and_exact(store: ArtifactStore) -> None:
    for path in ["run/a/1.txt", "run/a/deep/2.txt", "run/ab.txt", "run/a.txt", "run/ab/3.txt"]:
        store.put_bytes(b"x", path)
    store.delete("run/a")
    assert not store.exists("run/a/1.txt") and not store.exists("run/a/deep/2.txt")
    assert not store.exists("run/a")
    # Siblings sharing the name as a prefix are untouched.
    assert [info.path for info in store.list("run")] == ["run/a.txt", "run/ab", "run/ab.txt"]


def test_delete_root_is_refused(store: ArtifactStore) -> None:
    store.put_bytes(b"x", "keep.txt")
    for root in ["", ".", "./", "././"]:
        with pytest.raises(InvalidParameter, match="root"):
            store.delete(root)
    assert store.get_bytes("keep.txt") == b"x"


# -- atomicity -------------------------------------------------------------------------------


@pytest.mark.parametrize("fail_after", [3 * MB, PART_SIZE + 4 * MB], ids=["small", "multipart"])
def test_failed_stream_leaves_nothing(
    store: ArtifactStore, raw_listing: Callable[[], list[str]], fail_after: int
) -> None:
    store.put_bytes(b"other", "other.txt")
    before = raw_listing()
    source = FailingReader(fail_after)
    with pytest.raises(SourceBroke):  # the source's own error, not a translated one
        store.put_stream(source, "models/big.bin")
    assert source.position >= fail_after  # it really failed midway
    assert not store.exists("models/big.bin")
    assert [i.path for i in store.list()] == ["other.txt"]
    assert raw_listing() == before


@pytest.mark.parametrize("error", [ConnectionResetError, PermissionError, FileNotFoundError])
def test_a_failing_source_is_not_blamed_on_the_store(store: ArtifactStore, error: type[Exception]) -> None:
    """An OSError from the upload's source (a client hanging up) is the source's, not a
    store outage: it reaches the caller as it was raised."""
    with pytest.raises(error, match="connection reset by peer"):
        store.put_stream(FailingReader(MB, error), "x.bin")
    assert not store.exists("x.bin")


def test_failed_overwrite_keeps_old_content(
    store: ArtifactStore, raw_listing: Callable[[], list[str]]
) -> None:
    store.put_bytes(b"version 1", "model.bin")
    before = raw_listing()
    with pytest.raises(SourceBroke):
        store.put_stream(FailingReader(2 * MB), "model.bin")
    assert store.get_bytes("model.bin") == b"version 1"
    assert raw_listing() == before


def test_successful_writes_leave_no_temporary_objects(
    store: ArtifactStore, raw_listing: Callable[[], list[str]], tmp_path: Path
) -> None:
    store.put_bytes(b"a", "a.txt")
    store.put_stream(CountingReader(PART_SIZE + MB), "d/big.bin")
    make_tree(tmp_path / "tree")
    store.put_dir(tmp_path / "tree", "t")
    listing = raw_listing()
    assert "a.txt" in listing and "d/big.bin" in listing and "t/data/train.csv" in listing
    assert len(listing) == 2 + 5


# Not over S3: there a PUT is atomic by S3's own semantics, and moto's server fails (500)
# when an object is overwritten while a GET of it is being answered, so racing overwrites
# against reads there would test moto, not stead.
@pytest.mark.parametrize("store_kind", ["local", "memory"])
def test_concurrent_readers_see_whole_versions_only(store: ArtifactStore) -> None:
    """Writers race on one path while readers read it: every read is one whole version."""
    versions = [bytes([i]) * (300_000 + i) for i in range(6)]
    store.put_bytes(versions[0], "model.bin")
    seen: list[bytes] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def write(version: bytes) -> None:
        try:
            for _ in range(3):
                store.put_bytes(version, "model.bin")
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    def read() -> None:
        try:
            while not done.is_set():
                seen.append(store.get_bytes("model.bin"))
        except BaseException as exc:
            errors.append(exc)

    readers = [threading.Thread(target=read) for _ in range(2)]
    writers = [threading.Thread(target=write, args=(v,)) for v in versions[1:]]
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join()
    done.set()
    for t in readers:
        t.join()
    assert errors == []
    assert seen and all(data in versions for data in seen)
    assert store.get_bytes("model.bin") in versions[1:]
    assert [i.path for i in store.list()] == ["model.bin"]


def test_two_open_streams_read_independently(store: ArtifactStore) -> None:
    store.put_bytes(b"abcdefghij", "f.txt")
    with store.open_read("f.txt") as first, store.open_read("f.txt") as second:
        assert first.read(3) == b"abc"
        assert second.read(2) == b"ab"
        assert first.read(3) == b"def"
        assert second.read() == b"cdefghij"


# -- URIs ------------------------------------------------------------------------------------


def test_uri_for_names_the_same_bytes(
    store: ArtifactStore, store_kind: str, request: pytest.FixtureRequest
) -> None:
    store.put_bytes(b"payload", "runs/7/artifacts/x.txt")
    assert store.uri_for("") == store.root_uri
    uri = store.uri_for("runs/7")
    assert uri.startswith(store.root_uri) and uri.endswith("/runs/7")
    aws = None
    if store_kind == "s3":
        from s3_server import aws_settings

        aws = aws_settings(request.getfixturevalue("s3_server"))
    sub = open_artifact_store(uri, aws=aws)
    assert sub.get_bytes("artifacts/x.txt") == b"payload"
