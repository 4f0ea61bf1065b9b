"""The session state table (wampcore/_state.py) driven directly, both sides at once.

Three layers: the table as data (every state and side covered, ABORT always possible, every
transition legal to send); request/reply tracking rules (wamp-spec §2.1, §3.6, §4.2, §4.3,
§4.5); and a hypothesis state machine in which a client tracker and a router tracker exchange
random legal and illegal messages while a small reference model says what is pending -- after
every step both sides must agree with each other and with the model.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from wampcore import LocalProtocolError, RemoteProtocolError
from wampcore import messages as m
from wampcore._state import (
    REPLY_TO,
    SENDABLE,
    TRANSITIONS,
    Disposition,
    SessionState,
    SessionTracker,
    Side,
)

ROLES = {
    "publisher": {},
    "subscriber": {},
    "caller": {"features": {"call_canceling": True, "progressive_call_results": True}},
    "callee": {"features": {"progressive_call_invocations": True}},
}


def established() -> tuple[SessionTracker, SessionTracker]:
    client, router = SessionTracker(Side.CLIENT), SessionTracker(Side.ROUTER)
    exchange(client, router, m.Hello(realm="realm1", details={"roles": ROLES}))
    exchange(
        router, client, m.Welcome(session_id=7, details={"roles": {"broker": {}, "dealer": {}}})
    )
    return client, router


def exchange(sender: SessionTracker, receiver: SessionTracker, msg: m.Message) -> Disposition:
    sent = sender.send(msg)
    if sent is Disposition.IGNORE:
        return sent
    return receiver.receive(msg)


def refused(sender: SessionTracker, receiver: SessionTracker, msg: m.Message) -> None:
    """Both halves refuse ``msg``, and refusing it changes neither."""
    before = snapshot(sender), snapshot(receiver)
    with pytest.raises(LocalProtocolError):
        sender.send(msg)
    with pytest.raises(RemoteProtocolError):
        receiver.receive(msg)
    assert snapshot(sender) == before[0]


def snapshot(t: SessionTracker) -> Any:
    return (
        t.state,
        {k: (v.type, v.streaming) for k, v in t.pending_in.items()},
        {k: (v.type, v.streaming) for k, v in t.pending_out.items()},
        t.peek_request_id(),
    )


# --- the table as data -------------------------------------------------------------------------


def test_table_covers_every_state_and_side() -> None:
    """wamp-spec §2.4: one table, both sides, every state."""
    assert set(SENDABLE) == set(SessionState)
    for state, sides in SENDABLE.items():
        assert set(sides) == set(Side), state


def test_abort_is_always_possible_once_a_session_starts() -> None:
    """wamp-spec §3.2: either side may ABORT at any time during session setup or life."""
    for state, sides in SENDABLE.items():
        if state is SessionState.CLOSED:
            continue
        for side in Side:
            assert m.ABORT in sides[side], (state, side)


def test_every_transition_is_sendable() -> None:
    """A transition that could never fire would be dead data."""
    for (state, side, mtype), target in TRANSITIONS.items():
        assert mtype in SENDABLE[state][side], (state, side, mtype)
        assert target in SessionState


def test_replies_pair_with_requests_of_the_other_side() -> None:
    """wamp-spec §1.3: each reply travels opposite to its request."""
    for reply, request in REPLY_TO.items():
        senders = [s for s in Side if reply in SENDABLE[SessionState.ESTABLISHED][s]]
        requesters = [s for s in Side if request in SENDABLE[SessionState.ESTABLISHED][s]]
        assert len(senders) == len(requesters) == 1
        assert senders[0] is requesters[0].other


# --- request/reply tracking ----------------------------------------------------------------------


def test_reply_must_match_a_pending_request_of_its_type() -> None:
    """wamp-spec §3.6: a reply for a request that is not pending, or of the wrong type, is a
    protocol violation (SUBSCRIBED for a CALL, RESULT for a SUBSCRIBE, a never-made id)."""
    client, router = established()
    exchange(client, router, m.Call(request_id=client.next_request_id(), procedure="a.b"))
    exchange(client, router, m.Subscribe(request_id=client.next_request_id(), topic="a.b"))
    refused(router, client, m.Subscribed(request_id=1, subscription_id=5))
    refused(router, client, m.Result(request_id=2))
    refused(router, client, m.Result(request_id=9))
    exchange(router, client, m.Result(request_id=1))
    exchange(router, client, m.Subscribed(request_id=2, subscription_id=5))
    assert not client.pending_out and not router.pending_in


def test_error_names_the_request_type_it_answers() -> None:
    """wamp-spec §1.2/§3.6: ERROR carries the request type; it must be the pending one, and a
    side may only answer requests the other side issues."""
    client, router = established()
    exchange(client, router, m.Call(request_id=client.next_request_id(), procedure="a.b"))
    refused(router, client, m.Error(request_type=m.SUBSCRIBE, request_id=1, error="a.e"))
    refused(client, router, m.Error(request_type=m.CALL, request_id=1, error="a.e"))
    exchange(router, client, m.Error(request_type=m.CALL, request_id=1, error="a.e"))
    assert not client.pending_out


def test_unacknowledged_publish_expects_no_reply() -> None:
    """wamp-spec §3.3: PUBLISHED only answers a PUBLISH with acknowledge=true."""
    client, router = established()
    exchange(client, router, m.Publish(request_id=client.next_request_id(), topic="a.b"))
    assert not client.pending_out and not router.pending_in
    refused(router, client, m.Published(request_id=1, publication_id=3))
    ack = m.Publish(request_id=client.next_request_id(), topic="a.b", options={"acknowledge": True})
    exchange(client, router, ack)
    exchange(router, client, m.Published(request_id=2, publication_id=3))


def test_progressive_results_keep_the_call_open() -> None:
    """wamp-spec §4.2: RESULT with progress=true keeps the call pending; the final one ends it."""
    client, router = established()
    exchange(
        client,
        router,
        m.Call(
            request_id=client.next_request_id(), procedure="a.b", options={"receive_progress": True}
        ),
    )
    for _ in range(3):
        exchange(router, client, m.Result(request_id=1, details={"progress": True}))
        assert 1 in client.pending_out and 1 in router.pending_in
    exchange(router, client, m.Result(request_id=1))
    assert not client.pending_out and not router.pending_in
    refused(router, client, m.Result(request_id=1))


def test_progressive_call_continuations_reuse_the_id() -> None:
    """wamp-spec §4.3: a progressive CALL's continuations carry the open call's id; the stream
    ends with a CALL without progress; then the next new request takes the next id."""
    client, router = established()
    rid = client.next_request_id()
    exchange(client, router, m.Call(request_id=rid, procedure="a.b", options={"progress": True}))
    exchange(client, router, m.Call(request_id=rid, procedure="a.b", options={"progress": True}))
    exchange(client, router, m.Call(request_id=rid, procedure="a.b"))
    assert router.pending_in[rid].streaming is False
    exchange(client, router, m.Subscribe(request_id=client.next_request_id(), topic="a.b"))
    assert set(router.pending_in) == {1, 2}


def test_invocation_yield_and_late_yield() -> None:
    """wamp-spec §3.4/§3.6: YIELD answers a pending INVOCATION; a late YIELD (after the call was
    settled) is dropped, one for an id never issued is a violation."""
    client, router = established()
    exchange(router, client, m.Invocation(request_id=router.next_request_id(), registration_id=4))
    exchange(client, router, m.Yield(request_id=1))
    assert client.send(m.Yield(request_id=1)) is Disposition.IGNORE
    assert router.receive(m.Yield(request_id=1)) is Disposition.IGNORE
    refused(client, router, m.Yield(request_id=2))


def test_cancel_and_interrupt_refer_to_open_requests() -> None:
    """wamp-spec §4.5: CANCEL refers to an open CALL and INTERRUPT to an open INVOCATION; for a
    request that already finished they are dropped, for one never made they are violations."""
    client, router = established()
    exchange(client, router, m.Call(request_id=client.next_request_id(), procedure="a.b"))
    assert exchange(client, router, m.Cancel(request_id=1, options={"mode": "kill"})) is (
        Disposition.PROCESS
    )
    exchange(
        router, client, m.Error(request_type=m.CALL, request_id=1, error="wamp.error.canceled")
    )
    assert client.send(m.Cancel(request_id=1)) is Disposition.IGNORE
    assert router.receive(m.Cancel(request_id=1)) is Disposition.IGNORE
    refused(client, router, m.Cancel(request_id=5))
    exchange(router, client, m.Invocation(request_id=router.next_request_id(), registration_id=4))
    assert exchange(router, client, m.Interrupt(request_id=1)) is Disposition.PROCESS
    refused(router, client, m.Interrupt(request_id=3))


def test_reset_forgets_everything() -> None:
    """wamp-spec §3.2: after ABORT, nothing of the session survives."""
    client, router = established()
    exchange(client, router, m.Call(request_id=client.next_request_id(), procedure="a.b"))
    exchange(router, client, m.Invocation(request_id=router.next_request_id(), registration_id=4))
    exchange(client, router, m.Abort(reason="wamp.error.canceled"))
    for t in (client, router):
        assert t.state is SessionState.CLOSED
        assert not t.pending_in and not t.pending_out and not t.client_roles
        assert t.peek_request_id() == 1


# --- a hypothesis state machine over both trackers ------------------------------------------------

_replies = st.sampled_from(["final", "progress", "error"])


class TwoTrackers(RuleBasedStateMachine):
    """A client and a router tracker connected back to back, with a reference model of what each
    side still owes the other (wamp-spec §2.1 ids, §3.6 pairing, §4.2/§4.3/§4.5)."""

    def __init__(self) -> None:
        super().__init__()
        self.client, self.router = established()
        # The model: open client requests (id -> type), open invocations (ids), finished ids.
        self.calls: dict[int, int] = {}
        self.invocations: set[int] = set()
        self.done_client: set[int] = set()
        self.done_invocations: set[int] = set()
        self.closed = False

    # client -> router requests
    @precondition(lambda self: not self.closed)
    @rule(
        kind=st.sampled_from(["call", "subscribe", "register", "publish_ack", "publish"]),
        progress=st.booleans(),
    )
    def client_request(self, kind: str, progress: bool) -> None:
        rid = self.client.next_request_id()
        msg: m.Message
        if kind == "call":
            opts = {"receive_progress": True} if progress else {}
            msg = m.Call(request_id=rid, procedure="a.b", options=opts)
        elif kind == "subscribe":
            msg = m.Subscribe(request_id=rid, topic="a.b")
        elif kind == "register":
            msg = m.Register(request_id=rid, procedure="a.b")
        else:
            msg = m.Publish(
                request_id=rid, topic="a.b", options={"acknowledge": kind == "publish_ack"}
            )
        assert exchange(self.client, self.router, msg) is Disposition.PROCESS
        if kind != "publish":
            self.calls[rid] = msg.TYPE
        else:
            self.done_client.add(rid)

    @precondition(lambda self: not self.closed and bool(self.calls))
    @rule(data=st.data(), how=_replies)
    def router_replies(self, data: st.DataObject, how: str) -> None:
        rid = data.draw(st.sampled_from(sorted(self.calls)))
        rtype = self.calls[rid]
        reply: m.Message
        if how == "error":
            reply = m.Error(request_type=rtype, request_id=rid, error="com.example.error")
        elif rtype == m.CALL:
            details = {"progress": True} if how == "progress" else {}
            reply = m.Result(request_id=rid, details=details)
        elif rtype == m.SUBSCRIBE:
            reply = m.Subscribed(request_id=rid, subscription_id=9)
        elif rtype == m.REGISTER:
            reply = m.Registered(request_id=rid, registration_id=9)
        else:
            reply = m.Published(request_id=rid, publication_id=9)
        assert exchange(self.router, self.client, reply) is Disposition.PROCESS
        if not (how == "progress" and rtype == m.CALL):
            del self.calls[rid]
            self.done_client.add(rid)

    @precondition(lambda self: not self.closed)
    @rule()
    def router_invokes(self) -> None:
        rid = self.router.next_request_id()
        exchange(self.router, self.client, m.Invocation(request_id=rid, registration_id=9))
        self.invocations.add(rid)

    @precondition(lambda self: not self.closed and bool(self.invocations))
    @rule(data=st.data(), error=st.booleans())
    def client_answers(self, data: st.DataObject, error: bool) -> None:
        rid = data.draw(st.sampled_from(sorted(self.invocations)))
        answer: m.Message = (
            m.Error(request_type=m.INVOCATION, request_id=rid, error="com.example.error")
            if error
            else m.Yield(request_id=rid)
        )
        assert exchange(self.client, self.router, answer) is Disposition.PROCESS
        self.invocations.discard(rid)
        self.done_invocations.add(rid)

    @precondition(lambda self: not self.closed)
    @rule(rid=st.integers(min_value=1, max_value=40))
    def stray_result(self, rid: int) -> None:
        """A RESULT for anything but an open CALL is refused by both sides, changing nothing."""
        if self.calls.get(rid) == m.CALL:
            return
        refused(self.router, self.client, m.Result(request_id=rid))

    @precondition(lambda self: not self.closed)
    @rule(rid=st.integers(min_value=1, max_value=40))
    def late_or_stray_yield(self, rid: int) -> None:
        """YIELD for a finished invocation is dropped by both; for one never issued, refused."""
        if rid in self.invocations:
            return
        if rid in self.done_invocations:
            assert self.client.send(m.Yield(request_id=rid)) is Disposition.IGNORE
            assert self.router.receive(m.Yield(request_id=rid)) is Disposition.IGNORE
        else:
            refused(self.client, self.router, m.Yield(request_id=rid))

    @precondition(lambda self: not self.closed)
    @rule(offset=st.integers(min_value=2, max_value=5))
    def out_of_sequence_request(self, offset: int) -> None:
        """wamp-spec §3.6: a request id that skips ahead is a violation on receipt."""
        rid = self.client.peek_request_id() + offset - 1
        with pytest.raises(RemoteProtocolError):
            self.router.receive(m.Subscribe(request_id=rid, topic="a.b"))

    @precondition(lambda self: not self.closed)
    @rule(from_client=st.booleans())
    def goodbye(self, from_client: bool) -> None:
        first, second = (self.client, self.router) if from_client else (self.router, self.client)
        exchange(first, second, m.Goodbye(reason="wamp.close.close_realm"))
        exchange(second, first, m.Goodbye(reason="wamp.close.goodbye_and_out"))
        self.closed = True

    @precondition(lambda self: self.closed)
    @rule()
    def rejoin(self) -> None:
        """wamp-spec §2.4: the transport carries a new session; nothing of the old one leaks."""
        exchange(self.client, self.router, m.Hello(realm="realm1", details={"roles": ROLES}))
        welcome = m.Welcome(session_id=8, details={"roles": {"broker": {}, "dealer": {}}})
        exchange(self.router, self.client, welcome)
        assert self.client.peek_request_id() == self.router.peek_request_id() == 1
        self.calls.clear()
        self.invocations.clear()
        self.done_client.clear()
        self.done_invocations.clear()
        self.closed = False

    @invariant()
    def both_sides_agree_with_the_model(self) -> None:
        c, r = self.client, self.router
        assert c.state is r.state
        if self.closed:
            assert c.state is SessionState.CLOSED
            assert not (c.pending_in or c.pending_out or r.pending_in or r.pending_out)
            return
        assert c.state is SessionState.ESTABLISHED
        assert set(c.pending_out) == set(r.pending_in) == set(self.calls)
        assert set(r.pending_out) == set(c.pending_in) == self.invocations
        for rid, rtype in self.calls.items():
            assert c.pending_out[rid].type == r.pending_in[rid].type == rtype


TwoTrackers.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_two_trackers = TwoTrackers.TestCase
