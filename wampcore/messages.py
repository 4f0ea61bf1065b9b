"""Every WAMP message as a frozen, slotted dataclass, valid at birth, with its wire codec.

``from_wire(list)`` turns a decoded message list into a message object, and
``message.to_wire()`` turns it back. The rules: element types, ids in [1, 2^53] (bool is never
an int here), loose URIs (strict on request), string dict keys, the legal ERROR request types,
and the types of the Options/Details keys WAMP (and Autobahn) define. Unknown keys are kept and
ignored.

Each rule is written once per message type, and every message is checked exactly once:

* messages with an application payload (ABORT, ERROR, PUBLISH, EVENT, CALL, RESULT, INVOCATION,
  YIELD) have a check function over their fields, which the parser (wire) and ``__post_init__``
  (application code) both call;
* for the others the parser holds the rules, and ``__post_init__`` runs the parser on
  ``to_wire()``, which carries every field unchanged (UNSUBSCRIBED/UNREGISTERED excepted: they
  use their check function, because their ``to_wire`` leaves empty Details out).

Breaking a rule in application code raises ``LocalProtocolError``; on the wire it raises
``RemoteProtocolError`` with reason ``wamp.error.protocol_violation``. The error text names the
message and field, e.g. ``PUBLISH.Options.acknowledge``. A parser builds its object without
``__init__`` (see ``_builder``), so a wire message is not checked a second time.

Payloads: ``args``/``kwargs`` are None when absent. Empty ones are accepted on input and left
out on output; kwargs without args go out with ``[]`` args (wamp-spec.md §1.1). Autobahn's
payload-transparency mode puts raw bytes in place of the args list when ``enc_algo`` is set; that
value is carried in ``payload`` (and the vectors require it).

The parsers are the hot path of every peer, so they are written out per message type, with few
function calls and no string formatting unless a check fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from . import uri as _uri
from .errors import LocalProtocolError, ProtocolError, RemoteProtocolError

__all__ = [
    "ERROR_REQUEST_TYPES",
    "MAX_ID",
    "MESSAGE_CLASSES",
    "PPT_KEYS",
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


# Parsers build message objects directly (the check already ran); frozen dataclasses only
# refuse attribute assignment through their own __setattr__.
_new = object.__new__
_is_loose = _uri.is_loose


def _builder(cls: type[Message]) -> Any:
    """A mutable twin of a message class, for the parsers.

    Same base, same slots, so the same memory layout: a parser fills a twin in with plain
    attribute stores, then makes it the frozen class by assigning ``__class__`` (which Python
    allows between classes of identical layout). That is about twice as fast as setting each
    field through ``object.__setattr__``, and the object that comes out is an ordinary frozen
    instance of ``cls``. (The parsers are annotated ``-> Any`` because type checkers cannot
    follow the ``__class__`` assignment; every one returns a message of its type.)
    """
    return type(f"_{cls.__name__}Builder", (Message,), {"__slots__": cls.__slots__})


# --- value predicates -------------------------------------------------------------------------
# A known Options/Details key maps to a spec: either a type (the value must be exactly of that
# type; bool is not int) or a predicate. _EXPECTED describes each spec for error messages.


def _is_id(value: Any) -> bool:
    return type(value) is int and 0 < value <= MAX_ID


def _is_count(value: Any) -> bool:
    return type(value) is int and value >= 0


def _is_uri(value: Any) -> bool:
    return type(value) is str and _is_loose(value)


def _is_str_dict(value: Any) -> bool:
    if type(value) is not dict:
        return False
    for key in value:
        if type(key) is not str:
            return False
    return True


def _is_id_list(value: Any) -> bool:
    if type(value) is not list:
        return False
    for item in value:
        if type(item) is not int or not 0 < item <= MAX_ID:
            return False
    return True


def _is_str_list(value: Any) -> bool:
    if type(value) is not list:
        return False
    for item in value:
        if type(item) is not str:
            return False
    return True


def _is_dict_list(value: Any) -> bool:
    if type(value) is not list:
        return False
    for item in value:
        if not _is_str_dict(item):
            return False
    return True


_EXPECTED: dict[Any, str] = {
    bool: "a bool",
    str: "a string",
    _is_id: "an id (integer in [1, 2^53])",
    _is_count: "a non-negative integer",
    _is_uri: "a valid URI",
    _is_str_dict: "a dict with string keys",
    _is_id_list: "a list of ids",
    _is_str_list: "a list of strings",
    _is_dict_list: "a list of dicts with string keys",
}


def _one_of(*allowed: str | None) -> Callable[[Any], bool]:
    strings = frozenset(a for a in allowed if a is not None)
    none_ok = None in allowed

    def check(value: Any) -> bool:
        if value is None:
            return none_ok
        return type(value) is str and value in strings

    _EXPECTED[check] = "one of " + ", ".join(repr(a) for a in allowed)
    return check


# --- known Options/Details keys ------------------------------------------------------------------
# Only keys WAMP (or Autobahn, whose behaviour the spec's vectors follow) defines are listed;
# anything else is ignored.

#: Payload passthru keys (wamp-spec.md §4.18, and Autobahn's ``enc_*``): they travel unchanged
#: from CALL/PUBLISH/YIELD options to INVOCATION/EVENT/RESULT details.
PPT_KEYS = (
    "ppt_scheme",
    "ppt_serializer",
    "ppt_cipher",
    "ppt_keyid",
    "enc_algo",
    "enc_serializer",
    "enc_key",
)

_ENC: dict[str, Any] = {
    "enc_algo": _one_of(None, "cryptobox", "mqtt", "xbr"),
    "enc_serializer": _one_of("json", "msgpack", "cbor", "ubjson", "opaque", "flatbuffers"),
    "enc_key": str,
    "ppt_scheme": str,
    "ppt_serializer": str,
    "ppt_cipher": str,
    "ppt_keyid": str,
    "forward_for": _is_dict_list,
    "transaction_hash": str,
}
_MATCH = _one_of("exact", "prefix", "wildcard")

_HELLO_DETAILS: dict[str, Any] = {
    "roles": _is_str_dict,
    "agent": str,
    "authmethods": _is_str_list,
    "authid": str,
    "authrole": str,
    "authextra": _is_str_dict,
}
_WELCOME_DETAILS: dict[str, Any] = {
    "roles": _is_str_dict,
    "agent": str,
    "authid": str,
    "authrole": str,
    "authmethod": str,
    "authprovider": str,
    "authextra": _is_str_dict,
}
_CLOSE_DETAILS: dict[str, Any] = {"message": str}
_PUBLISH_OPTIONS: dict[str, Any] = {
    "acknowledge": bool,
    "exclude_me": bool,
    "exclude": _is_id_list,
    "exclude_authid": _is_str_list,
    "exclude_authrole": _is_str_list,
    "eligible": _is_id_list,
    "eligible_authid": _is_str_list,
    "eligible_authrole": _is_str_list,
    "disclose_me": bool,
    "retain": bool,
    "rkey": str,
    **_ENC,
}
_SUBSCRIBE_OPTIONS: dict[str, Any] = {
    "match": _MATCH,
    "get_retained": bool,
    "nkey": str,
    "forward_for": _is_dict_list,
}
_EVENT_DETAILS: dict[str, Any] = {
    "publisher": _is_id,
    "publisher_authid": str,
    "publisher_authrole": str,
    "trustlevel": _is_count,
    "topic": _is_uri,
    "retained": bool,
    "x_acknowledged_delivery": bool,
    **_ENC,
}
_CALL_OPTIONS: dict[str, Any] = {
    "receive_progress": bool,
    "progress": bool,
    "timeout": _is_count,
    "disclose_me": bool,
    "runmode": str,
    "rkey": str,
    "caller": _is_id,
    "caller_authid": str,
    "caller_authrole": str,
    **_ENC,
}
_CANCEL_OPTIONS: dict[str, Any] = {"mode": _one_of("skip", "kill", "killnowait")}
_INTERRUPT_OPTIONS: dict[str, Any] = {
    "mode": _one_of("skip", "kill", "killnowait"),
    "reason": str,
}
_REGISTER_OPTIONS: dict[str, Any] = {
    "match": _MATCH,
    "invoke": _one_of("single", "roundrobin", "random", "first", "last"),
    "disclose_caller": bool,
    "forward_timeout": bool,
    "concurrency": _is_count,
    "force_reregister": bool,
    "forward_for": _is_dict_list,
}
_INVOCATION_DETAILS: dict[str, Any] = {
    "caller": _is_id,
    "caller_authid": str,
    "caller_authrole": str,
    "procedure": _is_uri,
    "receive_progress": bool,
    "progress": bool,
    "trustlevel": _is_count,
    "timeout": _is_count,
    **_ENC,
}
_RESULT_DETAILS: dict[str, Any] = {
    "progress": bool,
    "callee": _is_id,
    "callee_authid": str,
    "callee_authrole": str,
    **_ENC,
}
_ERROR_DETAILS: dict[str, Any] = {
    "callee": _is_id,
    "callee_authid": str,
    "callee_authrole": str,
    **_ENC,
}
_REVOCATION_DETAILS: dict[str, Any] = {
    "reason": str,
    "subscription": _is_id,
    "registration": _is_id,
}


# --- shared checks (each raises _Invalid naming the field) ---------------------------------------


def _known(value: Any, known: dict[str, Any], what: str) -> None:
    """A dict with string keys whose known keys hold values of the right type."""
    if type(value) is not dict:
        raise _Invalid(f"{what} must be a dict, got {type(value).__name__}")
    for key, item in value.items():
        if type(key) is not str:
            raise _Invalid(f"{what} keys must be strings, got {key!r:.80}")
        spec = known.get(key)
        if spec is not None and type(item) is not spec and (type(spec) is type or not spec(item)):
            expected = _EXPECTED.get(spec, "of another type")
            raise _Invalid(f"{what}.{key} must be {expected}, got {item!r:.80}")


def _not_id(what: str, value: Any) -> _Invalid:
    return _Invalid(f"{what} must be an id (integer in [1, 2^53]), got {value!r:.80}")


def _not_uri(what: str, value: Any) -> _Invalid:
    if type(value) is not str:
        return _Invalid(f"{what} must be a URI string, got {type(value).__name__}")
    return _Invalid(f"{what} is not a valid URI: {value!r:.200}")


def _not_str(what: str, value: Any) -> _Invalid:
    return _Invalid(f"{what} must be a string, got {type(value).__name__}")


def _arity(name: str, expected: str, n: int) -> _Invalid:
    return _Invalid(f"{name} must have {expected} elements, got {n}")


def _payload(args: Any, kwargs: Any, payload: Any, container: Any, name: str, cname: str) -> None:
    """The application payload rules; ``container`` is the (already checked) Options/Details."""
    if payload is not None:
        if type(payload) is not bytes and type(payload) is not str:
            raise _Invalid(f"{name} payload must be bytes, got {type(payload).__name__}")
        if args is not None or kwargs is not None:
            raise _Invalid(f"{name} carries both a transparent payload and args/kwargs")
        if container.get("enc_algo") is None:
            raise _Invalid(f"{name} transparent payload requires {cname}.enc_algo")
        return
    if args is not None and type(args) is not list:
        raise _Invalid(f"{name}.Arguments must be a list, got {type(args).__name__}")
    if kwargs is not None:
        if type(kwargs) is not dict:
            raise _Invalid(f"{name}.ArgumentsKw must be a dict, got {type(kwargs).__name__}")
        for key in kwargs:
            if type(key) is not str:
                raise _Invalid(f"{name}.ArgumentsKw keys must be strings, got {key!r:.80}")


def _tail(wire: list[Any], n: int, start: int, name: str) -> tuple[Any, Any, Any]:
    """args, kwargs, payload from ``wire[start:]`` (``start < n <= start + 2``).

    Only {} and [] may stand for "absent": anything else of the wrong type is rejected here,
    before an empty value is normalised to None.
    """
    args = wire[start]
    if n == start + 1:
        if type(args) is list:
            return (args or None), None, None
        if type(args) is bytes or type(args) is str:
            return None, None, args  # transparent payload; the check verifies enc_algo
        raise _Invalid(f"{name}.Arguments must be a list, got {type(args).__name__}")
    kwargs = wire[start + 1]
    if type(args) is not list:
        raise _Invalid(f"{name}.Arguments must be a list, got {type(args).__name__}")
    if type(kwargs) is not dict:
        raise _Invalid(f"{name}.ArgumentsKw must be a dict, got {type(kwargs).__name__}")
    return (args or None), (kwargs or None), None


def _with_payload(out: list[Any], args: Any, kwargs: Any, payload: Any) -> list[Any]:
    if kwargs:
        out.append(args or [])
        out.append(kwargs)
    elif args:
        out.append(args)
    elif payload is not None:
        out.append(payload)
    return out


def _pattern_allows_empty(options: Any) -> bool:
    return type(options) is dict and options.get("match") in ("prefix", "wildcard")


def _roles(details: dict[str, Any], name: str, required: str) -> None:
    roles = details.get("roles")
    if not roles:
        raise _Invalid(f"{name}.Details.roles is required and must announce {required}")
    for role, spec in roles.items():
        if type(spec) is not dict:
            raise _Invalid(f"{name}.Details.roles.{role} must be a dict")


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


# HELLO --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Hello(Message):
    """``[1, Realm|uri, Details|dict]``: a client asks to join a realm."""

    TYPE = HELLO
    NAME = "HELLO"
    URI_FIELDS = ("realm",)
    realm: str
    details: dict[str, Any]

    def _validate(self) -> None:
        _parse_hello(self.to_wire())

    @property
    def roles(self) -> dict[str, Any]:
        return self.details["roles"]  # type: ignore[no-any-return]

    def to_wire(self) -> list[Any]:
        return [HELLO, self.realm, self.details]


_HELLO_BUILD = _builder(Hello)


def _parse_hello(w: list[Any]) -> Any:
    if len(w) != 3:
        raise _arity("HELLO", "3", len(w))
    realm, details = w[1], w[2]
    if type(realm) is not str or not _is_loose(realm):
        raise _not_uri("HELLO.Realm", realm)
    _known(details, _HELLO_DETAILS, "HELLO.Details")
    _roles(details, "HELLO", "at least one role")
    msg = _new(_HELLO_BUILD)
    msg.realm = realm
    msg.details = details
    msg.__class__ = Hello
    return msg


# WELCOME ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Welcome(Message):
    """``[2, Session|id, Details|dict]``: the router accepts a session."""

    TYPE = WELCOME
    NAME = "WELCOME"
    session_id: int
    details: dict[str, Any]

    def _validate(self) -> None:
        _parse_welcome(self.to_wire())

    @property
    def roles(self) -> dict[str, Any]:
        return self.details["roles"]  # type: ignore[no-any-return]

    def to_wire(self) -> list[Any]:
        return [WELCOME, self.session_id, self.details]


_WELCOME_BUILD = _builder(Welcome)


def _parse_welcome(w: list[Any]) -> Any:
    if len(w) != 3:
        raise _arity("WELCOME", "3", len(w))
    session_id, details = w[1], w[2]
    if type(session_id) is not int or not 0 < session_id <= MAX_ID:
        raise _not_id("WELCOME.Session", session_id)
    _known(details, _WELCOME_DETAILS, "WELCOME.Details")
    _roles(details, "WELCOME", "a router role")
    msg = _new(_WELCOME_BUILD)
    msg.session_id = session_id
    msg.details = details
    msg.__class__ = Welcome
    return msg


# ABORT --------------------------------------------------------------------------------------


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
        _check_abort(self.details, self.reason, self.args, self.kwargs, self.payload)

    def to_wire(self) -> list[Any]:
        return _with_payload([ABORT, self.details, self.reason], self.args, self.kwargs, None)


def _check_abort(details: Any, reason: Any, args: Any, kwargs: Any, payload: Any) -> None:
    if details or type(details) is not dict:
        _known(details, _CLOSE_DETAILS, "ABORT.Details")
    if type(reason) is not str or not _is_loose(reason):
        raise _not_uri("ABORT.Reason", reason)
    if payload is not None:
        raise _Invalid("ABORT.Arguments must be a list")
    if args is not None or kwargs is not None:
        _payload(args, kwargs, None, details, "ABORT", "details")


_ABORT_BUILD = _builder(Abort)


def _parse_abort(w: list[Any]) -> Any:
    n = len(w)
    # The usual shapes inline; _tail sorts out (and reports) everything else.
    if n == 5 and type(w[3]) is list and type(w[4]) is dict:
        args, kwargs, payload = w[3] or None, w[4] or None, None
    elif n == 4 and type(w[3]) is list:
        args, kwargs, payload = w[3] or None, None, None
    elif n == 3:
        args = kwargs = payload = None
    elif 3 < n <= 5:
        args, kwargs, payload = _tail(w, n, 3, "ABORT")
    else:
        raise _arity("ABORT", "3 to 5", n)
    details, reason = w[1], w[2]
    _check_abort(details, reason, args, kwargs, payload)
    msg = _new(_ABORT_BUILD)
    msg.details = details
    msg.reason = reason
    msg.args = args
    msg.kwargs = kwargs
    msg.payload = None
    msg.__class__ = Abort
    return msg


# CHALLENGE / AUTHENTICATE ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Challenge(Message):
    """``[4, AuthMethod|string, Extra|dict]``."""

    TYPE = CHALLENGE
    NAME = "CHALLENGE"
    method: str
    extra: dict[str, Any] = field(default_factory=dict)

    def _validate(self) -> None:
        _parse_challenge(self.to_wire())

    def to_wire(self) -> list[Any]:
        return [CHALLENGE, self.method, self.extra]


_CHALLENGE_BUILD = _builder(Challenge)


def _parse_challenge(w: list[Any]) -> Any:
    if len(w) != 3:
        raise _arity("CHALLENGE", "3", len(w))
    method, extra = w[1], w[2]
    if type(method) is not str:
        raise _not_str("CHALLENGE.AuthMethod", method)
    # Extra is free-form (auth-method specific): only a dict with string keys.
    if type(extra) is not dict:
        raise _Invalid(f"CHALLENGE.Extra must be a dict, got {type(extra).__name__}")
    for key in extra:
        if type(key) is not str:
            raise _Invalid(f"CHALLENGE.Extra keys must be strings, got {key!r:.80}")
    msg = _new(_CHALLENGE_BUILD)
    msg.method = method
    msg.extra = extra
    msg.__class__ = Challenge
    return msg


@dataclass(frozen=True, slots=True, kw_only=True)
class Authenticate(Message):
    """``[5, Signature|string, Extra|dict]``."""

    TYPE = AUTHENTICATE
    NAME = "AUTHENTICATE"
    signature: str
    extra: dict[str, Any] = field(default_factory=dict)

    def _validate(self) -> None:
        _parse_authenticate(self.to_wire())

    def to_wire(self) -> list[Any]:
        return [AUTHENTICATE, self.signature, self.extra]


_AUTHENTICATE_BUILD = _builder(Authenticate)


def _parse_authenticate(w: list[Any]) -> Any:
    if len(w) != 3:
        raise _arity("AUTHENTICATE", "3", len(w))
    signature, extra = w[1], w[2]
    if type(signature) is not str:
        raise _not_str("AUTHENTICATE.Signature", signature)
    # Extra is free-form (auth-method specific): only a dict with string keys.
    if type(extra) is not dict:
        raise _Invalid(f"AUTHENTICATE.Extra must be a dict, got {type(extra).__name__}")
    for key in extra:
        if type(key) is not str:
            raise _Invalid(f"AUTHENTICATE.Extra keys must be strings, got {key!r:.80}")
    msg = _new(_AUTHENTICATE_BUILD)
    msg.signature = signature
    msg.extra = extra
    msg.__class__ = Authenticate
    return msg


# GOODBYE ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Goodbye(Message):
    """``[6, Details|dict, Reason|uri]``."""

    TYPE = GOODBYE
    NAME = "GOODBYE"
    URI_FIELDS = ("reason",)
    details: dict[str, Any] = field(default_factory=dict)
    reason: str

    def _validate(self) -> None:
        _parse_goodbye(self.to_wire())

    def to_wire(self) -> list[Any]:
        return [GOODBYE, self.details, self.reason]


_GOODBYE_BUILD = _builder(Goodbye)


def _parse_goodbye(w: list[Any]) -> Any:
    if len(w) != 3:
        raise _arity("GOODBYE", "3", len(w))
    details, reason = w[1], w[2]
    if details or type(details) is not dict:
        _known(details, _CLOSE_DETAILS, "GOODBYE.Details")
    if type(reason) is not str or not _is_loose(reason):
        raise _not_uri("GOODBYE.Reason", reason)
    msg = _new(_GOODBYE_BUILD)
    msg.details = details
    msg.reason = reason
    msg.__class__ = Goodbye
    return msg


# ERROR --------------------------------------------------------------------------------------


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
        _check_error(
            self.request_type,
            self.request_id,
            self.details,
            self.error,
            self.args,
            self.kwargs,
            self.payload,
        )

    def to_wire(self) -> list[Any]:
        out = [ERROR, self.request_type, self.request_id, self.details, self.error]
        return _with_payload(out, self.args, self.kwargs, self.payload)


def _check_error(
    request_type: Any,
    request_id: Any,
    details: Any,
    error: Any,
    args: Any,
    kwargs: Any,
    payload: Any,
) -> None:
    if type(request_type) is not int or request_type not in ERROR_REQUEST_TYPES:
        raise _Invalid(f"ERROR.REQUEST.Type {request_type!r:.40} is not a legal type")
    if type(request_id) is not int or not 0 < request_id <= MAX_ID:
        raise _not_id("ERROR.REQUEST.Request", request_id)
    if details or type(details) is not dict:
        _known(details, _ERROR_DETAILS, "ERROR.Details")
    if type(error) is not str or not _is_loose(error):
        raise _not_uri("ERROR.Error", error)
    if args is not None or kwargs is not None or payload is not None:
        _payload(args, kwargs, payload, details, "ERROR", "details")


_ERROR_BUILD = _builder(Error)


def _parse_error(w: list[Any]) -> Any:
    n = len(w)
    # The usual shapes inline; _tail sorts out (and reports) everything else.
    if n == 7 and type(w[5]) is list and type(w[6]) is dict:
        args, kwargs, payload = w[5] or None, w[6] or None, None
    elif n == 6 and type(w[5]) is list:
        args, kwargs, payload = w[5] or None, None, None
    elif n == 5:
        args = kwargs = payload = None
    elif 5 < n <= 7:
        args, kwargs, payload = _tail(w, n, 5, "ERROR")
    else:
        raise _arity("ERROR", "5 to 7", n)
    request_type, request_id, details, error = w[1], w[2], w[3], w[4]
    _check_error(request_type, request_id, details, error, args, kwargs, payload)
    msg = _new(_ERROR_BUILD)
    msg.request_type = request_type
    msg.request_id = request_id
    msg.details = details
    msg.error = error
    msg.args = args
    msg.kwargs = kwargs
    msg.payload = payload
    msg.__class__ = Error
    return msg


# PUBLISH / PUBLISHED --------------------------------------------------------------------------


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
        _check_publish(
            self.request_id, self.options, self.topic, self.args, self.kwargs, self.payload
        )

    def to_wire(self) -> list[Any]:
        out = [PUBLISH, self.request_id, self.options, self.topic]
        return _with_payload(out, self.args, self.kwargs, self.payload)


def _check_publish(
    request_id: Any, options: Any, topic: Any, args: Any, kwargs: Any, payload: Any
) -> None:
    if type(request_id) is not int or not 0 < request_id <= MAX_ID:
        raise _not_id("PUBLISH.Request", request_id)
    if options or type(options) is not dict:
        _known(options, _PUBLISH_OPTIONS, "PUBLISH.Options")
    if type(topic) is not str or not _is_loose(topic):
        raise _not_uri("PUBLISH.Topic", topic)
    if args is not None or kwargs is not None or payload is not None:
        _payload(args, kwargs, payload, options, "PUBLISH", "options")


_PUBLISH_BUILD = _builder(Publish)


def _parse_publish(w: list[Any]) -> Any:
    n = len(w)
    # The usual shapes inline; _tail sorts out (and reports) everything else.
    if n == 6 and type(w[4]) is list and type(w[5]) is dict:
        args, kwargs, payload = w[4] or None, w[5] or None, None
    elif n == 5 and type(w[4]) is list:
        args, kwargs, payload = w[4] or None, None, None
    elif n == 4:
        args = kwargs = payload = None
    elif 4 < n <= 6:
        args, kwargs, payload = _tail(w, n, 4, "PUBLISH")
    else:
        raise _arity("PUBLISH", "4 to 6", n)
    request_id, options, topic = w[1], w[2], w[3]
    _check_publish(request_id, options, topic, args, kwargs, payload)
    msg = _new(_PUBLISH_BUILD)
    msg.request_id = request_id
    msg.options = options
    msg.topic = topic
    msg.args = args
    msg.kwargs = kwargs
    msg.payload = payload
    msg.__class__ = Publish
    return msg


@dataclass(frozen=True, slots=True, kw_only=True)
class Published(Message):
    """``[17, PUBLISH.Request|id, Publication|id]``."""

    TYPE = PUBLISHED
    NAME = "PUBLISHED"
    request_id: int
    publication_id: int

    def _validate(self) -> None:
        _parse_published(self.to_wire())

    def to_wire(self) -> list[Any]:
        return [PUBLISHED, self.request_id, self.publication_id]


_PUBLISHED_BUILD = _builder(Published)


def _parse_published(w: list[Any]) -> Any:
    if len(w) != 3:
        raise _arity("PUBLISHED", "3", len(w))
    request_id, publication_id = w[1], w[2]
    if type(request_id) is not int or not 0 < request_id <= MAX_ID:
        raise _not_id("PUBLISHED.PUBLISH.Request", request_id)
    if type(publication_id) is not int or not 0 < publication_id <= MAX_ID:
        raise _not_id("PUBLISHED.Publication", publication_id)
    msg = _new(_PUBLISHED_BUILD)
    msg.request_id = request_id
    msg.publication_id = publication_id
    msg.__class__ = Published
    return msg


# SUBSCRIBE / SUBSCRIBED / UNSUBSCRIBE / UNSUBSCRIBED ---------------------------------------------


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
        _parse_subscribe(self.to_wire())

    @property
    def match(self) -> str:
        return self.options.get("match", "exact")  # type: ignore[no-any-return]

    def to_wire(self) -> list[Any]:
        return [SUBSCRIBE, self.request_id, self.options, self.topic]


def _check_topic_pattern(value: Any, options: dict[str, Any], what: str) -> None:
    """A URI; with match=prefix|wildcard, empty components are allowed (wildcards)."""
    if type(value) is str and _is_loose(value):
        return
    if (
        type(value) is str
        and _pattern_allows_empty(options)
        and _uri.is_valid(value, allow_empty=True)
    ):
        return
    raise _not_uri(what, value)


_SUBSCRIBE_BUILD = _builder(Subscribe)


def _parse_subscribe(w: list[Any]) -> Any:
    if len(w) != 4:
        raise _arity("SUBSCRIBE", "4", len(w))
    request_id, options, topic = w[1], w[2], w[3]
    if type(request_id) is not int or not 0 < request_id <= MAX_ID:
        raise _not_id("SUBSCRIBE.Request", request_id)
    if options or type(options) is not dict:
        _known(options, _SUBSCRIBE_OPTIONS, "SUBSCRIBE.Options")
    if type(topic) is not str or not _is_loose(topic):
        _check_topic_pattern(topic, options, "SUBSCRIBE.Topic")
    msg = _new(_SUBSCRIBE_BUILD)
    msg.request_id = request_id
    msg.options = options
    msg.topic = topic
    msg.__class__ = Subscribe
    return msg


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscribed(Message):
    """``[33, SUBSCRIBE.Request|id, Subscription|id]``."""

    TYPE = SUBSCRIBED
    NAME = "SUBSCRIBED"
    request_id: int
    subscription_id: int

    def _validate(self) -> None:
        _parse_subscribed(self.to_wire())

    def to_wire(self) -> list[Any]:
        return [SUBSCRIBED, self.request_id, self.subscription_id]


_SUBSCRIBED_BUILD = _builder(Subscribed)


def _parse_subscribed(w: list[Any]) -> Any:
    if len(w) != 3:
        raise _arity("SUBSCRIBED", "3", len(w))
    request_id, subscription_id = w[1], w[2]
    if type(request_id) is not int or not 0 < request_id <= MAX_ID:
        raise _not_id("SUBSCRIBED.SUBSCRIBE.Request", request_id)
    if type(subscription_id) is not int or not 0 < subscription_id <= MAX_ID:
        raise _not_id("SUBSCRIBED.Subscription", subscription_id)
    msg = _new(_SUBSCRIBED_BUILD)
    msg.request_id = request_id
    msg.subscription_id = subscription_id
    msg.__class__ = Subscribed
    return msg


@dataclass(frozen=True, slots=True, kw_only=True)
class Unsubscribe(Message):
    """``[34, Request|id, SUBSCRIBED.Subscription|id]``."""

    TYPE = UNSUBSCRIBE
    NAME = "UNSUBSCRIBE"
    request_id: int
    subscription_id: int

    def _validate(self) -> None:
        _parse_unsubscribe(self.to_wire())

    def to_wire(self) -> list[Any]:
        return [UNSUBSCRIBE, self.request_id, self.subscription_id]


_UNSUBSCRIBE_BUILD = _builder(Unsubscribe)


def _parse_unsubscribe(w: list[Any]) -> Any:
    if len(w) != 3:
        raise _arity("UNSUBSCRIBE", "3", len(w))
    request_id, subscription_id = w[1], w[2]
    if type(request_id) is not int or not 0 < request_id <= MAX_ID:
        raise _not_id("UNSUBSCRIBE.Request", request_id)
    if type(subscription_id) is not int or not 0 < subscription_id <= MAX_ID:
        raise _not_id("UNSUBSCRIBE.SUBSCRIBED.Subscription", subscription_id)
    msg = _new(_UNSUBSCRIBE_BUILD)
    msg.request_id = request_id
    msg.subscription_id = subscription_id
    msg.__class__ = Unsubscribe
    return msg


#: The Details key naming what a revocation revokes.
_REVOKED_KEY = {UNSUBSCRIBED: "subscription", UNREGISTERED: "registration"}


def _check_revocable(request_id: Any, details: Any, name: str, key: str) -> None:
    """UNSUBSCRIBED/UNREGISTERED: request id, or 0 with Details.<key> (the revocation form)."""
    if request_id == 0 and type(request_id) is int:
        _known(details, _REVOCATION_DETAILS, f"{name}.Details")
        if key not in details:
            raise _Invalid(f"{name} revocation (request 0) requires Details.{key}")
        return
    if type(request_id) is not int or not 0 < request_id <= MAX_ID:
        raise _not_id(f"{name}.Request", request_id)
    if details or type(details) is not dict:
        _known(details, _REVOCATION_DETAILS, f"{name}.Details")


def _parse_revocable(w: list[Any], cls: type[Message], builder: Any) -> Any:
    name = cls.NAME
    n = len(w)
    if n == 2:
        request_id, details = w[1], {}
    elif n == 3:
        request_id, details = w[1], w[2]
    else:
        raise _arity(name, "2 to 3", n)
    if (
        type(request_id) is not int
        or not 0 < request_id <= MAX_ID
        or details
        or type(details) is not dict
    ):
        _check_revocable(request_id, details, name, _REVOKED_KEY[cls.TYPE])
    msg = _new(builder)
    msg.request_id = request_id
    msg.details = details
    msg.__class__ = cls
    return msg


@dataclass(frozen=True, slots=True, kw_only=True)
class Unsubscribed(Message):
    """``[35, UNSUBSCRIBE.Request|id]``, or the revocation form ``[35, 0, Details|dict]``."""

    TYPE = UNSUBSCRIBED
    NAME = "UNSUBSCRIBED"
    request_id: int
    details: dict[str, Any] = field(default_factory=dict)

    def _validate(self) -> None:
        # Not through to_wire(): it leaves out empty Details, and None must still be refused.
        _check_revocable(self.request_id, self.details, "UNSUBSCRIBED", "subscription")

    @property
    def is_revocation(self) -> bool:
        return self.request_id == 0

    def to_wire(self) -> list[Any]:
        if self.details or self.request_id == 0:
            return [UNSUBSCRIBED, self.request_id, self.details]
        return [UNSUBSCRIBED, self.request_id]


_UNSUBSCRIBED_BUILD = _builder(Unsubscribed)


def _parse_unsubscribed(w: list[Any]) -> Any:
    if len(w) == 2:  # the plain reply, inline; _parse_revocable has every other form
        request_id = w[1]
        if type(request_id) is int and 0 < request_id <= MAX_ID:
            msg = _new(_UNSUBSCRIBED_BUILD)
            msg.request_id = request_id
            msg.details = {}
            msg.__class__ = Unsubscribed
            return msg
    return _parse_revocable(w, Unsubscribed, _UNSUBSCRIBED_BUILD)


# EVENT / EVENT_RECEIVED -----------------------------------------------------------------------


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
        _check_event(
            self.subscription_id,
            self.publication_id,
            self.details,
            self.args,
            self.kwargs,
            self.payload,
        )

    def to_wire(self) -> list[Any]:
        out = [EVENT, self.subscription_id, self.publication_id, self.details]
        return _with_payload(out, self.args, self.kwargs, self.payload)


def _check_event(
    subscription_id: Any, publication_id: Any, details: Any, args: Any, kwargs: Any, payload: Any
) -> None:
    if type(subscription_id) is not int or not 0 < subscription_id <= MAX_ID:
        raise _not_id("EVENT.SUBSCRIBED.Subscription", subscription_id)
    if type(publication_id) is not int or not 0 < publication_id <= MAX_ID:
        raise _not_id("EVENT.PUBLISHED.Publication", publication_id)
    if details or type(details) is not dict:
        _known(details, _EVENT_DETAILS, "EVENT.Details")
    if args is not None or kwargs is not None or payload is not None:
        _payload(args, kwargs, payload, details, "EVENT", "details")


_EVENT_BUILD = _builder(Event)


def _parse_event(w: list[Any]) -> Any:
    n = len(w)
    # The usual shapes inline; _tail sorts out (and reports) everything else.
    if n == 6 and type(w[4]) is list and type(w[5]) is dict:
        args, kwargs, payload = w[4] or None, w[5] or None, None
    elif n == 5 and type(w[4]) is list:
        args, kwargs, payload = w[4] or None, None, None
    elif n == 4:
        args = kwargs = payload = None
    elif 4 < n <= 6:
        args, kwargs, payload = _tail(w, n, 4, "EVENT")
    else:
        raise _arity("EVENT", "4 to 6", n)
    subscription_id, publication_id, details = w[1], w[2], w[3]
    _check_event(subscription_id, publication_id, details, args, kwargs, payload)
    msg = _new(_EVENT_BUILD)
    msg.subscription_id = subscription_id
    msg.publication_id = publication_id
    msg.details = details
    msg.args = args
    msg.kwargs = kwargs
    msg.payload = payload
    msg.__class__ = Event
    return msg


@dataclass(frozen=True, slots=True, kw_only=True)
class EventReceived(Message):
    """``[337, EVENT.Publication|id]``: acknowledged event delivery (implementation-specific)."""

    TYPE = EVENT_RECEIVED
    NAME = "EVENT_RECEIVED"
    publication_id: int

    def _validate(self) -> None:
        _parse_event_received(self.to_wire())

    def to_wire(self) -> list[Any]:
        return [EVENT_RECEIVED, self.publication_id]


_EVENT_RECEIVED_BUILD = _builder(EventReceived)


def _parse_event_received(w: list[Any]) -> Any:
    if len(w) != 2:
        raise _arity("EVENT_RECEIVED", "2", len(w))
    publication_id = w[1]
    if type(publication_id) is not int or not 0 < publication_id <= MAX_ID:
        raise _not_id("EVENT_RECEIVED.EVENT.Publication", publication_id)
    msg = _new(_EVENT_RECEIVED_BUILD)
    msg.publication_id = publication_id
    msg.__class__ = EventReceived
    return msg


# CALL / CANCEL / RESULT -----------------------------------------------------------------------


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
        _check_call(
            self.request_id, self.options, self.procedure, self.args, self.kwargs, self.payload
        )

    def to_wire(self) -> list[Any]:
        out = [CALL, self.request_id, self.options, self.procedure]
        return _with_payload(out, self.args, self.kwargs, self.payload)


def _check_call(
    request_id: Any, options: Any, procedure: Any, args: Any, kwargs: Any, payload: Any
) -> None:
    if type(request_id) is not int or not 0 < request_id <= MAX_ID:
        raise _not_id("CALL.Request", request_id)
    if options or type(options) is not dict:
        _known(options, _CALL_OPTIONS, "CALL.Options")
    if type(procedure) is not str or not _is_loose(procedure):
        raise _not_uri("CALL.Procedure", procedure)
    if args is not None or kwargs is not None or payload is not None:
        _payload(args, kwargs, payload, options, "CALL", "options")


_CALL_BUILD = _builder(Call)


def _parse_call(w: list[Any]) -> Any:
    n = len(w)
    # The usual shapes inline; _tail sorts out (and reports) everything else.
    if n == 6 and type(w[4]) is list and type(w[5]) is dict:
        args, kwargs, payload = w[4] or None, w[5] or None, None
    elif n == 5 and type(w[4]) is list:
        args, kwargs, payload = w[4] or None, None, None
    elif n == 4:
        args = kwargs = payload = None
    elif 4 < n <= 6:
        args, kwargs, payload = _tail(w, n, 4, "CALL")
    else:
        raise _arity("CALL", "4 to 6", n)
    request_id, options, procedure = w[1], w[2], w[3]
    _check_call(request_id, options, procedure, args, kwargs, payload)
    msg = _new(_CALL_BUILD)
    msg.request_id = request_id
    msg.options = options
    msg.procedure = procedure
    msg.args = args
    msg.kwargs = kwargs
    msg.payload = payload
    msg.__class__ = Call
    return msg


@dataclass(frozen=True, slots=True, kw_only=True)
class Cancel(Message):
    """``[49, CALL.Request|id, Options|dict]``."""

    TYPE = CANCEL
    NAME = "CANCEL"
    request_id: int
    options: dict[str, Any] = field(default_factory=dict)

    def _validate(self) -> None:
        _parse_cancel(self.to_wire())

    def to_wire(self) -> list[Any]:
        return [CANCEL, self.request_id, self.options]


_CANCEL_BUILD = _builder(Cancel)


def _parse_cancel(w: list[Any]) -> Any:
    if len(w) != 3:
        raise _arity("CANCEL", "3", len(w))
    request_id, options = w[1], w[2]
    if type(request_id) is not int or not 0 < request_id <= MAX_ID:
        raise _not_id("CANCEL.CALL.Request", request_id)
    if options or type(options) is not dict:
        _known(options, _CANCEL_OPTIONS, "CANCEL.Options")
    msg = _new(_CANCEL_BUILD)
    msg.request_id = request_id
    msg.options = options
    msg.__class__ = Cancel
    return msg


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
        _check_result(self.request_id, self.details, self.args, self.kwargs, self.payload)

    @property
    def progress(self) -> bool:
        return self.details.get("progress") is True

    def to_wire(self) -> list[Any]:
        out = [RESULT, self.request_id, self.details]
        return _with_payload(out, self.args, self.kwargs, self.payload)


def _check_result(request_id: Any, details: Any, args: Any, kwargs: Any, payload: Any) -> None:
    if type(request_id) is not int or not 0 < request_id <= MAX_ID:
        raise _not_id("RESULT.CALL.Request", request_id)
    if details or type(details) is not dict:
        _known(details, _RESULT_DETAILS, "RESULT.Details")
    if args is not None or kwargs is not None or payload is not None:
        _payload(args, kwargs, payload, details, "RESULT", "details")


_RESULT_BUILD = _builder(Result)


def _parse_result(w: list[Any]) -> Any:
    n = len(w)
    # The usual shapes inline; _tail sorts out (and reports) everything else.
    if n == 5 and type(w[3]) is list and type(w[4]) is dict:
        args, kwargs, payload = w[3] or None, w[4] or None, None
    elif n == 4 and type(w[3]) is list:
        args, kwargs, payload = w[3] or None, None, None
    elif n == 3:
        args = kwargs = payload = None
    elif 3 < n <= 5:
        args, kwargs, payload = _tail(w, n, 3, "RESULT")
    else:
        raise _arity("RESULT", "3 to 5", n)
    request_id, details = w[1], w[2]
    _check_result(request_id, details, args, kwargs, payload)
    msg = _new(_RESULT_BUILD)
    msg.request_id = request_id
    msg.details = details
    msg.args = args
    msg.kwargs = kwargs
    msg.payload = payload
    msg.__class__ = Result
    return msg


# REGISTER / REGISTERED / UNREGISTER / UNREGISTERED -----------------------------------------------


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
        _parse_register(self.to_wire())

    @property
    def match(self) -> str:
        return self.options.get("match", "exact")  # type: ignore[no-any-return]

    @property
    def invoke(self) -> str:
        return self.options.get("invoke", "single")  # type: ignore[no-any-return]

    def to_wire(self) -> list[Any]:
        return [REGISTER, self.request_id, self.options, self.procedure]


_REGISTER_BUILD = _builder(Register)


def _parse_register(w: list[Any]) -> Any:
    if len(w) != 4:
        raise _arity("REGISTER", "4", len(w))
    request_id, options, procedure = w[1], w[2], w[3]
    if type(request_id) is not int or not 0 < request_id <= MAX_ID:
        raise _not_id("REGISTER.Request", request_id)
    if options or type(options) is not dict:
        _known(options, _REGISTER_OPTIONS, "REGISTER.Options")
    if type(procedure) is not str or not _is_loose(procedure):
        _check_topic_pattern(procedure, options, "REGISTER.Procedure")
    msg = _new(_REGISTER_BUILD)
    msg.request_id = request_id
    msg.options = options
    msg.procedure = procedure
    msg.__class__ = Register
    return msg


@dataclass(frozen=True, slots=True, kw_only=True)
class Registered(Message):
    """``[65, REGISTER.Request|id, Registration|id]``."""

    TYPE = REGISTERED
    NAME = "REGISTERED"
    request_id: int
    registration_id: int

    def _validate(self) -> None:
        _parse_registered(self.to_wire())

    def to_wire(self) -> list[Any]:
        return [REGISTERED, self.request_id, self.registration_id]


_REGISTERED_BUILD = _builder(Registered)


def _parse_registered(w: list[Any]) -> Any:
    if len(w) != 3:
        raise _arity("REGISTERED", "3", len(w))
    request_id, registration_id = w[1], w[2]
    if type(request_id) is not int or not 0 < request_id <= MAX_ID:
        raise _not_id("REGISTERED.REGISTER.Request", request_id)
    if type(registration_id) is not int or not 0 < registration_id <= MAX_ID:
        raise _not_id("REGISTERED.Registration", registration_id)
    msg = _new(_REGISTERED_BUILD)
    msg.request_id = request_id
    msg.registration_id = registration_id
    msg.__class__ = Registered
    return msg


@dataclass(frozen=True, slots=True, kw_only=True)
class Unregister(Message):
    """``[66, Request|id, REGISTERED.Registration|id]``."""

    TYPE = UNREGISTER
    NAME = "UNREGISTER"
    request_id: int
    registration_id: int

    def _validate(self) -> None:
        _parse_unregister(self.to_wire())

    def to_wire(self) -> list[Any]:
        return [UNREGISTER, self.request_id, self.registration_id]


_UNREGISTER_BUILD = _builder(Unregister)


def _parse_unregister(w: list[Any]) -> Any:
    if len(w) != 3:
        raise _arity("UNREGISTER", "3", len(w))
    request_id, registration_id = w[1], w[2]
    if type(request_id) is not int or not 0 < request_id <= MAX_ID:
        raise _not_id("UNREGISTER.Request", request_id)
    if type(registration_id) is not int or not 0 < registration_id <= MAX_ID:
        raise _not_id("UNREGISTER.REGISTERED.Registration", registration_id)
    msg = _new(_UNREGISTER_BUILD)
    msg.request_id = request_id
    msg.registration_id = registration_id
    msg.__class__ = Unregister
    return msg


@dataclass(frozen=True, slots=True, kw_only=True)
class Unregistered(Message):
    """``[67, UNREGISTER.Request|id]``, or the revocation form ``[67, 0, Details|dict]``."""

    TYPE = UNREGISTERED
    NAME = "UNREGISTERED"
    request_id: int
    details: dict[str, Any] = field(default_factory=dict)

    def _validate(self) -> None:
        # Not through to_wire(): it leaves out empty Details, and None must still be refused.
        _check_revocable(self.request_id, self.details, "UNREGISTERED", "registration")

    @property
    def is_revocation(self) -> bool:
        return self.request_id == 0

    def to_wire(self) -> list[Any]:
        if self.details or self.request_id == 0:
            return [UNREGISTERED, self.request_id, self.details]
        return [UNREGISTERED, self.request_id]


_UNREGISTERED_BUILD = _builder(Unregistered)


def _parse_unregistered(w: list[Any]) -> Any:
    if len(w) == 2:  # the plain reply, inline; _parse_revocable has every other form
        request_id = w[1]
        if type(request_id) is int and 0 < request_id <= MAX_ID:
            msg = _new(_UNREGISTERED_BUILD)
            msg.request_id = request_id
            msg.details = {}
            msg.__class__ = Unregistered
            return msg
    return _parse_revocable(w, Unregistered, _UNREGISTERED_BUILD)


# INVOCATION / INTERRUPT / YIELD ---------------------------------------------------------------


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
        _check_invocation(
            self.request_id,
            self.registration_id,
            self.details,
            self.args,
            self.kwargs,
            self.payload,
        )

    def to_wire(self) -> list[Any]:
        out = [INVOCATION, self.request_id, self.registration_id, self.details]
        return _with_payload(out, self.args, self.kwargs, self.payload)


def _check_invocation(
    request_id: Any, registration_id: Any, details: Any, args: Any, kwargs: Any, payload: Any
) -> None:
    if type(request_id) is not int or not 0 < request_id <= MAX_ID:
        raise _not_id("INVOCATION.Request", request_id)
    if type(registration_id) is not int or not 0 < registration_id <= MAX_ID:
        raise _not_id("INVOCATION.REGISTERED.Registration", registration_id)
    if details or type(details) is not dict:
        _known(details, _INVOCATION_DETAILS, "INVOCATION.Details")
    if args is not None or kwargs is not None or payload is not None:
        _payload(args, kwargs, payload, details, "INVOCATION", "details")


_INVOCATION_BUILD = _builder(Invocation)


def _parse_invocation(w: list[Any]) -> Any:
    n = len(w)
    # The usual shapes inline; _tail sorts out (and reports) everything else.
    if n == 6 and type(w[4]) is list and type(w[5]) is dict:
        args, kwargs, payload = w[4] or None, w[5] or None, None
    elif n == 5 and type(w[4]) is list:
        args, kwargs, payload = w[4] or None, None, None
    elif n == 4:
        args = kwargs = payload = None
    elif 4 < n <= 6:
        args, kwargs, payload = _tail(w, n, 4, "INVOCATION")
    else:
        raise _arity("INVOCATION", "4 to 6", n)
    request_id, registration_id, details = w[1], w[2], w[3]
    _check_invocation(request_id, registration_id, details, args, kwargs, payload)
    msg = _new(_INVOCATION_BUILD)
    msg.request_id = request_id
    msg.registration_id = registration_id
    msg.details = details
    msg.args = args
    msg.kwargs = kwargs
    msg.payload = payload
    msg.__class__ = Invocation
    return msg


@dataclass(frozen=True, slots=True, kw_only=True)
class Interrupt(Message):
    """``[69, INVOCATION.Request|id, Options|dict]``."""

    TYPE = INTERRUPT
    NAME = "INTERRUPT"
    request_id: int
    options: dict[str, Any] = field(default_factory=dict)

    def _validate(self) -> None:
        _parse_interrupt(self.to_wire())

    def to_wire(self) -> list[Any]:
        return [INTERRUPT, self.request_id, self.options]


_INTERRUPT_BUILD = _builder(Interrupt)


def _parse_interrupt(w: list[Any]) -> Any:
    if len(w) != 3:
        raise _arity("INTERRUPT", "3", len(w))
    request_id, options = w[1], w[2]
    if type(request_id) is not int or not 0 < request_id <= MAX_ID:
        raise _not_id("INTERRUPT.INVOCATION.Request", request_id)
    if options or type(options) is not dict:
        _known(options, _INTERRUPT_OPTIONS, "INTERRUPT.Options")
    msg = _new(_INTERRUPT_BUILD)
    msg.request_id = request_id
    msg.options = options
    msg.__class__ = Interrupt
    return msg


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
        _check_yield(self.request_id, self.options, self.args, self.kwargs, self.payload)

    @property
    def progress(self) -> bool:
        return self.options.get("progress") is True

    def to_wire(self) -> list[Any]:
        out = [YIELD, self.request_id, self.options]
        return _with_payload(out, self.args, self.kwargs, self.payload)


def _check_yield(request_id: Any, options: Any, args: Any, kwargs: Any, payload: Any) -> None:
    if type(request_id) is not int or not 0 < request_id <= MAX_ID:
        raise _not_id("YIELD.INVOCATION.Request", request_id)
    if options or type(options) is not dict:
        _known(options, _RESULT_DETAILS, "YIELD.Options")
    if args is not None or kwargs is not None or payload is not None:
        _payload(args, kwargs, payload, options, "YIELD", "options")


_YIELD_BUILD = _builder(Yield)


def _parse_yield(w: list[Any]) -> Any:
    n = len(w)
    # The usual shapes inline; _tail sorts out (and reports) everything else.
    if n == 5 and type(w[3]) is list and type(w[4]) is dict:
        args, kwargs, payload = w[3] or None, w[4] or None, None
    elif n == 4 and type(w[3]) is list:
        args, kwargs, payload = w[3] or None, None, None
    elif n == 3:
        args = kwargs = payload = None
    elif 3 < n <= 5:
        args, kwargs, payload = _tail(w, n, 3, "YIELD")
    else:
        raise _arity("YIELD", "3 to 5", n)
    request_id, options = w[1], w[2]
    _check_yield(request_id, options, args, kwargs, payload)
    msg = _new(_YIELD_BUILD)
    msg.request_id = request_id
    msg.options = options
    msg.args = args
    msg.kwargs = kwargs
    msg.payload = payload
    msg.__class__ = Yield
    return msg


# --- dispatch --------------------------------------------------------------------------------

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

_PARSERS: dict[int, Callable[[list[Any]], Message]] = {
    HELLO: _parse_hello,
    WELCOME: _parse_welcome,
    ABORT: _parse_abort,
    CHALLENGE: _parse_challenge,
    AUTHENTICATE: _parse_authenticate,
    GOODBYE: _parse_goodbye,
    ERROR: _parse_error,
    PUBLISH: _parse_publish,
    PUBLISHED: _parse_published,
    SUBSCRIBE: _parse_subscribe,
    SUBSCRIBED: _parse_subscribed,
    UNSUBSCRIBE: _parse_unsubscribe,
    UNSUBSCRIBED: _parse_unsubscribed,
    EVENT: _parse_event,
    EVENT_RECEIVED: _parse_event_received,
    CALL: _parse_call,
    CANCEL: _parse_cancel,
    RESULT: _parse_result,
    REGISTER: _parse_register,
    REGISTERED: _parse_registered,
    UNREGISTER: _parse_unregister,
    UNREGISTERED: _parse_unregistered,
    INVOCATION: _parse_invocation,
    INTERRUPT: _parse_interrupt,
    YIELD: _parse_yield,
}
assert _PARSERS.keys() == MESSAGE_CLASSES.keys()


def from_wire(wire: Any, *, strict_uris: bool = False) -> Message:
    """Validate a decoded message list and build its message object.

    Raises ``RemoteProtocolError`` (reason ``wamp.error.protocol_violation``) naming the problem
    for anything that is not a valid WAMP message. With ``strict_uris``, URI fields must also
    follow the strict rules (components of ``[0-9a-z_]`` only).
    """
    if type(wire) is not list or not wire:
        raise RemoteProtocolError("a WAMP message must be a non-empty list")
    code = wire[0]
    parse = _PARSERS.get(code) if type(code) is int else None
    if parse is None:
        raise RemoteProtocolError(f"unknown WAMP message type {code!r:.40}")
    try:
        msg = parse(wire)
    except _Invalid as exc:
        raise RemoteProtocolError(str(exc)) from None
    except ProtocolError as exc:  # defensive: nothing below raises these today
        raise RemoteProtocolError(exc.message) from None
    if strict_uris:
        cls = type(msg)
        for name in cls.URI_FIELDS:
            value = getattr(msg, name)
            allow_empty = name in ("topic", "procedure") and _pattern_allows_empty(
                getattr(msg, "options", None)
            )
            if not _uri.is_valid(value, strict=True, allow_empty=allow_empty):
                raise RemoteProtocolError(f"{cls.NAME}.{name} is not a strict URI: {value!r:.200}")
    return msg
