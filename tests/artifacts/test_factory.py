"""open_artifact_store: scheme dispatch, S3 options, missing extras, lazy imports."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import stead.artifacts
from stead.artifacts import (
    FsspecArtifactStore,
    LocalArtifactStore,
    open_artifact_store,
    s3_storage_options,
)
from stead.errors import InvalidParameter, MissingExtra


def test_plain_paths_open_a_local_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_artifact_store(str(tmp_path / "a"))
    assert isinstance(store, LocalArtifactStore)
    assert store.root_uri == str(tmp_path / "a")
    monkeypatch.chdir(tmp_path)
    relative = open_artifact_store("./artifacts")
    assert relative.root_uri == str(tmp_path / "artifacts")


@pytest.mark.parametrize("prefix", ["file://", "file://localhost"])
def test_file_urls_open_a_local_store(tmp_path: Path, prefix: str) -> None:
    store = open_artifact_store(f"{prefix}{tmp_path}/with%20space")
    assert isinstance(store, LocalArtifactStore)
    assert store.root_uri == f"{tmp_path}/with space"


def test_memory_urls_open_an_fsspec_store() -> None:
    store = open_artifact_store("memory://stead-factory-test")
    assert isinstance(store, FsspecArtifactStore)
    assert store.uri_for("a/b") == "memory://stead-factory-test/a/b"


def test_s3_urls_open_an_fsspec_store_with_the_given_settings() -> None:
    aws = {"AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}
    store = open_artifact_store("s3://bucket/some/prefix/", aws=aws)  # builds, connects lazily
    assert isinstance(store, FsspecArtifactStore)
    assert store.root_uri == "s3://bucket/some/prefix"
    assert store.uri_for("run/1") == "s3://bucket/some/prefix/run/1"


@pytest.mark.parametrize(
    "url,message",
    [
        ("gs://bucket/x", "unsupported scheme 'gs'"),
        ("http://host:5000/artifacts", "unsupported scheme 'http'"),
        ("ftp://host/x", "unsupported scheme 'ftp'"),
        ("s3://", "no bucket"),
        ("s3:///key", "no bucket"),
        ("file://evil-host/share", "names the host"),
        ("file:relative/path", "absolute path"),
        ("s3://bucket/x?versionId=1", "query"),
        ("/tmp/a#b", "fragment"),
        ("/tmp/a\nb", "control character"),
        ("", "non-empty"),
        ("   ", "non-empty"),
    ],
)
def test_bad_urls_are_invalid(url: str, message: str) -> None:
    with pytest.raises(InvalidParameter, match=message) as info:
        open_artifact_store(url)
    if "unsupported" in message:
        assert "s3://bucket/prefix" in info.value.message and "memory://" in info.value.message


def test_missing_s3fs_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "s3fs", None)  # makes `import s3fs` fail
    with pytest.raises(MissingExtra) as info:
        open_artifact_store("s3://bucket/prefix")
    assert info.value.message == ("S3 artifact storage needs an optional dependency: pip install 'stead[s3]'")


def test_s3_options_come_from_the_aws_settings() -> None:
    options = s3_storage_options(
        {
            "AWS_ENDPOINT_URL": "http://minio:9000",
            "AWS_ACCESS_KEY_ID": "key",
            "AWS_SECRET_ACCESS_KEY": "secret",
            "AWS_SESSION_TOKEN": "token",
            "AWS_DEFAULT_REGION": "eu-west-1",
        }
    )
    assert options == {
        "use_listings_cache": False,
        "endpoint_url": "http://minio:9000",
        "key": "key",
        "secret": "secret",
        "token": "token",
        "client_kwargs": {"region_name": "eu-west-1"},
    }


def test_s3_options_prefer_the_specific_endpoint_and_region() -> None:
    options = s3_storage_options(
        {
            "AWS_ENDPOINT_URL": "http://generic:1",
            "AWS_ENDPOINT_URL_S3": "http://s3-only:2",
            "AWS_REGION": "us-west-2",
            "AWS_DEFAULT_REGION": "eu-west-1",
        }
    )
    assert options["endpoint_url"] == "http://s3-only:2"
    assert options["client_kwargs"] == {"region_name": "us-west-2"}


def test_s3_options_without_settings_leave_credentials_to_botocore() -> None:
    assert s3_storage_options(None) == {"use_listings_cache": False}
    assert s3_storage_options({}) == {"use_listings_cache": False}


def test_importing_the_package_loads_no_storage_library() -> None:
    src = str(Path(stead.artifacts.__file__).resolve().parents[2])
    code = (
        "import sys, stead.artifacts; "
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'fsspec', 's3fs', 'boto3', 'botocore', 'aiobotocore', 'moto'}); "
        "print(heavy)"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert result.stdout.strip() == "[]"
