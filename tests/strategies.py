"""Hypothesis strategies for every WAMP message wampcore speaks (wamp-spec §1.2).

Everything generated here is *valid* (it constructs without error) and survives a round trip
through every serializer (JSON, MessagePack, CBOR, plain and batched), so a property test can
assert ``from_wire(decode(encode(msg.to_wire()))) == msg`` for anything drawn from
``messages()``. That is why payload values stay inside what all three formats carry losslessly:
no NaN, integers within MessagePack's 64-bit range, no lone surrogates, and no string values
that start with NUL (the JSON binary convention, wamp-spec §5.2, would turn them into bytes).

Which fields a message has, their kinds, and the known Options/Details keys with their value
kinds come from ``wampcore/schema.py`` (the table the codec is generated from); only the
schema's hooks (roles, patterns, revocations) are drawn by hand here.

Import from test modules as ``from strategies import messages`` (``tests/`` has no
``__init__.py``, so pytest puts it on ``sys.path``).

Public strategies:

* ``ids()``, ``uris(strict=, allow_empty=)``, ``payload_values()``, ``payloads(...)``;
* ``message_strategy(cls)`` / ``MESSAGE_STRATEGIES`` -- one strategy per message class;
* ``messages()`` -- any message; ``wire_lists()`` -- ``msg.to_wire()`` of any message;
* ``junk_wire()`` -- arbitrary decoded lists, mostly invalid, for "only RemoteProtocolError"
  properties.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from wampcore import messages as m
from wampcore import schema

__all__ = [
    "MESSAGE_STRATEGIES",
    "ids",
    "junk_wire",
    "message_strategy",
    "messages",
    "payload_values",
    "payloads",
    "uris",
    "wire_lists",
]

MAX_ID = m.MAX_ID

# --- scalars ---------------------------------------------------------------------------------


def ids() -> st.SearchStrategy[int]:
    """An id in [1, 2^53], biased towards the edges (wamp-spec §2.1)."""
    return st.one_of(
        st.integers(min_value=1, max_value=MAX_ID),
        st.sampled_from([1, 2, 2**31, 2**32, 2**53 - 1, 2**53]),
    )


_STRICT_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_"
# Loose components: anything but '.', '#' and whitespace; a few non-ASCII letters and
# punctuation keep the loose/strict difference visible.
_LOOSE_EXTRA = "ABCXYZ-:@+éüß中"


def _component(strict: bool) -> st.SearchStrategy[str]:
    alphabet = _STRICT_CHARS if strict else _STRICT_CHARS + _LOOSE_EXTRA
    return st.text(alphabet=alphabet, min_size=1, max_size=8)


def uris(*, strict: bool = False, allow_empty: bool = False) -> st.SearchStrategy[str]:
    """A URI valid under the given rules (wamp-spec §2.2).

    With ``allow_empty`` some components are empty (pattern URIs), but never all of them for a
    one-component URI (the empty string is never a URI).
    """
    comp = _component(strict)
    if allow_empty:
        comp = st.one_of(comp, st.just(""))
    return st.lists(comp, min_size=1, max_size=5).map(".".join).filter(lambda u: u != "")


_text = st.text(
    alphabet=st.characters(exclude_categories=["Cs"]),
    max_size=12,
).filter(lambda s: not s.startswith("\x00"))

_keys = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=8)

_scalars: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    _text,
    st.binary(max_size=16),
)


def payload_values() -> st.SearchStrategy[Any]:
    """Application values every serializer round-trips exactly."""
    return st.recursive(
        _scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(_keys, inner, max_size=4),
        ),
        max_leaves=12,
    )


def _args() -> st.SearchStrategy[list[Any]]:
    return st.lists(payload_values(), min_size=1, max_size=4)


def _kwargs() -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(_keys, payload_values(), min_size=1, max_size=4)


def payloads(*, transparent: bool = True) -> st.SearchStrategy[dict[str, Any]]:
    """Constructor keywords for the application payload (wamp-spec §1.1).

    ``args``/``kwargs`` are None or non-empty (empty ones are normalised to None on input, so
    only these round-trip to an equal object). With ``transparent`` some draws carry an opaque
    ``payload`` instead (Autobahn's payload transparency, which the vectors use); the caller must
    then set ``enc_algo`` in the message's Options/Details -- see ``_with_payload``.
    """
    normal = st.fixed_dictionaries(
        {},
        optional={"args": _args(), "kwargs": _kwargs()},
    )
    if not transparent:
        return normal
    opaque = st.fixed_dictionaries({"payload": st.binary(min_size=0, max_size=32)})
    return st.one_of(normal, normal, opaque)


# --- Options / Details -------------------------------------------------------------------------

_bool = st.booleans()
_nonneg = st.integers(min_value=0, max_value=2**31)
_str_list = st.lists(_text, max_size=3)
_id_list = st.lists(ids(), max_size=3)
_small_dict = st.dictionaries(_keys, payload_values(), max_size=3)
_forward_for = st.lists(
    st.fixed_dictionaries({"session": ids(), "authid": _text, "authrole": _text}),
    min_size=1,
    max_size=2,
)


def _value(kind: schema.ValueKind) -> st.SearchStrategy[Any]:
    """A valid value for a known key of this kind (wampcore/schema.py VALUE_KINDS)."""
    if isinstance(kind, schema.OneOf):
        return st.sampled_from([v for v in kind.values if v is not None])
    return _BY_KIND[kind]


_BY_KIND: dict[str, st.SearchStrategy[Any]] = {
    "bool": _bool,
    "str": _text,
    "id": ids(),
    "count": _nonneg,
    "uri": uris(),
    "str_dict": _small_dict,
    "id_list": _id_list,
    "str_list": _str_list,
    # The one list of dicts WAMP knows is forward_for; its entries have this shape.
    "dict_list": _forward_for,
}
assert set(_BY_KIND) == set(schema.VALUE_KINDS)

# Known keys and a valid value strategy for each, per schema.KNOWN_KEYS table (wamp-spec §1.4).
KNOWN: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    table: {key: _value(kind) for key, kind in keys.items()}
    for table, keys in schema.KNOWN_KEYS.items()
}

# Implementation-specific keys (wamp-spec §1.1: `_[a-z0-9_]{3,}`) that no message defines;
# receivers must keep and ignore them.
_unknown_key = st.from_regex(r"_[a-z0-9_]{3,8}", fullmatch=True)


def options(kind: str, *, drop: tuple[str, ...] = ()) -> st.SearchStrategy[dict[str, Any]]:
    """An Options/Details dict: some known keys of ``kind`` with valid values, plus unknown keys."""
    known = {k: v for k, v in KNOWN[kind].items() if k not in drop}
    return st.builds(
        _merge,
        st.fixed_dictionaries({}, optional=known),
        st.dictionaries(_unknown_key, payload_values(), max_size=2),
    )


def _merge(known: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    return {**extra, **known}


def _with_payload(
    fields: dict[str, Any], container: str, payload: dict[str, Any]
) -> dict[str, Any]:
    """Combine fields and payload keywords; a transparent payload needs ``enc_algo`` set."""
    out = {**fields, **payload}
    if "payload" in payload and out[container].get("enc_algo") is None:
        out[container] = {**out[container], "enc_algo": "cryptobox"}
    return out


def _client_roles() -> st.SearchStrategy[dict[str, Any]]:
    role = st.sampled_from(["publisher", "subscriber", "caller", "callee"])
    features = st.dictionaries(st.from_regex(r"[a-z_]{3,12}", fullmatch=True), _bool, max_size=3)
    spec: st.SearchStrategy[dict[str, Any]] = st.one_of(
        st.just({}), st.fixed_dictionaries({"features": features})
    )
    return st.dictionaries(role, spec, min_size=1, max_size=4)


def _router_roles() -> st.SearchStrategy[dict[str, Any]]:
    role = st.sampled_from(["broker", "dealer"])
    features = st.dictionaries(st.from_regex(r"[a-z_]{3,12}", fullmatch=True), _bool, max_size=3)
    spec: st.SearchStrategy[dict[str, Any]] = st.one_of(
        st.just({}), st.fixed_dictionaries({"features": features})
    )
    return st.dictionaries(role, spec, min_size=1, max_size=2)


def _roles_details(table: str, roles: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """HELLO/WELCOME Details (schema hook ``roles``): roles required, other known keys optional."""
    optional = {k: v for k, v in KNOWN[table].items() if k != "roles"}
    return st.builds(
        _merge,
        st.fixed_dictionaries({"roles": roles}, optional=optional),
        st.dictionaries(_unknown_key, payload_values(), max_size=2),
    )


def _pattern_topic(spec: schema.MessageSpec) -> st.SearchStrategy[Any]:
    """SUBSCRIBE/REGISTER (schema hook ``pattern``): exact URIs, or patterns with a match."""
    cls = getattr(m, spec.cls)
    opts_field, uri_field = spec.fields[1], spec.fields[2]
    assert opts_field.known is not None
    kind = opts_field.known

    def build(match: str | None, rid: int, opts: dict[str, Any], pattern: str) -> Any:
        if match is not None:
            opts = {**opts, "match": match}
        return cls(request_id=rid, **{opts_field.name: opts, uri_field.name: pattern})

    plain = options(kind, drop=("match",))
    exact = st.builds(build, st.sampled_from([None, "exact"]), ids(), plain, uris())
    pattern = st.builds(
        build,
        st.sampled_from(["prefix", "wildcard"]),
        ids(),
        plain,
        uris(allow_empty=True),
    )
    return st.one_of(exact, pattern)


def _revocable(spec: schema.MessageSpec) -> st.SearchStrategy[Any]:
    """UNSUBSCRIBED/UNREGISTERED (schema hook ``revocable``): a reply, or a revocation."""
    cls = getattr(m, spec.cls)
    key = spec.revokes
    plain = st.builds(
        cls,
        request_id=ids(),
        details=st.one_of(st.just({}), st.fixed_dictionaries({"reason": _text})),
    )
    revocation = st.builds(
        cls,
        request_id=st.just(0),
        details=st.fixed_dictionaries({key: ids()}, optional={"reason": _text}),
    )
    return st.one_of(plain, revocation)


def _build(cls: type[m.Message], container: str, **fields: st.SearchStrategy[Any]) -> Any:
    """A strategy for a payload-carrying message class."""
    return st.builds(
        lambda f, p: cls(**_with_payload(f, container, p)),
        st.fixed_dictionaries(fields),
        payloads(),
    )


def _field(f: schema.Field) -> st.SearchStrategy[Any]:
    """A valid value for one message field, by its schema kind."""
    if f.kind == "options":
        assert f.known is not None
        return options(f.known)
    return {
        "id": ids(),
        "uri": uris(),
        "str": _text,
        "type": st.sampled_from(sorted(schema.ERROR_REQUEST_TYPES)),
        "extra": _small_dict,
    }[f.kind]


def _strategy(spec: schema.MessageSpec) -> st.SearchStrategy[Any]:
    """The strategy for one message, from its schema entry (hooks by hand)."""
    cls = getattr(m, spec.cls)
    if "roles" in spec.hooks:
        roles = _client_roles() if spec.code == m.HELLO else _router_roles()
        uri_or_id = spec.fields[0]
        return st.builds(
            cls,
            **{
                uri_or_id.name: _field(uri_or_id),
                "details": _roles_details(spec.fields[1].known or "", roles),
            },
        )
    if "pattern" in spec.hooks:
        return _pattern_topic(spec)
    if "revocable" in spec.hooks:
        return _revocable(spec)
    fields = {f.name: _field(f) for f in spec.fields}
    if spec.payload_at is None:
        return st.builds(cls, **fields)
    if spec.container is None:  # ABORT: args/kwargs, never a transparent payload
        return st.builds(
            lambda f, p: cls(**f, **p), st.fixed_dictionaries(fields), payloads(transparent=False)
        )
    return _build(cls, spec.container, **fields)


MESSAGE_STRATEGIES: dict[type[m.Message], st.SearchStrategy[Any]] = {
    getattr(m, spec.cls): _strategy(spec) for spec in schema.MESSAGES
}


def message_strategy(cls: type[m.Message]) -> st.SearchStrategy[Any]:
    """The strategy for one message class."""
    return MESSAGE_STRATEGIES[cls]


def messages() -> st.SearchStrategy[m.Message]:
    """Any valid message of any type."""
    return st.one_of(*MESSAGE_STRATEGIES.values())


def wire_lists() -> st.SearchStrategy[list[Any]]:
    """The wire list of any valid message."""
    return messages().map(lambda msg: msg.to_wire())


_junk_scalar: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([0, -1, 1, 2**53, 2**53 + 1, 2**64]),
    st.floats(),
    st.text(max_size=10),
    st.binary(max_size=10),
    st.sampled_from(["com.example.topic", "a..b", "", "a b", "wamp.error.x", "#"]),
)


def junk_wire() -> st.SearchStrategy[Any]:
    """Arbitrary decoded structures: mutated valid messages, random lists, non-lists."""
    values = st.recursive(
        _junk_scalar,
        lambda inner: st.one_of(
            st.lists(inner, max_size=5),
            st.dictionaries(st.one_of(_keys, _junk_scalar), inner, max_size=4),
        ),
        max_leaves=15,
    )
    codes = st.one_of(st.sampled_from(sorted(m.MESSAGE_CLASSES)), st.integers(), _junk_scalar)
    random_list = st.builds(lambda c, rest: [c, *rest], codes, st.lists(values, max_size=7))

    def mutate(wire: list[Any], index: int, value: Any, action: int) -> list[Any]:
        wire = list(wire)
        i = index % len(wire)
        if action == 0:
            wire[i] = value
        elif action == 1:
            del wire[i:]
        else:
            wire.append(value)
        return wire

    mutated = st.builds(
        mutate, wire_lists(), st.integers(0, 10), values, st.integers(min_value=0, max_value=2)
    )
    return st.one_of(mutated, mutated, random_list, values)
