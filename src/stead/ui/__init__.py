"""The web UI: server-rendered pages (Jinja2, autoescaped) at ``/`` of ``stead server``, each
page's data also as JSON, small ES modules from ``stead/ui/static``; fully offline.

An adapter like ``stead.server``: it uses the server's authentication, permission checks and
the domain services; nothing below imports it, and ``import stead`` does not load it.
``stead.server.app.create_app`` mounts ``stead.ui.routes.ui_routes``. See ``docs/ui.md``.
"""

__all__: list[str] = []
