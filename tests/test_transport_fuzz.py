"""Hypothesis over the framings: chunking invariance of valid streams, and the fuzz targets.

The fuzz harnesses in ``fuzz/`` are loaded from their files and their ``TestOneInput`` runs here
on random bytes (which covers "random input gives only documented events or errors") and on
structured inputs that get past the handshake.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
from pathlib import Path
from types import ModuleType
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wampcore.transports import (
    Closed,
    FramingEvent,
    Payload,
    Pong,
    RawSocketServer,
    Ready,
    WebSocketClient,
    WebSocketServer,
)

FUZZ_DIR = Path(__file__).resolve().parent.parent / "fuzz"
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, FUZZ_DIR / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fuzz_rawsocket = load("fuzz_rawsocket")
fuzz_websocket = load("fuzz_websocket")


def norm(event: FramingEvent) -> tuple[Any, ...]:
    if isinstance(event, Ready):
        return ("Ready", event.serializer.subprotocol)
    if isinstance(event, Payload | Pong):
        return (type(event).__name__, event.data)
    assert isinstance(event, Closed)
    return ("Closed", event.reason, event.code, type(event.error))


def feed(framing: Any, chunks: list[bytes]) -> tuple[list[tuple[Any, ...]], bytes]:
    events = []
    out = []
    for chunk in chunks:
        framing.receive_data(chunk)
        while (event := framing.next_event()) is not None:
            events.append(norm(event))
        out.append(framing.data_to_send())
    return events, b"".join(out)


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


# --- valid RawSocket streams ----------------------------------------------------------------

rs_frames = st.lists(
    st.tuples(st.sampled_from([0, 0, 0, 1, 2]), st.binary(max_size=600)), max_size=8
)


@SETTINGS
@given(frames=rs_frames, cuts=st.lists(st.integers(min_value=0), max_size=12), eof=st.booleans())
def test_rawsocket_chunking_invariance(
    frames: list[tuple[int, bytes]], cuts: list[int], eof: bool
) -> None:
    stream = b"\x7f\xf2\x00\x00" + b"".join(
        bytes((kind,)) + len(p).to_bytes(3, "big") + p for kind, p in frames
    )
    chunks = [*split(stream, cuts), *([b""] if eof else [])]
    whole = feed(RawSocketServer(), [stream, *([b""] if eof else [])])
    pieces = feed(RawSocketServer(), chunks)
    assert whole == pieces
    events, out = whole
    expected: list[tuple[str, Any]] = [("Ready", "wamp.2.msgpack")]
    expected += [("Payload" if kind == 0 else "Pong", p) for kind, p in frames if kind in (0, 2)]
    assert events[: len(expected)] == expected
    pongs = b"".join(b"\x02" + len(p).to_bytes(3, "big") + p for k, p in frames if k == 1)
    assert out == b"\x7f\xf2\x00\x00" + pongs


# --- valid WebSocket streams -----------------------------------------------------------------


def ws_frame(opcode: int, payload: bytes, fin: bool) -> bytes:
    n = len(payload)
    head = bytes(((0x80 if fin else 0) | opcode,))
    if n < 126:
        head += bytes((0x80 | n,))
    else:
        head += bytes((0x80 | 126,)) + n.to_bytes(2, "big")
    key = os.urandom(4)
    stream = (key * (n // 4 + 1))[:n]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")).to_bytes(n, "big")
    return head + key + masked


@st.composite
def ws_messages(draw: st.DrawFn) -> tuple[bytes, list[tuple[str, bytes]]]:
    """Client frames (text messages, fragmented at random, pings between fragments)."""
    stream = b""
    expected: list[tuple[str, bytes]] = []
    for text in draw(st.lists(st.text(max_size=200), max_size=6)):
        data = text.encode("utf-8")
        cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=3)))
        parts = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=False)]
        for i, part in enumerate(parts):
            stream += ws_frame(0x1 if i == 0 else 0x0, part, i == len(parts) - 1)
            if draw(st.booleans()):
                stream += ws_frame(0x9, b"ping", True)
        expected.append(("Payload", data))
        if draw(st.booleans()):
            stream += ws_frame(0xA, b"pong", True)
            expected.append(("Pong", b"pong"))
    return stream, expected


UPGRADE = (
    b"GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Sec-WebSocket-Protocol: wamp.2.json\r\n\r\n"
)


@SETTINGS
@given(messages=ws_messages(), cuts=st.lists(st.integers(min_value=0), max_size=12))
def test_websocket_server_chunking_invariance(
    messages: tuple[bytes, list[tuple[str, bytes]]], cuts: list[int]
) -> None:
    frames, expected = messages
    stream = UPGRADE + frames + ws_frame(0x8, b"\x03\xe8", True)
    whole = feed(WebSocketServer(), [stream])
    pieces = feed(WebSocketServer(), split(stream, cuts))
    assert whole == pieces
    events, _ = whole
    assert events[0] == ("Ready", "wamp.2.json")
    assert events[1:-1] == expected
    assert events[-1][0] == "Closed"
    assert events[-1][2] == 1000


@SETTINGS
@given(
    payloads=st.lists(st.binary(max_size=300), max_size=6),
    cuts=st.lists(st.integers(min_value=0), max_size=12),
)
def test_websocket_client_chunking_invariance(payloads: list[bytes], cuts: list[int]) -> None:
    """The server's real output (101 plus frames, in one stream) split anywhere."""
    results = []
    for chunked in (False, True):
        client = WebSocketClient("h", subprotocols=["wamp.2.cbor"])
        server = WebSocketServer()
        server.receive_data(client.data_to_send())
        assert isinstance(server.next_event(), Ready)
        for p in payloads:
            server.send(p)
        server.close(code=1001)
        stream = server.data_to_send()
        results.append(feed(client, split(stream, cuts) if chunked else [stream])[0])
    assert results[0] == results[1]
    assert results[0][0] == ("Ready", "wamp.2.cbor")
    assert results[0][1:-1] == [("Payload", p) for p in payloads]
    assert results[0][-1][:3] == ("Closed", "peer closed the WebSocket with code 1001", 1001)


# --- the fuzz targets ------------------------------------------------------------------------


@SETTINGS
@given(st.binary(max_size=300))
def test_fuzz_rawsocket_random_bytes(data: bytes) -> None:
    fuzz_rawsocket.TestOneInput(data)


@SETTINGS
@given(
    config=st.integers(0, 255),
    size=st.integers(0, 255),
    frames=st.lists(
        st.tuples(st.integers(0, 255), st.binary(max_size=40), st.integers(0, 2)), max_size=6
    ),
)
def test_fuzz_rawsocket_framed(
    config: int, size: int, frames: list[tuple[int, bytes, int]]
) -> None:
    """Mostly well-formed frames with random type octets and lengths off by -1, 0 or +1."""
    body = b"".join(
        bytes((kind & 0x0F if kind < 200 else kind,))
        + max(len(p) - 1 + off, 0).to_bytes(3, "big")
        + p
        for kind, p, off in frames
    )
    fuzz_rawsocket.TestOneInput(bytes((config | 2, size)) + body)


@SETTINGS
@given(st.binary(max_size=300))
def test_fuzz_websocket_random_bytes(data: bytes) -> None:
    fuzz_websocket.TestOneInput(data)


@SETTINGS
@given(
    config=st.integers(0, 255),
    size=st.integers(0, 255),
    frames=st.lists(
        st.tuples(
            st.integers(0, 255),
            st.one_of(st.binary(max_size=100), st.text(max_size=50).map(str.encode)),
            st.booleans(),
        ),
        max_size=6,
    ),
)
def test_fuzz_websocket_framed(
    config: int, size: int, frames: list[tuple[int, bytes, bool]]
) -> None:
    """Masked frames with random first octets (FIN, RSV, opcode) after a valid upgrade."""
    body = b""
    for first, payload, masked in frames:
        full = ws_frame(0, payload, True)
        body += bytes((first,)) + (full[1:] if masked else bytes((len(payload) & 0x7F,)) + payload)
    fuzz_websocket.TestOneInput(bytes((config | 2, size)) + body)
