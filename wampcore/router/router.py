r"""``Router``, the connection layer: connections, framings, queues, budgets, deadlines -- the
adapter-facing API. Bytes in, bytes out, no I/O.

This module owns connections: network ``Peer``\ s (a framing, an outbound queue and budget) and
router-internal ``LocalPeer``\ s (a DirectLink to an in-process ClientPeer), the state table run
on each, decoding and the protocol-level flow (HELLO/WELCOME/ABORT/GOODBYE handshakes,
violations), outbound encoding and the fan-out cache, timers, and containment. What a session
*does* -- who may join, what leaving undoes, routing, the meta API -- is the realm/session layer
(:mod:`.sessions`, :mod:`.broker`, :mod:`.dealer`, :mod:`.meta`), which sees only realm members.

Adapter loop, per connection: ``peer = router.accept(framing, info, now=t)`` with a server-role
framing (RawSocket, WebSocket or identity); on each read ``router.receive_data(peer, data, now=t)``
(``b""`` at EOF); then for every peer in ``router.peers_with_output()`` write
``router.data_to_send(peer)`` (``payloads_to_send`` for a message framing) while its socket can take
more; once ``router.should_close(peer)``, write what is left, close the socket and call
``router.connection_lost(peer)``. Arm one timer for ``router.next_deadline()`` and call
``router.handle_timeout(now)`` when it fires. Drain ``router.next_event()`` for logging and metrics.
Build framings with ``max_message_size=config.limits.max_message_size``.

Routing is eager: one ``receive_data`` may queue output for thousands of peers.

**Session lifecycle.** HELLO gets WELCOME or ABORT: ``wamp.error.no_such_realm`` unless
``auto_create_realms``; ``wamp.error.invalid_uri`` for a malformed realm;
``wampcore.error.realm_full`` past ``max_sessions_per_realm``;
``wamp.error.no_matching_auth_method`` if the client offers only methods the router lacks. The join
is two steps: ``SessionLayer.decide`` (anonymous so far: authid generated, authrole/authmethod
``anonymous``, authprovider ``static``) and ``SessionLayer.admit`` (re-checks the realm) before
WELCOME is queued. After a client's GOODBYE the router answers ``wamp.close.goodbye_and_out``
and keeps the transport for a new HELLO within ``handshake_timeout``; after its own GOODBYE
(``shutdown``, ``kill_session``) it closes the transport once the reply arrives (or the same
deadline passes). Any ABORT, sent or received, closes the transport. Every protocol violation
(wamp-spec.md §3.6, as the shared state table ``wampcore._state`` and the codec judge it) gets
ABORT ``wamp.error.protocol_violation`` and the transport is closed; nothing the peer sent
afterwards is processed.

**One removal path.** GOODBYE, ABORT, EOF, a violation, a kill, an overflowing queue, a handshake or
GOODBYE deadline and ``connection_lost`` all end a session through ``_end_session``: the broker
drops its subscriptions, the dealer its registrations, callers whose callee left get ERROR
``wamp.error.canceled``, callees whose caller left get INTERRUPT ``killnowait`` (if they announced
call_canceling), every pending call is forgotten, and its testaments and the meta events follow
once the step is over (:mod:`.sessions`).

**Router-internal sessions.** ``open_local_session(realm)`` is the pure verb behind embedded
sessions: it returns a joined-or-joining :class:`~wampcore.client.ClientPeer` over a DirectLink,
with no socket. Drive it like any ClientPeer (``next_event``, verbs); its messages are routed
at once. The meta API runs on the same mechanism (one hidden service session per realm).

**Outbound budgets.** Each peer has a bounded queue of encoded messages
(``Limits.outbound_queue_bytes``); ``data_to_send`` moves them into the framing, so a peer whose
socket does not drain keeps its messages here, counted -- call it only while the socket can take
more (e.g. not while an asyncio transport has paused writing). An EVENT that does not fit is dropped
for that peer (policy "drop": counted, reported by ``EventsDropped``) or gets the peer disconnected
(policy "disconnect": ABORT ``wampcore.error.outbound_queue_full``). An INVOCATION that does not fit
is offered to the registration's next callee, else its caller gets ERROR
``wamp.error.no_available_callee``. Replies and control messages (RESULT, ERROR, SUBSCRIBED,
INTERRUPT, GOODBYE ...) may use up to twice the budget; one that does not fit even so disconnects
the peer -- they are never silently dropped. A message always fits into an empty queue, so a peer's
queue never exceeds twice the budget plus one message.

**Size and encoding.** Every outgoing message is checked against the limit of the peer's framing
before it is queued: an oversize RESULT becomes ERROR ``wamp.error.payload_size_exceeded``, an
oversize EVENT is dropped for that peer (counted), an oversize INVOCATION fails the call with the
same URI. A payload value the recipient's serializer cannot carry (a NaN for JSON, a 2^70 integer
for MessagePack) is treated alike, with ``wamp.error.invalid_argument``. An incoming payload larger
than ``Limits.max_message_size`` gets ABORT ``wamp.error.payload_size_exceeded``.

**Timeouts.** ``next_deadline`` covers handshake deadlines (a peer that connects and is not welcomed
within ``handshake_timeout`` is closed: with ABORT ``wampcore.error.handshake_timeout`` if it sent
a HELLO, silently if it sent none or stayed idle after a GOODBYE handshake, as ABORT answers only
a session being opened), GOODBYE replies and call timeouts.

**Containment.** A router bug met while handling one peer (in its input, its deadline or its
removal) drops that peer with ABORT ``wampcore.error.internal_error`` and an ``InternalError``
router event, instead of raising into the adapter. Router events nobody reads are capped at
``MAX_PENDING_EVENTS`` (the excess is counted in ``events_lost``).

**API additions** beyond the agreed contract: ``data_to_send`` / ``payloads_to_send`` take an
optional ``max_bytes`` (stop moving queued messages once that many bytes were moved);
``kill_session(session_id, reason, message)``; ``outbound_bytes(peer)``; ``config``;
``open_local_session``; ``add_lifecycle_hook``; ``realm(name)``; ``sessions`` (the realm layer).
Unknown or forgotten peer ids are tolerated: ``receive_data`` and ``connection_lost`` ignore them,
``data_to_send`` returns ``b""`` and ``should_close`` True.
"""

from __future__ import annotations

import datetime
import heapq
import itertools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._state import Disposition, SessionState, SessionTracker, Side
from ..auth.base import extra_needed
from ..client import ClientPeer
from ..config import RouterConfig
from ..errors import (
    CLOSE_GOODBYE_AND_OUT,
    CLOSE_KILLED,
    CLOSE_SYSTEM_SHUTDOWN,
    HANDSHAKE_TIMEOUT,
    INVALID_ARGUMENT,
    INVALID_URI,
    OUTBOUND_QUEUE_FULL,
    PAYLOAD_SIZE_EXCEEDED,
    PROTOCOL_VIOLATION,
    ConfigError,
    LocalProtocolError,
    MessageTooLargeError,
    RemoteProtocolError,
)
from ..ids import RandomSource, default_random
from ..messages import (
    ABORT,
    EVENT,
    Abort,
    Authenticate,
    Call,
    Challenge,
    Event,
    Goodbye,
    Hello,
    Message,
    Publish,
    Register,
    Subscribe,
    Welcome,
    from_wire,
)
from ..schema import uri_answer_positions
from ..serializers import CBORSerializer, JSONSerializer, MsgPackSerializer, Serializer
from ..transports.base import Closed, Framing, HttpRequest, Payload, Ready
from ..transports.direct import DirectLink
from ..uri import is_valid as uri_is_valid
from .authentication import Attempt, Waiting
from .authentication import Challenge as AuthChallenge
from .authentication import challenge as auth_challenge
from .authentication import deny as auth_deny
from .authentication import welcome as auth_welcome
from .authorization import AuthorizationHook, Decision
from .broker import BROKER_FEATURES
from .connection import Connection, LocalPeer, Peer
from .dealer import DEALER_FEATURES, CallRecord
from .events import (
    AuthenticateReceived,
    AuthenticationRequested,
    EventsDropped,
    HandshakeTimedOut,
    HttpRequested,
    InternalError,
    LeaveCause,
    PeerAborted,
    PeerId,
    ProtocolViolation,
    RouterEvent,
    SessionJoined,
    SessionLeft,
)
from .hooks import Lifecycle
from .member import Kind, Member, Outcome
from .metrics import Metrics, Snapshot
from .realm import Realm
from .session import Session
from .sessions import Admission, Refusal, SessionLayer

__all__ = ["ROUTER_ROLES", "Router"]

#: WELCOME.Details.roles: exactly the features the broker, dealer and meta API implement.
ROUTER_ROLES: dict[str, Any] = {
    "broker": {"features": dict(BROKER_FEATURES)},
    "dealer": {"features": dict(DEALER_FEATURES)},
}
AGENT = "wampcore"

#: Reason reported in SessionLeft when the transport went away without a WAMP goodbye.
TRANSPORT_LOST = "wamp.close.transport_lost"
#: ABORT/SessionLeft reason when a router bug ended a peer's connection (see InternalError).
INTERNAL_ERROR = "wampcore.error.internal_error"
#: Router events beyond this many unread are discarded (and counted in ``events_lost``).
MAX_PENDING_EVENTS = 100_000
#: Messages a router-internal session may leave unread before EVENTs for it are dropped.
LOCAL_QUEUE_LIMIT = 10_000
_MAX_ABORT_MESSAGE = 400
_DEFAULT_SEND_LIMIT = 16 * 1024 * 1024
#: Where the URI sits in messages whose only defect may be a malformed URI (answered with an
#: ERROR/ABORT ``wamp.error.invalid_uri`` instead of a protocol violation, wamp-spec.md §2.2).
_URI_POSITION = uri_answer_positions()
_FATAL = (Outcome.NO_ROOM, Outcome.TOO_LARGE, Outcome.UNENCODABLE)
#: States in which a HELLO awaits its answer.
_OPENING = (SessionState.ESTABLISHING, SessionState.CHALLENGING, SessionState.AUTHENTICATING)


@dataclass(frozen=True, slots=True)
class _DropNotice:
    """Placeholder in the event queue: becomes an EventsDropped with the count when read."""

    peer: Peer
    session_id: int | None
    cause: str


class Router:
    """Many connections, realms, broker and dealer; bytes in, bytes out (see module docs)."""

    def __init__(
        self,
        config: RouterConfig | None = None,
        *,
        rng: RandomSource | None = None,
        wall_clock: Callable[[], float] | None = None,
    ):
        """``wall_clock`` (seconds since the epoch, e.g. ``time.time``) dates what the meta API
        reports (``created``, history timestamps); without it they are dated by ``now``. The
        adapters' servers set it (the attribute of the same name) when it is None."""
        self.config = config if config is not None else RouterConfig()
        self.config.validate()
        _check_extras(self.config)
        limits = self.config.limits
        self._rng = rng if rng is not None else default_random()
        self.wall_clock = wall_clock
        self._budget = limits.outbound_queue_bytes
        self._ceiling = 2 * limits.outbound_queue_bytes
        self._drop_events = self.config.outbound_policy == "drop"
        self._now = 0.0
        self._peer_ids = itertools.count(1)
        self._peers: dict[PeerId, Connection] = {}
        self._events: deque[RouterEvent | _DropNotice] = deque()
        self._codec_keys: dict[tuple[str, bool], tuple[str, bool]] = {}
        self._frame_keys: dict[tuple[str, bool, object], tuple[str, bool, object]] = {}
        #: How many router events were discarded because nobody read them.
        self.events_lost = 0
        #: The counters (messages, drops, calls, auth failures); see :mod:`.metrics`.
        self.metrics = Metrics(lambda: self._now)
        self._received = self.metrics.received
        self._sent = self.metrics.sent
        self._dirty: dict[PeerId, None] = {}  # ordered set of network peers with output
        self._serializers: dict[tuple[type[Serializer], bool, int | None], Serializer] = {}
        self._heap: list[tuple[float, int, Connection | CallRecord]] = []
        self._heap_seq = itertools.count()
        self._compact_at = 1024
        self._doomed: deque[Connection] = deque()
        #: Router-internal connections whose client queued messages (or closed its link).
        self._local_output: dict[PeerId, LocalPeer] = {}
        #: Service sessions (the meta API's) that were sent something to handle.
        self._service_input: dict[PeerId, LocalPeer] = {}
        self._busy = False
        self._shutting_down = False
        #: The realm/session layer: realms, sessions, join/leave/dispatch, hooks, meta API.
        self.sessions = SessionLayer(self, self.config, self._rng, self._iso_now)
        self._run(self.sessions.start)

    # == the adapter's surface ====================================================================

    def accept(
        self,
        framing: Framing,
        transport_info: dict[str, Any] | None = None,
        *,
        now: float | None = None,
    ) -> PeerId:
        """Take over a new connection's server-role framing; returns its peer id."""
        if now is not None:
            self._now = now
        peer_id = PeerId(next(self._peer_ids))
        tracker = SessionTracker(Side.ROUTER, strict_request_ids=self.config.strict_request_ids)
        peer = Peer(peer_id, framing, dict(transport_info or {}), tracker)
        self._peers[peer_id] = peer
        self._set_deadline(peer, self._now + self.config.limits.handshake_timeout, "handshake")
        self._dirty[peer_id] = None
        self._run(self._pump, peer)
        return peer_id

    def receive_data(self, peer: PeerId, data: bytes, *, now: float | None = None) -> None:
        """Feed bytes read from ``peer`` (``b""`` = EOF). Never raises because of their content."""
        if now is not None:
            self._now = now
        p = self._peers.get(peer)
        if type(p) is not Peer or p.finished:
            return
        p.framing.receive_data(data)
        self._dirty[peer] = None
        self._run(self._pump, p)

    def data_to_send(self, peer: PeerId, max_bytes: int | None = None) -> bytes:
        """Move queued messages into the framing and return the bytes to write.

        With ``max_bytes``, stop moving once that many payload bytes were moved (at least one
        message moves; framing overhead comes on top).
        """
        p = self._peers.get(peer)
        if type(p) is not Peer:
            return b""
        self._flush(p, max_bytes)
        data = p.framing.data_to_send()
        if not p.queue:
            self._dirty.pop(peer, None)
        return data

    def payloads_to_send(self, peer: PeerId, max_bytes: int | None = None) -> list[bytes]:
        """Like ``data_to_send``, for a message-oriented (identity) framing: one entry each."""
        p = self._peers.get(peer)
        if type(p) is not Peer:
            return []
        framing: Any = p.framing
        if not getattr(framing, "message_oriented", False):
            raise LocalProtocolError("payloads_to_send is for message framings: use data_to_send")
        self._flush(p, max_bytes)
        out: list[bytes] = framing.payloads_to_send()
        if not p.queue:
            self._dirty.pop(peer, None)
        return out

    def peers_with_output(self) -> list[PeerId]:
        """Peers that may have something to write (a call to ``data_to_send`` may give b"")."""
        return list(self._dirty)

    def should_close(self, peer: PeerId) -> bool:
        """True once the connection is finished: write what is left, then close the socket."""
        p = self._peers.get(peer)
        return p is None or p.finished

    def connection_lost(self, peer: PeerId) -> None:
        """The socket is gone (idempotent): runs the session removal path, forgets the peer."""
        p = self._peers.get(peer)
        if type(p) is not Peer:
            return
        del self._peers[peer]
        self._dirty.pop(peer, None)
        self._run(self._lost, p, "connection lost")

    def http_respond(
        self,
        peer: PeerId,
        status: int,
        headers: list[tuple[str, str]] | tuple[tuple[str, str], ...] = (),
        body: bytes = b"",
    ) -> bool:
        """Answer an ``HttpRequested`` event; the connection closes after the answer (write
        ``data_to_send``, then ``should_close`` is true). False if no request of ``peer``
        awaits an answer (it is gone, or already answered). Raises ``LocalProtocolError`` for
        a malformed status or header."""
        p = self._peers.get(peer)
        if type(p) is not Peer or p.finished:
            return False
        framing: Any = p.framing
        if getattr(framing, "http_request", None) is None:
            return False
        framing.respond(status, headers, body)
        self._dirty[peer] = None
        self._run(self._pump, p)
        return True

    def metrics_snapshot(self) -> Snapshot:
        """Every counter of ``metrics``, with the current gauges (sessions per realm, bytes in
        outbound queues, connections)."""
        queued = 0
        connections = 0
        for p in self._peers.values():
            if type(p) is Peer:
                connections += 1
                queued += p.queued
        sessions = {name: self.sessions.count(name) for name in self.sessions.realms}
        return self.metrics.snapshot(
            sessions=sessions,
            outbound_queue_bytes=queued,
            connections=connections,
            events_lost=self.events_lost,
        )

    def grant_join(
        self,
        token: str,
        authrole: str,
        *,
        expires: float,
        authid: str | None = None,
    ) -> None:
        """Let one WebSocket join, within ``expires`` (a ``now`` instant), as ``authrole``:
        the one whose upgrade request's query carries ``status_grant=<token>`` (the status
        page's mechanism, docs/http.md). Single use. Raises ``LocalProtocolError`` for an
        empty token or role."""
        self.sessions.grant(token, authrole, authid, expires)

    def outbound_bytes(self, peer: PeerId) -> int:
        """Bytes queued for ``peer`` and not yet moved into its framing."""
        p = self._peers.get(peer)
        return p.queued if type(p) is Peer else 0

    def has_events(self) -> bool:
        """True if ``next_event`` may return an event (an adapter can put off draining)."""
        return bool(self._events)

    def next_event(self) -> RouterEvent | None:
        """The next application-facing event, or None."""
        while self._events:
            event = self._events.popleft()
            if not isinstance(event, _DropNotice):
                return event
            counts = event.peer.drop_counts
            count = counts.pop(event.cause, 0) if counts is not None else 0
            if count:
                return EventsDropped(
                    peer=event.peer.id,
                    session_id=event.session_id,
                    cause=event.cause,
                    count=count,
                    total=event.peer.dropped_total,
                )
        return None

    def next_deadline(self) -> float | None:
        """The earliest pending deadline (handshake, GOODBYE reply, call timeout), or None."""
        heap = self._heap
        while heap:
            when, _, target = heap[0]
            state = self._entry_state(when, target)
            if state == "due":
                return when
            heapq.heappop(heap)
            if state == "later":
                self._push(target.deadline, target)  # type: ignore[arg-type]
        return None

    def handle_timeout(self, now: float) -> None:
        """Act on every deadline at or before ``now``."""
        self._now = now
        self._run(self._timeouts, now)

    def shutdown(self, reason: str = CLOSE_SYSTEM_SHUTDOWN, message: str | None = None) -> None:
        """GOODBYE to every session; each peer then closes after its reply (or the deadline).

        Peers without a session are closed at once; HELLOs that still arrive get ABORT
        ``reason``. Raises ``LocalProtocolError`` for a malformed ``reason`` (nothing sent).
        """
        goodbye = _goodbye(reason, message)
        self._run(self._shutdown, goodbye, reason, message)

    def kill_session(
        self, session_id: int, reason: str = CLOSE_KILLED, message: str | None = None
    ) -> bool:
        """End one session with a router GOODBYE (wamp-spec.md §3.2); False if it is unknown."""
        goodbye = _goodbye(reason, message)
        session = self.sessions.sessions.get(session_id)
        if session is None or session.hidden:
            return False
        self._run(
            self._contained, session.connection, self._router_goodbye, session.connection, goodbye
        )
        return True

    @property
    def shutting_down(self) -> bool:
        """True once ``shutdown`` was called (``/health`` answers 503 from then on)."""
        return self._shutting_down

    def session_count(self, realm: str | None = None) -> int:
        """Sessions in ``realm`` (in all realms if None); the router's own are not counted."""
        return self.sessions.count(realm)

    @property
    def realms(self) -> list[str]:
        """The names of the realms that exist now."""
        return list(self.sessions.realms)

    def realm(self, name: str) -> Realm | None:
        """The realm called ``name`` (its broker, dealer and members), if it exists."""
        return self.sessions.realms.get(name)

    def add_lifecycle_hook(self, listener: Lifecycle) -> None:
        """Observe joins, leaves, registrations and subscriptions (see :mod:`.hooks`)."""
        self.sessions.hooks.add(listener)

    def open_local_session(
        self,
        realm: str,
        *,
        authid: str | None = None,
        authrole: str | None = None,
        authextra: dict[str, Any] | None = None,
        roles: dict[str, dict[str, Any]] | None = None,
    ) -> ClientPeer:
        """A router-internal session in ``realm``: a ClientPeer over a DirectLink, no socket.

        It joins at once (``Joined`` is its first event) with ``authrole`` (default: the
        realm's ``embedded_authrole``, ``trusted``), ``authmethod`` ``trusted`` and authprovider
        ``programcode``; it is listed by the meta API like any session and not counted against
        ``max_sessions_per_realm``. A realm that does not exist gives ``Aborted``
        (``wamp.error.no_such_realm``) unless ``auto_create_realms``. Drive it like any
        ClientPeer: its verbs are routed at once, ``next_event`` returns what it received, and
        ``close()`` ends it (as a lost transport would).
        """
        return self._open_local(
            realm, {"authid": authid, "authrole": authrole, "authextra": authextra}, roles
        )

    def auth_welcome(
        self,
        peer: PeerId,
        authrole: str,
        *,
        authid: str | None = None,
        authextra: dict[str, Any] | None = None,
        authprovider: str = "dynamic",
        authmethod: str | None = None,
        now: float | None = None,
    ) -> bool:
        """Answer an ``AuthenticationRequested``/``AuthenticateReceived``: admit the client as
        ``authrole``. False if the join is no longer pending (the peer left: nothing happens)."""
        return self._resolve(
            peer,
            auth_welcome(
                authrole,
                authid=authid,
                authextra=authextra,
                authprovider=authprovider,
                authmethod=authmethod,
            ),
            now,
        )

    def auth_challenge(
        self,
        peer: PeerId,
        method: str,
        extra: dict[str, Any] | None = None,
        *,
        now: float | None = None,
    ) -> bool:
        """Answer a pending join with a CHALLENGE; its AUTHENTICATE is reported as
        ``AuthenticateReceived``. False if the join is no longer pending."""
        Challenge(method=method, extra=dict(extra or {}))  # validated now, in the caller's call
        return self._resolve(peer, auth_challenge(method, extra), now)

    def auth_deny(
        self,
        peer: PeerId,
        reason: str = "wamp.error.not_authorized",
        message: str = "",
        *,
        now: float | None = None,
    ) -> bool:
        """Refuse a pending join with ABORT ``reason``. False if it is no longer pending."""
        if not uri_is_valid(reason):
            raise LocalProtocolError(f"the reason must be a URI, got {reason!r:.80}")
        return self._resolve(peer, auth_deny(reason, message), now)

    def _resolve(self, peer: PeerId, answer: Any, now: float | None) -> bool:
        if now is not None:
            self._now = now
        p = self._peers.get(peer)
        if p is None or p.finished or self.sessions.auth.pending(p) is None:
            return False
        resolved = [False]

        def act() -> None:
            outcome = self.sessions.auth.resolve(p, None, answer, self._now)
            resolved[0] = outcome is not None
            self._join_outcome(p, outcome)

        self._run(self._contained, p, act)
        return resolved[0]

    def run_step(self, action: Callable[[], object], *, now: float | None = None) -> None:
        """Run ``action`` as one router step, as input from outside any connection (the
        cluster backplane's messages): what it routes is queued at once, deferred work
        (meta events, testaments) follows when it settles. Drain output as after
        ``receive_data``."""
        if now is not None:
            self._now = now
        self._run(action)

    @property
    def now(self) -> float:
        """The router's idea of the time: the ``now`` of the latest step."""
        return self._now

    def set_authorization_hook(self, hook: AuthorizationHook | None) -> None:
        """An embedder's authorization function, consulted before every realm's static roles:
        ``hook(session_details, uri, action, options)`` returns a ``Decision``, a bool, or None
        (the roles decide). Router-internal sessions are not asked about."""
        self.sessions.set_authorization_hook(hook)

    def route_later(self, session: Session, msg: Message, verdict: Decision | None) -> None:
        """Route a message that waited for a dynamic authorizer (``verdict``: its own answer;
        None: a message that waited behind it and is judged now)."""
        conn = session.connection

        def act() -> None:
            try:
                if verdict is None:
                    self.sessions.dispatch(session, msg, self._now)
                else:
                    self.sessions.route(session, msg, self._now, verdict)
            except RemoteProtocolError as exc:
                self._violation(conn, exc.message)

        self._contained(conn, act)

    def authenticator_answered(self, conn: Connection, token: int, ok: bool, value: Any) -> None:
        """The realm's authenticator procedure answered (or failed) for a pending join."""
        if conn.finished:
            return
        if ok:
            outcome = self.sessions.auth.resolve(conn, token, value, self._now)
        else:
            uri = value if type(value) is str else "wamp.error.authentication_failed"
            outcome = self.sessions.auth.authenticator_failed(conn, token, uri, self._now)
        self._contained(conn, self._join_outcome, conn, outcome)

    def report_authentication(
        self, conn: Connection, attempt: Attempt, msg: Authenticate | None
    ) -> None:
        """A join the application decides (``auth_events``): report it as a router event."""
        authextra = attempt.hello.details.get("authextra")
        if msg is None:
            self._emit(
                AuthenticationRequested(
                    peer=conn.id,
                    realm=attempt.realm.name,
                    authid=attempt.authid,
                    authmethod=attempt.method,
                    authmethods=list(attempt.hello.details.get("authmethods") or []),
                    authextra=authextra if isinstance(authextra, dict) else {},
                    transport_info=dict(conn.transport_info),
                )
            )
        else:
            self._emit(
                AuthenticateReceived(
                    peer=conn.id,
                    realm=attempt.realm.name,
                    authid=attempt.authid,
                    authmethod=attempt.method,
                    signature=msg.signature,
                    extra=dict(msg.extra),
                )
            )

    # == what the realm layer asks of the connection layer (member.Outlet) ========================

    def deliver(self, conn: Connection, msg: Message, kind: Kind) -> Outcome:
        """Carry one message to a connection; see :class:`~.member.Kind` for the failure rules."""
        if type(conn) is Peer:
            limit = self._budget if kind is Kind.INVOKE or kind is Kind.EVENT else self._ceiling
            outcome = self._send(conn, msg, limit)
            if outcome is Outcome.SENT or outcome is Outcome.IGNORED or outcome is Outcome.GONE:
                return outcome
            if kind is Kind.REPLY:
                self._doom_for(conn, outcome)
            elif kind is Kind.RESULT and outcome is Outcome.NO_ROOM:
                self._doom_for(conn, outcome)
            elif kind is Kind.EVENT:
                if outcome is Outcome.NO_ROOM and not self._drop_events:
                    self._doom_for(conn, outcome)
                else:
                    self._dropped(conn, _DROP_CAUSE[outcome])
            return outcome
        assert isinstance(conn, LocalPeer)
        return self._send_local(conn, msg, kind)

    def fan_out(self, event: Event, recipients: list[Member]) -> int:
        # The event is encoded once per serializer (``payloads``) and framed once per
        # (serializer, framing kind) (``cache``: the frame with its payload's size, checked
        # against each peer's own limit; None when the serializer cannot carry the event).
        payloads: dict[tuple[str, bool], bytes | None] = {}
        cache: dict[tuple[str, bool, object], tuple[bytes, int] | None] = {}
        wire: list[Any] | None = None
        budget = self._budget
        dirty = self._dirty
        delivered = 0
        to_network = 0
        for member in recipients:
            p: Any = member.connection if type(member) is Session else None
            if type(p) is not Peer:
                if member.send(event, Kind.EVENT) is Outcome.SENT:
                    delivered += 1
                continue
            if p.doomed is not None or p.finished:
                continue
            if p.queued >= budget and self._drop_events:
                self._dropped(p, "outbound_queue_full")  # full: no need to encode for it
                continue
            key = p.frame_key
            if key in cache:
                entry = cache[key]
            else:
                if wire is None:
                    wire = event.to_wire()
                codec = p.codec_key
                if codec in payloads:
                    payload = payloads[codec]
                else:
                    payload = payloads[codec] = self._serialize(p, wire)
                entry = None if payload is None else self._framed(p, payload)
                cache[key] = entry
            if entry is None:
                self._dropped(p, "unencodable")
                continue
            data, payload_size = entry
            if payload_size > p.send_limit:
                self._dropped(p, "payload_size_exceeded")
                continue
            size = len(data)
            if p.queued + size > budget and p.queue:
                if self._drop_events:
                    self._dropped(p, "outbound_queue_full")
                else:
                    self._doom(
                        p,
                        LeaveCause.OUTBOUND_QUEUE_FULL,
                        OUTBOUND_QUEUE_FULL,
                        "the outbound queue is full: the peer does not read its events",
                    )
                continue
            p.queue.append(data)
            p.queued += size
            dirty[p.id] = None
            delivered += 1
            to_network += 1
        if to_network:
            self._sent[EVENT] += to_network
        return delivered

    def schedule(self, record: CallRecord) -> None:
        if record.deadline is not None:
            self._push(record.deadline, record)

    def random_index(self, n: int) -> int:
        return self._rng.randint(0, n - 1)

    def end_session(self, member: Member, reason: str, message: str | None) -> None:
        session = self.sessions.sessions.get(member.id)
        if session is not None:
            conn = session.connection
            self._contained(conn, self._router_goodbye, conn, _goodbye(reason, message))
            return
        # A session of another cluster node: its own node ends it (wampcore.router.remote).
        end_remotely: Callable[[str, str | None], None] | None = getattr(
            member, "end_remotely", None
        )
        if end_remotely is not None:
            end_remotely(reason, message)

    def open_service_session(
        self, realm: str, authid: str, service: Callable[[ClientPeer], None]
    ) -> ClientPeer:
        """A hidden router-internal session for one of the router's own services (the meta
        API): ``service(peer)`` runs whenever the session was sent something."""
        return self._open_local(
            realm,
            {"authid": authid, "authrole": "trusted", "authextra": None},
            None,
            hidden=True,
            service=service,
        )

    def report_internal_error(self, exc: BaseException) -> None:
        """A router bug outside any one connection's handling (deferred work): reported as an
        ``InternalError`` with peer 0; the router carries on."""
        self._emit(
            InternalError(peer=PeerId(0), session_id=None, message=f"{type(exc).__name__}: {exc}")
        )

    # == steps ====================================================================================

    def _run(self, action: Callable[..., object], *args: Any) -> None:
        """Run one step (an adapter call, a local session's output): act, then settle.

        A step started while another runs (a local session's verb called from a hook) only
        queues its work; the outer step settles it.
        """
        if self._busy:
            action(*args)
            return
        self._busy = True
        try:
            action(*args)
            self._settle()
        finally:
            self._busy = False

    def _settle(self) -> None:
        """Finish the step: drop doomed peers, route what local sessions sent, let services
        handle what they were sent, publish deferred meta events -- until nothing is left."""
        while True:
            if self._doomed:
                p = self._doomed.popleft()
                assert p.doomed is not None
                cause, reason, message = p.doomed
                self._contained(p, self._abort_peer, p, cause, reason, message)
            elif self._local_output:
                lp = self._local_output.pop(next(iter(self._local_output)))
                self._drain_local(lp)
            elif self._service_input:
                lp = self._service_input.pop(next(iter(self._service_input)))
                if not lp.finished and lp.service is not None and lp.client is not None:
                    self._contained(lp, lp.service, lp.client)
            elif not self.sessions.run_deferred():
                return

    def _timeouts(self, now: float) -> None:
        heap = self._heap
        while heap and heap[0][0] <= now:
            when, _, target = heapq.heappop(heap)
            state = self._entry_state(when, target)
            if state == "later":
                self._push(target.deadline, target)  # type: ignore[arg-type]
            elif state == "due":
                if isinstance(target, Connection):
                    self._contained(target, self._on_peer_deadline, target)
                elif target.dealer is not None:
                    self._contained(_connection_of(target.caller), target.dealer.timeout, target)
                self._settle()

    def _shutdown(self, goodbye: Goodbye, reason: str, message: str | None) -> None:
        self._shutting_down = True
        for p in list(self._peers.values()):
            if p.finished:
                continue
            if p.session is not None:
                self._contained(p, self._router_goodbye, p, goodbye)
            else:
                if p.tracker.state is not SessionState.CLOSED:
                    self._queue_abort(p, reason, message or "the router is shutting down")
                self._finish(p)

    def _lost(self, p: Connection, text: str) -> None:
        self.sessions.auth.abandon(p)
        if not p.finished:
            self._contained(
                p, self._end_session, p, LeaveCause.TRANSPORT_LOST, TRANSPORT_LOST, text
            )
        p.finished = True
        p.deadline = None
        if type(p) is Peer:
            p.queue.clear()
            p.queued = 0

    # == router-internal connections ==============================================================

    def _open_local(
        self,
        realm: str,
        identity: dict[str, Any],
        roles: dict[str, dict[str, Any]] | None,
        *,
        hidden: bool = False,
        service: Callable[[ClientPeer], None] | None = None,
    ) -> ClientPeer:
        link = DirectLink()
        peer_id = PeerId(next(self._peer_ids))
        tracker = SessionTracker(Side.ROUTER)
        lp = LocalPeer(
            peer_id,
            link,
            {"type": "local", "protocol": "direct"},
            tracker,
            identity=identity,
            hidden=hidden,
            service=service,
        )
        self._peers[peer_id] = lp

        def output() -> None:
            self._local_output[peer_id] = lp
            if not self._busy:
                self._run(lambda: None)

        link.on_client_output = output
        # The HELLO is queued at construction; it is routed when the step settles (at once, if
        # no step is running).
        lp.client = ClientPeer(realm, link, roles=roles, agent=AGENT, strict_request_ids=True)
        if lp.service is not None and link.to_client:
            # Routed at once (no step was running) before the client existed: serve it now.
            self._service_input[peer_id] = lp
            if not self._busy:
                self._run(lambda: None)
        return lp.client

    def _drain_local(self, lp: LocalPeer) -> None:
        link = lp.link
        while not lp.finished:
            msg = link.router_receive()
            if msg is None:
                break
            try:
                self._on_message(lp, msg, None)
            except RemoteProtocolError as exc:
                self._violation(lp, exc.message)
            except Exception as exc:  # a router bug: contain it to this session
                self._internal_error(lp, exc)
        if link.closed and not lp.finished:
            self._peers.pop(lp.id, None)
            self._lost(lp, "the local session closed its link")

    def _send_local(self, lp: LocalPeer, msg: Message, kind: Kind) -> Outcome:
        if lp.finished or lp.doomed is not None or lp.link.closed:
            return Outcome.GONE
        if kind is Kind.EVENT and len(lp.link.to_client) >= LOCAL_QUEUE_LIMIT:
            return Outcome.NO_ROOM  # an embedded session that does not read loses EVENTs
        if lp.tracker.send(msg) is Disposition.IGNORE:
            return Outcome.IGNORED
        lp.link.router_send(msg)
        if lp.service is not None:
            self._service_input[lp.id] = lp
        return Outcome.SENT

    # == input ====================================================================================

    def _pump(self, p: Peer) -> None:
        framing = p.framing
        while not p.finished:
            try:
                event = framing.next_event()
            except Exception as exc:  # a framing bug: contain it to this peer
                self._internal_error(p, exc)
                return
            if event is None:
                return
            if isinstance(event, Payload):
                self._on_payload(p, event.data)
            elif isinstance(event, Ready):
                self._on_ready(p, event)
            elif isinstance(event, Closed):
                self._on_closed(p, event)
            elif isinstance(event, HttpRequest):
                self._emit(HttpRequested(peer=p.id, request=event))

    def _on_ready(self, p: Peer, event: Ready) -> None:
        serializer = self._own_serializer(event.serializer)
        p.serializer = serializer
        kind = getattr(p.framing, "frame_kind", None)
        # One instance of each key for all peers (an idle peer should cost little).
        codec_key = (serializer.name, serializer.batched)
        p.codec_key = self._codec_keys.setdefault(codec_key, codec_key)
        frame_key = (serializer.name, serializer.batched, kind)
        p.frame_key = self._frame_keys.setdefault(frame_key, frame_key)
        p.framed = kind is not None
        p.send_limit = _send_limit(p.framing)
        p.request = event.request
        p.transport_info.setdefault("serializer", serializer.name)

    def _on_closed(self, p: Peer, event: Closed) -> None:
        # The framing already queued whatever its protocol prescribes; no ABORT can follow.
        p.queue.clear()
        p.queued = 0
        if event.error is not None:
            text = event.error.message
            session_id = p.session.id if p.session is not None else None
            self._end_session(p, LeaveCause.PROTOCOL_VIOLATION, PROTOCOL_VIOLATION, text)
            self._emit(ProtocolViolation(peer=p.id, session_id=session_id, message=text))
        else:
            self._end_session(p, LeaveCause.TRANSPORT_LOST, TRANSPORT_LOST, event.reason)
        self._finish(p)

    def _on_payload(self, p: Peer, data: bytes) -> None:
        limit = self.config.limits.max_message_size
        if len(data) > limit:
            self._abort_peer(
                p,
                LeaveCause.PROTOCOL_VIOLATION,
                PAYLOAD_SIZE_EXCEEDED,
                f"a message of {len(data)} bytes exceeds the limit of {limit}",
            )
            return
        try:
            wires = p.serializer.decode(data)
        except RemoteProtocolError as exc:
            self._violation(p, exc.message)
            return
        except Exception as exc:  # the serializer's contract is RemoteProtocolError; be safe
            self._violation(p, f"undecodable payload: {type(exc).__name__}: {exc}")
            return
        for wire in wires:
            if p.finished or p.doomed is not None:
                return  # nothing after a violation is processed (wamp-spec.md §3.6)
            try:
                self._on_wire(p, wire)
            except RemoteProtocolError as exc:
                self._violation(p, exc.message)
            except Exception as exc:  # a router bug: contain it to this peer
                self._internal_error(p, exc)

    def _on_wire(self, p: Peer, wire: Any) -> None:
        uri_error: str | None = None
        try:
            msg = from_wire(wire)
        except RemoteProtocolError:
            recovered = _recover_bad_uri(wire)
            if recovered is None:
                raise
            msg, uri_error = recovered
        self._received[msg.TYPE] += 1
        self._on_message(p, msg, uri_error)

    def _on_message(self, p: Connection, msg: Message, uri_error: str | None) -> None:
        """One decoded message from a connection: the state table, then the handshakes or the
        realm layer's dispatch."""
        if isinstance(msg, Abort):
            self._peer_aborted(p, msg)  # never answered, in any state (wamp-spec.md §3.2)
            return
        if uri_error is None and self.config.strict_uris:
            uri_error = _strict_uri_error(msg)
        if p.tracker.receive(msg) is Disposition.IGNORE:
            return
        if uri_error is not None:
            self._refuse_uri(p, msg, uri_error)
            return
        if isinstance(msg, Hello):
            self._on_hello(p, msg)
            return
        if isinstance(msg, Goodbye):
            self._on_goodbye(p, msg)
            return
        if isinstance(msg, Authenticate):
            self._on_authenticate(p, msg)
            return
        session = p.session
        if session is None:  # the state table admits session messages only in a session
            raise RemoteProtocolError(f"{msg.NAME} outside a session")
        self.sessions.dispatch(session, msg, self._now)

    def _refuse_uri(self, p: Connection, msg: Message, text: str) -> None:
        if isinstance(msg, Hello):
            self._refuse_join(p, INVALID_URI, text)
            return
        session = p.session
        if session is None:
            raise RemoteProtocolError(text)
        broker, dealer = session.realm.broker, session.realm.dealer
        if isinstance(msg, Publish | Subscribe):
            broker.refuse(session, msg, INVALID_URI, text)
        elif isinstance(msg, Register):
            dealer.refuse(session, msg, INVALID_URI, text)
        elif isinstance(msg, Call):
            if session.call_record(msg.request_id) is not None:
                # A continuation must name its call's procedure.
                raise RemoteProtocolError(f"progressive CALL continuation: {text}")
            dealer.refuse(session, msg, INVALID_URI, text)
        else:
            raise RemoteProtocolError(text)

    # == joining and leaving (the protocol side; the decisions are the realm layer's) =============

    def _on_hello(self, p: Connection, msg: Hello) -> None:
        if self._shutting_down:
            self._refuse_join(p, CLOSE_SYSTEM_SHUTDOWN, "the router is shutting down")
            return
        self._join_outcome(p, self.sessions.decide(p, msg, self._now))

    def _on_authenticate(self, p: Connection, msg: Authenticate) -> None:
        # The state table admits AUTHENTICATE only in CHALLENGING (after our CHALLENGE).
        self._join_outcome(p, self.sessions.authenticate(p, msg, self._now))

    def _join_outcome(
        self, p: Connection, outcome: Admission | Refusal | AuthChallenge | Waiting | None
    ) -> None:
        """Act on a join decision: WELCOME, ABORT (maybe after a delay), CHALLENGE, or wait."""
        if outcome is None or p.finished or p.doomed is not None:
            return
        if isinstance(outcome, Refusal):
            if outcome.delay > 0:
                # A repeated failure from this address: the ABORT waits (wampcore.router.
                # authentication); meanwhile the state table lets the client send only ABORT.
                p.refusal = outcome
                self._set_deadline(p, self._now + outcome.delay, "auth_delay")
            else:
                self._refuse_join(p, outcome.reason, outcome.message)
        elif isinstance(outcome, AuthChallenge):
            sent = self._send_any(p, Challenge(method=outcome.method, extra=outcome.extra))
            if sent is not Outcome.SENT:
                self._doom_for(p, sent)
        elif isinstance(outcome, Admission):
            self._welcome(p, outcome)

    def _welcome(self, p: Connection, decision: Admission) -> None:
        session_id = decision.session_id
        if session_id is None:
            session_id = self.sessions.new_session_id()
        session = self.sessions.admit(p, decision, session_id, self._now)
        if isinstance(session, Refusal):
            self._refuse_join(p, session.reason, session.message)
            return
        details: dict[str, Any] = {
            "realm": decision.realm.name,
            "authid": decision.authid,
            "authrole": decision.authrole,
            "authmethod": decision.authmethod,
            "authprovider": decision.authprovider,
            "roles": ROUTER_ROLES,
            "agent": AGENT,
        }
        if decision.authextra:
            details["authextra"] = decision.authextra
        outcome = self.deliver(p, Welcome(session_id=session_id, details=details), Kind.REPLY)
        if outcome is not Outcome.SENT:
            self.sessions.discard(session)
            return
        p.session = session
        p.deadline = None
        self.sessions.joined(session)
        if not session.hidden:
            self._emit(
                SessionJoined(
                    peer=p.id,
                    session_id=session_id,
                    realm=session.realm.name,
                    authid=session.authid,
                    authrole=session.authrole,
                    authmethod=session.authmethod,
                    authprovider=session.authprovider,
                    transport_info=p.transport_info,
                )
            )

    def _refuse_join(self, p: Connection, reason: str, message: str) -> None:
        self._queue_abort(p, reason, message)
        self._emit(
            PeerAborted(peer=p.id, session_id=None, reason=reason, message=message, by_peer=False)
        )
        self._finish(p)

    def _on_goodbye(self, p: Connection, msg: Goodbye) -> None:
        if p.goodbye_sent:
            # The reply to the router's own GOODBYE: the session is already gone.
            p.goodbye_sent = False
            p.deadline = None
            p.tracker.take_orphans()
            self._finish(p)
            return
        # The removal path first, while the state table still holds the session's calls.
        self._end_session(
            p, LeaveCause.GOODBYE, msg.reason, msg.details.get("message", ""), reset=False
        )
        self._send_any(p, Goodbye(reason=CLOSE_GOODBYE_AND_OUT))
        p.tracker.take_orphans()
        # The transport may carry a new session; one that stays idle is closed like a new one.
        self._set_deadline(p, self._now + self.config.limits.handshake_timeout, "handshake")

    def _router_goodbye(self, p: Connection, goodbye: Goodbye) -> None:
        if p.finished or p.doomed is not None or p.session is None:
            return
        outcome = self._send_any(p, goodbye)
        if outcome is not Outcome.SENT:
            self._doom_for(p, outcome)
            return
        p.goodbye_sent = True
        self._end_session(
            p,
            LeaveCause.ROUTER_GOODBYE,
            goodbye.reason,
            goodbye.details.get("message", ""),
            reset=False,
        )
        self._set_deadline(p, self._now + self.config.limits.handshake_timeout, "goodbye")

    def _peer_aborted(self, p: Connection, msg: Abort) -> None:
        message = msg.details.get("message", "")
        session_id = p.session.id if p.session is not None else None
        self._end_session(p, LeaveCause.ABORT, msg.reason, message)
        self._emit(
            PeerAborted(
                peer=p.id, session_id=session_id, reason=msg.reason, message=message, by_peer=True
            )
        )
        self._finish(p)

    def _violation(self, p: Connection, text: str) -> None:
        session_id = p.session.id if p.session is not None else None
        self._end_session(p, LeaveCause.PROTOCOL_VIOLATION, PROTOCOL_VIOLATION, text)
        self._queue_abort(p, PROTOCOL_VIOLATION, text)
        self._emit(ProtocolViolation(peer=p.id, session_id=session_id, message=text))
        self._finish(p)

    def _abort_peer(self, p: Connection, cause: LeaveCause, reason: str, message: str) -> None:
        """Drop a peer with ABORT ``reason`` (not a protocol violation)."""
        if p.finished:
            return
        session_id = p.session.id if p.session is not None else None
        if type(p) is Peer:
            p.queue.clear()  # it would not (or could not) take them anyway
            p.queued = 0
        self._end_session(p, cause, reason, message)
        self._queue_abort(p, reason, message)
        self._emit(
            PeerAborted(
                peer=p.id, session_id=session_id, reason=reason, message=message, by_peer=False
            )
        )
        self._finish(p)

    def _internal_error(self, p: Connection, exc: BaseException) -> None:
        text = f"{type(exc).__name__}: {exc}"
        session_id = p.session.id if p.session is not None else None
        self._emit(InternalError(peer=p.id, session_id=session_id, message=text))
        try:
            if type(p) is Peer:
                p.queue.clear()
                p.queued = 0
            self._end_session(p, LeaveCause.INTERNAL_ERROR, INTERNAL_ERROR, text)
        except Exception:  # the session's state is suspect; the peer goes regardless
            pass
        finally:
            self._queue_abort(p, INTERNAL_ERROR, "internal router error")
            self._finish(p)

    def _contained(self, p: Connection | None, action: Callable[..., object], *args: Any) -> None:
        """Run ``action``; a router bug in it drops ``p`` (only) instead of escaping."""
        try:
            action(*args)
        except Exception as exc:
            if p is None:
                raise
            self._internal_error(p, exc)

    def _end_session(
        self, p: Connection, cause: LeaveCause, reason: str, message: str, *, reset: bool = True
    ) -> None:
        """THE removal path: every way a session ends comes through here exactly once.

        ``reset=False`` keeps the state table's session (a GOODBYE handshake is under way and
        closes it); otherwise it is reset once the realm layer has undone the session.
        """
        session = p.session
        p.session = None
        if session is not None and not session.gone:
            self.sessions.leave(session, reason)
            if not session.hidden:
                self._emit(
                    SessionLeft(
                        peer=p.id,
                        session_id=session.id,
                        realm=session.realm.name,
                        authid=session.authid,
                        authrole=session.authrole,
                        cause=cause,
                        reason=reason,
                        message=message,
                    )
                )
        if reset:
            p.tracker.reset()
            p.tracker.take_orphans()

    # == deferred drops ===========================================================================

    def _doom(self, p: Connection, cause: LeaveCause, reason: str, message: str) -> None:
        """Drop ``p`` once the current step is done (the broker/dealer may be mid-operation)."""
        if p.finished or p.doomed is not None:
            return
        p.doomed = (cause, reason, message)
        self._doomed.append(p)

    def _doom_for(self, p: Connection, outcome: Outcome) -> None:
        if outcome is Outcome.NO_ROOM:
            self._doom(
                p,
                LeaveCause.OUTBOUND_QUEUE_FULL,
                OUTBOUND_QUEUE_FULL,
                "the outbound queue is full: the peer does not read its messages",
            )
        elif outcome is Outcome.TOO_LARGE:
            self._doom(
                p,
                LeaveCause.PROTOCOL_VIOLATION,
                PAYLOAD_SIZE_EXCEEDED,
                "a reply is larger than the peer's transport accepts",
            )
        elif outcome is Outcome.UNENCODABLE:
            self._doom(
                p,
                LeaveCause.PROTOCOL_VIOLATION,
                INVALID_ARGUMENT,
                "a reply holds a value the peer's serializer cannot carry",
            )

    # == output ===================================================================================

    def _send_any(self, p: Connection, msg: Message) -> Outcome:
        """A control message (WELCOME, GOODBYE) to any kind of connection, budget ceiling."""
        if type(p) is Peer:
            return self._send(p, msg, self._ceiling)
        assert isinstance(p, LocalPeer)
        return self._send_local(p, msg, Kind.REPLY)

    def _send(self, p: Peer, msg: Message, limit: int) -> Outcome:
        """Encode, check size and budget, record in the state table, queue."""
        if p.finished or p.doomed is not None:
            return Outcome.GONE
        entry = self._encode(p, msg.to_wire())
        if entry is None:
            return Outcome.UNENCODABLE
        data, payload_size = entry
        if payload_size > p.send_limit:
            return Outcome.TOO_LARGE
        size = len(data)
        if p.queue and p.queued + size > limit:
            return Outcome.NO_ROOM
        if p.tracker.send(msg) is Disposition.IGNORE:
            return Outcome.IGNORED
        p.queue.append(data)
        p.queued += size
        self._dirty[p.id] = None
        self._sent[msg.TYPE] += 1
        return Outcome.SENT

    def _queue_abort(self, p: Connection, reason: str, message: str | None) -> None:
        """Queue an ABORT if the transport can still carry one; it bypasses the budget and the
        state table (which the removal path resets)."""
        if p.finished:
            return
        details = {"message": message[:_MAX_ABORT_MESSAGE]} if message else {}
        abort = Abort(details=details, reason=reason)
        if type(p) is not Peer:
            assert isinstance(p, LocalPeer)
            if not p.link.closed:
                p.link.router_send(abort)
            return
        if p.serializer is None or p.framing.closed:
            return
        entry = self._encode(p, abort.to_wire())
        if entry is not None and entry[1] <= p.send_limit:
            data = entry[0]
            p.queue.append(data)
            p.queued += len(data)
            self._dirty[p.id] = None
            self._sent[ABORT] += 1

    def _flush(self, p: Peer, max_bytes: int | None = None) -> None:
        """Move queued messages into the framing."""
        queue = p.queue
        if not queue:
            return
        count = len(queue)
        if max_bytes is None:
            moved = p.queued
        else:
            moved = 0
            for i, data in enumerate(queue):
                if i and moved + len(data) > max_bytes:
                    count = i
                    break
                moved += len(data)
        items = queue if count == len(queue) else queue[:count]
        framing: Any = p.framing
        try:
            if p.framed:
                framing.send_framed(items)
            else:
                for data in items:
                    framing.send(data)
        except LocalProtocolError:  # the framing closed under us: nothing more can go
            queue.clear()
            p.queued = 0
            return
        if count == len(queue):
            queue.clear()
            p.queued = 0
        else:
            del queue[:count]
            p.queued -= moved

    def _encode(self, p: Peer, wire: list[Any]) -> tuple[bytes, int] | None:
        """What ``p`` would be sent for one message: its frame (``p.framed``) or its payload,
        with the payload's size; None if the peer's serializer cannot carry a value in it."""
        payload = self._serialize(p, wire)
        return None if payload is None else self._framed(p, payload)

    @staticmethod
    def _serialize(p: Peer, wire: list[Any]) -> bytes | None:
        try:
            return p.serializer.encode(wire)  # type: ignore[no-any-return]
        except Exception:  # a value this serializer cannot carry; see module docs
            return None

    @staticmethod
    def _framed(p: Peer, payload: bytes) -> tuple[bytes, int] | None:
        size = len(payload)
        if not p.framed:
            return payload, size
        try:
            return p.framing.frame(payload), size  # type: ignore[attr-defined]
        except MessageTooLargeError:
            return b"", size  # beyond what the framing can carry at all: above every limit
        except LocalProtocolError:  # e.g. JSON that is not UTF-8: not for a text frame
            return None

    def _own_serializer(self, serializer: Serializer) -> Serializer:
        """This router's instance of a framing's negotiated serializer: every encoding for the
        router's peers goes through the router's own encoders (it is driven by one thread), so
        server framings may share theirs (see ``wampcore.transports``)."""
        cls = type(serializer)
        if cls not in _STANDARD_SERIALIZERS:
            return serializer
        key = (cls, serializer.batched, serializer.max_size)
        own = self._serializers.get(key)
        if own is None:
            own = cls(batched=serializer.batched, max_size=serializer.max_size)
            self._serializers[key] = own
        return own

    def _finish(self, p: Connection) -> None:
        """The connection is over: flush what is queued, close the framing (should_close)."""
        if p.finished:
            return
        self.sessions.auth.abandon(p)
        if type(p) is not Peer:
            assert isinstance(p, LocalPeer)
            p.finished = True
            p.deadline = None
            p.link.router_close()
            self._peers.pop(p.id, None)  # no adapter will call connection_lost for it
            return
        self._flush(p)
        p.finished = True
        p.deadline = None
        p.queue.clear()
        p.queued = 0
        try:
            p.framing.close()
        except Exception:  # closing is best effort; should_close is what the adapter acts on
            pass
        self._dirty[p.id] = None

    def _dropped(self, p: Connection, cause: str) -> None:
        if type(p) is not Peer:
            return
        if p.session is not None:
            self.metrics.event_dropped(p.session.realm.name)
        p.dropped_total += 1
        counts = p.drop_counts
        if counts is None:
            counts = p.drop_counts = {}
        pending = counts.get(cause, 0)
        counts[cause] = pending + 1
        if not pending:
            session_id = p.session.id if p.session is not None else None
            self._emit(_DropNotice(p, session_id, cause))

    def _emit(self, event: RouterEvent | _DropNotice) -> None:
        if len(self._events) >= MAX_PENDING_EVENTS:
            self.events_lost += 1
            if isinstance(event, _DropNotice) and event.peer.drop_counts is not None:
                event.peer.drop_counts.pop(event.cause, None)
            return
        self._events.append(event)

    # == deadlines ================================================================================

    def _set_deadline(self, p: Connection, when: float, stage: str) -> None:
        p.deadline = when
        p.deadline_stage = stage
        self._push(when, p)

    def _push(self, when: float, target: Connection | CallRecord) -> None:
        heapq.heappush(self._heap, (when, next(self._heap_seq), target))
        if len(self._heap) > self._compact_at:
            # Settled calls and met deadlines leave their entries behind; sweep them out so
            # the heap stays proportional to what is actually pending.
            self._heap = [e for e in self._heap if self._entry_state(e[0], e[2]) != "stale"]
            heapq.heapify(self._heap)
            self._compact_at = max(1024, 2 * len(self._heap))

    def _entry_state(self, when: float, target: Connection | CallRecord) -> str:
        if isinstance(target, Connection):
            if target.finished or target.deadline != when or target.id not in self._peers:
                return "stale"
            return "due"
        if target.done or target.deadline is None:
            return "stale"
        return "later" if target.deadline > when else "due"

    def _on_peer_deadline(self, p: Connection) -> None:
        stage = p.deadline_stage
        p.deadline = None
        if stage == "auth_delay" and p.refusal is not None:
            refusal, p.refusal = p.refusal, None
            self._refuse_join(p, refusal.reason, refusal.message)
            return
        self._emit(HandshakeTimedOut(peer=p.id, stage=stage))
        if stage == "handshake" and p.tracker.state in _OPENING:
            # A session being opened is refused with ABORT; a transport that carries none (no
            # HELLO yet, or idle after a GOODBYE handshake) is just closed: ABORT answers only
            # an opening (wamp-spec.md §3.2), and a client without a session may take nothing.
            limit = self.config.limits.handshake_timeout
            self._queue_abort(p, HANDSHAKE_TIMEOUT, f"no session was established within {limit} s")
        p.goodbye_sent = False
        self._end_session(p, LeaveCause.TRANSPORT_LOST, TRANSPORT_LOST, f"{stage} deadline passed")
        self._finish(p)

    # == helpers ==================================================================================

    def _iso_now(self) -> str:
        """The current time as the meta API writes it (ISO 8601, UTC, milliseconds)."""
        when = self.wall_clock() if self.wall_clock is not None else self._now
        return _iso8601(when)


_STANDARD_SERIALIZERS = (JSONSerializer, MsgPackSerializer, CBORSerializer)

_DROP_CAUSE = {
    Outcome.NO_ROOM: "outbound_queue_full",
    Outcome.TOO_LARGE: "payload_size_exceeded",
    Outcome.UNENCODABLE: "unencodable",
}


def _connection_of(member: Member) -> Connection | None:
    return member.connection if type(member) is Session else None


def _iso8601(seconds: float) -> str:
    """Seconds since the epoch as ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (a conversion; no clock read)."""
    when = datetime.datetime.fromtimestamp(seconds, datetime.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _check_extras(config: RouterConfig) -> None:
    """A configured method whose optional dependency is missing fails now, in one line."""
    for i, realm in enumerate(config.realms):
        for method in realm.effective_auth_methods:
            extra = extra_needed(method)
            if extra is not None:
                raise ConfigError(
                    f"realms[{i}].auth_methods",
                    f"{method} needs optional dependencies: pip install '{extra}'",
                )


def _goodbye(reason: str, message: str | None) -> Goodbye:
    return Goodbye(details={"message": message} if message else {}, reason=reason)


def _send_limit(framing: Any) -> int:
    """The largest payload the framing carries to its peer."""
    for name in ("peer_max_message_size", "max_message_size"):
        limit = getattr(framing, name, None)
        if isinstance(limit, int) and limit > 0:
            return limit
    return _DEFAULT_SEND_LIMIT


def _recover_bad_uri(wire: Any) -> tuple[Message, str] | None:
    """If a URI is a message's only defect, the message with a stand-in URI and the complaint."""
    if type(wire) is not list or len(wire) < 2:
        return None
    position = _URI_POSITION.get(wire[0]) if type(wire[0]) is int else None
    if position is None or len(wire) <= position or type(wire[position]) is not str:
        return None
    patched = list(wire)
    patched[position] = "x"
    try:
        msg = from_wire(patched)
    except RemoteProtocolError:
        return None
    return msg, f"{msg.NAME} carries an invalid URI: {wire[position]!r:.120}"


def _strict_uri_error(msg: Message) -> str | None:
    """With ``strict_uris``: the complaint about a loose-but-not-strict URI, or None."""
    for name in msg.URI_FIELDS:
        if name not in ("realm", "topic", "procedure"):
            continue  # error and close reasons come from peers' code, not routing decisions
        value = getattr(msg, name)
        options = getattr(msg, "options", None)
        allow_empty = (
            isinstance(msg, Subscribe | Register)
            and isinstance(options, dict)
            and options.get("match") in ("prefix", "wildcard")
        )
        if not uri_is_valid(value, strict=True, allow_empty=allow_empty):
            return f"{msg.NAME} carries a URI that is not strict: {value!r:.120}"
    return None
