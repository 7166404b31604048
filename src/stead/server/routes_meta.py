"""The MLflow 3 server-info endpoint the client probes (logged models: ``logged_models``)."""

from __future__ import annotations

from typing import Any

from stead.server.context import ServerContext
from stead.server.endpoint import PUBLIC, ApiCall, Endpoint

__all__ = ["ENDPOINTS", "MLFLOW_COMPAT_VERSION"]

# The MLflow release whose REST API and client this server is tested against.
MLFLOW_COMPAT_VERSION = "3.17.2"


def server_info(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    """What an MLflow 3 client asks before artifact transfers (no secrets; no login needed)."""
    return {
        "store_type": "SqlStore",
        "workspaces_enabled": False,
        "trace_archival_enabled": False,
        "multipart_uploads_enabled": False,
        "multipart_downloads_enabled": False,
        "presigned_upload_run_id_supported": False,
        "presigned_upload_model_id_supported": False,
        "features_enabled": {"gateway": False},
    }


# Mounted under /api/3.0 and /ajax-api/3.0.
ENDPOINTS: list[Endpoint] = [
    Endpoint("GET", "/mlflow/server-info", server_info, PUBLIC, "Server capabilities (MLflow 3)",
             response_fields=("store_type", "multipart_uploads_enabled", "multipart_downloads_enabled")),
]
