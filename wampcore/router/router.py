"""``Router``: many peers, realms, broker and dealer -- bytes in, bytes out, no I/O.

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
``wamp.error.no_matching_auth_method`` if the client offers only methods the router lacks. A join is
anonymous (authid generated, authrole/authmethod ``anonymous``, authprovider ``static``);
``_join_decision`` is the one place the authentication issue extends. After a client's GOODBYE the
router answers ``wamp.close.goodbye_and_out`` and keeps the transport for a new HELLO within
``handshake_timeout``; after its own GOODBYE (``shutdown``, ``kill_session``) it closes the
transport once the reply arrives (or the same deadline passes). Any ABORT, sent or received, closes
the transport. Every protocol violation (wamp-spec.md §3.6, as the shared state table
``wampcore._state`` and the codec judge it) gets ABORT ``wamp.error.protocol_violation`` and the
transport is closed; nothing the peer sent afterwards is processed.

**One removal path.** GOODBYE, ABORT, EOF, a violation, a kill, an overflowing queue, a handshake or
GOODBYE deadline and ``connection_lost`` all end a session through ``_end_session``: the broker
drops its subscriptions, the dealer its registrations, callers whose callee left get ERROR
``wamp.error.canceled``, callees whose caller left get INTERRUPT ``killnowait`` (if they announced
call_canceling), and every pending call is forgotten.

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
within ``handshake_timeout`` is closed, with ABORT ``wampcore.error.handshake_timeout`` if its
transport is ready), GOODBYE replies and call timeouts.

**Containment.** A router bug met while handling one peer (in its input, its deadline or its
removal) drops that peer with ABORT ``wampcore.error.internal_error`` and an ``InternalError``
router event, instead of raising into the adapter. Router events nobody reads are capped at
``MAX_PENDING_EVENTS`` (the excess is counted in ``events_lost``).

**API additions** beyond the agreed contract: ``data_to_send`` / ``payloads_to_send`` take an
optional ``max_bytes`` (stop moving queued messages once that many bytes were moved);
``kill_session(session_id, reason, message)``; ``outbound_bytes(peer)``; ``config``. Unknown or
forgotten peer ids are tolerated: ``receive_data`` and ``connection_lost`` ignore them,
``data_to_send`` returns ``b""`` and ``should_close`` True.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._state import Disposition, SessionState, SessionTracker, Side
from ..config import RealmConfig, RouterConfig
from ..errors import (
    CLOSE_GOODBYE_AND_OUT,
    CLOSE_KILLED,
    CLOSE_SYSTEM_SHUTDOWN,
    HANDSHAKE_TIMEOUT,
    INVALID_ARGUMENT,
    INVALID_URI,
    NO_MATCHING_AUTH_METHOD,
    NO_SUCH_REALM,
    OUTBOUND_QUEUE_FULL,
    PAYLOAD_SIZE_EXCEEDED,
    PROTOCOL_VIOLATION,
    REALM_FULL,
    LocalProtocolError,
    RemoteProtocolError,
)
from ..ids import RandomSource, default_random, global_id
from ..messages import (
    CALL,
    CANCEL,
    ERROR,
    EVENT_RECEIVED,
    GOODBYE,
    HELLO,
    PUBLISH,
    REGISTER,
    SUBSCRIBE,
    UNREGISTER,
    UNSUBSCRIBE,
    YIELD,
    Abort,
    Call,
    Error,
    Event,
    Goodbye,
    Hello,
    Interrupt,
    Invocation,
    Message,
    Publish,
    Register,
    Result,
    Subscribe,
    Welcome,
    from_wire,
)
from ..transports.base import Closed, Framing, Payload, Ready
from ..uri import is_valid as uri_is_valid
from .broker import BROKER_FEATURES
from .dealer import DEALER_FEATURES, CallRecord
from .events import (
    EventsDropped,
    HandshakeTimedOut,
    InternalError,
    LeaveCause,
    PeerAborted,
    PeerId,
    ProtocolViolation,
    RouterEvent,
    SessionJoined,
    SessionLeft,
)
from .realm import Realm
from .session import Outcome, Peer, Session

__all__ = ["ROUTER_ROLES", "Router"]

#: WELCOME.Details.roles: exactly the features the broker and dealer implement.
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
_MAX_ABORT_MESSAGE = 400
_DEFAULT_SEND_LIMIT = 16 * 1024 * 1024
#: Where the URI sits in messages whose only defect may be a malformed URI (answered with an
#: ERROR/ABORT ``wamp.error.invalid_uri`` instead of a protocol violation, wamp-spec.md §2.2).
_URI_POSITION = {HELLO: 1, PUBLISH: 3, SUBSCRIBE: 3, CALL: 3, REGISTER: 3}
_AUTHID_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True, slots=True)
class _Admit:
    authid: str
    authrole: str
    authmethod: str
    authprovider: str
    authextra: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class _Refuse:
    reason: str
    message: str


@dataclass(frozen=True, slots=True)
class _DropNotice:
    """Placeholder in the event queue: becomes an EventsDropped with the count when read."""

    peer: Peer
    session_id: int | None
    cause: str


class Router:
    """Many peers, realms, broker and dealer; bytes in, bytes out, no I/O (see module docs)."""

    def __init__(self, config: RouterConfig | None = None, *, rng: RandomSource | None = None):
        self.config = config if config is not None else RouterConfig()
        self.config.validate()
        limits = self.config.limits
        self._rng = rng if rng is not None else default_random()
        self._budget = limits.outbound_queue_bytes
        self._ceiling = 2 * limits.outbound_queue_bytes
        self._drop_events = self.config.outbound_policy == "drop"
        self._now = 0.0
        self._peer_ids = itertools.count(1)
        self._peers: dict[PeerId, Peer] = {}
        self._realms: dict[str, Realm] = {}
        for realm_config in self.config.realms:
            self._realms[realm_config.name] = self._new_realm(realm_config, on_demand=False)
        self._sessions: dict[int, Session] = {}
        self._events: deque[RouterEvent | _DropNotice] = deque()
        #: How many router events were discarded because nobody read them.
        self.events_lost = 0
        self._dirty: dict[PeerId, None] = {}  # ordered set of peers with output
        self._heap: list[tuple[float, int, Peer | CallRecord]] = []
        self._heap_seq = itertools.count()
        self._compact_at = 1024
        self._doomed: deque[Peer] = deque()
        self._shutting_down = False

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
        self._pump(peer)
        self._settle()
        return peer_id

    def receive_data(self, peer: PeerId, data: bytes, *, now: float | None = None) -> None:
        """Feed bytes read from ``peer`` (``b""`` = EOF). Never raises because of their content."""
        if now is not None:
            self._now = now
        p = self._peers.get(peer)
        if p is None or p.finished:
            return
        p.framing.receive_data(data)
        self._dirty[peer] = None
        self._pump(p)
        self._settle()

    def data_to_send(self, peer: PeerId, max_bytes: int | None = None) -> bytes:
        """Move queued messages into the framing and return the bytes to write.

        With ``max_bytes``, stop moving once that many payload bytes were moved (at least one
        message moves; framing overhead comes on top).
        """
        p = self._peers.get(peer)
        if p is None:
            return b""
        self._flush(p, max_bytes)
        data = p.framing.data_to_send()
        if not p.queue:
            self._dirty.pop(peer, None)
        return data

    def payloads_to_send(self, peer: PeerId, max_bytes: int | None = None) -> list[bytes]:
        """Like ``data_to_send``, for a message-oriented (identity) framing: one entry each."""
        p = self._peers.get(peer)
        if p is None:
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
        p = self._peers.pop(peer, None)
        if p is None:
            return
        self._dirty.pop(peer, None)
        if not p.finished:
            self._contained(
                p,
                self._end_session,
                p,
                LeaveCause.TRANSPORT_LOST,
                TRANSPORT_LOST,
                "connection lost",
            )
        p.finished = True
        p.deadline = None
        p.queue.clear()
        p.queued = 0
        self._settle()

    def outbound_bytes(self, peer: PeerId) -> int:
        """Bytes queued for ``peer`` and not yet moved into its framing."""
        p = self._peers.get(peer)
        return 0 if p is None else p.queued

    def next_event(self) -> RouterEvent | None:
        """The next application-facing event, or None."""
        while self._events:
            event = self._events.popleft()
            if not isinstance(event, _DropNotice):
                return event
            count = event.peer.drop_counts.pop(event.cause, 0)
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
        heap = self._heap
        while heap and heap[0][0] <= now:
            when, _, target = heapq.heappop(heap)
            state = self._entry_state(when, target)
            if state == "later":
                self._push(target.deadline, target)  # type: ignore[arg-type]
            elif state == "due":
                if isinstance(target, Peer):
                    self._contained(target, self._on_peer_deadline, target)
                else:
                    dealer = target.caller.realm.dealer
                    self._contained(target.caller.peer, dealer.timeout, target)
                self._settle()
        self._settle()

    def shutdown(self, reason: str = CLOSE_SYSTEM_SHUTDOWN, message: str | None = None) -> None:
        """GOODBYE to every session; each peer then closes after its reply (or the deadline).

        Peers without a session are closed at once; HELLOs that still arrive get ABORT
        ``reason``. Raises ``LocalProtocolError`` for a malformed ``reason`` (nothing sent).
        """
        goodbye = _goodbye(reason, message)
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
        self._settle()

    def kill_session(
        self, session_id: int, reason: str = CLOSE_KILLED, message: str | None = None
    ) -> bool:
        """End one session with a router GOODBYE (wamp-spec.md §3.2); False if it is unknown."""
        goodbye = _goodbye(reason, message)
        session = self._sessions.get(session_id)
        if session is None:
            return False
        self._contained(session.peer, self._router_goodbye, session.peer, goodbye)
        self._settle()
        return True

    def session_count(self, realm: str | None = None) -> int:
        """Sessions in ``realm`` (in all realms if None)."""
        if realm is None:
            return len(self._sessions)
        found = self._realms.get(realm)
        return 0 if found is None else len(found.sessions)

    @property
    def realms(self) -> list[str]:
        """The names of the realms that exist now."""
        return list(self._realms)

    # == the Outlet the broker and dealer send through ============================================

    def reply(self, session: Session, msg: Message) -> Outcome:
        if session.gone:
            return Outcome.GONE
        outcome = self._send(session.peer, msg, self._ceiling)
        if outcome in _FATAL:
            self._doom_for(session.peer, outcome)
        return outcome

    def send_result(self, session: Session, msg: Result | Error) -> Outcome:
        if session.gone:
            return Outcome.GONE
        outcome = self._send(session.peer, msg, self._ceiling)
        if outcome is Outcome.NO_ROOM:
            self._doom_for(session.peer, outcome)
        return outcome

    def invoke(self, session: Session, msg: Invocation) -> Outcome:
        if session.gone:
            return Outcome.GONE
        return self._send(session.peer, msg, self._budget)

    def interrupt(self, session: Session, msg: Interrupt) -> Outcome:
        return self.reply(session, msg)

    def fan_out(self, event: Event, recipients: list[Session]) -> int:
        cache: dict[tuple[str, bool], bytes | None] = {}
        wire: list[Any] | None = None
        budget = self._budget
        dirty = self._dirty
        delivered = 0
        for session in recipients:
            p = session.peer
            if p.doomed is not None or p.finished:
                continue
            if p.queued >= budget and self._drop_events:
                self._dropped(p, "outbound_queue_full")  # full: no need to encode for it
                continue
            key = p.codec_key
            if key in cache:
                data = cache[key]
            else:
                if wire is None:
                    wire = event.to_wire()
                try:
                    data = p.serializer.encode(wire)
                except Exception:  # a value this serializer cannot carry; see module docs
                    data = None
                cache[key] = data
            if data is None:
                self._dropped(p, "unencodable")
                continue
            size = len(data)
            if size > p.send_limit:
                self._dropped(p, "payload_size_exceeded")
                continue
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
        return delivered

    def schedule(self, record: CallRecord) -> None:
        if record.deadline is not None:
            self._push(record.deadline, record)

    def random_index(self, n: int) -> int:
        return self._rng.randint(0, n - 1)

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

    def _on_ready(self, p: Peer, event: Ready) -> None:
        serializer = event.serializer
        p.serializer = serializer
        p.codec_key = (serializer.name, serializer.batched)
        p.send_limit = _send_limit(p.framing)
        p.request = event.request

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
        mtype = msg.TYPE
        if mtype == HELLO:
            assert isinstance(msg, Hello)
            self._on_hello(p, msg)
            return
        if mtype == GOODBYE:
            assert isinstance(msg, Goodbye)
            self._on_goodbye(p, msg)
            return
        session = p.session
        if session is None:  # the state table admits session messages only in a session
            raise RemoteProtocolError(f"{msg.NAME} outside a session")
        broker, dealer = session.realm.broker, session.realm.dealer
        if mtype == PUBLISH:
            broker.publish(session, msg)  # type: ignore[arg-type]
        elif mtype == CALL:
            dealer.call(session, msg, self._now)  # type: ignore[arg-type]
        elif mtype == YIELD:
            dealer.yield_(session, msg, self._now)  # type: ignore[arg-type]
        elif mtype == ERROR:
            dealer.error(session, msg)  # type: ignore[arg-type]
        elif mtype == SUBSCRIBE:
            broker.subscribe(session, msg)  # type: ignore[arg-type]
        elif mtype == UNSUBSCRIBE:
            broker.unsubscribe(session, msg)  # type: ignore[arg-type]
        elif mtype == REGISTER:
            dealer.register(session, msg)  # type: ignore[arg-type]
        elif mtype == UNREGISTER:
            dealer.unregister(session, msg)  # type: ignore[arg-type]
        elif mtype == CANCEL:
            dealer.cancel(session, msg)  # type: ignore[arg-type]
        elif mtype != EVENT_RECEIVED:  # acknowledged delivery is not implemented: ignored
            raise RemoteProtocolError(f"{msg.NAME} is not handled by this router")

    def _refuse_uri(self, p: Peer, msg: Message, text: str) -> None:
        if isinstance(msg, Hello):
            self._refuse_join(p, INVALID_URI, text)
            return
        session = p.session
        if session is None:
            raise RemoteProtocolError(text)
        if isinstance(msg, Publish | Subscribe):
            session.realm.broker.refuse(session, msg, INVALID_URI, text)
        elif isinstance(msg, Register):
            session.realm.dealer.refuse(session, msg, INVALID_URI, text)
        elif isinstance(msg, Call):
            if msg.request_id in session.calls:  # a continuation must name its call's procedure
                raise RemoteProtocolError(f"progressive CALL continuation: {text}")
            session.realm.dealer.refuse(session, msg, INVALID_URI, text)
        else:
            raise RemoteProtocolError(text)

    # == joining and leaving ======================================================================

    def _on_hello(self, p: Peer, msg: Hello) -> None:
        if self._shutting_down:
            self._refuse_join(p, CLOSE_SYSTEM_SHUTDOWN, "the router is shutting down")
            return
        realm = self._realms.get(msg.realm)
        realm_config = realm.config if realm is not None else None
        if realm_config is None:
            if not self.config.auto_create_realms:
                self._refuse_join(p, NO_SUCH_REALM, f"no realm {msg.realm!r} on this router")
                return
            realm_config = RealmConfig(msg.realm)
        limit = self.config.limits.max_sessions_per_realm
        if realm is not None and len(realm.sessions) >= limit:
            self._refuse_join(p, REALM_FULL, f"realm {msg.realm!r} holds {limit} sessions")
            return
        decision = self._join_decision(p, realm_config, msg)
        if isinstance(decision, _Refuse):
            self._refuse_join(p, decision.reason, decision.message)
            return

        session_id = global_id(self._rng)
        while session_id in self._sessions:
            session_id = global_id(self._rng)
        details: dict[str, Any] = {
            "realm": realm_config.name,
            "authid": decision.authid,
            "authrole": decision.authrole,
            "authmethod": decision.authmethod,
            "authprovider": decision.authprovider,
            "roles": ROUTER_ROLES,
            "agent": AGENT,
        }
        if decision.authextra:
            details["authextra"] = decision.authextra
        outcome = self._send(p, Welcome(session_id=session_id, details=details), self._ceiling)
        if outcome is not Outcome.SENT:
            self._doom_for(p, outcome)
            return
        if realm is None:
            realm = self._new_realm(realm_config, on_demand=True)
            self._realms[realm.name] = realm
        session = Session(
            session_id,
            p,
            realm,
            authid=decision.authid,
            authrole=decision.authrole,
            authmethod=decision.authmethod,
            authprovider=decision.authprovider,
            authextra=decision.authextra,
        )
        realm.sessions[session_id] = session
        self._sessions[session_id] = session
        p.session = session
        p.deadline = None
        self._emit(
            SessionJoined(
                peer=p.id,
                session_id=session_id,
                realm=realm.name,
                authid=session.authid,
                authrole=session.authrole,
                authmethod=session.authmethod,
                authprovider=session.authprovider,
                transport_info=p.transport_info,
            )
        )

    def _join_decision(self, p: Peer, realm: RealmConfig, hello: Hello) -> _Admit | _Refuse:
        """THE place a join is decided: admit (with an identity) or refuse (with an ABORT).

        Only anonymous access exists so far. The authentication issue extends this point: a
        challenge method answers with a CHALLENGE and defers the decision to AUTHENTICATE, and
        dynamic authenticators turn it into a router event the application answers.
        """
        methods = hello.details.get("authmethods")
        if methods and "anonymous" not in methods:
            return _Refuse(
                NO_MATCHING_AUTH_METHOD,
                f"none of the offered authmethods {methods!r} is available (only anonymous)",
            )
        if not realm.allow_anonymous:
            return _Refuse(
                NO_MATCHING_AUTH_METHOD, f"realm {realm.name!r} does not admit anonymous clients"
            )
        return _Admit(
            authid=self._anonymous_authid(),
            authrole="anonymous",
            authmethod="anonymous",
            authprovider="static",
        )

    def _anonymous_authid(self) -> str:
        chars = [_AUTHID_ALPHABET[self._rng.randint(0, 31)] for _ in range(12)]
        return "-".join("".join(chars[i : i + 4]) for i in (0, 4, 8))

    def _refuse_join(self, p: Peer, reason: str, message: str) -> None:
        self._queue_abort(p, reason, message)
        self._emit(
            PeerAborted(peer=p.id, session_id=None, reason=reason, message=message, by_peer=False)
        )
        self._finish(p)

    def _on_goodbye(self, p: Peer, msg: Goodbye) -> None:
        if p.goodbye_sent:
            # The reply to the router's own GOODBYE: the session is already gone.
            p.goodbye_sent = False
            p.deadline = None
            self._finish(p)
            return
        self._send(p, Goodbye(reason=CLOSE_GOODBYE_AND_OUT), self._ceiling)
        self._end_session(p, LeaveCause.GOODBYE, msg.reason, msg.details.get("message", ""))
        # The transport may carry a new session; one that stays idle is closed like a new one.
        self._set_deadline(p, self._now + self.config.limits.handshake_timeout, "handshake")

    def _router_goodbye(self, p: Peer, goodbye: Goodbye) -> None:
        if p.finished or p.doomed is not None or p.session is None:
            return
        outcome = self._send(p, goodbye, self._ceiling)
        if outcome is not Outcome.SENT:
            self._doom_for(p, outcome)
            return
        p.goodbye_sent = True
        self._end_session(
            p, LeaveCause.ROUTER_GOODBYE, goodbye.reason, goodbye.details.get("message", "")
        )
        self._set_deadline(p, self._now + self.config.limits.handshake_timeout, "goodbye")

    def _peer_aborted(self, p: Peer, msg: Abort) -> None:
        p.tracker.reset()
        message = msg.details.get("message", "")
        session_id = p.session.id if p.session is not None else None
        self._end_session(p, LeaveCause.ABORT, msg.reason, message)
        self._emit(
            PeerAborted(
                peer=p.id, session_id=session_id, reason=msg.reason, message=message, by_peer=True
            )
        )
        self._finish(p)

    def _violation(self, p: Peer, text: str) -> None:
        session_id = p.session.id if p.session is not None else None
        self._queue_abort(p, PROTOCOL_VIOLATION, text)
        self._end_session(p, LeaveCause.PROTOCOL_VIOLATION, PROTOCOL_VIOLATION, text)
        self._emit(ProtocolViolation(peer=p.id, session_id=session_id, message=text))
        self._finish(p)

    def _abort_peer(self, p: Peer, cause: LeaveCause, reason: str, message: str) -> None:
        """Drop a peer with ABORT ``reason`` (not a protocol violation)."""
        if p.finished:
            return
        session_id = p.session.id if p.session is not None else None
        p.queue.clear()  # it would not (or could not) take them anyway
        p.queued = 0
        self._queue_abort(p, reason, message)
        self._end_session(p, cause, reason, message)
        self._emit(
            PeerAborted(
                peer=p.id, session_id=session_id, reason=reason, message=message, by_peer=False
            )
        )
        self._finish(p)

    def _internal_error(self, p: Peer, exc: BaseException) -> None:
        text = f"{type(exc).__name__}: {exc}"
        session_id = p.session.id if p.session is not None else None
        self._emit(InternalError(peer=p.id, session_id=session_id, message=text))
        try:
            p.queue.clear()
            p.queued = 0
            self._queue_abort(p, INTERNAL_ERROR, "internal router error")
            self._end_session(p, LeaveCause.INTERNAL_ERROR, INTERNAL_ERROR, text)
        except Exception:  # the session's state is suspect; the peer goes regardless
            pass
        finally:
            self._finish(p)

    def _contained(self, p: Peer, action: Callable[..., object], *args: Any) -> None:
        """Run ``action``; a router bug in it drops ``p`` (only) instead of escaping."""
        try:
            action(*args)
        except Exception as exc:
            self._internal_error(p, exc)

    def _end_session(self, p: Peer, cause: LeaveCause, reason: str, message: str) -> None:
        """THE removal path: every way a session ends comes through here exactly once."""
        session = p.session
        p.session = None
        if session is None or session.gone:
            return
        session.gone = True
        realm = session.realm
        realm.remove(session)
        self._sessions.pop(session.id, None)
        if realm.on_demand and not realm.sessions:
            self._realms.pop(realm.name, None)
        self._emit(
            SessionLeft(
                peer=p.id,
                session_id=session.id,
                realm=realm.name,
                authid=session.authid,
                authrole=session.authrole,
                cause=cause,
                reason=reason,
                message=message,
            )
        )

    # == deferred drops ===========================================================================

    def _doom(self, p: Peer, cause: LeaveCause, reason: str, message: str) -> None:
        """Drop ``p`` once the current step is done (the broker/dealer may be mid-operation)."""
        if p.finished or p.doomed is not None:
            return
        p.doomed = (cause, reason, message)
        self._doomed.append(p)

    def _doom_for(self, p: Peer, outcome: Outcome) -> None:
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

    def _settle(self) -> None:
        while self._doomed:
            p = self._doomed.popleft()
            assert p.doomed is not None
            cause, reason, message = p.doomed
            self._contained(p, self._abort_peer, p, cause, reason, message)

    # == output ===================================================================================

    def _send(self, p: Peer, msg: Message, limit: int) -> Outcome:
        """Encode, check size and budget, record in the state table, queue."""
        if p.finished or p.doomed is not None:
            return Outcome.GONE
        try:
            data = p.serializer.encode(msg.to_wire())
        except Exception:  # a value this serializer cannot carry; see module docs
            return Outcome.UNENCODABLE
        size = len(data)
        if size > p.send_limit:
            return Outcome.TOO_LARGE
        if p.queue and p.queued + size > limit:
            return Outcome.NO_ROOM
        if p.tracker.send(msg) is Disposition.IGNORE:
            return Outcome.IGNORED
        p.queue.append(data)
        p.queued += size
        self._dirty[p.id] = None
        return Outcome.SENT

    def _queue_abort(self, p: Peer, reason: str, message: str | None) -> None:
        """Queue an ABORT if the transport can still carry one; it bypasses the budget."""
        p.tracker.reset()
        if p.finished or p.serializer is None or p.framing.closed:
            return
        details = {"message": message[:_MAX_ABORT_MESSAGE]} if message else {}
        try:
            data = p.serializer.encode(Abort(details=details, reason=reason).to_wire())
        except Exception:
            return
        if len(data) <= p.send_limit:
            p.queue.append(data)
            p.queued += len(data)
            self._dirty[p.id] = None

    def _flush(self, p: Peer, max_bytes: int | None = None) -> None:
        """Move queued messages into the framing."""
        queue = p.queue
        framing = p.framing
        moved = 0
        while queue:
            data = queue[0]
            if max_bytes is not None and moved and moved + len(data) > max_bytes:
                return
            queue.popleft()
            p.queued -= len(data)
            moved += len(data)
            try:
                framing.send(data)
            except LocalProtocolError:  # the framing closed under us: nothing more can go
                queue.clear()
                p.queued = 0
                return

    def _finish(self, p: Peer) -> None:
        """The connection is over: flush what is queued, close the framing (should_close)."""
        if p.finished:
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

    def _dropped(self, p: Peer, cause: str) -> None:
        p.dropped_total += 1
        counts = p.drop_counts
        pending = counts.get(cause, 0)
        counts[cause] = pending + 1
        if not pending:
            session_id = p.session.id if p.session is not None else None
            self._emit(_DropNotice(p, session_id, cause))

    def _emit(self, event: RouterEvent | _DropNotice) -> None:
        if len(self._events) >= MAX_PENDING_EVENTS:
            self.events_lost += 1
            if isinstance(event, _DropNotice):
                event.peer.drop_counts.pop(event.cause, None)
            return
        self._events.append(event)

    # == deadlines ================================================================================

    def _set_deadline(self, p: Peer, when: float, stage: str) -> None:
        p.deadline = when
        p.deadline_stage = stage
        self._push(when, p)

    def _push(self, when: float, target: Peer | CallRecord) -> None:
        heapq.heappush(self._heap, (when, next(self._heap_seq), target))
        if len(self._heap) > self._compact_at:
            # Settled calls and met deadlines leave their entries behind; sweep them out so
            # the heap stays proportional to what is actually pending.
            self._heap = [e for e in self._heap if self._entry_state(e[0], e[2]) != "stale"]
            heapq.heapify(self._heap)
            self._compact_at = max(1024, 2 * len(self._heap))

    def _entry_state(self, when: float, target: Peer | CallRecord) -> str:
        if isinstance(target, Peer):
            if target.finished or target.deadline != when or target.id not in self._peers:
                return "stale"
            return "due"
        if target.done or target.deadline is None:
            return "stale"
        return "later" if target.deadline > when else "due"

    def _on_peer_deadline(self, p: Peer) -> None:
        stage = p.deadline_stage
        p.deadline = None
        self._emit(HandshakeTimedOut(peer=p.id, stage=stage))
        if stage == "handshake" and p.tracker.state is not SessionState.ESTABLISHED:
            limit = self.config.limits.handshake_timeout
            self._queue_abort(p, HANDSHAKE_TIMEOUT, f"no session was established within {limit} s")
        p.goodbye_sent = False
        self._end_session(p, LeaveCause.TRANSPORT_LOST, TRANSPORT_LOST, f"{stage} deadline passed")
        self._finish(p)

    # == helpers ==================================================================================

    def _new_realm(self, config: RealmConfig, *, on_demand: bool) -> Realm:
        return Realm(
            config,
            self,
            self._rng,
            max_pending_calls=self.config.limits.max_pending_calls_per_session,
            on_demand=on_demand,
        )


_FATAL = (Outcome.NO_ROOM, Outcome.TOO_LARGE, Outcome.UNENCODABLE)


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
