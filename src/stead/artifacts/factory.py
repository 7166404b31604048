"""Choosing an artifact store from a URL, and S3 options from the AWS settings.

The scheme picks the backend; the backend's library is imported only then, and a
missing optional one fails with the exact ``pip install`` line.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from stead.artifacts.base import ArtifactStore
from stead.errors import InvalidParameter, MissingExtra

__all__ = ["SUPPORTED_URLS", "open_artifact_store", "s3_storage_options"]

SUPPORTED_URLS = ("a local path", "file:///abs/path", "s3://bucket/prefix", "memory://name")


def open_artifact_store(url: str, aws: Mapping[str, str] | None = None) -> ArtifactStore:
    """The artifact store for ``url``.

    ``aws`` is ``Settings.aws`` (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ...); it is
    used for ``s3://`` only. Without it, botocore's own credential chain applies.
    """
    if not isinstance(url, str) or not url.strip():
        raise InvalidParameter(f"Artifact store URL must be a non-empty string; use one of {SUPPORTED_URLS}.")
    if any(ch in url for ch in "?#") or any(ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise InvalidParameter(
            f"Artifact store URL {url!r} has a query, fragment or control character; "
            f"use one of {SUPPORTED_URLS}."
        )
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if not scheme or (os.name == "nt" and len(scheme) == 1):  # `C:\...` is a path on Windows
        from stead.artifacts.local import LocalArtifactStore

        return LocalArtifactStore(url)
    if scheme == "file":
        return _open_file_url(url, parts.netloc, parts.path)
    if scheme == "s3":
        return _open_s3(url, parts.netloc, aws)
    if scheme == "memory":
        from stead.artifacts.fsspec_store import FsspecArtifactStore

        return FsspecArtifactStore(url)
    raise InvalidParameter(
        f"Artifact store URL {url!r} has the unsupported scheme {scheme!r}; "
        f"supported: {', '.join(SUPPORTED_URLS)}."
    )


def s3_storage_options(aws: Mapping[str, str] | None) -> dict[str, Any]:
    """s3fs keyword arguments from the standard AWS variables.

    Listings are never cached: several servers share one bucket, and a cached listing
    would hide what another replica just wrote.
    """
    options: dict[str, Any] = {"use_listings_cache": False}
    aws = aws or {}
    endpoint = aws.get("AWS_ENDPOINT_URL_S3") or aws.get("AWS_ENDPOINT_URL")
    if endpoint:
        options["endpoint_url"] = endpoint
    for env_key, option in (
        ("AWS_ACCESS_KEY_ID", "key"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
        ("AWS_SESSION_TOKEN", "token"),
    ):
        if aws.get(env_key):
            options[option] = aws[env_key]
    region = aws.get("AWS_REGION") or aws.get("AWS_DEFAULT_REGION")
    if region:
        options["client_kwargs"] = {"region_name": region}
    return options


def _open_file_url(url: str, host: str, path: str) -> ArtifactStore:
    from stead.artifacts.local import LocalArtifactStore

    if host not in ("", "localhost"):
        raise InvalidParameter(
            f"Artifact store URL {url!r} names the host {host!r}; file:// URLs must be local "
            "(file:///abs/path). Mount the share and use its local path."
        )
    local = unquote(path)
    if not local.startswith("/"):
        raise InvalidParameter(f"Artifact store URL {url!r} needs an absolute path: file:///abs/path.")
    return LocalArtifactStore(local)


def _open_s3(url: str, bucket: str, aws: Mapping[str, str] | None) -> ArtifactStore:
    if not bucket:
        raise InvalidParameter(f"Artifact store URL {url!r} has no bucket; use s3://bucket/prefix.")
    try:
        import s3fs  # noqa: F401  (only to report a missing extra clearly)
    except ImportError as exc:
        raise MissingExtra("S3 artifact storage", "s3") from exc
    from stead.artifacts.fsspec_store import FsspecArtifactStore

    return FsspecArtifactStore(url, s3_storage_options(aws))
