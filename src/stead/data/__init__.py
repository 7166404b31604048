"""Data versioning and validation: a content-addressed cache, data set versions in the
metadata store, pointer files for git, remotes, profiles and expectations.

``import stead.data`` is light; each function loads what it needs on first call::

    import stead.data
    v = stead.data.add("data/customers", name="customers").version   # data:/customers@1
    path = stead.data.get("data:/customers@1")                        # a local folder
    report = stead.data.validate("customers@1", "expectations.yaml")
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

from stead._lazy import lazy_exports

__all__ = [
    "add",
    "get",
    "get_version",
    "status",
    "checkout",
    "checkout_pointers",
    "push",
    "pull",
    "gc",
    "diff",
    "validate",
    "list_datasets",
    "list_versions",
    "remotes",
]

if TYPE_CHECKING:
    from stead.data.api import (
        add,
        checkout,
        checkout_pointers,
        diff,
        gc,
        get,
        get_version,
        list_datasets,
        list_versions,
        pull,
        push,
        remotes,
        status,
        validate,
    )


# Every public name is a function of ``stead.data.api``, loaded on first use.
_LAZY = dict.fromkeys(__all__, "stead.data.api")

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)


class _DataPackage(types.ModuleType):
    """The verb modules (``add.py``, ``checkout.py``, ...) share their names with the API
    functions. Importing a submodule makes the import system set it as an attribute of
    this package; here the function keeps the name. Import a verb module's contents with
    ``from stead.data.add import add``."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in __all__ and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _DataPackage
