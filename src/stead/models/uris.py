"""Where a model is: a local directory, ``runs:/<run_id>/<path>``, or ``models:/...``.

``runs:/`` models are copied from the run's artifact store into a private temp directory (mode 0o700). ``models:/``
URIs are turned into another URI by a resolver the registry registers with
``register_resolver("models", fn)``; until it does, they fail with a clear message.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from stead.errors import InvalidParameter, NotFound
from stead.models.paths import private_tempdir

if TYPE_CHECKING:
    from stead.tracking.client import TrackingClient

__all__ = ["Resolved", "register_resolver", "resolve"]

_RUN_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_RESOLVERS: dict[str, Callable[[str], str]] = {}
_MAX_HOPS = 4


@dataclass
class Resolved:
    """A local model directory; ``temporary`` ones are deleted by ``cleanup()``."""

    path: Path
    temporary: bool = False

    def cleanup(self) -> None:
        if self.temporary:
            shutil.rmtree(self.path, ignore_errors=True)


def register_resolver(scheme: str, resolver: Callable[[str], str]) -> None:
    """Let ``scheme:/...`` URIs resolve: ``resolver(uri)`` returns a ``runs:/`` URI or a path."""
    _RESOLVERS[scheme] = resolver


def _run_uri(uri: str, client: "TrackingClient | None") -> Resolved:
    from stead.artifacts.paths import normalize_object_path

    rest = uri[len("runs:/"):].lstrip("/")
    run_id, _, artifact = rest.partition("/")
    if not _RUN_ID.match(run_id) or not artifact:
        raise InvalidParameter(f"Model URI {uri!r} must look like runs:/<run_id>/<artifact path>")
    artifact = normalize_object_path(artifact)
    if client is None:
        from stead.tracking.fluent import get_client

        client = get_client()
    store = client.run_artifacts(run_id)
    if not store.exists(f"{artifact}/MLmodel"):
        raise NotFound(f"Run {run_id} has no model directory {artifact!r} (no {artifact}/MLmodel)")
    tmp = private_tempdir("stead-model-")
    try:
        store.get_dir(artifact, tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Resolved(tmp, temporary=True)


def _registry_uri(uri: str, client: "TrackingClient | None") -> Resolved:
    """``models:/name/3`` or ``models:/name@alias``: the registry says where the files are."""
    from stead.registry.download import download_model

    tmp = private_tempdir("stead-model-")
    try:
        download_model(uri, tmp, client)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Resolved(tmp, temporary=True)


def resolve(uri: str | Path, *, client: "TrackingClient | None" = None) -> Resolved:
    """A local directory holding the model named by ``uri``."""
    for _ in range(_MAX_HOPS):
        if isinstance(uri, Path):
            break
        if not isinstance(uri, str) or not uri:
            raise InvalidParameter(f"Model URI must be a non-empty string, got {uri!r}")
        if uri.startswith("runs:/"):
            return _run_uri(uri, client)
        if uri.startswith("file://"):
            uri = Path(uri[len("file://"):])
            break
        scheme, sep, _ = uri.partition(":/")
        if sep and re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]+", scheme):
            if scheme in _RESOLVERS:
                uri = _RESOLVERS[scheme](uri)
                continue
            if scheme == "models":
                return _registry_uri(uri, client)
            raise InvalidParameter(f"Model URI scheme {scheme!r} is not supported; use a path, runs:/ or models:/")
        uri = Path(uri)
        break
    else:
        raise InvalidParameter("Model URI resolves through too many hops")
    path = Path(uri).expanduser()
    if not path.is_dir():
        raise NotFound(f"No model directory at {path}")
    return Resolved(path)
