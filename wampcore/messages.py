"""Every WAMP message as a frozen, slotted dataclass, valid at birth, with its wire codec.

``from_wire(list)`` turns a decoded message list into a message object, and
``message.to_wire()`` turns it back. Validation happens once, in the dataclass's
``__post_init__``, so a message built by application code is held to exactly the rules a message
from the wire is: element types, ids in [1, 2^53] (bool is never an int here), loose URIs (strict
on request), string dict keys, the legal ERROR request types, and the types of the
Options/Details keys WAMP (and Autobahn) define. Unknown keys are kept and ignored.

A message built by application code that breaks a rule raises ``LocalProtocolError``; a wire
message that does raises ``RemoteProtocolError`` with reason ``wamp.error.protocol_violation``.
The error text names the message and field, e.g. ``PUBLISH.Options.acknowledge``.

Payloads: ``args``/``kwargs`` are None when absent. Empty ones are accepted on input and left
out on output; kwargs without args go out with ``[]`` args (wamp-spec.md §1.1). Autobahn's
payload-transparency mode puts raw bytes in place of the args list when ``enc_algo`` is set; that
value is carried in ``payload`` (and the vectors require it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from . import uri as _uri
from .errors import LocalProtocolError, ProtocolError, RemoteProtocolError

__all__ = [
    "ERROR_REQUEST_TYPES",
    "MAX_ID",
    "MESSAGE_CLASSES",
    "Abort",
    "Authenticate",
    "Call",
    "Cancel",
    "Challenge",
    "Error",
    "Event",
    "EventReceived",
    "Goodbye",
    "Hello",
    "Interrupt",
    "Invocation",
    "Message",
    "Publish",
    "Published",
    "Register",
    "Registered",
    "Result",
    "Subscribe",
    "Subscribed",
    "Unregister",
    "Unregistered",
    "Unsubscribe",
    "Unsubscribed",
    "Welcome",
    "Yield",
    "from_wire",
]

MAX_ID = 2**53

# Message codes (wamp-spec.md §1.2).
HELLO, WELCOME, ABORT, CHALLENGE, AUTHENTICATE, GOODBYE, ERROR = 1, 2, 3, 4, 5, 6, 8
PUBLISH, PUBLISHED = 16, 17
SUBSCRIBE, SUBSCRIBED, UNSUBSCRIBE, UNSUBSCRIBED, EVENT = 32, 33, 34, 35, 36
EVENT_RECEIVED = 337
CALL, CANCEL, RESULT = 48, 49, 50
REGISTER, REGISTERED, UNREGISTER, UNREGISTERED = 64, 65, 66, 67
INVOCATION, INTERRUPT, YIELD = 68, 69, 70

#: The request types an ERROR may answer (wamp-spec.md §1.2 notes).
ERROR_REQUEST_TYPES = frozenset(
    {PUBLISH, SUBSCRIBE, UNSUBSCRIBE, CALL, REGISTER, UNREGISTER, INVOCATION}
)


class _Invalid(Exception):
    """Internal: a validation failure; turned into Local/RemoteProtocolError at the boundary."""


# --- element checks ----------------------------------------------------------------------------


def _check_id(value: Any, what: str) -> None:
    if type(value) is not int or not 1 <= value <= MAX_ID:
        raise _Invalid(f"{what} must be an id (integer in [1, 2^53]), got {value!r:.80}")


def _check_dict(value: Any, what: str) -> None:
    if type(value) is not dict:
        raise _Invalid(f"{what} must be a dict, got {type(value).__name__}")
    for key in value:
        if type(key) is not str:
            raise _Invalid(f"{what} keys must be strings, got {key!r:.80}")


def _check_str(value: Any, what: str) -> None:
    if type(value) is not str:
        raise _Invalid(f"{what} must be a string, got {type(value).__name__}")


def _check_uri(value: Any, what: str, *, allow_empty: bool = False) -> None:
    if type(value) is not str:
        raise _Invalid(f"{what} must be a URI string, got {type(value).__name__}")
    if not _uri.is_valid(value, allow_empty=allow_empty):
        raise _Invalid(f"{what} is not a valid URI: {value!r:.200}")


def _check_payload(msg: Any, name: str, container: str) -> None:
    args, kwargs, payload = msg.args, msg.kwargs, msg.payload
    if payload is not None:
        if type(payload) is not bytes and type(payload) is not str:
            raise _Invalid(f"{name} payload must be bytes, got {type(payload).__name__}")
        if args is not None or kwargs is not None:
            raise _Invalid(f"{name} carries both a transparent payload and args/kwargs")
        if getattr(msg, container).get("enc_algo") is None:
            raise _Invalid(f"{name} transparent payload requires {container}.enc_algo")
        return
    if args is not None and type(args) is not list:
        raise _Invalid(f"{name}.Arguments must be a list, got {type(args).__name__}")
    if kwargs is not None:
        _check_dict(kwargs, f"{name}.ArgumentsKw")


# --- known Options/Details keys ------------------------------------------------------------------
# A checker takes (value, "MSG.Options.key") and raises _Invalid. Only keys WAMP (or Autobahn,
# whose behaviour the spec's vectors follow) defines are listed; anything else is ignored.

_Checker = Callable[[Any, str], None]


def _bool(value: Any, what: str) -> None:
    if type(value) is not bool:
        raise _Invalid(f"{what} must be a bool, got {value!r:.80}")


def _int(value: Any, what: str) -> None:
    if type(value) is not int or value < 0:
        raise _Invalid(f"{what} must be a non-negative integer, got {value!r:.80}")


def _id_list(value: Any, what: str) -> None:
    if type(value) is not list:
        raise _Invalid(f"{what} must be a list of ids, got {type(value).__name__}")
    for item in value:
        _check_id(item, f"{what} item")


def _str_list(value: Any, what: str) -> None:
    if type(value) is not list:
        raise _Invalid(f"{what} must be a list of strings, got {type(value).__name__}")
    for item in value:
        if type(item) is not str:
            raise _Invalid(f"{what} items must be strings, got {item!r:.80}")


def _dict_list(value: Any, what: str) -> None:
    if type(value) is not list:
        raise _Invalid(f"{what} must be a list of dicts, got {type(value).__name__}")
    for item in value:
        _check_dict(item, f"{what} item")


def _uri_value(value: Any, what: str) -> None:
    _check_uri(value, what)


def _one_of(*allowed: str | None) -> _Checker:
    def check(value: Any, what: str) -> None:
        if value not in allowed or (value is not None and type(value) is not str):
            shown = ", ".join(repr(a) for a in allowed)
            raise _Invalid(f"{what} must be one of {shown}, got {value!r:.80}")

    return check


_ENC = {
    "enc_algo": _one_of(None, "cryptobox", "mqtt", "xbr"),
    "enc_serializer": _one_of("json", "msgpack", "cbor", "ubjson", "opaque", "flatbuffers"),
    "enc_key": _check_str,
    "ppt_scheme": _check_str,
    "ppt_serializer": _check_str,
    "ppt_cipher": _check_str,
    "ppt_keyid": _check_str,
    "forward_for": _dict_list,
    "transaction_hash": _check_str,
}
_MATCH = _one_of("exact", "prefix", "wildcard")

_HELLO_DETAILS: dict[str, _Checker] = {
    "roles": _check_dict,
    "agent": _check_str,
    "authmethods": _str_list,
    "authid": _check_str,
    "authrole": _check_str,
    "authextra": _check_dict,
}
_WELCOME_DETAILS: dict[str, _Checker] = {
    "roles": _check_dict,
    "agent": _check_str,
    "authid": _check_str,
    "authrole": _check_str,
    "authmethod": _check_str,
    "authprovider": _check_str,
    "authextra": _check_dict,
}
_CLOSE_DETAILS: dict[str, _Checker] = {"message": _check_str}
_PUBLISH_OPTIONS: dict[str, _Checker] = {
    "acknowledge": _bool,
    "exclude_me": _bool,
    "exclude": _id_list,
    "exclude_authid": _str_list,
    "exclude_authrole": _str_list,
    "eligible": _id_list,
    "eligible_authid": _str_list,
    "eligible_authrole": _str_list,
    "disclose_me": _bool,
    "retain": _bool,
    "rkey": _check_str,
    **_ENC,
}
_SUBSCRIBE_OPTIONS: dict[str, _Checker] = {
    "match": _MATCH,
    "get_retained": _bool,
    "nkey": _check_str,
    "forward_for": _dict_list,
}
_EVENT_DETAILS: dict[str, _Checker] = {
    "publisher": _check_id,
    "publisher_authid": _check_str,
    "publisher_authrole": _check_str,
    "trustlevel": _int,
    "topic": _uri_value,
    "retained": _bool,
    "x_acknowledged_delivery": _bool,
    **_ENC,
}
_CALL_OPTIONS: dict[str, _Checker] = {
    "receive_progress": _bool,
    "progress": _bool,
    "timeout": _int,
    "disclose_me": _bool,
    "runmode": _check_str,
    "rkey": _check_str,
    "caller": _check_id,
    "caller_authid": _check_str,
    "caller_authrole": _check_str,
    **_ENC,
}
_CANCEL_OPTIONS: dict[str, _Checker] = {"mode": _one_of("skip", "kill", "killnowait")}
_INTERRUPT_OPTIONS: dict[str, _Checker] = {
    "mode": _one_of("skip", "kill", "killnowait"),
    "reason": _check_str,
}
_REGISTER_OPTIONS: dict[str, _Checker] = {
    "match": _MATCH,
    "invoke": _one_of("single", "roundrobin", "random", "first", "last"),
    "disclose_caller": _bool,
    "forward_timeout": _bool,
    "concurrency": _int,
    "force_reregister": _bool,
    "forward_for": _dict_list,
}
_INVOCATION_DETAILS: dict[str, _Checker] = {
    "caller": _check_id,
    "caller_authid": _check_str,
    "caller_authrole": _check_str,
    "procedure": _uri_value,
    "receive_progress": _bool,
    "progress": _bool,
    "trustlevel": _int,
    "timeout": _int,
    **_ENC,
}
_RESULT_DETAILS: dict[str, _Checker] = {
    "progress": _bool,
    "callee": _check_id,
    "callee_authid": _check_str,
    "callee_authrole": _check_str,
    **_ENC,
}
_ERROR_DETAILS: dict[str, _Checker] = {
    "callee": _check_id,
    "callee_authid": _check_str,
    "callee_authrole": _check_str,
    **_ENC,
}
_REVOCATION_DETAILS: dict[str, _Checker] = {
    "reason": _check_str,
    "subscription": _check_id,
    "registration": _check_id,
}


def _check_known(value: Any, what: str, known: Mapping[str, _Checker]) -> None:
    _check_dict(value, what)
    for key, item in value.items():
        checker = known.get(key)
        if checker is not None:
            checker(item, f"{what}.{key}")


# --- the message classes ---------------------------------------------------------------------


class Message:
    """Base of every WAMP message class."""

    __slots__ = ()

    #: The message code (element 0 on the wire).
    TYPE: ClassVar[int]
    #: The message name, upper case, as the spec writes it.
    NAME: ClassVar[str]
    #: The fields holding URIs (for the optional strict-URI check).
    URI_FIELDS: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        try:
            self._validate()
        except _Invalid as exc:
            raise LocalProtocolError(str(exc)) from None

    def _validate(self) -> None:
        raise NotImplementedError

    def to_wire(self) -> list[Any]:
        """The message as a list, ready for a serializer."""
        raise NotImplementedError

    @classmethod
    def _from_wire(cls, wire: list[Any]) -> Message:
        raise NotImplementedError


def _append_payload(out: list[Any], args: Any, kwargs: Any, payload: Any) -> list[Any]:
    if payload is not None:
        out.append(payload)
    elif kwargs:
        out.append(args or [])
        out.append(kwargs)
    elif args:
        out.append(args)
    return out


def _arity(wire: list[Any], name: str, low: int, high: int) -> None:
    n = len(wire)
    if not low <= n <= high:
        expected = str(low) if low == high else f"{low} to {high}"
        raise _Invalid(f"{name} must have {expected} elements, got {n}")


def _payload_fields(wire: list[Any], start: int, name: str) -> tuple[Any, Any, Any]:
    """args, kwargs, payload from the trailing elements of a wire message."""
    n = len(wire)
    if n <= start:
        return None, None, None
    args = wire[start]
    if type(args) is not list:
        if n == start + 1 and (type(args) is bytes or type(args) is str):
            return None, None, args  # transparent payload; _check_payload verifies enc_algo
        raise _Invalid(f"{name}.Arguments must be a list, got {type(args).__name__}")
    kwargs = None
    if n > start + 1:
        kwargs = wire[start + 1]
        if type(kwargs) is not dict:
            # Checked here, before an empty value is normalised away: only {} may be empty.
            raise _Invalid(f"{name}.ArgumentsKw must be a dict, got {type(kwargs).__name__}")
    return (args or None), (kwargs or None), None


@dataclass(frozen=True, slots=True, kw_only=True)
class Hello(Message):
    """``[1, Realm|uri, Details|dict]``: a client asks to join a realm."""

    TYPE = HELLO
    NAME = "HELLO"
    URI_FIELDS = ("realm",)
    realm: str
    details: dict[str, Any]

    def _validate(self) -> None:
        _check_uri(self.realm, "HELLO.Realm")
        _check_known(self.details, "HELLO.Details", _HELLO_DETAILS)
        roles = self.details.get("roles")
        if not roles:
            raise _Invalid("HELLO.Details.roles is required and must announce at least one role")
        for role, spec in roles.items():
            if type(spec) is not dict:
                raise _Invalid(f"HELLO.Details.roles.{role} must be a dict")

    @property
    def roles(self) -> dict[str, Any]:
        return self.details["roles"]  # type: ignore[no-any-return]

    def to_wire(self) -> list[Any]:
        return [HELLO, self.realm, self.details]

    @classmethod
    def _from_wire(cls, wire: list[Any]) -> Message:
        _arity(wire, "HELLO", 3, 3)
        return cls(realm=wire[1], details=wire[2])


@dataclass(frozen=True, slots=True, kw_only=True)
class Welcome(Message):
    """``[2, Session|id, Details|dict]``: the router accepts a session."""

    TYPE = WELCOME
    NAME = "WELCOME"
    session_id: int
    details: dict[str, Any]

    def _validate(self) -> None:
        _check_id(self.session_id, "WELCOME.Session")
        _check_known(self.details, "WELCOME.Details", _WELCOME_DETAILS)
        roles = self.details.get("roles")
        if not roles:
            raise _Invalid("WELCOME.Details.roles is required and must announce a router role")
        for role, spec in roles.items():
            if type(spec) is not dict:
                raise _Invalid(f"WELCOME.Details.roles.{role} must be a dict")

    @property
    def roles(self) -> dict[str, Any]:
        return self.details["roles"]  # type: ignore[no-any-return]

    def to_wire(self) -> list[Any]:
        return [WELCOME, self.session_id, self.details]

    @classmethod
    def _from_wire(cls, wire: list[Any]) -> Message:
        _arity(wire, "WELCOME", 3, 3)
        return cls(session_id=wire[1], details=wire[2])


@dataclass(frozen=True, slots=True, kw_only=True)
class Abort(Message):
    """``[3, Details|dict, Reason|uri, (Arguments|list, (ArgumentsKw|dict))]``."""

    TYPE = ABORT
    NAME = "ABORT"
    URI_FIELDS = ("reason",)
    details: dict[str, Any] = field(default_factory=dict)
    reason: str
    args: list[Any] | None = None
    kwargs: dict[str, Any] | None = None
    payload: None = None

    def _validate(self) -> None:
        _check_known(self.details, "ABORT.Details", _CLOSE_DETAILS)
        _check_uri(self.reason, "ABORT.Reason")
        _check_payload(self, "ABORT", "details")

    def to_wire(self) -> list[Any]:
        return _append_payload([ABORT, self.details, self.reason], self.args, self.kwargs, None)

    @classmethod
    def _from_wire(cls, wire: list[Any]) -> Message:
        _arity(wire, "ABORT", 3, 5)
        args, kwargs, payload = _payload_fields(wire, 3, "ABORT")
        if payload is not None:
            raise _Invalid("ABORT.Arguments must be a list")
        return cls(details=wire[1], reason=wire[2], args=args, kwargs=kwargs)


@dataclass(frozen=True, slots=True, kw_only=True)
class Challenge(Message):
    """``[4, AuthMethod|string, Extra|dict]``."""

    TYPE = CHALLENGE
    NAME = "CHALLENGE"
    method: str
    extra: dict[str, Any] = field(default_factory=dict)

    def _validate(self) -> None:
        _check_str(self.method, "CHALLENGE.AuthMethod")
        _check_dict(self.extra, "CHALLENGE.Extra")

    def to_wire(self) -> list[Any]:
        return [CHALLENGE, self.method, self.extra]

    @classmethod
    def _from_wire(cls, wire: list[Any]) -> Message:
        _arity(wire, "CHALLENGE", 3, 3)
        return cls(method=wire[1], extra=wire[2])


@dataclass(frozen=True, slots=True, kw_only=True)
class Authenticate(Message):
    """``[5, Signature|string, Extra|dict]``."""

    TYPE = AUTHENTICATE
    NAME = "AUTHENTICATE"
    signature: str
    extra: dict[str, Any] = field(default_factory=dict)

    def _validate(self) -> None:
        _check_str(self.signature, "AUTHENTICATE.Signature")
        _check_dict(self.extra, "AUTHENTICATE.Extra")

    def to_wire(self) -> list[Any]:
        return [AUTHENTICATE, self.signature, self.extra]

    @classmethod
    def _from_wire(cls, wire: list[Any]) -> Message:
        _arity(wire, "AUTHENTICATE", 3, 3)
        return cls(signature=wire[1], extra=wire[2])


@dataclass(frozen=True, slots=True, kw_only=True)
class Goodbye(Message):
    """``[6, Details|dict, Reason|uri]``."""

    TYPE = GOODBYE
    NAME = "GOODBYE"
    URI_FIELDS = ("reason",)
    details: dict[str, Any] = field(default_factory=dict)
    reason: str

    def _validate(self) -> None:
        _check_known(self.details, "GOODBYE.Details", _CLOSE_DETAILS)
        _check_uri(self.reason, "GOODBYE.Reason")

    def to_wire(self) -> list[Any]:
        return [GOODBYE, self.details, self.reason]

    @classmethod
    def _from_wire(cls, wire: list[Any]) -> Message:
        _arity(wire, "GOODBYE", 3, 3)
        return cls(details=wire[1], reason=wire[2])


@dataclass(frozen=True, slots=True, kw_only=True)
class Error(Message):
    """``[8, REQUEST.Type|int, REQUEST.Request|id, Details|dict, Error|uri, (Args, (Kwargs))]``."""

    TYPE = ERROR
    NAME = "ERROR"
    URI_FIELDS = ("error",)
    request_type: int
    request_id: int
    details: dict[str, Any] = field(default_factory=dict)
    error: str
    args: list[Any] | None = None
    kwargs: dict[str, Any] | None = None
    payload: bytes | str | None = None

    def _validate(self) -> None:
        if type(self.request_type) is not int or self.request_type not in ERROR_REQUEST_TYPES:
            raise _Invalid(f"ERROR.REQUEST.Type {self.request_type!r:.40} is not a legal type")
        _check_id(self.request_id, "ERROR.REQUEST.Request")
        _check_known(self.details, "ERROR.Details", _ERROR_DETAILS)
        _check_uri(self.error, "ERROR.Error")
        _check_payload(self, "ERROR", "details")

    def to_wire(self) -> list[Any]:
        out = [ERROR, self.request_type, self.request_id, self.details, self.error]
        return _append_payload(out, self.args, self.kwargs, self.payload)

    @classmethod
    def _from_wire(cls, wire: list[Any]) -> Message:
        _arity(wire, "ERROR", 5, 7)
        args, kwargs, payload = _payload_fields(wire, 5, "ERROR")
        return cls(
            request_type=wire[1],
            request_id=wire[2],
            details=wire[3],
            error=wire[4],
            args=args,
            kwargs=kwargs,
            payload=payload,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Publish(Message):
    """``[16, Request|id, Options|dict, Topic|uri, (Arguments|list, (ArgumentsKw|dict))]``."""

    TYPE = PUBLISH
    NAME = "PUBLISH"
    URI_FIELDS = ("topic",)
    request_id: int
    options: dict[str, Any] = field(default_factory=dict)
    topic: str
    args: list[Any] | None = None
    kwargs: dict[str, Any] | None = None
    payload: bytes | str | None = None

    def _validate(self) -> None:
        _check_id(self.request_id, "PUBLISH.Request")
        _check_known(self.options, "PUBLISH.Options", _PUBLISH_OPTIONS)
        _check_uri(self.topic, "PUBLISH.Topic")
        _check_payload(self, "PUBLISH", "options")

    def to_wire(self) -> list[Any]:
        out = [PUBLISH, self.request_id, self.options, self.topic]
        return _append_payload(out, self.args, self.kwargs, self.payload)

    @classmethod
    def _from_wire(cls, wire: list[Any]) -> Message:
        _arity(wire, "PUBLISH", 4, 6)
        args, kwargs, payload = _payload_fields(wire, 4, "PUBLISH")
        return cls(
            request_id=wire[1],
            options=wire[2],
            topic=wire[3],
            args=args,
            kwargs=kwargs,
            payload=payload,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Published(Message):
    """``[17, PUBLISH.Request|id, Publication|id]``."""

    TYPE = PUBLISHED
    NAME = "PUBLISHED"
    request_id: int
    publication_id: int

    def _validate(self) -> None:
        _check_id(self.request_id, "PUBLISHED.PUBLISH.Request")
        _check_id(self.publication_id, "PUBLISHED.Publication")

    def to_wire(self) -> list[Any]:
        return [PUBLISHED, self.request_id, self.publication_id]

    @classmethod
    def _from_wire(cls, wire: list[Any]) -> Message:
        _arity(wire, "PUBLISHED", 3, 3)
        return cls(request_id=wire[1], publication_id=wire[2])


def _pattern_allows_empty(options: Any) -> bool:
    return type(options) is dict and options.get("match") in ("prefix", "wildcard")


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscribe(Message):
    """``[32, Request|id, Options|dict, Topic|uri]``; empty components only for patterns."""

    TYPE = SUBSCRIBE
    NAME = "SUBSCRIBE"
    URI_FIELDS = ("topic",)
    request_id: int
    options: dict[str, Any] = field(default_factory=dict)
    topic: str

    def _validate(self) -> None:
        _check_id(self.request_id, "SUBSCRIBE.Request")
        _check_known(self.options, "SUBSCRIBE.Options", _SUBSCRIBE_OPTIONS)
        _check_uri(self.topic, "SUBSCRIBE.Topic", allow_empty=_pattern_allows_empty(self.options))

    @property
    def match(self) -> str:
        return self.options.get("match", "exact")  # type: ignore[no-any-return]

    def to_wire(self) -> list[Any]:
        return [SUBSCRIBE, self.request_id, self.options, self.topic]

    @classmethod
    def _from_wire(cls, wire: list[Any]) -> Message:
        _arity(wire, "SUBSCRIBE", 4, 4)
        return cls(request_id=wire[1], options=wire[2], topic=wire[3])


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscribed(Message):
    """``[33, SUBSCRIBE.Request|id, Subscription|id]``."""

    TYPE = SUBSCRIBED
    NAME = "SUBSCRIBED"
    request_id: int
    subscription_id: int

    def _validate(self) -> None:
        _check_id(self.request_id, "SUBSCRIBED.SUBSCRIBE.Request")
        _check_id(self.subscription_id, "SUBSCRIBED.Subscription")

    def to_wire(self) -> list[Any]:
        return [SUBSCRIBED, self.request_id, self.subscription_id]

    @classmethod
    def _from_wire(cls, wire: list[Any]) -> Message:
        _arity(wire, "SUBSCRIBED", 3, 3)
        return cls(request_id=wire[1], subscription_id=wire[2])


@dataclass(frozen=True, slots=True, kw_only=True)
class Unsubscribe(Message):
    """``[34, Request|id, SUBSCRIBED.Subscription|id]``."""

    TYPE = UNSUBSCRIBE
    NAME = "UNSUBSCRIBE"
    request_id: int
    subscription_id: int

    def _validate(self) -> None:
        _check_id(self.request_id, "UNSUBSCRIBE.Request")
        _check_id(self.subscription_id, "UNSUBSCRIBE.SUBSCRIBED.Subscription")

    def to_wire(self) -> list[Any]:
        return [UNSUBSCRIBE, self.request_id, self.subscription_id]

    @classmethod
    def _from_wire(cls, wire: list[Any]) -> Message:
        _arity(wire, "UNSUBSCRIBE", 3, 3)
        return cls(request_id=wire[1], subscription_id=wire[2])


def _check_revocable(msg: Any, name: str, key: str) -> None:
    """UNSUBSCRIBED/UNREGISTERED: request id, or 0 with Details.<key> (the revocation form)."""
    if msg.request_id == 0 and type(msg.request_id) is int:
        _check_known(msg.details, f"{name}.Details", _REVOCATION_DETAILS)
        if key not in msg.details:
            raise _Invalid(f"{name} revocation (request 0) requires Details.{key}")
        return
    _check_id(msg.request_id, f"{name}.Request")
    _check_known(msg.details, f"{name}.Details", _REVOCATION_DETAILS)


@dataclass(frozen=True, slots=True, kw_only=True)
class Unsubscribed(Message):
    """``[35, UNSUBSCRIBE.Request|id]``, or the revocation form ``[35, 0, Details|dict]``."""

    TYPE = UNSUBSCRIBED
    NAME = "UNSUBSCRIBED"
    request_id: int
    details: dict[str, Any] = field(default_factory=dict)

    def _validate(self) -> None:
        _check_revocable(self, "UNSUBSCRIBED", "subscription")

    @property
    def is_revocation(self) -> bool:
        return self.request_id == 0

    def to_wire(self) -> list[Any]:
        if self.details or self.request_id == 0:
            return [UNSUBSCRIBED, self.request_id, self.details]
        return [UNSUBSCRIBED, self.request_id]

    @classmethod
    def _from_wire(cls, wire: list[Any]) -> Message:
        _arity(wire, "UNSUBSCRIBED", 2, 3)
        if len(wire) == 2 and wire[1] == 0:
            raise _Invalid("UNSUBSCRIBED revocation (request 0) requires Details.subscription")
        return cls(request_id=wire[1], details=wire[2] if len(wire) == 3 else {})


@dataclass(frozen=True, slots=True, kw_only=True)
class Event(Message):
    """``[36, Subscription|id, Publication|id, Details|dict, (Arguments, (ArgumentsKw))]``."""

    TYPE = EVENT
    NAME = "EVENT"
    subscription_id: int
    publication_id: int
    details: dict[str, Any] = field(default_factory=dict)
    args: list[Any] | None = None
    kwargs: dict[str, Any] | None = None
    payload: bytes | str | None = None

    def _validate(self) -> None:
        _check_id(self.subscription_id, "EVENT.SUBSCRIBED.Subscription")
        _check_id(self.publication_id, "EVENT.PUBLISHED.Publication")
        _check_known(self.details, "EVENT.Details", _EVENT_DETAILS)
        _check_payload(self, "EVENT", "details")

    def to_wire(self) -> list[Any]:
        out = [EVENT, self.subscription_id, self.publication_id, self.details]
        return _append_payload(out, self.args, self.kwargs, self.payload)

    @classmethod
    def _from_wire(cls, wire: list[Any]) -> Message:
        _arity(wire, "EVENT", 4, 6)
        args, kwargs, payload = _payload_fields(wire, 4, "EVENT")
        return cls(
            subscription_id=wire[1],
            publication_id=wire[2],
            details=wire[3],
            args=args,
            kwargs=kwargs,
            payload=payload,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class EventReceived(Message):
    """``[337, EVENT.Publication|id]``: acknowledged event delivery (implementation-specific)."""

    TYPE = EVENT_RECEIVED
    NAME = "EVENT_RECEIVED"
    publication_id: int

    def _validate(self) -> None:
        _check_id(self.publication_id, "EVENT_RECEIVED.EVENT.Publication")

    def to_wire(self) -> list[Any]:
        return [EVENT_RECEIVED, self.publication_id]

    @classmethod
    def _from_wire(cls, wire: list[Any]) -> Message:
        _arity(wire, "EVENT_RECEIVED", 2, 2)
        return cls(publication_id=wire[1])


@dataclass(frozen=True, slots=True, kw_only=True)
class Call(Message):
    """``[48, Request|id, Options|dict, Procedure|uri, (Arguments|list, (ArgumentsKw|dict))]``."""

    TYPE = CALL
    NAME = "CALL"
    URI_FIELDS = ("procedure",)
    request_id: int
    options: dict[str, Any] = field(default_factory=dict)
    procedure: str
    args: list[Any] | None = None
    kwargs: dict[str, Any] | None = None
    payload: bytes | str | None = None

    def _validate(self) -> None:
        _check_id(self.request_id, "CALL.Request")
        _check_known(self.options, "CALL.Options", _CALL_OPTIONS)
        _check_uri(self.procedure, "CALL.Procedure")
        _check_payload(self, "CALL", "options")

    def to_wire(self) -> list[Any]:
        out = [CALL, self.request_id, self.options, self.procedure]
        return _append_payload(out, self.args, self.kwargs, self.payload)

    @classmethod
    def _from_wire(cls, wire: list[Any]) -> Message:
        _arity(wire, "CALL", 4, 6)
        args, kwargs, payload = _payload_fields(wire, 4, "CALL")
        return cls(
            request_id=wire[1],
            options=wire[2],
            procedure=wire[3],
            args=args,
            kwargs=kwargs,
            payload=payload,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Cancel(Message):
    """``[49, CALL.Request|id, Options|dict]``."""

    TYPE = CANCEL
    NAME = "CANCEL"
    request_id: int
    options: dict[str, Any] = field(default_factory=dict)

    def _validate(self) -> None:
        _check_id(self.request_id, "CANCEL.CALL.Request")
        _check_known(self.options, "CANCEL.Options", _CANCEL_OPTIONS)

    def to_wire(self) -> list[Any]:
        return [CANCEL, self.request_id, self.options]

    @classmethod
    def _from_wire(cls, wire: list[Any]) -> Message:
        _arity(wire, "CANCEL", 3, 3)
        return cls(request_id=wire[1], options=wire[2])


@dataclass(frozen=True, slots=True, kw_only=True)
class Result(Message):
    """``[50, CALL.Request|id, Details|dict, (YIELD.Arguments|list, (YIELD.ArgumentsKw|dict))]``."""

    TYPE = RESULT
    NAME = "RESULT"
    request_id: int
    details: dict[str, Any] = field(default_factory=dict)
    args: list[Any] | None = None
    kwargs: dict[str, Any] | None = None
    payload: bytes | str | None = None

    def _validate(self) -> None:
        _check_id(self.request_id, "RESULT.CALL.Request")
        _check_known(self.details, "RESULT.Details", _RESULT_DETAILS)
        _check_payload(self, "RESULT", "details")

    @property
    def progress(self) -> bool:
        return self.details.get("progress") is True

    def to_wire(self) -> list[Any]:
        out = [RESULT, self.request_id, self.details]
        return _append_payload(out, self.args, self.kwargs, self.payload)

    @classmethod
    def _from_wire(cls, wire: list[Any]) -> Message:
        _arity(wire, "RESULT", 3, 5)
        args, kwargs, payload = _payload_fields(wire, 3, "RESULT")
        return cls(request_id=wire[1], details=wire[2], args=args, kwargs=kwargs, payload=payload)


@dataclass(frozen=True, slots=True, kw_only=True)
class Register(Message):
    """``[64, Request|id, Options|dict, Procedure|uri]``; empty components only for patterns."""

    TYPE = REGISTER
    NAME = "REGISTER"
    URI_FIELDS = ("procedure",)
    request_id: int
    options: dict[str, Any] = field(default_factory=dict)
    procedure: str

    def _validate(self) -> None:
        _check_id(self.request_id, "REGISTER.Request")
        _check_known(self.options, "REGISTER.Options", _REGISTER_OPTIONS)
        _check_uri(
            self.procedure, "REGISTER.Procedure", allow_empty=_pattern_allows_empty(self.options)
        )

    @property
    def match(self) -> str:
        return self.options.get("match", "exact")  # type: ignore[no-any-return]

    @property
    def invoke(self) -> str:
        return self.options.get("invoke", "single")  # type: ignore[no-any-return]

    def to_wire(self) -> list[Any]:
        return [REGISTER, self.request_id, self.options, self.procedure]

    @classmethod
    def _from_wire(cls, wire: list[Any]) -> Message:
        _arity(wire, "REGISTER", 4, 4)
        return cls(request_id=wire[1], options=wire[2], procedure=wire[3])


@dataclass(frozen=True, slots=True, kw_only=True)
class Registered(Message):
    """``[65, REGISTER.Request|id, Registration|id]``."""

    TYPE = REGISTERED
    NAME = "REGISTERED"
    request_id: int
    registration_id: int

    def _validate(self) -> None:
        _check_id(self.request_id, "REGISTERED.REGISTER.Request")
        _check_id(self.registration_id, "REGISTERED.Registration")

    def to_wire(self) -> list[Any]:
        return [REGISTERED, self.request_id, self.registration_id]

    @classmethod
    def _from_wire(cls, wire: list[Any]) -> Message:
        _arity(wire, "REGISTERED", 3, 3)
        return cls(request_id=wire[1], registration_id=wire[2])


@dataclass(frozen=True, slots=True, kw_only=True)
class Unregister(Message):
    """``[66, Request|id, REGISTERED.Registration|id]``."""

    TYPE = UNREGISTER
    NAME = "UNREGISTER"
    request_id: int
    registration_id: int

    def _validate(self) -> None:
        _check_id(self.request_id, "UNREGISTER.Request")
        _check_id(self.registration_id, "UNREGISTER.REGISTERED.Registration")

    def to_wire(self) -> list[Any]:
        return [UNREGISTER, self.request_id, self.registration_id]

    @classmethod
    def _from_wire(cls, wire: list[Any]) -> Message:
        _arity(wire, "UNREGISTER", 3, 3)
        return cls(request_id=wire[1], registration_id=wire[2])


@dataclass(frozen=True, slots=True, kw_only=True)
class Unregistered(Message):
    """``[67, UNREGISTER.Request|id]``, or the revocation form ``[67, 0, Details|dict]``."""

    TYPE = UNREGISTERED
    NAME = "UNREGISTERED"
    request_id: int
    details: dict[str, Any] = field(default_factory=dict)

    def _validate(self) -> None:
        _check_revocable(self, "UNREGISTERED", "registration")

    @property
    def is_revocation(self) -> bool:
        return self.request_id == 0

    def to_wire(self) -> list[Any]:
        if self.details or self.request_id == 0:
            return [UNREGISTERED, self.request_id, self.details]
        return [UNREGISTERED, self.request_id]

    @classmethod
    def _from_wire(cls, wire: list[Any]) -> Message:
        _arity(wire, "UNREGISTERED", 2, 3)
        if len(wire) == 2 and wire[1] == 0:
            raise _Invalid("UNREGISTERED revocation (request 0) requires Details.registration")
        return cls(request_id=wire[1], details=wire[2] if len(wire) == 3 else {})


@dataclass(frozen=True, slots=True, kw_only=True)
class Invocation(Message):
    """``[68, Request|id, Registration|id, Details|dict, (Arguments, (ArgumentsKw))]``."""

    TYPE = INVOCATION
    NAME = "INVOCATION"
    request_id: int
    registration_id: int
    details: dict[str, Any] = field(default_factory=dict)
    args: list[Any] | None = None
    kwargs: dict[str, Any] | None = None
    payload: bytes | str | None = None

    def _validate(self) -> None:
        _check_id(self.request_id, "INVOCATION.Request")
        _check_id(self.registration_id, "INVOCATION.REGISTERED.Registration")
        _check_known(self.details, "INVOCATION.Details", _INVOCATION_DETAILS)
        _check_payload(self, "INVOCATION", "details")

    def to_wire(self) -> list[Any]:
        out = [INVOCATION, self.request_id, self.registration_id, self.details]
        return _append_payload(out, self.args, self.kwargs, self.payload)

    @classmethod
    def _from_wire(cls, wire: list[Any]) -> Message:
        _arity(wire, "INVOCATION", 4, 6)
        args, kwargs, payload = _payload_fields(wire, 4, "INVOCATION")
        return cls(
            request_id=wire[1],
            registration_id=wire[2],
            details=wire[3],
            args=args,
            kwargs=kwargs,
            payload=payload,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Interrupt(Message):
    """``[69, INVOCATION.Request|id, Options|dict]``."""

    TYPE = INTERRUPT
    NAME = "INTERRUPT"
    request_id: int
    options: dict[str, Any] = field(default_factory=dict)

    def _validate(self) -> None:
        _check_id(self.request_id, "INTERRUPT.INVOCATION.Request")
        _check_known(self.options, "INTERRUPT.Options", _INTERRUPT_OPTIONS)

    def to_wire(self) -> list[Any]:
        return [INTERRUPT, self.request_id, self.options]

    @classmethod
    def _from_wire(cls, wire: list[Any]) -> Message:
        _arity(wire, "INTERRUPT", 3, 3)
        return cls(request_id=wire[1], options=wire[2])


@dataclass(frozen=True, slots=True, kw_only=True)
class Yield(Message):
    """``[70, INVOCATION.Request|id, Options|dict, (Arguments|list, (ArgumentsKw|dict))]``."""

    TYPE = YIELD
    NAME = "YIELD"
    request_id: int
    options: dict[str, Any] = field(default_factory=dict)
    args: list[Any] | None = None
    kwargs: dict[str, Any] | None = None
    payload: bytes | str | None = None

    def _validate(self) -> None:
        _check_id(self.request_id, "YIELD.INVOCATION.Request")
        _check_known(self.options, "YIELD.Options", _RESULT_DETAILS)
        _check_payload(self, "YIELD", "options")

    @property
    def progress(self) -> bool:
        return self.options.get("progress") is True

    def to_wire(self) -> list[Any]:
        out = [YIELD, self.request_id, self.options]
        return _append_payload(out, self.args, self.kwargs, self.payload)

    @classmethod
    def _from_wire(cls, wire: list[Any]) -> Message:
        _arity(wire, "YIELD", 3, 5)
        args, kwargs, payload = _payload_fields(wire, 3, "YIELD")
        return cls(request_id=wire[1], options=wire[2], args=args, kwargs=kwargs, payload=payload)


#: Message code -> class, for every message wampcore speaks.
MESSAGE_CLASSES: dict[int, type[Message]] = {
    cls.TYPE: cls
    for cls in (
        Hello,
        Welcome,
        Abort,
        Challenge,
        Authenticate,
        Goodbye,
        Error,
        Publish,
        Published,
        Subscribe,
        Subscribed,
        Unsubscribe,
        Unsubscribed,
        Event,
        EventReceived,
        Call,
        Cancel,
        Result,
        Register,
        Registered,
        Unregister,
        Unregistered,
        Invocation,
        Interrupt,
        Yield,
    )
}


def from_wire(wire: Any, *, strict_uris: bool = False) -> Message:
    """Validate a decoded message list and build its message object.

    Raises ``RemoteProtocolError`` (reason ``wamp.error.protocol_violation``) naming the problem
    for anything that is not a valid WAMP message. With ``strict_uris``, URI fields must also
    follow the strict rules (components of ``[0-9a-z_]`` only).
    """
    if type(wire) is not list or not wire:
        raise RemoteProtocolError("a WAMP message must be a non-empty list")
    code = wire[0]
    cls = MESSAGE_CLASSES.get(code) if type(code) is int else None
    if cls is None:
        raise RemoteProtocolError(f"unknown WAMP message type {code!r:.40}")
    try:
        msg = cls._from_wire(wire)
    except _Invalid as exc:
        raise RemoteProtocolError(str(exc)) from None
    except ProtocolError as exc:  # raised by __post_init__ validation
        raise RemoteProtocolError(exc.message) from None
    if strict_uris:
        for name in cls.URI_FIELDS:
            value = getattr(msg, name)
            allow_empty = name in ("topic", "procedure") and _pattern_allows_empty(
                getattr(msg, "options", None)
            )
            if not _uri.is_valid(value, strict=True, allow_empty=allow_empty):
                raise RemoteProtocolError(f"{cls.NAME}.{name} is not a strict URI: {value!r:.200}")
    return msg
