"""Router configuration: plain dataclasses with defaults, and ``validate()``.

``RouterConfig`` holds the realms, the limits and the policies a :class:`~wampcore.router.Router`
applies. Every field has a default that serves ``realm1`` to anonymous clients; ``validate()``
raises :class:`~wampcore.errors.ConfigError` naming the offending field (``limits.
handshake_timeout``, ``realms[2].name`` ...). The router validates the configuration it is given.

Roles, permissions and authentication principals come with the authentication issue; a TOML
loader (``load_config(path) -> RouterConfig``) is added by the adapters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from . import uri as _uri
from .errors import ConfigError

__all__ = ["Limits", "OutboundPolicy", "RealmConfig", "RouterConfig"]

#: What happens to a peer whose outbound queue is full when an EVENT arrives for it.
OutboundPolicy = Literal["drop", "disconnect"]

_MIB = 1024 * 1024


def _positive_int(value: object, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(name, f"must be a positive integer, got {value!r}")


def _positive_number(value: object, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ConfigError(name, f"must be a positive number, got {value!r}")
    if value != value or value == float("inf"):
        raise ConfigError(name, f"must be finite, got {value!r}")


def _bool(value: object, name: str) -> None:
    if not isinstance(value, bool):
        raise ConfigError(name, f"must be true or false, got {value!r}")


@dataclass
class Limits:
    """Resource limits; each is enforced with a clear ERROR or ABORT (see the Router docs)."""

    #: Largest incoming WAMP payload accepted, in bytes. Build framings with the same value.
    max_message_size: int = 16 * _MIB
    #: Sessions one realm may hold; a HELLO beyond it gets ABORT ``wampcore.error.realm_full``.
    max_sessions_per_realm: int = 100_000
    #: Calls one caller may have open at once; beyond it, ERROR
    #: ``wampcore.error.too_many_pending_calls``.
    max_pending_calls_per_session: int = 1_000
    #: Seconds a peer has from connecting to being welcomed (and from a GOODBYE to its reply).
    handshake_timeout: float = 10.0
    #: Bytes of encoded messages queued for one peer before the outbound policy applies to
    #: EVENTs (and an INVOCATION is refused). Replies may use up to twice this; see the Router.
    outbound_queue_bytes: int = 1 * _MIB

    def validate(self, prefix: str = "limits") -> None:
        """Raise :class:`ConfigError` naming the first invalid field."""
        _positive_int(self.max_message_size, f"{prefix}.max_message_size")
        _positive_int(self.max_sessions_per_realm, f"{prefix}.max_sessions_per_realm")
        _positive_int(self.max_pending_calls_per_session, f"{prefix}.max_pending_calls_per_session")
        _positive_number(self.handshake_timeout, f"{prefix}.handshake_timeout")
        _positive_int(self.outbound_queue_bytes, f"{prefix}.outbound_queue_bytes")


@dataclass
class RealmConfig:
    """One realm. Roles and permissions arrive with the authentication issue."""

    name: str
    #: Whether clients may join without authenticating (authrole ``anonymous``).
    allow_anonymous: bool = True

    def validate(self, prefix: str = "realm") -> None:
        """Raise :class:`ConfigError` naming the first invalid field."""
        if not isinstance(self.name, str) or not _uri.is_valid(self.name):
            raise ConfigError(f"{prefix}.name", f"must be a valid URI, got {self.name!r}")
        _bool(self.allow_anonymous, f"{prefix}.allow_anonymous")


def _default_realms() -> list[RealmConfig]:
    return [RealmConfig("realm1")]


@dataclass
class RouterConfig:
    """Everything a Router needs to know; the defaults serve ``realm1`` to anonymous clients."""

    realms: list[RealmConfig] = field(default_factory=_default_realms)
    #: Create a realm (with default settings) when a HELLO names one that is not configured;
    #: otherwise such a HELLO gets ABORT ``wamp.error.no_such_realm``.
    auto_create_realms: bool = False
    limits: Limits = field(default_factory=Limits)
    #: For a peer whose outbound queue is full: "drop" its EVENTs (counted, and reported as an
    #: ``EventsDropped`` router event) or "disconnect" it.
    outbound_policy: OutboundPolicy = "drop"
    #: Require sequential request ids from clients (wamp-spec.md §2.1). Some old clients use
    #: random ids; set False to admit them (ids are then only checked for reuse).
    strict_request_ids: bool = True
    #: Require strict URIs (components of ``[0-9a-z_]``) in topics, procedures and realms;
    #: a loose-but-not-strict URI gets ERROR ``wamp.error.invalid_uri``.
    strict_uris: bool = False

    def validate(self) -> None:
        """Raise :class:`ConfigError` naming the first invalid field."""
        if not isinstance(self.realms, list):
            raise ConfigError("realms", f"must be a list of RealmConfig, got {self.realms!r}")
        seen: set[str] = set()
        for i, realm in enumerate(self.realms):
            if not isinstance(realm, RealmConfig):
                raise ConfigError(f"realms[{i}]", f"must be a RealmConfig, got {realm!r}")
            realm.validate(f"realms[{i}]")
            if self.strict_uris and not _uri.is_valid(realm.name, strict=True):
                raise ConfigError(f"realms[{i}].name", f"is not a strict URI: {realm.name!r}")
            if realm.name in seen:
                raise ConfigError(f"realms[{i}].name", f"duplicate realm {realm.name!r}")
            seen.add(realm.name)
        _bool(self.auto_create_realms, "auto_create_realms")
        if not isinstance(self.limits, Limits):
            raise ConfigError("limits", f"must be a Limits, got {self.limits!r}")
        self.limits.validate("limits")
        if self.outbound_policy not in ("drop", "disconnect"):
            raise ConfigError(
                "outbound_policy", f'must be "drop" or "disconnect", got {self.outbound_policy!r}'
            )
        _bool(self.strict_request_ids, "strict_request_ids")
        _bool(self.strict_uris, "strict_uris")
