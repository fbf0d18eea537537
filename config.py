"""Service configuration: every name of CONTRACT §4, read once from the environment and `.env`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from limits import parse_many
from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.ops.logs import LogFormat, LogLevel

MAX_ACCESS_TTL_SECONDS = 7 * 24 * 3600
# A source is one path segment of the bucket layout: no separators, dots-only names or spaces.
# RATE_LIMIT_FILE_UPLOADS's default: the quota follows the current list's length.
AUTO_LIMIT = "auto"
SOURCE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    s3_bucket: str = Field("data-universe-storage", min_length=3, max_length=63)
    s3_region: str = Field("us-east-1", min_length=1)
    # The address the service itself calls (HEAD, list, delete), e.g. http://s3:9000 inside
    # compose; S3_PUBLIC_URL is the one written into presigned URLs and forms.
    s3_endpoint_url: str | None = None
    s3_public_url: str | None = None
    aws_access_key_id: SecretStr | None = None
    aws_secret_access_key: SecretStr | None = None

    netuid: int = Field(13, ge=0, le=65535)
    bt_network: str = "finney"
    metagraph_file: Path | None = None
    metagraph_refresh_seconds: float = Field(300, gt=0)
    metagraph_max_age_seconds: float = Field(3600, gt=0)

    sources: Annotated[tuple[str, ...], NoDecode] = ("x", "reddit")
    validator_min_stake: float = Field(20000, ge=0)
    access_ttl_seconds: int = Field(86400, ge=60, le=MAX_ACCESS_TTL_SECONDS)
    upload_min_bytes: int = Field(1024, ge=0)
    upload_max_bytes: int = Field(5 * 1024**3, ge=1)
    discovery_cache_seconds: float = Field(60, ge=0)

    signature_max_age_seconds: int = Field(300, ge=1, le=3600)
    replay_protection: bool = True
    rate_limit_ip: str = "600/minute"
    rate_limit_miner: str = "100/hour"
    rate_limit_validator: str = "1000/hour"
    rate_limit_file_uploads: str = AUTO_LIMIT
    rate_limit_trusted: str = "10000/hour"
    rate_limit_storage: str = "memory://"
    # Whether requests are served when the shared store (Redis) cannot be reached:
    # replay checks always fail closed; counters may be skipped when this is true.
    rate_limit_fail_open: bool = False
    server_hotkey: str | None = None
    tao_max_age_seconds: int = Field(60, ge=1, le=3600)
    # UIDs or SS58 hotkeys allowed the per-miner S3 endpoints and publishing scores; "*" = all.
    trusted_validators: Annotated[tuple[str, ...], NoDecode] = ("89",)
    upload_method: Literal["post", "put"] = "post"
    upload_url_ttl_seconds: int = Field(3600, ge=60, le=MAX_ACCESS_TTL_SECONDS)

    database_url: str = "sqlite+aiosqlite:///./s3auth.sqlite3"
    constellation_api_keys: Annotated[tuple[SecretStr, ...], NoDecode] = ()
    admin_api_keys: Annotated[tuple[SecretStr, ...], NoDecode] = ()
    ondemand_job_seconds: int = Field(120, ge=30, le=7 * 24 * 3600)
    ondemand_max_bytes: int = Field(15_000_000, ge=1)
    ondemand_retention_hours: float = Field(48, gt=0)
    ondemand_max_open_jobs_per_key: int = Field(500, ge=1)
    rate_limit_ondemand_poll: str = "30/minute"
    rate_limit_ondemand_failures: str = "2/minute"
    # Storage housekeeping (README: Housekeeping): how long each class of dead object is
    # kept, and how often the service reaps (0 = never).
    reap_superseded_after_seconds: float = Field(21600, ge=0)
    reap_unlisted_after_seconds: float = Field(604800, ge=0)
    reap_deregistered_after_seconds: float = Field(604800, ge=0)
    reap_interval_seconds: float = Field(3600, ge=0)

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    log_level: LogLevel = "info"
    log_format: LogFormat = "text"
    # One line per request (route template, status, duration, hotkey). At thousands of
    # requests a second it costs about a tenth of a worker; false turns it off.
    access_log: bool = True
    # When set, GET /metrics requires `Authorization: Bearer <METRICS_TOKEN>`.
    metrics_token: SecretStr | None = None
    # Open client connections per worker; 0 sizes it from the file descriptor limit.
    max_connections: int = Field(0, ge=0)
    # A request's line, headers and body must arrive within this after its first byte
    # (or after the connection opened); idle kept-alive connections close after this too.
    header_timeout_seconds: float = Field(10, gt=0, le=300)
    # Longer than clients keep idle connections (httpx 5 s, aiohttp 15 s), so a client's
    # reuse never meets the server's close: at 5 s, a miner polling every 5 s over httpx
    # sometimes sent its poll on a connection the server was closing, and got no answer.
    keep_alive_seconds: int = Field(30, ge=1, le=300)

    @field_validator("sources", mode="before")
    @classmethod
    def _split_sources(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("sources")
    @classmethod
    def _check_sources(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("at least one source is required")
        for source in value:
            if not SOURCE_PATTERN.fullmatch(source):
                raise ValueError(f"{source!r} is not a valid source name (letters, digits, _ -)")
        return value

    @field_validator("trusted_validators", mode="before")
    @classmethod
    def _split_trusted(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("trusted_validators")
    @classmethod
    def _check_trusted(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from app.auth.keys import is_ss58

        for item in value:
            if item != "*" and not item.isdigit() and not is_ss58(item):
                raise ValueError(f"{item!r} is not a UID, an SS58 hotkey or '*'")
        return value

    @field_validator("constellation_api_keys", "admin_api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("s3_endpoint_url", "s3_public_url")
    @classmethod
    def _check_s3_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("metrics_token", mode="before")
    @classmethod
    def _empty_token_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must be a sqlite+aiosqlite:// or postgresql+asyncpg:// URL")
        return value

    @field_validator(
        "rate_limit_ip",
        "rate_limit_miner",
        "rate_limit_validator",
        "rate_limit_file_uploads",
        "rate_limit_trusted",
        "rate_limit_ondemand_poll",
        "rate_limit_ondemand_failures",
    )
    @classmethod
    def _check_limit(cls, value: str, info: ValidationInfo) -> str:
        if info.field_name == "rate_limit_file_uploads" and value.strip().lower() == AUTO_LIMIT:
            return AUTO_LIMIT
        if value.strip():
            try:
                parse_many(value)
            except ValueError as exc:
                raise ValueError(f"{value!r} is not a limit like '100/hour'") from exc
        return value.strip()

    @field_validator("rate_limit_storage")
    @classmethod
    def _check_storage(cls, value: str) -> str:
        if not value.startswith(("memory://", "redis://", "rediss://", "unix://")):
            raise ValueError("must be memory:// or a redis:// URL")
        return value

    @field_validator("bt_network")
    @classmethod
    def _check_network(cls, value: str) -> str:
        from bittensor.settings import NETWORKS

        value = value.strip()
        if value not in NETWORKS and not value.startswith(("ws://", "wss://")):
            known = ", ".join(sorted(NETWORKS))
            raise ValueError(f"{value!r} is not a known network ({known}) or a ws(s):// URL")
        return value

    @field_validator("server_hotkey")
    @classmethod
    def _check_server_hotkey(cls, value: str | None) -> str | None:
        if not value:
            return None
        from app.auth.keys import is_ss58

        if not is_ss58(value):
            raise ValueError("is not an SS58 address")
        return value

    @model_validator(mode="after")
    def _check_ranges(self) -> Settings:
        if self.upload_min_bytes > self.upload_max_bytes:
            raise ValueError("UPLOAD_MIN_BYTES must not exceed UPLOAD_MAX_BYTES")
        if (self.aws_access_key_id is None) != (self.aws_secret_access_key is None):
            raise ValueError("set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither")
        return self

    @property
    def presign_endpoint_url(self) -> str | None:
        """Where miners and validators reach S3: S3_PUBLIC_URL, else S3_ENDPOINT_URL."""
        return self.s3_public_url or self.s3_endpoint_url

    @property
    def uses_shared_store(self) -> bool:
        return not self.rate_limit_storage.startswith("memory://")


def describe_errors(error: ValidationError) -> list[str]:
    """One line per invalid variable, named as the operator set it."""
    lines = []
    for item in error.errors():
        name = "_".join(str(part) for part in item["loc"]).upper() or "configuration"
        lines.append(f"{name}: {item['msg']}")
    return lines
