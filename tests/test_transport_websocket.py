"""WebSocket framing: upgrade tables (both roles), messages, limits, close codes, in-memory pairs.

Frames and the accept token are built here by hand from RFC 6455, independently of wsproto.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import Callable
from typing import Any

import pytest

from wampcore.errors import LocalProtocolError, MessageTooLargeError
from wampcore.transports import (
    Closed,
    FramingEvent,
    HandshakeRequest,
    Payload,
    Pong,
    Ready,
    WebSocketClient,
    WebSocketServer,
)

MiB = 1 << 20
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
KEY = "dGhlIHNhbXBsZSBub25jZQ=="
Framing = WebSocketClient | WebSocketServer

TEXT, BINARY, CONT, CLOSE, PING, PONG = 0x1, 0x2, 0x0, 0x8, 0x9, 0xA


def accept_token(key: str) -> str:
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def ws_frame(
    opcode: int, payload: bytes, *, fin: bool = True, mask: bool = True, rsv: int = 0
) -> bytes:
    head = bytes(((0x80 if fin else 0) | rsv << 4 | opcode,))
    n = len(payload)
    mbit = 0x80 if mask else 0
    if n < 126:
        head += bytes((mbit | n,))
    elif n < 1 << 16:
        head += bytes((mbit | 126,)) + n.to_bytes(2, "big")
    else:
        head += bytes((mbit | 127,)) + n.to_bytes(8, "big")
    if not mask:
        return head + payload
    key = os.urandom(4)
    stream = (key * (n // 4 + 1))[:n]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")).to_bytes(n, "big")
    return head + key + masked


def close_payload(code: int, reason: str = "") -> bytes:
    return code.to_bytes(2, "big") + reason.encode()


def parse_frames(data: bytes) -> list[tuple[int, bytes]]:
    """Unmasked frames as (opcode, payload); the server never masks."""
    frames = []
    pos = 0
    while pos < len(data):
        b0, b1 = data[pos], data[pos + 1]
        assert not b1 & 0x80
        n = b1 & 0x7F
        pos += 2
        if n == 126:
            n = int.from_bytes(data[pos : pos + 2], "big")
            pos += 2
        elif n == 127:
            n = int.from_bytes(data[pos : pos + 8], "big")
            pos += 8
        frames.append((b0 & 0x0F, data[pos : pos + n]))
        pos += n
    return frames


def close_code_sent(data: bytes) -> int | None:
    for opcode, payload in parse_frames(data):
        if opcode == CLOSE:
            return int.from_bytes(payload[:2], "big") if payload else None
    return None


def norm(event: FramingEvent) -> tuple[Any, ...]:
    if isinstance(event, Ready):
        return ("Ready", event.serializer.subprotocol)
    if isinstance(event, Payload):
        return ("Payload", event.data)
    if isinstance(event, Pong):
        return ("Pong", event.data)
    return ("Closed", event.code, type(event.error).__name__ if event.error else None)


def drain(framing: Any) -> list[tuple[Any, ...]]:
    events = []
    while (event := framing.next_event()) is not None:
        events.append(norm(event))
    return events


def feed_whole(framing: Any, data: bytes) -> list[tuple[Any, ...]]:
    framing.receive_data(data)
    return drain(framing)


def feed_bytewise(framing: Any, data: bytes) -> list[tuple[Any, ...]]:
    events = []
    for i in range(len(data)):
        framing.receive_data(data[i : i + 1])
        events += drain(framing)
    return events


FEEDERS: dict[str, Callable[[Any, bytes], list[tuple[Any, ...]]]] = {
    "whole": feed_whole,
    "bytewise": feed_bytewise,
}


def upgrade_request(
    path: str = "/ws",
    protocols: str | None = "wamp.2.json",
    *,
    method: str = "GET",
    version: str = "HTTP/1.1",
    extra: str = "",
    key: str | None = KEY,
    ws_version: str | None = "13",
    upgrade: bool = True,
) -> bytes:
    lines = [f"{method} {path} {version}", "Host: example.com"]
    if upgrade:
        lines += ["Upgrade: websocket", "Connection: keep-alive, Upgrade"]
    if key is not None:
        lines.append(f"Sec-WebSocket-Key: {key}")
    if ws_version is not None:
        lines.append(f"Sec-WebSocket-Version: {ws_version}")
    if protocols is not None:
        lines.append(f"Sec-WebSocket-Protocol: {protocols}")
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode("latin-1")


OK = upgrade_request()
REFUSED = "RemoteProtocolError"


def status_of(response: bytes) -> int:
    match = re.match(rb"HTTP/1\.1 (\d{3}) ", response)
    assert match, response
    return int(match.group(1))


def header_of(response: bytes, name: str) -> str | None:
    head = response.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    for line in head.split("\r\n")[1:]:
        key, _, value = line.partition(":")
        if key.lower() == name.lower():
            return value.strip()
    return None


# (name, server kwargs, request bytes, expected status, expected subprotocol header)
UPGRADE_TABLE: list[tuple[str, dict[str, Any], bytes, int, str | None]] = [
    ("json", {}, OK, 101, "wamp.2.json"),
    (
        "server preference wins",
        {},
        upgrade_request(protocols="wamp.2.json, wamp.2.cbor"),
        101,
        "wamp.2.cbor",
    ),
    (
        "configured preference",
        {"subprotocols": ["wamp.2.json", "wamp.2.cbor"]},
        upgrade_request(protocols="wamp.2.cbor, wamp.2.msgpack, wamp.2.json"),
        101,
        "wamp.2.json",
    ),
    (
        "split Sec-WebSocket-Protocol headers",
        {},
        upgrade_request(protocols="foo", extra="Sec-WebSocket-Protocol: wamp.2.msgpack\r\n"),
        101,
        "wamp.2.msgpack",
    ),
    ("batched", {}, upgrade_request(protocols="wamp.2.cbor.batched"), 101, "wamp.2.cbor.batched"),
    ("any path", {"path": None}, upgrade_request(path="/x/y?z=1"), 101, "wamp.2.json"),
    ("query on the right path", {}, upgrade_request(path="/ws?token=abc"), 101, "wamp.2.json"),
    (
        "compression offered and ignored",
        {},
        upgrade_request(extra="Sec-WebSocket-Extensions: permessage-deflate\r\n"),
        101,
        "wamp.2.json",
    ),
    (
        "allowed origin",
        {"allowed_origins": ["https://app.example.com"]},
        upgrade_request(extra="Origin: https://APP.example.com\r\n"),
        101,
        "wamp.2.json",
    ),
    (
        "no origin (not a browser)",
        {"allowed_origins": ["https://app.example.com"]},
        OK,
        101,
        "wamp.2.json",
    ),
    (
        "fallback subprotocol",
        {"fallback_subprotocol": "wamp.2.json"},
        upgrade_request(protocols=None),
        101,
        None,
    ),
    # --- refusals ---
    ("no subprotocol", {}, upgrade_request(protocols=None), 400, None),
    ("no WAMP subprotocol", {}, upgrade_request(protocols="mqtt, wamp.2.xml"), 400, None),
    (
        "fallback does not apply to unknown offers",
        {"fallback_subprotocol": "wamp.2.json"},
        upgrade_request(protocols="mqtt"),
        400,
        None,
    ),
    (
        "subprotocol not configured",
        {"subprotocols": ["wamp.2.cbor"]},
        OK,
        400,
        None,
    ),
    ("wrong path", {}, upgrade_request(path="/other"), 404, None),
    ("POST", {}, upgrade_request(method="POST"), 405, None),
    ("plain HTTP", {}, upgrade_request(upgrade=False, key=None, ws_version=None), 426, None),
    (
        "plain HTTP elsewhere is 404",
        {},
        upgrade_request(path="/favicon.ico", upgrade=False),
        404,
        None,
    ),
    ("no version", {}, upgrade_request(ws_version=None), 400, None),
    ("old version", {}, upgrade_request(ws_version="8"), 426, None),
    ("no key", {}, upgrade_request(key=None), 400, None),
    ("short key", {}, upgrade_request(key="c2hvcnQ="), 400, None),
    ("key not base64", {}, upgrade_request(key="!!!!!!!!!!!!!!!!!!!!!!=="), 400, None),
    ("HTTP/1.0", {}, upgrade_request(version="HTTP/1.0"), 400, None),
    ("body", {}, upgrade_request(extra="Content-Length: 3\r\n") + b"abc", 400, None),
    (
        "origin refused",
        {"allowed_origins": ["https://app.example.com"]},
        upgrade_request(extra="Origin: https://evil.example.com\r\n"),
        403,
        None,
    ),
    ("garbage", {}, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400, None),
    ("RawSocket handshake on a WebSocket port", {}, b"\x7f\xf1\x00\x00\r\n\r\n", 400, None),
    ("header too large", {}, b"GET /ws HTTP/1.1\r\nX: " + b"a" * 20000, 431, None),
    (
        "complete header too large",
        {},
        upgrade_request(extra="X: " + "a" * 20000 + "\r\n"),
        431,
        None,
    ),
]


@pytest.mark.parametrize("feeder", sorted(FEEDERS))
@pytest.mark.parametrize("trailing", [False, True])
@pytest.mark.parametrize(
    ("kwargs", "request_bytes", "status", "subprotocol"),
    [pytest.param(*row[1:], id=row[0]) for row in UPGRADE_TABLE],
)
def test_upgrade_table(
    feeder: str,
    trailing: bool,
    kwargs: dict[str, Any],
    request_bytes: bytes,
    status: int,
    subprotocol: str | None,
) -> None:
    server = WebSocketServer(**kwargs)
    if trailing:
        # A partial first frame: harmless after a 101, ignored after a refusal.
        request_bytes += b"\x81"
    events = FEEDERS[feeder](server, request_bytes)
    response = server.data_to_send()
    assert status_of(response) == status
    assert header_of(response, "Sec-WebSocket-Protocol") == subprotocol
    if status == 101:
        assert header_of(response, "Sec-WebSocket-Accept") == accept_token(KEY)
        assert header_of(response, "Sec-WebSocket-Extensions") is None
        assert len(events) == 1
        assert events[0][0] == "Ready"
        assert not server.closed
    else:
        assert events == [("Closed", status, REFUSED)]
        assert server.closed
        assert header_of(response, "Connection") == "close"
        length = header_of(response, "Content-Length")
        assert length is not None
        assert len(response.split(b"\r\n\r\n", 1)[1]) == int(length)
        if status == 426:
            assert (
                header_of(response, "Upgrade") == "websocket"
                or header_of(response, "Sec-WebSocket-Version") == "13"
            )
        if status == 405:
            assert header_of(response, "Allow") == "GET"
    assert server.next_event() is None


def test_request_is_exposed() -> None:
    server = WebSocketServer()
    server.receive_data(
        upgrade_request(
            path="/ws?ticket=t1&x=2",
            protocols="wamp.2.cbor, wamp.2.json",
            extra=(
                "Origin: https://app.example.com\r\n"
                'Cookie: session=abc; theme="dark"\r\n'
                "Cookie: session=later; other=1\r\n"
                "X-Forwarded-For: 10.0.0.1\r\n"
            ),
        )
    )
    event = server.next_event()
    assert isinstance(event, Ready)
    request = event.request
    assert request is server.request
    assert isinstance(request, HandshakeRequest)
    assert request.path == "/ws"
    assert request.query == "ticket=t1&x=2"
    assert request.target == "/ws?ticket=t1&x=2"
    assert request.host == "example.com"
    assert request.origin == "https://app.example.com"
    assert dict(request.cookies) == {"session": "abc", "theme": "dark", "other": "1"}
    assert request.subprotocols == ("wamp.2.cbor", "wamp.2.json")
    assert request.subprotocol == "wamp.2.cbor"
    assert request.get_header("X-FORWARDED-FOR") == "10.0.0.1"
    assert request.get_header("missing", "d") == "d"
    assert event.serializer.name == "cbor"


# --- messages on an open server ---------------------------------------------------------


def t(payload: bytes, **kw: Any) -> bytes:
    return ws_frame(TEXT, payload, **kw)


def b(payload: bytes, **kw: Any) -> bytes:
    return ws_frame(BINARY, payload, **kw)


READY = ("Ready", "wamp.2.json")

# (name, server kwargs, subprotocol, frames after the upgrade, expected events after Ready,
#  close code the server sends (None: none))
MESSAGE_TABLE: list[tuple[str, dict[str, Any], str, bytes, list[tuple[Any, ...]], int | None]] = [
    ("text on json", {}, "wamp.2.json", t(b"[1]"), [("Payload", b"[1]")], None),
    ("binary on msgpack", {}, "wamp.2.msgpack", b(b"\x91\x01"), [("Payload", b"\x91\x01")], None),
    (
        "non-ASCII JSON round-trips as UTF-8",
        {},
        "wamp.2.json",
        t('["h\u00e9llo \u2603"]'.encode()),
        [("Payload", '["h\u00e9llo \u2603"]'.encode())],
        None,
    ),
    ("empty message", {}, "wamp.2.json", t(b""), [("Payload", b"")], None),
    (
        "fragmented with a ping in the middle",
        {},
        "wamp.2.json",
        t(b"[1,", fin=False)
        + ws_frame(PING, b"p")
        + ws_frame(CONT, b'"a"', fin=False)
        + ws_frame(CONT, b"]"),
        [("Payload", b'[1,"a"]')],
        None,
    ),
    (
        "UTF-8 split across fragments",
        {},
        "wamp.2.json",
        t(b'["\xe2\x98', fin=False) + ws_frame(CONT, b'\x83"]'),
        [("Payload", '["\u2603"]'.encode())],
        None,
    ),
    ("pong surfaces", {}, "wamp.2.json", ws_frame(PONG, b"hi"), [("Pong", b"hi")], None),
    (
        "binary on json",
        {},
        "wamp.2.json",
        t(b"[1]") + b(b"[2]"),
        [("Payload", b"[1]"), ("Closed", 1003, REFUSED)],
        1003,
    ),
    ("text on cbor", {}, "wamp.2.cbor", t(b"[1]"), [("Closed", 1003, REFUSED)], 1003),
    (
        "exactly the limit",
        {"max_message_size": 10},
        "wamp.2.json",
        t(b"[1,2,3,4]0", fin=False) + ws_frame(CONT, b""),
        [("Payload", b"[1,2,3,4]0")],
        None,
    ),
    (
        "one over the limit, in fragments",
        {"max_message_size": 10},
        "wamp.2.json",
        t(b"[1,2,3", fin=False) + ws_frame(CONT, b",4,5]"),
        [("Closed", 1009, REFUSED)],
        1009,
    ),
    (
        "one over the limit, announced in one frame",
        {"max_message_size": 10},
        "wamp.2.msgpack",
        b(bytes(11)),
        [("Closed", 1009, REFUSED)],
        1009,
    ),
    ("invalid UTF-8", {}, "wamp.2.json", t(b'["\xff"]'), [("Closed", 1007, REFUSED)], 1007),
    (
        "unmasked client frame",
        {},
        "wamp.2.json",
        t(b"[1]", mask=False),
        [("Closed", 1002, REFUSED)],
        1002,
    ),
    (
        "compressed frame (RSV1)",
        {},
        "wamp.2.json",
        t(b"[1]", rsv=4),
        [("Closed", 1002, REFUSED)],
        1002,
    ),
    ("reserved opcode", {}, "wamp.2.json", ws_frame(0x3, b""), [("Closed", 1002, REFUSED)], 1002),
    (
        "stray continuation",
        {},
        "wamp.2.json",
        ws_frame(CONT, b"x"),
        [("Closed", 1002, REFUSED)],
        1002,
    ),
    (
        "new message inside a fragmented one",
        {},
        "wamp.2.json",
        t(b"[", fin=False) + t(b"]"),
        [("Closed", 1002, REFUSED)],
        1002,
    ),
    (
        "fragmented ping",
        {},
        "wamp.2.json",
        ws_frame(PING, b"p", fin=False),
        [("Closed", 1002, REFUSED)],
        1002,
    ),
    ("long ping", {}, "wamp.2.json", ws_frame(PING, bytes(126)), [("Closed", 1002, REFUSED)], 1002),
    (
        "close with a bad code",
        {},
        "wamp.2.json",
        ws_frame(CLOSE, close_payload(999)),
        [("Closed", 1002, REFUSED)],
        1002,
    ),
    (
        "close with one byte",
        {},
        "wamp.2.json",
        ws_frame(CLOSE, b"\x03"),
        [("Closed", 1002, REFUSED)],
        1002,
    ),
    # --- peer-initiated close: answered with the echo, no error ---
    (
        "peer closes normally",
        {},
        "wamp.2.json",
        t(b"[1]") + ws_frame(CLOSE, close_payload(1000, "bye")) + t(b"[2]"),
        [("Payload", b"[1]"), ("Closed", 1000, None)],
        1000,
    ),
    (
        "peer closes going away",
        {},
        "wamp.2.json",
        ws_frame(CLOSE, close_payload(1001)),
        [("Closed", 1001, None)],
        1001,
    ),
    (
        "peer closes without a code",
        {},
        "wamp.2.json",
        ws_frame(CLOSE, b""),
        [("Closed", 1005, None)],
        None,
    ),
]


@pytest.mark.parametrize("feeder", sorted(FEEDERS))
@pytest.mark.parametrize("trailing", [False, True])
@pytest.mark.parametrize(
    ("kwargs", "subprotocol", "frames", "expected", "close_code"),
    [pytest.param(*row[1:], id=row[0]) for row in MESSAGE_TABLE],
)
def test_message_table(
    request: pytest.FixtureRequest,
    feeder: str,
    trailing: bool,
    kwargs: dict[str, Any],
    subprotocol: str,
    frames: bytes,
    expected: list[tuple[Any, ...]],
    close_code: int | None,
) -> None:
    server = WebSocketServer(**kwargs)
    data = upgrade_request(protocols=subprotocol) + frames
    if trailing:
        data += b"\x82"  # the start of another frame
    events = FEEDERS[feeder](server, data)
    assert events[0] == ("Ready", subprotocol)
    assert events[1:] == expected
    output = server.data_to_send()
    head, _, frames_out = output.partition(b"\r\n\r\n")
    assert status_of(head) == 101
    assert close_code_sent(frames_out) == close_code
    if expected and expected[-1][0] == "Closed" and expected[-1][1] == 1005:
        assert (CLOSE, b"") in parse_frames(frames_out)
    pongs = [p for op, p in parse_frames(frames_out) if op == PONG]
    assert pongs == ([b"p"] if "ping in the middle" in request.node.name else [])
    assert server.closed == (bool(expected) and expected[-1][0] == "Closed")


# --- EOF --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", [("Closed", None, None)]),
        (OK[:10], [("Closed", None, REFUSED)]),
        (OK, [READY, ("Closed", 1006, None)]),
        (OK + t(b"[1]"), [READY, ("Payload", b"[1]"), ("Closed", 1006, None)]),
        (OK + t(b"[1,", fin=False), [READY, ("Closed", 1006, REFUSED)]),
    ],
    ids=["nothing", "mid request", "after upgrade", "after message", "mid message"],
)
@pytest.mark.parametrize("feeder", sorted(FEEDERS))
def test_server_eof(feeder: str, data: bytes, expected: list[tuple[Any, ...]]) -> None:
    server = WebSocketServer()
    events = FEEDERS[feeder](server, data)
    server.receive_data(b"")
    events += drain(server)
    assert events == expected
    assert server.closed
    server.receive_data(b"ignored")
    assert server.next_event() is None


# --- client role ------------------------------------------------------------------------------


def client_key(request: bytes) -> str:
    match = re.search(rb"(?i)sec-websocket-key: *([^\r]+)\r\n", request)
    assert match
    return match.group(1).decode()


def response_101(key: str, subprotocol: str | None = "wamp.2.json", extra: str = "") -> bytes:
    lines = [
        "HTTP/1.1 101 Switching Protocols",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Accept: {accept_token(key)}",
    ]
    if subprotocol is not None:
        lines.append(f"Sec-WebSocket-Protocol: {subprotocol}")
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode()


ResponseMaker = Callable[[str], bytes]

CLIENT_TABLE: list[tuple[str, ResponseMaker, list[tuple[Any, ...]]]] = [
    ("accepted", lambda k: response_101(k), [READY]),
    ("accepted cbor", lambda k: response_101(k, "wamp.2.cbor"), [("Ready", "wamp.2.cbor")]),
    (
        "accepted, with a frame in the same read",
        lambda k: response_101(k) + ws_frame(TEXT, b"[2]", mask=False),
        [READY, ("Payload", b"[2]")],
    ),
    ("no subprotocol selected", lambda k: response_101(k, None), [("Closed", 1002, REFUSED)]),
    (
        "subprotocol not offered",
        lambda k: response_101(k, "wamp.2.cbor.batched"),
        [("Closed", None, REFUSED)],
    ),
    ("bad accept token", lambda k: response_101(KEY), [("Closed", None, REFUSED)]),
    (
        "refused with 404",
        lambda k: b"HTTP/1.1 404 Not Found\r\nContent-Length: 5\r\n\r\nnope\n",
        [("Closed", 404, REFUSED)],
    ),
    (
        "refused with 400, no body",
        lambda k: b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
        [("Closed", 400, REFUSED)],
    ),
    ("not HTTP", lambda k: b"\x7f\xf1\x00\x00\r\n\r\n", [("Closed", None, REFUSED)]),
    (
        "masked frame from the server",
        lambda k: response_101(k) + ws_frame(TEXT, b"[2]", mask=True),
        [READY, ("Closed", 1002, REFUSED)],
    ),
]


@pytest.mark.parametrize("feeder", sorted(FEEDERS))
@pytest.mark.parametrize(
    ("make_response", "expected"), [pytest.param(*row[1:], id=row[0]) for row in CLIENT_TABLE]
)
def test_client_table(
    feeder: str, make_response: ResponseMaker, expected: list[tuple[Any, ...]]
) -> None:
    client = WebSocketClient("example.com", "/ws", subprotocols=["wamp.2.json", "wamp.2.cbor"])
    request = client.data_to_send()
    assert request.startswith(b"GET /ws HTTP/1.1\r\n")
    assert b"Sec-WebSocket-Protocol: wamp.2.json, wamp.2.cbor\r\n" in request
    assert b"Sec-WebSocket-Extensions" not in request
    events = FEEDERS[feeder](client, make_response(client_key(request)))
    assert events == expected
    if expected[-1] == ("Closed", 1002, REFUSED):
        assert client.closed


def test_client_extra_headers_and_bad_request() -> None:
    client = WebSocketClient(
        "127.0.0.1:8080", "/ws?x=1", extra_headers=[("Origin", "http://a"), (b"Cookie", b"c=1")]
    )
    request = client.data_to_send()
    assert b"Host: 127.0.0.1:8080\r\n" in request
    assert b"Origin: http://a\r\n" in request
    assert b"Cookie: c=1\r\n" in request
    with pytest.raises(LocalProtocolError):
        WebSocketClient("example.com", "/ws", extra_headers=[("Bad Header", "x")])
    with pytest.raises(LocalProtocolError):
        WebSocketClient("example.com", subprotocols=["mqtt"])
    with pytest.raises(LocalProtocolError):
        WebSocketClient("example.com", subprotocols=[])


def test_client_eof_before_response() -> None:
    client = WebSocketClient("example.com")
    client.receive_data(b"")
    event = client.next_event()
    assert isinstance(event, Closed)
    assert event.error is None
    assert client.closed


# --- in-memory pairs --------------------------------------------------------------------------


def pump(a: Any, b: Any) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    got_a: list[tuple[Any, ...]] = []
    got_b: list[tuple[Any, ...]] = []
    for _ in range(20):
        moved = False
        for src, dst, got in ((a, b, got_b), (b, a, got_a)):
            data = src.data_to_send()
            if data:
                dst.receive_data(data)
                moved = True
            got += drain(dst)
        if not moved:
            break
    return got_a, got_b


def open_pair(
    subprotocol: str = "wamp.2.json", **server_kwargs: Any
) -> tuple[WebSocketClient, WebSocketServer]:
    client = WebSocketClient("example.com", subprotocols=[subprotocol])
    server = WebSocketServer(**server_kwargs)
    got_client, got_server = pump(client, server)
    assert got_client == [("Ready", subprotocol)]
    assert got_server == [("Ready", subprotocol)]
    return client, server


@pytest.mark.parametrize(
    "subprotocol", ["wamp.2.json", "wamp.2.msgpack", "wamp.2.cbor", "wamp.2.json.batched"]
)
def test_pair_exchange_and_close(subprotocol: str) -> None:
    client, server = open_pair(subprotocol)
    assert client.serializer is not None
    hello = client.serializer.encode([1, "realm1", {"roles": {"caller": {}}, "b": b"\x00\xff"}])
    client.send(hello)
    client.ping(b"ping!")
    server.ping(b"srv")
    got_client, got_server = pump(client, server)
    assert got_server == [("Payload", hello), ("Pong", b"srv")]
    assert got_client == [("Pong", b"ping!")]
    assert server.serializer is not None
    assert server.serializer.decode(hello)[0][2]["b"] == b"\x00\xff"
    server.send(hello)
    client.close()
    with pytest.raises(LocalProtocolError):
        client.send(b"[1]")
    assert not client.closed  # waiting for the server's close frame
    got_client, got_server = pump(client, server)
    # The message that crossed our close frame is dropped: we are closing.
    assert got_client == [("Closed", 1000, None)]
    assert got_server == [("Closed", 1000, None)]
    assert client.closed
    assert server.closed


def test_pair_server_closes_with_internal_error() -> None:
    client, server = open_pair()
    for bad in (999, 1005, 1006, 5000):
        with pytest.raises(LocalProtocolError):
            server.close(code=bad)
    server.close("boom", code=1011)
    server.close("again")
    got_client, got_server = pump(client, server)
    assert got_client == [("Closed", 1011, None)]
    assert got_server == [("Closed", 1011, None)]


@pytest.mark.parametrize(
    ("size", "ok"), [(16 * MiB - 1, True), (16 * MiB, True), (16 * MiB + 1, False)]
)
def test_16mib_boundaries(size: int, ok: bool) -> None:
    client, server = open_pair("wamp.2.msgpack")
    payload = bytes(size)
    if ok:
        client.send(payload)
        got_client, got_server = pump(client, server)
        assert got_server == [("Payload", payload)]
        server.send(payload)
        got_client, _ = pump(client, server)
        assert got_client == [("Payload", payload)]
        return
    with pytest.raises(MessageTooLargeError):
        client.send(payload)
    with pytest.raises(MessageTooLargeError):
        server.send(payload)
    # A peer that ignores the limit: the receiver refuses with 1009 as the bytes arrive.
    wire = b(payload)
    server.receive_data(wire)
    event = server.next_event()
    assert isinstance(event, Closed)
    assert event.code == 1009
    assert close_code_sent(server.data_to_send()) == 1009


def test_send_misuse() -> None:
    client = WebSocketClient("example.com")
    with pytest.raises(LocalProtocolError):
        client.send(b"[1]")
    with pytest.raises(LocalProtocolError):
        client.ping()
    client, _server = open_pair()
    with pytest.raises(LocalProtocolError):
        client.send(b"\xff")  # JSON must be UTF-8 text
    with pytest.raises(LocalProtocolError):
        client.ping(bytes(126))
    _small_client, small_server = open_pair(max_message_size=5)
    with pytest.raises(MessageTooLargeError):
        small_server.send(b"[1,2]!")
    small_server.send(b"[1,2]")


@pytest.mark.parametrize("size", [0, -1, True, "1"])
def test_bad_sizes(size: Any) -> None:
    with pytest.raises(LocalProtocolError):
        WebSocketServer(max_message_size=size)
    with pytest.raises(LocalProtocolError):
        WebSocketClient("h", max_message_size=size)


def test_bad_server_config() -> None:
    with pytest.raises(LocalProtocolError):
        WebSocketServer(["wamp.2.yaml"])
    with pytest.raises(LocalProtocolError):
        WebSocketServer(fallback_subprotocol="json")


def test_close_before_upgrade() -> None:
    server = WebSocketServer()
    server.receive_data(OK[:20])
    server.close("handshake timeout")
    event = server.next_event()
    assert isinstance(event, Closed)
    assert event.reason == "handshake timeout"
    assert server.closed
    assert server.data_to_send() == b""
