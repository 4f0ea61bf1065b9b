"""A hypothesis state machine against the router, checked against a small reference model.

Several scripted peers (tests/netharness.py, over RawSocket, WebSocket and the identity framing
with JSON, MessagePack and CBOR) join, subscribe, unsubscribe, publish, register, unregister,
call, yield, answer with errors, cancel, leave, vanish and send garbage. After every step the
network is pumped until quiet and the router is compared with the model:

* events reach exactly the current subscribers of the topic, once each, and never the
  publisher unless it said ``exclude_me=false`` (wamp-spec §3.3, §4.14);
* every call ends in exactly one final RESULT or ERROR for as long as its caller stays
  (wamp-spec §3.4), and a callee that leaves answers its callers ``wamp.error.canceled``;
* departed sessions leave no subscription, registration or pending call behind, and the
  router's subscriptions, registrations and calls are exactly the model's;
* every byte the router emits decodes, validates and is legal for the receiving client
  (the harness's client-side state table).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from netharness import Network, TestPeer

from wampcore.messages import (
    Error,
    Event,
    Invocation,
    Registered,
    Result,
    Subscribed,
)

TOPICS = ("com.t.one", "com.t.two")
PROCEDURES = ("com.p.one", "com.p.two")
CONNECTIONS = (("rawsocket", "json"), ("websocket", "msgpack"), ("message", "cbor"))
MAX_PEERS = 5


@dataclass
class _Call:
    caller: TestPeer
    request_id: int
    callee: TestPeer | None
    invocation_id: int | None
    answered: bool = False
    killing: bool = False


@dataclass
class _Model:
    subscriptions: dict[TestPeer, dict[str, int]] = field(default_factory=dict)
    registrations: dict[str, tuple[TestPeer, int]] = field(default_factory=dict)
    calls: list[_Call] = field(default_factory=list)


class RouterMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.net = Network(seed=7)
        self.active: list[TestPeer] = []
        self.departed: list[TestPeer] = []
        self.model = _Model()
        self.tokens = itertools.count()

    # -- helpers -----------------------------------------------------------------------------------

    def _pick(self, index: int) -> TestPeer:
        return self.active[index % len(self.active)]

    def _depart(self, peer: TestPeer) -> None:
        """The model's removal path: mirror of what the router must have done."""
        self.active.remove(peer)
        self.departed.append(peer)
        self.model.subscriptions.pop(peer, None)
        for procedure, (owner, _) in list(self.model.registrations.items()):
            if owner is peer:
                del self.model.registrations[procedure]
        answers: dict[TestPeer, list[Any]] = {}
        for call in self.model.calls:
            if call.answered:
                continue
            if call.callee is peer and call.caller is not peer:
                call.answered = True
                if call.caller not in answers:
                    answers[call.caller] = call.caller.take_matching(Result, Error)
                got = [m for m in answers[call.caller] if m.request_id == call.request_id]
                assert [(type(m), getattr(m, "error", None)) for m in got] == [
                    (Error, "wamp.error.canceled")
                ], got
            if call.caller is peer:
                call.answered = True  # nobody is left to answer

    def _pending(self) -> list[_Call]:
        return [c for c in self.model.calls if not c.answered and c.callee is not None]

    # -- rules ---------------------------------------------------------------------------------

    @precondition(lambda self: len(self.active) < MAX_PEERS)
    @rule(connection=st.sampled_from(CONNECTIONS))
    def join(self, connection: tuple[str, str]) -> None:
        peer = self.net.join(*connection)
        self.active.append(peer)
        self.model.subscriptions[peer] = {}

    @precondition(lambda self: self.active)
    @rule(index=st.integers(0, 99), topic=st.sampled_from(TOPICS))
    def subscribe(self, index: int, topic: str) -> None:
        peer = self._pick(index)
        rid = peer.subscribe(topic)
        self.net.pump()
        (reply,) = [m for m in peer.take_matching(Subscribed) if m.request_id == rid]
        known = self.model.subscriptions[peer].get(topic)
        assert known is None or known == reply.subscription_id  # a repeat gets the same id
        self.model.subscriptions[peer][topic] = reply.subscription_id

    @precondition(lambda self: any(self.model.subscriptions.get(p) for p in self.active))
    @rule(index=st.integers(0, 99), which=st.integers(0, 9))
    def unsubscribe(self, index: int, which: int) -> None:
        candidates = [p for p in self.active if self.model.subscriptions[p]]
        peer = candidates[index % len(candidates)]
        topics = sorted(self.model.subscriptions[peer])
        topic = topics[which % len(topics)]
        peer.unsubscribe(self.model.subscriptions[peer].pop(topic))
        self.net.pump()

    @precondition(lambda self: self.active)
    @rule(
        index=st.integers(0, 99),
        topic=st.sampled_from(TOPICS),
        exclude_me=st.sampled_from([None, True, False]),
        acknowledge=st.booleans(),
    )
    def publish(self, index: int, topic: str, exclude_me: bool | None, acknowledge: bool) -> None:
        publisher = self._pick(index)
        token = next(self.tokens)
        options: dict[str, Any] = {"acknowledge": True} if acknowledge else {}
        if exclude_me is not None:
            options["exclude_me"] = exclude_me
        for peer in self.active:
            peer.take_matching(Event)  # forget older events
        publisher.publish(topic, [token], **options)
        self.net.pump()
        for peer in self.active:
            got = [e for e in peer.take_matching(Event) if e.args == [token]]
            expected = topic in self.model.subscriptions[peer] and (
                peer is not publisher or exclude_me is False
            )
            assert len(got) == (1 if expected else 0), (peer.id, publisher.id, got)
            if got:
                assert got[0].subscription_id == self.model.subscriptions[peer][topic]

    @precondition(lambda self: self.active)
    @rule(index=st.integers(0, 99), procedure=st.sampled_from(PROCEDURES))
    def register(self, index: int, procedure: str) -> None:
        peer = self._pick(index)
        rid = peer.register(procedure)
        self.net.pump()
        if procedure in self.model.registrations:
            errors = [e for e in peer.take_matching(Error) if e.request_id == rid]
            assert [e.error for e in errors] == ["wamp.error.procedure_already_exists"]
        else:
            (reply,) = [m for m in peer.take_matching(Registered) if m.request_id == rid]
            self.model.registrations[procedure] = (peer, reply.registration_id)

    @precondition(lambda self: self.model.registrations)
    @rule(which=st.integers(0, 9))
    def unregister(self, which: int) -> None:
        procedure = sorted(self.model.registrations)[which % len(self.model.registrations)]
        owner, registration_id = self.model.registrations.pop(procedure)
        owner.unregister(registration_id)
        self.net.pump()

    @precondition(lambda self: self.active)
    @rule(index=st.integers(0, 99), procedure=st.sampled_from(PROCEDURES))
    def call(self, index: int, procedure: str) -> None:
        caller = self._pick(index)
        registered = self.model.registrations.get(procedure)
        callee = registered[0] if registered else None
        if callee is not None:
            callee.take_matching(Invocation)
        rid = caller.call(procedure, [rid_token := next(self.tokens)])
        self.net.pump()
        if callee is None:
            errors = [e for e in caller.take_matching(Error) if e.request_id == rid]
            assert [e.error for e in errors] == ["wamp.error.no_such_procedure"]
            return
        (invocation,) = [i for i in callee.take_matching(Invocation) if i.args == [rid_token]]
        self.model.calls.append(_Call(caller, rid, callee, invocation.request_id))

    @precondition(lambda self: any(not c.killing for c in self._pending()))
    @rule(which=st.integers(0, 99), fail=st.booleans())
    def answer(self, which: int, fail: bool) -> None:
        pending = self._pending()
        call = pending[which % len(pending)]
        assert call.callee is not None and call.invocation_id is not None
        if fail:
            call.callee.error(call.invocation_id, "com.example.failed")
        else:
            call.callee.yield_(call.invocation_id, ["done"])
        self.net.pump()
        self._expect_answer(call, Error if fail else Result)

    @precondition(lambda self: any(not c.killing for c in self._pending()))
    @rule(which=st.integers(0, 99), mode=st.sampled_from(["skip", "kill", "killnowait"]))
    def cancel(self, which: int, mode: str) -> None:
        pending = [c for c in self._pending() if not c.killing]
        call = pending[which % len(pending)]
        call.caller.cancel(call.request_id, mode)
        self.net.pump()
        if mode == "kill":
            call.killing = True  # settled by the callee's answer (see `answer_killed`)
            assert call.caller.take_matching(Error) == []
        else:
            errors = self._expect_answer(call, Error)
            assert errors.error == "wamp.error.canceled"

    @precondition(lambda self: any(c.killing for c in self._pending()))
    @rule(which=st.integers(0, 99))
    def answer_killed(self, which: int) -> None:
        killed = [c for c in self._pending() if c.killing]
        call = killed[which % len(killed)]
        assert call.callee is not None and call.invocation_id is not None
        call.callee.error(call.invocation_id, "wamp.error.canceled")
        self.net.pump()
        assert self._expect_answer(call, Error).error == "wamp.error.canceled"

    @precondition(lambda self: self.active)
    @rule(index=st.integers(0, 99), how=st.sampled_from(["goodbye", "eof", "vanish", "garbage"]))
    def leave(self, index: int, how: str) -> None:
        peer = self._pick(index)
        if how == "goodbye":
            peer.goodbye()
        elif how == "eof":
            peer.eof()
        elif how == "vanish":
            peer.vanish()
        else:
            peer.send_payload(b"\x00\xff garbage \xfe")
        self.net.pump()
        if how == "goodbye":
            peer.eof()  # the client closes its transport after the handshake
            self.net.pump()
        self._depart(peer)

    # -- checks --------------------------------------------------------------------------------

    def _expect_answer(self, call: _Call, cls: type[Any]) -> Any:
        answers = [
            m for m in call.caller.take_matching(Result, Error) if m.request_id == call.request_id
        ]
        assert len(answers) == 1 and isinstance(answers[0], cls), answers
        call.answered = True
        return answers[0]

    @invariant()
    def router_matches_model(self) -> None:
        router = self.net.router
        self.net.check()
        assert router.session_count() == len(self.active)
        realm = router.realm("realm1")
        actual_subs = {
            (sub.uri, session_id)
            for sub in realm.broker.subscriptions()
            for session_id in sub.subscribers
        }
        expected_subs = {
            (topic, peer.session_id)
            for peer, topics in self.model.subscriptions.items()
            for topic in topics
        }
        assert actual_subs == expected_subs
        actual_regs = {
            (reg.uri, callee.id) for reg in realm.dealer.registrations() for callee in reg.callees
        }
        expected_regs = {
            (procedure, owner.session_id)
            for procedure, (owner, _) in self.model.registrations.items()
        }
        assert actual_regs == expected_regs
        open_calls = {
            (call.caller.session_id, call.request_id)
            for call in self.model.calls
            if not call.answered
        }
        router_calls = {
            (session.id, request_id)
            for session in router.sessions.sessions.values()
            for call in session.open_calls()
            for request_id in [call.caller_request_id]
        }
        assert router_calls == open_calls
        for peer in self.departed:
            assert peer.session_id not in router.sessions.sessions
            assert router.should_close(peer.id)


RouterMachine.TestCase.settings = settings(
    max_examples=80,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestRouterStateMachine = RouterMachine.TestCase
