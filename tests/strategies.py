"""Hypothesis strategies for every WAMP message wampcore speaks (wamp-spec §1.2).

Everything generated here is *valid* (it constructs without error) and survives a round trip
through every serializer (JSON, MessagePack, CBOR, plain and batched), so a property test can
assert ``from_wire(decode(encode(msg.to_wire()))) == msg`` for anything drawn from
``messages()``. That is why payload values stay inside what all three formats carry losslessly:
no NaN, integers within MessagePack's 64-bit range, no lone surrogates, and no string values
that start with NUL (the JSON binary convention, wamp-spec §5.2, would turn them into bytes).

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

MAX_ID = 2**53

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

_ENC: dict[str, st.SearchStrategy[Any]] = {
    "enc_algo": st.sampled_from(["cryptobox", "mqtt", "xbr"]),
    "enc_serializer": st.sampled_from(["json", "msgpack", "cbor", "ubjson", "opaque"]),
    "enc_key": _text,
    "ppt_scheme": _text,
    "ppt_serializer": _text,
    "ppt_cipher": _text,
    "ppt_keyid": _text,
    "forward_for": _forward_for,
    "transaction_hash": _text,
}

# Known keys and a valid value strategy for each (wamp-spec §1.4).
KNOWN: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "close": {"message": _text},
    "publish": {
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
        "rkey": _text,
        **_ENC,
    },
    "subscribe": {"get_retained": _bool, "nkey": _text, "forward_for": _forward_for},
    "event": {
        "publisher": ids(),
        "publisher_authid": _text,
        "publisher_authrole": _text,
        "trustlevel": _nonneg,
        "topic": uris(),
        "retained": _bool,
        "x_acknowledged_delivery": _bool,
        **_ENC,
    },
    "call": {
        "receive_progress": _bool,
        "progress": _bool,
        "timeout": _nonneg,
        "disclose_me": _bool,
        "runmode": _text,
        "rkey": _text,
        "caller": ids(),
        "caller_authid": _text,
        "caller_authrole": _text,
        **_ENC,
    },
    "cancel": {"mode": st.sampled_from(["skip", "kill", "killnowait"])},
    "interrupt": {"mode": st.sampled_from(["skip", "kill", "killnowait"]), "reason": _text},
    "register": {
        "invoke": st.sampled_from(["single", "roundrobin", "random", "first", "last"]),
        "disclose_caller": _bool,
        "forward_timeout": _bool,
        "concurrency": _nonneg,
        "force_reregister": _bool,
        "forward_for": _forward_for,
    },
    "invocation": {
        "caller": ids(),
        "caller_authid": _text,
        "caller_authrole": _text,
        "procedure": uris(),
        "receive_progress": _bool,
        "progress": _bool,
        "trustlevel": _nonneg,
        "timeout": _nonneg,
        **_ENC,
    },
    "result": {
        "progress": _bool,
        "callee": ids(),
        "callee_authid": _text,
        "callee_authrole": _text,
        **_ENC,
    },
    "error": {"callee": ids(), "callee_authid": _text, "callee_authrole": _text, **_ENC},
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


def _hello_details() -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        _merge,
        st.fixed_dictionaries(
            {"roles": _client_roles()},
            optional={
                "agent": _text,
                "authmethods": _str_list,
                "authid": _text,
                "authrole": _text,
                "authextra": _small_dict,
            },
        ),
        st.dictionaries(_unknown_key, payload_values(), max_size=2),
    )


def _welcome_details() -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        _merge,
        st.fixed_dictionaries(
            {"roles": _router_roles()},
            optional={
                "agent": _text,
                "authid": _text,
                "authrole": _text,
                "authmethod": _text,
                "authprovider": _text,
                "authextra": _small_dict,
            },
        ),
        st.dictionaries(_unknown_key, payload_values(), max_size=2),
    )


def _pattern_topic(cls: type[m.Subscribe] | type[m.Register]) -> st.SearchStrategy[Any]:
    kind = "subscribe" if cls is m.Subscribe else "register"

    def build(match: str | None, rid: int, opts: dict[str, Any], pattern: str) -> Any:
        if match is not None:
            opts = {**opts, "match": match}
        if cls is m.Subscribe:
            return m.Subscribe(request_id=rid, options=opts, topic=pattern)
        return m.Register(request_id=rid, options=opts, procedure=pattern)

    exact = st.builds(build, st.sampled_from([None, "exact"]), ids(), options(kind), uris())
    pattern = st.builds(
        build,
        st.sampled_from(["prefix", "wildcard"]),
        ids(),
        options(kind),
        uris(allow_empty=True),
    )
    return st.one_of(exact, pattern)


def _revocable(cls: type[m.Unsubscribed] | type[m.Unregistered]) -> st.SearchStrategy[Any]:
    key = "subscription" if cls is m.Unsubscribed else "registration"
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


MESSAGE_STRATEGIES: dict[type[m.Message], st.SearchStrategy[Any]] = {
    m.Hello: st.builds(m.Hello, realm=uris(), details=_hello_details()),
    m.Welcome: st.builds(m.Welcome, session_id=ids(), details=_welcome_details()),
    m.Abort: st.builds(
        lambda d, r, p: m.Abort(details=d, reason=r, **p),
        options("close"),
        uris(),
        payloads(transparent=False),
    ),
    m.Challenge: st.builds(m.Challenge, method=_text, extra=_small_dict),
    m.Authenticate: st.builds(m.Authenticate, signature=_text, extra=_small_dict),
    m.Goodbye: st.builds(m.Goodbye, details=options("close"), reason=uris()),
    m.Error: _build(
        m.Error,
        "details",
        request_type=st.sampled_from(sorted(m.ERROR_REQUEST_TYPES)),
        request_id=ids(),
        details=options("error"),
        error=uris(),
    ),
    m.Publish: _build(
        m.Publish, "options", request_id=ids(), options=options("publish"), topic=uris()
    ),
    m.Published: st.builds(m.Published, request_id=ids(), publication_id=ids()),
    m.Subscribe: _pattern_topic(m.Subscribe),
    m.Subscribed: st.builds(m.Subscribed, request_id=ids(), subscription_id=ids()),
    m.Unsubscribe: st.builds(m.Unsubscribe, request_id=ids(), subscription_id=ids()),
    m.Unsubscribed: _revocable(m.Unsubscribed),
    m.Event: _build(
        m.Event,
        "details",
        subscription_id=ids(),
        publication_id=ids(),
        details=options("event"),
    ),
    m.EventReceived: st.builds(m.EventReceived, publication_id=ids()),
    m.Call: _build(m.Call, "options", request_id=ids(), options=options("call"), procedure=uris()),
    m.Cancel: st.builds(m.Cancel, request_id=ids(), options=options("cancel")),
    m.Result: _build(m.Result, "details", request_id=ids(), details=options("result")),
    m.Register: _pattern_topic(m.Register),
    m.Registered: st.builds(m.Registered, request_id=ids(), registration_id=ids()),
    m.Unregister: st.builds(m.Unregister, request_id=ids(), registration_id=ids()),
    m.Unregistered: _revocable(m.Unregistered),
    m.Invocation: _build(
        m.Invocation,
        "details",
        request_id=ids(),
        registration_id=ids(),
        details=options("invocation"),
    ),
    m.Interrupt: st.builds(m.Interrupt, request_id=ids(), options=options("interrupt")),
    m.Yield: _build(m.Yield, "options", request_id=ids(), options=options("result")),
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
