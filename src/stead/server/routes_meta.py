"""Health, version, the OpenAPI document, and the MLflow 3 endpoints the client probes."""

from __future__ import annotations

from typing import Any

from stead.server.context import ServerContext
from stead.server.endpoint import AUTHENTICATED, PUBLIC, ApiCall, Endpoint

__all__ = ["ENDPOINTS", "LOGGED_MODEL_ENDPOINTS", "MLFLOW_COMPAT_VERSION"]

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


def search_logged_models(ctx: ServerContext, call: ApiCall) -> dict[str, Any]:
    """stead keeps no MLflow 3 LoggedModel records yet: every search is empty."""
    return {"models": []}


# Mounted under /api/3.0 and /ajax-api/3.0.
ENDPOINTS: list[Endpoint] = [
    Endpoint("GET", "/mlflow/server-info", server_info, PUBLIC, "Server capabilities (MLflow 3)",
             response_fields=("store_type", "multipart_uploads_enabled", "multipart_downloads_enabled")),
]

# Mounted under /api/2.0 and /ajax-api/2.0 (MLflow registers LoggedModel routes there).
LOGGED_MODEL_ENDPOINTS: list[Endpoint] = [
    Endpoint("POST", "/mlflow/logged-models/search", search_logged_models, AUTHENTICATED,
             "Search MLflow 3 logged models (always empty)",
             request_fields=("experiment_ids", "filter", "max_results", "order_by", "page_token"),
             response_fields=("models", "next_page_token")),
]
