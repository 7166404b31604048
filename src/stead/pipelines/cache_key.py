"""Cache keys: the hash of a step's code, its parameters and the hashes of its inputs.

"Code" is the step function's source plus the source of every function or class it
reaches in the user's own code (modules outside the standard library and site-packages),
followed transitively through globals and module attributes. Library code is identified
by its package version instead of its source. Pure functions, memoised per process.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import sys
import sysconfig
import types
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

__all__ = ["code_hash", "value_hash", "cache_key", "is_user_module"]

_LIB_DIRS = tuple(
    {os.path.realpath(p) for p in (sysconfig.get_paths().get("stdlib"), sysconfig.get_paths().get("purelib"),
                                    sysconfig.get_paths().get("platlib")) if p}
)


@lru_cache(maxsize=4096)
def _module_is_user(filename: str) -> bool:
    real = os.path.realpath(filename)
    if "site-packages" in real or "dist-packages" in real:
        return False
    if any(real.startswith(d + os.sep) for d in _LIB_DIRS):
        return False
    stead_dir = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    return not real.startswith(stead_dir + os.sep)


def is_user_module(module: types.ModuleType | None) -> bool:
    """Whether ``module`` is the user's code (not stdlib, site-packages or stead)."""
    filename = getattr(module, "__file__", None)
    return bool(filename) and _module_is_user(filename)  # type: ignore[arg-type]


def _source(obj: Any) -> str:
    try:
        return inspect.getsource(obj)
    except (OSError, TypeError):
        code = getattr(obj, "__code__", None)
        return code.co_code.hex() if code is not None else repr(obj)


def _names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def _unwrap(obj: Any) -> Any:
    fn = getattr(obj, "fn", None)  # a stead Step
    if callable(fn) and hasattr(obj, "retries"):
        return fn
    return inspect.unwrap(obj) if callable(obj) else obj


def _collect(fn: Any, parts: dict[str, str]) -> None:
    fn = _unwrap(fn)
    key = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"
    if key in parts:
        return
    parts[key] = _source(fn)
    code = getattr(fn, "__code__", None)
    if code is None:
        if inspect.isclass(fn):
            for member in vars(fn).values():
                if inspect.isfunction(member):
                    _collect_code(member, getattr(sys.modules.get(fn.__module__), "__dict__", {}), parts)
        return
    _collect_code(fn, fn.__globals__, parts)


def _collect_code(fn: Any, globals_: Mapping[str, Any], parts: dict[str, str]) -> None:
    names = _names(fn.__code__)
    closure = [c.cell_contents for c in (fn.__closure__ or ()) if _cell_filled(c)]
    for value in [globals_.get(n) for n in names] + closure:
        _follow(value, names, parts)


def _cell_filled(cell: Any) -> bool:
    try:
        cell.cell_contents
    except ValueError:
        return False
    return True


def _follow(value: Any, names: set[str], parts: dict[str, str]) -> None:
    if value is None:
        return
    if isinstance(value, types.ModuleType):
        if is_user_module(value):
            for attr in names:
                member = getattr(value, attr, None)
                if member is not None and not isinstance(member, types.ModuleType):
                    _follow(member, set(), parts)
        return
    target = _unwrap(value)
    if inspect.isfunction(target) or inspect.isclass(target):
        module = sys.modules.get(getattr(target, "__module__", "") or "")
        if is_user_module(module):
            _collect(target, parts)
        elif module is not None:
            top = module.__name__.split(".")[0]
            parts.setdefault(f"lib:{top}", _version(top))


@lru_cache(maxsize=256)
def _version(top: str) -> str:
    mod = sys.modules.get(top)
    return str(getattr(mod, "__version__", ""))


_CODE_HASHES: dict[Any, str] = {}


def code_hash(fn: Any) -> str:
    """Hash of the step's source and the user code it reaches (memoised per function)."""
    target = _unwrap(fn)
    cached = _CODE_HASHES.get(target)
    if cached is not None:
        return cached
    parts: dict[str, str] = {}
    _collect(target, parts)
    digest = hashlib.sha256()
    # Module names are left out, so the same code hashes the same wherever it is imported.
    for key, source in sorted((k.rpartition(".")[2] if not k.startswith("lib:") else k, v) for k, v in parts.items()):
        digest.update(key.encode())
        digest.update(b"\0")
        digest.update(source.encode())
        digest.update(b"\0")
    result = digest.hexdigest()
    _CODE_HASHES[target] = result
    return result


def value_hash(value: Any) -> str:
    """A stable hash of a constant argument: JSON when possible, else pickle bytes."""
    try:
        data = json.dumps(value, sort_keys=True, separators=(",", ":"), default=_no_json).encode()
        tag = b"j"
    except TypeError:
        import pickle

        data = pickle.dumps(value, protocol=5)
        tag = b"p"
    return hashlib.sha256(tag + data).hexdigest()


def _no_json(value: Any) -> Any:
    raise TypeError(type(value).__name__)


def cache_key(code: str, arguments: Mapping[str, str], extra: str = "") -> str:
    """The cache key of one step call: code hash plus ``argument name -> hash``."""
    digest = hashlib.sha256(code.encode())
    for name in sorted(arguments):
        digest.update(b"\0" + name.encode() + b"=" + arguments[name].encode())
    if extra:
        digest.update(b"\0" + extra.encode())
    return digest.hexdigest()
