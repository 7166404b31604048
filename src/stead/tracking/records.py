"""Tracking records: plain dataclasses with no I/O, shared by every backend."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Generic, TypeVar

T = TypeVar("T")

__all__ = [
    "RunStatus",
    "ViewType",
    "Experiment",
    "Metric",
    "Param",
    "RunTag",
    "RunInput",
    "RunInfo",
    "RunData",
    "Run",
    "Page",
]


class RunStatus(str, Enum):
    RUNNING = "RUNNING"
    SCHEDULED = "SCHEDULED"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"

    @property
    def is_terminal(self) -> bool:
        return self in (RunStatus.FINISHED, RunStatus.FAILED, RunStatus.KILLED)


class ViewType(str, Enum):
    ACTIVE_ONLY = "ACTIVE_ONLY"
    DELETED_ONLY = "DELETED_ONLY"
    ALL = "ALL"

    def stages(self) -> tuple[str, ...]:
        return {"ACTIVE_ONLY": ("active",), "DELETED_ONLY": ("deleted",), "ALL": ("active", "deleted")}[
            self.value
        ]


@dataclass(frozen=True)
class Experiment:
    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str
    creation_time: int
    last_update_time: int
    tags: dict[str, str] = field(default_factory=dict)


# Not frozen: runs hold thousands of these, and a frozen dataclass is several times slower
# to build. Treat it as a value all the same (it hashes by its fields).
@dataclass(slots=True, unsafe_hash=True)
class Metric:
    key: str
    value: float
    timestamp: int
    step: int = 0

    def same_point(self, other: "Metric") -> bool:
        """Equality that treats NaN as equal to NaN (a faithful round trip)."""
        both_nan = math.isnan(self.value) and math.isnan(other.value)
        return (self.key, self.timestamp, self.step) == (other.key, other.timestamp, other.step) and (
            both_nan or self.value == other.value
        )


@dataclass(frozen=True)
class Param:
    key: str
    value: str


@dataclass(frozen=True)
class RunTag:
    key: str
    value: str


@dataclass(frozen=True)
class RunInput:
    """A dataset a run consumed: a stead dataset version (``uri``) or an MLflow dataset."""

    name: str
    digest: str = ""
    source_type: str = ""
    source: str = ""
    schema: str | None = None
    profile: str | None = None
    context: str = ""
    uri: str | None = None


# RunInfo, RunData and Run are slots dataclasses, not frozen: a search builds three per run
# returned, and a frozen dataclass's __init__ is ~10x slower (one object.__setattr__ per
# field). Treat them as values all the same; they compare (and RunInfo hashes) by fields.
@dataclass(slots=True, unsafe_hash=True)
class RunInfo:
    run_id: str
    experiment_id: str
    run_name: str
    user_id: str
    status: RunStatus
    start_time: int
    end_time: int | None
    artifact_uri: str
    lifecycle_stage: str
    parent_run_id: str | None = None


@dataclass(slots=True, unsafe_hash=True)
class RunData:
    metrics: dict[str, Metric] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True, unsafe_hash=True)
class Run:
    info: RunInfo
    data: RunData
    inputs: tuple[RunInput, ...] = ()

    @property
    def run_id(self) -> str:
        return self.info.run_id


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of results and the token of the next (None at the end)."""

    items: list[T]
    next_page_token: str | None = None
