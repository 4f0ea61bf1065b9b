"""Router configuration: plain dataclasses with defaults, and ``validate()``.

``RouterConfig`` holds the realms, the limits and the policies a :class:`~wampcore.router.Router`
applies. Every field has a default that serves ``realm1`` to anonymous clients; ``validate()``
raises :class:`~wampcore.errors.ConfigError` naming the offending field (``limits.
handshake_timeout``, ``realms[2].name`` ...). The router validates the configuration it is given.

Roles, permissions and authentication principals come with the authentication issue.
``load_config(path) -> RouterConfig`` reads the same configuration from a TOML file, mapping
tables onto the dataclasses by field name::

    outbound_policy = "drop"            # any RouterConfig field
    [limits]                            # Limits fields
    max_message_size = 1048576
    [[realms]]                          # one table per RealmConfig
    name = "realm1"
    embedded_authrole = "trusted"
    [[realms.history]]                  # one table per HistoryConfig of that realm
    uri = "com.example.news"
    match = "exact"
    limit = 50
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
    "ConfigFile",
    "ConfigFileError",
    "HistoryConfig",
    "Limits",
    "ListenerConfig",
    "OutboundPolicy",
    "RealmConfig",
    "RouterConfig",
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


@dataclass
class RealmConfig:
    """One realm. Roles and permissions arrive with the authentication issue."""

    name: str
    #: Whether clients may join without authenticating (authrole ``anonymous``).
    allow_anonymous: bool = True
    #: Topics whose recent events the realm keeps (``[[realms.history]]`` in a file).
    history: list[HistoryConfig] = field(default_factory=list)
    #: The authrole embedded (router-internal) sessions join this realm with by default.
    embedded_authrole: str = "trusted"

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
            for j, entry in enumerate(realm.history):
                allow_empty = entry.match == "prefix"
                if self.strict_uris and not _uri.is_valid(
                    entry.uri, strict=True, allow_empty=allow_empty
                ):
                    raise ConfigError(
                        f"realms[{i}].history[{j}].uri", f"is not a strict URI: {entry.uri!r}"
                    )
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
    """One ``[[listeners]]`` entry: a transport URL and what an adapter needs to serve it."""

    url: str
    #: PEM certificate chain and private key, for ``wss://`` and ``rss://``.
    tls_cert: str | None = None
    tls_key: str | None = None
    serializers: tuple[str, ...] = ("json", "msgpack", "cbor")
    #: Largest inbound message; None: ``limits.max_message_size``.
    max_message_size: int | None = None


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
        known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        kwargs: dict[str, Any] = {}
        for name, value in data.items():
            if name not in known:
                raise self.fail((*key, name), f"unknown key (known: {', '.join(sorted(known))})")
            kwargs[name] = self.convert(hints[name], value, (*key, name))
        try:
            return cls(**kwargs)
        except TypeError as exc:  # a required field is missing
            raise self.fail(key, str(exc).split(".__init__() ")[-1]) from None
        except ConfigError as exc:
            raise self.fail(key + _field_key(exc.field)[-1:], _problem(exc)) from None
        except LocalProtocolError as exc:
            raise self.fail(key, exc.message) from None

    def convert(self, hint: Any, value: Any, key: _Key) -> Any:
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if origin in (types.UnionType, typing.Union):
            options = [a for a in args if a is not type(None)]
            for option in options:
                try:
                    return self.convert(option, value, key)
                except ConfigError:
                    pass
            names = " or ".join(_type_name(a) for a in options)
            raise self.fail(key, f"expected {names}, got {value!r}")
        if origin is Literal:
            if value not in args:
                raise self.fail(key, f"expected one of {', '.join(map(repr, args))}, got {value!r}")
            return value
        if origin in (list, tuple, collections.abc.Sequence) and args:
            if not isinstance(value, list):
                raise self.fail(key, f"expected an array, got {value!r}")
            items = [self.convert(args[0], v, (*key, i)) for i, v in enumerate(value)]
            return tuple(items) if origin is tuple else items
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            return self.build(hint, value, key)
        if hint is float and type(value) is int:
            return float(value)
        if hint in (bool, int, float, str):
            if type(value) is not hint:
                raise self.fail(key, f"expected {_type_name(hint)}, got {value!r}")
            return value
        # A type this loader does not know (added by a later issue): validate() judges it.
        return value


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
    for number, line in enumerate(lines, 1):
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
    for end in range(len(key), 0, -1):
        if key[:end] in found:
            return found[key[:end]]
    return None
