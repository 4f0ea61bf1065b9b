"""WebSocket framing (RFC 6455, wamp-spec.md §5.4), both roles, no I/O.

``WebSocketServer(subprotocols=SUBPROTOCOLS, *, path="/ws", max_message_size=16 MiB,
allowed_origins=None, fallback_subprotocol=None, max_handshake_size=16 KiB, http=False)``
answers one upgrade request. It parses the request with h11 and answers it itself, so every
refusal is a complete HTTP response (then the connection is closed), never a hang:

=================================================  ====================================
request                                            answer
=================================================  ====================================
unparseable, or request head over the size limit   400 / 431 (h11's status hint)
HTTP/1.0, or a body on the upgrade request         400
path differs from ``path`` (None: any path)        404
method other than GET                              405
plain HTTP (no ``Upgrade: websocket``)             426 with ``Upgrade: websocket``
``Sec-WebSocket-Version`` missing / not 13         400 / 426 with the supported version
``Sec-WebSocket-Key`` missing or malformed         400
``Origin`` not in ``allowed_origins``              403 (no ``Origin`` header: allowed,
                                                   it is not a browser)
no acceptable ``wamp.2.*`` subprotocol             400
=================================================  ====================================

**Plain HTTP beside WebSocket** (``http=True``, with a ``path``): a request without
``Upgrade: websocket`` for any other path is not refused but surfaces as one
:class:`~.base.HttpRequest` event, for the layer above to answer with ``respond(status,
headers, body)`` (HTTP/1.0 and 1.1; the response carries ``Content-Length`` and ``Connection:
close``, no body for HEAD; then the framing closes, so there is no keep-alive). Such a request
with a method other than GET/HEAD gets 405, one with a body 400. The request head is bound by
``max_handshake_size`` as for an upgrade; bytes that arrive while the answer is awaited are
discarded, and an EOF meanwhile does not cancel the answer (a client may half-close).

The subprotocol is the first of the server's ``subprotocols`` (its preference order) that the
client offered. A client that offers none is refused unless ``fallback_subprotocol`` is set
(Autobahn assumes ``wamp.2.json`` in that case); then that serializer is bound and, as RFC 6455
requires, no ``Sec-WebSocket-Protocol`` header is sent. The accepted request is available as
``Ready.request`` and ``framing.request`` (:class:`~.base.HandshakeRequest`: path, query,
headers, cookies, origin, offered and selected subprotocol) for authentication and origin
checks above this layer.

``WebSocketClient(host, path="/ws", *, subprotocols=<the non-batched SUBPROTOCOLS>,
max_message_size=16 MiB, extra_headers=())`` queues its upgrade request on creation (``host``
is the ``Host`` header, with ``:port`` when not the default; ``extra_headers`` carries e.g.
``Origin``, ``Cookie`` or ``Authorization``). It binds to the subprotocol the server selected and
fails if the server selected none. A refused upgrade ends in ``Closed`` whose ``code`` is the HTTP
status.

Messages: JSON travels in text messages, every other serializer in binary ones; a message of
the other type is refused with close code 1003 (RFC 6455's code for data of a type the
endpoint cannot accept). Fragmented messages are reassembled, and ``max_message_size`` is
enforced on the reassembled size as the fragments arrive (close 1009), so no more than the limit
plus one read is ever held. ``send`` raises :class:`~wampcore.errors.MessageTooLargeError` above
the same limit. Pings are answered with pongs automatically; ``ping(data)`` sends one and the
answer arrives as :class:`~.base.Pong`. Frame-level violations close with 1002, or 1007 for
invalid UTF-8. ``close(reason, code=1000)`` starts the closing handshake (use 1011
for an internal error); ``closed`` becomes true, and ``Closed`` is emitted, when the peer's
close frame arrives or the peer hangs up. A peer-initiated close is answered with the echoing
close frame.

**permessage-deflate is never negotiated**: the client does not offer it and the server ignores
offers (so a client must not compress). A compressed frame (RSV1 set) is therefore a protocol
error. This keeps ``max_message_size`` an exact bound on memory (the inflation-bomb problem in
reference/peers.md §c.4 cannot arise) at the cost of bandwidth; WAMP payloads in msgpack/cbor
compress poorly anyway.

The client role runs on wsproto. The server role parses the upgrade request with h11 and, once
upgraded, its frames with a parser of its own (``_ServerConnection``, the same checks and
verdicts as wsproto's, in a fraction of the memory an idle connection would otherwise hold).
"""

from __future__ import annotations

import base64
import binascii
import codecs
from collections.abc import Iterable, Iterator, Mapping, Sequence
from types import MappingProxyType

import h11
from wsproto.connection import Connection, ConnectionState, ConnectionType
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Event,
    Ping,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)
from wsproto.events import Pong as WSPong
from wsproto.handshake import H11Handshake
from wsproto.utilities import ProtocolError as WSProtocolError
from wsproto.utilities import generate_accept_token

from ..errors import LocalProtocolError, MessageTooLargeError, RemoteProtocolError
from ..serializers import SUBPROTOCOLS, Serializer, serializer_for_subprotocol
from . import _shared
from .base import Closed, FramingEvent, HandshakeRequest, HttpRequest, Payload, Pong, Ready

__all__ = [
    "CLIENT_SUBPROTOCOLS",
    "CLOSE_INTERNAL_ERROR",
    "CLOSE_MESSAGE_TOO_BIG",
    "CLOSE_NORMAL",
    "CLOSE_PROTOCOL_ERROR",
    "CLOSE_UNSUPPORTED_DATA",
    "WebSocketClient",
    "WebSocketServer",
]

CLOSE_NORMAL = 1000
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_UNSUPPORTED_DATA = 1003
CLOSE_ABNORMAL = 1006
CLOSE_INVALID_DATA = 1007
CLOSE_MESSAGE_TOO_BIG = 1009
CLOSE_INTERNAL_ERROR = 1011

DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024
DEFAULT_MAX_HANDSHAKE_SIZE = 16 * 1024
#: What a client offers by default: the non-batched subprotocols, in the default preference order.
CLIENT_SUBPROTOCOLS: tuple[str, ...] = tuple(sp for sp in SUBPROTOCOLS if "batched" not in sp)

# Closed.reason must not depend on how the input was chunked, so wsproto's detailed parse error
# (which names byte offsets within a read) goes into the error, and the reason is fixed per code.
_FAILURE_REASONS = {
    CLOSE_PROTOCOL_ERROR: "WebSocket protocol error",
    CLOSE_UNSUPPORTED_DATA: "WebSocket message of the wrong type for the subprotocol",
    CLOSE_INVALID_DATA: "invalid UTF-8 in a WebSocket text message",
    CLOSE_MESSAGE_TOO_BIG: "WebSocket message too big",
}

_HTTP_REASONS = {
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    426: "Upgrade Required",
    431: "Request Header Fields Too Large",
}
#: Reason phrases for the statuses a plain-HTTP answer (``respond``) commonly uses.
HTTP_REASONS = {
    200: "OK",
    204: "No Content",
    301: "Moved Permanently",
    302: "Found",
    304: "Not Modified",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    414: "URI Too Long",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def _check_size(max_message_size: int) -> int:
    if isinstance(max_message_size, bool) or not isinstance(max_message_size, int):
        raise LocalProtocolError("max_message_size must be an int")
    if max_message_size < 1:
        raise LocalProtocolError(f"max_message_size must be positive, got {max_message_size}")
    return max_message_size


def _check_subprotocols(subprotocols: Iterable[str]) -> tuple[str, ...]:
    result = tuple(subprotocols)
    for sp in result:
        if serializer_for_subprotocol(sp) is None:
            raise LocalProtocolError(f"unknown WAMP subprotocol {sp!r}")
    if not result:
        raise LocalProtocolError("at least one subprotocol is needed")
    return result


def _tokens(values: Iterable[str]) -> list[str]:
    return [t.strip() for v in values for t in v.split(",") if t.strip()]


#: The cookies of a request without any, shared (most WAMP clients send none).
_NO_COOKIES: Mapping[str, str] = MappingProxyType({})


def _parse_cookies(values: Sequence[str]) -> Mapping[str, str]:
    if not values:
        return _NO_COOKIES
    cookies: dict[str, str] = {}
    for value in values:
        for pair in value.split(";"):
            name, sep, val = pair.partition("=")
            name = name.strip()
            if sep and name and name not in cookies:
                val = val.strip()
                if len(val) >= 2 and val[0] == val[-1] == '"':
                    val = val[1:-1]
                cookies[name] = val
    return cookies


def _normalise_origin(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


_OP_TEXT = 0x1
_OP_BINARY = 0x2
#: ``frame_kind`` by whether the messages are binary: shared (a router keeps one per peer).
_FRAME_KINDS: dict[bool, tuple[str, bool]] = {
    True: ("websocket", True),
    False: ("websocket", False),
}


def _unmasked_frame(opcode: int, payload: bytes) -> bytes:
    """The header of one final, unmasked data frame carrying ``payload`` (RFC 6455 §5.2)."""
    n = len(payload)
    if n < 126:
        return bytes((0x80 | opcode, n))
    if n < 65536:
        return bytes((0x80 | opcode, 126)) + n.to_bytes(2, "big")
    return bytes((0x80 | opcode, 127)) + n.to_bytes(8, "big")


_OP_CONTINUATION = 0x0
_OP_CLOSE = 0x8
_OP_PING = 0x9
_OP_PONG = 0xA
_OPCODES = frozenset((_OP_CONTINUATION, _OP_TEXT, _OP_BINARY, _OP_CLOSE, _OP_PING, _OP_PONG))
#: Close codes a peer may not send (RFC 6455 §7.4.1: they only describe a local condition).
_LOCAL_ONLY_CODES = frozenset((1005, 1006, 1015))
#: The codes of the registered range 1000-2999 a peer may send (RFC 6455 §7.4.1, plus the
#: IANA registry's 1012 and 1013); others in that range are reserved.
_KNOWN_CODES = frozenset((1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013))
_NO_STATUS = 1005


class _ParseFailed(Exception):
    def __init__(self, message: str, code: int = CLOSE_PROTOCOL_ERROR) -> None:
        super().__init__(message)
        self.code = code


def _unmask(data: bytes, mask: bytes, offset: int) -> bytes:
    """``data`` XOR the masking key (RFC 6455 §5.3), ``offset`` bytes into the frame payload."""
    n = len(data)
    if not n:
        return b""
    if offset & 3:
        mask = mask[offset & 3 :] + mask[: offset & 3]
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")


def _control_frame(opcode: int, payload: bytes) -> bytes:
    return bytes((0x80 | opcode, len(payload))) + payload


class _ServerConnection:
    """The server's RFC 6455 connection after the upgrade: parses the client's frames, builds
    the control frames it answers with.

    It stands in for wsproto's ``Connection`` (the same events, states and verdicts for what a
    server receives: masked frames, no extension negotiated), because that one keeps five
    objects, a deque and a generator alive per connection -- about 1.5 KiB for every idle
    session. Checks (§5.2 unless noted): known opcode, RSV bits clear, control frames final
    and at most 125 bytes, minimal payload length encoding with a clear top bit, frames masked
    (§5.1), continuation only within a fragmented message (§5.4), text valid UTF-8 across
    fragments (§8.1, close 1007), close payload of 0 or 2+ bytes with a sendable code and a
    UTF-8 reason (§5.5.1, §7.4). Data frame payloads are passed on as they arrive, so only a
    partial header or control frame is ever buffered here; no frame is parsed after a close
    frame or a violation.
    """

    __slots__ = (
        "_buf",
        "_done",
        "_fin",
        "_frame_op",
        "_left",
        "_mask",
        "_msg_op",
        "_offset",
        "_utf8",
        "state",
    )

    client = False

    def __init__(self, trailing: bytes) -> None:
        self.state = ConnectionState.OPEN
        self._buf = b""
        #: Payload bytes of the current data frame still to come; -1 between frames.
        self._left = -1
        self._mask = b""
        self._offset = 0
        self._fin = False
        #: The opcode of the current frame's next piece (continuation after its first piece).
        self._frame_op = 0
        #: The opcode of the message being received; 0 between messages.
        self._msg_op = 0
        self._utf8: codecs.IncrementalDecoder | None = None
        self._done = False
        if trailing:
            self.receive_data(trailing)

    def receive_data(self, data: bytes) -> None:
        if not self._done and self.state in (ConnectionState.OPEN, ConnectionState.LOCAL_CLOSING):
            self._buf = self._buf + data if self._buf else data

    def events(self) -> Iterator[Event]:
        """The events the buffered bytes make, parsed one at a time as they are taken."""
        while not self._done:
            try:
                event = self._next_event()
            except _ParseFailed as exc:
                self._done = True
                self._buf = b""
                yield CloseConnection(code=exc.code, reason=str(exc))
                return
            if event is None:
                return
            yield event

    def _next_event(self) -> Event | None:
        buf = self._buf
        if self._left < 0:
            n = len(buf)
            if n < 2:
                return None
            b0, b1 = buf[0], buf[1]
            opcode = b0 & 0x0F
            if opcode not in _OPCODES:
                raise _ParseFailed(f"Invalid opcode {opcode:#x}")
            control = opcode >= _OP_CLOSE
            fin = bool(b0 & 0x80)
            if control and not fin:
                raise _ParseFailed("Invalid attempt to fragment control frame")
            length = b1 & 0x7F
            if control and length > 125:
                raise _ParseFailed("Control frame with payload len > 125")
            pos = 2
            if length == 126:
                if n < 4:
                    return None
                length, pos = int.from_bytes(buf[2:4], "big"), 4
                if length < 126:
                    raise _ParseFailed("Payload length used 2 bytes when 1 would have sufficed")
            elif length == 127:
                if n < 10:
                    return None
                length, pos = int.from_bytes(buf[2:10], "big"), 10
                if length < 65536:
                    raise _ParseFailed("Payload length used 8 bytes when 2 would have sufficed")
                if length >> 63:
                    raise _ParseFailed("8-byte payload length with non-zero MSB")
            if b0 & 0x70:
                raise _ParseFailed("Reserved bit set unexpectedly")
            if not b1 & 0x80:
                raise _ParseFailed("server received unexpected unmasked frame")
            if n < pos + 4:
                return None
            mask = buf[pos : pos + 4]
            pos += 4
            if control:
                # Control frames are taken whole; until then the header is parsed again.
                if n < pos + length:
                    return None
                self._buf = buf[pos + length :]
                return self._control(opcode, _unmask(buf[pos : pos + length], mask, 0))
            buf = self._buf = buf[pos:]
            self._left, self._mask, self._offset = length, mask, 0
            self._fin, self._frame_op = fin, opcode
        left = self._left
        if left and not buf:
            return None
        if len(buf) > left:
            chunk, self._buf = buf[:left], buf[left:]
        else:
            chunk, self._buf = buf, b""
        payload = _unmask(chunk, self._mask, self._offset)
        self._offset += len(chunk)
        self._left = left = left - len(chunk)
        opcode = self._frame_op
        self._frame_op = _OP_CONTINUATION
        if not left:
            self._left, self._mask = -1, b""
        return self._data(opcode, payload, not left, self._fin)

    def _data(self, opcode: int, payload: bytes, frame_done: bool, fin: bool) -> Event:
        if not self._msg_op:
            if opcode == _OP_CONTINUATION:
                raise _ParseFailed("unexpected CONTINUATION")
            self._msg_op = opcode
        elif opcode != _OP_CONTINUATION:
            raise _ParseFailed(f"expected CONTINUATION, got {opcode:#x}")
        done = frame_done and fin
        if self._msg_op == _OP_BINARY:
            if done:
                self._msg_op = 0
            return BytesMessage(data=payload, frame_finished=frame_done, message_finished=done)
        try:
            if done and opcode == _OP_TEXT:
                text = payload.decode("utf-8")  # a whole message in one piece
            else:
                if self._utf8 is None:
                    self._utf8 = codecs.getincrementaldecoder("utf-8")()
                text = self._utf8.decode(payload, done)
        except UnicodeDecodeError as exc:
            raise _ParseFailed(str(exc), CLOSE_INVALID_DATA) from None
        if done:
            self._msg_op = 0
            self._utf8 = None
        return TextMessage(data=text, frame_finished=frame_done, message_finished=done)

    def _control(self, opcode: int, payload: bytes) -> Event:
        if opcode == _OP_PING:
            return Ping(payload=payload)
        if opcode == _OP_PONG:
            return WSPong(payload=payload)
        code, reason = _NO_STATUS, ""
        if len(payload) == 1:
            raise _ParseFailed("CLOSE with 1 byte payload")
        if payload:
            code = int.from_bytes(payload[:2], "big")
            if not 1000 <= code <= 4999:
                raise _ParseFailed("CLOSE with invalid code")
            if code in _LOCAL_ONLY_CODES:
                raise _ParseFailed("remote CLOSE with local-only reason")
            if code <= 2999 and code not in _KNOWN_CODES:
                raise _ParseFailed("CLOSE with unknown reserved code")
            try:
                reason = payload[2:].decode("utf-8")
            except UnicodeDecodeError as exc:
                raise _ParseFailed(
                    f"Error decoding CLOSE reason: {exc}", CLOSE_INVALID_DATA
                ) from None
        self._done = True
        self._buf = b""
        if self.state is ConnectionState.LOCAL_CLOSING:
            self.state = ConnectionState.CLOSED
        else:
            self.state = ConnectionState.REMOTE_CLOSING
        return CloseConnection(code=code, reason=reason)

    def send(self, event: Event) -> bytes:
        """The frame of a ping, pong or close (a server's data frames are built directly)."""
        state = self.state
        if isinstance(event, Ping) and state is ConnectionState.OPEN:
            return _control_frame(_OP_PING, bytes(event.payload))
        if isinstance(event, WSPong) and state is ConnectionState.OPEN:
            return _control_frame(_OP_PONG, bytes(event.payload))
        if isinstance(event, CloseConnection) and state in (
            ConnectionState.OPEN,
            ConnectionState.REMOTE_CLOSING,
        ):
            code: int | None = int(event.code)
            if code == _NO_STATUS:
                code = None
            elif code in _LOCAL_ONLY_CODES:
                code = CLOSE_NORMAL
            payload = b""
            if code is not None:
                # The reason is cut to fit a control frame, at a character boundary.
                reason = (event.reason or "").encode("utf-8")[:123]
                reason = reason.decode("utf-8", "ignore").encode("utf-8")
                payload = code.to_bytes(2, "big") + reason
            self.state = (
                ConnectionState.CLOSED
                if state is ConnectionState.REMOTE_CLOSING
                else ConnectionState.LOCAL_CLOSING
            )
            return _control_frame(_OP_CLOSE, payload)
        raise LocalProtocolError(f"cannot send {type(event).__name__} in state {state.name}")


class _WebSocketFraming:
    """What both roles share once the upgrade is done: messages, limits, ping, closing."""

    __slots__ = (
        "_closed",
        "_closed_emitted",
        "_conn",
        "_eof",
        "_in_message",
        "_local_close_reason",
        "_max",
        "_message",
        "_message_size",
        "_next",
        "_out",
        "_pending",
        "_received_any",
        "_request",
        "_serializer",
        "_subprotocols",
    )

    message_oriented = False

    def __init__(self, max_message_size: int) -> None:
        self._max = _check_size(max_message_size)
        self._conn: Connection | _ServerConnection | None = None
        self._serializer: Serializer | None = None
        self._request: HandshakeRequest | None = None
        # Events not yet returned are ``_pending[_next:]``; None once drained, like ``_out``
        # when nothing is queued (an idle connection should cost as little as possible).
        self._pending: list[FramingEvent] | None = None
        self._next = 0
        self._out: list[bytes] | None = None
        self._received_any = False
        self._eof = False
        self._closed = False
        self._closed_emitted = False
        self._local_close_reason: str | None = None
        self._in_message = False
        #: The pieces of a message that came in several (None otherwise).
        self._message: list[bytes] | None = None
        self._message_size = 0

    # -- properties --------------------------------------------------------------------------

    @property
    def serializer(self) -> Serializer | None:
        """The serializer bound to the negotiated subprotocol, once the upgrade is done."""
        return self._serializer

    @property
    def request(self) -> HandshakeRequest | None:
        """The accepted upgrade request (server role), or None."""
        return self._request

    @property
    def closed(self) -> bool:
        """True once no more I/O is expected: drop the socket when ``data_to_send()`` is empty."""
        return self._closed

    @property
    def max_message_size(self) -> int:
        """The limit on one reassembled message, in both directions."""
        return self._max

    # -- input -------------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Store bytes read from the socket; ``b""`` means end of file.

        Data after EOF or after the connection closed is ignored (it may be in flight).
        """
        if self._eof or self._closed:
            return
        if not data:
            self._eof = True
            return
        self._received_any = True
        if self._conn is None:
            self._receive_handshake(bytes(data))
        elif self._conn.state in (ConnectionState.OPEN, ConnectionState.LOCAL_CLOSING):
            self._conn.receive_data(bytes(data))

    def next_event(self) -> FramingEvent | None:
        """The next event, or None if more data is needed (or after ``Closed``)."""
        if self._pending is None and not self._closed_emitted:
            self._pump()
        pending = self._pending
        if pending is None:
            return None
        event = pending[self._next]
        self._next += 1
        if self._next == len(pending) or isinstance(event, Closed):
            self._pending = None
            self._next = 0
            if isinstance(event, Closed):
                self._closed_emitted = True
        return event

    def _pump(self) -> None:
        if self._closed:
            return
        if self._conn is None:
            self._pump_handshake()
        if self._conn is not None and not self._closed:
            self._pump_connection()
        if self._pending is None and self._eof and not self._closed:
            self._on_eof()

    def _pump_connection(self) -> None:
        assert self._conn is not None
        for ev in self._conn.events():
            if isinstance(ev, TextMessage | BytesMessage):
                self._on_message_data(ev)
            elif isinstance(ev, Ping):
                if self._conn.state is ConnectionState.OPEN:
                    self._write(self._conn.send(ev.response()))
            elif isinstance(ev, WSPong):
                if self._local_close_reason is None:
                    self._emit(Pong(bytes(ev.payload)))
            elif isinstance(ev, CloseConnection):
                self._on_close_frame(ev)
            if self._closed:
                return

    def _on_message_data(self, ev: TextMessage | BytesMessage) -> None:
        if self._local_close_reason is not None:
            return  # we are closing: messages arriving meanwhile are dropped
        assert self._serializer is not None
        is_text = isinstance(ev, TextMessage)
        if not self._in_message:
            if is_text == self._serializer.binary:
                kind = "text" if is_text else "binary"
                self._fail(
                    CLOSE_UNSUPPORTED_DATA,
                    f"{kind} message on subprotocol {self._serializer.subprotocol}",
                )
                return
            self._in_message = True
        chunk = ev.data.encode("utf-8") if isinstance(ev, TextMessage) else bytes(ev.data)
        self._message_size += len(chunk)
        if self._message_size > self._max:
            self._fail(
                CLOSE_MESSAGE_TOO_BIG,
                f"WebSocket message exceeds the limit of {self._max} bytes",
            )
            return
        if ev.message_finished:
            # The usual message comes in one piece: no list for it.
            if self._message is not None:
                self._message.append(chunk)
                chunk = b"".join(self._message)
                self._message = None
            self._emit(Payload(chunk))
            self._message_size = 0
            self._in_message = False
        elif chunk:
            if self._message is None:
                self._message = [chunk]
            else:
                self._message.append(chunk)

    def _on_close_frame(self, ev: CloseConnection) -> None:
        assert self._conn is not None
        state = self._conn.state
        code = int(ev.code)
        if state is ConnectionState.REMOTE_CLOSING:
            self._write(self._conn.send(ev.response()))
            text = f"peer closed the WebSocket with code {code}"
            self._finish(Closed(f"{text}: {ev.reason}" if ev.reason else text, None, code))
        elif state is ConnectionState.CLOSED:
            self._finish(Closed(self._local_close_reason or "closed locally", None, code))
        else:
            # wsproto reports a frame it could not parse as a CloseConnection without changing
            # state; it is our close to send.
            self._fail(code, ev.reason or "WebSocket protocol error")

    def _on_eof(self) -> None:
        if self._conn is None:
            if self._received_any:
                self._finish(
                    Closed(
                        "connection closed during the WebSocket opening handshake",
                        RemoteProtocolError("connection closed during the opening handshake"),
                    )
                )
            else:
                self._finish(Closed("connection closed before the WebSocket opening handshake"))
        elif self._in_message and self._local_close_reason is None:
            message = "connection closed in the middle of a WebSocket message"
            self._finish(Closed(message, RemoteProtocolError(message), CLOSE_ABNORMAL))
        else:
            self._finish(
                Closed(
                    "connection closed without a WebSocket close handshake", None, CLOSE_ABNORMAL
                )
            )

    def _finish(self, event: Closed) -> None:
        self._closed = True
        self._message = None
        self._emit(event)

    def _fail(self, code: int, detail: str) -> None:
        """Fail the connection for the peer's violation, sending our close frame if we can."""
        reason = _FAILURE_REASONS.get(code, "WebSocket protocol error")
        if self._conn is not None and self._conn.state is ConnectionState.OPEN:
            self._write(self._conn.send(CloseConnection(code=code, reason=reason)))
        self._finish(Closed(reason, RemoteProtocolError(detail), code))

    def _pump_handshake(self) -> None:
        raise NotImplementedError

    def _receive_handshake(self, data: bytes) -> None:
        raise NotImplementedError

    def _ready(self, serializer: Serializer, conn: Connection | _ServerConnection) -> None:
        self._serializer = serializer
        self._conn = conn
        self._emit(Ready(serializer, self._request))

    # -- output ------------------------------------------------------------------------------

    def _open_connection(self, what: str) -> Connection | _ServerConnection:
        if self._closed or self._local_close_reason is not None:
            raise LocalProtocolError(f"cannot {what}: the WebSocket is closing or closed")
        if self._conn is None or self._conn.state is not ConnectionState.OPEN:
            raise LocalProtocolError(f"cannot {what} before the WebSocket handshake completes")
        return self._conn

    def send(self, payload: bytes) -> None:
        """Send one WAMP payload as one WebSocket message (text for JSON, binary otherwise).

        Raises :class:`~wampcore.errors.MessageTooLargeError` above ``max_message_size``,
        :class:`~wampcore.errors.LocalProtocolError` before the upgrade, while closing, after
        close, or for a JSON payload that is not UTF-8.
        """
        conn = self._open_connection("send")
        assert self._serializer is not None
        if len(payload) > self._max:
            raise MessageTooLargeError(
                f"payload of {len(payload)} bytes exceeds the limit of {self._max}",
                size=len(payload),
                limit=self._max,
            )
        payload = bytes(payload)
        binary = self._serializer.binary
        if not binary and not payload.isascii():
            try:
                payload.decode("utf-8")
            except UnicodeDecodeError:
                raise LocalProtocolError("a JSON payload must be UTF-8 text") from None
        if conn.client:
            # Client frames are masked; wsproto draws the masks.
            message = BytesMessage(data=payload) if binary else TextMessage(data=payload.decode())
            self._write(conn.send(message))
        else:
            # Server frames are unmasked and never fragmented here, so the frame is a fixed
            # header plus the payload: built directly, it costs a tenth of a round trip through
            # wsproto's str/bytes message objects (this is the router's fan-out hot path).
            frame = _unmasked_frame(_OP_BINARY if binary else _OP_TEXT, payload)
            if self._out is None:
                self._out = [frame, payload]
            else:
                self._out += (frame, payload)

    @property
    def frame_kind(self) -> tuple[str, bool] | None:
        """Equal for framings whose ``frame`` gives the same bytes for the same payload: server
        framings of the same message type (text or binary), once the upgrade is done. None
        for a client (each of its frames is masked with a fresh key) and before the upgrade.
        See :class:`~.base.Framing`."""
        if self._serializer is None or self._conn is None or self._conn.client:
            return None
        return _FRAME_KINDS[self._serializer.binary]

    def frame(self, payload: bytes) -> bytes:
        """The bytes of one unfragmented, unmasked message frame carrying ``payload`` (server
        role, after the upgrade), for ``send_framed`` on any framing of the same ``frame_kind``.

        The frame depends on nothing but the payload and the message type, so the size limit
        is the caller's to check, against the ``max_message_size`` of the framing it queues the
        frame on. Raises :class:`~wampcore.errors.LocalProtocolError` without a ``frame_kind``
        or for a JSON payload that is not UTF-8.
        """
        kind = self.frame_kind
        if kind is None:
            raise LocalProtocolError("only an upgraded WebSocket server frames in advance")
        binary = kind[1]
        if not binary and not payload.isascii():
            try:
                payload.decode("utf-8")
            except UnicodeDecodeError:
                raise LocalProtocolError("a JSON payload must be UTF-8 text") from None
        return _unmasked_frame(_OP_BINARY if binary else _OP_TEXT, payload) + payload

    def send_framed(self, frames: Iterable[bytes]) -> None:
        """Queue frames built by ``frame`` (of a framing with the same ``frame_kind``), in order.

        Raises :class:`~wampcore.errors.LocalProtocolError` when ``send`` would: before the
        upgrade, while closing, after close.
        """
        self._open_connection("send")
        if self._out is None:
            self._out = list(frames)
        else:
            self._out.extend(frames)

    def ping(self, data: bytes = b"") -> None:
        """Send a ping (at most 125 bytes); the answer arrives as :class:`~.base.Pong`."""
        conn = self._open_connection("ping")
        if len(data) > 125:
            raise LocalProtocolError("a WebSocket ping carries at most 125 bytes")
        self._write(conn.send(Ping(payload=bytes(data))))

    def data_to_send(self) -> bytes:
        """Everything queued for the peer, in order (b"" if nothing)."""
        out = self._out
        if out is None:
            return b""
        self._out = None
        return b"".join(out)

    def _write(self, data: bytes) -> None:
        if self._out is None:
            self._out = [data]
        else:
            self._out.append(data)

    def _emit(self, event: FramingEvent) -> None:
        if self._pending is None:
            self._pending = [event]
        else:
            self._pending.append(event)

    def close(self, reason: str = "", code: int | None = None) -> None:
        """Start a clean close: a close frame with ``code`` (default 1000) and ``reason``.

        ``Closed`` follows when the peer answers (or hangs up). Before the upgrade completes
        there is nothing to send: the connection is just finished. Idempotent.
        """
        if code is not None and not (1000 <= code <= 4999 and code not in (1004, 1005, 1006)):
            raise LocalProtocolError(f"{code} is not a close code an endpoint may send")
        if self._closed or self._local_close_reason is not None:
            return
        self._pending = None
        self._next = 0
        if self._conn is None or self._conn.state is not ConnectionState.OPEN:
            self._finish(Closed(reason or "closed locally", None, code))
            return
        self._local_close_reason = reason or "closed locally"
        self._message = None
        self._in_message = False
        close_code = CLOSE_NORMAL if code is None else code
        self._write(self._conn.send(CloseConnection(code=close_code, reason=reason or None)))


class WebSocketServer(_WebSocketFraming):
    """The router side of a WebSocket connection (see the module docstring)."""

    __slots__ = (
        "_fallback",
        "_h11",
        "_handshake_bytes",
        "_http",
        "_http_request",
        "_max_handshake",
        "_origins",
        "_path",
    )

    def __init__(
        self,
        subprotocols: Iterable[str] = SUBPROTOCOLS,
        *,
        path: str | None = "/ws",
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        allowed_origins: Iterable[str] | None = None,
        fallback_subprotocol: str | None = None,
        max_handshake_size: int = DEFAULT_MAX_HANDSHAKE_SIZE,
        http: bool = False,
    ) -> None:
        super().__init__(max_message_size)
        #: Surface plain HTTP requests for other paths as HttpRequest (see the module docs).
        self._http = http and path is not None
        #: The plain HTTP request awaiting ``respond``.
        self._http_request: HttpRequest | None = None
        self._subprotocols = _check_subprotocols(subprotocols)
        if fallback_subprotocol is not None:
            _check_subprotocols((fallback_subprotocol,))
        self._fallback = fallback_subprotocol
        self._path = path
        self._origins = (
            None
            if allowed_origins is None
            else frozenset(_normalise_origin(o) for o in allowed_origins)
        )
        self._max_handshake = max_handshake_size
        #: The request parser until the upgrade is answered; None afterwards (an idle WAMP
        #: connection keeps no HTTP parser).
        self._h11: h11.Connection | None = h11.Connection(
            h11.SERVER, max_incomplete_event_size=max_handshake_size
        )
        self._handshake_bytes = 0

    def _receive_handshake(self, data: bytes) -> None:
        if self._http_request is not None or self._h11 is None:
            return  # no pipelining: the connection closes after the answer
        self._handshake_bytes += len(data)
        self._h11.receive_data(data)

    def _on_eof(self) -> None:
        if self._http_request is not None:
            return  # a half-closed client still gets its answer (or the deadline closes it)
        super()._on_eof()

    @property
    def http_request(self) -> HttpRequest | None:
        """The plain HTTP request awaiting ``respond``, if any."""
        return self._http_request

    def respond(
        self, status: int, headers: Sequence[tuple[str, str]] = (), body: bytes = b""
    ) -> None:
        """Answer the pending :class:`~.base.HttpRequest`, then close (see the module docs).

        ``headers`` must not include ``Content-Length`` or ``Connection`` (set here). Raises
        :class:`~wampcore.errors.LocalProtocolError` if no request awaits an answer, or for a
        status outside 100-599 or a header that would break the response head.
        """
        request = self._http_request
        if request is None or self._closed:
            raise LocalProtocolError("no plain HTTP request awaits an answer")
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
            raise LocalProtocolError(f"an HTTP status is an int in 100..599, got {status!r}")
        lines = [
            f"HTTP/1.1 {status} {HTTP_REASONS.get(status, 'Status')}",
            f"Content-Length: {len(body)}",
            "Connection: close",
        ]
        for name, value in headers:
            if (
                not name
                or not _TOKEN_CHARS.issuperset(name)
                or any(c in value for c in "\r\n\0")
                or name.lower() in ("content-length", "connection", "transfer-encoding")
            ):
                raise LocalProtocolError(f"invalid response header {name!r:.60}")
            lines.append(f"{name}: {value}")
        try:
            head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        except UnicodeEncodeError:
            raise LocalProtocolError("response headers must be ISO-8859-1 text") from None
        self._write(head if request.method == "HEAD" else head + bytes(body))
        self._finish(Closed(f"HTTP {status} answered", None, status))

    def _pump_handshake(self) -> None:
        if self._http_request is not None or self._h11 is None:
            return  # answered by respond()
        try:
            event = self._h11.next_event()
        except h11.RemoteProtocolError as exc:
            self._reject(exc.error_status_hint, "bad HTTP request", str(exc))
            return
        if isinstance(event, h11.Request):
            # h11 applies its limit only while the head is incomplete; apply it to a head that
            # arrived whole too, so the outcome does not depend on how the bytes were split.
            head_size = self._handshake_bytes - len(self._h11.trailing_data[0])
            if head_size > self._max_handshake:
                self._reject(431, "bad HTTP request", "request head too large")
            else:
                self._on_request(event)

    def _on_request(self, req: h11.Request) -> None:
        headers = tuple(_header(k, v) for k, v in req.headers)

        def values(name: str) -> list[str]:
            return [v for k, v in headers if k == name]

        target = req.target.decode("latin-1")
        path, _, query = target.partition("?")
        if self._http and path != self._path:
            upgrade_tokens = [t.lower() for t in _tokens(values("upgrade"))]
            if "websocket" not in upgrade_tokens:
                self._on_http(req, target, path, query, headers)
                return
        if req.http_version != b"1.1":
            self._reject(400, "WebSocket needs HTTP/1.1")
            return
        if self._path is not None and path != self._path:
            self._reject(404, f"no WebSocket endpoint at this path (try {self._path})")
            return
        if req.method != b"GET":
            self._reject(405, "a WebSocket upgrade must be a GET", headers=[("Allow", "GET")])
            return
        upgrade = [t.lower() for t in _tokens(values("upgrade"))]
        connection = [t.lower() for t in _tokens(values("connection"))]
        if "websocket" not in upgrade or "upgrade" not in connection:
            self._reject(
                426,
                "this endpoint speaks WebSocket (WAMP) only",
                headers=[("Upgrade", "websocket")],
            )
            return
        versions = _tokens(values("sec-websocket-version"))
        if not versions:
            self._reject(400, "missing Sec-WebSocket-Version")
            return
        if versions != ["13"]:
            self._reject(
                426,
                "unsupported WebSocket version",
                headers=[("Sec-WebSocket-Version", "13")],
            )
            return
        keys = values("sec-websocket-key")
        if len(keys) != 1 or not _valid_key(keys[0]):
            self._reject(400, "missing or malformed Sec-WebSocket-Key")
            return
        if values("transfer-encoding") or any(v.strip() != "0" for v in values("content-length")):
            self._reject(400, "a WebSocket upgrade request has no body")
            return
        origins = values("origin")
        origin = origins[0] if origins else None
        if (
            self._origins is not None
            and origin is not None
            and _normalise_origin(origin) not in self._origins
        ):
            self._reject(403, "origin not allowed")
            return
        offered = tuple(_tokens(values("sec-websocket-protocol")))
        chosen: str | None = next((sp for sp in self._subprotocols if sp in offered), None)
        bound = chosen if chosen is not None or offered else self._fallback
        if bound is None:
            self._reject(
                400,
                "no acceptable subprotocol; this server speaks " + ", ".join(self._subprotocols),
            )
            return
        serializer = _shared.for_subprotocol(bound, self._max)
        assert serializer is not None  # validated in __init__
        self._request = HandshakeRequest(
            target=target,
            path=path,
            query=query,
            host=values("host")[0] if values("host") else "",
            headers=headers,
            cookies=_parse_cookies(values("cookie")),
            origin=origin,
            subprotocols=offered,
            subprotocol=chosen,
        )
        accept = generate_accept_token(keys[0].strip().encode("ascii")).decode("ascii")
        lines = [
            "HTTP/1.1 101 Switching Protocols",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Accept: {accept}",
        ]
        if chosen is not None:
            lines.append(f"Sec-WebSocket-Protocol: {chosen}")
        self._write(("\r\n".join(lines) + "\r\n\r\n").encode("ascii"))
        # Bytes after the request head (a client that did not wait for our 101) belong to the
        # WebSocket; h11 still holds them.
        assert self._h11 is not None  # the request came through it
        trailing = self._h11.trailing_data[0]
        self._h11 = None  # release the parser and its buffer
        self._ready(serializer, _ServerConnection(bytes(trailing)))

    def _on_http(
        self,
        req: h11.Request,
        target: str,
        path: str,
        query: str,
        headers: tuple[tuple[str, str], ...],
    ) -> None:
        method = req.method.decode("latin-1")
        if method not in ("GET", "HEAD"):
            self._reject(405, "only GET and HEAD are served here", headers=[("Allow", "GET, HEAD")])
            return
        lengths = [v for k, v in headers if k == "content-length"]
        if any(k == "transfer-encoding" for k, _ in headers) or any(
            v.strip() != "0" for v in lengths
        ):
            self._reject(400, "a GET or HEAD request has no body")
            return
        self._http_request = HttpRequest(
            method=method,
            target=target,
            path=path,
            query=query,
            headers=headers,
            http_version=req.http_version.decode("ascii"),
        )
        self._h11 = h11.Connection(h11.SERVER)  # release the request buffer
        self._emit(self._http_request)

    def _reject(
        self,
        status: int,
        message: str,
        detail: str | None = None,
        *,
        headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        body = (message + "\n").encode("utf-8")
        lines = [
            f"HTTP/1.1 {status} {_HTTP_REASONS.get(status, 'Error')}",
            "Content-Type: text/plain; charset=utf-8",
            f"Content-Length: {len(body)}",
            "Connection: close",
            *(f"{k}: {v}" for k, v in headers),
        ]
        self._write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        text = f"HTTP {status}: {message}"
        self._finish(Closed(text, RemoteProtocolError(detail or message), status))


_TOKEN_CHARS = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)


#: Header texts seen before, shared: every connection of one client library sends the same names
#: and mostly the same values, and the accepted request lives as long as its connection.
#: Bounded (peers choose them); values that are unique per connection (keys) are short-lived.
_TEXTS: dict[bytes, str] = {}
_TEXTS_LIMIT = 512


def _text(raw: bytes) -> str:
    text = _TEXTS.get(raw)
    if text is None:
        text = raw.decode("latin-1")
        if len(_TEXTS) < _TEXTS_LIMIT and len(raw) <= 64:
            _TEXTS[bytes(raw)] = text
    return text


#: Whole ``(name, value)`` header pairs seen before, shared the same way (most pairs of a client
#: library's requests are the same on every connection); bounded like ``_TEXTS``.
_HEADERS: dict[tuple[bytes, bytes], tuple[str, str]] = {}


def _header(name: bytes, value: bytes) -> tuple[str, str]:
    key = (name, value)
    pair = _HEADERS.get(key)
    if pair is None:
        pair = (_text(name), _text(value))
        if len(_HEADERS) < _TEXTS_LIMIT and len(value) <= 64 and name != b"sec-websocket-key":
            _HEADERS[(bytes(name), bytes(value))] = pair
    return pair


def _valid_key(key: str) -> bool:
    try:
        return len(base64.b64decode(key.strip(), validate=True)) == 16
    except (binascii.Error, ValueError):
        return False


class WebSocketClient(_WebSocketFraming):
    """The client side of a WebSocket connection; its upgrade request is queued on creation."""

    __slots__ = ("_handshake", "_handshake_error")

    def __init__(
        self,
        host: str,
        path: str = "/ws",
        *,
        subprotocols: Iterable[str] = CLIENT_SUBPROTOCOLS,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        extra_headers: Sequence[tuple[str | bytes, str | bytes]] = (),
    ) -> None:
        super().__init__(max_message_size)
        self._subprotocols = _check_subprotocols(subprotocols)
        self._handshake = H11Handshake(ConnectionType.CLIENT)
        headers = [
            (
                k.encode("latin-1") if isinstance(k, str) else k,
                v.encode("latin-1") if isinstance(v, str) else v,
            )
            for k, v in extra_headers
        ]
        try:
            request = self._handshake.send(
                Request(
                    host=host,
                    target=path,
                    extra_headers=headers,
                    subprotocols=list(self._subprotocols),
                )
            )
        except (WSProtocolError, h11.LocalProtocolError, UnicodeError) as exc:
            raise LocalProtocolError(f"invalid WebSocket upgrade request: {exc}") from None
        self._write(request)
        self._handshake_error: str | None = None

    def _receive_handshake(self, data: bytes) -> None:
        conn = self._handshake.connection
        if conn is not None:
            # Upgraded, but next_event has not yet collected the AcceptConnection.
            if conn.state is ConnectionState.OPEN:
                conn.receive_data(data)
            return
        if self._handshake.state is not ConnectionState.CONNECTING:
            return
        try:
            self._handshake.receive_data(data)
        except WSProtocolError as exc:
            self._handshake_error = str(exc)
        except h11.ProtocolError as exc:
            self._handshake_error = f"bad HTTP response: {exc}"

    def _pump_handshake(self) -> None:
        for ev in self._handshake.events():
            if isinstance(ev, RejectConnection):
                text = f"HTTP {ev.status_code}: the server refused the WebSocket upgrade"
                self._finish(Closed(text, RemoteProtocolError(text), ev.status_code))
                return
            if isinstance(ev, AcceptConnection):
                self._on_accept(ev)
                return
            if isinstance(ev, RejectData):
                continue
        if self._handshake_error is not None:
            message = "invalid WebSocket upgrade response"
            self._finish(Closed(message, RemoteProtocolError(self._handshake_error)))

    def _on_accept(self, ev: AcceptConnection) -> None:
        conn = self._handshake.connection
        assert conn is not None  # wsproto creates it together with AcceptConnection
        serializer = (
            None
            if ev.subprotocol is None
            else serializer_for_subprotocol(ev.subprotocol, max_size=self._max)
        )
        if serializer is None:
            self._conn = conn
            self._fail(CLOSE_PROTOCOL_ERROR, "the server selected no WAMP subprotocol")
            return
        self._ready(serializer, conn)
