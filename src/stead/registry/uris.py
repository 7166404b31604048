"""Model URIs, read without a store: ``models:/churn/3``, ``models:/churn@production``,
``models:/m-<id>`` (an MLflow 3 logged model).

Parsing only: ``parse_model_uri`` says what a URI names, ``logged_model_id_of`` whether it
names a logged model. Looking the names up is ``stead.registry.resolve``, above the clients.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stead.errors import InvalidParameter
from stead.registry.names import check_model_name

__all__ = ["ModelRef", "parse_model_uri", "logged_model_id_of"]

_MODELS = re.compile(r"^models:/(?P<rest>[^/]+(?:/[^/]+)?)/?$")
_LOGGED_MODEL_ID = re.compile(r"^m-[0-9a-f]{32}$")


@dataclass(frozen=True)
class ModelRef:
    """What a ``models:/`` URI names: one of version, alias or stage (None for latest)."""

    name: str
    version: int | None = None
    alias: str | None = None
    stage: str | None = None


def parse_model_uri(uri: str) -> ModelRef:
    """Parse ``models:/<name>/<version|stage|latest>`` or ``models:/<name>@<alias>``."""
    match = _MODELS.match(uri or "") if isinstance(uri, str) else None
    if not match:
        raise InvalidParameter(
            f"Invalid model URI {uri!r}: write models:/<name>/<version> or models:/<name>@<alias>, "
            "e.g. models:/churn/3 or models:/churn@production"
        )
    rest = match["rest"]
    if "/" in rest:
        name, which = rest.split("/", 1)
        name = check_model_name(name)
        if which.isdigit():
            return ModelRef(name, version=int(which))
        return ModelRef(name, stage=which)
    if "@" in rest:
        name, alias = rest.rsplit("@", 1)
        if not alias:
            raise InvalidParameter(f"Invalid model URI {uri!r}: the alias after '@' is empty")
        return ModelRef(check_model_name(name), alias=alias)
    raise InvalidParameter(
        f"Invalid model URI {uri!r}: name a version or an alias, e.g. models:/{rest}/1 or models:/{rest}@production"
    )


def logged_model_id_of(uri: str) -> str | None:
    """``m-<32 hex>`` of an MLflow 3 logged-model URI ``models:/m-<id>``, else None."""
    if not isinstance(uri, str) or not uri.startswith("models:/"):
        return None
    rest = uri[len("models:/"):].strip("/")
    return rest if _LOGGED_MODEL_ID.match(rest) else None
