"""A router bug while handling one peer is contained to that peer (DESIGN.md §1.7).

The bugs are injected by monkeypatching; the rest of the network keeps working, and the router
reports ``InternalError`` (which every other test treats as a failure).
"""

from __future__ import annotations

import pytest
from netharness import Network

from wampcore.messages import Abort, Event, Invocation
from wampcore.router import InternalError, LeaveCause, SessionLeft
from wampcore.router.broker import Broker
from wampcore.router.dealer import Dealer


def _boom(*args: object, **kwargs: object) -> None:
    raise RuntimeError("injected bug")


def test_bug_while_handling_a_message_drops_only_that_peer(monkeypatch: pytest.MonkeyPatch) -> None:
    net = Network()
    victim, bystander, listener = net.join(), net.join(), net.join()
    listener.subscribe("com.t")
    net.pump()
    monkeypatch.setattr(Broker, "subscribe", _boom)
    victim.subscribe("com.x")
    net.pump()
    assert victim.gone
    assert victim.last(Abort).reason == "wampcore.error.internal_error"
    (error,) = net.events_of(InternalError)
    assert error.peer == victim.id and "injected bug" in error.message
    left = [e for e in net.events_of(SessionLeft) if e.peer == victim.id]
    assert [e.cause for e in left] == [LeaveCause.INTERNAL_ERROR]
    bystander.publish("com.t", ["ok"])
    net.pump()
    assert [e.args for e in listener.take(Event)] == [["ok"]]


def test_bug_in_a_timeout_does_not_escape_handle_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    net = Network()
    callee, caller = net.join(), net.join()
    callee.register("com.p")
    net.pump()
    caller.call("com.p", timeout=100)
    net.pump()
    assert callee.all(Invocation)
    monkeypatch.setattr(Dealer, "timeout", _boom)
    net.advance(1.0)  # must not raise
    assert [e.peer for e in net.events_of(InternalError)] == [caller.id]
    assert caller.gone and not callee.gone


def test_bug_in_the_removal_path_does_not_escape_connection_lost(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    net = Network()
    a, b = net.join(), net.join()
    monkeypatch.setattr(Dealer, "remove_session", _boom)
    a.vanish()  # must not raise
    net.pump()
    assert [e.peer for e in net.events_of(InternalError)] == [a.id]
    assert not b.gone
