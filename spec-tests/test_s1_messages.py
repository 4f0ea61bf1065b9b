"""wampcore's own conformance cases for wamp-spec §1 (messages), one test per rule.

Each test names the rule it checks and cites the section of ../shared/reference/wamp-spec.md.
Wire lists are what a serializer hands over, so every rejection must be a
``RemoteProtocolError`` with reason ``wamp.error.protocol_violation`` (§3.6) whose message names
the offending field; a message built by application code breaking the same rule raises
``LocalProtocolError`` instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from wampcore import LocalProtocolError, RemoteProtocolError
from wampcore import messages as m
from wampcore.errors import PROTOCOL_VIOLATION
from wampcore.schema import MESSAGES

# One valid wire list per message type, with every optional trailing element present.
FULL: dict[int, list[Any]] = {
    m.HELLO: [1, "com.example.realm", {"roles": {"caller": {}}}],
    m.WELCOME: [2, 9129137332, {"roles": {"dealer": {}}}],
    m.ABORT: [3, {}, "wamp.error.no_such_realm", ["a"], {"k": 1}],
    m.CHALLENGE: [4, "wampcra", {}],
    m.AUTHENTICATE: [5, "signature", {}],
    m.GOODBYE: [6, {}, "wamp.close.normal"],
    m.ERROR: [8, 48, 7, {}, "com.example.error", ["a"], {"k": 1}],
    m.PUBLISH: [16, 7, {}, "com.example.topic", ["a"], {"k": 1}],
    m.PUBLISHED: [17, 7, 8],
    m.SUBSCRIBE: [32, 7, {}, "com.example.topic"],
    m.SUBSCRIBED: [33, 7, 8],
    m.UNSUBSCRIBE: [34, 7, 8],
    m.UNSUBSCRIBED: [35, 7, {"reason": "unsubscribed"}],
    m.EVENT: [36, 7, 8, {}, ["a"], {"k": 1}],
    m.EVENT_RECEIVED: [337, 8],
    m.CALL: [48, 7, {}, "com.example.proc", ["a"], {"k": 1}],
    m.CANCEL: [49, 7, {}],
    m.RESULT: [50, 7, {}, ["a"], {"k": 1}],
    m.REGISTER: [64, 7, {}, "com.example.proc"],
    m.REGISTERED: [65, 7, 8],
    m.UNREGISTER: [66, 7, 8],
    m.UNREGISTERED: [67, 7, {"reason": "unregistered"}],
    m.INVOCATION: [68, 7, 8, {}, ["a"], {"k": 1}],
    m.INTERRUPT: [69, 7, {}],
    m.YIELD: [70, 7, {}, ["a"], {"k": 1}],
}

# The position tables come from wampcore/schema.py, the one description of the messages;
# test_s1_schema.py checks that description against the spec's own message table (§1.2).

# The shortest legal length of each message whose length varies (wamp-spec §1.2, "Len" column).
MIN_LEN: dict[int, int] = {s.code: s.min_len for s in MESSAGES if s.min_len < s.max_len}

# Positions holding an id (wamp-spec §1.2 / §2.1).
ID_POSITIONS: dict[int, list[int]] = {
    s.code: s.positions("id") for s in MESSAGES if s.positions("id")
}

# Positions holding an Options/Details/Extra dict.
DICT_POSITIONS: dict[int, int] = {
    s.code: [*s.positions("options"), *s.positions("extra")][0]
    for s in MESSAGES
    if s.positions("options") or s.positions("extra")
}

# Positions holding a URI.
URI_POSITIONS: dict[int, int] = {
    s.code: s.positions("uri")[0] for s in MESSAGES if s.positions("uri")
}

# Where the application payload starts, for the messages that carry one.
PAYLOAD_AT: dict[int, int] = {s.code: s.payload_at for s in MESSAGES if s.payload_at is not None}
# The Options/Details whose enc_algo a transparent payload needs (ABORT carries none).
TRANSPARENT_CONTAINER: dict[int, int] = {
    s.code: s.position(s.container) for s in MESSAGES if s.container is not None
}


def name(code: int) -> str:
    return m.MESSAGE_CLASSES[code].NAME


def full(code: int) -> list[Any]:
    """A fresh copy of the full valid wire list (tests mutate it)."""
    import copy

    return copy.deepcopy(FULL[code])


def rejects(wire: Any, *needles: str, strict_uris: bool = False) -> RemoteProtocolError:
    """Assert ``from_wire`` rejects ``wire`` as a protocol violation mentioning each needle."""
    with pytest.raises(RemoteProtocolError) as info:
        m.from_wire(wire, strict_uris=strict_uris)
    err = info.value
    assert err.reason == PROTOCOL_VIOLATION
    for needle in needles:
        assert needle in err.message, err.message
    return err


def codes(table: dict[int, Any]) -> list[Any]:
    return [pytest.param(code, id=name(code)) for code in table]


# --- §1.1 General rules -----------------------------------------------------------------------


@pytest.mark.parametrize("wire", [None, 16, "x", b"[16]", {}, {"0": 16}, (16, 1, {}, "a.b")])
def test_s1_1_a_message_is_a_list(wire: Any) -> None:
    """wamp-spec §1.1: every message is a list (a tuple is a Python artefact, not a message)."""
    rejects(wire, "list")


def test_s1_1_a_message_is_not_empty() -> None:
    """wamp-spec §1.1 / §3.6: an empty list has no message type."""
    rejects([], "non-empty")


@pytest.mark.parametrize("code", ["16", 16.0, True, None, [16], {"16": 1}, b"\x10"])
def test_s1_1_message_type_is_an_integer(code: Any) -> None:
    """wamp-spec §1.1: element 0 is MessageType|integer (True is not 1, 16.0 is not 16)."""
    rejects([code, 1, {}, "com.example.topic"], "message type")


@pytest.mark.parametrize("code", [0, -1, 7, 9, 15, 18, 37, 71, 255, 256, 1023, 2**64])
def test_s1_1_unknown_message_type_is_a_violation(code: int) -> None:
    """wamp-spec §1.1/§1.2/§3.6: unassigned codes (incl. 7, the removed HEARTBEAT, and 37,
    the unratified EVENT_RECEIVED) are protocol violations."""
    rejects([code, 1, {}, "com.example.topic"], "unknown WAMP message type")


def test_s1_1_floats_are_not_integers() -> None:
    """wamp-spec §1.1: WAMP itself never uses floats -- an id of 7.0 is invalid."""
    rejects([17, 7.0, 8], "PUBLISHED")


def test_s1_1_null_is_never_a_wamp_value() -> None:
    """wamp-spec §1.1: WAMP itself never uses null, for any element."""
    for code, wire in FULL.items():
        for i in range(1, len(wire)):
            broken = full(code)
            broken[i] = None
            rejects(broken, name(code))


def test_s1_1_floats_and_null_allowed_in_application_payload() -> None:
    """wamp-spec §1.1: application payloads may use floats and null."""
    msg = m.from_wire([16, 1, {}, "com.example.topic", [1.5, None], {"k": None, "f": -0.25}])
    assert msg.to_wire() == [16, 1, {}, "com.example.topic", [1.5, None], {"k": None, "f": -0.25}]


def test_s1_1_kwargs_only_payload_is_sent_with_empty_arguments() -> None:
    """wamp-spec §1.1: ArgumentsKw only follows Arguments; kwargs alone go out with []."""
    for code, at in PAYLOAD_AT.items():
        msg = m.from_wire([*full(code)[:at], [], {"k": 1}])
        assert msg.args is None  # type: ignore[attr-defined]
        assert msg.kwargs == {"k": 1}  # type: ignore[attr-defined]
        assert msg.to_wire() == [*full(code)[:at], [], {"k": 1}]


@pytest.mark.parametrize("code", codes(PAYLOAD_AT))
def test_s1_1_empty_arguments_are_accepted_and_omitted(code: int) -> None:
    """wamp-spec §1.1: empty Arguments/ArgumentsKw SHOULD NOT be sent but MUST be accepted."""
    at = PAYLOAD_AT[code]
    bare = full(code)[:at]
    for wire in ([*bare, []], [*bare, [], {}], [*bare, ["a"], {}]):
        msg = m.from_wire(wire)
        assert msg.kwargs is None  # type: ignore[attr-defined]
        expected = [*bare, ["a"]] if wire[at] else bare
        assert msg.to_wire() == expected


@pytest.mark.parametrize("code", codes(PAYLOAD_AT))
def test_s1_1_arguments_must_be_a_list(code: int) -> None:
    """wamp-spec §1.1: Arguments|list -- a dict or number in its place is a violation."""
    at = PAYLOAD_AT[code]
    for bad in ({"k": 1}, 1, True, None):
        rejects([*full(code)[:at], bad], name(code), "Arguments")


@pytest.mark.parametrize("code", codes(PAYLOAD_AT))
def test_s1_1_arguments_kw_must_be_a_dict(code: int) -> None:
    """wamp-spec §1.1: ArgumentsKw|dict -- a list, or a falsy non-dict, is a violation (only
    an empty dict may stand for "no kwargs")."""
    at = PAYLOAD_AT[code]
    for bad in (["k"], [], 0, "", None, False):
        rejects([*full(code)[:at], ["a"], bad], name(code), "ArgumentsKw")


@pytest.mark.parametrize("code", codes(PAYLOAD_AT))
def test_s1_1_arguments_kw_keys_are_strings(code: int) -> None:
    """wamp-spec §1.1: dict keys are strings (MessagePack and CBOR could carry others)."""
    at = PAYLOAD_AT[code]
    for bad_key in (1, b"k", None, 1.5):
        rejects([*full(code)[:at], ["a"], {bad_key: 1}], name(code), "ArgumentsKw")


@pytest.mark.parametrize("code", codes(DICT_POSITIONS))
def test_s1_1_options_and_details_are_dicts(code: int) -> None:
    """wamp-spec §1.1: Options|dict / Details|dict / Extra|dict -- nothing else."""
    at = DICT_POSITIONS[code]
    for bad in ([], "x", 1, ["roles"]):
        wire = full(code)
        wire[at] = bad
        rejects(wire, name(code))


@pytest.mark.parametrize("code", codes(DICT_POSITIONS))
def test_s1_1_options_and_details_keys_are_strings(code: int) -> None:
    """wamp-spec §1.1: dict keys are unique strings."""
    at = DICT_POSITIONS[code]
    for bad_key in (1, b"x", True):
        wire = full(code)
        wire[at] = {**wire[at], bad_key: "x"}
        rejects(wire, name(code), "keys must be strings")


def test_s1_1_unknown_option_keys_are_kept_and_ignored() -> None:
    """wamp-spec §1.1: a receiver MUST ignore keys it does not know (and we keep them, so a
    router can forward them)."""
    options = {"_custom_key": [1, {"a": None}], "x_cb_node": "node1", "future_option": 1.5}
    msg = m.from_wire([16, 1, options, "com.example.topic"])
    assert msg.options == options  # type: ignore[attr-defined]
    assert msg.to_wire()[2] == options


def test_s1_1_local_construction_follows_the_same_rules() -> None:
    """wamp-spec §1.1 (and DESIGN §1.3): a message is valid at birth; application code that
    builds an invalid one gets LocalProtocolError, never a message object."""
    bad_builds: list[Callable[[], object]] = [
        lambda: m.Publish(request_id=0, topic="com.example.topic"),
        lambda: m.Publish(request_id=1, topic="com..topic"),
        lambda: m.Publish(request_id=1, topic="a.b", options={"acknowledge": 1}),
        lambda: m.Publish(request_id=1, topic="a.b", args={"k": 1}),  # type: ignore[arg-type]
        lambda: m.Call(request_id=True, procedure="a.b"),
        lambda: m.Error(request_type=50, request_id=1, error="a.b"),
        lambda: m.Hello(realm="realm1", details={}),
        lambda: m.Unsubscribed(request_id=0),
        lambda: m.Abort(reason="wamp.error.x", payload=b"x"),  # type: ignore[arg-type]
    ]
    for build in bad_builds:
        with pytest.raises(LocalProtocolError) as info:
            build()
        assert not isinstance(info.value, RemoteProtocolError)
        assert info.value.reason == PROTOCOL_VIOLATION


# --- §1.2 Message table -----------------------------------------------------------------------


@pytest.mark.parametrize("code", codes(FULL))
def test_s1_2_every_message_type_round_trips(code: int) -> None:
    """wamp-spec §1.2: each message's exact wire form is accepted and re-emitted unchanged."""
    msg = m.from_wire(full(code))
    assert type(msg) is m.MESSAGE_CLASSES[code]
    assert msg.TYPE == code
    assert msg.to_wire() == FULL[code]
    assert m.from_wire(msg.to_wire()) == msg


@pytest.mark.parametrize("code", codes(FULL))
def test_s1_2_arity(code: int) -> None:
    """wamp-spec §1.2 (Len column) / §3.6: a wrong element count is a protocol violation;
    optional elements may be left out only from the end."""
    wire = full(code)
    low = MIN_LEN.get(code, len(wire))
    for n in range(1, len(wire) + 1):
        if n < low:
            rejects(wire[:n], name(code), "elements")
        else:
            m.from_wire(wire[:n])
    rejects([*wire, {}], name(code))


@pytest.mark.parametrize("code", codes(ID_POSITIONS))
def test_s1_2_id_fields_are_ids(code: int) -> None:
    """wamp-spec §1.2/§2.1: every id element is an integer in [1, 2^53]; bool is not an int,
    and 0, negatives, 2^53+1, floats and strings are rejected."""
    for at in ID_POSITIONS[code]:
        for good in (1, 2**53):
            wire = full(code)
            wire[at] = good
            m.from_wire(wire)
        for bad in (0, -1, 2**53 + 1, 2**64, True, False, 1.0, "1", b"\x01"):
            wire = full(code)
            wire[at] = bad
            rejects(wire, name(code))


@pytest.mark.parametrize("code", codes(URI_POSITIONS))
def test_s1_2_uri_fields_are_uris(code: int) -> None:
    """wamp-spec §1.2/§2.2: URI elements are strings following the loose rules."""
    at = URI_POSITIONS[code]
    for bad in ("", "com..example", ".com.example", "com.example.", "com example", "a#b", 1, b"a"):
        wire = full(code)
        wire[at] = bad
        rejects(wire, name(code))


@pytest.mark.parametrize("code", [m.CHALLENGE, m.AUTHENTICATE])
def test_s1_2_string_fields_are_strings(code: int) -> None:
    """wamp-spec §1.2: AuthMethod|string and Signature|string; a string may be empty."""
    wire = full(code)
    wire[1] = ""
    m.from_wire(wire)
    for bad in (1, b"sig", ["sig"]):
        wire[1] = bad
        rejects(wire, name(code))


def test_s1_2_abort_carries_a_payload_goodbye_does_not() -> None:
    """wamp-spec §1.2 notes: ABORT can carry Arguments and ArgumentsKw, GOODBYE cannot."""
    abort = m.from_wire([3, {"message": "bye"}, "wamp.error.no_such_realm", ["x"], {"k": 1}])
    assert abort.args == ["x"] and abort.kwargs == {"k": 1}  # type: ignore[attr-defined]
    rejects([6, {}, "wamp.close.normal", ["x"]], "GOODBYE", "elements")


@pytest.mark.parametrize("request_type", sorted(m.ERROR_REQUEST_TYPES))
def test_s1_2_error_request_types_legal(request_type: int) -> None:
    """wamp-spec §1.2 notes: ERROR may answer PUBLISH, SUBSCRIBE, UNSUBSCRIBE, CALL, REGISTER,
    UNREGISTER and INVOCATION."""
    msg = m.from_wire([8, request_type, 7, {}, "com.example.error"])
    assert msg.request_type == request_type  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "request_type", [0, 1, 2, 8, 17, 33, 35, 36, 49, 50, 65, 67, 69, 70, 337, True, 48.0, "48"]
)
def test_s1_2_error_request_types_illegal(request_type: Any) -> None:
    """wamp-spec §1.2 notes/§3.6: ERROR with any other REQUEST.Type is a protocol violation
    (a failed CANCEL is reported with 48, an INTERRUPT error with 68)."""
    rejects([8, request_type, 7, {}, "com.example.error"], "ERROR.REQUEST.Type")


@pytest.mark.parametrize(
    ("code", "key"), [(m.UNSUBSCRIBED, "subscription"), (m.UNREGISTERED, "registration")]
)
def test_s1_2_revocation_form(code: int, key: str) -> None:
    """wamp-spec §1.2 notes (§4.12/§4.21): request id 0 is legal only in the revocation form,
    which carries Details.<subscription|registration> (an id) and an optional reason string."""
    msg = m.from_wire([code, 0, {key: 5, "reason": "wamp.subscription.revoked"}])
    assert msg.request_id == 0 and msg.is_revocation  # type: ignore[attr-defined]
    assert msg.to_wire() == [code, 0, {key: 5, "reason": "wamp.subscription.revoked"}]
    m.from_wire([code, 0, {key: 5}])
    rejects([code, 0], name(code), key)
    rejects([code, 0, {}], name(code), key)
    rejects([code, False, {key: 5}], name(code))
    for bad in (True, 0, "5", 2**53 + 1):
        rejects([code, 0, {key: bad}], key)
    rejects([code, 0, {key: 5, "reason": 1}], "reason")


def test_s1_2_request_id_zero_only_in_revocations() -> None:
    """wamp-spec §2.1: 0 is never a valid id outside the two revocation forms."""
    rejects([33, 0, 5], "SUBSCRIBED")
    rejects([65, 0, 5], "REGISTERED")
    rejects([50, 0, {}], "RESULT")


def test_s1_2_event_received_uses_code_337() -> None:
    """wamp-spec §1.2: EVENT_RECEIVED is [337, EVENT.Publication|id] (37 is not assigned)."""
    msg = m.from_wire([337, 5512315355])
    assert isinstance(msg, m.EventReceived) and msg.publication_id == 5512315355
    rejects([37, 5512315355], "unknown")


@pytest.mark.parametrize("code", codes(TRANSPARENT_CONTAINER))
def test_s1_2_transparent_payload_requires_enc_algo(code: int) -> None:
    """wamp-spec §7.3 (Autobahn payload transparency, §4.18): opaque bytes may stand in place of
    Arguments only when Options/Details.enc_algo says how they are encoded."""
    at, container = PAYLOAD_AT[code], TRANSPARENT_CONTAINER[code]
    wire = [*full(code)[:at], b"\x82\xa1k\x01"]
    rejects(wire, name(code), "enc_algo")
    wire[container] = {"enc_algo": "cryptobox", "enc_serializer": "msgpack"}
    msg = m.from_wire(wire)
    assert msg.payload == b"\x82\xa1k\x01"  # type: ignore[attr-defined]
    assert msg.args is None and msg.kwargs is None  # type: ignore[attr-defined]
    assert msg.to_wire() == wire
    rejects([*wire, {"k": 1}], name(code))


def test_s1_2_abort_has_no_transparent_payload() -> None:
    """wamp-spec §1.2: ABORT's trailing elements are Arguments|list and ArgumentsKw|dict only."""
    rejects([3, {"enc_algo": "cryptobox"}, "wamp.error.x", b"opaque"], "ABORT.Arguments")


# --- §1.4 Known Options/Details keys -----------------------------------------------------------

GOOD: dict[str, list[Any]] = {
    "bool": [True, False],
    "id": [1, 2**53],
    "int": [0, 5, 2**40],
    "str": ["", "x"],
    "uri": ["com.example.x"],
    "dict": [{}, {"a": 1}],
    "str_list": [[], ["a", "b"]],
    "id_list": [[], [1, 2**53]],
    "dict_list": [[], [{"session": 1}]],
}
BAD: dict[str, list[Any]] = {
    "bool": ["hello", 1, 0, [True]],
    "id": [0, True, "1", 2**53 + 1, 1.0],
    "int": [-1, True, 1.5, "3"],
    "str": [1, b"x", ["x"], True],
    "uri": [1, "a..b", "a b"],
    "dict": [[], "x", 1],
    "str_list": ["x", [1], [b"x"]],
    "id_list": [7, [True], [0], ["1"]],
    "dict_list": ["hello", [1], [[]], {}],
}

# (message code, container position, key, kind or allowed values)
KNOWN: list[tuple[int, str, Any]] = [
    (m.HELLO, "agent", "str"),
    (m.HELLO, "authmethods", "str_list"),
    (m.HELLO, "authid", "str"),
    (m.HELLO, "authrole", "str"),
    (m.HELLO, "authextra", "dict"),
    (m.WELCOME, "agent", "str"),
    (m.WELCOME, "authid", "str"),
    (m.WELCOME, "authrole", "str"),
    (m.WELCOME, "authmethod", "str"),
    (m.WELCOME, "authprovider", "str"),
    (m.WELCOME, "authextra", "dict"),
    (m.ABORT, "message", "str"),
    (m.GOODBYE, "message", "str"),
    (m.PUBLISH, "acknowledge", "bool"),
    (m.PUBLISH, "exclude_me", "bool"),
    (m.PUBLISH, "exclude", "id_list"),
    (m.PUBLISH, "exclude_authid", "str_list"),
    (m.PUBLISH, "exclude_authrole", "str_list"),
    (m.PUBLISH, "eligible", "id_list"),
    (m.PUBLISH, "eligible_authid", "str_list"),
    (m.PUBLISH, "eligible_authrole", "str_list"),
    (m.PUBLISH, "disclose_me", "bool"),
    (m.PUBLISH, "retain", "bool"),
    (m.PUBLISH, "rkey", "str"),
    (m.PUBLISH, "ppt_scheme", "str"),
    (m.PUBLISH, "transaction_hash", "str"),
    (m.PUBLISH, "forward_for", "dict_list"),
    (m.PUBLISH, "enc_algo", ("cryptobox", "mqtt", "xbr")),
    (m.PUBLISH, "enc_serializer", ("json", "msgpack", "cbor", "ubjson", "opaque", "flatbuffers")),
    (m.SUBSCRIBE, "match", ("exact", "prefix", "wildcard")),
    (m.SUBSCRIBE, "get_retained", "bool"),
    (m.SUBSCRIBE, "nkey", "str"),
    (m.EVENT, "publisher", "id"),
    (m.EVENT, "publisher_authid", "str"),
    (m.EVENT, "publisher_authrole", "str"),
    (m.EVENT, "trustlevel", "int"),
    (m.EVENT, "topic", "uri"),
    (m.EVENT, "retained", "bool"),
    (m.EVENT, "x_acknowledged_delivery", "bool"),
    (m.CALL, "receive_progress", "bool"),
    (m.CALL, "progress", "bool"),
    (m.CALL, "timeout", "int"),
    (m.CALL, "disclose_me", "bool"),
    (m.CALL, "runmode", "str"),
    (m.CALL, "rkey", "str"),
    (m.CALL, "caller", "id"),
    (m.CANCEL, "mode", ("skip", "kill", "killnowait")),
    (m.INTERRUPT, "mode", ("skip", "kill", "killnowait")),
    (m.INTERRUPT, "reason", "str"),
    (m.REGISTER, "match", ("exact", "prefix", "wildcard")),
    (m.REGISTER, "invoke", ("single", "roundrobin", "random", "first", "last")),
    (m.REGISTER, "disclose_caller", "bool"),
    (m.REGISTER, "forward_timeout", "bool"),
    (m.REGISTER, "concurrency", "int"),
    (m.REGISTER, "force_reregister", "bool"),
    (m.INVOCATION, "caller", "id"),
    (m.INVOCATION, "caller_authid", "str"),
    (m.INVOCATION, "procedure", "uri"),
    (m.INVOCATION, "receive_progress", "bool"),
    (m.INVOCATION, "progress", "bool"),
    (m.INVOCATION, "trustlevel", "int"),
    (m.INVOCATION, "timeout", "int"),
    (m.RESULT, "progress", "bool"),
    (m.RESULT, "callee", "id"),
    (m.YIELD, "progress", "bool"),
    (m.YIELD, "callee_authid", "str"),
    (m.ERROR, "callee", "id"),
    (m.UNSUBSCRIBED, "reason", "str"),
    (m.UNREGISTERED, "reason", "str"),
]


def _values(kind: Any, good: bool) -> list[Any]:
    if isinstance(kind, tuple):
        return list(kind) if good else ["invalid", 1, True, kind[0].upper()]
    return (GOOD if good else BAD)[kind]


@pytest.mark.parametrize(
    ("code", "key", "kind"),
    [pytest.param(c, k, t, id=f"{name(c)}.{k}") for c, k, t in KNOWN],
)
def test_s1_4_known_option_types(code: int, key: str, kind: Any) -> None:
    """wamp-spec §1.4/§3.6 (and §7.3, the vectors): a known Options/Details key with a value
    of the right type is accepted; a wrong type is a protocol violation naming the key."""
    at = DICT_POSITIONS[code]
    for value in _values(kind, good=True):
        wire = full(code)
        wire[at] = {**wire[at], key: value}
        assert m.from_wire(wire).to_wire()[at][key] == value
    for value in _values(kind, good=False):
        wire = full(code)
        wire[at] = {**wire[at], key: value}
        rejects(wire, name(code), key)


def test_s1_4_error_names_message_container_and_key() -> None:
    """wamp-spec §3.6: the violation names the offending field precisely."""
    rejects([16, 1, {"acknowledge": "hello"}, "com.example.topic"], "PUBLISH.Options.acknowledge")
    rejects([36, 1, 2, {"publisher": "x"}], "EVENT.Details.publisher")
    rejects([48, 1, {"timeout": -1}, "com.example.proc"], "CALL.Options.timeout")
