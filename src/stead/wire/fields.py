"""MLflow's protobuf JSON, field by field: the request-field readers the routes share, the
double that protobuf writes as a string when it is not finite, and the ``{"key", "value"}``
lists that tags and params travel as.

MLflow serialises its protobuf messages with proto field names, int64 as JSON numbers,
enums by name, doubles that are not finite as the strings ``"NaN"``, ``"Infinity"`` and
``"-Infinity"``, and leaves out unset fields and empty lists. A request may send int64
values as numbers or numeric strings (protobuf's JSON form); both are read here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from stead.errors import InvalidParameter
from stead.tracking.records import RunStatus, ViewType

__all__ = [
    "double_json",
    "parse_double",
    "key_values_json",
    "key_values_from_json",
    "req_str",
    "opt_str",
    "opt_int",
    "opt_list",
    "tags_of",
    "view_type_of",
    "run_status_of",
]

_RUN_STATUS_BY_NUMBER = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
_VIEW_TYPE_BY_NUMBER = {1: "ACTIVE_ONLY", 2: "DELETED_ONLY", 3: "ALL"}
_INT64 = 2**63  # int64 fields: [-2**63, 2**63)
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf, "nan": math.nan,
               "inf": math.inf, "-inf": -math.inf}


def double_json(value: float) -> float | str:
    """A double as protobuf's JSON writes it: non-finite values become strings."""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def key_values_json(values: Mapping[str, str]) -> list[dict[str, str]]:
    """Tags or params as MLflow sends them: ``[{"key": k, "value": v}, ...]``."""
    return [{"key": k, "value": v} for k, v in values.items()]


def key_values_from_json(items: Any) -> dict[str, str]:
    """``[{"key": k, "value": v}, ...]`` of a server's answer (or nothing) as a dict; a
    missing value is the empty string. Requests are read, and checked, by ``tags_of``."""
    return {t["key"]: t.get("value", "") for t in items or []}


# ---- reading request fields ---------------------------------------------------------

def _missing(name: str) -> InvalidParameter:
    return InvalidParameter(
        f"Missing value for required parameter '{name}'. See the API docs for more information "
        "about request parameters."
    )


def _scalar(params: Mapping[str, Any], name: str) -> Any:
    value = params.get(name)
    if isinstance(value, list):  # a query string may repeat a key; the first one counts
        value = value[0] if value else None
    return value


def req_str(params: Mapping[str, Any], name: str, *alternatives: str) -> str:
    """A required string field (``alternatives`` are older names, e.g. ``run_uuid``)."""
    for key in (name, *alternatives):
        value = _scalar(params, key)
        if value not in (None, ""):
            if not isinstance(value, str):
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise InvalidParameter(
                        f"Invalid value {value!r} for parameter '{key}' supplied: expected a string"
                    )
                value = str(value)
            return value
    raise _missing(name)


def opt_str(params: Mapping[str, Any], name: str) -> str | None:
    value = _scalar(params, name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidParameter(f"Invalid value {value!r} for parameter '{name}' supplied: expected a string")
    return value


def opt_int(params: Mapping[str, Any], name: str) -> int | None:
    """An int64 field (MLflow's protos): a wider number is refused, not handed to the store."""
    value = _scalar(params, name)
    if value is None or value == "":
        return None
    number: int | None = None
    if isinstance(value, bool):
        pass
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str):
        try:
            number = int(value.strip())
        except ValueError:
            pass
    if number is None:
        raise InvalidParameter(f"Invalid value {value!r} for parameter '{name}' supplied: expected an integer")
    if not -_INT64 <= number < _INT64:
        raise InvalidParameter(f"Invalid value {value!r} for parameter '{name}' supplied: it does not fit in 64 bits")
    return number


def opt_list(params: Mapping[str, Any], name: str) -> list[Any]:
    value = params.get(name)
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def parse_double(value: Any, name: str) -> float:
    if isinstance(value, bool):
        raise InvalidParameter(f"Invalid value {value!r} for parameter '{name}' supplied: expected a number")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        if value in _NON_FINITE:
            return _NON_FINITE[value]
        try:
            return float(value)
        except ValueError:
            pass
    if value is None:
        raise _missing(name)
    raise InvalidParameter(f"Invalid value {value!r} for parameter '{name}' supplied: expected a number")


def tags_of(params: Mapping[str, Any], name: str = "tags") -> list[tuple[str, str]]:
    """``[{"key": k, "value": v}, ...]`` as pairs; a missing value is the empty string."""
    out = []
    for item in opt_list(params, name):
        if not isinstance(item, dict):
            raise InvalidParameter(f"Invalid value {item!r} in '{name}': expected {{'key': ..., 'value': ...}}")
        key = item.get("key")
        if key is None:
            raise _missing(f"{name}.key")
        value = item.get("value", "")
        out.append((key, "" if value is None else value))
    return out


def view_type_of(params: Mapping[str, Any], name: str) -> ViewType:
    value = _scalar(params, name)
    if value in (None, ""):
        return ViewType.ACTIVE_ONLY
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        value = _VIEW_TYPE_BY_NUMBER.get(value, value)
    try:
        return ViewType(value)
    except ValueError:
        raise InvalidParameter(
            f"Invalid value {value!r} for parameter '{name}': use ACTIVE_ONLY, DELETED_ONLY or ALL"
        ) from None


def run_status_of(value: Any) -> str | None:
    if value in (None, ""):
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        value = _RUN_STATUS_BY_NUMBER.get(value, value)
    try:
        return RunStatus(value).value
    except ValueError:
        raise InvalidParameter(
            f"Invalid value {value!r} for parameter 'status': use one of {[s.value for s in RunStatus]}"
        ) from None
