"""Choosing a variant for a request: weighted (canary), sticky by key (A/B), shadows aside.

Pure functions. A sticky key (a header value such as a user id) is hashed to a point in
[0, 1); the same key lands on the same variant for as long as the weights stay put.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Protocol, TypeVar

__all__ = ["Weighted", "choose", "key_point"]


class Weighted(Protocol):
    @property
    def weight(self) -> int: ...

    @property
    def shadow(self) -> bool: ...


V = TypeVar("V", bound=Weighted)


def key_point(key: str) -> float:
    """A stable point in [0, 1) for ``key`` (BLAKE2b, so the same in every process)."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


def choose(variants: Sequence[V], point: float) -> V:
    """The live (non-shadow) variant whose weight band holds ``point`` in [0, 1)."""
    live = [v for v in variants if not v.shadow]
    total = sum(max(0, v.weight) for v in live)
    if total <= 0:
        return live[0]
    edge = point * total
    acc = 0
    for v in live:
        acc += max(0, v.weight)
        if edge < acc:
            return v
    return live[-1]
