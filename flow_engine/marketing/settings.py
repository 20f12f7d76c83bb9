"""Marketing automation's settings, read once from ``TANGRAM_MARKETING_*`` variables."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class MarketingSettings(BaseSettings):
    """Where the tracking routes are reached from a reader's mail client."""

    model_config = SettingsConfigDict(env_prefix="TANGRAM_MARKETING_", extra="ignore", frozen=True)

    #: The server's public address: tracking pixels and links in e-mails point at it.
    public_url: str = "http://localhost:8000"
