"""Message classes (wamp-spec §1): round trips, valid-at-birth, immutability, and hostile
wire lists that must only ever raise RemoteProtocolError."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import MESSAGE_STRATEGIES, junk_wire, messages, uris

from wampcore import LocalProtocolError, RemoteProtocolError
from wampcore import messages as m
from wampcore.errors import PROTOCOL_VIOLATION

PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CLASSES = [pytest.param(cls, id=cls.NAME) for cls in MESSAGE_STRATEGIES]


def field_names(msg_or_cls: Any) -> list[str]:
    return [f.name for f in dataclasses.fields(msg_or_cls)]


def test_every_message_type_has_a_class_and_a_strategy() -> None:
    """wamp-spec §1.2: all 25 message types, each with its code and spec name."""
    codes = [1, 2, 3, 4, 5, 6, 8, 16, 17, 32, 33, 34, 35, 36, 48, 49, 50]
    codes += [64, 65, 66, 67, 68, 69, 70, 337]
    assert sorted(m.MESSAGE_CLASSES) == codes
    assert set(MESSAGE_STRATEGIES) == set(m.MESSAGE_CLASSES.values())
    for code, cls in m.MESSAGE_CLASSES.items():
        assert cls.TYPE == code
        assert cls.NAME.replace("_", "").lower() == cls.__name__.lower()


@pytest.mark.parametrize("cls", CLASSES)
@PROPERTY
@given(data=st.data())
def test_wire_round_trip(cls: type[m.Message], data: st.DataObject) -> None:
    """wamp-spec §1.2: from_wire(msg.to_wire()) == msg; to_wire is stable and starts with the
    message code."""
    msg = data.draw(MESSAGE_STRATEGIES[cls])
    wire = msg.to_wire()
    assert wire[0] == cls.TYPE
    back = m.from_wire(wire)
    assert type(back) is cls
    assert back == msg
    assert back.to_wire() == wire


@pytest.mark.parametrize("cls", CLASSES)
@PROPERTY
@given(data=st.data())
def test_wire_and_constructor_agree(cls: type[m.Message], data: st.DataObject) -> None:
    """DESIGN §3 "valid at birth": a message parsed from the wire and the same fields given to
    the constructor are the same message (one set of rules for both paths)."""
    msg = data.draw(MESSAGE_STRATEGIES[cls])
    parsed = m.from_wire(msg.to_wire())
    fields = {name: getattr(parsed, name) for name in field_names(parsed)}
    assert cls(**fields) == parsed


@pytest.mark.parametrize("cls", CLASSES)
def test_messages_are_frozen_and_slotted(cls: type[m.Message]) -> None:
    """DESIGN §1.3: one frozen, slotted, keyword-constructed dataclass per message."""
    assert dataclasses.is_dataclass(cls)
    assert "__dict__" not in cls.__dict__ and "__slots__" in cls.__dict__
    params = cls.__dataclass_params__
    assert params.frozen
    msg = m.from_wire(_sample(cls))
    name = field_names(msg)[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(msg, name, getattr(msg, name))
    with pytest.raises(TypeError):
        cls(*[getattr(msg, name) for name in field_names(msg)])  # keyword-only


def _sample(cls: type[m.Message]) -> list[Any]:
    samples: dict[int, list[Any]] = {
        m.HELLO: [1, "realm1", {"roles": {"caller": {}}}],
        m.WELCOME: [2, 1, {"roles": {"dealer": {}}}],
        m.ABORT: [3, {}, "wamp.error.no_such_realm"],
        m.CHALLENGE: [4, "ticket", {}],
        m.AUTHENTICATE: [5, "secret", {}],
        m.GOODBYE: [6, {}, "wamp.close.normal"],
        m.ERROR: [8, 48, 1, {}, "com.example.error"],
        m.PUBLISH: [16, 1, {}, "com.example.topic"],
        m.PUBLISHED: [17, 1, 2],
        m.SUBSCRIBE: [32, 1, {}, "com.example.topic"],
        m.SUBSCRIBED: [33, 1, 2],
        m.UNSUBSCRIBE: [34, 1, 2],
        m.UNSUBSCRIBED: [35, 1],
        m.EVENT: [36, 1, 2, {}],
        m.EVENT_RECEIVED: [337, 2],
        m.CALL: [48, 1, {}, "com.example.proc"],
        m.CANCEL: [49, 1, {}],
        m.RESULT: [50, 1, {}],
        m.REGISTER: [64, 1, {}, "com.example.proc"],
        m.REGISTERED: [65, 1, 2],
        m.UNREGISTER: [66, 1, 2],
        m.UNREGISTERED: [67, 1],
        m.INVOCATION: [68, 1, 2, {}],
        m.INTERRUPT: [69, 1, {}],
        m.YIELD: [70, 1, {}],
    }
    return samples[cls.TYPE]


def test_replace_revalidates() -> None:
    """DESIGN §3: dataclasses.replace builds a new message through the same checks."""
    msg = m.Publish(request_id=1, topic="com.example.topic", args=["x"])
    assert dataclasses.replace(msg, topic="com.example.other").topic == "com.example.other"
    with pytest.raises(LocalProtocolError):
        dataclasses.replace(msg, topic="not a uri")
    with pytest.raises(LocalProtocolError):
        dataclasses.replace(msg, request_id=0)


def test_convenience_properties() -> None:
    """wamp-spec §2.3, §4.2, §4.8, §4.12: roles, match/invoke policy, progress, revocation."""
    hello = m.from_wire([1, "realm1", {"roles": {"caller": {}}}])
    assert hello.roles == {"caller": {}}  # type: ignore[attr-defined]
    welcome = m.from_wire([2, 5, {"roles": {"broker": {}}}])
    assert welcome.roles == {"broker": {}}  # type: ignore[attr-defined]
    assert m.Subscribe(request_id=1, topic="a.b").match == "exact"
    assert m.Register(request_id=1, procedure="a.b").invoke == "single"
    reg = m.Register(request_id=1, procedure="a..c", options={"match": "wildcard"})
    assert reg.match == "wildcard"
    assert m.Result(request_id=1, details={"progress": True}).progress
    assert not m.Yield(request_id=1).progress
    assert m.Unsubscribed(request_id=0, details={"subscription": 3}).is_revocation
    assert not m.Unregistered(request_id=4).is_revocation


def test_to_wire_returns_a_new_list() -> None:
    """Callers (a router patching an EVENT, say) may change the list they get back."""
    msg = m.from_wire([17, 1, 2])
    wire = msg.to_wire()
    wire[1] = 99
    assert msg.to_wire() == [17, 1, 2]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(wire=junk_wire(), strict=st.booleans())
def test_junk_wire_gives_only_remote_protocol_errors(wire: Any, strict: bool) -> None:
    """wamp-spec §3.6: from_wire on anything raises RemoteProtocolError (reason
    protocol_violation, a non-empty message) or returns a valid message -- nothing else."""
    try:
        msg = m.from_wire(wire, strict_uris=strict)
    except RemoteProtocolError as exc:
        assert exc.reason == PROTOCOL_VIOLATION
        assert exc.message
        return
    # A valid message survives the wire. Compared as wire lists: an empty args list or kwargs
    # dict is left out on output (wamp-spec.md §1.1), so it comes back as None.
    wire = msg.to_wire()
    assert m.from_wire(wire).to_wire() == wire


_field_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-2, max_value=2**54),
    st.floats(allow_nan=False),
    st.text(max_size=6),
    st.binary(max_size=4),
    st.sampled_from(["com.example.x", "a..b", "", {}, [], {"roles": {}}, {1: 2}, ["x"]]),
)


@pytest.mark.parametrize("cls", CLASSES)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_constructors_raise_only_local_protocol_errors(
    cls: type[m.Message], data: st.DataObject
) -> None:
    """DESIGN §1.7: no bare ValueError/KeyError/TypeError from a constructor given wrongly typed
    field values: a LocalProtocolError, or a valid message."""
    fields = {name: data.draw(_field_values, label=name) for name in field_names(cls)}
    try:
        msg = cls(**fields)
    except LocalProtocolError as exc:
        assert not isinstance(exc, RemoteProtocolError)
        return
    # A valid message survives the wire. Compared as wire lists: an empty args list or kwargs
    # dict is left out on output (wamp-spec.md §1.1), so it comes back as None.
    wire = msg.to_wire()
    assert m.from_wire(wire).to_wire() == wire


@PROPERTY
@given(msg=messages())
def test_strict_uris_accept_strict_messages(msg: m.Message) -> None:
    """wamp-spec §2.2: a message whose URIs are strict passes from_wire(strict_uris=True), and
    one whose URIs are not is refused naming the field."""
    wire = msg.to_wire()
    fields = type(msg).URI_FIELDS
    values = [getattr(msg, f) for f in fields]
    strict = all(uris_is_strict(v, msg) for v in values)
    if strict:
        assert m.from_wire(wire, strict_uris=True) == msg
    else:
        with pytest.raises(RemoteProtocolError, match="strict"):
            m.from_wire(wire, strict_uris=True)


def uris_is_strict(value: str, msg: m.Message) -> bool:
    from wampcore import uri

    options = getattr(msg, "options", {})
    allow_empty = options.get("match") in ("prefix", "wildcard")
    return uri.is_valid(value, strict=True, allow_empty=allow_empty)


@settings(max_examples=60, deadline=None)
@given(topic=uris(strict=True))
def test_strict_uri_strategy_is_strict(topic: str) -> None:
    msg = m.Publish(request_id=1, topic=topic)
    assert m.from_wire(msg.to_wire(), strict_uris=True) == msg
