"""Fixtures for the artifact store tests: an S3 server, a bucket, and every store kind.

``s3_server`` and ``s3_bucket`` are self-contained so they can move to the top-level
conftest unchanged; until then this file puts ``tests/`` on ``sys.path`` to import the
shared ``s3_server`` helper module.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

_TESTS = str(Path(__file__).resolve().parents[1])
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

from s3_server import aws_settings, create_bucket, running_s3_server, s3_client  # noqa: E402

from stead.artifacts import ArtifactStore, open_artifact_store  # noqa: E402

STORE_KINDS = ["local", pytest.param("s3", marks=pytest.mark.s3), "memory"]
S3_PREFIX = "runs/prefix"


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """Endpoint URL of a moto S3 server on 127.0.0.1, one per test process."""
    with running_s3_server() as endpoint:
        yield endpoint


@pytest.fixture
def s3_bucket(s3_server: str) -> str:
    """A fresh, uniquely named bucket on ``s3_server``."""
    return create_bucket(s3_server)


@pytest.fixture(params=STORE_KINDS)
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(store_kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ArtifactStore]:
    """An empty artifact store of each kind, opened through the public factory."""
    if store_kind == "local":
        yield open_artifact_store(str(tmp_path / "store"))
    elif store_kind == "memory":
        name = f"stead-test-{uuid.uuid4().hex}"
        yield open_artifact_store(f"memory://{name}")
        import fsspec

        fs = fsspec.filesystem("memory")
        if fs.exists(f"/{name}"):
            fs.rm(f"/{name}", recursive=True)
    else:
        endpoint = request.getfixturevalue("s3_server")
        bucket = request.getfixturevalue("s3_bucket")
        yield open_artifact_store(f"s3://{bucket}/{S3_PREFIX}", aws=aws_settings(endpoint))


@pytest.fixture
def raw_listing(
    store: ArtifactStore, store_kind: str, request: pytest.FixtureRequest
) -> Callable[[], list[str]]:
    """Everything the backend holds for the store, below the stead API: hidden temporary
    files, objects outside the listing logic, and unfinished S3 multipart uploads."""

    def local() -> list[str]:
        root = Path(store.root_uri)
        found = []
        for dirpath, _dirs, files in os.walk(root):
            found += [Path(dirpath, f).relative_to(root).as_posix() for f in files]
        return sorted(found)

    def memory() -> list[str]:
        import fsspec

        root = "/" + store.root_uri.removeprefix("memory://")
        return sorted(p.removeprefix(root + "/") for p in fsspec.filesystem("memory").find(root))

    def s3() -> list[str]:
        client = s3_client(request.getfixturevalue("s3_server"))
        bucket = request.getfixturevalue("s3_bucket")
        keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])]
        uploads = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
        keys += [f"UNFINISHED-UPLOAD:{u['Key']}" for u in uploads]
        return sorted(k.replace(f"{S3_PREFIX}/", "", 1) for k in keys)

    return {"local": local, "memory": memory, "s3": s3}[store_kind]
