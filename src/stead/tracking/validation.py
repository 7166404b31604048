"""Checks on names, keys and values, with MLflow's limits, before anything is written."""

from __future__ import annotations

import numbers
import re
import unicodedata
from typing import Any

from stead.errors import InvalidParameter

__all__ = [
    "MAX_METRICS_PER_BATCH",
    "MAX_PARAMS_TAGS_PER_BATCH",
    "MAX_ENTITIES_PER_BATCH",
    "MAX_PARAM_VAL_LENGTH",
    "MAX_TAG_VAL_LENGTH",
    "MAX_ENTITY_KEY_LENGTH",
    "MAX_EXPERIMENT_NAME_LENGTH",
    "MAX_RUN_NAME_LENGTH",
    "check_key",
    "check_param_value",
    "check_tag_value",
    "check_metric_value",
    "check_int",
    "check_experiment_name",
    "check_run_name",
    "check_run_id",
    "check_batch_sizes",
    "canonical_name",
]

MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_TAGS_PER_BATCH = 100
MAX_ENTITIES_PER_BATCH = 1000
MAX_PARAM_VAL_LENGTH = 6000
MAX_TAG_VAL_LENGTH = 8000
MAX_ENTITY_KEY_LENGTH = 250
MAX_EXPERIMENT_NAME_LENGTH = 500
MAX_RUN_NAME_LENGTH = 250

# MLflow's rule: alphanumerics, underscores, dashes, periods, spaces, colons and slashes.
_KEY_RE = re.compile(r"^[/\w.\- :]*$")
_RUN_ID_RE = re.compile(r"^[a-zA-Z0-9][\w\-]{0,63}$")
_INT64 = (-(2**63), 2**63 - 1)


def canonical_name(name: str) -> str:
    """NFC-normalised and stripped, so that visually equal names are one name."""
    return unicodedata.normalize("NFC", name).strip()


_VALID_KEYS: set[str] = set()  # keys already checked (any kind: the rule is the same)
_VALID_KEYS_MAX = 10_000


def check_key(key: Any, kind: str) -> str:
    """A metric, param or tag key: a non-empty string that is a safe relative path."""
    if type(key) is str and key in _VALID_KEYS:
        return key  # type: ignore[no-any-return]
    if not isinstance(key, str):
        raise InvalidParameter(f"{kind} key must be a string, got {type(key).__name__} {key!r}")
    if not key:
        raise InvalidParameter(f"{kind} key must not be empty")
    if len(key) > MAX_ENTITY_KEY_LENGTH:
        raise InvalidParameter(
            f"{kind} key {key[:40]!r}... is {len(key)} characters; the limit is {MAX_ENTITY_KEY_LENGTH}"
        )
    if not _KEY_RE.match(key) or key.startswith("/") or ".." in key.split("/"):
        raise InvalidParameter(
            f"Invalid {kind.lower()} key {key!r}: use letters, digits, '_', '-', '.', ' ', ':' and '/' "
            "(no leading '/' and no '..' segment)"
        )
    if type(key) is str and len(_VALID_KEYS) < _VALID_KEYS_MAX:
        _VALID_KEYS.add(key)
    return key


def _check_text(value: Any, kind: str, key: str, limit: int) -> str:
    if isinstance(value, bytes):
        raise InvalidParameter(f"{kind} {key!r} has a bytes value; pass a string")
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        raise InvalidParameter(
            f"{kind} {key!r} has a value of {len(text)} characters; the limit is {limit}"
        )
    return text


def check_param_value(key: str, value: Any) -> str:
    return _check_text(value, "Param", key, MAX_PARAM_VAL_LENGTH)


def check_tag_value(key: str, value: Any) -> str:
    return _check_text(value, "Tag", key, MAX_TAG_VAL_LENGTH)


def check_metric_value(key: str, value: Any) -> float:
    """A real number (bool refused); NaN and infinities are kept as they are."""
    if type(value) is float:
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidParameter(
            f"Metric {key!r} got {type(value).__name__} {value!r}; metric values must be numbers"
        )
    return float(value)


def check_int(value: Any, what: str) -> int:
    if type(value) is int and _INT64[0] <= value <= _INT64[1]:
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidParameter(f"{what} must be an integer, got {type(value).__name__} {value!r}")
    result = int(value)
    if not _INT64[0] <= result <= _INT64[1]:
        raise InvalidParameter(f"{what} {result} does not fit in 64 bits")
    return result


def check_experiment_name(name: Any) -> str:
    if not isinstance(name, str):
        raise InvalidParameter(f"Experiment name must be a string, got {type(name).__name__} {name!r}")
    name = canonical_name(name)
    if not name:
        raise InvalidParameter("Experiment name must not be empty; pass a name such as 'churn'")
    if len(name) > MAX_EXPERIMENT_NAME_LENGTH:
        raise InvalidParameter(
            f"Experiment name is {len(name)} characters; the limit is {MAX_EXPERIMENT_NAME_LENGTH}"
        )
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        raise InvalidParameter(f"Experiment name {name!r} contains control characters; remove them")
    return name


def check_run_name(name: Any) -> str:
    if not isinstance(name, str):
        raise InvalidParameter(f"Run name must be a string, got {type(name).__name__} {name!r}")
    name = canonical_name(name)
    if len(name) > MAX_RUN_NAME_LENGTH:
        raise InvalidParameter(f"Run name is {len(name)} characters; the limit is {MAX_RUN_NAME_LENGTH}")
    return name


def check_run_id(run_id: Any) -> str:
    if not isinstance(run_id, str) or not _RUN_ID_RE.match(run_id):
        raise InvalidParameter(f"Invalid run id {run_id!r}: run ids are 32 hexadecimal characters")
    return run_id


def check_batch_sizes(n_metrics: int, n_params: int, n_tags: int) -> None:
    if n_metrics > MAX_METRICS_PER_BATCH:
        raise InvalidParameter(
            f"A batch may hold {MAX_METRICS_PER_BATCH} metrics; this one has {n_metrics}. Split it."
        )
    if n_params > MAX_PARAMS_TAGS_PER_BATCH or n_tags > MAX_PARAMS_TAGS_PER_BATCH:
        raise InvalidParameter(
            f"A batch may hold {MAX_PARAMS_TAGS_PER_BATCH} params and {MAX_PARAMS_TAGS_PER_BATCH} tags; "
            f"this one has {n_params} params and {n_tags} tags. Split it."
        )
    if n_metrics + n_params + n_tags > MAX_ENTITIES_PER_BATCH:
        raise InvalidParameter(
            f"A batch may hold {MAX_ENTITIES_PER_BATCH} entities in all; this one has "
            f"{n_metrics + n_params + n_tags}. Split it."
        )
