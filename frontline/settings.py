"""Settings, read from the environment with the ``FRONTLINE_`` prefix.

Grouped by area; every field is documented in the README's settings table. The development
secret key is refused when ``FRONTLINE_ENV=production``.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from frontline.kit.redis import RedisOptions

DEV_SECRET_KEY = "dev-insecure-secret-key-change-me"  # noqa: S105 - refused in production


class Settings(BaseSettings):
    """All runtime configuration of a Frontline process."""

    # FRONTLINE_SECRETS_DIR: a folder of files named like the variables (e.g. Docker/compose
    # secrets in /run/secrets: a file frontline_secret_key holds FRONTLINE_SECRET_KEY)
    model_config = SettingsConfigDict(
        env_prefix="FRONTLINE_",
        extra="ignore",
        secrets_dir=os.environ.get("FRONTLINE_SECRETS_DIR") or None,
    )

    env: Literal["development", "test", "production"] = "development"
    # database
    database_url: str = "sqlite+aiosqlite:///./frontline.db"
    database_pool_size: int = Field(default=30, ge=1)
    database_echo: bool = False
    # redis (optional; realtime fan-out and shared limits in production)
    redis_url: str | None = None
    # every Redis client: a connection not made within the connect timeout, or a command not
    # answered within the socket timeout (a paused or unreachable Redis), fails, and the
    # caller falls back to the process; a connection idle for the health check interval is
    # PINGed before use (0: never)
    redis_connect_timeout_seconds: float = Field(default=2.0, gt=0, le=60)
    redis_socket_timeout_seconds: float = Field(default=2.0, gt=0, le=60)
    redis_health_check_seconds: float = Field(default=15.0, ge=0)
    # FRONTLINE_FORWARDED_ALLOW_IPS: proxies whose X-Forwarded-For is trusted ("*" when only
    # the proxy can reach the API, as in deploy/compose.yaml); unset: the socket's address
    forwarded_allow_ips: str | None = None
    # security
    secret_key: SecretStr = SecretStr(DEV_SECRET_KEY)
    # older keys, comma-separated: still decrypt secrets at rest while they are re-encrypted
    previous_secret_keys: str = ""
    access_token_ttl_seconds: int = Field(default=15 * 60, ge=30)
    refresh_token_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=60)
    # the operator console's session cookie (an access token; one working day)
    console_session_ttl_seconds: int = Field(default=12 * 3600, ge=60)
    # http
    public_url: str = "http://127.0.0.1:8000"
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    webhook_tolerance_seconds: int = Field(default=300, ge=1)
    # how long a process trusts its cached copy of a channel's secret and config
    channel_cache_seconds: float = Field(default=5.0, ge=0)
    # realtime (widget and console sockets): ping after this long without a frame, at most
    # 30 s (the protocol promises it); a client silent for 3 heartbeats is closed
    realtime_heartbeat_seconds: float = Field(default=25.0, gt=0, le=30)
    # inbound rate limits on every channel (one-minute windows, shared through Redis when
    # configured): over them the REST API, customer API and widget answer 429 with
    # Retry-After; webhooks and mailboxes store the message without an AI turn
    inbound_contact_messages_per_minute: int = Field(default=20, ge=1)
    inbound_tenant_messages_per_minute: int = Field(default=600, ge=1)
    # jobs
    run_worker_in_process: bool = True
    worker_concurrency: int = Field(default=8, ge=1)
    worker_poll_seconds: float = Field(default=1.0, gt=0)
    job_lease_seconds: int = Field(default=60, ge=1)
    job_backoff_base_seconds: float = Field(default=2.0, gt=0)
    job_backoff_max_seconds: float = Field(default=600.0, gt=0)
    # ``frontline worker`` serves its Prometheus metrics (AI turns, LLM calls, deliveries,
    # the queue) on this port at ``/metrics`` (0: not served); the queue gauges are sampled
    # every ``worker_metrics_sample_seconds``
    worker_metrics_port: int = Field(default=0, ge=0, le=65535)
    worker_metrics_host: str = "0.0.0.0"  # noqa: S104 - a container's metrics port
    worker_metrics_sample_seconds: float = Field(default=5.0, gt=0)
    # knowledge base: one upload, and all of a tenant's stored uploads together
    knowledge_max_file_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    knowledge_max_tenant_bytes: int = Field(default=200 * 1024 * 1024, ge=1024)
    # the semantic re-rank of knowledge search (frontline.knowledge.rerank): off, chunks get
    # no vectors and search is lexical (costs ~25 ms CPU per search and ~40-270 ms per chunk
    # at ingestion when on)
    knowledge_semantic_rerank: bool = True
    # AI: one LLM provider call is given up after this long (the chain's next link, or the
    # offline engine, answers instead), so a provider that hangs cannot hold a reply
    ai_provider_timeout_seconds: float = Field(default=30.0, gt=0, le=300)
    # outbound delivery
    outbound_timeout_seconds: float = Field(default=10.0, gt=0)
    # attachments: where files go (local files by default, S3-compatible in production)
    attachments_storage: Literal["local", "s3"] = "local"
    # default: ``data/attachments`` beside the SQLite file (``./data/attachments`` else)
    attachments_dir: str | None = None
    attachments_s3_bucket: str | None = None
    attachments_s3_endpoint_url: str | None = None
    attachments_s3_region: str = "us-east-1"
    attachments_s3_access_key_id: SecretStr | None = None
    attachments_s3_secret_access_key: SecretStr | None = None
    attachments_s3_prefix: str = ""
    # one file at most (a larger one is recorded as failed "too large"; the message is kept)
    attachments_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    # an inbound JSON body with base64 files (API channel, e-mail webhook) at most
    attachments_max_body_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)
    # how long a link the widget gets to a file stays valid
    attachments_url_ttl_seconds: int = Field(default=3600, ge=10)
    # mailbox channels (IMAP): how often the worker polls every mailbox (0: never; then run
    # ``frontline mail poll``), and how many messages one poll takes from one mailbox
    mail_poll_seconds: float = Field(default=60.0, ge=0)
    mail_poll_batch: int = Field(default=50, ge=1, le=1000)
    # logging
    log_level: str = "INFO"
    log_json: bool = True
    # demo: `frontline demo` / `serve` also create a Telegram channel with this bot (webhook
    # mode when FRONTLINE_PUBLIC_URL is https, else poll mode: run `frontline telegram poll`)
    demo_telegram_bot_token: SecretStr | None = None
    demo_telegram_api_base_url: str = "https://api.telegram.org"

    def redis_options(self) -> RedisOptions:
        return RedisOptions(
            connect_timeout=self.redis_connect_timeout_seconds,
            socket_timeout=self.redis_socket_timeout_seconds,
            health_check_interval=self.redis_health_check_seconds,
        )

    @model_validator(mode="after")
    def _refuse_dev_secret_in_production(self) -> Settings:
        if self.env == "production" and self.secret_key.get_secret_value() == DEV_SECRET_KEY:
            raise ValueError(
                "FRONTLINE_SECRET_KEY must be set to a strong random value in production"
            )
        if self.env == "production" and len(self.secret_key.get_secret_value()) < 32:
            raise ValueError("FRONTLINE_SECRET_KEY must be at least 32 characters in production")
        return self

    @model_validator(mode="after")
    def _s3_needs_a_bucket(self) -> Settings:
        if self.attachments_storage == "s3" and not self.attachments_s3_bucket:
            raise ValueError("FRONTLINE_ATTACHMENTS_S3_BUCKET is required with S3 storage")
        return self

    def attachments_directory(self) -> str:
        """The local attachment directory: the setting, else ``data/attachments`` beside
        the SQLite database file, else ``./data/attachments``."""
        if self.attachments_dir:
            return self.attachments_dir
        prefix = "sqlite+aiosqlite:///"
        if self.database_url.startswith(prefix) and ":memory:" not in self.database_url:
            path = self.database_url[len(prefix) :].split("?", 1)[0]
            return str(Path(path).parent / "data" / "attachments")
        return "./data/attachments"

    def secret_keys(self) -> list[str]:
        """The current key first, then the previous ones (for decryption during rotation)."""
        previous = [k.strip() for k in self.previous_secret_keys.split(",") if k.strip()]
        return [self.secret_key.get_secret_value(), *previous]

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
