"""The artifact store: the bytes of runs, models and data objects.

``open_artifact_store(url, aws)`` gives an ``ArtifactStore`` for a local folder,
``s3://bucket/prefix`` or ``memory://name``. Every path is checked by
``normalize_artifact_path`` before any backend sees it. Importing this package imports
no fsspec, s3fs or boto3: backends load when a store is opened.
"""

from stead.artifacts.base import ArtifactStore, FileInfo, ReadableStream
from stead.artifacts.factory import SUPPORTED_URLS, open_artifact_store, s3_storage_options
from stead.artifacts.fsspec_store import FsspecArtifactStore
from stead.artifacts.local import LocalArtifactStore
from stead.artifacts.paths import normalize_artifact_path, normalize_object_path

__all__ = [
    "SUPPORTED_URLS",
    "ArtifactStore",
    "FileInfo",
    "FsspecArtifactStore",
    "LocalArtifactStore",
    "ReadableStream",
    "normalize_artifact_path",
    "normalize_object_path",
    "open_artifact_store",
    "s3_storage_options",
]
