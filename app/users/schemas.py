from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from app.kit.enums import CaseInsensitiveEnum
from app.kit.validation import DbId, http_url, iana_timezone, smtp_address
from app.models.sync import AuthType

SmtpAddress = Annotated[str, AfterValidator(smtp_address)]
HttpUrl = Annotated[str, AfterValidator(http_url)]
TimeZoneName = Annotated[str, AfterValidator(iana_timezone)]


class UserHealth(CaseInsensitiveEnum):
    """How a sync user is doing, from its flags and its last finished run."""

    HEALTHY = "healthy"  # the last run succeeded
    ERRORS = "errors"  # the last run failed, was interrupted, or had item errors
    SUSPENDED = "suspended"  # repeated failures (or an admin) stopped it until resumed
    NEVER = "never"  # enabled, never synchronized yet
    DISABLED = "disabled"  # an admin stopped its synchronization


class AuthWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: AuthType
    username: str | None = Field(default=None, max_length=320)
    password: str | None = Field(default=None, max_length=4096, description="write-only")
    token: str | None = Field(
        default=None, max_length=16384, description="OAuth2 access token; write-only"
    )
    impersonation: bool = False

    @model_validator(mode="after")
    def _credentials_fit_type(self) -> Self:
        if self.type in (AuthType.BASIC, AuthType.NTLM) and not (self.username and self.password):
            raise ValueError(f"auth type {self.type} needs username and password")
        if self.type is AuthType.OAUTH2 and not self.token:
            raise ValueError("auth type oauth2 needs token")
        return self

    @property
    def secret(self) -> str | None:
        return self.token if self.type is AuthType.OAUTH2 else self.password


class AuthRead(BaseModel):
    type: AuthType
    username: str | None
    impersonation: bool
    has_secret: bool


class SyncUserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: DbId | None = Field(default=None, description="an existing users.user_userid")
    logon: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="the CRM logon; the users row is created when missing",
    )
    first_name: str | None = Field(default=None, max_length=60)
    last_name: str | None = Field(default=None, max_length=60)
    mailbox: SmtpAddress
    connection: str | None = Field(
        default=None, max_length=64, description="a connection's name: its endpoint and account"
    )
    ews_url: HttpUrl | None = Field(default=None, description="the user's own endpoint")
    auth: AuthWrite | None = Field(default=None, description="the user's own credentials")
    enabled: bool = True
    timezone: TimeZoneName | None = None
    show_install_button: bool = True
    check_connection: bool = Field(
        default=True,
        description="sign in to the mailbox before saving, and refuse what does not work",
    )

    @model_validator(mode="after")
    def _names_a_user(self) -> Self:
        if self.user_id is None and self.logon is None:
            raise ValueError("give user_id (an existing CRM user) or logon")
        return self

    @model_validator(mode="after")
    def _reaches_a_mailbox(self) -> Self:
        own = self.ews_url is not None or self.auth is not None
        if self.connection is not None and own:
            raise ValueError("give connection, or ews_url and auth of the user's own, not both")
        if self.connection is None and (self.ews_url is None or self.auth is None):
            raise ValueError("give connection, or ews_url and auth of the user's own")
        return self


class SyncUserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mailbox: SmtpAddress | None = None
    connection: str | None = Field(
        default=None, max_length=64, description="move the user to this connection"
    )
    ews_url: HttpUrl | None = None
    auth: AuthWrite | None = None
    enabled: bool | None = None
    timezone: TimeZoneName | None = None
    show_install_button: bool | None = None


class SyncUserRead(BaseModel):
    user_id: int
    logon: str | None
    mailbox: str
    connection: str | None = Field(description="the connection's name, if the user has one")
    ews_url: str | None = Field(description="the endpoint, the connection's if the user has one")
    auth: AuthRead | None = Field(description="the user's own credentials; none on a connection")
    enabled: bool
    suspended: bool
    suspended_reason: str | None = Field(description="why it is suspended; null when it is not")
    status: UserHealth
    next_sync_at: datetime = Field(
        description="when the scheduler next queues it (a past time: at its next tick)"
    )
    timezone: str | None
    show_install_button: bool
    created_at: datetime
    updated_at: datetime


class ConnectionTestRead(BaseModel):
    ok: bool
    detail: str
