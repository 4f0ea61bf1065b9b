"""The hand-written helpers of the generated ``messages.py``: value predicates, the shared
checks, and the error texts they raise.

``messages.py`` is generated from ``schema.py`` by ``tools/gen_messages.py``; what it cannot
spell out per message type (the full known-keys check its inline loop hands over to, the
payload rules, the irregular revocation and pattern forms) lives here, once, with the memo of
URIs already found loose. Every check raises ``Invalid`` naming the message and field;
``messages.py`` turns that into ``LocalProtocolError`` (application code) or
``RemoteProtocolError`` (the wire).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import uri as _uri
from .schema import OneOf, ValueKind

MAX_ID = 2**53

is_loose = _uri.is_loose

#: Loose URIs already checked (a memo): the same few topics and procedures arrive over and
#: over, and a set lookup costs a fraction of ``is_loose``. Only strings ``is_loose`` accepted
#: are added, so membership is proof; the set is bounded and emptied when full (deterministic,
#: per process, no clock). Sharing it between threads is safe: each set operation is atomic,
#: and a lost addition only costs a later re-check.
LOOSE_URIS: set[str] = set()
LOOSE_URIS_MAX = 4096


def remember_loose(uri: str) -> bool:
    """``is_loose(uri)``, remembering ``uri`` in ``LOOSE_URIS`` if it is."""
    if not is_loose(uri):
        return False
    if len(LOOSE_URIS) >= LOOSE_URIS_MAX:
        LOOSE_URIS.clear()
    LOOSE_URIS.add(uri)
    return True


class Invalid(Exception):
    """A validation failure; turned into Local/RemoteProtocolError at the boundary."""


def builder(cls: Any) -> Any:
    """A mutable twin of a (frozen, slotted) message class, for the parsers.

    Same base, same slots, so the same memory layout: a parser makes an empty twin by calling
    it (no ``__init__`` of its own: cheaper than ``object.__new__(twin)``, which goes through a
    generic argument-parsing wrapper), fills it in with plain attribute stores, then makes it
    the frozen class by assigning ``__class__`` (which Python allows between classes of
    identical layout). That is about twice as fast as setting each field through
    ``object.__setattr__``, and the object that comes out is an ordinary frozen instance of
    ``cls``. (The parsers are annotated ``-> Any`` because type checkers cannot
    follow the ``__class__`` assignment; every one returns a message of its type.)
    """
    return type(f"_{cls.__name__}Builder", cls.__bases__, {"__slots__": cls.__slots__})


# --- value predicates -----------------------------------------------------------------------
# A known Options/Details key maps to a spec: either a type (the value must be exactly of that
# type; bool is not int) or a predicate. EXPECTED describes each spec for error messages.


def is_id(value: Any) -> bool:
    return type(value) is int and 0 < value <= MAX_ID


def is_count(value: Any) -> bool:
    return type(value) is int and value >= 0


def is_uri(value: Any) -> bool:
    return type(value) is str and is_loose(value)


def is_str_dict(value: Any) -> bool:
    if type(value) is not dict:
        return False
    for key in value:
        if type(key) is not str:
            return False
    return True


def is_id_list(value: Any) -> bool:
    if type(value) is not list:
        return False
    for item in value:
        if type(item) is not int or not 0 < item <= MAX_ID:
            return False
    return True


def is_str_list(value: Any) -> bool:
    if type(value) is not list:
        return False
    for item in value:
        if type(item) is not str:
            return False
    return True


def is_dict_list(value: Any) -> bool:
    if type(value) is not list:
        return False
    for item in value:
        if not is_str_dict(item):
            return False
    return True


EXPECTED: dict[Any, str] = {
    bool: "a bool",
    str: "a string",
    is_id: "an id (integer in [1, 2^53])",
    is_count: "a non-negative integer",
    is_uri: "a valid URI",
    is_str_dict: "a dict with string keys",
    is_id_list: "a list of ids",
    is_str_list: "a list of strings",
    is_dict_list: "a list of dicts with string keys",
}

_BY_KIND: dict[str, Any] = {
    "bool": bool,
    "str": str,
    "id": is_id,
    "count": is_count,
    "uri": is_uri,
    "str_dict": is_str_dict,
    "id_list": is_id_list,
    "str_list": is_str_list,
    "dict_list": is_dict_list,
}
_ONE_OF: dict[tuple[str | None, ...], Callable[[Any], bool]] = {}


def one_of(*allowed: str | None) -> Callable[[Any], bool]:
    """The predicate for a string enum (None in ``allowed``: null is accepted too)."""
    known = _ONE_OF.get(allowed)
    if known is not None:
        return known
    strings = frozenset(a for a in allowed if a is not None)
    none_ok = None in allowed

    def check(value: Any) -> bool:
        if value is None:
            return none_ok
        return type(value) is str and value in strings

    EXPECTED[check] = "one of " + ", ".join(repr(a) for a in allowed)
    _ONE_OF[allowed] = check
    return check


def known_table(table: dict[str, ValueKind]) -> dict[str, Any]:
    """A schema KNOWN_KEYS table as the key -> spec mapping ``known`` checks against."""
    out: dict[str, Any] = {}
    for key, kind in table.items():
        out[key] = one_of(*kind.values) if isinstance(kind, OneOf) else _BY_KIND[kind]
    return out


# --- shared checks (each raises Invalid naming the field) -------------------------------------


def known(value: Any, table: dict[str, Any], what: str) -> None:
    """A dict with string keys whose known keys hold values of the right type."""
    if type(value) is not dict:
        raise Invalid(f"{what} must be a dict, got {type(value).__name__}")
    for key, item in value.items():
        if type(key) is not str:
            raise Invalid(f"{what} keys must be strings, got {key!r:.80}")
        spec = table.get(key)
        if spec is not None and type(item) is not spec and (type(spec) is type or not spec(item)):
            expected = EXPECTED.get(spec, "of another type")
            raise Invalid(f"{what}.{key} must be {expected}, got {item!r:.80}")


def extra(value: Any, what: str) -> None:
    """A free-form dict (auth-method specific): only a dict with string keys."""
    if type(value) is not dict:
        raise Invalid(f"{what} must be a dict, got {type(value).__name__}")
    for key in value:
        if type(key) is not str:
            raise Invalid(f"{what} keys must be strings, got {key!r:.80}")


def not_id(what: str, value: Any) -> Invalid:
    return Invalid(f"{what} must be an id (integer in [1, 2^53]), got {value!r:.80}")


def not_uri(what: str, value: Any) -> Invalid:
    if type(value) is not str:
        return Invalid(f"{what} must be a URI string, got {type(value).__name__}")
    return Invalid(f"{what} is not a valid URI: {value!r:.200}")


def not_str(what: str, value: Any) -> Invalid:
    return Invalid(f"{what} must be a string, got {type(value).__name__}")


def not_request_type(value: Any) -> Invalid:
    return Invalid(f"ERROR.REQUEST.Type {value!r:.40} is not a legal type")


def arity(name: str, expected: str, n: int) -> Invalid:
    return Invalid(f"{name} must have {expected} elements, got {n}")


def payload_rules(
    args: Any, kwargs: Any, payload: Any, container: Any, name: str, cname: str
) -> None:
    """The application payload rules; ``container`` is the (already checked) Options/Details."""
    if payload is not None:
        if type(payload) is not bytes and type(payload) is not str:
            raise Invalid(f"{name} payload must be bytes, got {type(payload).__name__}")
        if args is not None or kwargs is not None:
            raise Invalid(f"{name} carries both a transparent payload and args/kwargs")
        if container.get("enc_algo") is None:
            raise Invalid(f"{name} transparent payload requires {cname}.enc_algo")
        return
    if args is not None and type(args) is not list:
        raise Invalid(f"{name}.Arguments must be a list, got {type(args).__name__}")
    if kwargs is not None:
        if type(kwargs) is not dict:
            raise Invalid(f"{name}.ArgumentsKw must be a dict, got {type(kwargs).__name__}")
        for key in kwargs:
            if type(key) is not str:
                raise Invalid(f"{name}.ArgumentsKw keys must be strings, got {key!r:.80}")


def tail(wire: list[Any], n: int, start: int, name: str) -> tuple[Any, Any, Any]:
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
        raise Invalid(f"{name}.Arguments must be a list, got {type(args).__name__}")
    kwargs = wire[start + 1]
    if type(args) is not list:
        raise Invalid(f"{name}.Arguments must be a list, got {type(args).__name__}")
    if type(kwargs) is not dict:
        raise Invalid(f"{name}.ArgumentsKw must be a dict, got {type(kwargs).__name__}")
    return (args or None), (kwargs or None), None


def with_payload(out: list[Any], args: Any, kwargs: Any, payload: Any) -> list[Any]:
    """``out`` with the payload appended as the wire carries it (wamp-spec.md §1.1)."""
    if kwargs:
        out.append(args or [])
        out.append(kwargs)
    elif args:
        out.append(args)
    elif payload is not None:
        out.append(payload)
    return out


def pattern_allows_empty(options: Any) -> bool:
    return type(options) is dict and options.get("match") in ("prefix", "wildcard")


def check_pattern(value: Any, options: dict[str, Any], what: str) -> None:
    """A URI; with match=prefix|wildcard, empty components are allowed (wildcards)."""
    if type(value) is str and is_loose(value):
        return
    if (
        type(value) is str
        and pattern_allows_empty(options)
        and _uri.is_valid(value, allow_empty=True)
    ):
        return
    raise not_uri(what, value)


def roles(details: dict[str, Any], name: str, required: str) -> None:
    """HELLO/WELCOME: Details.roles announces at least one role, each a dict."""
    announced = details.get("roles")
    if not announced:
        raise Invalid(f"{name}.Details.roles is required and must announce {required}")
    for role, spec in announced.items():
        if type(spec) is not dict:
            raise Invalid(f"{name}.Details.roles.{role} must be a dict")


def check_revocable(
    request_id: Any, details: Any, table: dict[str, Any], name: str, key: str
) -> None:
    """UNSUBSCRIBED/UNREGISTERED: request id, or 0 with Details.<key> (the revocation form)."""
    if request_id == 0 and type(request_id) is int:
        known(details, table, f"{name}.Details")
        if key not in details:
            raise Invalid(f"{name} revocation (request 0) requires Details.{key}")
        return
    if type(request_id) is not int or not 0 < request_id <= MAX_ID:
        raise not_id(f"{name}.Request", request_id)
    if details or type(details) is not dict:
        known(details, table, f"{name}.Details")
