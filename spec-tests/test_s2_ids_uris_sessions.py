"""wampcore's own conformance cases for wamp-spec §2: ids, URIs, roles and the session state
machine, one test per rule.

The session rules are driven through ``wampcore._state.SessionTracker`` for *both* sides: every
message goes through ``send`` on the sending side's tracker and ``receive`` on the other, so a
rule holds only if both halves of the one table agree. The expected legality is written down
here from the spec's tables (§1.3, §2.4), independently of ``_state.SENDABLE``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wampcore import LocalProtocolError, RemoteProtocolError, ids, uri
from wampcore import messages as m
from wampcore._state import Disposition, SessionState, SessionTracker, Side
from wampcore.errors import PROTOCOL_VIOLATION

MAX_ID = 2**53

# --- §2.1 IDs ---------------------------------------------------------------------------------


class _Extremes:
    """A RandomSource that returns the edges of whatever range it is asked for."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []
        self.flip = False

    def randint(self, a: int, b: int, /) -> int:
        self.calls.append((a, b))
        self.flip = not self.flip
        return a if self.flip else b

    def getrandbits(self, k: int, /) -> int:
        return 0


def test_s2_1_global_ids_cover_exactly_1_to_2_53() -> None:
    """wamp-spec §2.1: global-scope ids are drawn uniformly from [1, 2^53] (never 0)."""
    rng = _Extremes()
    assert {ids.global_id(rng), ids.global_id(rng)} == {1, MAX_ID}
    assert rng.calls == [(1, MAX_ID), (1, MAX_ID)]


def test_s2_1_global_ids_come_from_the_injected_source() -> None:
    """wamp-spec §2.1 (+ DESIGN §1.1): the random source is injected; a seeded one reproduces."""
    a = [ids.global_id(random.Random(7)) for _ in range(3)]
    b = [ids.global_id(random.Random(7)) for _ in range(3)]
    assert a == b
    values = [ids.global_id(ids.default_random()) for _ in range(50)]
    assert all(1 <= v <= MAX_ID for v in values)
    assert len(set(values)) == 50  # a CSPRNG over 2^53 values does not repeat in 50 draws


def test_s2_1_request_ids_start_at_1_and_count_up() -> None:
    """wamp-spec §2.1: session-scope ids start at 1 and go up by 1."""
    counter = ids.RequestIds()
    assert [counter.next() for _ in range(5)] == [1, 2, 3, 4, 5]


def test_s2_1_request_ids_wrap_to_1_after_2_53() -> None:
    """wamp-spec §2.1: ... and wrap back to 1 after 2^53."""
    counter = ids.RequestIds()
    counter.last = MAX_ID - 1
    assert [counter.next(), counter.next(), counter.next()] == [MAX_ID, 1, 2]


def test_s2_1_router_scope_ids_are_unique_among_live_ones() -> None:
    """wamp-spec §2.1: router-scope ids are chosen by the router; ours skip ids in use and wrap
    after 2^53 without ever producing 0."""
    gen = ids.RouterScopeIds(start=MAX_ID - 2)
    assert gen.next(in_use={MAX_ID}) == MAX_ID - 1
    assert gen.next(in_use={MAX_ID, 1, 2}) == 3


def _pair() -> tuple[SessionTracker, SessionTracker]:
    return SessionTracker(Side.CLIENT), SessionTracker(Side.ROUTER)


ALL_CLIENT_ROLES = {
    "publisher": {},
    "subscriber": {"features": {"subscription_revocation": True}},
    "caller": {"features": {"progressive_call_results": True}},
    "callee": {"features": {"registration_revocation": True}},
}
HELLO = m.Hello(realm="realm1", details={"roles": ALL_CLIENT_ROLES})
WELCOME = m.Welcome(session_id=42, details={"roles": {"broker": {}, "dealer": {}}})


def both(client: SessionTracker, router: SessionTracker) -> SessionState | None:
    """The state both sides are in, or None if they disagree."""
    return client.state if client.state is router.state else None


def _deliver(sender: SessionTracker, receiver: SessionTracker, msg: m.Message) -> Disposition:
    """Send on one side, receive on the other; both must agree."""
    sent = sender.send(msg)
    received = receiver.receive(msg)
    assert sent == received or msg.TYPE in (m.GOODBYE, m.ABORT)
    return received


def _established(hello: m.Hello = HELLO) -> tuple[SessionTracker, SessionTracker]:
    client, router = _pair()
    _deliver(client, router, hello)
    _deliver(router, client, WELCOME)
    assert client.state is router.state is SessionState.ESTABLISHED
    return client, router


def _subscribe(rid: int) -> m.Subscribe:
    return m.Subscribe(request_id=rid, topic="com.example.topic")


def test_s2_1_one_request_counter_per_direction_shared_by_all_types() -> None:
    """wamp-spec §2.1: one sequential counter per direction, shared by every request type."""
    client, router = _established()
    builds: list[Callable[[int], m.Publish | m.Subscribe | m.Call | m.Register]] = [
        lambda rid: m.Publish(request_id=rid, topic="a.b", options={"acknowledge": True}),
        lambda rid: m.Subscribe(request_id=rid, topic="a.b"),
        lambda rid: m.Call(request_id=rid, procedure="a.b"),
        lambda rid: m.Register(request_id=rid, procedure="a.b"),
    ]
    for expected, build in enumerate(builds, start=1):
        msg = build(client.next_request_id())
        assert msg.request_id == expected
        assert _deliver(client, router, msg) is Disposition.PROCESS
    # The router's own direction starts at 1, independent of the client's counter.
    assert router.next_request_id() == 1
    _deliver(router, client, m.Invocation(request_id=1, registration_id=9))


@pytest.mark.parametrize("first", [2, 7, MAX_ID])
def test_s2_1_first_request_id_must_be_1(first: int) -> None:
    """wamp-spec §2.1/§3.6: request ids MUST start at 1; anything else is a violation."""
    _, router = _established()
    with pytest.raises(RemoteProtocolError, match="not sequential"):
        router.receive(_subscribe(first))


def test_s2_1_skipped_or_repeated_request_ids_are_violations() -> None:
    """wamp-spec §3.6: a non-sequential session-scope request id is a protocol violation."""
    _, router = _established()
    router.receive(_subscribe(1))
    with pytest.raises(RemoteProtocolError, match="not sequential"):
        router.receive(_subscribe(3))
    _, router = _established()
    router.receive(_subscribe(1))
    with pytest.raises(RemoteProtocolError) as info:
        router.receive(_subscribe(1))
    assert info.value.reason == PROTOCOL_VIOLATION


def test_s2_1_router_side_request_ids_are_checked_too() -> None:
    """wamp-spec §2.1: the router->client direction (INVOCATION) is sequential as well."""
    client, _ = _established()
    client.receive(m.Invocation(request_id=1, registration_id=9))
    with pytest.raises(RemoteProtocolError, match="not sequential"):
        client.receive(m.Invocation(request_id=5, registration_id=9))


def test_s2_1_incoming_request_ids_wrap_after_2_53() -> None:
    """wamp-spec §2.1: after 2^53 the next request id is 1."""
    _, router = _established()
    router.strict_request_ids = False  # jump to the end of the range
    router.receive(_subscribe(MAX_ID))
    router.strict_request_ids = True
    router.receive(_subscribe(1))
    with pytest.raises(RemoteProtocolError):
        router.receive(_subscribe(3))


def test_s2_1_local_requests_must_use_allocated_ids() -> None:
    """wamp-spec §2.1: our own side cannot send an id out of sequence either (nothing is sent)."""
    client, _ = _established()
    with pytest.raises(LocalProtocolError):
        client.send(_subscribe(5))
    assert client.send(_subscribe(client.peek_request_id())) is Disposition.PROCESS
    assert client.next_request_id() == 2


# --- §2.2 URIs --------------------------------------------------------------------------------

# The spec's own regular expressions (wamp-spec §2.2), used as the oracle.
SPEC_LOOSE = re.compile(r"^([^\s\.#]+\.)*([^\s\.#]+)$")
SPEC_LOOSE_EMPTY = re.compile(r"^(([^\s\.#]+\.)|\.)*([^\s\.#]+)?$")
SPEC_STRICT = re.compile(r"^([0-9a-z_]+\.)*([0-9a-z_]+)$")
SPEC_STRICT_EMPTY = re.compile(r"^(([0-9a-z_]+\.)|\.)*([0-9a-z_]+)?$")

URI_CASES: list[tuple[str, bool, bool, bool, bool]] = [
    # uri, loose, loose+empty, strict, strict+empty
    ("com.myapp.mytopic1", True, True, True, True),
    ("com.myapp.myTopic-1", True, True, False, False),
    ("a", True, True, True, True),
    ("com.myapp..topic", False, True, False, True),
    ("com.myapp.", False, True, False, True),
    (".com.myapp", False, True, False, True),
    ("..", False, True, False, True),
    ("com.my app", False, False, False, False),
    ("com.my\tapp", False, False, False, False),
    ("com.my\u00a0app", False, False, False, False),
    ("com.myapp#1", False, False, False, False),
    ("com.myapp.topic\n", False, False, False, False),
    ("com.éxample", True, True, False, False),
    ("", False, False, False, False),
]


@pytest.mark.parametrize(("value", "loose", "loose_empty", "strict", "strict_empty"), URI_CASES)
def test_s2_2_uri_rules(
    value: str, loose: bool, loose_empty: bool, strict: bool, strict_empty: bool
) -> None:
    """wamp-spec §2.2: loose (MUST) and strict (SHOULD) rules, with and without empty
    components; the empty string is never a URI, and whitespace includes Unicode spaces."""
    assert uri.is_valid(value) is loose
    assert uri.is_valid(value, allow_empty=True) is loose_empty
    assert uri.is_valid(value, strict=True) is strict
    assert uri.is_valid(value, strict=True, allow_empty=True) is strict_empty


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab_Z9.# \t\u00a0é", max_size=12))
def test_s2_2_uri_rules_agree_with_the_spec_regexes(value: str) -> None:
    """wamp-spec §2.2: is_valid agrees with the spec's four regular expressions (matched over
    the whole string) for every input except the empty string, which is never a URI."""
    for pattern, kw in (
        (SPEC_LOOSE, {}),
        (SPEC_LOOSE_EMPTY, {"allow_empty": True}),
        (SPEC_STRICT, {"strict": True}),
        (SPEC_STRICT_EMPTY, {"strict": True, "allow_empty": True}),
    ):
        expected = value != "" and pattern.fullmatch(value) is not None
        assert uri.is_valid(value, **kw) is expected, (value, kw)


@pytest.mark.parametrize(("code", "field"), [(m.SUBSCRIBE, "topic"), (m.REGISTER, "procedure")])
def test_s2_2_empty_components_only_in_pattern_subscribe_and_register(
    code: int, field: str
) -> None:
    """wamp-spec §2.2/§4.8/§4.17: empty components are allowed only for prefix/wildcard
    SUBSCRIBE and REGISTER; an exact one must be a complete URI."""
    for match in ("prefix", "wildcard"):
        msg = m.from_wire([code, 1, {"match": match}, "com..topic"])
        assert getattr(msg, field) == "com..topic"
    for options in ({}, {"match": "exact"}):
        with pytest.raises(RemoteProtocolError):
            m.from_wire([code, 1, options, "com..topic"])


def test_s2_2_empty_components_never_in_publish_or_call() -> None:
    """wamp-spec §2.2: PUBLISH and CALL name concrete URIs, whatever their options say."""
    with pytest.raises(RemoteProtocolError):
        m.from_wire([16, 1, {"match": "wildcard"}, "com..topic"])
    with pytest.raises(RemoteProtocolError):
        m.from_wire([48, 1, {"match": "prefix"}, "com.proc."])


def test_s2_2_strict_uris_on_request() -> None:
    """wamp-spec §2.2: strict URIs are a SHOULD; from_wire enforces them only when asked."""
    wire = [16, 1, {}, "com.MyApp.topic"]
    assert m.from_wire(wire).topic == "com.MyApp.topic"  # type: ignore[attr-defined]
    with pytest.raises(RemoteProtocolError, match="strict"):
        m.from_wire(wire, strict_uris=True)
    m.from_wire([32, 1, {"match": "wildcard"}, "com..topic"], strict_uris=True)
    with pytest.raises(RemoteProtocolError, match="strict"):
        m.from_wire([1, "Realm-1", {"roles": {"caller": {}}}], strict_uris=True)


def test_s2_2_invalid_realm_is_a_violation() -> None:
    """wamp-spec §2.2: HELLO with an invalid realm URI cannot be accepted (the router answers
    ABORT)."""
    with pytest.raises(RemoteProtocolError, match=r"HELLO\.Realm"):
        m.from_wire([1, "realm one", {"roles": {"caller": {}}}])


# --- §2.3 Roles -------------------------------------------------------------------------------


def test_s2_3_hello_must_announce_a_role() -> None:
    """wamp-spec §2.3/§3.1: HELLO.Details.roles is required and holds at least one role, each a
    dict (possibly empty)."""
    hello_details: list[dict[str, Any]] = [
        {},
        {"roles": {}},
        {"roles": {"caller": True}},
        {"roles": []},
    ]
    for details in hello_details:
        with pytest.raises(RemoteProtocolError, match="roles"):
            m.from_wire([1, "realm1", details])
    m.from_wire([1, "realm1", {"roles": {"caller": {}}}])


def test_s2_3_welcome_must_announce_a_role() -> None:
    """wamp-spec §2.3/§3.1: WELCOME.Details.roles is required (broker and/or dealer)."""
    welcome_details: list[dict[str, Any]] = [{}, {"roles": {}}, {"roles": {"dealer": 1}}]
    for details in welcome_details:
        with pytest.raises(RemoteProtocolError, match="roles"):
            m.from_wire([2, 1, details])


def test_s2_3_client_must_announce_a_client_role() -> None:
    """wamp-spec §2.3: a client announces at least one of publisher/subscriber/caller/callee;
    a HELLO with only unknown roles is refused by both halves of the table."""
    hello = m.Hello(realm="realm1", details={"roles": {"broker": {}, "observer": {}}})
    client, router = _pair()
    with pytest.raises(LocalProtocolError, match="no client role"):
        client.send(hello)
    with pytest.raises(RemoteProtocolError, match="no client role"):
        router.receive(hello)


def test_s2_3_router_must_announce_a_router_role() -> None:
    """wamp-spec §2.3: a router announces broker and/or dealer."""
    client, router = _pair()
    _deliver(client, router, HELLO)
    welcome = m.Welcome(session_id=1, details={"roles": {"caller": {}}})
    with pytest.raises(LocalProtocolError, match="no router role"):
        router.send(welcome)
    with pytest.raises(RemoteProtocolError, match="no router role"):
        client.receive(welcome)


ROLE_MESSAGES: list[tuple[str, Any]] = [
    ("publisher", lambda rid: m.Publish(request_id=rid, topic="a.b")),
    ("subscriber", lambda rid: m.Subscribe(request_id=rid, topic="a.b")),
    ("subscriber", lambda rid: m.Unsubscribe(request_id=rid, subscription_id=3)),
    ("caller", lambda rid: m.Call(request_id=rid, procedure="a.b")),
    ("callee", lambda rid: m.Register(request_id=rid, procedure="a.b")),
    ("callee", lambda rid: m.Unregister(request_id=rid, registration_id=3)),
]


@pytest.mark.parametrize(("role", "build"), ROLE_MESSAGES)
def test_s2_3_client_may_only_use_announced_roles(role: str, build: Any) -> None:
    """wamp-spec §2.3/§2.4 (router table): a client may only send requests of the roles it
    announced (wamp-spec §1.3 says which role sends what)."""
    others: dict[str, Any] = {r: {} for r in ALL_CLIENT_ROLES if r != role}
    client, router = _established(m.Hello(realm="realm1", details={"roles": others}))
    msg = build(1)
    with pytest.raises(LocalProtocolError, match=role):
        client.send(msg)
    with pytest.raises(RemoteProtocolError, match=role):
        router.receive(msg)
    client, router = _established(m.Hello(realm="realm1", details={"roles": {role: {}}}))
    assert _deliver(client, router, build(client.next_request_id())) is Disposition.PROCESS


def test_s2_3_features_are_announced_per_role_and_unknown_ones_ignored() -> None:
    """wamp-spec §2.3: features sit under roles as {"features": {name: true}}; features a peer
    does not know are ignored, and only a literal true announces one."""
    roles = {
        "caller": {"features": {"progressive_call_results": True, "call_timeout": 1}},
        "subscriber": {"features": {"some_future_feature": True}},
        "not_a_role": {"features": {"x": True}},
    }
    client, router = _established(m.Hello(realm="realm1", details={"roles": roles}))
    for side in (client, router):
        assert side.client_feature("caller", "progressive_call_results")
        assert not side.client_feature("caller", "call_timeout")
        assert not side.client_feature("callee", "progressive_call_results")
        assert not side.router_feature("dealer", "progressive_call_results")
        assert "not_a_role" not in side.client_roles


# --- §2.4 Session state machine -----------------------------------------------------------------

S = SessionState

# Which side may send what in each state, from wamp-spec §1.3 and the §2.4 tables.
CLIENT_SESSION = {
    m.PUBLISH,
    m.SUBSCRIBE,
    m.UNSUBSCRIBE,
    m.CALL,
    m.CANCEL,
    m.REGISTER,
    m.UNREGISTER,
    m.YIELD,
    m.ERROR,
    m.EVENT_RECEIVED,
    m.GOODBYE,
    m.ABORT,
}
ROUTER_SESSION = {
    m.PUBLISHED,
    m.SUBSCRIBED,
    m.UNSUBSCRIBED,
    m.EVENT,
    m.RESULT,
    m.REGISTERED,
    m.UNREGISTERED,
    m.INVOCATION,
    m.INTERRUPT,
    m.ERROR,
    m.GOODBYE,
    m.ABORT,
}
EXPECTED_SENDABLE: dict[SessionState, dict[Side, set[int]]] = {
    S.CLOSED: {Side.CLIENT: {m.HELLO}, Side.ROUTER: set()},
    S.ESTABLISHING: {
        Side.CLIENT: {m.ABORT},
        Side.ROUTER: {m.WELCOME, m.CHALLENGE, m.ABORT},
    },
    S.CHALLENGING: {Side.CLIENT: {m.AUTHENTICATE, m.ABORT}, Side.ROUTER: {m.ABORT}},
    S.AUTHENTICATING: {
        Side.CLIENT: {m.ABORT},
        Side.ROUTER: {m.WELCOME, m.CHALLENGE, m.ABORT},
    },
    S.ESTABLISHED: {Side.CLIENT: CLIENT_SESSION, Side.ROUTER: ROUTER_SESSION},
    # The side that sent GOODBYE sends nothing more but ABORT (§2.4 "GOODBYE sent: nothing");
    # the other side's in-flight messages are still legal to send (and ignored on arrival).
    S.CLIENT_GOODBYE: {Side.CLIENT: {m.ABORT}, Side.ROUTER: ROUTER_SESSION},
    S.ROUTER_GOODBYE: {Side.CLIENT: CLIENT_SESSION, Side.ROUTER: {m.ABORT}},
}

# One valid message of every type (ids chosen so they are the next ones on a fresh session).
SAMPLES: dict[int, m.Message] = {
    m.HELLO: HELLO,
    m.WELCOME: WELCOME,
    m.ABORT: m.Abort(reason="wamp.error.system_shutdown"),
    m.CHALLENGE: m.Challenge(method="ticket"),
    m.AUTHENTICATE: m.Authenticate(signature="secret"),
    m.GOODBYE: m.Goodbye(reason="wamp.close.close_realm"),
    m.ERROR: m.Error(request_type=m.CALL, request_id=1, error="com.example.error"),
    m.PUBLISH: m.Publish(request_id=1, topic="a.b"),
    m.PUBLISHED: m.Published(request_id=1, publication_id=5),
    m.SUBSCRIBE: m.Subscribe(request_id=1, topic="a.b"),
    m.SUBSCRIBED: m.Subscribed(request_id=1, subscription_id=5),
    m.UNSUBSCRIBE: m.Unsubscribe(request_id=1, subscription_id=5),
    m.UNSUBSCRIBED: m.Unsubscribed(request_id=1),
    m.EVENT: m.Event(subscription_id=5, publication_id=6),
    m.EVENT_RECEIVED: m.EventReceived(publication_id=6),
    m.CALL: m.Call(request_id=1, procedure="a.b"),
    m.CANCEL: m.Cancel(request_id=1),
    m.RESULT: m.Result(request_id=1),
    m.REGISTER: m.Register(request_id=1, procedure="a.b"),
    m.REGISTERED: m.Registered(request_id=1, registration_id=5),
    m.UNREGISTER: m.Unregister(request_id=1, registration_id=5),
    m.UNREGISTERED: m.Unregistered(request_id=1),
    m.INVOCATION: m.Invocation(request_id=1, registration_id=5),
    m.INTERRUPT: m.Interrupt(request_id=1),
    m.YIELD: m.Yield(request_id=1),
}


def _in_state(state: SessionState) -> tuple[SessionTracker, SessionTracker]:
    """A client/router pair driven into ``state`` through legal messages only."""
    client, router = _pair()
    if state is S.CLOSED:
        return client, router
    _deliver(client, router, HELLO)
    if state is S.ESTABLISHING:
        return client, router
    if state in (S.CHALLENGING, S.AUTHENTICATING):
        _deliver(router, client, SAMPLES[m.CHALLENGE])
        if state is S.AUTHENTICATING:
            _deliver(client, router, SAMPLES[m.AUTHENTICATE])
        return client, router
    _deliver(router, client, WELCOME)
    if state is S.CLIENT_GOODBYE:
        _deliver(client, router, SAMPLES[m.GOODBYE])
    elif state is S.ROUTER_GOODBYE:
        _deliver(router, client, SAMPLES[m.GOODBYE])
    return client, router


def _tracker_for(pair: tuple[SessionTracker, SessionTracker], side: Side) -> SessionTracker:
    return pair[0] if side is Side.CLIENT else pair[1]


STATE_SIDE_TYPE = [
    pytest.param(state, side, code, id=f"{state.value}-{side.value}-{SAMPLES[code].NAME}")
    for state in EXPECTED_SENDABLE
    for side in Side
    for code in SAMPLES
]


def test_s2_4_driving_reaches_every_state() -> None:
    """wamp-spec §2.4: each state the tests rely on is reachable by legal messages alone."""
    for state in EXPECTED_SENDABLE:
        client, router = _in_state(state)
        assert client.state is router.state is state


@pytest.mark.parametrize(("state", "sender", "code"), STATE_SIDE_TYPE)
def test_s2_4_legality_per_state_and_sender(state: SessionState, sender: Side, code: int) -> None:
    """wamp-spec §2.4/§3.6: a message the table does not allow from this sender in this state
    is refused by the sender (LocalProtocolError, nothing sent) and by the receiver
    (RemoteProtocolError); an allowed one is never refused *because of the state*."""
    msg = SAMPLES[code]
    pair = _in_state(state)
    out, into = _tracker_for(pair, sender), _tracker_for(pair, sender.other)
    allowed = code in EXPECTED_SENDABLE[state][sender]
    for tracker, error in ((out, LocalProtocolError), (into, RemoteProtocolError)):
        before = tracker.state
        try:
            tracker.send(msg) if tracker is out else tracker.receive(msg)
        except error as exc:
            assert type(exc) is error
            assert exc.reason == PROTOCOL_VIOLATION
            if allowed:
                assert "not allowed in state" not in exc.message
            else:
                assert tracker.state is before  # a refused message changes nothing
        else:
            assert allowed, f"{msg.NAME} from {sender.value} accepted in {state.value}"


def test_s2_4_t1_t2_hello_then_welcome() -> None:
    """wamp-spec §2.4 #1, #2: CLOSED -HELLO-> ESTABLISHING -WELCOME-> ESTABLISHED."""
    client, router = _pair()
    _deliver(client, router, HELLO)
    assert both(client, router) is S.ESTABLISHING
    _deliver(router, client, WELCOME)
    assert both(client, router) is S.ESTABLISHED
    assert client.router_roles == router.router_roles == {"broker": {}, "dealer": {}}


def test_s2_4_t10_t12_challenge_rounds_then_welcome() -> None:
    """wamp-spec §2.4 #10, #12 (and §2.4 client table: several rounds are allowed)."""
    client, router = _pair()
    _deliver(client, router, HELLO)
    for _ in range(2):
        _deliver(router, client, SAMPLES[m.CHALLENGE])
        assert both(client, router) is S.CHALLENGING
        _deliver(client, router, SAMPLES[m.AUTHENTICATE])
        assert both(client, router) is S.AUTHENTICATING
    _deliver(router, client, WELCOME)
    assert both(client, router) is S.ESTABLISHED


@pytest.mark.parametrize(
    "state", [S.ESTABLISHING, S.CHALLENGING, S.AUTHENTICATING, S.ESTABLISHED, S.CLIENT_GOODBYE]
)
@pytest.mark.parametrize("sender", list(Side))
def test_s2_4_t7_t11_abort_closes_from_any_state(state: SessionState, sender: Side) -> None:
    """wamp-spec §2.4 #7, #11 and §3.2: ABORT, from either side, ends the session at once."""
    pair = _in_state(state)
    out, into = _tracker_for(pair, sender), _tracker_for(pair, sender.other)
    # (In CLIENT_GOODBYE this includes the router aborting instead of replying.)
    _deliver(out, into, SAMPLES[m.ABORT])
    assert out.state is into.state is S.CLOSED
    assert not out.pending_in and not out.pending_out


def test_s2_4_t8_hello_or_authenticate_after_establishment() -> None:
    """wamp-spec §2.4 #8 / §3.1: HELLO or AUTHENTICATE in an established session -> FAILED."""
    for code in (m.HELLO, m.AUTHENTICATE):
        _, router = _established()
        with pytest.raises(RemoteProtocolError, match="not allowed"):
            router.receive(SAMPLES[code])


def test_s2_4_welcome_or_challenge_after_establishment() -> None:
    """wamp-spec §3.6: WELCOME, HELLO or CHALLENGE received after establishment."""
    for code in (m.WELCOME, m.CHALLENGE, m.HELLO):
        client, _ = _established()
        with pytest.raises(RemoteProtocolError, match="not allowed"):
            client.receive(SAMPLES[code])


@pytest.mark.parametrize(
    "code",
    [
        m.GOODBYE,
        m.ERROR,
        m.SUBSCRIBED,
        m.UNSUBSCRIBED,
        m.PUBLISHED,
        m.RESULT,
        m.REGISTERED,
        m.UNREGISTERED,
        m.INVOCATION,
    ],
)
def test_s2_4_t9_session_messages_before_establishment(code: int) -> None:
    """wamp-spec §2.4 #9 / §3.6: before establishment, receiving GOODBYE, ERROR, SUBSCRIBED,
    UNSUBSCRIBED, PUBLISHED, RESULT, REGISTERED, UNREGISTERED or INVOCATION is a violation."""
    for state in (S.ESTABLISHING, S.AUTHENTICATING):
        client, _ = _in_state(state)
        with pytest.raises(RemoteProtocolError, match="not allowed"):
            client.receive(SAMPLES[code])


def test_s2_4_hello_must_be_the_first_message() -> None:
    """wamp-spec §3.1 / §2.4 router table: the router accepts nothing before HELLO."""
    _, router = _pair()
    for code in CLIENT_SESSION - {m.ABORT}:
        with pytest.raises(RemoteProtocolError):
            router.receive(SAMPLES[code])


def test_s2_4_t3_t14_t4_client_goodbye_handshake() -> None:
    """wamp-spec §2.4 #3, #14, #4: the client says GOODBYE, ignores what the router still had
    in flight, and is CLOSED by the router's GOODBYE reply; the router (#5, #6) closes when it
    sends that reply."""
    client, router = _established()
    _deliver(client, router, m.Subscribe(request_id=client.next_request_id(), topic="a.b"))
    goodbye = SAMPLES[m.GOODBYE]
    client.send(goodbye)
    assert client.state is S.CLIENT_GOODBYE
    # Sent by the router before the GOODBYE reached it: ignored on arrival (#14).
    in_flight = [m.Subscribed(request_id=1, subscription_id=5), SAMPLES[m.EVENT]]
    for msg in in_flight:
        assert router.send(msg) is Disposition.PROCESS
        assert client.receive(msg) is Disposition.IGNORE
    # The client sends nothing more (ABORT aside).
    with pytest.raises(LocalProtocolError):
        client.send(m.Call(request_id=client.peek_request_id(), procedure="a.b"))
    router.receive(goodbye)
    assert router.state is S.CLIENT_GOODBYE
    # Once the router has the GOODBYE, anything but the reply is pointless: don't send it.
    assert router.send(SAMPLES[m.EVENT]) is Disposition.IGNORE
    _deliver(router, client, m.Goodbye(reason="wamp.close.goodbye_and_out"))
    assert both(client, router) is S.CLOSED


def test_s2_4_router_goodbye_handshake() -> None:
    """wamp-spec §2.4 #3-#6 seen from the other side: the router says GOODBYE (e.g.
    wamp.close.system_shutdown), the client replies and both are CLOSED."""
    client, router = _established()
    goodbye = m.Goodbye(reason="wamp.close.system_shutdown")
    router.send(goodbye)
    call = m.Call(request_id=client.next_request_id(), procedure="a.b")
    assert client.send(call) is Disposition.PROCESS  # crossed the GOODBYE on the wire
    assert router.receive(call) is Disposition.IGNORE
    with pytest.raises(LocalProtocolError):
        router.send(SAMPLES[m.EVENT])
    client.receive(goodbye)
    assert both(client, router) is S.ROUTER_GOODBYE
    _deliver(client, router, m.Goodbye(reason="wamp.close.goodbye_and_out"))
    assert both(client, router) is S.CLOSED


def test_s2_4_transport_reuse_after_close() -> None:
    """wamp-spec §2.4: after a session closes, the transport may carry a new one (HELLO again),
    with fresh request-id counters."""
    client, router = _established()
    _deliver(client, router, m.Subscribe(request_id=client.next_request_id(), topic="a.b"))
    _deliver(client, router, SAMPLES[m.ABORT])
    _deliver(client, router, HELLO)
    _deliver(router, client, WELCOME)
    assert client.next_request_id() == 1
    _deliver(client, router, m.Subscribe(request_id=1, topic="a.b"))


def test_s2_4_second_hello_while_establishing_is_refused() -> None:
    """wamp-spec §3.1: a second HELLO is a protocol error, also before WELCOME."""
    client, router = _pair()
    _deliver(client, router, HELLO)
    with pytest.raises(LocalProtocolError):
        client.send(HELLO)
    with pytest.raises(RemoteProtocolError):
        router.receive(HELLO)
