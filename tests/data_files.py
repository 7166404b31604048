"""Helpers of the data versioning tests (``tests/data``): make files, list cache objects.

A module beside ``s3_server.py`` rather than in ``tests/data/conftest.py``: with
``--import-mode=importlib`` the name ``conftest`` is the top-level one.
"""

from __future__ import annotations

import os
from pathlib import Path


def make_files(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return root


def object_files(home: Path) -> list[Path]:
    objs = home / "cache" / "objects"
    return [Path(d, f) for d, _, fs in os.walk(objs) for f in fs] if objs.exists() else []
