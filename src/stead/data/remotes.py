"""Remotes: where ``push`` sends cache objects and ``pull`` fetches them.

A remote is a URL: a local folder (or ``file://``) or ``s3://bucket/prefix``; objects live
under ``<url>/blake3/ab/cdef...``. Backends
are chosen by scheme and imported on use (``s3fs`` only for ``s3://``). Which remotes a
project names is ``stead.data.remote_config``'s part.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from stead.errors import BackendUnavailable, InvalidParameter, MissingExtra

__all__ = ["Remote", "LocalRemote", "S3Remote", "open_remote", "PREFIX"]

PREFIX = "blake3"

class Remote(Protocol):
    """The few things a transfer needs from a remote."""

    url: str
    jobs: int  # parallel transfers that suit it: the cores for a disk, more for a network

    def list_objects(self) -> set[str]:
        """Names of every object the remote holds."""
        ...

    def has(self, digest: str) -> bool: ...

    def upload(self, local_path: str, digest: str) -> None:
        """Store the file as object ``digest``, atomically (whole or absent)."""
        ...

    def open_object(self, digest: str) -> BinaryIO:
        """A stream of object ``digest``; ``FileNotFoundError`` if absent."""
        ...

    def location(self, digest: str) -> str:
        """Where the object is, for messages."""
        ...

    def delete(self, digest: str) -> None: ...

    def put_meta(self, key: str, data: bytes) -> None:
        """Write a small named file (``versions/<name>/<n>.json``), atomically."""
        ...

    def get_meta(self, key: str) -> bytes:
        """A small named file's bytes; ``FileNotFoundError`` if absent."""
        ...

    def list_meta(self, prefix: str) -> list[str]:
        """The keys below ``prefix`` (``versions/``)."""
        ...

class LocalRemote:
    """A folder on this machine (a mounted disk, an NFS share)."""

    def __init__(self, root: str) -> None:
        from stead.data.hashing import workers

        self.url = root
        self.root = Path(root)
        self.jobs = workers()
        self._made: set[str] = set()

    def location(self, digest: str) -> str:
        return f"{self.root}/{PREFIX}/{digest[:2]}/{digest[2:]}"

    def list_objects(self) -> set[str]:
        top = self.root / PREFIX
        if not self.root.exists():
            if self.root.parent.is_dir():
                return set()  # a new remote: push creates it
            raise BackendUnavailable(f"Remote folder {self.root} cannot be reached: {self.root.parent} does not exist")
        out: set[str] = set()
        if top.is_dir():
            for sub in os.scandir(top):
                if sub.is_dir():
                    out.update(sub.name + name for name in os.listdir(sub.path) if not name.startswith("."))
        return out

    def has(self, digest: str) -> bool:
        return os.path.exists(self.location(digest))

    def upload(self, local_path: str, digest: str) -> None:
        from stead.data.cache import _unlink, copy_verified, unique_suffix

        final = self.location(digest)
        sub = final.rsplit("/", 1)[0]
        if sub not in self._made:
            os.makedirs(sub, exist_ok=True)
            self._made.add(sub)
        # Written beside its final name and renamed within the folder: a rename across
        # folders takes the file system's rename lock, which serialises parallel transfers.
        tmp = f"{sub}/.{unique_suffix()}.tmp"
        placed = False
        try:
            if not copy_verified(local_path, tmp, digest, None):
                raise CorruptObject(local_path)
            os.replace(tmp, final)
            placed = True
        finally:
            if not placed:
                _unlink(tmp)

    def open_object(self, digest: str) -> BinaryIO:
        if not self.root.is_dir():
            raise BackendUnavailable(f"Remote folder {self.root} does not exist; check the URL or mount it")
        return open(self.location(digest), "rb")

    def delete(self, digest: str) -> None:
        try:
            os.unlink(self.location(digest))
        except FileNotFoundError:
            pass

    def put_meta(self, key: str, data: bytes) -> None:
        from stead.data.cache import unique_suffix

        final = self.root / key
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(f".{unique_suffix()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, final)

    def get_meta(self, key: str) -> bytes:
        return (self.root / key).read_bytes()

    def list_meta(self, prefix: str) -> list[str]:
        top = self.root / prefix
        out = []
        for folder, _dirs, names in os.walk(top):
            rel = Path(folder).relative_to(self.root).as_posix()
            out += [f"{rel}/{n}" for n in names if not n.startswith(".")]
        return sorted(out)

class S3Remote:
    """A prefix in an S3-compatible bucket (AWS, MinIO, Ceph), through s3fs."""

    def __init__(self, url: str, aws: Mapping[str, str]) -> None:
        try:
            import s3fs
        except ImportError as exc:
            raise MissingExtra("An s3:// data remote", "s3") from exc
        from stead.data.hashing import workers

        self.url = url
        self.jobs = workers(io_bound=True)
        self.base = url.removeprefix("s3://").rstrip("/")
        client_kwargs: dict[str, Any] = {}
        if aws.get("AWS_ENDPOINT_URL"):
            client_kwargs["endpoint_url"] = aws["AWS_ENDPOINT_URL"]
        region = aws.get("AWS_REGION") or aws.get("AWS_DEFAULT_REGION")
        if region:
            client_kwargs["region_name"] = region
        self.fs = s3fs.S3FileSystem(
            key=aws.get("AWS_ACCESS_KEY_ID"),
            secret=aws.get("AWS_SECRET_ACCESS_KEY"),
            token=aws.get("AWS_SESSION_TOKEN"),
            client_kwargs=client_kwargs,
            config_kwargs={"connect_timeout": 5, "read_timeout": 60, "retries": {"max_attempts": 2}},

            skip_instance_cache=True,
            use_listings_cache=False,
        )

    def location(self, digest: str) -> str:
        return f"s3://{self.base}/{PREFIX}/{digest[:2]}/{digest[2:]}"

    def _key(self, digest: str) -> str:
        return f"{self.base}/{PREFIX}/{digest[:2]}/{digest[2:]}"

    def list_objects(self) -> set[str]:
        try:
            found = self.fs.find(f"{self.base}/{PREFIX}/")
        except FileNotFoundError:
            return set()
        except Exception as exc:  # botocore/aiohttp errors: the remote is unreachable
            raise _unreachable(self.url, exc) from exc
        out = set()
        for key in found:
            parts = key.rsplit("/", 2)
            if len(parts) == 3 and len(parts[1]) == 2:
                out.add(parts[1] + parts[2])
        return out

    def has(self, digest: str) -> bool:
        return bool(self.fs.exists(self._key(digest)))

    def upload(self, local_path: str, digest: str) -> None:
        from stead.data.hashing import hash_file

        size = os.stat(local_path).st_size
        if hash_file(local_path) != (digest, size):
            raise CorruptObject(local_path)
        self.fs.put_file(local_path, self._key(digest))  # one PUT or a completed multipart: atomic
        if self.fs.info(self._key(digest))["size"] != size:
            self.fs.rm_file(self._key(digest))
            raise OSError(f"upload of {self.location(digest)} arrived truncated")

    def open_object(self, digest: str) -> BinaryIO:
        try:
            return self.fs.open(self._key(digest), "rb", block_size=8 << 20)  # type: ignore[no-any-return]
        except FileNotFoundError:
            raise
        except Exception as exc:
            raise _unreachable(self.url, exc) from exc

    def delete(self, digest: str) -> None:
        self.fs.rm_file(self._key(digest))

    def put_meta(self, key: str, data: bytes) -> None:
        try:
            self.fs.pipe_file(f"{self.base}/{key}", data)  # one PUT: atomic
        except Exception as exc:
            raise _unreachable(self.url, exc) from exc

    def get_meta(self, key: str) -> bytes:
        try:
            return self.fs.cat_file(f"{self.base}/{key}")  # type: ignore[no-any-return]
        except FileNotFoundError:
            raise
        except Exception as exc:
            raise _unreachable(self.url, exc) from exc

    def list_meta(self, prefix: str) -> list[str]:
        try:
            found = self.fs.find(f"{self.base}/{prefix}")
        except FileNotFoundError:
            return []
        except Exception as exc:
            raise _unreachable(self.url, exc) from exc
        return sorted(k.removeprefix(f"{self.base}/") for k in found)

class CorruptObject(Exception):
    """A local object did not hash to its name."""

def _unreachable(url: str, exc: BaseException) -> BackendUnavailable:
    return BackendUnavailable(f"Remote {url} cannot be reached ({type(exc).__name__}: {exc}); check the URL, the endpoint and the credentials")

def open_remote(url: str, aws: Mapping[str, str] | None = None) -> Remote:
    if url.startswith("s3://"):
        return S3Remote(url, aws or {})
    if url.startswith("file://"):
        url = url.removeprefix("file://")
    if "://" in url:
        raise InvalidParameter(f"Remote URL {url!r} has an unsupported scheme; use a folder path or s3://bucket/prefix")
    return LocalRemote(str(Path(url).expanduser().resolve()))

def iter_missing(remote: Remote, digests: Iterable[str]) -> Iterator[str]:
    have = remote.list_objects()
    return (d for d in digests if d not in have)
