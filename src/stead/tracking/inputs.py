"""Dataset inputs of runs: ``data:/name@version`` references, resolved to records."""

from __future__ import annotations

import re

from stead.errors import InvalidParameter
from stead.tracking.records import RunInput

__all__ = ["parse_data_uri", "resolve_input"]

_DATA_URI = re.compile(r"^data:/(?P<name>[A-Za-z0-9][\w.\-]{0,199})@(?P<version>\d+|latest)$")


def parse_data_uri(uri: str) -> tuple[str, str]:
    """(name, version) of ``data:/customers@4`` or ``data:/customers@latest``."""
    match = _DATA_URI.match(uri or "")
    if not match:
        raise InvalidParameter(
            f"Invalid dataset reference {uri!r}: write data:/<name>@<version>, e.g. data:/customers@4"
        )
    return match["name"], match["version"]


def resolve_input(uri: str, context: str = "training") -> RunInput:
    name, version = parse_data_uri(uri)
    return RunInput(name=name, source_type="stead-dataset", source=uri, context=context, uri=uri, digest=version)
