"""write_atomic: local filesystem failures become stead errors; the source's stay its own."""

from __future__ import annotations

import errno
import io
from pathlib import Path

import pytest

from stead.artifacts.atomic import TEMP_PREFIX, write_atomic
from stead.errors import BackendUnavailable, InvalidParameter, PermissionDenied


class BrokenFile(io.BytesIO):
    """Stands in for a disk that fails; used as the *target* file, via a patched open."""

    def __init__(self, error: OSError) -> None:
        super().__init__()
        self.error = error

    def write(self, data: object) -> int:  # type: ignore[override]
        raise self.error


@pytest.mark.parametrize(
    "error,expected,message",
    [
        (OSError(errno.ENOSPC, "No space left on device"), BackendUnavailable, "No space left on device"),
        (PermissionError(errno.EACCES, "Permission denied"), PermissionDenied, "permission denied"),
    ],
)
def test_target_failures_become_stead_errors(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    error: OSError,
    expected: type[Exception],
    message: str,
) -> None:
    real_open = open

    def fake_open(path, mode="r", *args, **kwargs):  # type: ignore[no-untyped-def]
        if Path(path).name.startswith(TEMP_PREFIX):
            real_open(path, mode).close()  # the temp file exists, as it would
            return BrokenFile(error)
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.open", fake_open)
    with pytest.raises(expected, match=message) as info:
        write_atomic(io.BytesIO(b"data"), tmp_path / "d" / "f.bin", name="artifact 'd/f.bin'")
    assert "artifact 'd/f.bin'" in str(info.value)
    assert not (tmp_path / "d").exists()  # temp file and created folder removed


def test_a_file_in_the_way_is_invalid(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    with pytest.raises(InvalidParameter, match="a parent of it is a file"):
        write_atomic(io.BytesIO(b"data"), tmp_path / "f" / "g")
    assert (tmp_path / "f").read_bytes() == b"x"


def test_without_sync_the_write_is_still_atomic_and_complete(tmp_path: Path) -> None:
    assert write_atomic(io.BytesIO(b"x" * 5_000_000), tmp_path / "f", sync=False) == 5_000_000
    assert (tmp_path / "f").stat().st_size == 5_000_000
    assert [p.name for p in tmp_path.iterdir()] == ["f"]
