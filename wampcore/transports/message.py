"""Identity framing for hosts whose WebSocket already delivers whole messages (Starlette, aiohttp).

``MessageFraming(serializer, *, request=None, max_message_size=16 MiB)``: the host has done the
upgrade and negotiated the subprotocol itself, so ``serializer`` is a
:class:`~wampcore.serializers.Serializer` or a subprotocol name (``"wamp.2.json"``), and
``request`` is whatever :class:`~.base.HandshakeRequest` the host can build from its own request
object (it is passed through on ``Ready``). ``Ready`` is available immediately.

The surface is the one every framing has, with two differences that keep message boundaries:

* ``receive_data(message)`` takes exactly one whole message per call. ``str`` (a text message)
  is accepted and encoded as UTF-8; a text message on a binary subprotocol is refused with close
  code 1003, as the WebSocket framing does. ``b""`` means the host's connection ended (an empty
  message is never a valid WAMP payload, so nothing is lost).
* Output is ``payloads_to_send() -> list[bytes]``, one entry per message; send each as a text
  message when ``serializer.binary`` is false, binary otherwise. ``data_to_send()`` raises
  :class:`~wampcore.errors.LocalProtocolError`, because concatenating would lose the boundaries
  (``message_oriented`` is True so generic code can tell).

On ``Closed``, the host closes its WebSocket with ``event.code`` when it is set (1000 after a
local ``close()``, 1003 or 1009 after a violation).
"""

from __future__ import annotations

from collections import deque

from ..errors import LocalProtocolError, MessageTooLargeError, RemoteProtocolError
from ..serializers import Serializer, get_serializer, serializer_for_subprotocol
from .base import Closed, FramingEvent, HandshakeRequest, Payload, Ready

__all__ = ["MessageFraming"]

_CLOSE_NORMAL = 1000
_CLOSE_UNSUPPORTED_DATA = 1003
_CLOSE_MESSAGE_TOO_BIG = 1009


class MessageFraming:
    """One connection of a host that delivers whole WebSocket messages (see the module docs)."""

    message_oriented = True

    def __init__(
        self,
        serializer: Serializer | str,
        *,
        request: HandshakeRequest | None = None,
        max_message_size: int = 16 * 1024 * 1024,
    ) -> None:
        if isinstance(max_message_size, bool) or not isinstance(max_message_size, int):
            raise LocalProtocolError("max_message_size must be an int")
        if max_message_size < 1:
            raise LocalProtocolError(f"max_message_size must be positive, got {max_message_size}")
        self._max = max_message_size
        if isinstance(serializer, str):
            found = serializer_for_subprotocol(serializer, max_size=max_message_size)
            if found is None:
                raise LocalProtocolError(f"unknown WAMP subprotocol {serializer!r}")
            self._serializer = found
        else:
            self._serializer = get_serializer(
                serializer.name, batched=serializer.batched, max_size=max_message_size
            )
        self._request = request
        self._pending: deque[FramingEvent] = deque([Ready(self._serializer, request)])
        self._inbox: deque[bytes | str] = deque()
        self._out: list[bytes] = []
        self._eof = False
        self._closed = False
        self._closed_emitted = False

    @property
    def serializer(self) -> Serializer:
        """The serializer the host negotiated, configured with ``max_message_size``."""
        return self._serializer

    @property
    def request(self) -> HandshakeRequest | None:
        """The request info the host passed in, if any."""
        return self._request

    @property
    def closed(self) -> bool:
        """True once no more I/O is expected: close the host WebSocket after draining."""
        return self._closed

    @property
    def max_message_size(self) -> int:
        """The limit on one message, in both directions."""
        return self._max

    def receive_data(self, data: bytes | str) -> None:
        """Store one whole message (``b""``: the connection ended). Ignored after close/EOF."""
        if self._eof or self._closed:
            return
        if not data:
            self._eof = True
        else:
            self._inbox.append(data)

    def next_event(self) -> FramingEvent | None:
        """The next event, or None if no message is waiting (or after ``Closed``)."""
        if not self._pending and not self._closed:
            self._step()
        if not self._pending:
            return None
        event = self._pending.popleft()
        if isinstance(event, Closed):
            self._closed_emitted = True
            self._pending.clear()
        return event

    def _step(self) -> None:
        if not self._inbox:
            if self._eof:
                self._finish(Closed("connection closed by peer"))
            return
        message = self._inbox.popleft()
        if isinstance(message, str):
            if self._serializer.binary:
                self._fail(
                    _CLOSE_UNSUPPORTED_DATA,
                    "WebSocket message of the wrong type for the subprotocol",
                    f"text message on subprotocol {self._serializer.subprotocol}",
                )
                return
            message = message.encode("utf-8")
        if len(message) > self._max:
            self._fail(
                _CLOSE_MESSAGE_TOO_BIG,
                "WebSocket message too big",
                f"message of {len(message)} bytes exceeds the limit of {self._max}",
            )
            return
        self._pending.append(Payload(bytes(message)))

    def _finish(self, event: Closed) -> None:
        self._closed = True
        self._inbox.clear()
        self._pending.append(event)

    def _fail(self, code: int, reason: str, detail: str) -> None:
        self._finish(Closed(reason, RemoteProtocolError(detail), code))

    def send(self, payload: bytes) -> None:
        """Queue one WAMP payload as one message.

        Raises :class:`~wampcore.errors.MessageTooLargeError` above ``max_message_size`` and
        :class:`~wampcore.errors.LocalProtocolError` after close.
        """
        if self._closed:
            raise LocalProtocolError("cannot send: the connection is closed")
        if len(payload) > self._max:
            raise MessageTooLargeError(
                f"payload of {len(payload)} bytes exceeds the limit of {self._max}",
                size=len(payload),
                limit=self._max,
            )
        self._out.append(bytes(payload))

    def payloads_to_send(self) -> list[bytes]:
        """Every queued message, in order, one list entry per message."""
        out, self._out = self._out, []
        return out

    def data_to_send(self) -> bytes:
        """Not available: use ``payloads_to_send()``, which keeps message boundaries."""
        raise LocalProtocolError(
            "MessageFraming keeps message boundaries: use payloads_to_send() instead"
        )

    def close(self, reason: str = "", code: int | None = None) -> None:
        """Finish the connection; ``Closed`` carries ``code`` (default 1000) for the host."""
        if self._closed:
            return
        self._pending.clear()
        self._finish(
            Closed(reason or "closed locally", None, _CLOSE_NORMAL if code is None else code)
        )
