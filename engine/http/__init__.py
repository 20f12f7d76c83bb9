"""The HTTP API (FastAPI)."""

from engine.http.factory import PUBLIC_PATHS, app_from_environment, create_app

__all__ = ["PUBLIC_PATHS", "app_from_environment", "create_app"]
