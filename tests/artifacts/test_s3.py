"""S3 specifics, against moto's S3 server: prefixes, hostile keys, upload paths, outages."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from s3_server import aws_settings, s3_client

from stead.artifacts import FsspecArtifactStore, open_artifact_store, s3_storage_options
from stead.artifacts.fsspec_store import PART_SIZE
from stead.errors import BackendUnavailable, InvalidParameter, NotFound

pytestmark = pytest.mark.s3

MB = 1024 * 1024


def open_store(s3_server: str, bucket: str, prefix: str = "team/runs") -> FsspecArtifactStore:
    store = open_artifact_store(f"s3://{bucket}/{prefix}", aws=aws_settings(s3_server))
    assert isinstance(store, FsspecArtifactStore)
    return store


def test_the_store_sees_and_touches_only_its_prefix(s3_server: str, s3_bucket: str) -> None:
    client = s3_client(s3_server)
    for key in ["outside.txt", "team/runs-other/x.txt", "team/runsx", "team/other/y.txt"]:
        client.put_object(Bucket=s3_bucket, Key=key, Body=b"not yours")
    store = open_store(s3_server, s3_bucket)
    assert store.list() == []
    assert not store.exists("x.txt")
    store.put_bytes(b"mine", "x.txt")
    store.put_bytes(b"mine", "d/y.txt")
    assert [i.path for i in store.list()] == ["d", "x.txt"]
    store.delete("d")
    store.delete("x.txt")
    keys = sorted(o["Key"] for o in client.list_objects_v2(Bucket=s3_bucket)["Contents"])
    assert keys == ["outside.txt", "team/other/y.txt", "team/runs-other/x.txt", "team/runsx"]


def test_get_dir_refuses_hostile_keys_written_behind_its_back(
    s3_server: str, s3_bucket: str, tmp_path: Path
) -> None:
    client = s3_client(s3_server)
    client.put_object(Bucket=s3_bucket, Key="team/runs/model/a-ok.txt", Body=b"ok")
    client.put_object(Bucket=s3_bucket, Key="team/runs/model/../../../../escape.txt", Body=b"pwned")
    listed = [o["Key"] for o in client.list_objects_v2(Bucket=s3_bucket)["Contents"]]
    assert "team/runs/model/../../../../escape.txt" in listed  # S3 keeps keys literally
    store = open_store(s3_server, s3_bucket)
    dest = tmp_path / "a" / "b" / "c" / "download"
    with pytest.raises(InvalidParameter, match="'..'"):
        store.get_dir("model", dest)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_small_payloads_are_one_put_and_large_ones_multipart(s3_server: str, s3_bucket: str) -> None:
    store = open_store(s3_server, s3_bucket)
    store.put_bytes(b"s" * (3 * MB), "small.bin")
    store.put_bytes(b"l" * (PART_SIZE + MB), "large.bin")
    client = s3_client(s3_server)
    small = client.head_object(Bucket=s3_bucket, Key="team/runs/small.bin")
    large = client.head_object(Bucket=s3_bucket, Key="team/runs/large.bin")
    assert "-" not in small["ETag"]  # a plain PUT
    assert large["ETag"].strip('"').endswith("-2")  # a completed two-part upload
    assert store.get_bytes("large.bin") == b"l" * (PART_SIZE + MB)
    assert client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []


def test_writing_to_a_missing_bucket_is_not_found(s3_server: str) -> None:
    store = open_store(s3_server, "stead-no-such-bucket")
    with pytest.raises(NotFound, match="bucket or location does not exist"):
        store.put_bytes(b"x", "x.txt")


def test_an_unreachable_endpoint_is_backend_unavailable() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    aws = aws_settings(f"http://127.0.0.1:{port}")
    options = {**s3_storage_options(aws), "config_kwargs": {"retries": {"max_attempts": 1}}}
    store = FsspecArtifactStore("s3://bucket/prefix", options)
    with pytest.raises(BackendUnavailable, match="AWS_ENDPOINT_URL"):
        store.put_bytes(b"x", "x.txt")
    with pytest.raises(BackendUnavailable, match="AWS_ENDPOINT_URL"):
        store.get_bytes("x.txt")
