"""Registry records <-> MLflow's JSON shapes (version numbers as strings, tags and aliases
as lists), used by the server routes and read back by the REST client."""

from __future__ import annotations

from typing import Any

from stead.registry.records import AliasEvent, ModelVersion, RegisteredModel
from stead.wire.fields import key_values_from_json, key_values_json

__all__ = [
    "model_version_json",
    "registered_model_json",
    "alias_event_json",
    "model_version_from_json",
    "registered_model_from_json",
    "alias_event_from_json",
]


def model_version_json(mv: ModelVersion, *, stead_fields: bool = True) -> dict[str, Any]:
    """MLflow's ModelVersion message; unset fields and empty lists are left out as MLflow does.
    ``stead_fields`` adds the provenance MLflow has no field for, under ``stead``."""
    out: dict[str, Any] = {
        "name": mv.name,
        "version": str(mv.version),
        "creation_timestamp": mv.creation_timestamp,
        "last_updated_timestamp": mv.last_updated_timestamp,
        "current_stage": mv.current_stage,
        "description": mv.description or "",  # MLflow's server always sends these two
        "source": mv.source,
        "status": mv.status,
        "run_link": mv.run_link or "",
    }
    if mv.user_id:
        out["user_id"] = mv.user_id
    if mv.run_id:
        out["run_id"] = mv.run_id
    if mv.status_message:
        out["status_message"] = mv.status_message
    if mv.tags:
        out["tags"] = key_values_json(mv.tags)
    if mv.aliases:
        out["aliases"] = list(mv.aliases)
    if mv.logged_model_id:
        out["model_id"] = mv.logged_model_id
    if stead_fields:
        out["stead"] = {
            "storage_location": mv.storage_location,
            "signature": mv.signature,
            "flavors": list(mv.flavors),
            "metrics": mv.metrics,
            "datasets": list(mv.datasets),
            "git_commit": mv.git_commit,
        }
    return out


def registered_model_json(rm: RegisteredModel) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": rm.name,
        "creation_timestamp": rm.creation_timestamp,
        "last_updated_timestamp": rm.last_updated_timestamp,
    }
    if rm.description:
        out["description"] = rm.description
    if rm.latest_versions:
        out["latest_versions"] = [model_version_json(mv, stead_fields=False) for mv in rm.latest_versions]
    if rm.tags:
        out["tags"] = key_values_json(rm.tags)
    if rm.aliases:
        out["aliases"] = [{"alias": a, "version": str(v)} for a, v in rm.aliases.items()]
    return out


def alias_event_json(e: AliasEvent) -> dict[str, Any]:
    return {
        "id": e.id, "name": e.name, "alias": e.alias, "action": e.action,
        "from_version": None if e.from_version is None else str(e.from_version),
        "to_version": None if e.to_version is None else str(e.to_version),
        "user_id": e.user_id, "reason": e.reason, "timestamp": e.timestamp,
    }


def model_version_from_json(d: dict[str, Any]) -> ModelVersion:
    extra = d.get("stead") or {}
    return ModelVersion(
        name=d["name"],
        version=int(d["version"]),
        creation_timestamp=int(d.get("creation_timestamp", 0)),
        last_updated_timestamp=int(d.get("last_updated_timestamp", 0)),
        source=d.get("source", ""),
        storage_location=extra.get("storage_location") or d.get("source", ""),
        run_id=d.get("run_id") or None,
        run_link=d.get("run_link") or None,
        user_id=d.get("user_id", ""),
        current_stage=d.get("current_stage", "None"),
        description=d.get("description", ""),
        status=d.get("status", "READY"),
        status_message=d.get("status_message", ""),
        tags=key_values_from_json(d.get("tags")),
        aliases=tuple(d.get("aliases") or ()),
        logged_model_id=d.get("model_id") or None,
        signature=extra.get("signature"),
        flavors=tuple(extra.get("flavors") or ()),
        metrics=dict(extra.get("metrics") or {}),
        datasets=tuple(extra.get("datasets") or ()),
        git_commit=extra.get("git_commit"),
    )


def registered_model_from_json(d: dict[str, Any]) -> RegisteredModel:
    return RegisteredModel(
        name=d["name"],
        creation_timestamp=int(d.get("creation_timestamp", 0)),
        last_updated_timestamp=int(d.get("last_updated_timestamp", 0)),
        description=d.get("description", ""),
        tags=key_values_from_json(d.get("tags")),
        aliases={a["alias"]: int(a["version"]) for a in d.get("aliases") or []},
        latest_versions=tuple(model_version_from_json(v) for v in d.get("latest_versions") or []),
    )


def alias_event_from_json(d: dict[str, Any]) -> AliasEvent:
    def num(v: Any) -> int | None:
        return None if v in (None, "") else int(v)

    return AliasEvent(int(d["id"]), d["name"], d["alias"], d["action"], num(d.get("from_version")),
                      num(d.get("to_version")), d.get("user_id", ""), d.get("reason", ""), int(d["timestamp"]))
