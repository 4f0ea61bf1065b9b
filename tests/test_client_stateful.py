"""Stateful hypothesis test: one real router, three wampcore client peers, a reference model.

The clients (RawSocket/JSON, WebSocket/MessagePack, identity framing/CBOR) subscribe, publish,
register, call, answer (results, progressive results, errors), cancel in every mode, and leave
and rejoin, in random order. After every step the network is pumped until quiet and each
client's new events are compared, as a multiset, with what the model predicts from the spec:

* an EVENT reaches exactly the current subscribers of the topic, the publisher only with
  ``exclude_me=False`` (wamp-spec.md §3.3, §4.14);
* a CALL reaches the one registered callee or fails with ``no_such_procedure``; REGISTER of a
  registered procedure fails with ``procedure_already_exists`` (§3.4);
* progressive results arrive in order and end with one final RESULT (§4.2);
* CANCEL follows the mode table of §4.5;
* a session that leaves ends all its pending calls and invocations locally, its callers get
  ``wamp.error.canceled`` and its callees an INTERRUPT ``killnowait`` (§3.4);

and the invariants hold: every request ends exactly once (a ledger fed only by events), nothing
is open after a session ends, no client catches the router in a protocol violation, and the
router reports no internal error.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from clientnet import NetClient, join_client
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from netharness import Network

from wampcore.client import (
    CallResult,
    ClientEvent,
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
)
from wampcore.config import RouterConfig

TOPICS = ("t.a", "t.b")
PROCEDURES = ("p.a", "p.b")
SETUPS = (("rawsocket", "json"), ("websocket", "msgpack"), ("message", "cbor"))
CANCELED = "wamp.error.canceled"

clients = st.integers(min_value=0, max_value=len(SETUPS) - 1)


def norm(ev: ClientEvent) -> tuple[Any, ...]:
    """An event as a comparable tuple (ids the model cannot know are left out)."""
    if isinstance(ev, PublicationReceived):
        return ("event", ev.subscription_id, tuple(ev.args or ()))
    if isinstance(ev, PublishAcknowledged):
        return ("ack", ev.request_id)
    if isinstance(ev, SubscriptionCreated):
        return ("subscribed", ev.request_id)
    if isinstance(ev, SubscriptionEnded):
        return ("unsubscribed", ev.request_id, ev.subscription_id)
    if isinstance(ev, RegistrationCreated):
        return ("registered", ev.request_id)
    if isinstance(ev, RegistrationEnded):
        return ("unregistered", ev.request_id, ev.registration_id)
    if isinstance(ev, RequestError):
        return ("lerror" if ev.local else "error", ev.request_id, None if ev.local else ev.error)
    if isinstance(ev, CallResult):
        return ("result", ev.request_id, ev.progress, tuple(ev.args or ()))
    if isinstance(ev, InvocationReceived):
        return ("invocation", tuple(ev.args or ()))
    if isinstance(ev, InterruptReceived):
        return ("linterrupt", ev.request_id) if ev.local else ("interrupt", ev.request_id, ev.mode)
    if isinstance(ev, Left):
        return ("left", ev.local)
    if isinstance(ev, Joined):
        return ("joined",)
    return ("other", repr(ev))


class Ledger:
    """Open requests of one client, fed only by its verbs and its events."""

    def __init__(self) -> None:
        self.open: set[int] = set()

    def issue(self, rid: int) -> None:
        assert rid not in self.open, f"request id {rid} reused while open"
        self.open.add(rid)

    def see(self, ev: ClientEvent) -> None:
        rid: int | None = None
        if isinstance(ev, CallResult):
            rid = None if ev.progress else ev.request_id
            assert ev.request_id in self.open, f"{ev} for a request that is not open"
        elif isinstance(
            ev,
            RequestError
            | PublishAcknowledged
            | SubscriptionCreated
            | SubscriptionEnded
            | RegistrationCreated
            | RegistrationEnded,
        ):
            rid = ev.request_id
        elif isinstance(ev, Left):
            assert not self.open, f"session left with requests open: {self.open}"
        if rid is not None:
            assert rid in self.open, f"request {rid} ended twice or was never issued: {ev}"
            self.open.remove(rid)


class Call:
    """A call the router still considers open, as the model sees it."""

    def __init__(self, caller: int, rid: int, callee: int, inv: int, progress: bool) -> None:
        self.caller, self.rid, self.callee, self.inv = caller, rid, callee, inv
        self.receive_progress = progress
        self.killed = False  # CANCEL kill sent: the callee's answer still settles it


class ClientsAndRouter(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.net = Network(RouterConfig(), seed=3)
        self.clients: list[NetClient] = [join_client(self.net, t, s) for t, s in SETUPS]
        self.ledgers = [Ledger() for _ in SETUPS]
        self.subs: list[dict[str, int]] = [{} for _ in SETUPS]
        self.regs: dict[str, tuple[int, int]] = {}  # procedure -> (client, registration id)
        self.calls: list[Call] = []
        #: Invocations whose call the router already settled (CANCEL skip): answers are dropped.
        self.orphans: set[tuple[int, int]] = set()
        self.counter = 0

    # -- running a step ---------------------------------------------------------------------------

    def step(self, expected: dict[int, list[tuple[Any, ...]]]) -> list[list[ClientEvent]]:
        """Pump, then compare each client's new events with ``expected`` (as multisets)."""
        self.net.pump()
        got = []
        for i, client in enumerate(self.clients):
            events = client.take()
            for ev in events:
                self.ledgers[i].see(ev)
            got.append(events)
            want = Counter(expected.get(i, []))
            have = Counter(norm(e) for e in events)
            assert have == want, f"client {i}: got {sorted(have.elements())}, want {sorted(want)}"
        self.net.check()
        return got

    def value(self) -> int:
        self.counter += 1
        return self.counter

    # -- publish & subscribe ----------------------------------------------------------------------

    @rule(c=clients, topic=st.sampled_from(TOPICS))
    def subscribe(self, c: int, topic: str) -> None:
        rid = self.clients[c].peer.subscribe(topic)
        self.ledgers[c].issue(rid)
        got = self.step({c: [("subscribed", rid)]})
        (created,) = got[c]
        assert isinstance(created, SubscriptionCreated)
        if topic in self.subs[c]:  # wamp-spec.md §3.3: the existing subscription id again
            assert created.subscription_id == self.subs[c][topic]
        self.subs[c][topic] = created.subscription_id

    @rule(c=clients, topic=st.sampled_from(TOPICS))
    def unsubscribe(self, c: int, topic: str) -> None:
        sub = self.subs[c].pop(topic, None)
        if sub is None:
            return
        rid = self.clients[c].peer.unsubscribe(sub)
        self.ledgers[c].issue(rid)
        self.step({c: [("unsubscribed", rid, sub)]})

    @rule(
        c=clients,
        topic=st.sampled_from(TOPICS),
        acknowledge=st.booleans(),
        exclude_me=st.sampled_from([None, False]),
    )
    def publish(self, c: int, topic: str, acknowledge: bool, exclude_me: bool | None) -> None:
        n = self.value()
        rid = self.clients[c].peer.publish(
            topic, [n], acknowledge=acknowledge, exclude_me=exclude_me
        )
        expected: dict[int, list[tuple[Any, ...]]] = {}
        if acknowledge:
            self.ledgers[c].issue(rid)
            expected[c] = [("ack", rid)]
        for i, subs in enumerate(self.subs):
            if topic in subs and (i != c or exclude_me is False):
                expected.setdefault(i, []).append(("event", subs[topic], (n,)))
        self.step(expected)

    # -- remote procedure calls -------------------------------------------------------------------

    @rule(c=clients, procedure=st.sampled_from(PROCEDURES))
    def register(self, c: int, procedure: str) -> None:
        rid = self.clients[c].peer.register(procedure)
        self.ledgers[c].issue(rid)
        if procedure in self.regs:
            self.step({c: [("error", rid, "wamp.error.procedure_already_exists")]})
            return
        (created,) = self.step({c: [("registered", rid)]})[c]
        assert isinstance(created, RegistrationCreated)
        self.regs[procedure] = (c, created.registration_id)

    @rule(procedure=st.sampled_from(PROCEDURES))
    def unregister(self, procedure: str) -> None:
        owner = self.regs.get(procedure)
        if owner is None or any(
            call.callee == owner[0] for call in self.calls
        ):  # keep the model simple: only idle registrations go away
            return
        c, reg = owner
        rid = self.clients[c].peer.unregister(reg)
        self.ledgers[c].issue(rid)
        self.step({c: [("unregistered", rid, reg)]})
        del self.regs[procedure]

    @rule(c=clients, procedure=st.sampled_from(PROCEDURES), receive_progress=st.booleans())
    def call(self, c: int, procedure: str, receive_progress: bool) -> None:
        n = self.value()
        rid = self.clients[c].peer.call(procedure, [n], receive_progress=receive_progress)
        self.ledgers[c].issue(rid)
        owner = self.regs.get(procedure)
        if owner is None:
            self.step({c: [("error", rid, "wamp.error.no_such_procedure")]})
            return
        callee = owner[0]
        got = self.step({callee: [("invocation", (n,))]})
        (inv,) = [e for e in got[callee] if isinstance(e, InvocationReceived)]
        assert inv.receive_progress is receive_progress
        self.calls.append(Call(c, rid, callee, inv.request_id, receive_progress))

    @rule(data=st.data(), kind=st.sampled_from(["result", "error", "progress"]))
    def answer(self, data: st.DataObject, kind: str) -> None:
        if not self.calls:
            return
        call = data.draw(st.sampled_from(self.calls))
        callee = self.clients[call.callee].peer
        n = self.value()
        if kind == "progress" and call.receive_progress:
            callee.yield_result(call.inv, [n], progress=True)
            self.step({call.caller: [("result", call.rid, True, (n,))]})
            return
        if kind == "error":
            callee.yield_error(call.inv, "com.app.error", [n])
            expected = ("error", call.rid, "com.app.error")
        else:
            callee.yield_result(call.inv, [n])
            expected = ("result", call.rid, False, (n,))
        self.calls.remove(call)
        self.step({call.caller: [expected]})

    @rule(data=st.data())
    def answer_orphan(self, data: st.DataObject) -> None:
        """Answering an invocation whose call was canceled with skip: the router drops it."""
        if not self.orphans:
            return
        callee, inv = data.draw(st.sampled_from(sorted(self.orphans)))
        self.clients[callee].peer.yield_result(inv, ["late"])
        self.orphans.discard((callee, inv))
        self.step({})

    @rule(data=st.data(), mode=st.sampled_from(["skip", "kill", "killnowait"]))
    def cancel(self, data: st.DataObject, mode: str) -> None:
        if not self.calls:
            return
        call = data.draw(st.sampled_from(self.calls))
        self.clients[call.caller].peer.cancel(call.rid, mode)
        expected: dict[int, list[tuple[Any, ...]]] = {}
        if mode == "kill" and call.killed:
            self.step(expected)  # the callee was already interrupted; nothing more happens
            return
        if mode in ("skip", "killnowait"):
            expected[call.caller] = [("error", call.rid, CANCELED)]
            self.calls.remove(call)
        if mode in ("kill", "killnowait"):
            expected.setdefault(call.callee, []).append(("interrupt", call.inv, mode))
        if mode == "skip":
            self.orphans.add((call.callee, call.inv))
        if mode == "kill":
            call.killed = True
        self.step(expected)

    # -- leaving ----------------------------------------------------------------------------------

    @rule(c=clients)
    def leave_and_rejoin(self, c: int) -> None:
        expected: dict[int, list[tuple[Any, ...]]] = {c: [("left", True), ("joined",)]}
        for call in list(self.calls):
            if call.caller == c:
                expected[c].append(("lerror", call.rid, None))
                if call.callee != c:
                    expected.setdefault(call.callee, []).append(
                        ("interrupt", call.inv, "killnowait")
                    )
                else:
                    expected[c].append(("linterrupt", call.inv))
                self.calls.remove(call)
            elif call.callee == c:
                expected[c].append(("linterrupt", call.inv))
                expected.setdefault(call.caller, []).append(("error", call.rid, CANCELED))
                self.calls.remove(call)
        for callee, inv in list(self.orphans):
            if callee == c:
                expected[c].append(("linterrupt", inv))
                self.orphans.discard((callee, inv))
        self.clients[c].peer.leave()
        self.net.pump()
        self.clients[c].peer.join()
        self.step(expected)
        self.subs[c] = {}
        self.regs = {p: owner for p, owner in self.regs.items() if owner[0] != c}

    # -- invariants -------------------------------------------------------------------------------

    @invariant()
    def open_requests_match_the_model(self) -> None:
        for i, ledger in enumerate(self.ledgers):
            assert ledger.open == {call.rid for call in self.calls if call.caller == i}
            assert self.clients[i].peer.is_joined
            assert set(self.clients[i].peer.subscriptions) == set(self.subs[i].values())


ClientsAndRouter.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestClientsAndRouter = ClientsAndRouter.TestCase
