"""Run an app factory under uvicorn, in this process or in ``--workers N`` processes.

``uvicorn.run`` takes only an import string when it starts workers, so a worker could learn
its settings only from the environment. Here the worker supervisor is started the way
``uvicorn.run`` starts it, with the factory object itself: uvicorn pickles the config, the
factory with it, to each spawned worker, which calls it to build its app. Signals and
shutdown are uvicorn's (the parent stops its workers on SIGINT or SIGTERM and exits 0).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["run_app"]


def run_app(factory: Callable[[], Any], workers: int, **config: Any) -> None:
    """Serve ``factory()`` with uvicorn; ``config`` is ``uvicorn.Config``'s keywords. With
    ``workers`` > 1, ``factory`` must pickle (a frozen dataclass of plain values does)."""
    import uvicorn

    if workers == 1:
        uvicorn.run(factory(), **config)
        return
    from uvicorn.supervisors import Multiprocess

    supervised = uvicorn.Config(factory, factory=True, workers=workers, **config)
    sock = supervised.bind_socket()
    try:
        Multiprocess(supervised, sockets=[sock]).run()
    except KeyboardInterrupt:  # as uvicorn.run: the supervisor was told to stop
        pass
