"""Test kit for the client peer: a scripted router side, driven through real framings.

``Scripted(transport, serializer, **client_kwargs)`` builds a ``ClientPeer`` over a real client
framing (RawSocket, WebSocket or the identity framing) and the matching server framing, and
completes the transport handshake. The test then plays the router by hand: ``send`` encodes
messages (message objects or raw lists, so illegal ones too) with the negotiated serializer,
``sent()`` returns what the client put on the wire as decoded lists, and ``events()`` drains the
client's events.
"""

from __future__ import annotations

from typing import Any

from wampcore.client import ClientEvent, ClientPeer
from wampcore.messages import Message, Welcome
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

TRANSPORTS = ("rawsocket", "websocket", "message")
SERIALIZERS = ("json", "msgpack", "cbor")

#: A router announcing every feature the client can use.
ROUTER_ROLES: dict[str, Any] = {
    "broker": {
        "features": {
            "publisher_exclusion": True,
            "subscriber_blackwhite_listing": True,
            "publisher_identification": True,
            "pattern_based_subscription": True,
            "subscription_revocation": True,
        }
    },
    "dealer": {
        "features": {
            "progressive_call_results": True,
            "progressive_call_invocations": True,
            "call_canceling": True,
            "call_timeout": True,
            "caller_identification": True,
            "pattern_based_registration": True,
            "shared_registration": True,
            "registration_revocation": True,
        }
    },
}


class Scripted:
    """One client peer plus a hand-played router side over a real framing pair."""

    def __init__(
        self,
        transport: str = "rawsocket",
        serializer: str = "json",
        *,
        batched: bool = False,
        server_max: int | None = None,
        realm: str = "realm1",
        **client_kwargs: Any,
    ) -> None:
        self.transport = transport
        self.server: RawSocketServer | WebSocketServer | None
        subprotocol = f"wamp.2.{serializer}" + (".batched" if batched else "")
        if transport == "rawsocket":
            client_framing: Any = RawSocketClient(serializer=serializer)
            self.server = RawSocketServer(
                max_message_size=server_max if server_max is not None else 16 * 1024 * 1024
            )
        elif transport == "websocket":
            client_framing = WebSocketClient("localhost", "/ws", subprotocols=[subprotocol])
            self.server = WebSocketServer(
                subprotocols=[subprotocol],
                **({"max_message_size": server_max} if server_max is not None else {}),
            )
        elif transport == "message":
            client_framing = MessageFraming(
                subprotocol,
                **({"max_message_size": server_max} if server_max is not None else {}),
            )
            self.server = None
        else:
            raise AssertionError(transport)
        self.peer = ClientPeer(realm, client_framing, **client_kwargs)
        self.ser: Serializer = get_serializer(serializer, batched=batched)
        self._inbox: list[list[Any]] = []
        self.server_closed: Closed | None = None
        self.pump()

    # -- moving bytes -----------------------------------------------------------------------------

    def pump(self) -> None:
        """Move everything queued in both directions until nothing moves."""
        for _ in range(50):
            moved = False
            if self.server is None:
                for payload in self.peer.payloads_to_send():
                    moved = True
                    self._inbox.extend(self.ser.decode(payload))
            else:
                data = self.peer.data_to_send()
                if data:
                    moved = True
                    self.server.receive_data(data)
                while (ev := self.server.next_event()) is not None:
                    moved = True
                    if isinstance(ev, Payload):
                        self._inbox.extend(self.ser.decode(ev.data))
                    elif isinstance(ev, Closed):
                        self.server_closed = ev
                    elif isinstance(ev, Ready):
                        pass
                back = self.server.data_to_send()
                if back:
                    moved = True
                    self.peer.receive_data(back)
            if not moved:
                return
        raise AssertionError("pump did not settle")

    def send(self, *msgs: Message | list[Any]) -> None:
        """Send router messages (objects or raw wire lists) to the client."""
        for msg in msgs:
            wire = msg.to_wire() if isinstance(msg, Message) else msg
            self.send_payload(self.ser.encode(wire))

    def send_payload(self, payload: bytes) -> None:
        """Send one raw transport payload to the client."""
        if self.server is None:
            self.peer.receive_data(payload)
        else:
            self.server.send(payload)
            self.pump()

    def eof(self) -> None:
        """The router side hangs up."""
        if self.server is None:
            self.peer.receive_data(b"")
        else:
            self.peer.receive_data(self.server.data_to_send())
            self.peer.receive_data(b"")

    def sent(self) -> list[list[Any]]:
        """What the client sent since the last call, decoded."""
        self.pump()
        out, self._inbox = self._inbox, []
        return out

    def events(self) -> list[ClientEvent]:
        """Drain the client's events (then move whatever they caused)."""
        out: list[ClientEvent] = []
        while (ev := self.peer.next_event()) is not None:
            out.append(ev)
        self.pump()
        return out

    # -- common scripts ---------------------------------------------------------------------------

    def join(self, roles: dict[str, Any] | None = None, session_id: int = 77) -> ClientEvent:
        """Answer the client's HELLO with WELCOME; returns the Joined event."""
        self.events()
        hello = self.sent()
        assert hello and hello[0][0] == 1, hello
        self.send(Welcome(session_id=session_id, details={"roles": roles or ROUTER_ROLES}))
        events = self.events()
        assert len(events) == 1, events
        return events[0]


def joined(transport: str = "rawsocket", serializer: str = "json", **kwargs: Any) -> Scripted:
    """A scripted pair whose session is established."""
    s = Scripted(transport, serializer, **kwargs)
    s.join()
    return s
