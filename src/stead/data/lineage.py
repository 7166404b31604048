"""Lineage between runs and dataset versions: a run records the versions it used.

Data versioning sits above tracking: tracking's runs take any dataset input (a
``RunInput``, as MLflow's do) and know nothing of stead's data sets, while this module
turns a ``data:/name@version`` reference into a pinned input and hands it to the active run
of ``stead.start_run``. ``stead.log_input`` and ``stead.data.get`` inside a run come here.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from stead.errors import InvalidParameter
from stead.tracking import fluent
from stead.tracking.records import RunInput

if TYPE_CHECKING:
    from stead.config import Settings

__all__ = ["parse_data_uri", "resolve_input", "log_input", "active_run_id"]

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
    from stead.config import load_settings
    from stead.data import service
    from stead.data.records import parse_ref
    from stead.store import open_store

    parse_data_uri(uri)
    name, number = parse_ref(uri)
    store = open_store((settings or load_settings()).resolved_store_url)
    try:
        version = service.get_version(store, name, number)
    finally:
        store.dispose()
    return RunInput(
        name=version.name,
        digest=version.manifest_hash[:64],
        source_type="stead-dataset",
        source=version.path,
        profile=json.dumps(version.profile) if version.profile else None,
        context=context,
        uri=version.uri,
    )


def log_input(uri: str, context: str = "training") -> None:
    """Record that the active run used a dataset version (``data:/name@version``)."""
    run = fluent.require_active_run()
    run.client.log_inputs(run.run_id, [resolve_input(uri, context, run.client.settings)])


def active_run_id() -> str | None:
    """The run of ``stead.start_run`` active in this thread, if any: the run that makes a
    version, and the one a ``stead.data.get`` is an input of."""
    run = fluent.active_run()
    return run.run_id if run is not None else None
