"""Identity framing: whole messages in, whole messages out, same surface as the stream framings."""

from __future__ import annotations

from typing import Any

import pytest

from wampcore.errors import LocalProtocolError, MessageTooLargeError, RemoteProtocolError
from wampcore.serializers import get_serializer
from wampcore.transports import (
    Closed,
    HandshakeRequest,
    MessageFraming,
    Payload,
    RawSocketServer,
    Ready,
    WebSocketServer,
)


def test_ready_first_then_payloads_then_closed() -> None:
    request = HandshakeRequest(target="/ws", path="/ws", query="", host="h", headers=())
    framing = MessageFraming("wamp.2.json", request=request, max_message_size=100)
    ready = framing.next_event()
    assert isinstance(ready, Ready)
    assert ready.request is request
    assert framing.request is request
    assert ready.serializer.name == "json"
    assert ready.serializer.max_size == 100
    assert framing.next_event() is None
    framing.receive_data(b"[1]")
    framing.receive_data('["\u2603"]')  # a host's text message
    framing.receive_data(b"")
    assert framing.next_event() == Payload(b"[1]")
    assert framing.next_event() == Payload('["\u2603"]'.encode())
    closed = framing.next_event()
    assert isinstance(closed, Closed)
    assert closed.error is None
    assert framing.closed
    assert framing.next_event() is None


def test_boundaries_are_kept_on_output() -> None:
    framing = MessageFraming(get_serializer("cbor"))
    assert framing.serializer.name == "cbor"
    framing.send(b"\x81\x01")
    framing.send(b"\x81\x02")
    assert framing.payloads_to_send() == [b"\x81\x01", b"\x81\x02"]
    assert framing.payloads_to_send() == []
    assert framing.message_oriented
    assert not RawSocketServer.message_oriented
    assert not WebSocketServer.message_oriented
    with pytest.raises(LocalProtocolError):
        framing.data_to_send()


@pytest.mark.parametrize(
    ("serializer", "message", "code"),
    [("wamp.2.json", b"x" * 11, 1009), ("wamp.2.msgpack", "text", 1003)],
)
def test_violations(serializer: str, message: Any, code: int) -> None:
    framing = MessageFraming(serializer, max_message_size=10)
    framing.next_event()
    framing.receive_data(b"ok")
    framing.receive_data(message)
    framing.receive_data(b"never seen")
    assert framing.next_event() == Payload(b"ok")
    closed = framing.next_event()
    assert isinstance(closed, Closed)
    assert closed.code == code
    assert isinstance(closed.error, RemoteProtocolError)
    assert framing.next_event() is None


def test_limits_and_close() -> None:
    framing = MessageFraming("wamp.2.json", max_message_size=10)
    framing.send(b"x" * 10)
    with pytest.raises(MessageTooLargeError):
        framing.send(b"x" * 11)
    framing.close("bye", code=1001)
    framing.close()
    events = []
    while (event := framing.next_event()) is not None:
        events.append(event)
    assert events == [Closed("bye", None, 1001)]
    with pytest.raises(LocalProtocolError):
        framing.send(b"x")
    assert framing.payloads_to_send() == [b"x" * 10]


def test_default_close_code_and_bad_arguments() -> None:
    framing = MessageFraming("wamp.2.json")
    framing.close()
    framing.next_event()  # Ready was discarded by close; Closed comes first
    assert framing.closed
    with pytest.raises(LocalProtocolError):
        MessageFraming("wamp.2.yaml")
    with pytest.raises(LocalProtocolError):
        MessageFraming("wamp.2.json", max_message_size=0)
    closing = MessageFraming("wamp.2.json")
    closing.close()
    assert closing.next_event() == Closed("closed locally", None, 1000)
