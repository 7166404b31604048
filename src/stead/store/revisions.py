"""The revision graph of the shipped migrations, read with the standard library alone.

Opening a store asks first whether its stamped revisions already imply every migration this
stead ships; when they do (the usual case), neither Alembic nor, on the ``stead data add``
fast path (``stead.data.lite``), SQLAlchemy is imported. Each migration file names its
``revision``, ``down_revision`` and ``depends_on`` on one line each, as Alembic's template
(``migrations/script.py.mako``) writes them; those lines are all that is read.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

__all__ = ["MIGRATIONS", "revision_graph", "implies_all"]

MIGRATIONS = Path(__file__).with_name("migrations")
_FIELD = re.compile(r"^(revision|down_revision|depends_on)\s*=\s*(.+?)\s*$", re.M)


@lru_cache(maxsize=1)
def revision_graph() -> Mapping[str, tuple[str, ...]]:
    """revision -> the revisions it needs (its ``down_revision`` and ``depends_on``).

    Raises ``ValueError`` for a migration file whose header is not the template's.
    """
    graph: dict[str, tuple[str, ...]] = {}
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        if path.name.startswith("_"):
            continue
        fields = {key: _literal(path, value) for key, value in _FIELD.findall(path.read_text())}
        revision = fields.get("revision")
        if not isinstance(revision, str):
            raise ValueError(f"Migration {path.name} names no revision")
        needs: list[str] = []
        for key in ("down_revision", "depends_on"):
            value = fields.get(key)
            if isinstance(value, str):
                needs.append(value)
            elif isinstance(value, (tuple, list)):
                needs.extend(str(v) for v in value)
        graph[revision] = tuple(needs)
    return graph


def _literal(path: Path, text: str) -> object:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError) as exc:
        raise ValueError(f"Migration {path.name}: cannot read {text!r}") from exc


def implies_all(stamped: Iterable[str]) -> bool:
    """True when the ``stamped`` revisions imply every shipped one: Alembic stamps only the
    newest of a chain, and a branch that depends on another implies that one too.

    False also for a revision this stead does not know, and when the migration files cannot
    be read: the caller then takes the full path through Alembic, which explains.
    """
    try:
        graph = revision_graph()
    except (OSError, ValueError):
        return False
    todo = list(stamped)
    if not todo or not set(todo) <= graph.keys():
        return False
    seen: set[str] = set()
    while todo:
        rev = todo.pop()
        if rev not in seen:
            seen.add(rev)
            todo.extend(graph.get(rev, ()))
    return seen == graph.keys()
