"""The opt-in for loading pickled models.

Unpickling a file runs whatever code its author put in it, so a model whose flavor reads a
pickle (scikit-learn's pickle and cloudpickle formats, a ``PythonModel``, an eager PyTorch
module) loads only when the caller says it trusts the files: ``stead.load_model(...,
trust=True)``, ``stead serve --trust-pickle``, or ``trust_pickle`` in the settings
(``STEAD_TRUST_PICKLE=1``). Formats that run no code (skops with its default types, the
NumPy reader of linear models, XGBoost, ONNX, TorchScript) need no opt-in.

The opt-in travels to the flavor as ``model_config`` key ``stead.trust_pickle`` from the
caller only: ``stead.*`` keys in an MLmodel file's own ``model_config`` are dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stead.errors import UntrustedModel

__all__ = ["TRUST_KEY", "trusted", "require_trust"]

TRUST_KEY = "stead.trust_pickle"


def trusted(config: Mapping[str, Any] | None) -> bool:
    """Whether the caller opted in to unpickling this model's files."""
    return (config or {}).get(TRUST_KEY) is True


def require_trust(config: Mapping[str, Any] | None, path: Path, what: str) -> None:
    """Raise ``UntrustedModel`` naming ``path`` unless the caller opted in."""
    if trusted(config):
        return
    raise UntrustedModel(
        f"{path} is {what}: loading it runs code from the file, so stead loads it only if you trust "
        "whoever wrote it. Opt in with stead.load_model(..., trust=True), stead serve --trust-pickle, "
        "or STEAD_TRUST_PICKLE=1 (trust_pickle = true in stead.toml); see docs/models.md, 'Trusting model files'"
    )
