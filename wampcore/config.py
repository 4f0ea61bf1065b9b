"""Router configuration: plain dataclasses with defaults, and ``validate()``.

``RouterConfig`` holds the realms, the limits and the policies a :class:`~wampcore.router.Router`
applies. Every field has a default that serves ``realm1`` to anonymous clients; ``validate()``
raises :class:`~wampcore.errors.ConfigError` naming the offending field (``limits.
handshake_timeout``, ``realms[2].name`` ...). The router validates the configuration it is given.

Authentication and authorization live in the realm: ``auth_methods`` (the router's preference
order), ``principals`` (static credentials: ticket, WAMP-CRA secret, SCRAM verifier, cryptosign
public keys), ``roles`` (per-URI permission rules, see :mod:`wampcore.router.authorization`) and
the procedures of a dynamic ``authenticator`` / ``authorizer``. Secrets never appear in a repr
or a ConfigError message.

``load_config(path) -> RouterConfig`` reads the same configuration from a TOML file, mapping
tables onto the dataclasses by field name::

    outbound_policy = "drop"            # any RouterConfig field
    [limits]                            # Limits fields
    max_message_size = 1048576
    [[realms]]                          # one table per RealmConfig
    name = "realm1"
    embedded_authrole = "trusted"
    allow_anonymous = false             # only the principals below may join
    [[realms.history]]                  # one table per HistoryConfig of that realm
    uri = "com.example.news"
    match = "exact"
    limit = 50
    [[realms.roles]]                    # one table per RoleConfig of that realm
    name = "reader"
    permissions = [
      { uri = "com.example.", match = "prefix", call = true, subscribe = true },
    ]
    [[realms.principals]]               # one table per PrincipalConfig of that realm
    authid = "joe"
    role = "reader"
    ticket = "..."
    [[listeners]]                       # where the `wampcore router` command listens
    url = "ws://127.0.0.1:8080/ws"
"""

from __future__ import annotations

import collections.abc
import dataclasses
import os
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from . import uri as _uri
from .errors import ConfigError, LocalProtocolError

__all__ = [
    "AUTH_METHODS",
    "AuthMethod",
    "ClusterConfig",
    "ConfigFile",
    "ConfigFileError",
    "HistoryConfig",
    "Limits",
    "ListenerConfig",
    "OutboundPolicy",
    "PermissionConfig",
    "PrincipalConfig",
    "RealmConfig",
    "RoleConfig",
    "RouterConfig",
    "ScramConfig",
    "ScramKdf",
    "load_config",
    "read_config_file",
]

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


#: The largest ``HistoryConfig.limit``: events kept per history entry.
_MAX_HISTORY_LIMIT = 100_000


def _covers_wamp(uri: str, match: str) -> bool:
    """Whether the topic pattern ``uri`` (under ``match``) covers a ``wamp.*`` topic."""
    if uri == "wamp" or uri.startswith("wamp."):
        return True
    return match == "prefix" and "wamp.".startswith(uri)


@dataclass
class HistoryConfig:
    """Event history a realm keeps for the topics one pattern matches (wamp-spec §14.4.10)."""

    #: The topic (``match="exact"``) or topic prefix (``match="prefix"``); never ``wamp.*``.
    uri: str
    #: ``"exact"`` or ``"prefix"``, as in a SUBSCRIBE's ``match`` option.
    match: Literal["exact", "prefix"] = "exact"
    #: How many of the most recent events are kept (1 to 100000).
    limit: int = 100

    def validate(self, prefix: str = "history") -> None:
        """Raise :class:`ConfigError` naming the first invalid field."""
        if self.match not in ("exact", "prefix"):
            raise ConfigError(f"{prefix}.match", f'must be "exact" or "prefix", got {self.match!r}')
        prefix_match = self.match == "prefix"
        if not isinstance(self.uri, str) or not _uri.is_valid(self.uri, allow_empty=prefix_match):
            what = "URI prefix" if prefix_match else "URI"
            raise ConfigError(f"{prefix}.uri", f"must be a valid {what}, got {self.uri!r}")
        if _covers_wamp(self.uri, self.match):
            raise ConfigError(
                f"{prefix}.uri", f"must not cover the reserved wamp.* topics, got {self.uri!r}"
            )
        _positive_int(self.limit, f"{prefix}.limit")
        if self.limit > _MAX_HISTORY_LIMIT:
            raise ConfigError(
                f"{prefix}.limit", f"must be at most {_MAX_HISTORY_LIMIT}, got {self.limit!r}"
            )


# --- Authentication and authorization (wamp-spec §4.28) -----------------------------------------

#: An authentication method a realm may offer (the spec's ``wamp-scram`` is spelled ``scram``,
#: as Autobahn and Crossbar spell it on the wire).
AuthMethod = Literal["anonymous", "ticket", "wampcra", "scram", "cryptosign"]
#: Every AuthMethod; also the order the derived default uses (strongest first, anonymous last).
AUTH_METHODS: tuple[AuthMethod, ...] = ("cryptosign", "scram", "wampcra", "ticket", "anonymous")
#: The SCRAM key derivation functions; ``argon2id-13`` (Autobahn's spelling) is read as
#: ``argon2id13`` (the spec's).
ScramKdf = Literal["argon2id13", "argon2id-13", "pbkdf2"]

#: Marks a dataclass field whose value is a secret: the TOML loader never quotes it in an error.
_SECRET: dict[str, bool] = {"secret": True}
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")
_PERMISSION_ACTIONS = ("call", "register", "publish", "subscribe")
_PERMISSION_FLAGS = (*_PERMISSION_ACTIONS, "disclose_caller", "disclose_publisher")


def _hex(value: object, name: str, *, size: int | None = None) -> None:
    """``value`` is hex text (of ``size`` bytes); the message never quotes the value."""
    if not isinstance(value, str) or _HEX.fullmatch(value) is None:
        what = f"{2 * size} hex digits" if size else "a non-empty string of hex digits"
        raise ConfigError(name, f"must be {what}")
    if size is not None and len(value) != 2 * size:
        raise ConfigError(name, f"must be {2 * size} hex digits ({size} bytes), got {len(value)}")


def _role_name(value: object, name: str) -> None:
    if not isinstance(value, str) or not _uri.is_valid(value):
        raise ConfigError(name, f"must be a non-empty role name, got {value!r}")


def _procedure(value: object, name: str) -> None:
    if value is not None and (not isinstance(value, str) or not _uri.is_valid(value)):
        raise ConfigError(name, f"must be a procedure URI, got {value!r}")


def _list_of(value: object, cls: type, name: str) -> list[Any]:
    """``value`` as a list whose items are ``cls`` instances (a bad item is named, not shown)."""
    if not isinstance(value, list):
        raise ConfigError(name, f"must be a list of {cls.__name__}, got {type(value).__name__}")
    for i, item in enumerate(value):
        if not isinstance(item, cls):
            raise ConfigError(
                f"{name}[{i}]", f"must be a {cls.__name__}, got {type(item).__name__}"
            )
    return value


def _permission_uri_ok(uri: str, match: str, *, strict: bool = False) -> bool:
    if match == "exact":
        return _uri.is_valid(uri, strict=strict)
    if match == "prefix" and uri == "":
        return True  # the empty prefix: every URI
    return _uri.is_valid(uri, strict=strict, allow_empty=True)


@dataclass
class PermissionConfig:
    """One rule of a role: what a session with the role may do on the URIs ``uri`` matches.

    A session's action on a URI is judged by the one most specific rule that matches it, the
    precedence of pattern-based registrations (wamp-spec §4.8): an exact rule beats every prefix
    rule, a longer prefix beats a shorter one, any prefix beats a wildcard, and among wildcards
    the one whose literal components come first wins. The winner's flags decide: a rule with
    every flag false denies everything on its URIs. No matching rule: denied.
    """

    #: A URI (``exact``), a string prefix (``prefix``; ``""`` matches every URI) or a pattern
    #: whose empty components match any one component (``wildcard``).
    uri: str
    match: Literal["exact", "prefix", "wildcard"] = "exact"
    call: bool = False
    register: bool = False
    publish: bool = False
    subscribe: bool = False
    #: The router discloses the caller (``caller``, ``caller_authid``, ``caller_authrole`` in
    #: INVOCATION.Details) of calls this rule allows, as if the caller asked ``disclose_me``.
    disclose_caller: bool = False
    #: The same for the publisher of publications this rule allows (EVENT.Details).
    disclose_publisher: bool = False

    def validate(self, prefix: str = "permission") -> None:
        """Raise :class:`ConfigError` naming the first invalid field."""
        if self.match not in _uri.MATCH_POLICIES:
            raise ConfigError(
                f"{prefix}.match",
                f'must be "exact", "prefix" or "wildcard", got {self.match!r}',
            )
        if not isinstance(self.uri, str) or not _permission_uri_ok(self.uri, self.match):
            what = {"exact": "URI", "prefix": "URI prefix", "wildcard": "URI pattern"}[self.match]
            raise ConfigError(f"{prefix}.uri", f"must be a valid {what}, got {self.uri!r}")
        for flag in _PERMISSION_FLAGS:
            _bool(getattr(self, flag), f"{prefix}.{flag}")


@dataclass
class RoleConfig:
    """A role (an ``authrole``) and its permission rules."""

    name: str
    permissions: list[PermissionConfig] = field(default_factory=list)

    def validate(self, prefix: str = "role") -> None:
        """Raise :class:`ConfigError` naming the first invalid field."""
        _role_name(self.name, f"{prefix}.name")
        rules = _list_of(self.permissions, PermissionConfig, f"{prefix}.permissions")
        seen: set[tuple[str, str]] = set()
        for i, rule in enumerate(rules):
            name = f"{prefix}.permissions[{i}]"
            rule.validate(name)
            if (rule.uri, rule.match) in seen:
                raise ConfigError(
                    f"{name}.uri", f"duplicate rule for {rule.uri!r} (match {rule.match!r})"
                )
            seen.add((rule.uri, rule.match))


@dataclass
class ScramConfig:
    """A principal's WAMP-SCRAM verifier (wamp-spec §4.28): never the password itself."""

    #: ``argon2id13`` (``argon2id-13`` is read as this) or ``pbkdf2`` (PBKDF2-HMAC-SHA256).
    kdf: ScramKdf
    #: The salt, hex (CHALLENGE carries it base64-encoded).
    salt: str
    #: argon2id: time cost t; pbkdf2: the iteration count.
    iterations: int
    #: argon2id only (required there): memory cost in KiB, at least 8.
    memory: int | None = None
    #: StoredKey = SHA256(ClientKey), 32 bytes hex.
    stored_key: str = field(kw_only=True, repr=False, metadata=_SECRET)
    #: ServerKey = HMAC(SaltedPassword, "Server Key"), 32 bytes hex.
    server_key: str = field(kw_only=True, repr=False, metadata=_SECRET)

    def __post_init__(self) -> None:
        if self.kdf == "argon2id-13":
            self.kdf = "argon2id13"

    def validate(self, prefix: str = "scram") -> None:
        """Raise :class:`ConfigError` naming the first invalid field (never quoting a key)."""
        if self.kdf not in ("argon2id13", "pbkdf2"):
            raise ConfigError(
                f"{prefix}.kdf", f'must be "argon2id13" or "pbkdf2", got {self.kdf!r}'
            )
        _hex(self.salt, f"{prefix}.salt")
        _positive_int(self.iterations, f"{prefix}.iterations")
        if self.kdf == "argon2id13":
            if self.memory is None:
                raise ConfigError(f"{prefix}.memory", "is required for kdf argon2id13 (KiB)")
            _positive_int(self.memory, f"{prefix}.memory")
            if self.memory < 8:
                raise ConfigError(
                    f"{prefix}.memory", f"must be at least 8 (KiB) for argon2id, got {self.memory}"
                )
        elif self.memory is not None:
            raise ConfigError(f"{prefix}.memory", "applies to kdf argon2id13 only, not pbkdf2")
        _hex(self.stored_key, f"{prefix}.stored_key", size=32)
        _hex(self.server_key, f"{prefix}.server_key", size=32)


@dataclass
class PrincipalConfig:
    """A static principal: an authid, its role, and the credentials it may authenticate with.

    Each credential enables one method: ``ticket`` -> ticket, ``secret`` -> wampcra,
    ``scram`` -> scram, ``cryptosign_keys`` -> cryptosign. At least one is required.
    """

    authid: str
    role: str
    #: The ticket (compared with the AUTHENTICATE signature).
    ticket: str | None = field(default=None, repr=False, metadata=_SECRET)
    #: The WAMP-CRA secret. For salted WAMP-CRA (``salt``, ``iterations`` and ``keylen``
    #: given) the router derives the HMAC key from it as the client does
    #: (``base64(PBKDF2-HMAC-SHA256(secret, salt, iterations, keylen))``), exactly as Crossbar
    #: reads its configuration, so existing Crossbar principals carry over unchanged.
    secret: str | None = field(default=None, repr=False, metadata=_SECRET)
    #: Salted WAMP-CRA: all three or none, and only with ``secret``; sent in the CHALLENGE.
    salt: str | None = None
    iterations: int | None = None
    keylen: int | None = None
    #: Ed25519 public keys (64 hex digits each, kept lowercase) this principal may sign with.
    cryptosign_keys: list[str] = field(default_factory=list)
    scram: ScramConfig | None = None
    #: Sent to the client in WELCOME.Details.authextra.
    authextra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.cryptosign_keys, list):
            self.cryptosign_keys = [
                k.lower() if isinstance(k, str) else k for k in self.cryptosign_keys
            ]

    def methods(self) -> list[AuthMethod]:
        """The methods this principal's credentials enable, in ``AUTH_METHODS`` order."""
        enabled = {
            "cryptosign": bool(self.cryptosign_keys),
            "scram": self.scram is not None,
            "wampcra": self.secret is not None,
            "ticket": self.ticket is not None,
        }
        return [m for m in AUTH_METHODS if enabled.get(m)]

    def validate(self, prefix: str = "principal") -> None:
        """Raise :class:`ConfigError` naming the first invalid field (never quoting a secret)."""
        if (
            not isinstance(self.authid, str)
            or not self.authid
            or self.authid.strip() != self.authid
        ):
            raise ConfigError(
                f"{prefix}.authid",
                f"must be a non-empty string without surrounding whitespace, got {self.authid!r}",
            )
        _role_name(self.role, f"{prefix}.role")
        for name in ("ticket", "secret"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value):
                raise ConfigError(f"{prefix}.{name}", "must be a non-empty string")
        salted = {"salt": self.salt, "iterations": self.iterations, "keylen": self.keylen}
        given = [k for k, v in salted.items() if v is not None]
        if given:
            if self.secret is None:
                raise ConfigError(f"{prefix}.{given[0]}", "salted WAMP-CRA needs a secret")
            missing = [k for k in salted if k not in given]
            if missing:
                raise ConfigError(
                    f"{prefix}.{missing[0]}",
                    "salted WAMP-CRA needs salt, iterations and keylen together",
                )
            if not isinstance(self.salt, str) or not self.salt:
                raise ConfigError(f"{prefix}.salt", "must be a non-empty string")
            _positive_int(self.iterations, f"{prefix}.iterations")
            _positive_int(self.keylen, f"{prefix}.keylen")
        keys = _list_of(self.cryptosign_keys, str, f"{prefix}.cryptosign_keys")
        for i, key in enumerate(keys):
            _hex(key, f"{prefix}.cryptosign_keys[{i}]", size=32)
            if key in keys[:i]:
                raise ConfigError(f"{prefix}.cryptosign_keys[{i}]", "duplicate public key")
        if self.scram is not None:
            if not isinstance(self.scram, ScramConfig):
                raise ConfigError(
                    f"{prefix}.scram", f"must be a ScramConfig, got {type(self.scram).__name__}"
                )
            self.scram.validate(f"{prefix}.scram")
        if not isinstance(self.authextra, dict) or not all(
            isinstance(k, str) for k in self.authextra
        ):
            raise ConfigError(f"{prefix}.authextra", "must be a table with string keys")
        if not self.methods():
            raise ConfigError(
                prefix,
                f"principal {self.authid!r} has no credentials "
                "(ticket, secret, scram or cryptosign_keys)",
            )


@dataclass
class RealmConfig:
    """One realm: its name, who may join it (authentication) and what they may do (roles).

    Defaults keep the realm open: no principals, no roles, anonymous clients admitted and
    allowed everything.
    """

    name: str
    #: Whether clients may join without authenticating (authrole ``anonymous_role``).
    allow_anonymous: bool = True
    #: Topics whose recent events the realm keeps (``[[realms.history]]`` in a file).
    history: list[HistoryConfig] = field(default_factory=list)
    #: The authrole embedded (router-internal) sessions join this realm with by default.
    embedded_authrole: str = "trusted"
    #: The methods the router offers, most preferred first: it picks the first one the client's
    #: HELLO ``authmethods`` lists. Empty (the default) derives them: every method a principal's
    #: credentials enable (every challenge method with an ``authenticator`` or ``auth_events``),
    #: strongest first (``AUTH_METHODS`` order), then ``anonymous`` if ``allow_anonymous``; so a
    #: realm with no principals admits anonymous clients exactly when ``allow_anonymous`` is
    #: true. See :attr:`effective_auth_methods`. An explicit list must agree with
    #: ``allow_anonymous`` (``anonymous`` listed exactly when it is true), and each challenge
    #: method it lists must be usable: by some principal's credentials, by the
    #: ``authenticator`` or by the application (``auth_events``).
    auth_methods: list[AuthMethod] = field(default_factory=list)
    #: The roles and their permissions. None declared: every session may do everything (the
    #: default). Once any is declared, a session whose authrole is not declared may do nothing.
    roles: list[RoleConfig] = field(default_factory=list)
    #: Static principals (unique authids; each role declared, when the realm declares roles).
    principals: list[PrincipalConfig] = field(default_factory=list)
    #: The procedure a dynamic authenticator registered (called for methods and authids the
    #: static principals do not settle), and the realm it is registered on (default: this one).
    authenticator: str | None = None
    authenticator_realm: str | None = None
    #: Whether the embedding application decides the joins static principals do not settle:
    #: the router reports them as events and waits for the application's answer. Like an
    #: ``authenticator``, it makes every challenge method usable.
    auth_events: bool = False
    #: The procedure a dynamic authorizer registered, consulted before the static roles.
    authorizer: str | None = None
    #: The authrole anonymous clients get (declared among ``roles`` when the realm declares
    #: roles and admits anonymous clients).
    anonymous_role: str = "anonymous"

    @property
    def effective_auth_methods(self) -> list[AuthMethod]:
        """The methods the router offers, in preference order (see ``auth_methods``)."""
        if self.auth_methods:
            return list(self.auth_methods)
        if self.authenticator is not None or self.auth_events is True:
            usable: set[str] = set(AUTH_METHODS)
        else:
            usable = {m for p in self.principals for m in p.methods()}
        usable.discard("anonymous")
        if self.allow_anonymous:
            usable.add("anonymous")
        return [m for m in AUTH_METHODS if m in usable]

    def validate(self, prefix: str = "realm") -> None:
        """Raise :class:`ConfigError` naming the first invalid field."""
        if not isinstance(self.name, str) or not _uri.is_valid(self.name):
            raise ConfigError(f"{prefix}.name", f"must be a valid URI, got {self.name!r}")
        _bool(self.allow_anonymous, f"{prefix}.allow_anonymous")
        if not isinstance(self.history, list):
            raise ConfigError(
                f"{prefix}.history", f"must be a list of HistoryConfig, got {self.history!r}"
            )
        seen: set[tuple[str, str]] = set()
        for i, entry in enumerate(self.history):
            name = f"{prefix}.history[{i}]"
            if not isinstance(entry, HistoryConfig):
                raise ConfigError(name, f"must be a HistoryConfig, got {entry!r}")
            entry.validate(name)
            if (entry.uri, entry.match) in seen:
                raise ConfigError(
                    f"{name}.uri", f"duplicate history entry {entry.uri!r} (match {entry.match!r})"
                )
            seen.add((entry.uri, entry.match))
        role = self.embedded_authrole
        if not isinstance(role, str) or not _uri.is_valid(role):
            raise ConfigError(
                f"{prefix}.embedded_authrole", f"must be a non-empty role name, got {role!r}"
            )
        _role_name(self.anonymous_role, f"{prefix}.anonymous_role")
        roles = _list_of(self.roles, RoleConfig, f"{prefix}.roles")
        declared: set[str] = set()
        for i, role_config in enumerate(roles):
            name = f"{prefix}.roles[{i}]"
            role_config.validate(name)
            if role_config.name in declared:
                raise ConfigError(f"{name}.name", f"duplicate role {role_config.name!r}")
            declared.add(role_config.name)
        principals = _list_of(self.principals, PrincipalConfig, f"{prefix}.principals")
        authids: set[str] = set()
        pubkeys: dict[str, str] = {}
        for i, principal in enumerate(principals):
            name = f"{prefix}.principals[{i}]"
            principal.validate(name)
            if principal.authid in authids:
                raise ConfigError(f"{name}.authid", f"duplicate principal {principal.authid!r}")
            authids.add(principal.authid)
            if roles and principal.role not in declared:
                raise ConfigError(
                    f"{name}.role", f"role {principal.role!r} is not declared in this realm"
                )
            for j, key in enumerate(principal.cryptosign_keys):
                if key in pubkeys:
                    raise ConfigError(
                        f"{name}.cryptosign_keys[{j}]",
                        f"public key already belongs to principal {pubkeys[key]!r}",
                    )
                pubkeys[key] = principal.authid
        _procedure(self.authenticator, f"{prefix}.authenticator")
        if self.authenticator_realm is not None:
            if not isinstance(self.authenticator_realm, str) or not _uri.is_valid(
                self.authenticator_realm
            ):
                raise ConfigError(
                    f"{prefix}.authenticator_realm",
                    f"must be a valid realm URI, got {self.authenticator_realm!r}",
                )
            if self.authenticator is None:
                raise ConfigError(
                    f"{prefix}.authenticator_realm", "is only meaningful with an authenticator"
                )
        _bool(self.auth_events, f"{prefix}.auth_events")
        _procedure(self.authorizer, f"{prefix}.authorizer")
        self._validate_auth_methods(prefix)
        if (
            roles
            and self.anonymous_role not in declared
            and ("anonymous" in self.effective_auth_methods)
        ):
            raise ConfigError(
                f"{prefix}.anonymous_role",
                f"role {self.anonymous_role!r} (anonymous clients) is not declared in this realm",
            )

    def _validate_auth_methods(self, prefix: str) -> None:
        methods = _list_of(self.auth_methods, str, f"{prefix}.auth_methods")
        usable = {m for p in self.principals for m in p.methods()}
        for i, method in enumerate(methods):
            name = f"{prefix}.auth_methods[{i}]"
            if method not in AUTH_METHODS:
                known = ", ".join(repr(m) for m in AUTH_METHODS)
                raise ConfigError(name, f"must be one of {known}, got {method!r}")
            if method in methods[:i]:
                raise ConfigError(name, f"duplicate method {method!r}")
            if method == "anonymous":
                if not self.allow_anonymous:
                    raise ConfigError(name, "lists anonymous but allow_anonymous is false")
            elif method not in usable and self.authenticator is None and not self.auth_events:
                raise ConfigError(
                    name,
                    f"no principal has credentials for {method!r}, and there is no "
                    "authenticator (nor auth_events)",
                )
        if methods and self.allow_anonymous and "anonymous" not in methods:
            raise ConfigError(
                f"{prefix}.auth_methods",
                'does not list "anonymous" but allow_anonymous is true: list it (where it '
                "ranks) or set allow_anonymous = false",
            )


def _strict_auth_uris(realm: RealmConfig, prefix: str) -> None:
    """With ``strict_uris``, permission URIs and auth procedures must be strict too."""
    for i, role in enumerate(realm.roles):
        for j, rule in enumerate(role.permissions):
            if not _permission_uri_ok(rule.uri, rule.match, strict=True):
                raise ConfigError(
                    f"{prefix}.roles[{i}].permissions[{j}].uri",
                    f"is not a strict URI: {rule.uri!r}",
                )
    for name in ("authenticator", "authorizer", "authenticator_realm"):
        value = getattr(realm, name)
        if value is not None and not _uri.is_valid(value, strict=True):
            raise ConfigError(f"{prefix}.{name}", f"is not a strict URI: {value!r}")


#: A cluster node's name: it becomes one NATS subject token, so only these characters.
NODE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass
class ClusterConfig:
    """The ``[cluster]`` table: join this router to a cluster over NATS (docs/cluster.md).

    ``url`` is the NATS server (``nats://host:port``, ``tls://``; several comma-separated);
    ``node`` names this node (letters, digits, ``_``, ``-``; default: derived from the host
    name and process id). Credentials for NATS: ``user``/``password``, ``token`` or a
    ``creds`` file; TLS: ``tls_ca``, ``tls_cert``, ``tls_key``. Timers in seconds: a node
    sends a heartbeat every ``heartbeat_interval`` and is declared failed after
    ``failure_timeout`` without one; a NATS request (registration claims) gives up after
    ``request_timeout``.
    """

    url: str = "nats://127.0.0.1:4222"
    node: str | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False, metadata=_SECRET)
    token: str | None = field(default=None, repr=False, metadata=_SECRET)
    creds: str | None = None
    tls_ca: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    heartbeat_interval: float = 1.0
    failure_timeout: float = 4.0
    request_timeout: float = 3.0

    def validate(self, prefix: str = "cluster") -> None:
        if not isinstance(self.url, str) or not self.url:
            raise ConfigError(f"{prefix}.url", f"must be a NATS URL, got {self.url!r}")
        for part in self.url.split(","):
            scheme = part.strip().split("://", 1)[0].lower() if "://" in part else ""
            if scheme not in ("nats", "tls", "ws", "wss"):
                raise ConfigError(
                    f"{prefix}.url", f"must be nats://host:port (or tls://), got {part!r}"
                )
        if self.node is not None and (
            not isinstance(self.node, str) or NODE_NAME.fullmatch(self.node) is None
        ):
            raise ConfigError(
                f"{prefix}.node",
                f"must be 1-64 letters, digits, '_' or '-', got {self.node!r}",
            )
        for name in ("user", "creds", "tls_ca", "tls_cert", "tls_key"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise ConfigError(f"{prefix}.{name}", f"must be a string, got {value!r}")
        for name in ("password", "token"):
            if getattr(self, name) is not None and not isinstance(getattr(self, name), str):
                raise ConfigError(f"{prefix}.{name}", "must be a string")
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ConfigError(f"{prefix}.tls_cert", "tls_cert and tls_key go together")
        for name in ("heartbeat_interval", "failure_timeout", "request_timeout"):
            _positive_number(getattr(self, name), f"{prefix}.{name}")
        if self.failure_timeout <= self.heartbeat_interval:
            raise ConfigError(
                f"{prefix}.failure_timeout",
                f"must be longer than heartbeat_interval ({self.heartbeat_interval:g} s)",
            )


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
    #: Join a cluster of routers over NATS (``[cluster]``); None: a standalone router.
    cluster: ClusterConfig | None = None

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
            for j, entry in enumerate(realm.history):
                allow_empty = entry.match == "prefix"
                if self.strict_uris and not _uri.is_valid(
                    entry.uri, strict=True, allow_empty=allow_empty
                ):
                    raise ConfigError(
                        f"realms[{i}].history[{j}].uri", f"is not a strict URI: {entry.uri!r}"
                    )
            if self.strict_uris:
                _strict_auth_uris(realm, f"realms[{i}]")
            if realm.name in seen:
                raise ConfigError(f"realms[{i}].name", f"duplicate realm {realm.name!r}")
            seen.add(realm.name)
        for i, realm in enumerate(self.realms):
            other = realm.authenticator_realm
            if other is not None and other not in seen and not self.auto_create_realms:
                raise ConfigError(
                    f"realms[{i}].authenticator_realm", f"no realm {other!r} is configured"
                )
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
        if self.cluster is not None:
            if not isinstance(self.cluster, ClusterConfig):
                raise ConfigError("cluster", f"must be a ClusterConfig, got {self.cluster!r}")
            self.cluster.validate("cluster")


# --- TOML configuration files (owned by the adapters issue) -------------------------------------
#
# A file maps onto the dataclasses above by field name, so every field added above is
# configurable without touching the loader:
#
#     outbound_policy = "drop"            # any RouterConfig field
#     [limits]                            # Limits fields
#     max_message_size = 1048576
#     [[realms]]                          # one table per RealmConfig
#     name = "realm1"
#     [[realms.history]]                  # nested: HistoryConfig entries of that realm
#     uri = "com.example.news"
#     [[listeners]]                       # where the `wampcore router` command listens
#     url = "ws://127.0.0.1:8080/ws"
#
# Unknown keys are errors (a typo must not be silently ignored). Every error names the file,
# the line and the dotted key.

_T = TypeVar("_T")
_Key = tuple[str | int, ...]


class ConfigFileError(ConfigError):
    """A configuration file is unreadable or invalid; the message names file, line and key."""

    def __init__(self, filename: str, line: int | None, field: str, problem: str) -> None:
        super().__init__(field, problem)
        self.filename = filename
        self.line = line
        where = f"{filename}:{line}" if line else filename
        self.message = f"{where}: {field}: {problem}" if field else f"{where}: {problem}"
        self.args = (self.message,)


@dataclass(frozen=True, slots=True, kw_only=True)
class ListenerConfig:
    """One ``[[listeners]]`` entry: a transport URL and what an adapter needs to serve it.

    **HTTP beside WebSocket** (docs/http.md). A ``ws://``/``wss://`` listener whose URL has a
    path (the WAMP path, e.g. ``/ws``) also answers plain HTTP GET/HEAD on every other path:

    * ``/health`` (``health``): 200 ``{"status": "ok", ...}`` while serving, 503 during
      shutdown;
    * ``/metrics`` (``metrics``): the Prometheus text exposition format 0.0.4;
    * the status page (``status_page``): at ``/`` -- or at ``/status`` when ``static_dir`` is
      set, because then ``/`` is the static directory's ``index.html``. That is the whole rule:
      with a static directory, its files are served under ``/`` (``index.html`` for a
      directory) and the status page moves to ``/status``; ``/health`` and ``/metrics`` stay
      where they are and win over files of the same name.

    A switched-off endpoint answers 404. RawSocket listeners and WebSocket listeners without a
    path (any path upgrades) serve no HTTP. ``status_authrole``: the role the status page's own
    WAMP session joins as (through a single-use grant in the page; None: it joins anonymously)
    -- anyone who can load the page gets a session with that role, so give it read-only meta
    API permissions only.
    """

    url: str
    #: PEM certificate chain and private key, for ``wss://`` and ``rss://``.
    tls_cert: str | None = None
    tls_key: str | None = None
    serializers: tuple[str, ...] = ("json", "msgpack", "cbor")
    #: Largest inbound message; None: ``limits.max_message_size``.
    max_message_size: int | None = None
    #: The HTML status page (at ``/``, or ``/status`` with a ``static_dir``).
    status_page: bool = True
    #: ``/health``.
    health: bool = True
    #: ``/metrics`` (Prometheus text format).
    metrics: bool = True
    #: A directory whose files are served under ``/`` (nothing outside it ever is).
    static_dir: str | None = None
    #: The authrole the status page's WAMP session joins as; None: anonymous.
    status_authrole: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigFile:
    """Everything a configuration file declares."""

    router: RouterConfig
    listeners: tuple[ListenerConfig, ...] = ()


def load_config(path: str | os.PathLike[str]) -> RouterConfig:
    """The router configuration declared by the TOML file at ``path``.

    Raises :class:`ConfigFileError` (a :class:`ConfigError`) naming the file, line and key.
    """
    return read_config_file(path).router


def read_config_file(path: str | os.PathLike[str]) -> ConfigFile:
    """Parse and validate the TOML file at ``path``: router configuration plus listeners."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as f:
            text = f.read().decode("utf-8")
        data = tomllib.loads(text)
    except OSError as exc:
        raise ConfigFileError(name, None, "", f"cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        where = text_line_of(exc.object, exc.start)
        raise ConfigFileError(name, where, "", "not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"\(at line (\d+)", str(exc))
        problem = re.sub(r"\s*\(at line .*\)$", "", str(exc))
        line = int(found.group(1)) if found else None
        raise ConfigFileError(name, line, "", f"invalid TOML: {problem}") from None
    loader = _Loader(name, text)
    raw_listeners = data.pop("listeners", [])
    listeners = tuple(
        loader.build(ListenerConfig, item, ("listeners", i))
        for i, item in enumerate(loader.table_list(raw_listeners, ("listeners",)))
    )
    router = loader.build(RouterConfig, data, ())
    try:
        router.validate()
    except ConfigError as exc:
        raise loader.fail(_field_key(exc.field), _problem(exc)) from None
    return ConfigFile(router=router, listeners=listeners)


def text_line_of(raw: bytes, offset: int) -> int:
    """The 1-based line number of byte ``offset`` in ``raw``."""
    return raw.count(b"\n", 0, offset) + 1


def _field_key(field_name: str) -> _Key:
    # "realms[2].name" -> ("realms", 2, "name")
    key: list[str | int] = []
    for part in re.findall(r"[^.\[\]]+", field_name):
        key.append(int(part) if part.isdigit() else part)
    return tuple(key)


def _problem(exc: ConfigError) -> str:
    prefix = f"{exc.field}: "
    return exc.message[len(prefix) :] if exc.message.startswith(prefix) else exc.message


def _dotted(key: _Key) -> str:
    return "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in key).lstrip(".")


class _Loader:
    def __init__(self, filename: str, text: str) -> None:
        self.filename = filename
        self.lines = text.splitlines()

    def fail(self, key: _Key, problem: str) -> ConfigFileError:
        return ConfigFileError(self.filename, _key_line(self.lines, key), _dotted(key), problem)

    def table_list(self, value: Any, key: _Key) -> list[dict[str, Any]]:
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail(key, f"expected an array of tables ([[{key[-1]}]])")
        return value

    def build(self, cls: type[_T], data: Any, key: _Key) -> _T:
        if not isinstance(data, dict):
            raise self.fail(key, "expected a table")
        hints = typing.get_type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        kwargs: dict[str, Any] = {}
        for name, value in data.items():
            if name not in fields:
                known = ", ".join(sorted(fields))
                raise self.fail((*key, name), f"unknown key (known: {known})")
            secret = bool(fields[name].metadata.get("secret"))
            kwargs[name] = self.convert(hints[name], value, (*key, name), secret=secret)
        try:
            return cls(**kwargs)
        except TypeError as exc:  # a required field is missing
            raise self.fail(key, str(exc).split(".__init__() ")[-1]) from None
        except ConfigError as exc:
            raise self.fail(key + _field_key(exc.field)[-1:], _problem(exc)) from None
        except LocalProtocolError as exc:
            raise self.fail(key, exc.message) from None

    def convert(self, hint: Any, value: Any, key: _Key, *, secret: bool = False) -> Any:
        # ``secret``: the value is a credential; an error names its TOML type, never the value.
        got = f"{_toml_type(value)} (a secret: value not shown)" if secret else repr(value)
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if origin in (types.UnionType, typing.Union):
            options = [a for a in args if a is not type(None)]
            if len(options) == 1:  # X | None: X's own error is the clearest
                return self.convert(options[0], value, key, secret=secret)
            for option in options:
                try:
                    return self.convert(option, value, key, secret=secret)
                except ConfigError:
                    pass
            names = " or ".join(_type_name(a) for a in options)
            raise self.fail(key, f"expected {names}, got {got}")
        if origin is Literal:
            if value not in args:
                raise self.fail(key, f"expected one of {', '.join(map(repr, args))}, got {got}")
            return value
        if origin in (list, tuple, collections.abc.Sequence) and args:
            if not isinstance(value, list):
                raise self.fail(key, f"expected an array, got {got}")
            items = [
                self.convert(args[0], v, (*key, i), secret=secret) for i, v in enumerate(value)
            ]
            return tuple(items) if origin is tuple else items
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            return self.build(hint, value, key)
        if hint is float and type(value) is int:
            return float(value)
        if hint in (bool, int, float, str):
            if type(value) is not hint:
                raise self.fail(key, f"expected {_type_name(hint)}, got {got}")
            return value
        if origin is dict:
            if not isinstance(value, dict):
                raise self.fail(key, f"expected a table, got {got}")
            return value
        # A type this loader does not know (added by a later issue): validate() judges it.
        return value


def _toml_type(value: object) -> str:
    """``value``'s TOML type, with its article: "an integer", "a string" ..."""
    names = {bool: "a boolean", int: "an integer", float: "a float", str: "a string"}
    if isinstance(value, list | dict):
        return "an array" if isinstance(value, list) else "a table"
    return names.get(type(value), f"a {type(value).__name__}")


def _type_name(hint: Any) -> str:
    names = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
    return names.get(hint, getattr(hint, "__name__", str(hint)))


_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_ASSIGN = re.compile(r"^\s*([A-Za-z0-9_\-.\"' ]+?)\s*=")


def _key_line(lines: list[str], key: _Key) -> int | None:
    """The 1-based line that declares ``key`` (or its nearest enclosing key), if any."""
    found: dict[_Key, int] = {}
    table: _Key = ()
    # Entries so far of each array of tables, by resolved key: ("realms",) and, nested,
    # ("realms", 0, "history") -- a header's inner names refer to the array's last entry.
    counts: dict[_Key, int] = {}
    number = 0
    while number < len(lines):
        line = lines[number]
        number += 1
        header = _HEADER.match(line)
        if header:
            names = [p.strip().strip("\"'") for p in header.group(2).split(".")]
            parts: _Key = ()
            for depth, name in enumerate(names, 1):
                parts = (*parts, name)
                if depth == len(names) and header.group(1) == "[[":
                    index = counts.get(parts, 0)
                    counts[parts] = index + 1
                    found.setdefault(parts, number)
                    parts = (*parts, index)
                elif parts in counts:
                    parts = (*parts, counts[parts] - 1)
            table = parts
            found.setdefault(table, number)
            continue
        assign = _ASSIGN.match(line)
        if assign:
            name = tuple(p.strip().strip("\"'") for p in assign.group(1).split("."))
            found.setdefault(table + name, number)
            # An array or inline table value: its items and keys (possibly on later lines).
            number = _value_lines(lines, number, assign.end(), table + name, found)
    for end in range(len(key), 0, -1):
        if key[:end] in found:
            return found[key[:end]]
    return None


def _value_lines(
    lines: list[str], number: int, column: int, key: _Key, found: dict[_Key, int]
) -> int:
    """Record the lines of the items and keys of the value assigned to ``key``.

    The value starts on (1-based) line ``number`` at ``column``; arrays span lines. Returns the
    number of the last line the value occupies. The file is valid TOML (it parsed), so this
    scanner only tracks brackets, strings and comments.
    """
    # Open brackets: (kind "[" or "{", key of the container, next item index for arrays).
    frames: list[list[Any]] = []
    pending: _Key | None = key  # the key of the value that starts at the next token
    while True:
        text = lines[number - 1]
        i = column
        while i < len(text):
            char = text[i]
            if char in " \t\r":
                i += 1
                continue
            if char == "#":
                break
            frame = frames[-1] if frames else None
            if pending is None and frame is not None and frame[0] == "{" and char not in ",}":
                match = re.match(r"([A-Za-z0-9_\-.\"' ]+?)\s*=", text[i:])
                if match:  # a key of an inline table
                    parts = tuple(p.strip().strip("\"'") for p in match.group(1).split("."))
                    pending = (*frame[1], *parts)
                    found.setdefault(pending, number)
                    i += match.end()
                    continue
            if pending is None and frame is not None and frame[0] == "[" and char not in ",]":
                pending = (*frame[1], frame[2])  # an item of an array
                frame[2] += 1
                found.setdefault(pending, number)
            if pending is not None:
                target, pending = pending, None
                if char in "[{":
                    frames.append([char, target, 0])
                    i += 1
                    continue
                i = _skip_scalar(text, i)
                if not frames:
                    return number
                continue
            if char in "]}":
                frames.pop()
                if not frames:
                    return number
            i += 1
        if number >= len(lines) or (not frames and pending is None):
            return number
        number += 1
        column = 0


def _skip_scalar(text: str, i: int) -> int:
    """The index just past the scalar (string, number, boolean, date) starting at ``i``."""
    if text[i] in "\"'":
        quote = text[i]
        j = i + 1
        while j < len(text) and text[j] != quote:
            j += 2 if quote == '"' and text[j] == "\\" else 1
        return j + 1
    j = i
    while j < len(text) and text[j] not in ",]}#":
        j += 1
    return j
