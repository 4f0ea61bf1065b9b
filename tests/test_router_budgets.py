"""Outbound budgets, fan-out encoding and size limits (DESIGN.md §3 Outbound budgets, §5).

The headline property: a subscriber that never reads cannot grow the router's memory, under
either policy, while a publisher sends 100,000 events.
"""

from __future__ import annotations

import gc
import math
import tracemalloc
from typing import Any

import pytest
from netharness import Network, TestPeer

from wampcore.config import Limits, RouterConfig
from wampcore.messages import Abort, Error, Event, Invocation, Registered, Result, Subscribed
from wampcore.router import EventsDropped, LeaveCause, PeerAborted, SessionLeft
from wampcore.serializers import Serializer

BUDGET = 64 * 1024


def _config(policy: str, budget: int = BUDGET) -> RouterConfig:
    return RouterConfig(outbound_policy=policy, limits=Limits(outbound_queue_bytes=budget))  # type: ignore[arg-type]


def _subscribe(net: Network, peer: TestPeer, topic: str = "com.t") -> int:
    peer.subscribe(topic)
    net.pump()
    return peer.last(Subscribed).subscription_id


def _stalled_subscriber(net: Network, topic: str = "com.t") -> TestPeer:
    """A subscriber that stops reading once it is subscribed."""
    peer = net.join()
    _subscribe(net, peer, topic)
    peer.reading = False
    return peer


def _publish_many(net: Network, publisher: TestPeer, n: int, batch: int = 2000) -> None:
    """Unacknowledged PUBLISHes, encoded straight onto the publisher's framing (fast)."""
    assert publisher.serializer is not None
    encode = publisher.serializer.encode
    payload = ["tick", 12345, {"some": "payload"}]
    for start in range(0, n, batch):
        for _ in range(min(batch, n - start)):
            publisher.client.send(encode([16, publisher.next_id(), {}, "com.t", payload]))
        net.pump()


@pytest.mark.parametrize("policy", ["drop", "disconnect"])
def test_non_reading_subscriber_keeps_router_memory_bounded_100k_events(policy: str) -> None:
    net = Network(_config(policy))
    slow = _stalled_subscriber(net)
    publisher = net.join("rawsocket", "msgpack")
    slow_peer = net.router._peers[slow.id]

    # Warm up until the slow subscriber's queue is full (or it was dropped), then measure: the
    # number of live container objects over the remaining 95,000 events, and every allocation
    # over the last 10,000 of them (tracemalloc is slow, so not over all of them).
    _publish_many(net, publisher, 5_000)
    gc.collect()
    objects_before = len(gc.get_objects())
    _publish_many(net, publisher, 85_000)
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        _publish_many(net, publisher, 10_000)
        gc.collect()
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    objects_after = len(gc.get_objects())

    assert after - before < 64 * 1024, f"router memory grew by {after - before} bytes"
    assert objects_after - objects_before < 200, "objects accumulate per event"
    assert slow_peer.queued <= BUDGET
    assert len(net.router._events) < 16
    if policy == "drop":
        assert not net.router.should_close(slow.id)
        dropped = sum(e.count for e in net.events_of(EventsDropped))
        queued = len(slow_peer.queue)
        assert dropped + queued == 100_000 and queued > 0
        assert slow_peer.dropped_total == dropped
        # Reports are coalesced: nowhere near one per dropped event.
        assert len(net.events_of(EventsDropped)) < 200
    else:
        assert slow.gone  # disconnected at the first overflow, via the removal path
        left = [e for e in net.events_of(SessionLeft) if e.peer == slow.id]
        assert [e.cause for e in left] == [LeaveCause.OUTBOUND_QUEUE_FULL]
        assert slow.last(Abort).reason == "wampcore.error.outbound_queue_full"
        assert net.router.realm("realm1").broker.subscriptions() == []
    assert not publisher.gone
    net.check()


def test_slow_subscriber_does_not_disturb_a_reading_one() -> None:
    net = Network(_config("drop", budget=4096))
    slow, fast = _stalled_subscriber(net), net.join()
    publisher = net.join()
    _subscribe(net, fast)
    _publish_many(net, publisher, 500, batch=50)
    assert len(fast.all(Event)) == 500
    assert net.events_of(EventsDropped)[0].peer == slow.id
    slow.reading = True  # it starts reading: what was kept arrives, in order
    net.pump()
    got = slow.all(Event)
    assert 0 < len(got) < 500
    ids = [e.publication_id for e in got]
    assert ids == [e.publication_id for e in fast.all(Event)][: len(ids)]
    net.check()


def test_events_dropped_reports_the_count_and_rearms() -> None:
    net = Network(_config("drop", budget=1024))
    slow = _stalled_subscriber(net)
    publisher = net.join()
    _publish_many(net, publisher, 200, batch=200)
    reports = net.events_of(EventsDropped)
    assert len(reports) == 1
    first = reports[0]
    assert first.cause == "outbound_queue_full" and first.session_id == slow.session_id
    assert first.count == first.total == net.router._peers[slow.id].dropped_total
    _publish_many(net, publisher, 10, batch=10)
    second = net.events_of(EventsDropped)[1]
    assert second.count == 10 and second.total == first.total + 10


def test_reply_that_cannot_be_queued_disconnects_instead_of_dropping() -> None:
    net = Network(_config("drop", budget=2048))
    slow = _stalled_subscriber(net)
    publisher = net.join()
    _publish_many(net, publisher, 100, batch=100)  # fills the budget with events
    for i in range(200):  # replies may use up to twice the budget; then the peer goes
        slow.subscribe(f"com.t{i}")
    net.pump()
    assert slow.gone
    assert slow.last(Abort).reason == "wampcore.error.outbound_queue_full"
    aborted = net.events_of(PeerAborted)
    assert [(a.peer, a.reason) for a in aborted] == [
        (slow.id, "wampcore.error.outbound_queue_full")
    ]
    # Every SUBSCRIBED that was queued before the disconnect was delivered in order: none lost.
    assert [s.request_id for s in slow.all(Subscribed)] == list(
        range(1, 1 + len(slow.all(Subscribed)))
    )


def test_invocation_to_a_full_callee_answers_no_available_callee() -> None:
    net = Network(_config("drop", budget=2048))
    callee = net.join()
    caller = net.join()
    callee.register("com.p")
    net.pump()
    callee.reading = False
    for _ in range(40):
        caller.call("com.p", ["x" * 200])
    net.pump()
    errors = caller.all(Error)
    assert errors and {e.error for e in errors} == {"wamp.error.no_available_callee"}
    assert not callee.gone  # the callee is not punished, the call is refused
    callee.reading = True
    net.pump()
    invocations = callee.all(Invocation)
    assert len(invocations) + len(errors) == 40
    assert [i.request_id for i in invocations] == list(range(1, len(invocations) + 1))
    for inv in invocations:
        callee.yield_(inv.request_id, ["ok"])
    net.pump()
    assert len(caller.all(Result)) == len(invocations)
    net.check()


def test_shared_registration_skips_a_full_callee() -> None:
    net = Network(_config("drop", budget=1024))
    stalled, healthy = net.join(), net.join()
    caller = net.join()
    for peer in (stalled, healthy):
        peer.register("com.p", invoke="first")
    net.pump()
    assert stalled.last(Registered).registration_id == healthy.last(Registered).registration_id
    stalled.reading = False
    for _ in range(30):
        caller.call("com.p", ["y" * 200])
    net.pump()
    assert caller.all(Error) == []
    assert len(healthy.all(Invocation)) > 0


def test_oversize_event_is_dropped_for_that_peer_only() -> None:
    net = Network()
    small = net.join("rawsocket", "json", max_message_size=1024)
    big = net.join()
    publisher = net.join()
    _subscribe(net, small)
    _subscribe(net, big)
    publisher.publish("com.t", ["z" * 4000])
    publisher.publish("com.t", ["small"])
    net.pump()
    assert [e.args[0][:5] for e in big.all(Event)] == ["zzzzz", "small"]
    assert [e.args for e in small.all(Event)] == [["small"]]
    (report,) = net.events_of(EventsDropped)
    assert (report.peer, report.cause, report.count) == (small.id, "payload_size_exceeded", 1)
    assert not small.gone


def test_unencodable_event_is_dropped_for_that_serializer_only() -> None:
    net = Network()
    json_sub = net.join("rawsocket", "json")
    cbor_sub = net.join("rawsocket", "cbor")
    publisher = net.join("rawsocket", "msgpack")
    _subscribe(net, json_sub)
    _subscribe(net, cbor_sub)
    publisher.publish("com.t", [math.inf])
    net.pump()
    assert json_sub.all(Event) == []
    assert [e.args for e in cbor_sub.all(Event)] == [[math.inf]]
    (report,) = net.events_of(EventsDropped)
    assert (report.peer, report.cause) == (json_sub.id, "unencodable")
    net.check()


class _Counting(Serializer):
    """Wraps a serializer and counts ``encode`` calls."""

    calls = 0

    def __init__(self, inner: Serializer) -> None:
        super().__init__(batched=inner.batched, max_size=inner.max_size)
        self._inner = inner

    def encode(self, message: list[Any]) -> bytes:
        type(self).calls += 1
        return self._inner.encode(message)

    def decode(self, data: bytes) -> list[list[Any]]:
        return self._inner.decode(data)


def test_fan_out_encodes_once_per_subscription_and_serializer_design_5() -> None:
    net = Network()
    publisher = net.join()
    subscribers = [net.join("rawsocket", s) for s in ("json", "msgpack") for _ in range(50)]
    pattern = net.join("rawsocket", "json")
    for s in subscribers:
        _subscribe(net, s)
    pattern.subscribe("com", match="prefix")
    net.pump()
    for s in [*subscribers, pattern]:
        peer = net.router._peers[s.id]
        counting = type("C", (_Counting,), {"name": peer.serializer.name})
        peer.serializer = counting(peer.serializer)
    _Counting.calls = 0
    publisher.publish("com.t", ["hello"])
    net.pump()
    assert all(len(s.all(Event)) == 1 for s in [*subscribers, pattern])
    # Exact subscription: one encoding per serializer (2); prefix subscription: one (json).
    assert sum(c.calls for c in _Counting.__subclasses__()) + _Counting.calls == 3
