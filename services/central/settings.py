"""Central settings from the environment (prefix ``ANSHIN_``), validated at start-up.

Lists and maps come as JSON, e.g.
``ANSHIN_TWO_PERSON_TYPES='["entrance.fever_suspected"]'`` or
``ANSHIN_REVIEW_DEADLINES_S='{"entrance.fever_suspected": 300}'``.

>>> s = Settings(data_dir="/tmp/anshin-doc")
>>> s.database_url
'sqlite:////tmp/anshin-doc/central.db'
>>> s.review_deadline_s("entrance.fever_suspected"), s.review_deadline_s("zone.overcrowded")
(300, 900)
>>> s.requires_two_reviewers("entrance.fever_suspected"), s.requires_two_reviewers("zone.overcrowded")
(True, False)

Settings keyed by event type are checked against the contract's registry when they are read
(that is, at start-up): a type no use case declares is an error naming the setting and the type.
The registry supplies the defaults (two-person types, review deadlines); ``review_deadlines_s``
overrides per type, ``two_person_types`` replaces the whole list.

>>> Settings(review_deadlines_s={"zone.overcrowded": 120}).review_deadlines_s
{'entrance.fever_suspected': 300, 'zone.overcrowded': 120}
>>> from pydantic import ValidationError
>>> try:
...     Settings(two_person_types=["zone.over_capacity"])
... except ValidationError as e:
...     print(e.errors()[0]["loc"], e.errors()[0]["msg"].split(" known: ")[0])
('two_person_types',) Value error, unknown event type 'zone.over_capacity' in two_person_types (ANSHIN_TWO_PERSON_TYPES);
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import Field, SecretStr, StringConstraints, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.contract import MAX_BODY_BYTES
from services.contract.registry import EVENT_TYPES, default_review_deadlines_s, default_two_person_types, unknown_types
from services.shared.placeholders import refuse_placeholders
from services.shared.strict import Strict


class IceServer(Strict):
    """One entry of RTCPeerConnection's ``iceServers`` (a STUN or TURN server, e.g. the coturn service)."""

    urls: list[Annotated[str, StringConstraints(pattern=r"^(stun|stuns|turn|turns):\S+$")]] = Field(min_length=1)
    username: str | None = None
    credential: str | None = None


class Settings(BaseSettings):
    """Everything the central service needs to start; one instance per app."""

    model_config = SettingsConfigDict(env_prefix="ANSHIN_", extra="ignore", frozen=True)

    data_dir: Path = Field(default=Path("var"), description="folder for the embedded SQLite database")
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL; empty means sqlite:///{data_dir}/central.db "
        "(PostgreSQL: postgresql+psycopg://user@host:5432/db)",
    )
    db_pool_size: int = Field(default=5, ge=1, description="PostgreSQL: connections kept open")
    db_max_overflow: int = Field(default=10, ge=0, description="PostgreSQL: extra connections under load")
    db_pool_timeout_s: float = Field(default=30.0, gt=0, description="PostgreSQL: seconds to wait for a connection")
    db_pool_recycle_s: int = Field(default=1800, ge=-1, description="PostgreSQL: seconds before a connection is replaced")
    sqlite_busy_timeout_ms: int = Field(default=10_000, ge=0, description="SQLite: wait this long for the write lock")
    migrate_on_start: bool = Field(default=True, description="run `alembic upgrade head` when the app starts")

    max_body_bytes: int = Field(default=MAX_BODY_BYTES, gt=0, description="largest accepted request body, bytes")

    review_deadline_default_s: int = Field(default=900, gt=0, description="seconds to decide a review item")
    review_deadlines_s: dict[str, int] = Field(
        default_factory=default_review_deadlines_s,
        description="per event type: seconds to decide a review item (over the event types' declared deadlines)",
    )
    two_person_types: list[str] = Field(
        default_factory=default_two_person_types,
        description="event types whose confirm/dismiss needs two different reviewers (default: as the types declare)",
    )

    # Dashboard (services/central/dashboard): sessions, store defaults, evidence snapshots.
    session_idle_s: int = Field(default=8 * 3600, gt=0, description="a dashboard session ends after this many idle seconds")
    session_max_s: int = Field(default=7 * 24 * 3600, gt=0, description="a dashboard session ends this many seconds after sign-in")
    cookie_secure: Literal["auto", "always", "never"] = Field(
        default="auto", description="Secure flag on the session cookie; auto: when the request came over https"
    )
    default_privacy_profile: Literal["minimal", "standard", "identified"] = Field(
        default="standard", description="privacy profile of a store nobody registered (`anshin stores set`)"
    )
    default_country: str = Field(default="JP", pattern=r"^[A-Z]{2}$", description="country of an unregistered store; JP: Japanese UI")
    snapshot_max_bytes: int = Field(default=2 * 1024 * 1024, gt=0, description="largest accepted snapshot JPEG, bytes")
    live_snapshots_kept: int = Field(default=3, ge=1, description="live pictures kept per camera (older ones are deleted)")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    openapi_public: bool = Field(
        default=False, description="serve /docs, /redoc and /openapi.json to anyone (ANSHIN_OPENAPI_PUBLIC=1); off: 404"
    )

    # Operations (issue 6): rate limits and integrator webhooks. Secrets come from the environment only.
    rate_limit_per_s: float = Field(default=100.0, gt=0, description="requests per second per API key (per client address without one)")
    rate_limit_burst: int = Field(default=400, ge=1, description="requests a key may send at once before the rate applies")
    webhook_secret_key: SecretStr | None = Field(
        default=None, description="master key (>= 32 characters) from which each webhook's signing secret is derived"
    )
    webhook_max_attempts: int = Field(default=8, ge=1, le=100, description="POST attempts before a delivery is dead-lettered")
    webhook_retry_initial_s: float = Field(default=5.0, gt=0, description="first retry delay, seconds (doubles, with jitter)")
    webhook_retry_max_s: float = Field(default=3600.0, gt=0, description="longest retry delay, seconds")
    webhook_timeout_s: float = Field(default=10.0, gt=0, le=120, description="seconds to wait for an integrator's answer")
    webhook_allow_hosts: list[str] = Field(
        default_factory=list,
        description="host names and IP networks webhooks may reach although they are not public "
        '(e.g. ["hooks.internal.example", "10.20.0.0/16"]); everything else internal is refused',
    )

    # Sign-in (issue 10): throttling, lockout, failed attempts summarised in the audit chain.
    sign_in_address_per_min: int = Field(default=20, ge=1, description="sign-in attempts per client address per minute")
    sign_in_account_per_min: int = Field(default=5, ge=1, description="failed sign-ins per account name per minute")
    sign_in_lockout_after: int = Field(default=10, ge=1, description="failed sign-ins in a row that lock an account until a manager unlocks it")
    sign_in_audit_window_s: int = Field(default=900, ge=1, description="failed sign-ins are summarised in one audit entry per account per window")
    sign_in_concurrency: int = Field(default=2, ge=1, description="password checks (argon2) at once; others wait")

    # Retention (issue 12): what is purged when, by `anshin retention run` and the schedule in central.
    retention_alert_days: float = Field(default=30, gt=0, description="days an alert (review item, its event, its decisions) is kept once decided")
    retention_routine_days: float = Field(default=7, gt=0, description="days an event that needs no review is kept")
    retention_evidence_days: float = Field(default=30, gt=0, description="days an evidence picture is kept (never longer than an event refers to it; none under `minimal`)")
    retention_live_hours: float = Field(default=1, gt=0, description="hours a live picture is kept (none under `minimal`)")
    retention_interval_s: float = Field(default=3600, ge=0, description="central purges every this many seconds; 0: only `anshin retention run`")
    retention_partitions_ahead: int = Field(default=2, ge=1, le=24, description="PostgreSQL: monthly event partitions created ahead of the current month")
    checkout_inactive_days: int = Field(default=365, ge=1, description="face checkout (use case E): the schedule erases (deletes the key of) members with no enrolment or exit in this many days; the consent text promises 12 months")

    # Remote service through signage (use case C): WebRTC goes browser to browser; central only relays signalling.
    signage_ice_servers: list[IceServer] = Field(
        default_factory=list,
        description='STUN/TURN servers handed to the signage and console pages as RTCPeerConnection iceServers, as JSON, '
        'e.g. [{"urls": ["turn:turn.example:3478"], "username": "anshin", "credential": "..."}]; empty: host candidates only (one LAN)',
    )
    signage_turn_secret: SecretStr | None = Field(
        default=None, description="coturn's static-auth-secret: TURN entries without a username get short-lived credentials (empty: none)",
    )
    signage_turn_ttl_s: int = Field(default=3600, ge=60, description="lifetime of those TURN credentials, seconds")
    signage_recording: bool = Field(default=False, description="recording of remote-service calls; when on, the signage shows a consent notice")
    signage_stale_after_s: float = Field(default=30, gt=0, description="a waiting call whose signage stopped polling this long is abandoned")

    @field_validator("signage_turn_secret", mode="before")
    @classmethod
    def _empty_turn_secret_is_none(cls, value: object) -> object:
        return None if value == "" else value  # compose passes ${ANSHIN_TURN_SECRET:-}: unset means no TURN secret

    @field_validator("review_deadlines_s")
    @classmethod
    def _positive_deadlines(cls, value: dict[str, int]) -> dict[str, int]:
        _known_types("review_deadlines_s", value)
        bad = {k: v for k, v in value.items() if v <= 0}
        if bad:
            raise ValueError(f"deadlines must be > 0 seconds; got {bad}")
        return {**default_review_deadlines_s(), **value}  # a setting overrides the declared deadline

    @field_validator("two_person_types")
    @classmethod
    def _registered_two_person_types(cls, value: list[str]) -> list[str]:
        _known_types("two_person_types", value)
        return value

    @model_validator(mode="after")
    def _default_database(self) -> Self:
        if not self.database_url:
            # frozen model: set through object.__setattr__ once, during validation
            object.__setattr__(self, "database_url", f"sqlite:///{self.data_dir}/central.db")
        return self

    @model_validator(mode="after")
    def _no_placeholder_secrets(self) -> Self:
        """Refuse the placeholders of docker/env.example, in these settings and in any ANSHIN_*
        variable of the environment (every central process builds its Settings first, so the
        broker passwords of ingest and command workers are refused here too)."""
        key = self.webhook_secret_key.get_secret_value() if self.webhook_secret_key else None
        refuse_placeholders({**os.environ, "ANSHIN_WEBHOOK_SECRET_KEY": key, "ANSHIN_DATABASE_URL": self.database_url})
        return self

    def review_deadline_s(self, event_type: str) -> int:
        """Seconds allowed to decide a review item of ``event_type``."""
        return self.review_deadlines_s.get(event_type, self.review_deadline_default_s)

    def requires_two_reviewers(self, event_type: str) -> bool:
        return event_type in self.two_person_types


def _known_types(setting: str, types: Iterable[str]) -> None:
    """A setting keyed by event type must name declared types (a typo would silently never apply)."""
    unknown = unknown_types(types)
    if unknown:
        names = ", ".join(repr(t) for t in unknown)
        raise ValueError(
            f"unknown event type{'s' if len(unknown) > 1 else ''} {names} in {setting} (ANSHIN_{setting.upper()}); "
            f"known: {', '.join(sorted(EVENT_TYPES))}"
        )
