"""What push and pull share: a parallel loop over objects with progress and a report."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from stead.data.hashing import parallel_map

__all__ = ["Progress", "NullProgress", "TransferResult", "run_parallel"]


class Progress(Protocol):
    def start(self, files: int, nbytes: int) -> None: ...

    def advance(self, files: int, nbytes: int) -> None: ...


class NullProgress:
    def start(self, files: int, nbytes: int) -> None:
        pass

    def advance(self, files: int, nbytes: int) -> None:
        pass


@dataclass
class TransferResult:
    remote: str
    transferred: int = 0
    transferred_bytes: int = 0
    already_there: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (location, reason)
    done: set[str] = field(default_factory=set, repr=False)  # objects moved (and verified)
    fetched: dict[str, bytes] = field(default_factory=dict, repr=False)  # small pulled objects' bytes

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_json(self) -> dict[str, object]:
        return {
            "remote": self.remote,
            "transferred": self.transferred,
            "bytes": self.transferred_bytes,
            "already_there": self.already_there,
            "failed": [{"path": p, "reason": r} for p, r in self.failed],
        }


def run_parallel(
    items: Iterable[tuple[str, int | None]],
    fn: Callable[[str, int | None], tuple[str, str] | None],
    result: TransferResult,
    progress: Progress,
    jobs: int,
) -> None:
    """Run ``fn(digest, size)`` over ``items``; ``fn`` returns None or a failure (location, reason)."""
    todo = list(items)
    progress.start(len(todo), sum(s or 0 for _, s in todo))

    def one(item: tuple[str, int | None]) -> tuple[str, int, object]:
        digest, size = item
        try:
            return digest, size or 0, fn(digest, size)
        except OSError as exc:
            return digest, size or 0, (digest, f"{type(exc).__name__}: {exc}")

    for digest, size, failure in parallel_map(one, todo, max(1, jobs)):
        if failure is None:
            result.done.add(digest)
            result.transferred += 1
            result.transferred_bytes += size
        else:
            result.failed.append(failure)  # type: ignore[arg-type]
        progress.advance(1, size)
