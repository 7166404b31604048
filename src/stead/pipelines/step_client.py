"""The tracking client of steps that run in the runner's process (threads, inline).

``stead.start_run`` inside such a step records into the pipeline run's own stores; the
backend is opened only when a step actually tracks something. Steps in other processes
adopt the run's settings instead (``stead.config.adopt_settings``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stead.config import Settings
    from stead.store.engine import Store

__all__ = ["bind_tracking_client"]


def bind_tracking_client(settings: "Settings", store: "Store") -> Callable[[], None]:
    """Make ``stead.start_run`` inside steps use this run's stores; returns the undo."""
    import stead.tracking.fluent as fluent

    if fluent.current_client() is not None or settings.is_remote:
        return lambda: None
    from stead.tracking.client import TrackingClient

    class _LazyClient(TrackingClient):
        """Opens the tracking backend only when a step actually tracks something."""

        def __init__(self) -> None:  # noqa: D107 - deliberately skips the eager backend
            self._lazy_settings = settings

        def __getattr__(self, name: str) -> Any:
            from stead.tracking.backend import EmbeddedBackend

            if name.startswith("_lazy") or "_ready" in self.__dict__:
                raise AttributeError(name)
            self.__dict__["_ready"] = True
            TrackingClient.__init__(
                self, settings, backend=EmbeddedBackend(store, settings.resolved_artifacts_url)
            )
            return getattr(self, name)

    fluent.set_client(_LazyClient())

    def restore() -> None:
        client = fluent.current_client()
        fluent.set_client(None)
        if client is not None and "_ready" in client.__dict__:
            client.close()

    return restore
