"""The WebSocket server's own frame parser against wsproto's, on random client byte streams.

``WebSocketServer`` parses an upgraded connection's frames itself (``_ServerConnection``, to keep
an idle session small, issue 11) instead of with wsproto. RFC 6455 §5 (framing), §5.4
(fragmentation), §5.5.1 and §7.4 (close codes) and §8.1 (UTF-8) define what a server must accept
and refuse; wsproto implements them, so it is the reference: on every input, split at any
points, both must produce the same events in the same order (message pieces, pings, pongs,
the close or the violation with its close code) and end in the same state.
"""

from __future__ import annotations

import struct
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wsproto.connection import Connection, ConnectionState, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, Ping, Pong, TextMessage
from wsproto.frame_protocol import CloseReason

from wampcore.transports.websocket import _ServerConnection


def _frame(
    opcode: int,
    payload: bytes,
    *,
    fin: bool = True,
    rsv: int = 0,
    masked: bool = True,
    mask: bytes = b"\x01\x02\x03\x04",
    length_form: int | None = None,
) -> bytes:
    """One client frame; ``length_form`` forces the 7-bit, 16-bit or 64-bit length (7, 16, 64)."""
    n = len(payload)
    form = length_form or (7 if n < 126 else 16 if n < 65536 else 64)
    head = bytes(((0x80 if fin else 0) | (rsv << 4) | opcode,))
    bit = 0x80 if masked else 0
    if form == 7:
        head += bytes((bit | (n & 0x7F),))
    elif form == 16:
        head += bytes((bit | 126,)) + struct.pack("!H", n & 0xFFFF)
    else:
        head += bytes((bit | 127,)) + struct.pack("!Q", n)
    if not masked:
        return head + payload
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def _normalise(event: Any) -> tuple[Any, ...]:
    if isinstance(event, TextMessage | BytesMessage):
        kind = "text" if isinstance(event, TextMessage) else "bytes"
        return (kind, event.data, event.frame_finished, event.message_finished)
    if isinstance(event, Ping | Pong):
        return (type(event).__name__, bytes(event.payload))
    assert isinstance(event, CloseConnection)
    return ("close", int(event.code))


def _run(conn: Any, chunks: list[bytes]) -> tuple[list[tuple[Any, ...]], ConnectionState]:
    seen: list[tuple[Any, ...]] = []
    for chunk in chunks:
        if conn.state not in (ConnectionState.OPEN, ConnectionState.LOCAL_CLOSING):
            break
        conn.receive_data(chunk)
        for event in conn.events():
            seen.append(_normalise(event))
            if seen[-1][0] == "close":
                return seen, conn.state
    return seen, conn.state


def _same_verdict(stream: bytes, cuts: list[int]) -> None:
    points = sorted({c % (len(stream) + 1) for c in cuts})
    chunks = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]
    chunks = [c for c in chunks if c]
    reference = _run(Connection(ConnectionType.SERVER), chunks)
    ours = _run(_ServerConnection(b""), chunks)
    assert ours == reference


_TEXT = st.text(max_size=40).map(lambda t: t.encode("utf-8"))
_CLOSE_PAYLOAD = st.one_of(
    st.just(b""),
    st.binary(min_size=1, max_size=1),
    st.tuples(st.integers(0, 5100), st.one_of(_TEXT, st.binary(max_size=8))).map(
        lambda cr: struct.pack("!H", cr[0]) + cr[1]
    ),
)


@st.composite
def _frames(draw: st.DrawFn) -> bytes:
    out = b""
    for _ in range(draw(st.integers(1, 6))):
        opcode = draw(st.sampled_from([0, 1, 1, 2, 2, 8, 9, 10, 3, 11]))
        if opcode == 8:
            payload = draw(_CLOSE_PAYLOAD)
        elif opcode in (1, 0) and draw(st.booleans()):
            payload = draw(_TEXT)
            if payload and draw(st.booleans()):  # cut inside a character: fragmented UTF-8
                payload = payload[: draw(st.integers(0, len(payload)))]
        else:
            payload = draw(st.binary(max_size=300))
        out += _frame(
            opcode,
            payload,
            fin=draw(st.sampled_from([True, True, False])),
            rsv=draw(st.sampled_from([0, 0, 0, 0, 1, 4])),
            masked=draw(st.sampled_from([True] * 9 + [False])),
            mask=draw(st.binary(min_size=4, max_size=4)),
            length_form=draw(st.sampled_from([None, None, None, 7, 16, 64])),
        )
    return out


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_frames(), st.lists(st.integers(0, 2000), max_size=8))
def test_frame_streams_get_wsproto_verdicts_rfc6455_section_5(
    stream: bytes, cuts: list[int]
) -> None:
    _same_verdict(stream, cuts)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_frames(), st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 255)), max_size=4))
def test_mutated_frame_streams_get_wsproto_verdicts_rfc6455_section_5(
    stream: bytes, flips: list[tuple[int, int]]
) -> None:
    data = bytearray(stream)
    for at, value in flips:
        data[at % len(data)] = value
    _same_verdict(bytes(data), [at for at, _ in flips])


def test_rfc6455_section_5_cases_by_hand() -> None:
    """Named cases of §5.2, §5.4, §5.5 and §7.4, each split at every byte."""
    cases = [
        _frame(1, "héllo".encode()),  # a text message
        _frame(1, "hé".encode()[:2], fin=False) + _frame(0, "hé".encode()[2:]),  # UTF-8 split
        _frame(1, b"\xff"),  # invalid UTF-8: 1007
        _frame(0, b"x"),  # continuation without a message: 1002
        _frame(2, b"a", fin=False) + _frame(2, b"b"),  # new message mid-message: 1002
        _frame(9, b"ping") + _frame(10, b"pong"),
        _frame(9, b"x", fin=False),  # fragmented control frame: 1002
        _frame(9, bytes(126)),  # control frame over 125 bytes: 1002
        _frame(2, b"abc", length_form=16),  # non-minimal length: 1002
        _frame(2, bytes(200), length_form=64),  # non-minimal length: 1002
        _frame(2, b"abc", masked=False),  # unmasked client frame: 1002
        _frame(2, b"abc", rsv=4),  # RSV1 without an extension: 1002
        _frame(3, b""),  # reserved opcode: 1002
        _frame(8, b""),  # close without a code: 1005
        _frame(8, struct.pack("!H", 1000) + b"bye") + _frame(2, b"after"),
        _frame(8, b"\x03"),  # 1-byte close payload: 1002
        _frame(8, struct.pack("!H", 1005)),  # local-only code: 1002
        _frame(8, struct.pack("!H", 1004)),  # reserved code: 1002
        _frame(8, struct.pack("!H", 4999)),  # private range: accepted
        _frame(8, struct.pack("!H", 1000) + b"\xff"),  # reason not UTF-8: 1007
        _frame(2, bytes(70000)),  # 64-bit length
    ]
    for stream in cases:
        for cut in range(len(stream) + 1):
            _same_verdict(stream, [cut])
    stream = _frame(2, bytes(70000))
    for cut in range(0, len(stream), 997):
        _same_verdict(stream, [cut, cut + 3, cut + 1000])


def test_server_answers_ping_and_close_like_wsproto_rfc6455_section_5_5() -> None:
    """The pong echoes the ping's payload (§5.5.3); the close reply echoes the code (§5.5.1),
    its reason cut to fit a control frame; a close without a code is answered without one."""
    for event in [
        Pong(payload=b"abc"),
        Ping(payload=b""),
        CloseConnection(code=1000, reason="x" * 200),
        CloseConnection(code=1000, reason="é" * 100),
        CloseConnection(code=CloseReason.NO_STATUS_RCVD, reason=""),  # as a code-less close parses
        CloseConnection(code=1006),
        CloseConnection(code=3000, reason="custom"),
    ]:
        ours = _ServerConnection(b"").send(event)
        reference = Connection(ConnectionType.SERVER).send(event)
        assert ours == reference, event
