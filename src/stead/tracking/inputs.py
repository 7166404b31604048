"""Dataset inputs of runs: ``data:/name@version`` references, resolved to records."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from stead.errors import InvalidParameter
from stead.tracking.records import RunInput

if TYPE_CHECKING:
    from stead.config import Settings

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


def resolve_input(uri: str, context: str = "training", settings: "Settings | None" = None) -> RunInput:
    """The dataset version ``uri`` names, pinned: ``@latest`` becomes its number, and the
    digest is the version's manifest hash, so the run names exactly the data it used."""
    from stead.data import get_version

    parse_data_uri(uri)
    version = get_version(uri, settings=settings)
    return RunInput(
        name=version.name,
        digest=version.manifest_hash[:64],
        source_type="stead-dataset",
        source=version.path,
        profile=json.dumps(version.profile) if version.profile else None,
        context=context,
        uri=version.uri,
    )
