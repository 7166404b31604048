"""Throttling of failed logins, per user name and per client address.

A password guess costs the server one scrypt run; without a limit, a client could try
thousands of passwords per minute for one user, or spray one password over every user.
Each key (``user:<name>``, ``addr:<ip>``) may fail ``limit`` times within ``window_s``;
after that its logins are refused with ``REQUEST_LIMIT_EXCEEDED`` (429), before any
password is checked, until the oldest of those failures is ``window_s`` old.

The counts live in each server process (``--workers N`` gives a client at most N times the
budget); they are cheap on purpose, so that throttling itself never touches the store.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable

from stead.errors import TooManyRequests

__all__ = ["LoginThrottle", "USER_LIMIT", "ADDRESS_LIMIT", "WINDOW_S"]

USER_LIMIT = 10  # failed logins per user name per window
ADDRESS_LIMIT = 30  # failed logins per client address per window
WINDOW_S = 300.0
_MAX_KEYS = 100_000  # bound on memory under a spray of made-up names


class LoginThrottle:
    """Remembers recent failures per key; ``check`` refuses a key that has too many."""

    def __init__(self, *, user_limit: int = USER_LIMIT, address_limit: int = ADDRESS_LIMIT,
                 window_s: float = WINDOW_S, clock: Callable[[], float] = time.monotonic) -> None:
        self._limits = {"user": user_limit, "addr": address_limit}
        self._window = window_s
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def keys(username: str | None, address: str | None) -> list[str]:
        """The throttle keys of one login attempt."""
        out = []
        if username is not None:
            out.append(f"user:{username}")
        if address:
            out.append(f"addr:{address}")
        return out

    def _recent(self, key: str, now: float) -> deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self._window:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times

    def check(self, keys: Iterable[str]) -> None:
        """Raise ``TooManyRequests`` if any of ``keys`` is over its limit."""
        now = self._clock()
        with self._lock:
            for key in keys:
                times = self._recent(key, now)
                limit = self._limits[key.split(":", 1)[0]]
                if times is not None and len(times) >= limit:
                    wait = max(1, int(times[0] + self._window - now + 0.999))
                    what, hint = (("this user", ", or use an API token (stead tokens create)")
                                  if key.startswith("user:") else ("this client address", ""))
                    raise TooManyRequests(
                        f"Too many failed logins for {what}: {len(times)} in the last {int(self._window)} s. "
                        f"Retry in {wait} s{hint}",
                        retry_after=wait,
                    )

    def failed(self, keys: Iterable[str]) -> None:
        """Count one failed login against each of ``keys``."""
        now = self._clock()
        with self._lock:
            if len(self._failures) > _MAX_KEYS:
                for key in list(self._failures):
                    self._recent(key, now)
                if len(self._failures) > _MAX_KEYS:
                    self._failures.clear()
            for key in keys:
                limit = self._limits[key.split(":", 1)[0]]
                self._failures.setdefault(key, deque(maxlen=limit)).append(now)

    def succeeded(self, username: str) -> None:
        """A correct password clears that user's failures (not its address's)."""
        with self._lock:
            self._failures.pop(f"user:{username}", None)
