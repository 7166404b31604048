"""What a model server knows of each variant it was asked to serve: live, loading or failed.

Pure records and arithmetic. A variant that failed to load (or whose reference stopped
resolving before it ever loaded) gets no traffic: the router spreads the live variants'
weights over the whole, so the weights *applied* are the live ones' shares of their sum.
``applied_weights`` computes them once per refresh, for the model metadata, ``/metrics``
and the report in the store, so what is shown is what the router does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["VariantState", "LOADING", "LIVE", "FAILED", "applied_weights", "one_line"]

LOADING, LIVE, FAILED = "loading", "live", "failed"


@dataclass
class VariantState:
    """One variant as this server serves it: ``version`` is the version it serves (live) or
    the one it could not load (failed); ``error`` says why the wanted model is not the one
    served, in one line (also set on a live variant that keeps an older model)."""

    name: str
    model: str
    weight: int
    shadow: bool
    state: str = LOADING
    version: str | None = None
    error: str | None = None
    applied: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "model": self.model, "state": self.state,
                               "model_version": self.version, "weight": self.applied,
                               "configured_weight": self.weight, "shadow": self.shadow}
        if self.error:
            out["error"] = self.error
        return out


def applied_weights(states: Sequence[VariantState]) -> dict[str, float]:
    """Each non-shadow variant's percent of traffic: a live one's weight over the live sum
    (whole numbers stay whole), 0 for one that is down or when no live one has weight."""
    live = [s for s in states if not s.shadow and s.state == LIVE]
    total = sum(max(0, s.weight) for s in live)
    out: dict[str, float] = {}
    for s in states:
        if s.shadow:
            continue
        share = max(0, s.weight) * 100 / total if s.state == LIVE and total > 0 else 0.0
        out[s.name] = int(share) if float(share).is_integer() else round(share, 2)
    return out


def one_line(exc: BaseException) -> str:
    """An exception as one line: a stead error's own message, else its type and message."""
    from stead.errors import SteadError

    text = exc.message if isinstance(exc, SteadError) else f"{type(exc).__name__}: {exc}"
    return " ".join(str(text).split()).rstrip(".") or type(exc).__name__
