"""Browser fixtures: Debian's Chromium driven by Playwright, against a real ``stead server``.

Playwright's own browser download is not reachable here, so the tests launch the
``chromium`` on the PATH (``apt-get install chromium``; ``.ci/run`` installs it). Without it,
or without the ``playwright`` package, they skip with the reason (a failure in CI, where
``STEAD_TEST_REQUIRE_ALL=1``). Each test's page records console errors and uncaught
exceptions, refuses every dialog (an ``alert`` would mean script ran) and saves a
screenshot under the test's ``tmp_path`` at the end.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("no chromium on the PATH: apt-get install -y chromium (the UI tests drive Debian's Chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is missing: pip install -e '.[test]'")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@dataclass
class Watched:
    """A browser page and what it reported: console errors, uncaught exceptions, dialogs."""

    page: Any
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def clean(self) -> None:
        assert self.errors == [], self.errors
        assert self.dialogs == [], self.dialogs


@pytest.fixture
def watched(browser: Any, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Watched]:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(30_000)  # generous: CI runs the suite on every core at once
    w = Watched(page)
    page.on("console", lambda m: w.errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: w.errors.append(f"page error: {e}"))

    def on_dialog(dialog: Any) -> None:
        w.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    try:
        yield w
    finally:
        try:
            page.screenshot(path=str(tmp_path / f"{request.node.name[:80]}.png"), full_page=True)
        finally:
            context.close()
