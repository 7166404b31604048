"""Finding a pipeline by reference: ``path/to/file.py:name`` or ``package.module:name``."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

from stead.errors import InvalidParameter, NotFound

__all__ = ["load_pipeline", "source_of"]


def load_pipeline(ref: str) -> Any:
    """The ``Pipeline`` object named by ``ref``; a clear error when it is not one."""
    from stead.pipelines.dsl import Pipeline

    target, sep, name = ref.rpartition(":")
    if not sep or not target or not name:
        raise InvalidParameter(f"Pipeline reference {ref!r} must look like path/to/file.py:name or module:name")
    if target.endswith(".py") or os.sep in target or "/" in target:
        module = _import_file(Path(target))
    else:
        try:
            module = importlib.import_module(target)
        except ModuleNotFoundError as exc:
            raise NotFound(f"Cannot import module {target!r} of pipeline {ref!r}: {exc}") from None
    obj: Any = module
    for part in name.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            raise NotFound(f"{target} has no {name!r}; decorate a function there with @stead.pipeline")
    if not isinstance(obj, Pipeline):
        raise InvalidParameter(f"{ref} is a {type(obj).__name__}, not a @stead.pipeline function")
    return obj


def _import_file(path: Path) -> Any:
    path = path.expanduser().resolve()
    if not path.is_file():
        raise NotFound(f"Pipeline file {path} does not exist")
    for module in list(sys.modules.values()):
        if getattr(module, "__file__", None) == str(path):
            return module
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = path.stem if path.stem not in sys.modules else f"stead_pipeline_{abs(hash(str(path))):x}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise InvalidParameter(f"{path} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def source_of(pipeline: Any) -> str:
    """The reference that loads ``pipeline`` again (for resume, schedules, Kubernetes).

    Top-level modules and ``__main__`` are named by their file, since a later process may
    not have their folder on ``sys.path``; modules inside packages by their dotted name.
    """
    fn = pipeline.fn
    module = sys.modules.get(fn.__module__)
    filename = getattr(module, "__file__", None)
    if filename and "." not in fn.__module__:
        return f"{os.path.abspath(filename)}:{fn.__qualname__}"
    return f"{fn.__module__}:{fn.__qualname__}"
