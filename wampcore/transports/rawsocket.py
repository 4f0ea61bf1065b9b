"""RawSocket framing (wamp-spec.md §6): the 4-byte handshake and 4-byte frame prefix, both roles.

``RawSocketClient(serializer="json", max_message_size=16 MiB)`` queues its handshake as soon as
it is created. ``RawSocketServer(serializers=("json", "msgpack", "cbor"),
max_message_size=16 MiB, at_capacity=False, min_peer_max_message_size=512)`` answers the
client's handshake:

====================================================  =======================================
client handshake                                      server's answer
====================================================  =======================================
first octet is not 0x7F                               nothing: the connection is dropped
octet 2 or 3 not zero                                 error 3 (use of reserved bits)
serializer id not in ``serializers``                  error 1 (serializer unsupported)
announced limit below ``min_peer_max_message_size``   error 2 (maximum message length
                                                      unacceptable)
``at_capacity=True``                                  error 4 (maximum connection count)
otherwise                                             success: our limit, the same serializer
====================================================  =======================================

``max_message_size`` is what this side accepts. The handshake can only announce powers of two
from 512 B to 16 MiB, so other values are rounded down to one (and anything above 16 MiB
becomes 16 MiB; below 512 is refused); the announced value is the one enforced
(``max_message_size`` reports it). Each side enforces, on receive, the limit it announced
(a longer frame fails the connection as soon as its prefix arrives, so no more than the limit
plus one prefix is ever buffered) and, on send, the limit the peer announced:
``send`` raises :class:`~wampcore.errors.MessageTooLargeError` so the layer above can answer with
a proper WAMP ERROR instead.

Every PING gets exactly one PONG echoing its payload, queued as soon as the PING is parsed. A
PING whose echo would exceed the peer's own announced limit is a violation (the peer asked for a
reply it said it cannot accept). PONGs surface as :class:`~.base.Pong` events. Either role can
``ping(data)``.

Frame violations (reserved bits, a reserved frame type, a bad 2^24 marker, an oversize length, a
truncated frame at EOF) have no reply in RawSocket: the connection is simply dropped, with
:class:`~.base.Closed` carrying the :class:`~wampcore.errors.RemoteProtocolError`. The batched
serializer variants are never used here: RawSocket frames each message itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum, IntEnum

from ..errors import LocalProtocolError, MessageTooLargeError, RemoteProtocolError
from ..serializers import Serializer, get_serializer, serializer_for_rawsocket_id
from . import _shared
from .base import Closed, FramingEvent, Payload, Pong, Ready

__all__ = [
    "MAGIC",
    "MAX_LENGTH",
    "RawSocketClient",
    "RawSocketError",
    "RawSocketServer",
]

#: The first octet of every handshake (no HTTP request can start with it).
MAGIC = 0x7F
#: The largest payload RawSocket can carry: 2^24 octets (length nibble 15).
MAX_LENGTH = 1 << 24
_MIN_LENGTH = 1 << 9

_HEADER_SIZE = 4
_TYPE_MESSAGE = 0
_TYPE_PING = 1
_TYPE_PONG = 2
_LENGTH_BIT_24 = 0x08
# Compact the receive buffer only once this much has been consumed, so that parsing many small
# frames from one large read stays linear.
_COMPACT_AT = 1 << 16


class RawSocketError(IntEnum):
    """Handshake error codes (the high nibble of an error reply)."""

    SERIALIZER_UNSUPPORTED = 1
    MAX_LENGTH_UNACCEPTABLE = 2
    RESERVED_BITS = 3
    MAX_CONNECTIONS = 4


_ERROR_TEXT = {
    RawSocketError.SERIALIZER_UNSUPPORTED: "serializer unsupported",
    RawSocketError.MAX_LENGTH_UNACCEPTABLE: "maximum message length unacceptable",
    RawSocketError.RESERVED_BITS: "use of reserved bits (unsupported feature)",
    RawSocketError.MAX_CONNECTIONS: "maximum connection count reached",
}


class _State(Enum):
    HANDSHAKE = "handshake"
    OPEN = "open"
    CLOSED = "closed"


def _length_exponent(max_message_size: int) -> int:
    """The handshake nibble announcing the largest power of two <= ``max_message_size``."""
    if isinstance(max_message_size, bool) or not isinstance(max_message_size, int):
        raise LocalProtocolError("max_message_size must be an int")
    if max_message_size < _MIN_LENGTH:
        raise LocalProtocolError(
            f"RawSocket max_message_size must be at least {_MIN_LENGTH}, got {max_message_size}"
        )
    # One limit is often configured for every transport; RawSocket cannot announce more.
    return min(max_message_size, MAX_LENGTH).bit_length() - 1 - 9


def _limit(exponent: int) -> int:
    return 1 << (9 + exponent)


def _frame_header(frame_type: int, length: int) -> bytes:
    if length == MAX_LENGTH:
        return bytes((frame_type | _LENGTH_BIT_24, 0, 0, 0))
    return bytes((frame_type,)) + length.to_bytes(3, "big")


class _RawSocketFraming:
    """What both roles share: the buffer, frame parsing, PING/PONG, limits and closing."""

    message_oriented = False
    #: Whether ``next_event`` takes the shortcut for plain message frames (``_whole_message``).
    #: Off, every frame goes through ``_parse_frame``; the events are the same either way.
    fast_path = True
    #: Every RawSocket connection frames a payload into the same bytes (no masking, no per-
    #: connection state in a frame), so a router fanning one payload out to many peers frames it
    #: once for all of them (``frame``, then ``send_framed``). See :class:`~.base.Framing`.
    frame_kind: str | None = "rawsocket"

    __slots__ = (
        "_buf",
        "_closed_emitted",
        "_eof",
        "_exponent",
        "_max",
        "_out",
        "_peer_max",
        "_pending",
        "_pos",
        "_serializer",
        "_state",
    )

    def __init__(self, max_message_size: int) -> None:
        self._exponent = _length_exponent(max_message_size)
        self._max = _limit(self._exponent)
        self._peer_max = 0
        self._state = _State.HANDSHAKE
        self._serializer: Serializer | None = None
        self._buf = bytearray()
        self._pos = 0
        self._eof = False
        self._closed_emitted = False
        # A list, not a deque: one parsing step queues at most one event, so it never holds
        # more than a couple, and an idle connection should cost as little as possible.
        self._pending: list[FramingEvent] = []
        self._out: list[bytes] = []

    # -- properties --------------------------------------------------------------------------

    @property
    def serializer(self) -> Serializer | None:
        """The negotiated serializer, once the handshake is complete."""
        return self._serializer

    @property
    def closed(self) -> bool:
        """True once no more I/O is expected: drop the socket when ``data_to_send()`` is empty."""
        return self._state is _State.CLOSED

    @property
    def max_message_size(self) -> int:
        """The limit this side announced and enforces on receive."""
        return self._max

    @property
    def peer_max_message_size(self) -> int | None:
        """The limit the peer announced (enforced by ``send``), once the handshake is done."""
        return self._peer_max or None

    # -- input -------------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Store bytes read from the socket; ``b""`` means end of file.

        Data arriving after EOF or after the connection closed is ignored: the adapter may still
        have bytes in flight when the core has decided to drop the connection.
        """
        if self._eof or self._state is _State.CLOSED:
            return
        if data:
            self._buf += data
        else:
            self._eof = True

    def next_event(self) -> FramingEvent | None:
        """The next event, or None if more data is needed (or after ``Closed``)."""
        if not self._pending and self._state is _State.OPEN:
            payload = self._whole_message()
            if payload is not None:
                return Payload(payload)
        while not self._pending:
            if self._closed_emitted:
                return None
            if not self._step():
                return None
        event = self._pending.pop(0)
        if isinstance(event, Closed):
            self._closed_emitted = True
            self._pending.clear()
        return event

    def _whole_message(self) -> bytes | None:
        """The fast path of ``_parse_frame``: the payload of a complete, plain message frame at
        the head of the buffer (type 0, no reserved or 2^24 bits, within our limit), consumed;
        None for anything else, which ``_parse_frame`` then judges (``fast_path`` off gives
        the same events, see tests/test_fastpath_differential.py)."""
        buf = self._buf
        pos = self._pos
        if not self.fast_path or len(buf) - pos < _HEADER_SIZE or buf[pos]:
            return None
        length = (buf[pos + 1] << 16) | (buf[pos + 2] << 8) | buf[pos + 3]
        end = pos + _HEADER_SIZE + length
        if length > self._max or end > len(buf):
            return None
        payload = bytes(buf[pos + _HEADER_SIZE : end])
        self._pos = end
        if end >= _COMPACT_AT and end * 2 >= len(buf):
            del buf[:end]
            self._pos = 0
        return payload

    def _step(self) -> bool:
        """Parse one unit of input into ``_pending``; False if nothing can be parsed yet."""
        if self._state is _State.CLOSED:
            return False
        if self._state is _State.HANDSHAKE:
            if self._early_handshake_check():
                return True
            if self._available() < _HEADER_SIZE:
                return self._at_eof("connection closed during the RawSocket handshake")
            self._handshake(self._take(_HEADER_SIZE))
            return True
        return self._parse_frame()

    def _early_handshake_check(self) -> bool:
        """Reject a bad magic from its first octet; True if that closed the connection."""
        if self._available() >= 1 and self._buf[self._pos] != MAGIC:
            self._fail(
                "RawSocket handshake does not start with the magic octet 0x7F",
                reason="bad RawSocket magic octet",
            )
            return True
        return False

    def _parse_frame(self) -> bool:
        avail = self._available()
        if avail < _HEADER_SIZE:
            return self._at_eof("connection closed by peer", truncated=avail > 0)
        b0, b1, b2, b3 = self._buf[self._pos : self._pos + _HEADER_SIZE]
        length = (b1 << 16) | (b2 << 8) | b3
        frame_type = b0 & 0x07
        if b0 & 0xF0:
            self._fail(f"RawSocket frame has reserved bits set (first octet {b0:#04x})")
            return True
        if frame_type not in (_TYPE_MESSAGE, _TYPE_PING, _TYPE_PONG):
            self._fail(f"RawSocket frame has reserved type {frame_type}")
            return True
        if b0 & _LENGTH_BIT_24:
            if length:
                self._fail("RawSocket frame sets the 2^24 length bit with a nonzero length")
                return True
            length = MAX_LENGTH
        if length > self._max:
            self._fail(f"RawSocket frame of {length} bytes exceeds our limit of {self._max}")
            return True
        if avail < _HEADER_SIZE + length:
            return self._at_eof("connection closed by peer", truncated=True)
        self._pos += _HEADER_SIZE
        payload = self._take(length)
        if frame_type == _TYPE_MESSAGE:
            self._pending.append(Payload(payload))
        elif frame_type == _TYPE_PING:
            if length > self._peer_max:
                self._fail(
                    f"RawSocket PING of {length} bytes: its PONG would exceed the peer's own "
                    f"limit of {self._peer_max}"
                )
            else:
                self._out.append(_frame_header(_TYPE_PONG, length) + payload)
        else:
            self._pending.append(Pong(payload))
        return True

    def _at_eof(self, reason: str, *, truncated: bool = False) -> bool:
        """Finish the connection if the peer sent EOF; False (need data) otherwise."""
        if not self._eof:
            return False
        if truncated:
            self._fail("connection closed in the middle of a RawSocket frame")
        elif self._state is _State.HANDSHAKE and self._available():
            self._fail("connection closed in the middle of the RawSocket handshake")
        else:
            self._finish(Closed(reason))
        return True

    def _available(self) -> int:
        return len(self._buf) - self._pos

    def _take(self, n: int) -> bytes:
        data = bytes(self._buf[self._pos : self._pos + n])
        self._pos += n
        if self._pos >= _COMPACT_AT and self._pos * 2 >= len(self._buf):
            del self._buf[: self._pos]
            self._pos = 0
        return data

    def _handshake(self, octets: bytes) -> None:
        raise NotImplementedError

    def _open(self, serializer: Serializer, peer_exponent: int) -> None:
        self._serializer = serializer
        self._peer_max = _limit(peer_exponent)
        self._state = _State.OPEN
        self._pending.append(Ready(serializer))

    def _finish(self, event: Closed) -> None:
        self._state = _State.CLOSED
        self._buf = bytearray()
        self._pos = 0
        self._pending.append(event)

    def _fail(self, message: str, *, reason: str | None = None, code: int | None = None) -> None:
        self._finish(Closed(reason or message, RemoteProtocolError(message), code))

    # -- output ------------------------------------------------------------------------------

    def send(self, payload: bytes) -> None:
        """Frame one WAMP payload.

        Raises :class:`~wampcore.errors.MessageTooLargeError` if it exceeds the peer's announced
        limit, :class:`~wampcore.errors.LocalProtocolError` before the handshake or after close.
        """
        self._check_sendable(payload, "send")
        self._out.append(_frame_header(_TYPE_MESSAGE, len(payload)))
        self._out.append(bytes(payload))

    def frame(self, payload: bytes) -> bytes:
        """The bytes of one message frame carrying ``payload``, for ``send_framed``.

        The frame depends on nothing but the payload, so it may be queued on any RawSocket
        connection whose peer accepts its size (``peer_max_message_size``): the caller checks
        that. Raises :class:`~wampcore.errors.MessageTooLargeError` above RawSocket's own
        ceiling of 2^24 octets.
        """
        n = len(payload)
        if n > MAX_LENGTH:
            raise MessageTooLargeError(
                f"payload of {n} bytes exceeds RawSocket's limit of {MAX_LENGTH}",
                size=n,
                limit=MAX_LENGTH,
            )
        return _frame_header(_TYPE_MESSAGE, n) + payload

    def send_framed(self, frames: Iterable[bytes]) -> None:
        """Queue frames built by ``frame`` (of any RawSocket framing), in order.

        Raises :class:`~wampcore.errors.LocalProtocolError` before the handshake or after close.
        """
        if self._state is not _State.OPEN:
            raise LocalProtocolError(f"cannot send on a RawSocket that is {self._state.value}")
        self._out.extend(frames)

    def ping(self, data: bytes = b"") -> None:
        """Send a PING; the peer's echo arrives as a :class:`~.base.Pong` event.

        The payload must fit both limits, since the PONG echoes it back.
        """
        self._check_sendable(data, "ping")
        if len(data) > self._max:
            raise MessageTooLargeError(
                f"PING of {len(data)} bytes: its PONG would exceed our limit of {self._max}",
                size=len(data),
                limit=self._max,
            )
        self._out.append(_frame_header(_TYPE_PING, len(data)) + bytes(data))

    def _check_sendable(self, payload: bytes, what: str) -> None:
        if self._state is not _State.OPEN:
            raise LocalProtocolError(f"cannot {what} on a RawSocket that is {self._state.value}")
        if len(payload) > self._peer_max:
            raise MessageTooLargeError(
                f"payload of {len(payload)} bytes exceeds the peer's limit of {self._peer_max}",
                size=len(payload),
                limit=self._peer_max,
            )

    def data_to_send(self) -> bytes:
        """Everything queued for the peer, in order (b"" if nothing)."""
        if not self._out:
            return b""
        data = b"".join(self._out)
        self._out.clear()
        return data

    def close(self, reason: str = "closed locally", code: int | None = None) -> None:
        """Finish the connection; RawSocket has no close frame, so the adapter just drops it.

        ``code`` is ignored (RawSocket has no close codes). A :class:`~.base.Closed` event with
        ``reason`` follows. Idempotent.
        """
        if self._state is _State.CLOSED:
            return
        self._pending.clear()
        self._finish(Closed(reason))


class RawSocketServer(_RawSocketFraming):
    """The router side of a RawSocket connection (see the module docstring)."""

    __slots__ = ("_at_capacity", "_min_peer_max", "_serializer_ids")

    def __init__(
        self,
        serializers: Iterable[str | int] = ("json", "msgpack", "cbor"),
        *,
        max_message_size: int = MAX_LENGTH,
        at_capacity: bool = False,
        min_peer_max_message_size: int = _MIN_LENGTH,
    ) -> None:
        super().__init__(max_message_size)
        ids: set[int] = set()
        for s in serializers:
            serializer_id = s if isinstance(s, int) else get_serializer(s).rawsocket_id
            if _shared.for_rawsocket_id(serializer_id, self._max) is None:
                raise LocalProtocolError(f"unknown RawSocket serializer id {serializer_id}")
            ids.add(serializer_id)
        if not ids:
            raise LocalProtocolError("a RawSocket server needs at least one serializer")
        self._serializer_ids = frozenset(ids)
        self._at_capacity = at_capacity
        self._min_peer_max = min_peer_max_message_size

    def _handshake(self, octets: bytes) -> None:
        _, b1, b2, b3 = octets
        exponent, serializer_id = b1 >> 4, b1 & 0x0F
        if b2 or b3:
            self._refuse(RawSocketError.RESERVED_BITS, remote=True)
        elif serializer_id not in self._serializer_ids:
            self._refuse(RawSocketError.SERIALIZER_UNSUPPORTED, remote=True)
        elif _limit(exponent) < self._min_peer_max:
            self._refuse(RawSocketError.MAX_LENGTH_UNACCEPTABLE, remote=True)
        elif self._at_capacity:
            self._refuse(RawSocketError.MAX_CONNECTIONS, remote=False)
        else:
            serializer = _shared.for_rawsocket_id(serializer_id, self._max)
            assert serializer is not None  # every id in _serializer_ids was looked up
            self._out.append(bytes((MAGIC, (self._exponent << 4) | serializer_id, 0, 0)))
            self._open(serializer, exponent)

    def _refuse(self, code: RawSocketError, *, remote: bool) -> None:
        self._out.append(bytes((MAGIC, code << 4, 0, 0)))
        text = f"RawSocket handshake refused: {_ERROR_TEXT[code]}"
        self._finish(Closed(text, RemoteProtocolError(text) if remote else None, int(code)))


class RawSocketClient(_RawSocketFraming):
    """The client side of a RawSocket connection; its handshake is queued on creation.

    ``serializer`` is a name (``"json"``), a RawSocket id (1) or a non-batched
    :class:`~wampcore.serializers.Serializer`.
    """

    __slots__ = ("_serializer_id",)

    def __init__(
        self, serializer: str | int | Serializer = "json", *, max_message_size: int = MAX_LENGTH
    ) -> None:
        super().__init__(max_message_size)
        if isinstance(serializer, Serializer):
            if serializer.batched:
                raise LocalProtocolError("batched serializers are not used over RawSocket")
            serializer_id = serializer.rawsocket_id
        elif isinstance(serializer, int):
            serializer_id = serializer
        else:
            serializer_id = get_serializer(serializer).rawsocket_id
        if serializer_for_rawsocket_id(serializer_id) is None:
            raise LocalProtocolError(f"unknown RawSocket serializer id {serializer_id}")
        self._serializer_id = serializer_id
        self._out.append(bytes((MAGIC, (self._exponent << 4) | serializer_id, 0, 0)))

    def _handshake(self, octets: bytes) -> None:
        _, b1, b2, b3 = octets
        high, low = b1 >> 4, b1 & 0x0F
        if b2 or b3:
            self._fail("RawSocket handshake reply has reserved octets set")
        elif low == 0:
            try:
                text = _ERROR_TEXT[RawSocketError(high)]
            except ValueError:
                text = f"unknown error code {high}"
            self._fail(f"router refused the RawSocket handshake: {text}", code=high)
        elif low != self._serializer_id:
            self._fail(f"router answered with serializer {low}, we asked for {self._serializer_id}")
        else:
            serializer = serializer_for_rawsocket_id(low, max_size=self._max)
            assert serializer is not None  # low == our own, validated id
            self._open(serializer, high)
