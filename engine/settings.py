"""Settings: read once from ``TANGRAM_*`` environment variables, validated, then passed around."""

from __future__ import annotations

import os
import secrets
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

Network = IPv4Network | IPv6Network

#: log2 of scrypt's N for password hashes. 14 -> N=2**14, r=8: 16 MiB per hash, slow for an
#: attacker, about 50 ms here (engine.identity.passwords uses it).
DEFAULT_COST = 14
#: Bounds of the setting; below the default only for test suites, which hash thousands of times.
MIN_COST, MAX_COST = 1, 20


def default_data_dir() -> Path:
    """One place per user, whichever folder a command runs in: ``$XDG_DATA_HOME/tangram``,
    else ``~/.local/share/tangram`` (a ``data`` folder in the working directory used to appear
    wherever a command happened to run, each with its own empty database)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "tangram"


class Settings(BaseSettings):
    """Every knob of the platform; the defaults run with no configuration at all."""

    model_config = SettingsConfigDict(env_prefix="TANGRAM_", extra="ignore", frozen=True)

    #: SQLAlchemy URL. Default: a SQLite file in the data folder (WAL mode).
    database_url: str = ""
    #: SQLite: how long a write waits for the file's one write lock (held by another write, or
    #: by a schema migration for its whole length) before it answers 503 with Retry-After.
    sqlite_busy_timeout_seconds: float = Field(default=30, gt=0, le=3600)
    #: Folder for the SQLite file, attachments and the generated secret key.
    data_dir: Path = Field(default_factory=default_data_dir)
    #: Signs sessions and tokens. Default: generated once and kept in ``data_dir/secret_key``.
    secret_key: str = ""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    #: Lifetime of the bearer tokens handed out by ``POST /api/auth/token``.
    token_ttl_minutes: int = Field(default=12 * 60, ge=1)
    #: Failed sign-ins for one username from one address (or 4x that from one address, for any
    #: usernames) before that pair (or address) is locked.
    login_max_failures: int = Field(default=5, ge=1)
    #: Failures older than this are forgotten; a lock lasts as long.
    login_lockout_minutes: int = Field(default=15, ge=1)
    #: Shortest password accepted (the policy also refuses the username itself).
    password_min_length: int = Field(default=8, ge=6, le=128)
    #: scrypt work factor as log2 N: 14 -> N=2**14, 16 MiB and about 50 ms per hash. Each hash
    #: keeps its own parameters, so changing this never locks anyone out; lower only in tests.
    #: Largest request body, except uploads (413 beyond it, before the body is read whole).
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    #: Largest upload request (``POST .../files``); each file field has its own size limit too.
    max_upload_bytes: int = Field(default=200 * 1024 * 1024, ge=1024)
    password_hash_cost: int = Field(default=DEFAULT_COST, ge=MIN_COST, le=MAX_COST)
    #: Longest lifetime of a named API token.
    api_token_max_days: int = Field(default=365, ge=1)
    #: Time zone for ``today()`` and for dates typed without an offset.
    timezone: str = "Asia/Shanghai"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    #: Processes ``tangram serve`` runs; each has its own connection pool.
    workers: int = Field(default=1, ge=1)
    #: Extra plugin modules (comma-separated dotted names) loaded beside the entry points.
    plugins: str = ""
    #: ``tangram serve`` runs due jobs in-process (an APScheduler wake-up); off: only workers do.
    job_scheduler: bool = True
    #: How often a waiting runner (serve's scheduler, ``tangram worker``) looks for due jobs.
    job_poll_seconds: float = Field(default=5.0, gt=0)
    #: Tries of a failing job before it is dead (listed for an admin to retry).
    job_max_attempts: int = Field(default=8, ge=1)
    #: Wait after a job's first failure; it doubles with each further one, up to the maximum.
    job_backoff_seconds: float = Field(default=30.0, ge=0)
    job_backoff_max_seconds: float = Field(default=3600.0, ge=0)
    #: Jobs one runner claims at a time (they commit together, each in a savepoint of its own).
    job_batch_size: int = Field(default=20, ge=1, le=1000)
    #: SQLite: a claimed job whose worker died is claimed again after this long.
    job_lease_seconds: float = Field(default=300.0, gt=0)
    #: Reverse proxies whose ``X-Forwarded-For`` / ``X-Forwarded-Proto`` are believed: addresses
    #: or networks, comma-separated. Default none: the peer address is the client's.
    trusted_proxies: Annotated[tuple[Network, ...], NoDecode] = ()

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list | tuple):
            return tuple(ip_network(v, strict=False) if isinstance(v, str) else v for v in value)
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    def plugin_modules(self) -> list[str]:
        return [name.strip() for name in self.plugins.split(",") if name.strip()]

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'tangram.db').resolve()}"

    def resolved_secret_key(self) -> str:
        """The configured key, or one generated once and stored beside the data."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key
