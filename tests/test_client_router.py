"""Client peers against the real router core, in memory, through real framings (wamp-spec.md §3-4).

Every flow runs over RawSocket, WebSocket (plain and batched) and the identity framing, with
JSON, MessagePack and CBOR (``clientnet.COMBOS``); the network pump is ``netharness``'s, so the
router's own checks (no internal errors) apply too.
"""

from __future__ import annotations

import pytest
from clientnet import COMBOS, NetClient, join_client
from netharness import Network

from wampcore.client import (
    CallResult,
    InterruptReceived,
    InvocationReceived,
    Joined,
    Left,
    PublicationReceived,
    PublishAcknowledged,
    RegistrationCreated,
    RegistrationEnded,
    RequestError,
    SubscriptionCreated,
    SubscriptionEnded,
    TransportClosed,
)
from wampcore.config import RouterConfig

CALL, PUBLISH, SUBSCRIBE, UNSUBSCRIBE = 48, 16, 32, 34


def _net() -> Network:
    return Network(RouterConfig(), seed=7)


def _registered(net: Network, callee: NetClient, procedure: str = "com.add", **kw: object) -> int:
    callee.peer.register(procedure, **kw)  # type: ignore[arg-type]
    net.pump()
    return callee.one(RegistrationCreated).registration_id


def _subscribed(net: Network, sub: NetClient, topic: str = "com.news", **kw: object) -> int:
    sub.peer.subscribe(topic, **kw)  # type: ignore[arg-type]
    net.pump()
    return sub.one(SubscriptionCreated).subscription_id


@pytest.mark.parametrize(("transport", "serializer", "batched"), COMBOS)
def test_every_basic_flow_spec_3(transport: str, serializer: str, batched: bool) -> None:
    """Join, subscribe/publish/event, register/call/yield/result, errors, unsubscribe,
    unregister, leave -- with payloads carrying bytes, unicode and nesting (wamp-spec.md §3)."""
    net = _net()
    a = join_client(net, transport, serializer, batched=batched)
    b = join_client(net, transport, serializer, batched=batched)
    joined = a.of(Joined)[0]
    assert joined.authrole == "anonymous" and joined.session_id == a.peer.session_id
    assert joined.router_roles["dealer"]["features"]["call_canceling"] is True

    payload = [1, "ü", b"\x00\xfe", {"n": [None, 2.5]}]
    sub_id = _subscribed(net, a)
    b.peer.publish("com.news", payload, {"k": "v"}, acknowledge=True, disclose_me=True)
    net.pump()
    ack = b.one(PublishAcknowledged)
    ev = a.one(PublicationReceived)
    assert (ev.subscription_id, ev.publication_id) == (sub_id, ack.publication_id)
    assert (ev.args, ev.kwargs, ev.topic) == (payload, {"k": "v"}, "com.news")
    assert ev.publisher == b.peer.session_id

    reg_id = _registered(net, a)
    call_id = b.peer.call("com.add", [2, 3], disclose_me=True)
    net.pump()
    inv = a.one(InvocationReceived)
    assert (inv.registration_id, inv.procedure, inv.args) == (reg_id, "com.add", [2, 3])
    assert inv.caller == b.peer.session_id
    a.peer.yield_result(inv.request_id, [5], {"exact": True})
    net.pump()
    assert b.one(CallResult) == CallResult(request_id=call_id, args=[5], kwargs={"exact": True})

    call_id = b.peer.call("com.add", ["x"])
    net.pump()
    a.peer.yield_error(a.one(InvocationReceived).request_id, "com.err.type", ["bad"], {"i": 0})
    net.pump()
    err = b.one(RequestError)
    assert (err.request_type, err.request_id, err.error) == (CALL, call_id, "com.err.type")
    assert (err.args, err.kwargs, err.local) == (["bad"], {"i": 0}, False)

    b.peer.call("com.nothing")
    net.pump()
    assert b.one(RequestError).error == "wamp.error.no_such_procedure"

    a.peer.unsubscribe(sub_id)
    a.peer.unregister(reg_id)
    net.pump()
    assert a.one(SubscriptionEnded).subscription_id == sub_id
    assert a.of(RegistrationEnded)[-1].registration_id == reg_id
    b.peer.publish("com.news", ["after"])
    net.pump()
    assert a.take() == []

    a.peer.leave()
    net.pump()
    assert a.one(Left) == Left(reason="wamp.close.close_realm", local=True)
    net.check()


@pytest.mark.parametrize(("transport", "serializer", "batched"), COMBOS[:9])
def test_progressive_results_and_invocations_spec_4_2_4_3(
    transport: str, serializer: str, batched: bool
) -> None:
    net = _net()
    callee = join_client(net, transport, serializer)
    caller = join_client(net, transport, serializer)
    _registered(net, callee, "com.stream")
    rid = caller.peer.call("com.stream", [1], progress=True, receive_progress=True)
    net.pump()
    first = callee.one(InvocationReceived)
    assert first.progress and first.receive_progress and not first.continuation
    callee.peer.yield_result(first.request_id, ["got 1"], progress=True)
    caller.peer.continue_call(rid, [2])
    caller.peer.continue_call(rid, [3], progress=False)
    net.pump()
    chunks = [e for e in callee.take() if isinstance(e, InvocationReceived)]
    assert [(c.args, c.progress, c.continuation) for c in chunks] == [
        ([2], True, True),
        ([3], False, True),
    ]
    assert {c.request_id for c in chunks} == {first.request_id}
    callee.peer.yield_result(first.request_id, ["got 2"], progress=True)
    callee.peer.yield_result(first.request_id, ["sum", 6])
    net.pump()
    results = [e for e in caller.take() if isinstance(e, CallResult)]
    assert [(r.args, r.progress) for r in results] == [
        (["got 1"], True),
        (["got 2"], True),
        (["sum", 6], False),
    ]
    net.check()


@pytest.mark.parametrize("mode", ["skip", "kill", "killnowait"])
@pytest.mark.parametrize("transport", ["rawsocket", "websocket"])
def test_cancel_modes_end_to_end_spec_4_5(mode: str, transport: str) -> None:
    net = _net()
    callee = join_client(net, transport, "msgpack")
    caller = join_client(net, transport, "cbor")
    _registered(net, callee, "com.slow")
    rid = caller.peer.call("com.slow")
    net.pump()
    inv = callee.one(InvocationReceived)
    caller.peer.cancel(rid, mode)
    net.pump()
    interrupts = [e for e in callee.take() if isinstance(e, InterruptReceived)]
    caller_errors = caller.of(RequestError)
    if mode == "skip":
        assert interrupts == []
        assert [e.error for e in caller_errors] == ["wamp.error.canceled"]
    elif mode == "killnowait":
        assert [(i.mode, i.local) for i in interrupts] == [("killnowait", False)]
        assert [e.error for e in caller_errors] == ["wamp.error.canceled"]
    else:
        assert [i.mode for i in interrupts] == ["kill"]
        assert caller_errors == []  # waits for the callee's answer
    callee.peer.yield_error(inv.request_id, "wamp.error.canceled")  # dropped unless kill
    net.pump()
    assert [e.error for e in caller.of(RequestError)] == ["wamp.error.canceled"]
    assert caller.of(CallResult) == []
    caller.peer.cancel(rid)  # answered: a no-op
    net.pump()
    net.check()


def test_dealer_timeout_interrupts_callee_spec_4_4() -> None:
    net = _net()
    callee = join_client(net, "websocket", "json")
    caller = join_client(net, "rawsocket", "json")
    _registered(net, callee, "com.slow")
    rid = caller.peer.call("com.slow", timeout=1000)
    net.pump()
    inv = callee.one(InvocationReceived)
    assert inv.timeout is None  # we do not claim call_timeout as a callee: the dealer times out
    net.advance(1.5)
    err = caller.one(RequestError)
    assert (err.request_id, err.error, err.local) == (rid, "wamp.error.timeout", False)
    interrupt = callee.one(InterruptReceived)
    assert (interrupt.request_id, interrupt.mode) == (inv.request_id, "killnowait")
    callee.peer.yield_result(inv.request_id, ["too late"])  # dropped
    net.pump()
    assert caller.take() == []
    net.check()


def test_caller_leaving_interrupts_callee_spec_3_4() -> None:
    net = _net()
    callee = join_client(net)
    caller = join_client(net)
    _registered(net, callee)
    caller.peer.call("com.add")
    net.pump()
    inv = callee.one(InvocationReceived)
    caller.peer.leave()
    net.pump()
    left = caller.take()
    assert isinstance(left[0], RequestError) and left[0].local  # its call ended with the session
    assert isinstance(left[-1], Left)
    interrupt = callee.one(InterruptReceived)
    assert (interrupt.request_id, interrupt.mode, interrupt.local) == (
        inv.request_id,
        "killnowait",
        False,
    )
    net.check()


def test_callee_leaving_fails_the_call_spec_3_4() -> None:
    net = _net()
    callee = join_client(net, "message", "cbor")
    caller = join_client(net, "websocket", "msgpack")
    _registered(net, callee)
    rid = caller.peer.call("com.add")
    net.pump()
    callee.peer.close()
    net.pump()
    ends = callee.take()
    assert [type(e) for e in ends] == [InvocationReceived, InterruptReceived, TransportClosed]
    err = caller.one(RequestError)
    assert (err.request_id, err.error, err.local) == (rid, "wamp.error.canceled", False)
    net.check()


def test_router_shutdown_and_kill_give_left_spec_3_2() -> None:
    net = _net()
    a = join_client(net)
    b = join_client(net, "websocket", "cbor")
    net.router.kill_session(a.peer.session_id, "wamp.close.killed", "bye")  # type: ignore[arg-type]
    net.pump()
    assert a.one(Left) == Left(reason="wamp.close.killed", message="bye", local=False)
    net.router.shutdown()
    net.pump()
    assert b.one(Left).reason == "wamp.close.system_shutdown"
    assert isinstance(b.events[-1], TransportClosed)
    net.check()


def test_pending_requests_end_when_router_drops_us() -> None:
    net = _net()
    a = join_client(net)
    _registered(net, a)
    rid = a.peer.call("com.add")
    net.pump()
    inv = a.one(InvocationReceived)
    a.peer.publish("com.t", acknowledge=True)
    net.router.connection_lost(a.id)
    a.lost()
    events = a.take()
    ended = [e for e in events if isinstance(e, RequestError)]
    assert all(e.local and e.error == "wamp.close.transport_lost" for e in ended)
    assert rid in {e.request_id for e in ended} and len(ended) == 2
    assert any(isinstance(e, InterruptReceived) and e.request_id == inv.request_id for e in events)
    assert isinstance(events[-1], TransportClosed)


def test_pattern_and_exclusion_flows_spec_4_8_4_14_4_17() -> None:
    net = _net()
    a = join_client(net, "websocket", "json")
    _subscribed(net, a, "com.", match="prefix")
    _subscribed(net, a, "com..x", match="wildcard")
    a.peer.publish("com.a.x", ["mine"], exclude_me=False)
    net.pump()
    events = [e for e in a.take() if isinstance(e, PublicationReceived)]
    assert sorted(e.topic for e in events) == ["com.a.x", "com.a.x"]
    assert len({e.publication_id for e in events}) == 1
    _registered(net, a, "com.calc.", match="prefix")
    a.peer.call("com.calc.add")
    net.pump()
    assert a.one(InvocationReceived).procedure == "com.calc.add"
    net.check()


def test_rejoin_after_leave_on_the_same_transport_spec_2_4() -> None:
    net = _net()
    a = join_client(net, "rawsocket", "cbor")
    first = a.peer.session_id
    a.peer.leave()
    net.pump()
    a.peer.join()
    net.pump()
    assert isinstance(a.take()[-1], Joined)
    assert a.peer.session_id not in (None, first)
    assert a.peer.publish("com.t", acknowledge=True) == 1
    net.pump()
    assert isinstance(a.take()[-1], PublishAcknowledged)
    net.check()


def test_shared_registration_roundrobin_spec_4_9() -> None:
    net = _net()
    c1, c2 = join_client(net), join_client(net, "message", "msgpack")
    caller = join_client(net, "websocket", "cbor")
    _registered(net, c1, "com.s", invoke="roundrobin")
    _registered(net, c2, "com.s", invoke="roundrobin")
    for _ in range(4):
        caller.peer.call("com.s")
    net.pump()
    for c in (c1, c2):
        invs = [e for e in c.take() if isinstance(e, InvocationReceived)]
        assert len(invs) == 2
        for inv in invs:
            c.peer.yield_result(inv.request_id, [id(c)])
    net.pump()
    assert len(caller.of(CallResult)) == 4
    net.check()
