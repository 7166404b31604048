"""MLflow's wire format, shared by stead's remote clients and its server.

One module per shape: ``fields`` (protobuf JSON scalars and the request fields the routes
read), ``tracking_json`` (experiments, runs, metrics), ``registry_json`` (registered models,
versions, alias events) and ``errors`` (the ``{"error_code", "message"}`` body, both ways).
The modules use records and ``stead.errors`` only, so the clients in ``tracking``/``registry``
and the routes in ``server`` can both import them without importing each other.
"""

__all__: list[str] = []
