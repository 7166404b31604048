"""Step outputs as artifacts: a serializer chosen by the value's type, content-addressed.

| type                                   | serializer | stored as                          |
|----------------------------------------|------------|------------------------------------|
| None, bool, int, float, str, list/dict | ``json``   | JSON                               |
| numpy.ndarray (not object dtype)       | ``numpy``  | ``.npy`` (no pickle)               |
| pandas.DataFrame                       | ``pandas`` | Parquet                            |
| pyarrow.Table                          | ``arrow``  | Parquet                            |
| scikit-learn estimator                 | ``sklearn``| pickle, with the sklearn version   |
| pathlib.Path to a file / a folder      | ``file`` / ``dir`` | the file / every file      |
| anything else picklable                | ``pickle`` | pickle (the record says so)        |

Each object lives at ``pipelines/objects/<hash>`` (a folder for ``dir``); the hash is
BLAKE3 of the serializer name and the bytes, so equal outputs are stored once.
"""

from __future__ import annotations

import io
import json
import math
import os
import threading
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stead.errors import InvalidParameter, NotFound

if TYPE_CHECKING:
    from stead.artifacts.base import ArtifactStore

__all__ = ["StoredOutput", "ObjectStore", "serializer_for", "store_value", "load_value", "OBJECTS_PREFIX"]

OBJECTS_PREFIX = "pipelines/objects"
_JSON_SCALARS = (type(None), bool, int, float, str)


class ObjectStore:
    """Content-addressed objects on an artifact store, with a fast path for local folders.

    On a local root an object is written with one ``open``/``write``/``rename`` and no
    fsync; ``sync()`` makes every object written so far durable with one ``syncfs`` of the
    folder's filesystem. The runner calls it before the transaction that records them, so
    a record never points at bytes a crash could lose. Other stores (S3) are durable when
    ``put_bytes`` returns.
    """

    def __init__(self, artifacts: "ArtifactStore") -> None:
        self.artifacts = artifacts
        root = getattr(artifacts, "root", None)
        self.local_root = str(root) if root is not None and type(artifacts).__name__ == "LocalArtifactStore" else None
        self._made: set[str] = set()
        self._unsynced = False

    def exists(self, path: str) -> bool:
        if self.local_root is not None:
            return os.path.exists(os.path.join(self.local_root, path))
        return self.artifacts.exists(path)

    def put_bytes(self, data: bytes, path: str) -> None:
        if self.local_root is None:
            self.artifacts.put_bytes(data, path)
            return
        target = os.path.join(self.local_root, path)
        folder = os.path.dirname(target)
        if folder not in self._made:
            os.makedirs(folder, exist_ok=True)
            self._made.add(folder)
        tmp = f"{target}.{os.getpid()}.{threading.get_ident()}.tmp"
        with open(tmp, "wb") as out:
            out.write(data)
        os.replace(tmp, target)
        self._unsynced = True

    def get_bytes(self, path: str) -> bytes:
        if self.local_root is not None:
            try:
                with open(os.path.join(self.local_root, path), "rb") as f:
                    return f.read()
            except FileNotFoundError:
                raise NotFound(f"Artifact {path!r} does not exist") from None
        return self.artifacts.get_bytes(path)

    def put_dir(self, local_dir: Path, path: str) -> None:
        self.artifacts.put_dir(local_dir, path)

    def get_dir(self, path: str, local_dir: Path) -> None:
        self.artifacts.get_dir(path, local_dir)

    def sync(self) -> None:
        """Make every object written through this store durable (one syscall)."""
        if not self._unsynced or self.local_root is None:
            return
        _syncfs(self.local_root)
        self._unsynced = False


def _syncfs(folder: str) -> None:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open(folder, os.O_RDONLY)
        try:
            if libc.syncfs(fd) == 0:
                return
        finally:
            os.close(fd)
    except (OSError, AttributeError):
        pass
    os.sync()


@dataclass(frozen=True)
class StoredOutput:
    """Where an output lives and how to read it back."""

    name: str
    serializer: str
    hash: str
    path: str
    size: int
    type: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "StoredOutput":
        return cls(**data)


def _is_json(value: Any, depth: int = 0) -> bool:
    if depth > 64:
        return False
    kind = type(value)
    if kind in _JSON_SCALARS:
        return not (kind is float and not math.isfinite(value))
    if kind is list:
        return all(_is_json(v, depth + 1) for v in value)
    if kind is dict:
        return all(type(k) is str and _is_json(v, depth + 1) for k, v in value.items())
    return False


def _module_of(value: Any) -> str:
    return type(value).__module__.split(".")[0]


def serializer_for(value: Any) -> str:
    """The serializer name for ``value`` (see the module table)."""
    if _is_json(value):
        return "json"
    top = _module_of(value)
    if top == "numpy" and type(value).__name__ == "ndarray" and value.dtype != object:
        return "numpy"
    if top == "pandas" and type(value).__name__ == "DataFrame":
        return "pandas"
    if top == "pyarrow" and type(value).__name__ == "Table":
        return "arrow"
    if top == "sklearn" or any(c.__module__.startswith("sklearn.") for c in type(value).__mro__[1:]):
        return "sklearn"
    if isinstance(value, Path):
        if value.is_dir():
            return "dir"
        if value.is_file():
            return "file"
        raise InvalidParameter(f"Step returned the path {value} which does not exist; return an existing file or folder")
    return "pickle"


def _dump(value: Any, serializer: str) -> bytes:
    if serializer == "json":
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    buf = io.BytesIO()
    if serializer == "numpy":
        import numpy as np

        np.save(buf, value, allow_pickle=False)
    elif serializer == "pandas":
        value.to_parquet(buf, engine="pyarrow")
    elif serializer == "arrow":
        import pyarrow.parquet as pq

        pq.write_table(value, buf)
    elif serializer == "file":
        return Path(value).read_bytes()
    else:  # sklearn, pickle
        import pickle

        try:
            pickle.dump(value, buf, protocol=5)
        except Exception as exc:
            raise InvalidParameter(
                f"cannot store a {type(value).__module__}.{type(value).__qualname__}: it is not "
                f"picklable ({exc}); return data (numbers, arrays, frames, files) instead"
            ) from None
    return buf.getvalue()


def _hash(serializer: str, data: bytes) -> str:
    import blake3

    return blake3.blake3(serializer.encode() + b"\0" + data).hexdigest()


def store_value(value: Any, store: "ObjectStore", name: str = "output") -> StoredOutput:
    """Serialize ``value``, write it under its content hash (once) and describe it."""
    serializer = serializer_for(value)
    type_name = f"{type(value).__module__}.{type(value).__qualname__}"
    if serializer == "dir":
        return _store_dir(Path(value), store, name, type_name)
    data = _dump(value, serializer)
    digest = _hash(serializer, data)
    path = f"{OBJECTS_PREFIX}/{digest[:2]}/{digest}"
    if not store.exists(path):
        store.put_bytes(data, path)
    return StoredOutput(name, serializer, digest, path, len(data), type_name)


def _store_dir(folder: Path, store: "ObjectStore", name: str, type_name: str) -> StoredOutput:
    import blake3

    files = sorted(p for p in folder.rglob("*") if p.is_file())
    manifest = []
    for p in files:
        manifest.append((p.relative_to(folder).as_posix(), blake3.blake3(p.read_bytes()).hexdigest()))
    data = json.dumps(manifest).encode()
    digest = _hash("dir", data)
    path = f"{OBJECTS_PREFIX}/{digest[:2]}/{digest}.d"
    if not store.exists(path + "/.manifest.json"):
        store.put_dir(folder, path)
        store.put_bytes(data, path + "/.manifest.json")
    return StoredOutput(name, "dir", digest, path, sum(p.stat().st_size for p in files), type_name)


def load_value(stored: StoredOutput, store: "ObjectStore", workdir: str | None = None) -> Any:
    """Read an output back (``file``/``dir`` outputs come back as local paths)."""
    kind = stored.serializer
    try:
        if kind == "dir":
            target = Path(workdir or tempfile.mkdtemp(prefix="stead-")) / stored.hash
            if not target.exists():
                store.get_dir(stored.path, target)
                (target / ".manifest.json").unlink(missing_ok=True)
            return target
        data = store.get_bytes(stored.path)
    except NotFound:
        raise NotFound(
            f"Output {stored.name!r} ({stored.hash[:12]}) is gone from the artifact store at "
            f"{stored.path}; re-run with --no-cache to produce it again"
        ) from None
    if kind == "json":
        return json.loads(data)
    buf = io.BytesIO(data)
    if kind == "numpy":
        import numpy as np

        return np.load(buf, allow_pickle=False)
    if kind == "pandas":
        import pandas as pd

        return pd.read_parquet(buf, engine="pyarrow")
    if kind == "arrow":
        import pyarrow.parquet as pq

        return pq.read_table(buf)
    if kind == "file":
        folder = Path(workdir or tempfile.mkdtemp(prefix="stead-"))
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / stored.hash
        if not target.exists():
            target.write_bytes(data)
        return target
    import pickle

    return pickle.loads(data)  # noqa: S301 - written by this store's own runs

