"""The walls between stead's packages, drawn from the code's own imports.

Imports point down: ``cli`` and ``server`` use the domain packages, which use ``store``,
``artifacts`` and ``wire``; no domain package imports ``stead.server`` or ``stead.cli``, and no
module imports itself round a circle. Every import counts, inside functions too (a circle
broken only by importing inside a function is still a circle); only ``if TYPE_CHECKING:``
blocks are left out, as they never run. ``from stead.<package> import name`` counts as an
import of the package and, for a lazily exported name (``stead._lazy``), of the module
that defines it.
"""

from __future__ import annotations

import ast
import functools
import importlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import stead

SRC = Path(stead.__file__).parent
ROOT = SRC.parent
# What may not import stead.server, stead.ui or stead.cli: the domain packages and what is below them.
# (serving runs a model server of its own: what both servers share, such as the Host guard, lives below them.)
LOWER = ("tracking", "registry", "models", "data", "pipelines", "serving", "monitoring", "store", "artifacts", "wire")
UPPER = ("stead.server", "stead.cli", "stead.ui")


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    path: Path
    line: int
    text: str

    def where(self) -> str:
        return f"{self.path.relative_to(ROOT.parent)}:{self.line}"


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(SRC.rglob("*.py")):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()
# Every package, those without an ``__init__.py`` too (``stead.cli`` is a namespace package).
PACKAGES = {".".join(p.relative_to(SRC.parent).parts) for p in [SRC, *SRC.rglob("*")] if p.is_dir()}


def _runtime_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement that can run: not the body of an ``if TYPE_CHECKING:``."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _known(name: str) -> str | None:
    """The stead module ``name`` is, or the nearest one above it (``a.b.C`` -> ``a.b``)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _package(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _defining_module(package: str, name: str) -> str | None:
    """The module behind a package's lazily exported ``name``: the package's export map
    (``_LAZY``, what it hands to ``stead._lazy.lazy_exports``), else the ``__module__`` of
    what its own ``__getattr__`` returns; None for a name the package binds itself."""
    module = _package(package)
    if module is None:
        return None
    exports = vars(module).get("_LAZY")
    if isinstance(exports, dict) and name in exports:
        return _known(str(exports[name]))
    if name in vars(module):
        return None
    try:
        value = getattr(module, name)
    except (AttributeError, ImportError):
        return None
    defined_in = getattr(value, "__module__", None)
    return _known(defined_in) if isinstance(defined_in, str) else None


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [t for t in (_known(a.name) for a in node.names) if t]
    base = node.module or ""
    if node.level:
        package = module.split(".")
        if MODULES[module].name != "__init__.py":
            package.pop()
        package = package[: len(package) - (node.level - 1)]
        base = ".".join([*package, base] if base else package)
    if base not in MODULES and base not in PACKAGES:
        known = _known(base)
        return [known] if known else []
    targets = []
    for alias in node.names:
        submodule = f"{base}.{alias.name}"
        if submodule in MODULES:
            targets.append(submodule)
            continue
        if base not in MODULES:
            continue  # a namespace package has nothing to import but its modules
        targets.append(base)
        if MODULES[base].name == "__init__.py" and alias.name != "*":
            defined_in = _defining_module(base, alias.name)
            if defined_in:
                targets.append(defined_in)
    return targets


@functools.lru_cache(maxsize=1)
def _edges() -> tuple[Edge, ...]:
    """Every import of every module (walked on first use, not when the suite is collected)."""
    edges = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(), str(path))
        for node in _runtime_imports(tree):
            for target in dict.fromkeys(_targets(module, node)):
                if target != module:
                    edges.append(Edge(module, target, path, node.lineno, ast.unparse(node)))
    return tuple(edges)


def _graph() -> dict[str, dict[str, Edge]]:
    graph: dict[str, dict[str, Edge]] = {m: {} for m in MODULES}
    for edge in _edges():
        graph[edge.source].setdefault(edge.target, edge)  # the first import of each pair
    return graph


def _cycles(graph: dict[str, dict[str, Edge]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            for nxt in successors:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(sorted(component))
    return components


def _one_circle(graph: dict[str, dict[str, Edge]], component: list[str]) -> list[Edge]:
    """A shortest way round from the component's first module back to itself."""
    members = set(component)
    start = component[0]
    came_by: dict[str, Edge] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target, edge in sorted(graph[node].items()):
                if target == start:
                    path = [edge]
                    while path[0].source != start:
                        path.insert(0, came_by[path[0].source])
                    return path
                if target in members and target not in came_by:
                    came_by[target] = edge
                    following.append(target)
        frontier = following
    raise AssertionError(f"no way round {component}")  # a component always has one


def test_lower_packages_do_not_import_the_server_or_the_cli() -> None:
    lower = tuple(f"stead.{name}" for name in LOWER)
    broken = [
        f"{e.where()}: {e.source} imports {e.target} ({e.text})"
        for e in _edges()
        if (e.source in lower or e.source.startswith(tuple(f"{p}." for p in lower)))
        and (e.target in UPPER or e.target.startswith(tuple(f"{p}." for p in UPPER)))
    ]
    assert not broken, "imports that point up, from below stead.server and stead.cli:\n" + "\n".join(broken)


def test_no_import_cycles() -> None:
    graph = _graph()
    reports = []
    for component in _cycles(graph):
        steps = "\n".join(f"    {e.source} -> {e.target}  ({e.where()}: {e.text})" for e in _one_circle(graph, component))
        reports.append(f"a circle of {len(component)} modules: {', '.join(component)}\n  one way round:\n{steps}")
    assert not reports, "import cycles:\n" + "\n".join(reports)


def test_the_walk_sees_lazy_exports_and_function_level_imports() -> None:
    """The walk itself: a lazily exported name leads to the module that defines it, a
    relative import to its module, and an import inside a function counts while one under
    ``TYPE_CHECKING`` does not."""
    lazy = ast.parse("from stead.data import get_version, lineage").body[0]
    assert _targets("stead.cli.data", lazy) == ["stead.data", "stead.data.api", "stead.data.lineage"]  # type: ignore[arg-type]
    namespace = ast.parse("from stead.cli import main").body[0]
    assert _targets("stead.cli.fast", namespace) == ["stead.cli.main"]  # type: ignore[arg-type]
    relative = ast.parse("from .records import Run").body[0]
    assert _targets("stead.tracking.fluent", relative) == ["stead.tracking.records"]  # type: ignore[arg-type]
    tree = ast.parse("if TYPE_CHECKING:\n    import a\nelse:\n    import b\ndef f():\n    import c\n")
    assert [ast.unparse(n) for n in _runtime_imports(tree)] == ["import b", "import c"]
