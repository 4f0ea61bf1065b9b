"""Every protocol violation of wamp-spec §3.6, and other bad input, against the router.

Each case: the offender gets ABORT ``wamp.error.protocol_violation`` (when its transport can
still carry one), its session and everything it owned is gone, its transport is closed, nothing
it sent afterwards is processed -- and a bystander session keeps working.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from netharness import CLIENT_ROLES, Network, TestPeer

from wampcore.messages import (
    Abort,
    Error,
    Event,
    Invocation,
    Registered,
    Result,
    Subscribed,
)
from wampcore.router import LeaveCause, ProtocolViolation, SessionLeft


def _bystander_works(net: Network, bystander: TestPeer, listener: TestPeer) -> None:
    bystander.publish("com.bystander", ["still here"])
    net.pump()
    assert [e.args for e in listener.take(Event)] == [["still here"]]


def _setup() -> tuple[Network, TestPeer, TestPeer, TestPeer]:
    net = Network()
    offender = net.join()
    bystander = net.join()
    listener = net.join("websocket", "msgpack")
    listener.subscribe("com.bystander")
    offender.subscribe("com.offender")
    offender.register("com.offender.proc")
    net.pump()
    listener.take()
    return net, offender, bystander, listener


def _assert_aborted(net: Network, offender: TestPeer, *, with_abort: bool = True) -> None:
    if with_abort:
        last = offender.received[-1]
        assert isinstance(last, Abort), offender.received[-3:]
        assert last.reason == "wamp.error.protocol_violation"
        assert last.details.get("message")
    assert offender.gone, "the transport must be closed"
    violations = net.events_of(ProtocolViolation)
    assert [v.peer for v in violations] == [offender.id]
    realm = net.router.realm("realm1")
    assert all(offender.session_id not in s.subscribers for s in realm.broker.subscriptions())
    assert all(
        offender.session_id not in {c.id for c in r.callees} for r in realm.dealer.registrations()
    )
    assert offender.session_id not in net.router.sessions.sessions


def _n(peer: TestPeer, skip: int = 0) -> int:
    """The request id the offender's next new request should carry (plus ``skip``)."""
    return peer.tracker.peek_request_id() + skip


# Each case sends something illegal from an *established* session (wamp-spec §3.6).
ESTABLISHED_CASES: dict[str, Callable[[TestPeer], Any]] = {
    "second HELLO": lambda p: p.send_wire([1, "realm1", {"roles": CLIENT_ROLES}]),
    "WELCOME from a client": lambda p: p.send_wire([2, 5, {"roles": {"broker": {}}}]),
    "CHALLENGE from a client": lambda p: p.send_wire([4, "ticket", {}]),
    "AUTHENTICATE after establishment": lambda p: p.send_wire([5, "sig", {}]),
    "ERROR with an invalid request type": lambda p: p.send_wire([8, 50, 1, {}, "com.err"]),
    "ERROR for a request type a client cannot answer": lambda p: p.send_wire(
        [8, 48, 1, {}, "com.err"]
    ),
    "YIELD for an invocation never issued": lambda p: p.send_wire([70, 99, {}]),
    "ERROR for an invocation never issued": lambda p: p.send_wire([8, 68, 7, {}, "com.err"]),
    "non-sequential SUBSCRIBE id": lambda p: p.send_wire([32, _n(p, 5), {}, "com.t"]),
    "non-sequential UNSUBSCRIBE id": lambda p: p.send_wire([34, _n(p, 5), 1]),
    "non-sequential PUBLISH id": lambda p: p.send_wire([16, _n(p, 5), {}, "com.t"]),
    "non-sequential REGISTER id": lambda p: p.send_wire([64, _n(p, 5), {}, "com.p"]),
    "non-sequential UNREGISTER id": lambda p: p.send_wire([66, _n(p, 5), 1]),
    "non-sequential CALL id": lambda p: p.send_wire([48, _n(p, 5), {}, "com.p"]),
    "reused request id": lambda p: p.send_wire([32, _n(p, -1), {}, "com.t"]),
    "empty list": lambda p: p.send_wire([]),
    "unknown message type": lambda p: p.send_wire([99, 1, {}]),
    "too few elements": lambda p: p.send_wire([32, _n(p), {}]),
    "too many elements": lambda p: p.send_wire([34, _n(p), 1, 2]),
    "wrong element type": lambda p: p.send_wire([32, _n(p), {}, 5]),
    "bool as an id": lambda p: p.send_wire([16, True, {}, "com.t"]),
    "id out of range": lambda p: p.send_wire([16, 2**53 + 1, {}, "com.t"]),
    "known option of the wrong type": lambda p: p.send_wire(
        [16, _n(p), {"acknowledge": "yes"}, "com.t"]
    ),
    "not a list": lambda p: p.send_wire({"hello": 1}),
    "undecodable payload": lambda p: p.send_payload(b"\xff\xfe not json"),
    "SUBSCRIBED from a client": lambda p: p.send_wire([33, 1, 5]),
    "UNSUBSCRIBED from a client": lambda p: p.send_wire([35, 1]),
    "PUBLISHED from a client": lambda p: p.send_wire([17, 1, 5]),
    "RESULT from a client": lambda p: p.send_wire([50, 1, {}]),
    "REGISTERED from a client": lambda p: p.send_wire([65, 1, 5]),
    "UNREGISTERED from a client": lambda p: p.send_wire([67, 1]),
    "INVOCATION from a client": lambda p: p.send_wire([68, 1, 5, {}]),
    "INTERRUPT from a client": lambda p: p.send_wire([69, 1, {}]),
    "EVENT from a client": lambda p: p.send_wire([36, 1, 5, {}]),
    "CANCEL for a call never made": lambda p: p.send_wire([49, 77, {}]),
}


@pytest.mark.parametrize("case", sorted(ESTABLISHED_CASES))
def test_violation_after_establishment_aborts_only_the_offender_wamp_spec_3_6(case: str) -> None:
    net, offender, bystander, listener = _setup()
    ESTABLISHED_CASES[case](offender)
    net.pump()
    _assert_aborted(net, offender)
    left = [e for e in net.events_of(SessionLeft) if e.peer == offender.id]
    assert [e.cause for e in left] == [LeaveCause.PROTOCOL_VIOLATION]
    _bystander_works(net, bystander, listener)
    net.check()


BEFORE_WELCOME: dict[str, list[Any]] = {
    "GOODBYE": [6, {}, "wamp.close.close_realm"],
    "ERROR": [8, 68, 1, {}, "com.err"],
    "SUBSCRIBED": [33, 1, 5],
    "UNSUBSCRIBED": [35, 1],
    "PUBLISHED": [17, 1, 5],
    "RESULT": [50, 1, {}],
    "REGISTERED": [65, 1, 5],
    "UNREGISTERED": [67, 1],
    "INVOCATION": [68, 1, 5, {}],
    "PUBLISH": [16, 1, {}, "com.t"],
    "CALL": [48, 1, {}, "com.p"],
    "AUTHENTICATE": [5, "sig", {}],
}


@pytest.mark.parametrize("name", sorted(BEFORE_WELCOME))
def test_session_message_before_hello_is_a_violation_wamp_spec_3_6(name: str) -> None:
    net = Network()
    bystander, listener = net.join(), net.join()
    listener.subscribe("com.bystander")
    peer = net.connect()
    net.pump()
    peer.send_wire(BEFORE_WELCOME[name])
    net.pump()
    assert peer.one(Abort).reason == "wamp.error.protocol_violation"
    assert peer.gone
    assert net.router.session_count() == 2
    _bystander_works(net, bystander, listener)


def test_hello_without_roles_is_a_violation_wamp_spec_3_1() -> None:
    net = Network()
    peer = net.connect()
    net.pump()
    peer.send_wire([1, "realm1", {}])
    net.pump()
    assert peer.one(Abort).reason == "wamp.error.protocol_violation"


def test_nothing_after_a_violation_is_processed_wamp_spec_3_6() -> None:
    net = Network()
    offender = net.join("message")
    n = _n(offender)
    # Three messages in one batch: valid SUBSCRIBE, a violation, another valid SUBSCRIBE.
    offender.send_wire([32, n, {}, "com.first"])
    offender.send_wire([70, 99, {}])
    offender.send_wire([32, n + 1, {}, "com.second"])
    net.pump()
    subscribed = offender.all(Subscribed)
    assert len(subscribed) == 1  # only the first was answered
    assert isinstance(offender.received[-1], Abort)
    assert net.router.realm("realm1").broker.subscriptions() == []


def test_batched_payload_with_a_violation_stops_at_it_wamp_spec_3_6() -> None:
    net = Network()
    offender = net.join("websocket", "json", batched=True)
    assert offender.serializer is not None
    n = _n(offender)
    payload = offender.serializer.encode_batch(
        [[32, n, {}, "com.first"], [99], [32, n + 1, {}, "com.second"]]
    )
    offender.send_payload(payload)
    net.pump()
    assert len(offender.all(Subscribed)) == 1
    assert isinstance(offender.received[-1], Abort)


def test_progressive_call_without_announcing_the_feature_wamp_spec_4_3() -> None:
    net = Network()
    callee = net.join()
    callee.register("com.stream")
    roles = {"caller": {"features": {"call_canceling": True}}}
    caller = net.connect()
    caller.join(roles=roles)
    net.pump()
    caller.call("com.stream", ["chunk"], progress=True)
    net.pump()
    _assert_aborted(net, caller)
    assert callee.take(Invocation) == []


def test_message_of_an_unannounced_role_is_a_violation_wamp_spec_2_3() -> None:
    net = Network()
    peer = net.connect()
    peer.join(roles={"subscriber": {}})
    peer.send_wire([16, 1, {}, "com.t"])  # PUBLISH without the publisher role
    net.pump()
    _assert_aborted(net, peer)


def test_yield_for_someone_elses_invocation_wamp_spec_3_6() -> None:
    net = Network()
    callee_a = net.join()
    callee_b = net.join()
    caller = net.join()
    callee_a.register("com.a")
    callee_b.register("com.b")
    net.pump()
    caller.call("com.a")
    caller.call("com.a")
    net.pump()
    invocations = callee_a.take(Invocation)
    assert [i.request_id for i in invocations] == [1, 2]
    # B was never issued invocation 2: answering it is a violation, and A's call survives.
    callee_b.send_wire([70, 2, {}, ["forged"]])
    net.pump()
    _assert_aborted(net, callee_b)
    assert caller.take(Result) == []
    callee_a.yield_(2, ["genuine"])
    net.pump()
    assert [r.args for r in caller.take(Result)] == [["genuine"]]
    net.check()


def test_garbage_bytes_below_the_framing_close_the_connection() -> None:
    net = Network()
    bystander, listener = net.join(), net.join()
    listener.subscribe("com.bystander")
    victim = net.join()
    victim.subscribe("com.v")
    net.pump()
    victim.send_bytes(b"\x55" * 64)  # reserved RawSocket frame bits
    net.pump()
    assert net.router.should_close(victim.id) or victim.gone
    assert [v.peer for v in net.events_of(ProtocolViolation)] == [victim.id]
    assert net.router.session_count() == 2
    _bystander_works(net, bystander, listener)


def test_lying_about_a_subscription_id_is_an_error_not_a_violation_wamp_spec_3_3() -> None:
    net = Network()
    owner, liar = net.join(), net.join()
    owner.subscribe("com.t")
    net.pump()
    sub_id = owner.last(Subscribed).subscription_id
    liar.unsubscribe(sub_id)
    net.pump()
    error = liar.last(Error)
    assert error.error == "wamp.error.no_such_subscription"
    assert not liar.gone
    liar.publish("com.t", ["x"])
    net.pump()
    assert len(owner.take(Event)) == 1  # the owner's subscription is intact


def test_lying_about_a_registration_id_is_an_error_not_a_violation_wamp_spec_3_4() -> None:
    net = Network()
    owner, liar = net.join(), net.join()
    owner.register("com.p")
    net.pump()
    reg_id = owner.last(Registered).registration_id
    liar.unregister(reg_id)
    net.pump()
    assert liar.last(Error).error == "wamp.error.no_such_registration"
    assert net.router.realm("realm1").dealer.registration(reg_id) is not None
