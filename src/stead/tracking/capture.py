"""A run's printed output kept with the run: ``stead.start_run(..., capture_output=True)``.

While the run is active, what the process writes to ``sys.stdout`` and ``sys.stderr``
(``print``, logging, warnings, progress bars) still reaches the terminal and is also
copied, in the order it was written, into one file; when the run ends the file becomes
the run artifact ``logs/output.txt``. A run that fails also gets the traceback that
ended it. Output written to the file descriptors directly (a subprocess, a C library)
does not pass through ``sys.stdout`` and is not captured.
"""

from __future__ import annotations

import atexit
import sys
import tempfile
import threading
import traceback
from pathlib import Path
from types import TracebackType
from typing import Any, Callable, TextIO

__all__ = ["OUTPUT_ARTIFACT", "OUTPUT_TAG", "OutputCapture"]

OUTPUT_ARTIFACT = "logs/output.txt"
OUTPUT_TAG = "stead.output"  # set to OUTPUT_ARTIFACT once the output is saved

_open: "set[OutputCapture]" = set()


class _Tee:
    """Writes to the stream it replaced and to the capture; everything else is the stream's."""

    def __init__(self, inner: TextIO, capture: "OutputCapture") -> None:
        self._inner = inner
        self._capture: OutputCapture | None = capture

    def write(self, text: str) -> int:
        written = self._inner.write(text)
        capture = self._capture
        if capture is not None:
            capture.record(text)
        return written

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self._inner.flush()

    def __getattr__(self, name: str) -> Any:  # encoding, isatty, fileno, buffer, ...
        return getattr(self._inner, name)


class OutputCapture:
    """Tee ``sys.stdout`` and ``sys.stderr`` into a file until ``finish`` saves it."""

    def __init__(self, save: Callable[[Path], None]) -> None:
        self._save = save
        self._dir = tempfile.TemporaryDirectory(prefix="stead-output-")
        self.path = Path(self._dir.name) / Path(OUTPUT_ARTIFACT).name
        self._file = self.path.open("w", encoding="utf-8", errors="replace")
        self._lock = threading.Lock()
        self._tees = (_Tee(sys.stdout, self), _Tee(sys.stderr, self))
        sys.stdout, sys.stderr = self._tees  # type: ignore[assignment]
        _open.add(self)

    def record(self, text: str) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.write(text)

    def record_failure(self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        """Keep the traceback that ended the run (Python prints it only after the run ended)."""
        self.record("".join(traceback.format_exception(exc_type, exc, tb)))

    def finish(self) -> None:
        """Stop copying, restore the streams (if nobody replaced them since) and save the file."""
        if self not in _open:
            return
        _open.discard(self)
        for tee, name in zip(self._tees, ("stdout", "stderr")):
            tee._capture = None
            if getattr(sys, name) is tee:
                setattr(sys, name, tee._inner)
        with self._lock:
            self._file.close()
        try:
            self._save(self.path)
        finally:
            self._dir.cleanup()


def _finish_all_at_exit() -> None:
    for capture in list(_open):
        try:
            capture.finish()
        except Exception as exc:  # the process is ending; say what was lost
            print(f"stead: could not save a run's output at exit: {exc}", file=sys.stderr)


atexit.register(_finish_all_at_exit)
