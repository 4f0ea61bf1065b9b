"""Real client peers on the in-memory network of ``netharness`` (one real Router, a fake clock).

``NetClient(net, transport, serializer, **client_kwargs)`` wraps a ``ClientPeer`` over a real
client framing whose server half the router accepted, and plugs into ``Network.pump`` (which
only needs ``client_output``, ``feed``, ``lost``, ``reading``, ``gone``, ``id`` and
``transport``). Every event the peer produces is collected in ``events``; ``take()`` returns the
new ones. ``join_client(net, ...)`` returns a client whose session is established.
"""

from __future__ import annotations

from typing import Any, TypeVar

from netharness import Network

from wampcore.client import ClientEvent, ClientPeer, Joined, ProtocolViolation
from wampcore.router import PeerId
from wampcore.transports import (
    MessageFraming,
    RawSocketClient,
    RawSocketServer,
    WebSocketClient,
    WebSocketServer,
)

E = TypeVar("E")

#: (transport, serializer, batched) combinations every flow runs over.
COMBOS = [
    (transport, serializer, False)
    for transport in ("rawsocket", "websocket", "message")
    for serializer in ("json", "msgpack", "cbor")
] + [("websocket", "json", True), ("websocket", "cbor", True)]


class NetClient:
    """A ClientPeer attached to a ``netharness.Network``."""

    __test__ = False

    def __init__(
        self,
        net: Network,
        transport: str = "rawsocket",
        serializer: str = "json",
        *,
        batched: bool = False,
        realm: str = "realm1",
        server_max_message_size: int = 16 * 1024 * 1024,
        **client_kwargs: Any,
    ) -> None:
        self.net = net
        self.transport = transport
        self.reading = True
        self.gone = False
        self._hung_up = False
        self.events: list[ClientEvent] = []
        self._taken = 0
        subprotocol = f"wamp.2.{serializer}" + (".batched" if batched else "")
        framing: Any
        server: Any
        if transport == "rawsocket":
            framing = RawSocketClient(serializer)
            server = RawSocketServer(max_message_size=server_max_message_size)
        elif transport == "websocket":
            framing = WebSocketClient("localhost", "/ws", subprotocols=[subprotocol])
            server = WebSocketServer(max_message_size=server_max_message_size)
        elif transport == "message":
            framing = MessageFraming(subprotocol)
            server = MessageFraming(subprotocol, max_message_size=server_max_message_size)
        else:
            raise AssertionError(transport)
        self.peer = ClientPeer(realm, framing, **client_kwargs)
        self.id: PeerId = net.router.accept(server, None, now=net.now)
        net.peers.append(self)  # type: ignore[arg-type]
        self._drain()

    # -- the network's side ----------------------------------------------------------------------

    def client_output(self) -> list[bytes]:
        if self.transport == "message":
            out = self.peer.payloads_to_send()
        else:
            data = self.peer.data_to_send()
            out = [data] if data else []
        if self.peer.closed and not self._hung_up:
            # What an adapter does once the peer is closed and its output written: drop the
            # connection, which the router reads as EOF (b"").
            self._hung_up = True
            out.append(b"")
        return out

    def feed(self, chunks: list[bytes]) -> None:
        for chunk in chunks:
            self.peer.receive_data(chunk)
        self._drain()

    def lost(self) -> None:
        self.gone = True
        self.peer.receive_data(b"")
        self._drain()

    def _drain(self) -> None:
        while (ev := self.peer.next_event()) is not None:
            self.events.append(ev)

    # -- the test's side -------------------------------------------------------------------------

    @property
    def problems(self) -> list[str]:
        """Protocol violations the client peer caught the router in (``Network.check``)."""
        return [e.message for e in self.events if isinstance(e, ProtocolViolation)]

    def take(self) -> list[ClientEvent]:
        """Events since the last ``take``."""
        self._drain()
        new = self.events[self._taken :]
        self._taken = len(self.events)
        return new

    def of(self, cls: type[E]) -> list[E]:
        """Every event of one class so far."""
        return [e for e in self.events if isinstance(e, cls)]

    def one(self, cls: type[E]) -> E:
        new = [e for e in self.take() if isinstance(e, cls)]
        assert len(new) == 1, f"expected one {cls.__name__}, got {self.events[-10:]!r:.800}"
        return new[0]


def join_client(
    net: Network, transport: str = "rawsocket", serializer: str = "json", **kwargs: Any
) -> NetClient:
    client = NetClient(net, transport, serializer, **kwargs)
    net.pump()
    joined = client.take()
    assert joined and isinstance(joined[-1], Joined), joined
    return client
