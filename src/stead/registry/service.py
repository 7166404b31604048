"""The registry in the metadata store: registered models, versions, aliases, stages.

``Registry(store, artifact_root)`` is the embedded backend: every method checks its input,
runs in one transaction, and raises a ``SteadError`` with one clear line. Every alias
move and deletion is written to the audit log in the same transaction as the move.

It is one service composed of one part per concept: ``RegisteredModels``
(``registered_models.py``), ``ModelVersions`` (``versions.py``), ``Stages`` (``stages.py``)
and ``Aliases`` (``aliases.py``), over the shared row look-ups of ``rows.py``.
"""

from __future__ import annotations

from stead.registry.aliases import Aliases
from stead.registry.registered_models import RegisteredModels
from stead.registry.stages import Stages
from stead.registry.versions import MetaReader, ModelVersions
from stead.store import Store

__all__ = ["Registry"]


class Registry(RegisteredModels, ModelVersions, Stages, Aliases):
    """Registry operations on a metadata store (SQLite or PostgreSQL)."""

    def __init__(self, store: Store, artifact_root: str, read_meta: MetaReader | None = None) -> None:
        """``artifact_root``: sources must lie under it (or be runs:/, mlflow-artifacts:/);
        ``read_meta(location)``: the (flavors, signature) of the model directory there."""
        self.store = store
        self.artifact_root = artifact_root
        self.read_meta = read_meta
