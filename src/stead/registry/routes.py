"""Where ``stead.server.app`` looks for the registry's route table (``API_V2_MODULES``)."""

from stead.server.routes_registry import ENDPOINTS

__all__ = ["ENDPOINTS"]
