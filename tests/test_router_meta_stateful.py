"""A hypothesis state machine for the meta API, testaments and the one removal path.

DESIGN.md §6.3, for the meta API (wamp-spec.md §4.23, §4.25-4.27). One Router, network clients
(real :class:`~wampcore.client.ClientPeer`\\ s on the in-memory network of
``netharness``/``clientnet``, over RawSocket/JSON, WebSocket/MessagePack and the identity
framing/CBOR) and embedded sessions (``Router.open_local_session``, several authids and
authroles) join, subscribe to meta and user topics, register (a taken procedure is refused),
call, answer with a result or an error, publish, add testaments (either scope, default scope,
black/white-listing publish options) and flush them, and end in every way a session can:
GOODBYE (then closing, or a new HELLO on the same transport or link), ABORT, EOF, a lost
connection, a protocol violation, ``wamp.session.kill`` (one's own id is refused),
``Router.kill_session``, ``kill_by_authid``, ``kill_by_authrole`` -- with the default or an
explicit reason and message -- and, at most once per example, ``kill_all``. Calls are left
pending when their callee or caller goes. After every step the network is pumped until quiet
and the router is compared with a small reference model:

1. every call ends exactly once for its caller (RESULT or ERROR, never both), and once its
   callee or caller is gone it has ended: ``wamp.error.canceled`` when the callee left, the
   client's own local error when the caller did -- and the callee then got one INTERRUPT
   ``killnowait`` (wamp-spec.md §3.4, DESIGN.md §3 "one removal path");
2. each subscriber of ``wamp.session.on_join`` / ``on_leave``, ``wamp.registration.on_register``
   / ``on_unregister`` and ``wamp.subscription.on_subscribe`` / ``on_unsubscribe`` sees every
   such event while it is subscribed exactly once, in the order the model predicts
   (wamp-spec.md §4.25-4.27), and nothing about sessions ended by ``kill_all`` (§4.23);
3. ``wamp.session.count`` / ``wamp.session.list`` (called by a live session) give the model's
   live sessions in join order -- network and embedded, never the hidden service session --
   and ``wamp.registration.list`` / ``wamp.subscription.list`` the model's registrations and
   subscriptions (§4.25-4.27);
4. every testament of a session that ended (not by ``kill_all``, not flushed) is published
   exactly once to the topic's subscribers, ``detached`` before ``destroyed``, in the order
   added (§4.23), and ordinary publications reach exactly the current subscribers;
5. no ``InternalError`` router event, nothing illegal on the wire, and
   ``router.session_count()`` and the router's session table match the model.

Two pinned scenarios drive the same machine through what random runs reach only sometimes
(several testaments of both scopes, a flush, kill_all over testaments and a pending call) and
also check the published order directly, outside the model. The whole file runs in a few
seconds (derandomized, so CI sees the same examples every time).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from clientnet import NetClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)
from netharness import Network

from wampcore.client import (
    Aborted,
    CallResult,
    ClientPeer,
    InterruptReceived,
    InvocationReceived,
    Joined,
    Left,
    PublicationReceived,
    RegistrationCreated,
    RegistrationEnded,
    RequestError,
    SubscriptionCreated,
    SubscriptionEnded,
)

REALM = "realm1"
TOPICS = ("com.t.one", "com.t.two")
PROCEDURES = ("com.p.one", "com.p.two", "com.p.three")
ON_JOIN = "wamp.session.on_join"
ON_LEAVE = "wamp.session.on_leave"
ON_REGISTER = "wamp.registration.on_register"
ON_UNREGISTER = "wamp.registration.on_unregister"
ON_SUBSCRIBE = "wamp.subscription.on_subscribe"
ON_UNSUBSCRIBE = "wamp.subscription.on_unsubscribe"
META_TOPICS = (ON_JOIN, ON_LEAVE, ON_REGISTER, ON_UNREGISTER, ON_SUBSCRIBE, ON_UNSUBSCRIBE)
CONNECTIONS = (("rawsocket", "json"), ("websocket", "msgpack"), ("message", "cbor"))
#: (authid, authrole) of embedded sessions; authids repeat on purpose (kill_by_authid).
IDENTITIES = (("alice", "trusted"), ("bob", "worker"), (None, "worker"), ("alice", "worker"))
SCOPES = (None, "detached", "destroyed")  # None: the default, "destroyed" (§4.23)
#: PUBLISH options a testament may carry (black/white listing by authrole, §4.13).
WILL_OPTIONS: tuple[dict[str, list[str]] | None, ...] = (
    None,
    {"exclude_authrole": ["worker"]},
    {"eligible_authrole": ["anonymous", "trusted"]},
)
#: Kill reasons: None is the default, ``wamp.close.killed`` (§4.25).
KILL_REASONS = (None, "com.example.kicked")
MAX_LIVE = 6
GARBAGE = b"\x00\xff garbage \xfe"


class Actor:
    """One session (network or embedded), what it received, and the model's view of it."""

    def __init__(self, name: str, peer: ClientPeer, client: NetClient | None) -> None:
        self.name = name
        self.peer = peer
        self.client = client
        self.alive = True
        self.session_id = 0
        self.authid = ""
        self.authrole = ""
        # -- what arrived
        self.events: list[Any] = []
        self.answers: dict[int, list[CallResult | RequestError]] = defaultdict(list)
        self.invocations: dict[int, InvocationReceived] = {}  # by the call's token
        self.interrupts: dict[int, list[InterruptReceived]] = defaultdict(list)
        self.publications: list[PublicationReceived] = []
        # -- the model
        self.subs: dict[str, int] = {}  # user topic -> subscription id
        self.meta_active: dict[str, int] = {}  # meta topic -> subscription id
        self.meta_expected: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        self.user_expected: list[tuple[str, int]] = []
        #: (scope, topic, token, publish options), in the order added.
        self.testaments: list[tuple[str, str, int, dict[str, list[str]] | None]] = []
        #: This session is over and its connection (or link) carries a newer session.
        self.retired = False

    def __repr__(self) -> str:
        return f"<{self.name} {self.session_id} {'live' if self.alive else 'gone'}>"

    def drain(self) -> int:
        if self.retired:
            return 0
        if self.client is not None:
            new: list[Any] = list(self.client.take())
        else:
            new = []
            while (ev := self.peer.next_event()) is not None:
                new.append(ev)
        for ev in new:
            self.events.append(ev)
            if (isinstance(ev, CallResult) and not ev.progress) or isinstance(ev, RequestError):
                self.answers[ev.request_id].append(ev)
            elif isinstance(ev, InvocationReceived):
                token = ev.args[0] if ev.args else None
                assert isinstance(token, int), ev
                self.invocations[token] = ev
            elif isinstance(ev, InterruptReceived):
                self.interrupts[ev.request_id].append(ev)
            elif isinstance(ev, PublicationReceived):
                self.publications.append(ev)
            elif isinstance(ev, Joined):
                self.session_id = ev.session_id
                self.authid = ev.authid or ""
                self.authrole = ev.authrole or ""
        return len(new)

    def of(self, cls: type[Any]) -> list[Any]:
        return [e for e in self.events if isinstance(e, cls)]


@dataclass
class _Call:
    caller: Actor
    request_id: int
    token: int
    callee: Actor | None
    invocation_id: int | None
    #: None while pending; else result, error, canceled, local, any, no_such_procedure.
    outcome: str | None = None
    #: The caller left first while the callee stayed: it is owed one INTERRUPT killnowait.
    interrupted: bool = False


def _meta_key(ev: PublicationReceived) -> tuple[Any, ...]:
    """What the model predicts of one meta event (the positional payload, §4.25-4.27)."""
    args = ev.args or []
    if ev.topic == ON_JOIN:
        details = args[0]
        return ("join", details["session"], details["authid"], details["authrole"])
    return (ev.topic.rsplit(".", 1)[1], *args)


class MetaMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.net = Network(seed=11)
        self.router = self.net.router
        self.actors: list[Actor] = []  # every actor, in join order
        self.calls: list[_Call] = []
        self.registrations: dict[str, tuple[Actor, int]] = {}
        self.tokens = itertools.count(1)
        self.names = itertools.count(1)
        self.kill_all_done = False
        self.wheel = 0
        #: False (the pinned scenarios): an index picks ``live[index]`` exactly.
        self.turning = True

    # -- helpers -----------------------------------------------------------------------------------

    @property
    def live(self) -> list[Actor]:
        return [a for a in self.actors if a.alive]

    def _pick(self, index: int) -> Actor:
        """A live session. Drawn indexes cluster at 0, so each pick also turns a wheel: the
        same draws still give the same sessions, but not always the oldest one."""
        live = self.live
        if self.turning:
            self.wheel += 1
        return live[(index + self.wheel) % len(live)]

    def sync(self) -> None:
        """Pump the network and drain every session until nothing moves."""
        for _ in range(50):
            self.net.pump()
            if not sum(a.drain() for a in self.actors):
                return
        raise AssertionError("the sessions did not settle")

    def meta_call(
        self,
        actor: Actor,
        procedure: str,
        args: list[Any] | None = None,
        kwargs: dict[str, Any] | None = None,
    ) -> CallResult | RequestError:
        rid = actor.peer.call(procedure, args, kwargs)
        self.sync()
        answers = actor.answers[rid]
        assert len(answers) == 1, (procedure, answers)
        return answers[0]

    def meta_ok(self, actor: Actor, procedure: str, *args: Any, **kwargs: Any) -> Any:
        answer = self.meta_call(actor, procedure, list(args) or None, kwargs or None)
        assert isinstance(answer, CallResult), (procedure, answer)
        return answer.args[0] if answer.args else None

    def _meta(self, topic: str, key: tuple[Any, ...]) -> None:
        """A meta event the model expects every live subscriber of ``topic`` to see."""
        for actor in self.live:
            if topic in actor.meta_active:
                actor.meta_expected[topic].append(key)

    def _user(
        self,
        topic: str,
        key: tuple[str, int],
        publisher: Actor | None,
        options: dict[str, list[str]] | None = None,
    ) -> None:
        options = options or {}
        for actor in self.live:
            if topic not in actor.subs or actor is publisher:
                continue
            if actor.authrole in options.get("exclude_authrole", ()):
                continue
            if (
                "eligible_authrole" in options
                and actor.authrole not in options["eligible_authrole"]
            ):
                continue
            actor.user_expected.append(key)

    def _joined(self, actor: Actor) -> None:
        joined = actor.of(Joined)
        assert len(joined) == 1, actor.events
        self._meta(ON_JOIN, ("join", actor.session_id, actor.authid, actor.authrole))
        self.actors.append(actor)

    def _depart(self, victims: list[Actor], *, quiet: bool = False) -> None:
        """The model's removal path, for sessions that ended in one step, in removal order.

        ``quiet`` (kill_all): no meta events and no testaments (wamp-spec.md §4.23).
        """
        for victim in victims:
            assert victim.alive
            victim.alive = False
        batch = len(victims) > 1
        for victim in victims:
            sid = victim.session_id
            if not quiet:
                for sub_id in victim.subs.values():
                    self._meta(ON_UNSUBSCRIBE, ("on_unsubscribe", sid, sub_id))
            for procedure, (owner, reg_id) in list(self.registrations.items()):
                if owner is victim:
                    del self.registrations[procedure]
                    if not quiet:
                        self._meta(ON_UNREGISTER, ("on_unregister", sid, reg_id))
            for call in self.calls:
                if call.outcome is not None:
                    continue
                if batch and call.caller in victims and call.callee in victims:
                    call.outcome = "any"  # who goes first decides; either way it ends once
                elif call.caller is victim:
                    call.outcome = "local"
                    call.interrupted = call.callee is not None and call.callee.alive
                elif call.callee is victim:
                    call.outcome = "canceled"
            if not quiet:
                for scope in ("detached", "destroyed"):
                    for kept_scope, topic, token, options in victim.testaments:
                        if kept_scope == scope:
                            self._user(topic, ("will", token), None, options)
                self._meta(ON_LEAVE, ("on_leave", sid, victim.authid, victim.authrole))
            victim.testaments = []
            victim.subs = {}
            victim.meta_active = {}

    # -- joining -----------------------------------------------------------------------------------

    @initialize(
        connection=st.sampled_from(CONNECTIONS),
        identity=st.sampled_from(IDENTITIES),
        topics=st.sets(st.sampled_from((*META_TOPICS, *TOPICS)), min_size=1),
    )
    def observers(
        self, connection: tuple[str, str], identity: tuple[str | None, str], topics: set[str]
    ) -> None:
        """Two sessions subscribed from the start: a network client to every meta and user
        topic, an embedded session to some."""
        self._join_network(connection)
        self._join_embedded(identity)
        for topic in META_TOPICS + TOPICS:
            self._subscribe(self.actors[0], topic)
        for topic in sorted(topics):
            self._subscribe(self.actors[1], topic)

    @precondition(lambda self: len(self.live) < MAX_LIVE)
    @rule(connection=st.sampled_from((*CONNECTIONS, None)), identity=st.sampled_from(IDENTITIES))
    def join(self, connection: tuple[str, str] | None, identity: tuple[str | None, str]) -> None:
        """A network client (over ``connection``) or, for None, an embedded session."""
        if connection is None:
            self._join_embedded(identity)
        else:
            self._join_network(connection)

    def _join_network(self, connection: tuple[str, str]) -> None:
        client = NetClient(self.net, *connection)
        actor = Actor(f"net{next(self.names)}", client.peer, client)
        self.sync()
        actor.drain()
        assert actor.authrole == "anonymous"
        self._joined(actor)
        self.sync()

    def _join_embedded(self, identity: tuple[str | None, str]) -> None:
        authid, authrole = identity
        peer = self.router.open_local_session(REALM, authid=authid, authrole=authrole)
        actor = Actor(f"local{next(self.names)}", peer, None)
        actor.drain()
        assert actor.authrole == authrole
        if authid is not None:
            assert actor.authid == authid
        self._joined(actor)
        self.sync()

    # -- subscriptions (meta and user topics) and publications -------------------------------------

    @precondition(lambda self: self.live)
    @rule(index=st.integers(0, 99), topic=st.sampled_from((*META_TOPICS, *TOPICS)))
    def toggle_subscription(self, index: int, topic: str) -> None:
        """Subscribe to ``topic``, or unsubscribe if already subscribed."""
        actor = self._pick(index)
        if topic in actor.subs or topic in actor.meta_active:
            self._unsubscribe(actor, topic)
        else:
            self._subscribe(actor, topic)

    def _subscribe(self, actor: Actor, topic: str) -> None:
        rid = actor.peer.subscribe(topic)
        self.sync()
        (created,) = [e for e in actor.of(SubscriptionCreated) if e.request_id == rid]
        sub_id = created.subscription_id
        if topic in META_TOPICS:  # the router's own topics: no meta event about them
            actor.meta_active[topic] = sub_id
            return
        for other in self.live:
            if topic in other.subs:  # one subscription per topic, shared (§4.27)
                assert other.subs[topic] == sub_id
        actor.subs[topic] = sub_id
        self._meta(ON_SUBSCRIBE, ("on_subscribe", actor.session_id, sub_id))

    def _unsubscribe(self, actor: Actor, topic: str) -> None:
        meta = topic in META_TOPICS
        sub_id = (actor.meta_active if meta else actor.subs).pop(topic)
        rid = actor.peer.unsubscribe(sub_id)
        self.sync()
        assert [e for e in actor.of(SubscriptionEnded) if e.request_id == rid]
        if not meta:
            self._meta(ON_UNSUBSCRIBE, ("on_unsubscribe", actor.session_id, sub_id))

    @precondition(lambda self: self.live)
    @rule(index=st.integers(0, 99), topic=st.sampled_from(TOPICS))
    def publish(self, index: int, topic: str) -> None:
        actor = self._pick(index)
        token = next(self.tokens)
        actor.peer.publish(topic, ["pub", token])
        self._user(topic, ("pub", token), actor)
        self.sync()

    # -- registrations and calls -------------------------------------------------------------------

    @precondition(lambda self: self.live)
    @rule(index=st.integers(0, 99), procedure=st.sampled_from(PROCEDURES))
    def toggle_registration(self, index: int, procedure: str) -> None:
        """Register ``procedure``; unregister it if this session holds it; a procedure another
        session holds is refused with ``procedure_already_exists``."""
        actor = self._pick(index)
        owner = self.registrations.get(procedure)
        if owner is not None and owner[0] is actor:
            reg_id = self.registrations.pop(procedure)[1]
            rid = actor.peer.unregister(reg_id)
            self.sync()
            assert [e for e in actor.of(RegistrationEnded) if e.request_id == rid]
            self._meta(ON_UNREGISTER, ("on_unregister", actor.session_id, reg_id))
            return
        self._register(actor, procedure)

    def _register(self, actor: Actor, procedure: str) -> None:
        owner = self.registrations.get(procedure)
        rid = actor.peer.register(procedure)
        self.sync()
        if owner is not None:
            answers = [e.error for e in actor.of(RequestError) if e.request_id == rid]
            assert answers == ["wamp.error.procedure_already_exists"]
            return
        (created,) = [e for e in actor.of(RegistrationCreated) if e.request_id == rid]
        self.registrations[procedure] = (actor, created.registration_id)
        self._meta(ON_REGISTER, ("on_register", actor.session_id, created.registration_id))

    @precondition(lambda self: self.live)
    @rule(
        index=st.integers(0, 99),
        procedure=st.sampled_from(PROCEDURES),
        callee=st.integers(0, 99),
        unregistered=st.integers(0, 3),
    )
    def call(self, index: int, procedure: str, callee: int, unregistered: int) -> None:
        """A call; a free procedure is first registered by the session ``callee`` picks,
        except one time in four (then the call gets ``no_such_procedure``)."""
        caller = self._pick(index)
        if procedure not in self.registrations and unregistered < 3:
            self._register(self._pick(callee), procedure)
        token = next(self.tokens)
        registered = self.registrations.get(procedure)
        rid = caller.peer.call(procedure, [token])
        self.sync()
        if registered is None:
            self.calls.append(_Call(caller, rid, token, None, None, "no_such_procedure"))
            return
        owner = registered[0]
        invocation = owner.invocations[token]
        self.calls.append(_Call(caller, rid, token, owner, invocation.request_id))

    def _pending(self) -> list[_Call]:
        return [c for c in self.calls if c.outcome is None]

    @precondition(lambda self: self._pending())
    @rule(which=st.integers(0, 99), fail=st.booleans())
    def answer(self, which: int, fail: bool) -> None:
        pending = self._pending()
        call = pending[which % len(pending)]
        assert call.callee is not None and call.invocation_id is not None
        if fail:
            call.callee.peer.yield_error(call.invocation_id, "com.example.failed")
        else:
            call.callee.peer.yield_result(call.invocation_id, ["done", call.token])
        call.outcome = "error" if fail else "result"
        self.sync()

    # -- testaments --------------------------------------------------------------------------------

    @precondition(lambda self: self.live)
    @rule(
        index=st.integers(0, 99),
        wills=st.lists(
            st.tuples(
                st.sampled_from(TOPICS), st.sampled_from(SCOPES), st.sampled_from(WILL_OPTIONS)
            ),
            max_size=3,
        ),
        flush=st.sampled_from(SCOPES),
    )
    def testament(
        self,
        index: int,
        wills: list[tuple[str, str | None, dict[str, list[str]] | None]],
        flush: str | None,
    ) -> None:
        """``wamp.session.add_testament`` for each of ``wills`` (topic, explicit or default
        scope, publish options), in order; none at all: ``flush_testaments`` of ``flush``
        (wamp-spec.md §4.23)."""
        actor = self._pick(index)
        kwargs: dict[str, Any]
        if not wills:
            kwargs = {} if flush is None else {"scope": flush}
            effective = flush or "destroyed"
            count = self.meta_ok(actor, "wamp.session.flush_testaments", **kwargs)
            kept = [t for t in actor.testaments if t[0] != effective]
            assert count == len(actor.testaments) - len(kept)
            actor.testaments = kept
            return
        for topic, scope, options in wills:
            token = next(self.tokens)
            kwargs = {} if scope is None else {"scope": scope}
            if options is not None:
                kwargs["publish_options"] = options
            args: tuple[Any, ...] = (topic, ["will", token], {})
            assert self.meta_ok(actor, "wamp.session.add_testament", *args, **kwargs) is None
            actor.testaments.append((scope or "destroyed", topic, token, options))

    # -- leaving -----------------------------------------------------------------------------------

    @precondition(lambda self: len(self.live) >= 3)
    @rule(
        index=st.integers(0, 99),
        how=st.sampled_from(["goodbye", "rejoin", "abort", "eof", "lost", "violation"]),
    )
    def leave(self, index: int, how: str) -> None:
        """The session ends itself: GOODBYE (then closes, or ``rejoin``s over the same
        connection or link), ABORT, or its transport goes (EOF, a lost connection, garbage
        that is a protocol violation; an embedded session closes its link for all three)."""
        actor = self._pick(index)
        client = actor.client
        if how in ("goodbye", "rejoin"):
            actor.peer.leave()
        elif how == "abort":
            actor.peer.abort()
        elif client is None:
            actor.peer.close()
        elif how == "eof":
            self.router.receive_data(client.id, b"", now=self.net.now)
        elif how == "lost":
            self.router.connection_lost(client.id)
            client.lost()
        else:
            client.peer.framing.send(GARBAGE)  # type: ignore[union-attr]
        self.sync()
        if how == "rejoin":
            (left,) = actor.of(Left)
            assert left.local
            self._depart([actor])
            actor.retired = True
            kind = "net" if client is not None else "local"
            again = Actor(f"{kind}{next(self.names)}", actor.peer, client)
            actor.peer.join()  # a new HELLO on the same transport (wamp-spec.md §3.2)
            self.sync()
            again.drain()
            assert again.session_id != actor.session_id
            self._joined(again)
            self.sync()
            return
        if how == "goodbye":
            (left,) = actor.of(Left)
            assert left.local
            actor.peer.close()  # the client closes its transport after the handshake
            self.sync()
        elif how == "violation" and client is not None:
            (aborted,) = actor.of(Aborted)
            assert aborted.reason == "wamp.error.protocol_violation"
        self._depart([actor])

    @precondition(lambda self: len(self.live) >= 3)
    @rule(
        killer=st.integers(0, 99),
        victim=st.integers(0, 99),
        how=st.sampled_from(["meta", "router", "authrole", "authid", "all"]),
        reason=st.sampled_from(KILL_REASONS),
    )
    def kill(self, killer: int, victim: int, how: str, reason: str | None) -> None:
        """``wamp.session.kill``, ``Router.kill_session``, ``kill_by_authrole``,
        ``kill_by_authid`` or (at most once per example) ``kill_all``, with the default or
        an explicit reason and a message (wamp-spec.md §4.25)."""
        actor, target = self._pick(killer), self._pick(victim)
        if how == "all" and self.kill_all_done:
            how = "meta"
        kw: dict[str, Any] = {} if reason is None else {"reason": reason, "message": "bye"}
        if how == "router":
            assert self.router.kill_session(target.session_id, **kw)
            self.sync()
            victims = [target]
        elif how == "meta":
            answer = self.meta_call(actor, "wamp.session.kill", [target.session_id], kw or None)
            if actor is target:  # one's own session is no_such_session
                assert isinstance(answer, RequestError)
                assert answer.error == "wamp.error.no_such_session"
                return
            assert isinstance(answer, CallResult), answer
            victims = [target]
        elif how == "authrole":  # the caller is never among the victims; join order
            victims = [a for a in self.live if a.authrole == target.authrole and a is not actor]
            count = self.meta_ok(actor, "wamp.session.kill_by_authrole", target.authrole, **kw)
            assert count == len(victims)
        elif how == "authid":
            victims = [a for a in self.live if a.authid == target.authid and a is not actor]
            killed = self.meta_ok(actor, "wamp.session.kill_by_authid", target.authid, **kw)
            assert killed == [a.session_id for a in victims]
        else:
            self.kill_all_done = True
            victims = [a for a in self.live if a is not actor]
            assert self.meta_ok(actor, "wamp.session.kill_all", **kw) == len(victims)
        for gone in victims:
            (left,) = gone.of(Left)
            assert not left.local, left
            assert (left.reason, left.message) == (reason or "wamp.close.killed", kw.get("message"))
        self._depart(victims, quiet=how == "all")

    # -- checks --------------------------------------------------------------------------------

    @invariant()
    def calls_end_exactly_once(self) -> None:
        for call in self.calls:
            answers = call.caller.answers[call.request_id]
            if call.outcome is None:
                assert answers == [], (call, answers)
                continue
            assert len(answers) == 1, (call, answers)
            (answer,) = answers
            if call.outcome == "result":
                assert isinstance(answer, CallResult) and answer.args == ["done", call.token]
            elif call.outcome == "any":
                pass
            else:
                assert isinstance(answer, RequestError), (call, answer)
                expected = {
                    "error": ("com.example.failed", False),
                    "canceled": ("wamp.error.canceled", False),
                    "no_such_procedure": ("wamp.error.no_such_procedure", False),
                }.get(call.outcome)
                if expected is None:
                    assert answer.local, (call, answer)
                else:
                    assert (answer.error, answer.local) == expected, (call, answer)
            if call.interrupted:
                assert call.callee is not None and call.invocation_id is not None
                interrupts = call.callee.interrupts[call.invocation_id]
                assert [(i.mode, i.local) for i in interrupts] == [("killnowait", False)], call
        open_calls = {(c.caller.session_id, c.request_id) for c in self.calls if c.outcome is None}
        router_calls = {
            (session.id, record.caller_request_id)
            for session in self.router.sessions.sessions.values()
            for record in session.open_calls()
            if not session.hidden
        }
        assert router_calls == open_calls

    @invariant()
    def meta_events_seen_exactly_once_in_order(self) -> None:
        for actor in self.actors:
            for topic in META_TOPICS:
                got = [_meta_key(p) for p in actor.publications if p.topic == topic]
                assert got == actor.meta_expected[topic], (actor, topic)

    @invariant()
    def publications_and_testaments(self) -> None:
        for actor in self.actors:
            got = [tuple(p.args or []) for p in actor.publications if p.topic in TOPICS]
            assert got == actor.user_expected, actor

    @invariant()
    def meta_api_matches_model(self) -> None:
        live = self.live
        if not live:
            return
        probe = live[0]
        assert self.meta_ok(probe, "wamp.session.count") == len(live)
        assert self.meta_ok(probe, "wamp.session.list") == [a.session_id for a in live]
        regs = self.meta_ok(probe, "wamp.registration.list")
        assert sorted(regs["exact"]) == sorted(r for _, r in self.registrations.values())
        assert regs["prefix"] == regs["wildcard"] == []
        subs = self.meta_ok(probe, "wamp.subscription.list")
        assert sorted(subs["exact"]) == sorted({s for a in live for s in a.subs.values()})
        assert subs["prefix"] == subs["wildcard"] == []
        newest = live[-1]
        details = self.meta_ok(probe, "wamp.session.get", newest.session_id)
        got = (details["session"], details["authid"], details["authrole"])
        assert got == (newest.session_id, newest.authid, newest.authrole)
        gone = [a for a in self.actors if not a.alive]
        if gone:
            answer = self.meta_call(probe, "wamp.session.get", [gone[-1].session_id])
            assert isinstance(answer, RequestError), answer
            assert answer.error == "wamp.error.no_such_session"

    @invariant()
    def router_matches_model(self) -> None:
        self.net.check()
        live = self.live
        assert self.router.session_count() == len(live)
        visible = [s.id for s in self.router.sessions.sessions.values() if not s.hidden]
        assert sorted(visible) == sorted(a.session_id for a in live)
        assert sum(s.hidden for s in self.router.sessions.sessions.values()) == 1


def _check(machine: MetaMachine) -> None:
    """Every invariant, as hypothesis runs them after each step."""
    machine.calls_end_exactly_once()
    machine.meta_events_seen_exactly_once_in_order()
    machine.publications_and_testaments()
    machine.meta_api_matches_model()
    machine.router_matches_model()


def _wills(actor: Actor) -> list[int]:
    return [p.args[1] for p in actor.publications if p.args and p.args[0] == "will"]


def test_testaments_detached_first_in_added_order_once() -> None:
    """Pinned: both scopes, two topics, a flush (wamp-spec.md §4.23), outside the model too."""
    machine = MetaMachine()
    machine.observers(("websocket", "msgpack"), ("bob", "worker"), {"com.t.two"})
    machine.turning = False
    net_observer, local_observer = machine.actors
    machine.join(None, ("alice", "trusted"))
    wills: list[tuple[str, str | None, dict[str, list[str]] | None]] = [
        ("com.t.one", None, None),
        ("com.t.one", "detached", None),
        ("com.t.two", "destroyed", None),
        ("com.t.two", "detached", None),
    ]
    machine.testament(2, wills, None)  # tokens 1..4
    _check(machine)
    machine.join(("rawsocket", "json"), ("alice", "trusted"))
    machine.testament(3, [("com.t.two", "detached", None), ("com.t.one", None, None)], None)
    machine.testament(3, [], "detached")  # flushes 5
    _check(machine)
    machine.leave(2, "goodbye")
    _check(machine)
    assert _wills(net_observer) == [2, 4, 1, 3]
    assert _wills(local_observer) == [4, 3]
    machine.kill(0, 2, "meta", None)  # the network observer kills the network client
    _check(machine)
    assert _wills(net_observer) == [2, 4, 1, 3, 6]
    assert _wills(local_observer) == [4, 3]
    machine.leave(1, "rejoin")  # the embedded observer starts a new session on its link
    _check(machine)
    machine.teardown()


def test_kill_all_ends_sessions_without_testaments_or_meta_events() -> None:
    """Pinned: ``kill_all`` spares only its caller, and publishes nothing (wamp-spec.md
    §4.23, §4.25) -- while the callers of its victims still get their answers."""
    machine = MetaMachine()
    machine.observers(("rawsocket", "json"), ("alice", "trusted"), set(META_TOPICS))
    machine.turning = False
    observer = machine.actors[0]
    machine.join(("message", "cbor"), ("alice", "trusted"))
    machine.join(None, ("bob", "worker"))
    machine.leave(2, "rejoin")  # the network client starts a new session on its transport
    _check(machine)
    assert [a.name for a in machine.live] == ["net1", "local2", "local4", "net5"]
    machine.toggle_subscription(3, "com.t.one")
    machine.toggle_registration(3, "com.p.one")
    machine.testament(3, [("com.t.one", None, None), ("com.t.one", "detached", None)], None)
    machine.testament(2, [("com.t.one", None, None)], None)
    machine.call(2, "com.p.one", 3, 0)  # pending: embedded caller, network callee
    _check(machine)
    seen = len(observer.publications)
    machine.kill(0, 0, "all", "com.example.kicked")
    _check(machine)
    assert observer.publications[seen:] == []
    assert machine.router.session_count() == 1
    machine.teardown()


def test_calls_end_once_when_callee_or_caller_goes() -> None:
    """Pinned: a killed session's callers get ``wamp.error.canceled``, the callee of its own
    call one INTERRUPT ``killnowait`` (wamp-spec.md §3.4); its testaments honour their
    black/white lists (§4.23)."""
    machine = MetaMachine()
    machine.observers(("rawsocket", "json"), ("bob", "worker"), {"com.t.one"})
    machine.turning = False
    net_observer, local_observer = machine.actors
    machine.join(("websocket", "msgpack"), ("alice", "trusted"))
    machine.join(None, ("alice", "trusted"))
    network, embedded = machine.actors[2:]
    machine.call(2, "com.p.one", 3, 0)  # token 1: network -> embedded
    machine.call(3, "com.p.two", 2, 0)  # token 2: embedded -> network
    machine.call(0, "com.p.one", 0, 0)  # token 3: network observer -> embedded
    wills: list[tuple[str, str | None, dict[str, list[str]] | None]] = [
        ("com.t.one", None, {"exclude_authrole": ["worker"]}),  # token 4
        ("com.t.one", "detached", {"eligible_authrole": ["worker"]}),  # token 5
    ]
    machine.testament(3, wills, None)
    _check(machine)
    machine.kill(0, 3, "router", None)
    _check(machine)
    to_embedded, from_embedded, observer_call = machine.calls
    for call in (to_embedded, observer_call):  # its callers: canceled by the router
        (answer,) = call.caller.answers[call.request_id]
        assert isinstance(answer, RequestError) and not answer.local
        assert answer.error == "wamp.error.canceled"
    (answer,) = embedded.answers[from_embedded.request_id]  # its own call: ended locally
    assert isinstance(answer, RequestError) and answer.local
    assert from_embedded.invocation_id is not None
    (interrupt,) = network.interrupts[from_embedded.invocation_id]
    assert (interrupt.mode, interrupt.local) == ("killnowait", False)
    assert (_wills(net_observer), _wills(local_observer)) == ([4], [5])
    machine.teardown()


MetaMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestRouterMetaStateMachine = MetaMachine.TestCase
