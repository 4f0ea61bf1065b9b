"""Fuzz harness for the WebSocket framing, both roles.

Run with atheris: ``python fuzz/fuzz_websocket.py [corpus_dir]``. The same ``TestOneInput`` runs
under hypothesis in ``tests/test_transport_fuzz.py`` so it cannot rot.

Input layout: octet 0 picks the configuration (role, a valid upgrade prefix so the fuzzer reaches
the frame parser at once, a small message limit, EOF at the end, JSON or msgpack), octet 1 picks
a chunk size, the rest is the byte stream from the peer. The target checks that

* nothing raises, and only documented events come out, in the documented order;
* every ``Closed.error`` is a ``RemoteProtocolError`` (or None), and a refused upgrade on the
  server is a complete HTTP response;
* the events (and, for the server, whose frames are unmasked, the bytes it queues) do not depend
  on how the stream is split (whole, one byte at a time, fixed-size chunks). One exception is
  allowed: a text message with invalid UTF-8 that also commits another violation (over the
  limit: 1009; text on a binary subprotocol: 1003) may be reported as either, because wsproto
  validates the UTF-8 of whatever part of a frame has arrived before handing it over.
"""

from __future__ import annotations

import base64
import hashlib
import re
import sys
from collections.abc import Callable
from typing import Any

from wampcore.errors import RemoteProtocolError
from wampcore.transports import Closed, Payload, Pong, Ready, WebSocketClient, WebSocketServer

Framing = WebSocketClient | WebSocketServer

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_KEY = b"dGhlIHNhbXBsZSBub25jZQ=="


def _server_prefix(subprotocol: str) -> bytes:
    return (
        b"GET /ws HTTP/1.1\r\nHost: fuzz\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + _KEY + b"\r\n"
        b"Sec-WebSocket-Protocol: " + subprotocol.encode() + b"\r\n\r\n"
    )


def _client_prefix(request: bytes, subprotocol: str) -> bytes:
    match = re.search(rb"Sec-WebSocket-Key: ([^\r]+)", request)
    assert match is not None
    accept = base64.b64encode(hashlib.sha1(match.group(1) + _GUID).digest())
    return (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept + b"\r\n"
        b"Sec-WebSocket-Protocol: " + subprotocol.encode() + b"\r\n\r\n"
    )


def _make(config: int) -> Callable[[], tuple[Framing, bytes]]:
    subprotocol = "wamp.2.msgpack" if config & 16 else "wamp.2.json"
    limit = 64 if config & 4 else 1 << 20
    with_prefix = bool(config & 2)

    def make() -> tuple[Framing, bytes]:
        if config & 1:
            client = WebSocketClient("fuzz", subprotocols=[subprotocol], max_message_size=limit)
            request = client.data_to_send()
            return client, _client_prefix(request, subprotocol) if with_prefix else b""
        server = WebSocketServer(max_message_size=limit, max_handshake_size=4096)
        return server, _server_prefix(subprotocol) if with_prefix else b""

    return make


def _run(framing: Framing, stream: bytes, size: int, eof: bool) -> tuple[list[Any], bytes]:
    chunks = [stream[i : i + size] for i in range(0, len(stream), size)]
    events: list[Any] = []
    out: list[bytes] = []
    limit = framing.max_message_size
    chunks = [c for c in chunks if c]  # b"" would mean EOF
    for chunk in [*chunks, b""] if eof else chunks:
        framing.receive_data(chunk)
        while (event := framing.next_event()) is not None:
            if isinstance(event, Ready):
                assert not events, "Ready must come first"
                events.append(("Ready", event.serializer.subprotocol))
            elif isinstance(event, Payload | Pong):
                assert events and events[0][0] == "Ready", "data before Ready"
                assert len(event.data) <= limit
                events.append((type(event).__name__, event.data))
            else:
                assert isinstance(event, Closed), event
                assert event.error is None or isinstance(event.error, RemoteProtocolError)
                events.append(("Closed", event.reason, event.code, event.error is not None))
            assert not any(e[0] == "Closed" for e in events[:-1]), "event after Closed"
        out.append(framing.data_to_send())
    if eof:
        assert events and events[-1][0] == "Closed", "EOF must end in Closed"
        assert framing.closed
    if framing.closed:
        assert framing.next_event() is None
    output = b"".join(out)
    if isinstance(framing, WebSocketServer) and (not events or events[0][0] != "Ready"):
        if output:
            head, sep, body = output.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 4") and sep, output
            length = re.search(rb"Content-Length: (\d+)", head)
            assert length is not None and int(length.group(1)) == len(body), output
    return events, output if isinstance(framing, WebSocketServer) else b""


def _same(a: tuple[list[Any], bytes], b: tuple[list[Any], bytes]) -> bool:
    if a == b:
        return True
    (ea, _), (eb, _) = a, b
    # The one documented ambiguity: invalid UTF-8 plus another violation (see the docstring).
    if not (ea and eb and ea[:-1] == eb[:-1] and ea[-1][0] == eb[-1][0] == "Closed"):
        return False
    codes = {ea[-1][2], eb[-1][2]}
    return 1007 in codes and codes <= {1003, 1007, 1009}


def TestOneInput(data: bytes) -> None:
    if len(data) < 2:
        return
    config, size = data[0], data[1] + 1
    make = _make(config)
    eof = bool(config & 8)
    runs = []
    for chunk_size in (1 << 30, 1, size):
        framing, prefix = make()
        runs.append(_run(framing, prefix + data[2:], chunk_size, eof))
    assert _same(runs[0], runs[1]) and _same(runs[0], runs[2]), runs


if __name__ == "__main__":
    import atheris

    atheris.instrument_all()
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
