"""Interop on loopback: the WebSocket framings against the ``websockets`` package, both ways.

Real sockets on 127.0.0.1 with ephemeral ports; every socket and wait has a timeout, and each
test has a hard pytest-timeout. Skipped if ``websockets`` (a test-only dependency) is missing.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

import pytest

from wampcore.serializers import serializer_for_subprotocol
from wampcore.transports import Closed, Payload, Ready, WebSocketClient, WebSocketServer

websockets_client = pytest.importorskip("websockets.sync.client")
websockets_server = pytest.importorskip("websockets.sync.server")
websockets_exceptions = pytest.importorskip("websockets.exceptions")

TIMEOUT = 5.0
pytestmark = pytest.mark.timeout(30)

HELLO = [1, "realm1", {"roles": {"caller": {}, "subscriber": {}}, "authid": "\u00e9", "b": b"\x00"}]


def serve_one(listener: socket.socket, server: WebSocketServer, log: list[Any]) -> None:
    """A minimal blocking adapter: echo every payload back, until the framing is closed."""
    conn, _ = listener.accept()
    conn.settimeout(TIMEOUT)
    try:
        while True:
            data = conn.recv(65536)
            server.receive_data(data)
            while (event := server.next_event()) is not None:
                log.append(event)
                if isinstance(event, Payload):
                    server.send(event.data)
            out = server.data_to_send()
            if out:
                conn.sendall(out)
            if server.closed or not data:
                break
    finally:
        conn.close()


def listening_socket() -> socket.socket:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(TIMEOUT)
    return listener


@pytest.mark.parametrize("subprotocol", ["wamp.2.json", "wamp.2.msgpack", "wamp.2.cbor"])
def test_websockets_client_against_our_server(subprotocol: str) -> None:
    serializer = serializer_for_subprotocol(subprotocol)
    assert serializer is not None
    payload = serializer.encode(HELLO)
    log: list[Any] = []
    with listening_socket() as listener:
        port = listener.getsockname()[1]
        thread = threading.Thread(
            target=serve_one, args=(listener, WebSocketServer(), log), daemon=True
        )
        thread.start()
        with websockets_client.connect(
            f"ws://127.0.0.1:{port}/ws",
            subprotocols=["wamp.2.yaml", subprotocol],
            open_timeout=TIMEOUT,
            close_timeout=TIMEOUT,
            proxy=None,
        ) as ws:
            assert ws.subprotocol == subprotocol
            # websockets offers permessage-deflate by default; we never accept it.
            assert ws.response.headers.get("Sec-WebSocket-Extensions") is None
            message: str | bytes = payload.decode() if not serializer.binary else payload
            ws.send(message)
            assert ws.recv(timeout=TIMEOUT) == message
            # A fragmented message is reassembled into one payload.
            fragments = [message[:5], message[5:9], message[9:]]
            ws.send(fragments)
            assert ws.recv(timeout=TIMEOUT) == message
        thread.join(TIMEOUT)
        assert not thread.is_alive()
    assert isinstance(log[0], Ready)
    assert log[0].serializer.subprotocol == subprotocol
    assert log[0].request is not None
    assert log[0].request.subprotocols == ("wamp.2.yaml", subprotocol)
    assert log[1:3] == [Payload(payload), Payload(payload)]
    assert serializer.decode(log[1].data) == [HELLO]
    assert isinstance(log[3], Closed)
    assert log[3].code == 1000
    assert log[3].error is None


def test_websockets_client_refused_by_our_server() -> None:
    with listening_socket() as listener:
        port = listener.getsockname()[1]
        thread = threading.Thread(
            target=serve_one, args=(listener, WebSocketServer(), []), daemon=True
        )
        thread.start()
        with pytest.raises(websockets_exceptions.InvalidStatus) as info:
            websockets_client.connect(
                f"ws://127.0.0.1:{port}/elsewhere",
                subprotocols=["wamp.2.json"],
                open_timeout=TIMEOUT,
                proxy=None,
            )
        assert info.value.response.status_code == 404
        thread.join(TIMEOUT)
        assert not thread.is_alive()


def echo(ws: Any) -> None:
    for message in ws:
        ws.send(message)


@pytest.mark.parametrize("subprotocol", ["wamp.2.json", "wamp.2.msgpack"])
def test_our_client_against_websockets_server(subprotocol: str) -> None:
    with websockets_server.serve(
        echo,
        "127.0.0.1",
        0,
        subprotocols=["wamp.2.cbor", subprotocol],
        open_timeout=TIMEOUT,
        close_timeout=TIMEOUT,
    ) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            port = server.socket.getsockname()[1]
            events = run_client(port, subprotocol)
        finally:
            server.shutdown()
            thread.join(TIMEOUT)
    serializer = serializer_for_subprotocol(subprotocol)
    assert serializer is not None
    assert isinstance(events[0], Ready)
    assert events[0].serializer.subprotocol == subprotocol
    assert events[1] == Payload(serializer.encode(HELLO))
    assert isinstance(events[-1], Closed)
    assert events[-1].code == 1000
    assert events[-1].error is None


def run_client(port: int, subprotocol: str) -> list[Any]:
    """A minimal blocking client adapter: send HELLO once ready, close after the echo."""
    client = WebSocketClient(f"127.0.0.1:{port}", "/", subprotocols=[subprotocol])
    events: list[Any] = []
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(client.data_to_send())
        while not client.closed:
            data = sock.recv(65536)
            client.receive_data(data)
            while (event := client.next_event()) is not None:
                events.append(event)
                if isinstance(event, Ready):
                    client.send(event.serializer.encode(HELLO))
                elif isinstance(event, Payload):
                    client.close()
            out = client.data_to_send()
            if out:
                sock.sendall(out)
            if not data:
                break
    return events
