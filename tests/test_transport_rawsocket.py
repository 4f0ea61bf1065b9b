"""RawSocket framing: handshake tables (both roles), frames, limits, boundaries, in-memory pairs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from wampcore.errors import LocalProtocolError, MessageTooLargeError, RemoteProtocolError
from wampcore.serializers import get_serializer
from wampcore.transports import (
    Closed,
    FramingEvent,
    Payload,
    Pong,
    RawSocketClient,
    RawSocketError,
    RawSocketServer,
    Ready,
)
from wampcore.transports.rawsocket import MAX_LENGTH

MiB = 1 << 20


def norm(event: FramingEvent) -> tuple[Any, ...]:
    """An event as comparable data (exceptions compare by identity, so only their type)."""
    if isinstance(event, Ready):
        return ("Ready", event.serializer.name)
    if isinstance(event, Payload):
        return ("Payload", event.data)
    if isinstance(event, Pong):
        return ("Pong", event.data)
    return ("Closed", event.code, type(event.error).__name__ if event.error else None)


def drain(framing: RawSocketServer | RawSocketClient) -> list[tuple[Any, ...]]:
    events = []
    while (event := framing.next_event()) is not None:
        events.append(norm(event))
    return events


def feed_whole(framing: RawSocketServer | RawSocketClient, data: bytes) -> list[tuple[Any, ...]]:
    framing.receive_data(data)
    return drain(framing)


def feed_bytewise(framing: RawSocketServer | RawSocketClient, data: bytes) -> list[tuple[Any, ...]]:
    events = []
    for i in range(len(data)):
        framing.receive_data(data[i : i + 1])
        events += drain(framing)
    return events


FEEDERS: dict[str, Callable[[Any, bytes], list[tuple[Any, ...]]]] = {
    "whole": feed_whole,
    "bytewise": feed_bytewise,
}

READY_JSON = ("Ready", "json")
REFUSED = "RemoteProtocolError"


def frame(kind: int, payload: bytes) -> bytes:
    return bytes((kind,)) + len(payload).to_bytes(3, "big") + payload


# (name, server kwargs, client->server bytes, expected events, expected server output, open?)
# "open" means the stream ends mid-connection, so trailing bytes (a partial next frame) must not
# change anything; otherwise the stream ends in Closed and trailing bytes are ignored.
SERVER_TABLE: list[tuple[str, dict[str, Any], bytes, list[tuple[Any, ...]], bytes]] = [
    ("json 16MiB", {}, b"\x7f\xf1\x00\x00", [READY_JSON], b"\x7f\xf1\x00\x00"),
    (
        "msgpack 1MiB, server 1MiB",
        {"max_message_size": MiB},
        b"\x7f\xb2\x00\x00",
        [("Ready", "msgpack")],
        b"\x7f\xb2\x00\x00",
    ),
    (
        "cbor 512B, server non-power-of-two rounds down",
        {"max_message_size": 3000},
        b"\x7f\x03\x00\x00",
        [("Ready", "cbor")],
        b"\x7f\x23\x00\x00",
    ),
    ("bad magic", {}, b"\x00\xf1\x00\x00", [("Closed", None, REFUSED)], b""),
    ("HTTP on a RawSocket port", {}, b"GET / HTTP/1.1\r\n", [("Closed", None, REFUSED)], b""),
    ("reserved octet 2", {}, b"\x7f\xf1\x01\x00", [("Closed", 3, REFUSED)], b"\x7f\x30\x00\x00"),
    ("reserved octet 3", {}, b"\x7f\xf1\x00\x80", [("Closed", 3, REFUSED)], b"\x7f\x30\x00\x00"),
    ("serializer id 0", {}, b"\x7f\xf0\x00\x00", [("Closed", 1, REFUSED)], b"\x7f\x10\x00\x00"),
    ("ubjson (id 4)", {}, b"\x7f\xf4\x00\x00", [("Closed", 1, REFUSED)], b"\x7f\x10\x00\x00"),
    ("serializer id 15", {}, b"\x7f\xff\x00\x00", [("Closed", 1, REFUSED)], b"\x7f\x10\x00\x00"),
    (
        "cbor not configured",
        {"serializers": ("json", 2)},
        b"\x7f\xf3\x00\x00",
        [("Closed", 1, REFUSED)],
        b"\x7f\x10\x00\x00",
    ),
    (
        "client limit too small",
        {"min_peer_max_message_size": MiB},
        b"\x7f\xa1\x00\x00",
        [("Closed", 2, REFUSED)],
        b"\x7f\x20\x00\x00",
    ),
    (
        "client limit just enough",
        {"min_peer_max_message_size": MiB},
        b"\x7f\xb1\x00\x00",
        [READY_JSON],
        b"\x7f\xf1\x00\x00",
    ),
    (
        "at capacity",
        {"at_capacity": True},
        b"\x7f\xf1\x00\x00",
        [("Closed", 4, None)],
        b"\x7f\x40\x00\x00",
    ),
    (
        "reserved bits win over capacity",
        {"at_capacity": True},
        b"\x7f\xf1\x00\x01",
        [("Closed", 3, REFUSED)],
        b"\x7f\x30\x00\x00",
    ),
    # --- frames after a good handshake ---
    (
        "message",
        {},
        b"\x7f\xf1\x00\x00" + frame(0, b"[1]"),
        [READY_JSON, ("Payload", b"[1]")],
        b"\x7f\xf1\x00\x00",
    ),
    (
        "empty message and two more",
        {},
        b"\x7f\xf1\x00\x00" + frame(0, b"") + frame(0, b"a") + frame(0, b"bc"),
        [READY_JSON, ("Payload", b""), ("Payload", b"a"), ("Payload", b"bc")],
        b"\x7f\xf1\x00\x00",
    ),
    (
        "ping gets exactly one echoing pong",
        {},
        b"\x7f\xf1\x00\x00" + frame(1, b"hello") + frame(1, b""),
        [READY_JSON],
        b"\x7f\xf1\x00\x00" + frame(2, b"hello") + frame(2, b""),
    ),
    (
        "pong surfaces",
        {},
        b"\x7f\xf1\x00\x00" + frame(2, b"xyz"),
        [READY_JSON, ("Pong", b"xyz")],
        b"\x7f\xf1\x00\x00",
    ),
    (
        "reserved frame bits",
        {},
        b"\x7f\xf1\x00\x00" + frame(0, b"ok") + b"\x10\x00\x00\x01x",
        [READY_JSON, ("Payload", b"ok"), ("Closed", None, REFUSED)],
        b"\x7f\xf1\x00\x00",
    ),
    *[
        (
            f"reserved frame type {t}",
            {},
            b"\x7f\xf1\x00\x00" + frame(t, b"x"),
            [READY_JSON, ("Closed", None, REFUSED)],
            b"\x7f\xf1\x00\x00",
        )
        for t in range(3, 8)
    ],
    (
        "2^24 bit with a nonzero length",
        {},
        b"\x7f\xf1\x00\x00" + b"\x08\x00\x00\x01",
        [READY_JSON, ("Closed", None, REFUSED)],
        b"\x7f\xf1\x00\x00",
    ),
    (
        "oversize length fails on the prefix alone",
        {"max_message_size": 512},
        b"\x7f\xf1\x00\x00" + b"\x00\x00\x02\x01",
        [READY_JSON, ("Closed", None, REFUSED)],
        b"\x7f\x01\x00\x00",
    ),
    (
        "exactly the limit is fine",
        {"max_message_size": 512},
        b"\x7f\xf1\x00\x00" + frame(0, b"z" * 512),
        [READY_JSON, ("Payload", b"z" * 512)],
        b"\x7f\x01\x00\x00",
    ),
    (
        "ping whose pong would exceed the client's limit",
        {},
        b"\x7f\x01\x00\x00" + frame(1, b"p" * 513),
        [READY_JSON, ("Closed", None, REFUSED)],
        b"\x7f\xf1\x00\x00",
    ),
]


@pytest.mark.parametrize("feeder", sorted(FEEDERS))
@pytest.mark.parametrize("trailing", [False, True])
@pytest.mark.parametrize(
    ("kwargs", "data", "expected", "output"),
    [pytest.param(*row[1:], id=row[0]) for row in SERVER_TABLE],
)
def test_server_table(
    feeder: str,
    trailing: bool,
    kwargs: dict[str, Any],
    data: bytes,
    expected: list[tuple[Any, ...]],
    output: bytes,
) -> None:
    server = RawSocketServer(**kwargs)
    if trailing:
        # A partial next frame (or junk after a close) must not change any outcome.
        data += b"\x00\x00"
    assert FEEDERS[feeder](server, data) == expected
    assert server.data_to_send() == output
    assert server.closed == (expected[-1][0] == "Closed")
    assert server.next_event() is None


# (name, client kwargs, server->client bytes, expected events)
CLIENT_TABLE: list[tuple[str, dict[str, Any], bytes, list[tuple[Any, ...]]]] = [
    ("accepted", {}, b"\x7f\xf1\x00\x00", [READY_JSON]),
    ("accepted, small server limit", {}, b"\x7f\x01\x00\x00", [READY_JSON]),
    (
        "accepted, then a frame in the same read",
        {"serializer": "cbor"},
        b"\x7f\xf3\x00\x00" + frame(0, b"\x81\x01"),
        [("Ready", "cbor"), ("Payload", b"\x81\x01")],
    ),
    *[
        (f"error reply {code}", {}, bytes((0x7F, code << 4, 0, 0)), [("Closed", code, REFUSED)])
        for code in (1, 2, 3, 4, 5, 15)
    ],
    ("error reply 0 is illegal too", {}, b"\x7f\x00\x00\x00", [("Closed", 0, REFUSED)]),
    ("wrong serializer echoed", {}, b"\x7f\xf2\x00\x00", [("Closed", None, REFUSED)]),
    ("bad magic", {}, b"\x7e\xf1\x00\x00", [("Closed", None, REFUSED)]),
    ("reserved octets", {}, b"\x7f\xf1\x00\x01", [("Closed", None, REFUSED)]),
    (
        "message over the client's limit",
        {"max_message_size": 1024},
        b"\x7f\xf1\x00\x00" + b"\x00\x00\x04\x01",
        [READY_JSON, ("Closed", None, REFUSED)],
    ),
]


@pytest.mark.parametrize("feeder", sorted(FEEDERS))
@pytest.mark.parametrize("trailing", [False, True])
@pytest.mark.parametrize(
    ("kwargs", "data", "expected"), [pytest.param(*row[1:], id=row[0]) for row in CLIENT_TABLE]
)
def test_client_table(
    feeder: str,
    trailing: bool,
    kwargs: dict[str, Any],
    data: bytes,
    expected: list[tuple[Any, ...]],
) -> None:
    client = RawSocketClient(**kwargs)
    client.data_to_send()
    if trailing:
        data += b"\x00"
    assert FEEDERS[feeder](client, data) == expected
    assert client.data_to_send() == b""


@pytest.mark.parametrize(
    ("kwargs", "handshake"),
    [
        ({}, b"\x7f\xf1\x00\x00"),
        ({"serializer": "msgpack", "max_message_size": MiB}, b"\x7f\xb2\x00\x00"),
        ({"serializer": 3, "max_message_size": 512}, b"\x7f\x03\x00\x00"),
        ({"serializer": get_serializer("cbor"), "max_message_size": 1000}, b"\x7f\x03\x00\x00"),
    ],
)
def test_client_handshake_bytes(kwargs: dict[str, Any], handshake: bytes) -> None:
    assert RawSocketClient(**kwargs).data_to_send() == handshake


def test_error_codes_enum() -> None:
    assert [int(c) for c in RawSocketError] == [1, 2, 3, 4]


# --- EOF ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", [("Closed", None, None)]),
        (b"\x7f\xf1", [("Closed", None, REFUSED)]),
        (b"\x7f\xf1\x00\x00", [READY_JSON, ("Closed", None, None)]),
        (
            b"\x7f\xf1\x00\x00" + frame(0, b"ab"),
            [READY_JSON, ("Payload", b"ab"), ("Closed", None, None)],
        ),
        (b"\x7f\xf1\x00\x00\x00\x00", [READY_JSON, ("Closed", None, REFUSED)]),
        (b"\x7f\xf1\x00\x00" + frame(0, b"ab")[:-1], [READY_JSON, ("Closed", None, REFUSED)]),
    ],
    ids=[
        "before handshake",
        "mid handshake",
        "after handshake",
        "after frame",
        "mid prefix",
        "mid payload",
    ],
)
@pytest.mark.parametrize("feeder", sorted(FEEDERS))
def test_server_eof(feeder: str, data: bytes, expected: list[tuple[Any, ...]]) -> None:
    server = RawSocketServer()
    events = FEEDERS[feeder](server, data)
    server.receive_data(b"")
    events += drain(server)
    assert events == expected
    assert server.closed
    server.receive_data(b"more")  # ignored after EOF/close
    assert server.next_event() is None


# --- boundaries -------------------------------------------------------------------------------


def opened_pair(
    client_max: int = MAX_LENGTH, server_max: int = MAX_LENGTH
) -> tuple[RawSocketClient, RawSocketServer]:
    client = RawSocketClient("msgpack", max_message_size=client_max)
    server = RawSocketServer(max_message_size=server_max)
    server.receive_data(client.data_to_send())
    assert isinstance(server.next_event(), Ready)
    client.receive_data(server.data_to_send())
    assert isinstance(client.next_event(), Ready)
    return client, server


@pytest.mark.parametrize("size", [MAX_LENGTH - 1, MAX_LENGTH])
def test_16mib_boundaries_accepted(size: int) -> None:
    client, server = opened_pair()
    payload = bytes(size)
    client.send(payload)
    wire = client.data_to_send()
    prefix = b"\x08\x00\x00\x00" if size == MAX_LENGTH else b"\x00\xff\xff\xff"
    assert wire[:4] == prefix
    assert len(wire) == size + 4
    # Fed in 1 MiB reads, the last one carrying the end of the frame.
    for i in range(0, len(wire), MiB):
        server.receive_data(wire[i : i + MiB])
        event = server.next_event()
        if i + MiB < len(wire):
            assert event is None
    assert isinstance(event, Payload)
    assert event.data == payload


def test_16mib_plus_one_refused_on_send() -> None:
    client, _ = opened_pair()
    with pytest.raises(MessageTooLargeError) as info:
        client.send(bytes(MAX_LENGTH + 1))
    assert info.value.size == MAX_LENGTH + 1
    assert info.value.limit == MAX_LENGTH
    assert client.data_to_send() == b""


@pytest.mark.parametrize("size", [MAX_LENGTH - 1, MAX_LENGTH, MAX_LENGTH + 1])
def test_16mib_boundaries_against_a_smaller_receiver(size: int) -> None:
    """A server whose limit is 8 MiB refuses each of them on the prefix alone."""
    client, server = opened_pair(server_max=MAX_LENGTH // 2)
    with pytest.raises(MessageTooLargeError):
        client.send(bytes(size))
    header = b"\x08\x00\x00\x00" if size == MAX_LENGTH else (size & 0xFFFFFF).to_bytes(4, "big")
    if size > MAX_LENGTH:
        header = b"\x08\x00\x00\x01"  # the closest a peer can get to 2^24 + 1: an invalid prefix
    server.receive_data(header)
    event = server.next_event()
    assert isinstance(event, Closed)
    assert isinstance(event.error, RemoteProtocolError)


@pytest.mark.parametrize(("limit", "ok"), [(512, True), (513, False)])
def test_send_respects_peer_limit(limit: int, ok: bool) -> None:
    client, server = opened_pair(client_max=512)
    if ok:
        server.send(bytes(limit))
        client.receive_data(server.data_to_send())
        assert client.next_event() == Payload(bytes(limit))
    else:
        with pytest.raises(MessageTooLargeError):
            server.send(bytes(limit))


# --- constructor and API misuse -----------------------------------------------------------


@pytest.mark.parametrize("size", [0, 511, True, 1.5])
def test_bad_max_message_size(size: Any) -> None:
    with pytest.raises(LocalProtocolError):
        RawSocketServer(max_message_size=size)
    with pytest.raises(LocalProtocolError):
        RawSocketClient(max_message_size=size)


@pytest.mark.parametrize("serializer", ["yaml", 0, 4, get_serializer("json", batched=True)])
def test_bad_client_serializer(serializer: Any) -> None:
    with pytest.raises(LocalProtocolError):
        RawSocketClient(serializer)


@pytest.mark.parametrize("serializers", [(), ("json", 9), ("nope",)])
def test_bad_server_serializers(serializers: Any) -> None:
    with pytest.raises(LocalProtocolError):
        RawSocketServer(serializers)


def test_send_before_handshake_and_after_close() -> None:
    client = RawSocketClient()
    with pytest.raises(LocalProtocolError):
        client.send(b"x")
    with pytest.raises(LocalProtocolError):
        client.ping(b"x")
    client, _server = opened_pair()
    client.close("bye")
    client.close("again")  # idempotent
    assert client.closed
    event = client.next_event()
    assert isinstance(event, Closed)
    assert event.reason == "bye"
    assert event.error is None
    assert client.next_event() is None
    with pytest.raises(LocalProtocolError):
        client.send(b"x")


def test_ping_must_fit_both_limits() -> None:
    client, server = opened_pair(client_max=512)
    client.ping(bytes(512))
    with pytest.raises(MessageTooLargeError):
        client.ping(bytes(513))  # the server may send it, but the echo would exceed our limit
    server.receive_data(client.data_to_send())
    assert server.next_event() is None
    client.receive_data(server.data_to_send())
    assert client.next_event() == Pong(bytes(512))


def test_close_discards_undelivered_events() -> None:
    client, server = opened_pair()
    client.send(b"a")
    client.send(b"b")
    server.receive_data(client.data_to_send())
    assert server.next_event() == Payload(b"a")
    server.close()
    event = server.next_event()
    assert isinstance(event, Closed)
    assert event.reason == "closed locally"
    assert server.next_event() is None
    assert server.data_to_send() == b""


def test_limits_above_16mib_are_clamped() -> None:
    assert RawSocketServer(max_message_size=64 * MiB).max_message_size == MAX_LENGTH
    assert RawSocketClient(max_message_size=MAX_LENGTH + 1).data_to_send() == b"\x7f\xf1\x00\x00"


def test_properties() -> None:
    client, server = opened_pair(client_max=2048, server_max=MiB)
    assert client.max_message_size == 2048
    assert client.peer_max_message_size == MiB
    assert server.peer_max_message_size == 2048
    assert server.serializer is not None
    assert server.serializer.max_size == MiB
    assert client.serializer is not None
    assert client.serializer.max_size == 2048
    assert RawSocketClient().peer_max_message_size is None


# --- in-memory pair ---------------------------------------------------------------------------


@pytest.mark.parametrize("serializer", ["json", "msgpack", "cbor"])
def test_pair_exchanges_wamp_messages(serializer: str) -> None:
    client = RawSocketClient(serializer)
    server = RawSocketServer()
    server.receive_data(client.data_to_send())
    ready = server.next_event()
    assert isinstance(ready, Ready)
    client.receive_data(server.data_to_send())
    assert isinstance(client.next_event(), Ready)
    assert client.serializer is not None
    hello = client.serializer.encode([1, "realm1", {"roles": {"caller": {}}}])
    client.send(hello)
    client.ping(b"are you there")
    server.receive_data(client.data_to_send())
    event = server.next_event()
    assert event == Payload(hello)
    assert server.next_event() is None  # parsing the PING queued its PONG
    assert ready.serializer.decode(event.data) == [[1, "realm1", {"roles": {"caller": {}}}]]
    welcome = ready.serializer.encode([2, 12345, {"roles": {"dealer": {}}}])
    server.send(welcome)
    client.receive_data(server.data_to_send())
    assert client.next_event() == Pong(b"are you there")
    assert client.next_event() == Payload(welcome)
    client.close()
    server.receive_data(b"")
    assert isinstance(server.next_event(), Closed)
    assert server.closed
