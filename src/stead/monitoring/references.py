"""Reference statistics per model version, kept in the metadata store.

A model version is checked against the data it was trained on, read once: its statistics
(``stead.monitoring.reference``) are computed from a dataset version, a file or a table and
stored in ``reference_stats``, one row per version. The features are the model signature's
input columns when the version has a signature (else every column), plus the prediction
column when the data has one.

When the version's run recorded the dataset version it trained on (``stead.data.get`` or
``stead.log_input`` inside the run; the registry copies the run's inputs onto the version),
``ensure`` computes the statistics from that dataset on first need and stores them: the
first ``stead monitor drift --reference churn@3`` or ``stead monitor reference churn@3``
(no ``--data``) after registering. The registry knows nothing of monitoring.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

from stead.errors import InvalidParameter, NotFound
from stead.monitoring.reference import ReferenceStats, compute_reference
from stead.monitoring.sources import Source, open_data
from stead.monitoring.tables import reference_stats
from stead.store.engine import Store
from stead.store.upsert import upsert

if TYPE_CHECKING:
    from stead.config import Settings
    from stead.registry.records import ModelVersion

__all__ = ["StoredReference", "model_uri", "resolve_version", "signature_features", "training_dataset",
           "compute_and_store", "get", "find", "ensure", "missing", "remove", "drift_reference"]

_T = reference_stats
_SHORT_VERSION = re.compile(r"^(?P<name>[^/@]+)@(?P<version>\d+)$")
_UPDATE = ("source", "source_kind", "prediction", "row_count", "stats", "user_id", "created_at")


@dataclass(frozen=True)
class StoredReference:
    """The reference statistics of model version ``model``/``version`` and where they came from
    (``source``: ``data:/customers@4``, a file name or ``table``)."""

    model: str
    version: int
    source: str
    source_kind: str
    prediction: str | None
    rows: int
    stats: ReferenceStats
    user_id: str
    created_at: int

    @property
    def ref(self) -> str:
        return f"{self.model}@{self.version}"

    def summary(self) -> dict[str, Any]:
        return {"model": self.model, "version": self.version, "source": self.source,
                "source_kind": self.source_kind, "prediction": self.prediction, "rows": self.rows,
                "features": self.stats.features, "skipped": list(self.stats.skipped),
                "user_id": self.user_id, "created_at": self.created_at}


def model_uri(ref: str) -> str:
    """The ``models:/`` URI of ``churn@3`` (version 3), ``churn@production`` (an alias),
    ``churn/3`` or a ``models:/`` URI itself."""
    from stead.registry.uris import parse_model_uri

    if not isinstance(ref, str) or not ref.strip():
        raise InvalidParameter("Name a model version, e.g. churn@3, churn@production or models:/churn/3")
    ref = ref.strip()
    if not ref.startswith("models:/"):
        short = _SHORT_VERSION.match(ref)
        ref = f"models:/{short['name']}/{short['version']}" if short else f"models:/{ref}"
    parse_model_uri(ref)  # a clear message for a malformed reference
    return ref


def resolve_version(registry: Any, ref: str) -> "ModelVersion":
    """The version ``ref`` names (aliases resolved by ``registry``, which has ``resolve(uri)``:
    a ``RegistryClient`` or the ``Registry`` service)."""
    uri = model_uri(ref)
    return registry.resolve(uri)  # type: ignore[no-any-return]


def signature_features(signature: Mapping[str, Any] | None) -> list[str] | None:
    """The named input columns of a version's signature; None without named columns."""
    inputs = (signature or {}).get("inputs")
    if isinstance(inputs, str):  # the MLmodel spelling: a JSON string
        try:
            inputs = json.loads(inputs)
        except ValueError:
            return None
    if not isinstance(inputs, list):
        return None
    names = [c.get("name") for c in inputs if isinstance(c, dict)]
    if not names or not all(isinstance(n, str) and n for n in names):
        return None
    return [str(n) for n in names]


def _output_names(signature: Mapping[str, Any] | None) -> list[str]:
    outputs = (signature or {}).get("outputs")
    if isinstance(outputs, str):
        try:
            outputs = json.loads(outputs)
        except ValueError:
            return []
    if not isinstance(outputs, list):
        return []
    return [str(c["name"]) for c in outputs if isinstance(c, dict) and isinstance(c.get("name"), str)]


def training_dataset(version: "ModelVersion") -> str | None:
    """The dataset version (``data:/customers@4``) the version's run trained on, from the
    run's inputs the registry copied onto the version: a ``training`` input first."""
    found = [d for d in version.datasets if str(d.get("uri") or "").startswith("data:/")]
    training = [d for d in found if (d.get("context") or "training") == "training"]
    chosen = (training or found or [None])[0]
    return None if chosen is None else str(chosen["uri"])


def compute_and_store(store: Store, name: str, version: int, data: Any, *,
                      signature: Mapping[str, Any] | None = None, prediction: str | None = None,
                      settings: "Settings | None" = None, user_id: str = "",
                      multivariate: bool = True) -> StoredReference:
    """Compute the reference statistics of model version ``name``/``version`` from ``data``
    (``data:/customers@4``, a Parquet or CSV path, a table) and store them, replacing any.

    The features are ``signature``'s input columns when it names them, else every column;
    ``prediction`` (default: the signature's output column or ``prediction``, when the data
    has it) is measured as the model's output. Nothing is stored if the data cannot be read."""
    from stead.monitoring.columns import open_columns

    source = open_data(data, settings=settings)
    cols = open_columns(source.data)
    features = signature_features(signature)
    if features is not None:
        missing = [f for f in features if f not in cols.names]
        if missing:
            raise InvalidParameter(
                f"{source.label} lacks the column(s) {', '.join(missing)} that model {name}/{version} takes "
                f"(its signature); it has: {', '.join(cols.names[:20])}. Pass the data the model was trained on")
    if prediction is None:
        prediction = next((c for c in [*_output_names(signature), "prediction"] if c in cols.names), None)
    elif prediction not in cols.names:
        raise InvalidParameter(f"{source.label} has no column {prediction!r} (the prediction); it has: "
                               f"{', '.join(cols.names[:20])}")
    columns = None if features is None else [f for f in features if f != prediction]
    stats = compute_reference(cols, prediction=prediction, columns=columns, multivariate=multivariate)
    return _save(store, name, int(version), stats, source, user_id)


def _save(store: Store, name: str, version: int, stats: ReferenceStats, source: Source,
          user_id: str) -> StoredReference:
    row = {"model_name": name, "model_version": version, "source": source.label, "source_kind": source.kind,
           "prediction": stats.prediction, "row_count": stats.rows,
           "stats": json.dumps(stats.to_json(), allow_nan=False), "user_id": user_id or "",
           "created_at": int(time.time() * 1000)}
    with store.write() as conn:
        upsert(conn, _T, [row], keys=("model_name", "model_version"), update=_UPDATE)
    return _record(row)


def _record(row: Mapping[str, Any]) -> StoredReference:
    return StoredReference(model=row["model_name"], version=int(row["model_version"]), source=row["source"],
                           source_kind=row["source_kind"], prediction=row["prediction"],
                           rows=int(row["row_count"]), stats=ReferenceStats.from_json(json.loads(row["stats"])),
                           user_id=row["user_id"] or "", created_at=int(row["created_at"]))


def find(store: Store, name: str, version: int) -> StoredReference | None:
    """The stored reference statistics of ``name``/``version``, or None."""
    with store.read() as conn:
        row = conn.execute(select(_T).where(_T.c.model_name == name, _T.c.model_version == int(version))).first()
    return None if row is None else _record(row._mapping)


def get(store: Store, name: str, version: int, *, data_hint: str | None = None) -> StoredReference:
    """The stored reference statistics of ``name``/``version``; NotFound says how to make them."""
    found = find(store, name, version)
    if found is None:
        raise missing(name, version, data_hint=data_hint)
    return found


def missing(name: str, version: int, *, data_hint: str | None = None) -> NotFound:
    """The error for a version without reference statistics: it says how to make them."""
    data = data_hint or "data:/<dataset>@<version>"
    return NotFound(f"Model version {name}/{version} has no reference statistics; compute them from the data "
                    f"it was trained on: stead monitor reference {name}@{version} --data {data} "
                    "(a dataset version or a Parquet/CSV file)")


def ensure(store: Store, version: "ModelVersion", *, settings: "Settings | None" = None,
           user_id: str = "") -> StoredReference:
    """The version's reference statistics: stored ones, else computed now from the dataset
    version its run trained on (and stored); NotFound says how to make them otherwise."""
    found = find(store, version.name, version.version)
    if found is not None:
        return found
    dataset = training_dataset(version)
    if dataset is None:
        raise missing(version.name, version.version)
    return compute_and_store(store, version.name, version.version, dataset, signature=version.signature,
                             settings=settings, user_id=user_id)


def remove(store: Store, name: str, version: int) -> bool:
    """Delete the stored statistics of ``name``/``version``; whether there were any."""
    with store.write() as conn:
        done = conn.execute(delete(_T).where(_T.c.model_name == name, _T.c.model_version == int(version)))
    return bool(done.rowcount)


_MODEL_LIKE = re.compile(r"^(?:[^/\\@]+@[^/\\@]+|[^/\\@]+/\d+)$")


def drift_reference(spec: str, *, store: Store, registry: Any, settings: "Settings | None" = None,
                    prediction: str | None = None) -> tuple[ReferenceStats, str]:
    """What ``stead monitor drift --reference`` names, as statistics and a label: a model
    version (``churn@3``, ``churn@production``, ``models:/churn/3``: its stored statistics,
    computed from its training dataset on first need), a dataset version (``data:/customers@4``)
    or a Parquet/CSV file (statistics computed now, not stored)."""
    import os

    from stead.monitoring.columns import open_columns

    if spec.startswith("models:/") or (_MODEL_LIKE.match(spec) and not os.path.exists(spec)):
        version = resolve_version(registry, spec)
        stored = ensure(store, version, settings=settings)
        return stored.stats, f"{version.name}/{version.version} ({stored.source})"
    source = open_data(spec, settings=settings)
    cols = open_columns(source.data)
    if prediction is not None and prediction not in cols.names:
        raise InvalidParameter(f"{source.label} has no column {prediction!r} (the prediction)")
    if prediction is None and "prediction" in cols.names:
        prediction = "prediction"
    return compute_reference(cols, prediction=prediction), source.label
