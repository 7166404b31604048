"""Deployments: a named endpoint with variants (primary, canary, A/B arms, shadows, or the
two colors of a blue-green deployment).

``Deployments(store, registry)`` is the service the CLI and the model server use. Records are
plain dataclasses; weights are integers that the router normalises (percentages by habit).
Moving traffic between versions (``promote``, ``rollback``, ``switch``) is in
``stead.serving.promotion``, gated on what the model servers report (``stead.serving.health``).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace
from typing import Any

from stead.errors import AlreadyExists, InvalidParameter, NotFound
from stead.serving import promotion
from stead.serving.promotion import Move

__all__ = ["Variant", "Deployment", "Deployments", "parse_model_ref", "STRATEGIES", "BLUE_GREEN"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
CANARY, BLUE_GREEN = "canary", "blue-green"
STRATEGIES = (CANARY, BLUE_GREEN)


@dataclass(frozen=True)
class Variant:
    """One arm: ``model`` is a registry reference (``churn@production``, ``churn/3``)."""

    name: str
    model: str
    weight: int
    shadow: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "model": self.model, "weight": self.weight, "shadow": self.shadow}

    def model_ref(self) -> tuple[str, str | None, str | None]:
        """``model`` read as (name, version, alias); see ``parse_model_ref``."""
        return parse_model_ref(self.model)


@dataclass(frozen=True)
class Deployment:
    name: str
    variants: tuple[Variant, ...]
    sticky_header: str | None = None
    description: str = ""
    created_at: int = 0
    updated_at: int = 0
    strategy: str = CANARY

    def variant(self, name: str) -> Variant:
        for v in self.variants:
            if v.name == name:
                return v
        raise NotFound(f"Deployment {self.name!r} has no variant {name!r}; it has "
                       f"{', '.join(v.name for v in self.variants)}")

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "strategy": self.strategy, "sticky_header": self.sticky_header,
                "description": self.description, "created_at": self.created_at, "updated_at": self.updated_at,
                "variants": [v.to_dict() for v in self.variants]}

    @property
    def blue_green(self) -> bool:
        """Whether traffic moves by switching colors (``stead deploy switch``) rather than by promotion."""
        return self.strategy == BLUE_GREEN

    def primary(self) -> Variant:
        """The variant whose alias a promotion moves: the first one that is not a shadow."""
        return next(v for v in self.variants if not v.shadow)


def parse_model_ref(ref: str) -> tuple[str, str | None, str | None]:
    """``churn@production`` -> (churn, None, production); ``churn/3`` -> (churn, "3", None)."""
    from stead.registry.client import split_name_ref

    name, version, alias = split_name_ref(ref)
    if not name or (version is None and alias is None):
        raise InvalidParameter(f"Model reference {ref!r} must be NAME@ALIAS or NAME/VERSION (e.g. churn@production)")
    return name, version, alias


def _check(name: str, what: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidParameter(f"{what} {name!r} must be 1-64 letters, digits, '.', '_' or '-'")
    return name


def _check_variants(variants: tuple[Variant, ...], strategy: str = CANARY) -> None:
    names = [v.name for v in variants]
    if len(set(names)) != len(names):
        raise InvalidParameter(f"Variant names must be unique: {names}")
    for v in variants:
        _check(v.name, "Variant name")
        parse_model_ref(v.model)
        if not 0 <= v.weight <= 100:
            raise InvalidParameter(f"Variant {v.name!r} weight {v.weight} must be between 0 and 100")
    live = [v for v in variants if not v.shadow]
    if not live:
        raise InvalidParameter("A deployment needs at least one variant that is not a shadow")
    total = sum(v.weight for v in live)
    if total != 100:
        raise InvalidParameter(f"The weights of the live variants add up to {total}; they must add up to 100 "
                               f"({', '.join(f'{v.name}={v.weight}' for v in live)})")
    if strategy not in STRATEGIES:
        raise InvalidParameter(f"Strategy {strategy!r} is not one of {', '.join(STRATEGIES)}")
    if strategy == BLUE_GREEN and (len(live) != 2 or sorted(v.weight for v in live) != [0, 100]):
        raise InvalidParameter("A blue-green deployment has two colors, one with all traffic and one idle "
                               f"(weights 100 and 0), not {', '.join(f'{v.name}={v.weight}' for v in live)}; "
                               "move traffic between them with stead deploy switch")


class Deployments:
    """Create, read, change and delete deployments in the metadata store."""

    def __init__(self, store: Any, registry: Any = None) -> None:
        from stead.serving import tables  # noqa: F401 - registers the tables on the metadata

        self.store = store
        self.registry = registry

    def create(self, name: str, variants: list[Variant], *, sticky_header: str | None = None,
               description: str = "", strategy: str = CANARY) -> Deployment:
        from sqlalchemy.exc import IntegrityError

        from stead.serving.tables import deployment_variants as dv
        from stead.serving.tables import deployments as d

        _check(name, "Deployment name")
        vs = tuple(variants)
        _check_variants(vs, strategy)
        if self.registry is not None:
            for v in vs:
                self.registry.get_version(v.model)  # NotFound now rather than at serve time
        now = int(time.time() * 1000)
        try:
            with self.store.write() as conn:
                conn.execute(d.insert().values(name=name, sticky_header=sticky_header, description=description,
                                               created_at=now, updated_at=now, strategy=strategy))
                conn.execute(dv.insert(), [{"deployment": name, "variant": v.name, "model": v.model,
                                            "weight": v.weight, "shadow": int(v.shadow), "position": i}
                                           for i, v in enumerate(vs)])
        except IntegrityError:
            raise AlreadyExists(f"Deployment {name!r} already exists; change it with stead deploy set-traffic "
                                f"or remove it with stead deploy delete {name}") from None
        return self.get(name)

    def get(self, name: str) -> Deployment:
        from stead.serving.tables import deployment_variants as dv
        from stead.serving.tables import deployments as d

        with self.store.read() as conn:
            row = conn.execute(d.select().where(d.c.name == name)).mappings().first()
            if row is None:
                raise NotFound(f"Deployment {name!r} does not exist; list them with stead deploy list")
            vrows = conn.execute(dv.select().where(dv.c.deployment == name).order_by(dv.c.position)).mappings().all()
        return Deployment(row["name"], tuple(Variant(r["variant"], r["model"], int(r["weight"]), bool(r["shadow"]))
                                             for r in vrows),
                          row["sticky_header"], row["description"], int(row["created_at"]), int(row["updated_at"]),
                          row["strategy"])

    def list(self) -> list[Deployment]:
        from stead.serving.tables import deployments as d

        with self.store.read() as conn:
            names = [r[0] for r in conn.execute(d.select().with_only_columns(d.c.name).order_by(d.c.name))]
        return [self.get(n) for n in names]

    def delete(self, name: str) -> None:
        from stead.serving.tables import deployment_health as h
        from stead.serving.tables import deployment_variants as dv
        from stead.serving.tables import deployments as d

        with self.store.write() as conn:
            conn.execute(dv.delete().where(dv.c.deployment == name))
            conn.execute(h.delete().where(h.c.deployment == name))
            if conn.execute(d.delete().where(d.c.name == name)).rowcount == 0:
                raise NotFound(f"Deployment {name!r} does not exist")

    def save_variants(self, dep: Deployment, variants: tuple[Variant, ...]) -> Deployment:
        """Store ``variants`` as all of ``dep``'s variants (checked first), in one transaction."""
        from stead.serving.tables import deployment_variants as dv
        from stead.serving.tables import deployments as d

        _check_variants(variants, dep.strategy)
        with self.store.write() as conn:
            conn.execute(dv.delete().where(dv.c.deployment == dep.name))
            conn.execute(dv.insert(), [{"deployment": dep.name, "variant": v.name, "model": v.model,
                                        "weight": v.weight, "shadow": int(v.shadow), "position": i}
                                       for i, v in enumerate(variants)])
            conn.execute(d.update().where(d.c.name == dep.name).values(updated_at=int(time.time() * 1000)))
        return self.get(dep.name)

    def set_traffic(self, name: str, weights: dict[str, int]) -> Deployment:
        """Set the weights of the named variants (the others keep theirs); they must add up to 100."""
        dep = self.get(name)
        for v in weights:
            dep.variant(v)
        return self.save_variants(dep, tuple(replace(v, weight=weights.get(v.name, v.weight)) for v in dep.variants))

    def set_model(self, name: str, variant: str, model: str) -> Deployment:
        """Point ``variant`` at another model reference (servers load it beside the old one)."""
        dep = self.get(name)
        dep.variant(variant)
        parse_model_ref(model)
        if self.registry is not None:
            self.registry.get_version(model)
        return self.save_variants(dep, tuple(replace(v, model=model) if v.name == variant else v for v in dep.variants))

    def promote(self, name: str, variant: str | None = None, *, reason: str = "", force: bool = False) -> Move:
        """See ``stead.serving.promotion.promote``."""
        return promotion.promote(self, name, variant, reason=reason, force=force)

    def rollback(self, name: str, *, reason: str = "", force: bool = False) -> Move:
        """See ``stead.serving.promotion.rollback``."""
        return promotion.rollback(self, name, reason=reason, force=force)

    def switch(self, name: str, to: str | None = None, *, force: bool = False) -> Move:
        """See ``stead.serving.promotion.switch``."""
        return promotion.switch(self, name, to, force=force)
