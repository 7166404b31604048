"""The UI's static files (``stead/ui/static``), addressed by content: ``/static/<digest>/<name>``.

A page names each file with the digest of its bytes, so a browser may keep it for a year
(``immutable``) and a new release is fetched at once. A request with another digest (a page
from before an upgrade) gets today's file, not to be cached. Only the files in the folder
are served; nothing is fetched from anywhere else (no CDN).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from stead.errors import NotFound
from stead.ui.web import Response

__all__ = ["Assets", "STATIC_DIR"]

STATIC_DIR = Path(__file__).parent / "static"
_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
_YEAR = b"public, max-age=31536000, immutable"


@dataclass(frozen=True)
class _Asset:
    body: bytes
    digest: str
    content_type: str


class Assets:
    """The static files, read once when the app is built."""

    def __init__(self, folder: Path = STATIC_DIR) -> None:
        self._files: dict[str, _Asset] = {}
        for path in sorted(folder.iterdir()):
            if path.is_file() and path.suffix in _TYPES:
                body = path.read_bytes()
                self._files[path.name] = _Asset(body, hashlib.sha256(body).hexdigest()[:16], _TYPES[path.suffix])

    def url(self, name: str) -> str:
        """The URL a page uses for static file ``name``."""
        return f"/static/{self._files[name].digest}/{name}"

    def response(self, digest: str, name: str) -> Response:
        asset = self._files.get(name)
        if asset is None:
            raise NotFound(f"No static file {name[:100]!r}")
        cache = _YEAR if digest == asset.digest else b"no-cache"
        return Response(200, asset.body, asset.content_type, [(b"cache-control", cache)])
