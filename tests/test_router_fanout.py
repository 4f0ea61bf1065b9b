"""Fan-out encodes once per serializer and frames once per (serializer, framing kind) (issue 11;
DESIGN.md §5: "a publish to N subscribers encodes the EVENT once per (subscription, serializer)").

The calls are counted on the real classes while the router handles one PUBLISH to 1,000
subscribers spread over RawSocket and WebSocket with two serializers each, plus a few identity
framings (whose frames cannot be shared: each gets its payload through ``send``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from netharness import Network

from wampcore.messages import Event, Subscribed
from wampcore.serializers import JSONSerializer, MsgPackSerializer
from wampcore.transports import RawSocketServer, WebSocketServer
from wampcore.transports.message import MessageFraming
from wampcore.transports.rawsocket import RawSocketClient
from wampcore.transports.websocket import WebSocketClient

GROUPS = [
    ("rawsocket", "msgpack"),
    ("rawsocket", "json"),
    ("websocket", "msgpack"),
    ("websocket", "json"),
]


def _count(monkeypatch: pytest.MonkeyPatch, counts: Counter[str], cls: type, name: str) -> None:
    original: Callable[..., Any] = getattr(cls, name)

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        counts[f"{cls.__name__}.{name}"] += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(cls, name, counted)


def test_one_publish_to_1000_subscribers_is_encoded_and_framed_once_per_kind_issue_11(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    counts: Counter[str] = Counter()
    # Patched before anyone joins: the router binds each framing's ``frame`` when it is ready.
    for cls, name in [
        (JSONSerializer, "encode"),
        (MsgPackSerializer, "encode"),
        (RawSocketServer, "frame"),
        (RawSocketServer, "send"),
        (RawSocketServer, "send_framed"),
        (WebSocketServer, "frame"),
        (WebSocketServer, "send"),
        (WebSocketServer, "send_framed"),
        (MessageFraming, "send"),
    ]:
        _count(monkeypatch, counts, cls, name)
    net = Network()
    publisher = net.join("rawsocket", "msgpack")
    subscribers = [net.join(*GROUPS[i % 4]) for i in range(1000)]
    identity = [net.join("message", "json") for _ in range(5)]
    for s in [*subscribers, *identity]:
        s.subscribe("com.fanout")
    net.pump()
    assert all(s.take(Subscribed) for s in [*subscribers, *identity])

    publisher.publish("com.fanout", ["hello", {"n": 1}])
    counts.clear()  # only the router's work is counted from here: the PUBLISH is encoded
    net.pump()

    assert all(len(s.all(Event)) == 1 for s in [*subscribers, *identity])
    assert counts["MsgPackSerializer.encode"] == 1
    assert counts["JSONSerializer.encode"] == 1
    assert counts["RawSocketServer.frame"] == 2  # msgpack, json
    assert counts["WebSocketServer.frame"] == 2  # binary msgpack, text json
    # No per-recipient framing work on the stream framings: frames are only queued.
    assert counts["RawSocketServer.send"] == 0
    assert counts["WebSocketServer.send"] == 0
    assert counts["RawSocketServer.send_framed"] == 500
    assert counts["WebSocketServer.send_framed"] == 500
    assert counts["MessageFraming.send"] == len(identity)
    net.check()


@pytest.mark.parametrize("transport", ["rawsocket", "websocket"])
def test_shared_frames_are_exactly_what_the_framing_would_send_issue_11(transport: str) -> None:
    """``frame`` + ``send_framed`` put the same bytes on the wire as ``send`` (both roles'
    parsers agree), for small, 126-byte, 64 KiB and empty payloads."""
    for payload in [b"[1]", b"x" * 125, b"y" * 126, b"z" * 65535, b"w" * 65536, b""]:
        if transport == "rawsocket":
            server, client = RawSocketServer(), RawSocketClient("msgpack")
        else:
            server, client = WebSocketServer(), WebSocketClient("h", subprotocols=["wamp.2.cbor"])
        server.receive_data(client.data_to_send())
        while server.next_event() is not None:
            pass
        client.receive_data(server.data_to_send())
        while client.next_event() is not None:
            pass
        server.send(payload)
        sent = server.data_to_send()
        server.send_framed([server.frame(payload)])
        assert server.data_to_send() == sent


def test_frames_of_a_client_websocket_cannot_be_shared_issue_11() -> None:
    """Client frames are masked with a fresh key each: no frame kind, no ``frame``."""
    from wampcore.errors import LocalProtocolError

    client = WebSocketClient("h")
    assert client.frame_kind is None
    with pytest.raises(LocalProtocolError):
        client.frame(b"[]")
    assert RawSocketServer().frame_kind == RawSocketClient().frame_kind == "rawsocket"
