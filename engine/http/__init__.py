"""The HTTP API (FastAPI)."""

from engine.http.factory import PUBLIC_PATHS, create_app

__all__ = ["PUBLIC_PATHS", "create_app"]
