"""In-memory network harness: one Router, N scripted test peers over real framings, a pump.

h11's ConnectionPair, generalised to a router and many peers (DESIGN.md §6.2):

* ``Network(config, seed=0)`` owns a :class:`~wampcore.router.Router` built with a seeded
  ``random.Random`` and a fake clock (``now``; ``advance(seconds)`` fires deadlines).
* ``net.connect(transport, serializer)`` makes a ``TestPeer``: a real client framing
  (``RawSocketClient``, ``WebSocketClient``) paired with the matching server framing handed to
  ``router.accept``, or the identity ``MessageFraming`` (``transport="message"``).
* ``net.pump()`` moves bytes both ways until nothing moves, acting as the adapter would: it
  drains ``data_to_send`` for every peer that reads, and once ``should_close`` is true it
  delivers the rest, gives the client EOF and calls ``connection_lost``.

A ``TestPeer`` is a scripted client built only on the codec and framings. It keeps a client-side
``SessionTracker`` (the same state table the router runs), so every message the router sends is
decoded, validated by ``from_wire`` and checked for legality against the client's view;
failures are collected in ``peer.problems`` and ``net.check()`` asserts there are none (nor any
``InternalError`` router event). Deliberately illegal input goes through ``send_wire`` /
``send_payload`` / ``send_bytes``, which bypass the tracker and mark the peer ``rogue`` (its
view of the session is no longer trustworthy, so legality checks stop for it).

The client-peer work can swap ``TestPeer`` for real client peers: the network only needs an
object with ``client_output()`` (bytes or payloads towards the router), ``feed(data)`` (bytes or
payloads from it), ``reading`` and ``lost()``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, TypeVar

from wampcore._state import Disposition, SessionTracker, Side
from wampcore.config import RouterConfig
from wampcore.errors import ProtocolError
from wampcore.messages import (
    Abort,
    Call,
    Cancel,
    Error,
    Goodbye,
    Hello,
    Message,
    Publish,
    Register,
    Subscribe,
    Unregister,
    Unsubscribe,
    Welcome,
    Yield,
    from_wire,
)
from wampcore.router import InternalError, PeerId, Router, RouterEvent
from wampcore.serializers import Serializer, get_serializer
from wampcore.transports import (
    Closed,
    MessageFraming,
    Payload,
    RawSocketClient,
    RawSocketServer,
    Ready,
    WebSocketClient,
    WebSocketServer,
)

__all__ = ["CLIENT_ROLES", "SERIALIZERS", "TRANSPORTS", "Network", "TestPeer"]

TRANSPORTS = ("rawsocket", "websocket", "message")
SERIALIZERS = ("json", "msgpack", "cbor")

#: Every client feature the router implements, announced by default.
CLIENT_ROLES: dict[str, Any] = {
    "publisher": {
        "features": {
            "publisher_exclusion": True,
            "subscriber_blackwhite_listing": True,
            "publisher_identification": True,
        }
    },
    "subscriber": {
        "features": {"pattern_based_subscription": True, "publisher_identification": True}
    },
    "caller": {
        "features": {
            "progressive_call_results": True,
            "progressive_call_invocations": True,
            "call_canceling": True,
            "call_timeout": True,
            "caller_identification": True,
        }
    },
    "callee": {
        "features": {
            "progressive_call_results": True,
            "progressive_call_invocations": True,
            "call_canceling": True,
            "call_timeout": True,
            "caller_identification": True,
            "pattern_based_registration": True,
            "shared_registration": True,
        }
    },
}

#: Basic-profile roles with no features at all.
BASIC_ROLES: dict[str, Any] = {"publisher": {}, "subscriber": {}, "caller": {}, "callee": {}}

M = TypeVar("M", bound=Message)


class TestPeer:
    """A scripted client over a real framing; see the module docstring."""

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        net: Network,
        transport: str,
        serializer: str,
        *,
        batched: bool = False,
        max_message_size: int = 16 * 1024 * 1024,
        server_max_message_size: int = 16 * 1024 * 1024,
        reading: bool = True,
        transport_info: dict[str, Any] | None = None,
    ) -> None:
        self.net = net
        self.transport = transport
        #: False: the pump never drains the router's output for this peer (a stalled reader).
        self.reading = reading
        #: Every message received, in order.
        self.received: list[Message] = []
        self._inbox: list[Message] = []  # received and not yet taken
        #: Anything wrong with what the router sent us (undecodable, invalid, illegal).
        self.problems: list[str] = []
        #: The client sent something on purpose illegal: stop judging the router's replies.
        self.rogue = False
        self.closed: Closed | None = None
        self.gone = False
        self.tracker = SessionTracker(Side.CLIENT)
        self.session_id: int | None = None
        self.serializer: Serializer | None = None
        self._pending_payloads: list[bytes] = []
        self.client: Any
        server: Any
        if transport == "rawsocket":
            self.client = RawSocketClient(serializer, max_message_size=max_message_size)
            server = RawSocketServer(max_message_size=server_max_message_size)
        elif transport == "websocket":
            subprotocol = f"wamp.2.{serializer}" + (".batched" if batched else "")
            self.client = WebSocketClient(
                "localhost", "/ws", subprotocols=[subprotocol], max_message_size=max_message_size
            )
            server = WebSocketServer(max_message_size=server_max_message_size)
        elif transport == "message":
            self.client = None
            server = MessageFraming(
                get_serializer(serializer, batched=batched),
                max_message_size=server_max_message_size,
            )
            self.serializer = get_serializer(serializer, batched=batched, max_size=None)
        else:
            raise ValueError(f"unknown transport {transport!r}")
        self.server = server
        self.id: PeerId = net.router.accept(server, transport_info, now=net.now)

    # -- the network's side ------------------------------------------------------------------------

    def client_output(self) -> list[bytes]:
        """What the client has for the router (bytes, or whole payloads for a message framing)."""
        if self.client is None:
            out, self._pending_payloads = self._pending_payloads, []
            return out
        data: bytes = self.client.data_to_send()
        return [data] if data else []

    def feed(self, chunks: list[bytes]) -> None:
        """Deliver router output to the client."""
        if self.client is None:
            for payload in chunks:
                self._on_payload(payload)
            return
        for data in chunks:
            self.client.receive_data(data)
        self._client_events()

    def lost(self) -> None:
        """The router side closed the connection: the client sees EOF."""
        self.gone = True
        if self.client is not None:
            self.client.receive_data(b"")
            self._client_events()
        elif self.closed is None:
            self.closed = Closed("connection closed by the router")

    def _client_events(self) -> None:
        while True:
            event = self.client.next_event()
            if event is None:
                return
            if isinstance(event, Ready):
                self.serializer = event.serializer
            elif isinstance(event, Payload):
                self._on_payload(event.data)
            elif isinstance(event, Closed):
                self.closed = event

    def _on_payload(self, data: bytes) -> None:
        assert self.serializer is not None
        try:
            wires = self.serializer.decode(data)
        except ProtocolError as exc:
            self.problems.append(f"undecodable output: {exc}")
            return
        for wire in wires:
            try:
                msg = from_wire(wire)
            except ProtocolError as exc:
                self.problems.append(f"invalid output {wire!r:.200}: {exc}")
                continue
            self.received.append(msg)
            self._inbox.append(msg)
            if isinstance(msg, Welcome):
                self.session_id = msg.session_id
            if self.rogue:
                continue
            try:
                self.tracker.receive(msg)
            except ProtocolError as exc:
                self.problems.append(f"illegal output {msg!r:.200}: {exc}")

    # -- sending -----------------------------------------------------------------------------------

    def next_id(self) -> int:
        return self.tracker.next_request_id()

    def send(self, msg: Message, *, force: bool = False) -> Disposition:
        """Send a message the client's state table allows (moot ones are skipped unless forced)."""
        disposition = Disposition.PROCESS
        if not self.rogue:
            disposition = self.tracker.send(msg)
        if disposition is Disposition.IGNORE and not force:
            return disposition
        self._write(self._encode(msg.to_wire()))
        return disposition

    def send_wire(self, wire: Any) -> None:
        """Send any list (or value) the serializer can encode, bypassing the state table."""
        self.rogue = True
        self._write(self._encode(wire))

    def send_payload(self, payload: bytes) -> None:
        """Send one raw transport payload (framed by the real framing)."""
        self.rogue = True
        self._write(payload)

    def send_bytes(self, data: bytes) -> None:
        """Write raw bytes to the router, below any framing."""
        self.rogue = True
        self.net.router.receive_data(self.id, data, now=self.net.now)

    def _encode(self, wire: Any) -> bytes:
        assert self.serializer is not None, "the transport handshake has not completed"
        return self.serializer.encode(wire)

    def _write(self, payload: bytes) -> None:
        if self.client is None:
            self._pending_payloads.append(payload)
        else:
            self.client.send(payload)

    # -- verbs (each returns the request id it used) -----------------------------------------------

    def hello(
        self, realm: str = "realm1", roles: dict[str, Any] | None = None, **details: Any
    ) -> None:
        self.send(Hello(realm=realm, details={"roles": roles or CLIENT_ROLES, **details}))

    def join(
        self, realm: str = "realm1", roles: dict[str, Any] | None = None, **details: Any
    ) -> int | None:
        """HELLO and pump; returns the session id from WELCOME, or None if none came."""
        if self.serializer is None:
            self.net.pump()
        self.hello(realm, roles, **details)
        self.net.pump()
        welcomes = self.all(Welcome)
        self.session_id = welcomes[-1].session_id if welcomes else None
        return self.session_id

    def subscribe(self, topic: str, **options: Any) -> int:
        rid = self.next_id()
        self.send(Subscribe(request_id=rid, options=options, topic=topic))
        return rid

    def unsubscribe(self, subscription_id: int) -> int:
        rid = self.next_id()
        self.send(Unsubscribe(request_id=rid, subscription_id=subscription_id))
        return rid

    def publish(
        self,
        topic: str,
        args: list[Any] | None = None,
        kwargs: dict[str, Any] | None = None,
        **options: Any,
    ) -> int:
        rid = self.next_id()
        self.send(Publish(request_id=rid, options=options, topic=topic, args=args, kwargs=kwargs))
        return rid

    def register(self, procedure: str, **options: Any) -> int:
        rid = self.next_id()
        self.send(Register(request_id=rid, options=options, procedure=procedure))
        return rid

    def unregister(self, registration_id: int) -> int:
        rid = self.next_id()
        self.send(Unregister(request_id=rid, registration_id=registration_id))
        return rid

    def call(
        self,
        procedure: str,
        args: list[Any] | None = None,
        kwargs: dict[str, Any] | None = None,
        *,
        request_id: int | None = None,
        **options: Any,
    ) -> int:
        """A CALL; pass ``request_id`` to continue a progressive call."""
        rid = self.next_id() if request_id is None else request_id
        self.send(
            Call(request_id=rid, options=options, procedure=procedure, args=args, kwargs=kwargs)
        )
        return rid

    def cancel(self, request_id: int, mode: str | None = None) -> None:
        self.send(Cancel(request_id=request_id, options={} if mode is None else {"mode": mode}))

    def yield_(
        self,
        invocation_id: int,
        args: list[Any] | None = None,
        kwargs: dict[str, Any] | None = None,
        *,
        progress: bool = False,
    ) -> Disposition:
        options = {"progress": True} if progress else {}
        return self.send(Yield(request_id=invocation_id, options=options, args=args, kwargs=kwargs))

    def error(self, invocation_id: int, error: str, args: list[Any] | None = None) -> Disposition:
        return self.send(Error(request_type=68, request_id=invocation_id, error=error, args=args))

    def goodbye(self, reason: str = "wamp.close.close_realm") -> None:
        self.send(Goodbye(reason=reason))

    def abort(self, reason: str = "wamp.close.system_shutdown") -> None:
        self.send(Abort(reason=reason))

    def eof(self) -> None:
        """The client hangs up (the router reads EOF)."""
        self.net.router.receive_data(self.id, b"", now=self.net.now)

    def vanish(self) -> None:
        """The socket disappears without EOF (the adapter reports connection_lost)."""
        self.gone = True
        self.net.router.connection_lost(self.id)

    # -- inspecting what arrived -------------------------------------------------------------------

    def take(self, cls: type[M] | None = None) -> list[Any]:
        """Messages not taken yet, all consumed (returned: all, or only those of ``cls``)."""
        new, self._inbox = self._inbox, []
        if cls is None:
            return new
        return [m for m in new if isinstance(m, cls)]

    def take_matching(self, *classes: type[Message]) -> list[Any]:
        """Consume and return the messages not taken yet of these classes; others stay."""
        found = [m for m in self._inbox if isinstance(m, classes)]
        self._inbox = [m for m in self._inbox if not isinstance(m, classes)]
        return found

    def all(self, cls: type[M]) -> list[M]:
        return [m for m in self.received if isinstance(m, cls)]

    def last(self, cls: type[M]) -> M:
        found = self.all(cls)
        assert found, f"peer {self.id} received no {cls.__name__}; got {self.received!r:.500}"
        return found[-1]

    def one(self, cls: type[M], where: Callable[[M], bool] = lambda m: True) -> M:
        found = [m for m in self.all(cls) if where(m)]
        assert len(found) == 1, f"expected exactly one {cls.__name__}, got {found!r:.500}"
        return found[0]


class Network:
    """One Router and its test peers, a fake clock and a pump (see the module docstring)."""

    def __init__(
        self, config: RouterConfig | None = None, *, seed: int = 0, now: float = 0.0
    ) -> None:
        self.now = now
        self.router = Router(config, rng=random.Random(seed))
        self.peers: list[TestPeer] = []
        #: Every router event seen so far (drained at each pump).
        self.events: list[RouterEvent] = []

    def connect(
        self, transport: str = "rawsocket", serializer: str = "json", **kwargs: Any
    ) -> TestPeer:
        peer = TestPeer(self, transport, serializer, **kwargs)
        self.peers.append(peer)
        return peer

    def join(
        self, transport: str = "rawsocket", serializer: str = "json", **kwargs: Any
    ) -> TestPeer:
        """A connected peer with a session in ``realm1`` and every feature announced.

        ``reading=False`` makes it stop reading once it has joined.
        """
        roles = kwargs.pop("roles", None)
        realm = kwargs.pop("realm", "realm1")
        reading = kwargs.pop("reading", True)
        peer = self.connect(transport, serializer, **kwargs)
        assert peer.join(realm, roles) is not None, f"join refused: {peer.received!r:.300}"
        peer.reading = reading
        return peer

    def pump(self, max_rounds: int = 100_000) -> int:
        """Move bytes until nothing moves; returns the number of rounds."""
        router = self.router
        for rounds in range(1, max_rounds + 1):
            moved = False
            for peer in self.peers:
                if peer.gone:
                    continue
                for chunk in peer.client_output():
                    router.receive_data(peer.id, chunk, now=self.now)
                    moved = True
                closing = router.should_close(peer.id)
                if peer.reading or closing:
                    out = self._drain(peer)
                    if out:
                        peer.feed(out)
                        moved = True
                if closing:
                    router.connection_lost(peer.id)
                    peer.lost()
                    moved = True
            self._collect_events()
            if not moved:
                return rounds
        raise AssertionError("the network did not settle")

    def _drain(self, peer: TestPeer) -> list[bytes]:
        if peer.transport == "message":
            return self.router.payloads_to_send(peer.id)
        data = self.router.data_to_send(peer.id)
        return [data] if data else []

    def _collect_events(self) -> None:
        while True:
            event = self.router.next_event()
            if event is None:
                return
            self.events.append(event)

    def advance(self, seconds: float) -> None:
        """Move the clock, fire due deadlines, pump."""
        self.now += seconds
        deadline = self.router.next_deadline()
        if deadline is not None and deadline <= self.now:
            self.router.handle_timeout(self.now)
        self.pump()

    def events_of(self, cls: type[Any]) -> list[Any]:
        return [e for e in self.events if isinstance(e, cls)]

    def check(self) -> None:
        """Every byte the router sent decoded, validated and was legal; no internal errors."""
        self._collect_events()
        errors = self.events_of(InternalError)
        assert not errors, f"router internal errors: {errors}"
        for peer in self.peers:
            assert not peer.problems, f"peer {peer.id}: {peer.problems}"
