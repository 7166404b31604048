"""The stead server: MLflow's REST API, its artifact proxy, auth, one ASGI app.

``create_app(settings)`` in ``stead.server.app`` is the one composition root.
"""

__all__ = ["create_app"]


def __getattr__(name: str):  # type: ignore[no-untyped-def]
    if name == "create_app":
        from stead.server.app import create_app

        return create_app
    raise AttributeError(name)
