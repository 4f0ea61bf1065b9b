"""The generated parsers give the table's verdict (issue 11, "Bad input": every fast path gives
the same verdict as the full parser on every input).

``reference`` below is a deliberately plain reading of ``wampcore/schema.py``: one loop over a
message's fields, the spec's URI regular expressions (wamp-spec.md §2.2) and one predicate per
value kind (§1.4), with none of the generated code's shortcuts (inline checks, the URI memo,
the kind tables, the unpacking tricks). For random, mutated and valid wire lists it must agree
with ``messages.from_wire`` on everything: accepted or not, the class and every field value,
and the exact error text. Beside it: the CBOR ``undefined`` shortcut (its proof of absence never
claims too much) and the URI memo (bounded; only what passed the check gets in).
"""

from __future__ import annotations

import re
from typing import Any

import cbor2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import junk_wire, wire_lists

from wampcore import _codec_support, get_serializer, schema
from wampcore import messages as m
from wampcore.errors import RemoteProtocolError
from wampcore.serializers import _undefined_excluded

MAX_ID = 2**53
# wamp-spec.md §2.2, as the spec writes them.
LOOSE = re.compile(r"([^\s.#]+\.)*([^\s.#]+)")
LOOSE_EMPTY = re.compile(r"(([^\s.#]+\.)|\.)*([^\s.#]+)?")
STRICT = re.compile(r"([0-9a-z_]+\.)*([0-9a-z_]+)")
STRICT_EMPTY = re.compile(r"(([0-9a-z_]+\.)|\.)*([0-9a-z_]+)?")


class Bad(Exception):
    """The reference's verdict on an invalid message: its error text."""


def _is_id(v: Any) -> bool:
    return type(v) is int and 0 < v <= MAX_ID


def _is_str_dict(v: Any) -> bool:
    return type(v) is dict and all(type(k) is str for k in v)


def _loose(v: str) -> bool:
    return LOOSE.fullmatch(v) is not None


KIND_OK = {
    "bool": lambda v: type(v) is bool,
    "str": lambda v: type(v) is str,
    "id": _is_id,
    "count": lambda v: type(v) is int and v >= 0,
    "uri": lambda v: type(v) is str and _loose(v),
    "str_dict": _is_str_dict,
    "id_list": lambda v: type(v) is list and all(_is_id(x) for x in v),
    "str_list": lambda v: type(v) is list and all(type(x) is str for x in v),
    "dict_list": lambda v: type(v) is list and all(_is_str_dict(x) for x in v),
}
KIND_TEXT = {
    "bool": "a bool",
    "str": "a string",
    "id": "an id (integer in [1, 2^53])",
    "count": "a non-negative integer",
    "uri": "a valid URI",
    "str_dict": "a dict with string keys",
    "id_list": "a list of ids",
    "str_list": "a list of strings",
    "dict_list": "a list of dicts with string keys",
}


def _value_ok(kind: schema.ValueKind, v: Any) -> bool:
    if isinstance(kind, schema.OneOf):
        return (None in kind.values) if v is None else type(v) is str and v in kind.values
    return bool(KIND_OK[kind](v))


def _value_text(kind: schema.ValueKind) -> str:
    if isinstance(kind, schema.OneOf):
        return "one of " + ", ".join(repr(a) for a in kind.values)
    return KIND_TEXT[kind]


def _options(v: Any, table: str, what: str) -> None:
    if type(v) is not dict:
        raise Bad(f"{what} must be a dict, got {type(v).__name__}")
    for key, item in v.items():
        if type(key) is not str:
            raise Bad(f"{what} keys must be strings, got {key!r:.80}")
        kind = schema.KNOWN_KEYS[table].get(key)
        if kind is not None and not _value_ok(kind, item):
            raise Bad(f"{what}.{key} must be {_value_text(kind)}, got {item!r:.80}")


def _id(v: Any, what: str) -> None:
    if not _is_id(v):
        raise Bad(f"{what} must be an id (integer in [1, 2^53]), got {v!r:.80}")


def _field(spec: schema.MessageSpec, f: schema.Field, v: Any, values: dict[str, Any]) -> None:
    what = f"{spec.name}.{f.wire}"
    if f.kind == "id":
        _id(v, what)
    elif f.kind == "uri":
        if type(v) is not str:
            raise Bad(f"{what} must be a URI string, got {type(v).__name__}")
        pattern = "pattern" in spec.hooks and values["options"].get("match") in (
            "prefix",
            "wildcard",
        )
        if not _loose(v) and not (pattern and v and LOOSE_EMPTY.fullmatch(v)):
            raise Bad(f"{what} is not a valid URI: {v!r:.200}")
    elif f.kind == "str":
        if type(v) is not str:
            raise Bad(f"{what} must be a string, got {type(v).__name__}")
    elif f.kind == "type":
        if type(v) is not int or v not in schema.ERROR_REQUEST_TYPES:
            raise Bad(f"ERROR.REQUEST.Type {v!r:.40} is not a legal type")
    elif f.kind == "options":
        assert f.known is not None
        _options(v, f.known, what)
    elif f.kind == "extra":
        if type(v) is not dict:
            raise Bad(f"{what} must be a dict, got {type(v).__name__}")
        for key in v:
            if type(key) is not str:
                raise Bad(f"{what} keys must be strings, got {key!r:.80}")
    else:
        raise AssertionError(f.kind)


def _revocable(spec: schema.MessageSpec, wire: list[Any]) -> dict[str, Any]:
    n = len(wire)
    if n not in (2, 3):
        raise Bad(f"{spec.name} must have 2 to 3 elements, got {n}")
    request_id, details = wire[1], (wire[2] if n == 3 else {})
    if type(request_id) is int and request_id == 0:
        _options(details, "revocation", f"{spec.name}.Details")
        if spec.revokes not in details:
            raise Bad(f"{spec.name} revocation (request 0) requires Details.{spec.revokes}")
    else:
        _id(request_id, f"{spec.name}.Request")
        _options(details, "revocation", f"{spec.name}.Details")
    return {"request_id": request_id, "details": details}


def _payload(spec: schema.MessageSpec, wire: list[Any]) -> tuple[Any, Any, Any]:
    """args, kwargs, payload; raises for a wrong length or shape (before any field check)."""
    name, n, at = spec.name, len(wire), spec.payload_at
    if at is None:
        if n != 1 + len(spec.fields):
            raise Bad(f"{name} must have {1 + len(spec.fields)} elements, got {n}")
        return None, None, None
    if not at <= n <= at + 2:
        raise Bad(f"{name} must have {at} to {at + 2} elements, got {n}")
    if n == at:
        return None, None, None
    args = wire[at]
    if n == at + 1 and type(args) in (bytes, str):
        return None, None, args
    if type(args) is not list:
        raise Bad(f"{name}.Arguments must be a list, got {type(args).__name__}")
    if n == at + 1:
        return args or None, None, None
    kwargs = wire[at + 1]
    if type(kwargs) is not dict:
        raise Bad(f"{name}.ArgumentsKw must be a dict, got {type(kwargs).__name__}")
    return args or None, kwargs or None, None


def reference(wire: Any, strict_uris: bool = False) -> tuple[str, dict[str, Any]]:
    """The class name and field values of a valid message; raises Bad otherwise."""
    if type(wire) is not list or not wire:
        raise Bad("a WAMP message must be a non-empty list")
    code = wire[0]
    if type(code) is not int or code not in {s.code for s in schema.MESSAGES}:
        raise Bad(f"unknown WAMP message type {code!r:.40}")
    spec = schema.by_code(code)
    if "revocable" in spec.hooks:
        return spec.cls, _revocable(spec, wire)
    args, kwargs, payload = _payload(spec, wire)
    values: dict[str, Any] = {}
    for i, f in enumerate(spec.fields, start=1):
        _field(spec, f, wire[i], values)
        values[f.name] = wire[i]
    if "roles" in spec.hooks:
        roles = values["details"].get("roles")
        if not roles:
            raise Bad(f"{spec.name}.Details.roles is required and must announce {spec.roles_need}")
        for role, features in roles.items():
            if type(features) is not dict:
                raise Bad(f"{spec.name}.Details.roles.{role} must be a dict")
    if spec.payload_at is not None:
        if payload is not None:
            if spec.container is None:
                raise Bad(f"{spec.name}.Arguments must be a list")
            if values[spec.container].get("enc_algo") is None:
                raise Bad(f"{spec.name} transparent payload requires {spec.container}.enc_algo")
        elif kwargs is not None:
            for key in kwargs:
                if type(key) is not str:
                    raise Bad(f"{spec.name}.ArgumentsKw keys must be strings, got {key!r:.80}")
        values.update(args=args, kwargs=kwargs, payload=payload)
    if strict_uris:
        options = values.get("options")
        for f in spec.fields:
            if f.kind != "uri":
                continue
            v = values[f.name]
            empty = (
                f.name in ("topic", "procedure")
                and type(options) is dict
                and options.get("match") in ("prefix", "wildcard")
            )
            if (STRICT_EMPTY if empty else STRICT).fullmatch(v) is None:
                raise Bad(f"{spec.name}.{f.name} is not a strict URI: {v!r:.200}")
    return spec.cls, values


def _verdicts(wire: Any, strict_uris: bool = False) -> tuple[Any, Any]:
    """(reference outcome, generated outcome), each ("ok", class, repr(fields)) or ("err", text)."""
    try:
        cls, values = reference(wire, strict_uris)
        ref: Any = ("ok", cls, repr(values))
    except Bad as exc:
        ref = ("err", str(exc))
    try:
        msg = m.from_wire(wire, strict_uris=strict_uris)
    except RemoteProtocolError as exc:
        return ref, ("err", exc.message)
    fields = {name: getattr(msg, name) for name in type(msg).__dataclass_fields__}
    return ref, ("ok", type(msg).__name__, repr(fields))


def _agree(wire: Any) -> None:
    for strict in (False, True):
        ref, ours = _verdicts(wire, strict)
        assert ours == ref, (wire, strict)


# --- mutations aimed at the Options/Details checks ----------------------------------------------

_JUNK = st.sampled_from(
    [None, True, False, 0, -1, 1, 2**53, 2**53 + 1, 1.0, "", "x", "a..b", "kill", "prefix",
     "cryptobox", b"x", [], [1], ["a"], [0], [{}], [{1: 2}], {}, {"a": 1}, {1: 2}]
)  # fmt: skip
_ALL_KNOWN = sorted({key for table in schema.KNOWN_KEYS.values() for key in table})


class _Str(str):
    """A str subclass: a key or value of this type is not a string to the rules."""


@st.composite
def _mutated_options(draw: st.DrawFn) -> list[Any]:
    """A valid wire list whose first Options/Details/Extra dict gets a known key with a random
    value, a key that is not a plain string, or a dropped key."""
    wire = list(draw(wire_lists()))
    spots = [i for i, v in enumerate(wire) if i and type(v) is dict]
    if not spots:
        return wire
    i = draw(st.sampled_from(spots))
    d = dict(wire[i])
    action = draw(st.integers(0, 3))
    if action <= 1:
        d[draw(st.sampled_from(_ALL_KNOWN))] = draw(_JUNK)
    elif action == 2:
        key = draw(st.sampled_from([1, b"k", None, _Str("progress"), _Str("zzz")]))
        d[key] = draw(_JUNK)
    elif d:
        del d[draw(st.sampled_from(sorted(d, key=repr)))]
    wire[i] = d
    return wire


_SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(wire_lists())
def test_valid_messages_get_the_tables_verdict(wire: list[Any]) -> None:
    """Issue 11: every valid message (tests/strategies.py) is accepted by both, field for field."""
    ref, ours = _verdicts(wire)
    assert ref[0] == "ok", ref
    assert ours == ref


@_SETTINGS
@given(junk_wire())
def test_random_and_mutated_wire_gets_the_tables_verdict(wire: Any) -> None:
    """Issue 11 (Bad input): random structures and valid messages with an element replaced,
    cut or added get the same verdict and error text from the generated parser as from the
    table (with and without strict URIs)."""
    _agree(wire)


@_SETTINGS
@given(_mutated_options())
def test_mutated_options_get_the_tables_verdict(wire: list[Any]) -> None:
    """Issue 11 / wamp-spec.md §1.4: the inline known-key check agrees with the table on bad
    values of known keys, keys that are not strings (also str subclasses) and missing keys."""
    _agree(wire)


@pytest.mark.parametrize(
    ("wire", "text"),
    [
        ([17, 0, 1], "PUBLISHED.PUBLISH.Request must be an id (integer in [1, 2^53]), got 0"),
        ([48, 1, {"timeout": -1}, "a.b"], "CALL.Options.timeout must be a non-negative integer"),
        ([49, 1, {"mode": "stop"}], "CANCEL.Options.mode must be one of 'skip', 'kill'"),
        ([36, 1, 2, {_Str("publisher"): 3}], "EVENT.Details keys must be strings"),
        ([32, 1, {}, "a..b"], "SUBSCRIBE.Topic is not a valid URI: 'a..b'"),
        ([16, 1, {}, "a.b", b"x"], "PUBLISH transparent payload requires options.enc_algo"),
        ([50, 1, {}, [], {b"k": 1}], "RESULT.ArgumentsKw keys must be strings, got b'k'"),
        ([35, 0, {}], "UNSUBSCRIBED revocation (request 0) requires Details.subscription"),
    ],
)
def test_the_reference_and_the_parser_refuse_alike(wire: list[Any], text: str) -> None:
    """The comparison is not vacuous: the reference refuses these (wamp-spec.md §1.2, §1.4,
    §2.2), and the parser refuses them with the same text."""
    ref, ours = _verdicts(wire)
    assert ref[0] == "err" and ref[1].startswith(text), ref
    assert ours == ref


def test_the_comparison_notices_a_different_verdict() -> None:
    """A parser that accepted a bad id would be caught (the differential can fail)."""
    published = m.Published(request_id=1, publication_id=2)
    original = m._BY_CODE[m.PUBLISHED]
    m._BY_CODE[m.PUBLISHED] = lambda w: published
    try:
        ref, ours = _verdicts([17, 0, 1])
    finally:
        m._BY_CODE[m.PUBLISHED] = original
    assert ref[0] == "err" and ours[0] == "ok"


# --- the URI memo --------------------------------------------------------------------------


def test_the_uri_memo_holds_only_loose_uris_and_stays_bounded() -> None:
    """wamp-spec.md §2.2: a bad URI is refused every time (it never enters the memo), and the
    memo never grows past its bound however many distinct URIs arrive."""
    bad = [48, 1, {}, "com..memo"]
    for _ in range(2):
        with pytest.raises(RemoteProtocolError, match="not a valid URI"):
            m.from_wire(bad)
    assert "com..memo" not in _codec_support.LOOSE_URIS
    for i in range(_codec_support.LOOSE_URIS_MAX + 10):
        m.from_wire([48, 1, {}, f"com.memo.p{i}"])
        assert len(_codec_support.LOOSE_URIS) <= _codec_support.LOOSE_URIS_MAX
    assert "com.memo.p4105" in _codec_support.LOOSE_URIS
    with pytest.raises(RemoteProtocolError, match="must be a URI string"):
        m.from_wire([48, 1, {}, _Str("com.memo.p4105")])


# --- CBOR undefined ----------------------------------------------------------------------------

_F7_INTS = st.sampled_from([0xF7, -0xF8, 0xF7F7, 0x773BF7, 0xF7000000, 0xF7F7F7F7F7, 7814135])
_CBOR_VALUES = st.recursive(
    st.one_of(_F7_INTS, st.integers(), st.just(cbor2.undefined), st.text(max_size=5),
              st.binary(max_size=5), st.floats(), st.none()),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=3), inner, max_size=3)),
    max_leaves=12,
)  # fmt: skip


def _holds_undefined(value: Any) -> bool:
    if value is cbor2.undefined:
        return True
    if type(value) is list:
        return any(_holds_undefined(v) for v in value)
    if type(value) is dict:
        return any(_holds_undefined(v) for v in value.values())
    return False


@settings(max_examples=600, deadline=None)
@given(st.lists(_CBOR_VALUES, max_size=6), st.lists(_F7_INTS, max_size=3))
def test_cbor_undefined_proof_of_absence_never_claims_too_much(
    rest: list[Any], ids: list[int]
) -> None:
    """serializers.py: ``_undefined_excluded`` (the shortcut past the probe) answers True only
    for payloads without undefined, and decoding maps every undefined to None."""
    wire = [48, *ids, *rest]
    data = cbor2.dumps(wire)
    if _undefined_excluded(data):
        assert not _holds_undefined(cbor2.loads(data))
    (decoded,) = get_serializer("cbor").decode(data)
    assert not _holds_undefined(decoded)


def test_cbor_undefined_after_an_id_with_its_byte_is_still_found() -> None:
    """An undefined after ids whose bytes hold 0xf7 (7814135 = 0x773bf7) is still null."""
    data = cbor2.dumps([48, 7814135, {}, "a.b", [cbor2.undefined]])
    assert not _undefined_excluded(data)
    assert get_serializer("cbor").decode(data) == [[48, 7814135, {}, "a.b", [None]]]
    assert _undefined_excluded(cbor2.dumps([48, 7814135, {}, "a.b", [1]]))
