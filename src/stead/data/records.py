"""Plain records of data sets and their versions (no I/O)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from stead.errors import InvalidParameter

__all__ = ["Dataset", "DatasetVersion", "parse_ref"]

_REF = re.compile(r"^(?:data:/)?(?P<name>[A-Za-z0-9][\w.\-]{0,199}?)(?:@(?P<version>\d+|latest))?$")


@dataclass(frozen=True)
class Dataset:
    name: str
    description: str
    creation_time: int
    last_update_time: int
    latest_version: int | None = None


@dataclass(frozen=True)
class DatasetVersion:
    name: str
    version: int
    manifest_hash: str
    path: str
    kind: str
    num_files: int
    num_bytes: int
    user_id: str
    run_id: str | None
    message: str
    creation_time: int
    profile: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def uri(self) -> str:
        return f"data:/{self.name}@{self.version}"

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "uri": self.uri,
            "manifest_hash": self.manifest_hash,
            "path": self.path,
            "kind": self.kind,
            "files": self.num_files,
            "bytes": self.num_bytes,
            "user": self.user_id,
            "run_id": self.run_id,
            "message": self.message,
            "creation_time": self.creation_time,
        }


def parse_ref(ref: str, *, default_latest: bool = True) -> tuple[str, int | None]:
    """``(name, version)`` of ``customers@4``, ``data:/customers@4`` or ``customers@latest``.

    The version is None for ``latest`` (or no version when ``default_latest``).
    """
    m = _REF.match(ref or "")
    if not m or (m["version"] is None and not default_latest):
        raise InvalidParameter(
            f"Invalid dataset reference {ref!r}: write <name>@<version>, e.g. customers@4 or data:/customers@latest"
        )
    v = m["version"]
    return m["name"], (None if v in (None, "latest") else int(v))
