"""FsspecArtifactStore: backend exceptions become stead errors, bugs stay bugs."""

from __future__ import annotations

import pytest

from stead.artifacts import FsspecArtifactStore
from stead.errors import BackendUnavailable, InvalidParameter, NotFound, PermissionDenied


@pytest.mark.parametrize(
    "raised,expected",
    [
        (FileNotFoundError("no such key"), NotFound),
        (PermissionError("AccessDenied"), PermissionDenied),
        (ConnectionResetError("reset"), BackendUnavailable),
        (IsADirectoryError("a/"), InvalidParameter),
    ],
)
def test_backend_errors_become_stead_errors(raised: OSError, expected: type[Exception]) -> None:
    store = FsspecArtifactStore("memory://stead-error-mapping")
    with pytest.raises(expected) as info, store._errors("a/b.txt"):
        raise raised
    assert "'a/b.txt'" in str(info.value) and info.value.__cause__ is raised


def test_botocore_errors_are_backend_unavailable() -> None:
    from botocore.exceptions import EndpointConnectionError

    store = FsspecArtifactStore("memory://stead-error-mapping")
    with pytest.raises(BackendUnavailable), store._errors("x"):
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")


def test_programming_errors_are_not_disguised() -> None:
    store = FsspecArtifactStore("memory://stead-error-mapping")
    with pytest.raises(TypeError), store._errors("x"):
        raise TypeError("a bug in stead, not an outage")
