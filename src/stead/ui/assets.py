"""The UI's static files (``stead/ui/static``), addressed by content: ``/static/<digest>/<name>``.

A page names each file with the digest of its bytes, so a browser may keep it for a year
(``immutable``) and a new release is fetched at once. A request with another digest (a page
from before an upgrade) gets today's file, not to be cached. Only the files in the folder
are served, and ``plotly.min.js`` from the installed ``plotly`` package (the ``ui`` extra),
never a copy in this repository; nothing is fetched from anywhere else (no CDN).
"""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from stead.errors import NotFound
from stead.ui.web import Response

__all__ = ["Assets", "STATIC_DIR", "PLOTLY", "plotly_file"]

STATIC_DIR = Path(__file__).parent / "static"
_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
_YEAR = b"public, max-age=31536000, immutable"
PLOTLY = "plotly.min.js"


def plotly_file() -> Path | None:
    """Plotly.js as the ``plotly`` package bundles it, found without importing the package."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "package_data" / PLOTLY
        if path.is_file():
            return path
    return None


@dataclass(frozen=True)
class _Asset:
    body: bytes
    digest: str
    content_type: str


class Assets:
    """The static files, read once when the app is built."""

    def __init__(self, folder: Path = STATIC_DIR, plotly: Path | None = None) -> None:
        self._files: dict[str, _Asset] = {}
        paths = [p for p in sorted(folder.iterdir()) if p.is_file() and p.suffix in _TYPES]
        if plotly is not None:
            paths.append(plotly)
        for path in paths:
            body = path.read_bytes()
            self._files[path.name] = _Asset(body, hashlib.sha256(body).hexdigest()[:16], _TYPES[path.suffix])

    def has(self, name: str) -> bool:
        return name in self._files

    def url(self, name: str) -> str:
        """The URL a page uses for static file ``name``."""
        return f"/static/{self._files[name].digest}/{name}"

    def response(self, digest: str, name: str) -> Response:
        asset = self._files.get(name)
        if asset is None:
            raise NotFound(f"No static file {name[:100]!r}")
        cache = _YEAR if digest == asset.digest else b"no-cache"
        return Response(200, asset.body, asset.content_type, [(b"cache-control", cache)])
