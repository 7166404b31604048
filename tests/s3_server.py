"""A real S3-protocol server for tests: moto's server mode on 127.0.0.1.

Each pytest (xdist) worker starts its own server on a free port chosen by the OS, and
each test gets its own bucket, so tests run in parallel without sharing state. The
credentials are fake and are passed explicitly (``aws_settings``), never put into
``os.environ``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["FAKE_AWS", "aws_settings", "create_bucket", "running_s3_server", "s3_client"]

FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "stead-test-key",
    "AWS_SECRET_ACCESS_KEY": "stead-test-secret",
    "AWS_REGION": "us-east-1",
}


@contextmanager
def running_s3_server() -> Iterator[str]:
    """Start moto's S3 server on 127.0.0.1 (a free port); yield its endpoint URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def aws_settings(endpoint: str) -> dict[str, str]:
    """The ``Settings.aws`` mapping that points stead at the test server."""
    return {**FAKE_AWS, "AWS_ENDPOINT_URL": endpoint}


def s3_client(endpoint: str) -> Any:
    """A boto3 client on the test server, for arranging and inspecting buckets."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=FAKE_AWS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_AWS["AWS_SECRET_ACCESS_KEY"],
        region_name=FAKE_AWS["AWS_REGION"],
    )


def create_bucket(endpoint: str) -> str:
    """Create a bucket with a unique name on the test server; return the name."""
    name = f"stead-test-{uuid.uuid4().hex[:16]}"
    s3_client(endpoint).create_bucket(Bucket=name)
    return name
