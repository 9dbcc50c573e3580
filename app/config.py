"""Runtime configuration: one Settings object read from CRMSYNC_* environment variables."""

from __future__ import annotations

import secrets
from enum import StrEnum
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

IPNetwork = IPv4Network | IPv6Network


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class ConfigurationError(RuntimeError):
    """A CRMSYNC_* variable has a value the service cannot start with."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CRMSYNC_", extra="ignore")

    environment: Environment = Environment.DEVELOPMENT
    data_dir: Path = Path("crmsync-data")
    database_url: str = ""
    crm_database_url: str = ""
    broker_url: str = ""
    redis_url: str = ""
    queue_name: Annotated[str, Field(min_length=1, max_length=64)] = "crmsync"
    secret_key: str = ""
    # The key being replaced, while `crmsync secrets rotate` re-encrypts stored credentials.
    secret_key_previous: str = ""
    public_base_url: str = "http://127.0.0.1:8000"
    # Seeds the `crm_timezone` sync setting when the database is created; the setting rules.
    crm_timezone: str = "UTC"
    log_level: Annotated[str, Field(pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")] = "INFO"
    # "json": one JSON object per line, for log shippers.
    log_format: Literal["text", "json"] = "text"
    ews_timeout_seconds: Annotated[int, Field(ge=1, le=600)] = 60
    # Concurrent EWS requests allowed towards one Exchange server / one mailbox, all workers
    # together (Exchange throttles clients that exceed its own budgets).
    ews_max_per_server: Annotated[int, Field(ge=1, le=1000)] = 16
    ews_max_per_mailbox: Annotated[int, Field(ge=1, le=100)] = 2
    # With acks_late, Redis redelivers a job whose worker died once it has gone this long
    # without an ack; it must exceed the longest run, or a live run's job is delivered twice.
    broker_visibility_timeout: Annotated[int, Field(ge=1, le=86400)] = 3600
    # A user's sync lock expires this long after its holder stopped renewing it (a dead
    # worker): the user's next run can start no sooner.
    user_lock_seconds: Annotated[int, Field(ge=2, le=3600)] = 120
    # A transiently failed run is retried after this delay, doubling with each retry.
    retry_base_seconds: Annotated[int, Field(ge=1, le=3600)] = 30
    # An item a run cannot read is tried again after this delay, doubling with each failure
    # (at most a day), and held for an administrator after this many failures.
    item_retry_base_seconds: Annotated[int, Field(ge=0, le=86400)] = 900
    item_failure_limit: Annotated[int, Field(ge=1, le=1000)] = 5
    # Each worker serves its Prometheus metrics on this port (0: off).
    worker_metrics_port: Annotated[int, Field(ge=0, le=65535)] = 0
    # The Outlook add-in's task pane loads Office.js from here (tests point it at a stand-in).
    office_js_url: str = "https://appsforoffice.microsoft.com/lib/1/hosted/office.js"
    # How often the task pane renews its licence session; well inside the plugin timeout.
    addin_heartbeat_seconds: Annotated[int, Field(ge=1, le=3600)] = 60
    # The largest contact file the API accepts for import (CLI imports have no limit).
    max_import_bytes: Annotated[int, Field(ge=1)] = 200 * 1024 * 1024
    # The largest email the API files (an uploaded .eml/.msg or an item's MIME content).
    max_message_bytes: Annotated[int, Field(ge=1)] = 25 * 1024 * 1024
    # The largest document the API accepts into the library.
    max_document_bytes: Annotated[int, Field(ge=1)] = 50 * 1024 * 1024
    # All the emails one filing request uploads together; default four emails of the largest
    # size (see effective_max_upload_total_bytes).
    max_upload_total_bytes: Annotated[int | None, Field(ge=1)] = None
    # The largest JSON (or other non-upload) request body; refused before it is read.
    max_json_body_bytes: Annotated[int, Field(ge=1024)] = 1024 * 1024
    # Concurrent `POST /users/{id}/sync?wait=true` one token may hold open in one API process.
    max_sync_waits_per_caller: Annotated[int, Field(ge=1, le=100)] = 2
    # Reverse proxies whose X-Forwarded-For names the client (addresses or CIDRs, comma
    # separated); from any other peer the header is ignored.
    trusted_proxies: Annotated[list[IPNetwork], NoDecode] = []
    # Where documents and attachments are kept, one file per distinct content; default
    # <data_dir>/content.
    content_dir: Path | None = None
    # Requests a minute one API token may make, and failed authentications a minute one client
    # address may make, before the API answers 429 (0: no limit).
    rate_limit_per_minute: Annotated[int, Field(ge=0)] = 600
    failed_auth_limit_per_minute: Annotated[int, Field(ge=0)] = 30
    # A user token stops working this many days after it was created (admin keys last until
    # revoked).
    user_token_days: Annotated[int, Field(ge=1, le=3650)] = 90
    # Extra certificate authorities (a PEM file) crmsync trusts beside the public ones, for
    # an Exchange server, Graph endpoint or token issuer behind an internal CA.
    ca_bundle: Path | None = None
    # Filed emails are moved to this top-level mailbox folder (created when missing); empty
    # leaves them where they are.
    filing_folder: Annotated[str, Field(max_length=255)] = ""

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        networks = []
        for item in filter(None, (part.strip() for part in value.split(","))):
            try:
                networks.append(ip_network(item, strict=False))
            except ValueError:
                raise ValueError(
                    f"{item!r} is not an IP address or CIDR such as 10.0.0.0/8"
                ) from None
        return networks

    @field_validator("ca_bundle")
    @classmethod
    def _readable_certificates(cls, value: Path | None) -> Path | None:
        if value is None:
            return None
        try:
            text = value.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"cannot read {value}: {exc}") from None
        if "-----BEGIN CERTIFICATE-----" not in text:
            raise ValueError(f"{value} holds no PEM certificate")
        return value

    @field_validator("crm_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @field_validator("public_base_url", "office_js_url")
    @classmethod
    def _absolute_http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"must be an absolute http(s) URL, got {value!r}")
        return value.rstrip("/")

    @field_validator("database_url", "crm_database_url")
    @classmethod
    def _sqlalchemy_url(cls, value: str) -> str:
        if value and "://" not in value:
            raise ValueError(
                f"must be a SQLAlchemy URL such as postgresql+psycopg://…, got {value!r}"
            )
        return value

    @model_validator(mode="after")
    def _production_needs_explicit_secrets(self) -> Settings:
        if self.environment is Environment.PRODUCTION:
            missing = [
                name
                for name, value in (
                    ("CRMSYNC_SECRET_KEY", self.secret_key),
                    ("CRMSYNC_DATABASE_URL", self.database_url),
                    ("CRMSYNC_BROKER_URL", self.broker_url),
                )
                if not value
            ]
            if missing:
                raise ValueError(f"production requires {', '.join(missing)}")
        return self

    @property
    def embedded(self) -> bool:
        """True when no broker is configured: jobs run on a serverless broker beside the API."""
        return not self.broker_url

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'crmsync.db').resolve()}"

    @property
    def effective_crm_database_url(self) -> str:
        return self.crm_database_url or self.effective_database_url

    @property
    def effective_broker_url(self) -> str:
        # kombu's SQLAlchemy transport keeps the queue in a SQLite file: no server to run.
        return self.broker_url or f"sqla+sqlite:///{(self.data_dir / 'broker.db').resolve()}"

    @property
    def effective_redis_url(self) -> str | None:
        """Redis for locks and rate limits; in production the broker's Redis by default."""
        if self.redis_url:
            return self.redis_url
        if self.broker_url.startswith(("redis://", "rediss://")):
            return self.broker_url
        return None

    @property
    def effective_max_upload_total_bytes(self) -> int:
        return self.max_upload_total_bytes or 4 * self.max_message_bytes

    @property
    def effective_content_dir(self) -> Path:
        return self.content_dir or self.data_dir / "content"

    def effective_secret_key(self) -> str:
        """The key that encrypts stored credentials.

        In the embedded default it is generated once and kept in the data directory, so a
        newcomer needs no configuration; production must set CRMSYNC_SECRET_KEY.
        """
        if self.secret_key:
            return self.secret_key
        key_file = self.data_dir / "secret.key"
        if not key_file.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            key_file.touch(mode=0o600)
            key_file.write_text(secrets.token_urlsafe(32))
        return key_file.read_text().strip()


def _describe(error: ValidationError) -> str:
    lines = []
    for problem in error.errors():
        location = ".".join(str(part) for part in problem["loc"])
        variable = f"CRMSYNC_{location.upper()}" if location else "configuration"
        lines.append(f"{variable}: {problem['msg']}")
    return "invalid configuration: " + "; ".join(lines)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigurationError(_describe(exc)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
