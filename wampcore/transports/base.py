"""The framing surface shared by every transport: events, the handshake request, the protocol.

A *framing* turns the bytes of one connection into whole WAMP transport payloads and back,
without doing any I/O. Every framing (RawSocket and WebSocket, client and server roles, and the
identity framing for hosts that already deliver whole messages) has the same surface, described
by :class:`Framing`:

* ``receive_data(data)`` stores bytes read from the socket; ``b""`` means end of file.
* ``next_event()`` returns the next :data:`FramingEvent`, or ``None`` when more data is needed.
  Events come in this order: at most one :class:`Ready`, then :class:`Payload` and
  :class:`Pong` events, then exactly one :class:`Closed`; after ``Closed`` it returns ``None``
  forever. (A WebSocket server serving plain HTTP beside WAMP may instead emit one
  :class:`HttpRequest` before its ``Closed``, and no ``Ready``.)
* ``send(payload)`` frames one payload; ``data_to_send()`` drains everything queued, in order.
* ``close(reason, code)`` starts a clean local close.
* Optionally, ``frame_kind``, ``frame(payload)`` and ``send_framed(frames)``: a framing whose
  frames depend on nothing but the payload (RawSocket, a WebSocket server) names their kind, and
  a frame built by one framing may be queued on any other of the same kind. A router fanning one
  message out frames it once per (serializer, kind) this way; ``frame_kind`` None (a WebSocket
  client masks every frame afresh) or absent means ``send`` for each.

The peer's misbehaviour never raises: the reply the protocol prescribes is queued and a
:class:`Closed` event carries a :class:`~wampcore.errors.RemoteProtocolError`. Misuse of the API
(sending before ``Ready`` or after closing, an oversize payload) raises
:class:`~wampcore.errors.LocalProtocolError` (:class:`~wampcore.errors.MessageTooLargeError`
for size).

The adapter's loop is therefore: read, ``receive_data``, ``next_event`` until ``None``, write
``data_to_send()``, and once ``closed`` is true and nothing is left to write, drop the socket.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from ..errors import ProtocolError
from ..serializers import Serializer

__all__ = [
    "Closed",
    "Framing",
    "FramingEvent",
    "HandshakeRequest",
    "HttpRequest",
    "Payload",
    "Pong",
    "Ready",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class HandshakeRequest:
    """The HTTP request that opened a WebSocket, as the router needs it for auth and checks.

    Header names are lower-cased; values are decoded as ISO-8859-1 (HTTP's own rule), so any
    byte sequence survives. ``cookies`` holds the peer-supplied ``Cookie`` header pairs (the
    first occurrence of a name wins, as browsers send the most specific cookie first).
    """

    #: The request target exactly as sent: path plus optional ``?query``.
    target: str
    #: The path part of the target (before ``?``).
    path: str
    #: The query part of the target (after ``?``), without the ``?``; empty if none.
    query: str
    #: The ``Host`` header.
    host: str
    #: Every header, in order, as ``(lower-case name, value)``.
    headers: tuple[tuple[str, str], ...]
    #: Cookies from every ``Cookie`` header.
    cookies: Mapping[str, str] = field(default_factory=dict)
    #: The ``Origin`` header (browsers send it), or None.
    origin: str | None = None
    #: The subprotocols the client offered, in its order.
    subprotocols: tuple[str, ...] = ()
    #: The subprotocol the server selected (None if it bound a fallback the client did not name).
    subprotocol: str | None = None

    def get_header(self, name: str, default: str | None = None) -> str | None:
        """The first value of header ``name`` (case-insensitive), or ``default``."""
        wanted = name.lower()
        for key, value in self.headers:
            if key == wanted:
                return value
        return default


@dataclass(frozen=True, slots=True)
class Ready:
    """The transport handshake is complete.

    ``serializer`` is the negotiated serializer, configured with this framing's receive limit.
    ``request`` is the HTTP upgrade request on a WebSocket server (and whatever the host passed to
    a message framing); None otherwise.
    """

    serializer: Serializer
    request: HandshakeRequest | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpRequest:
    """A plain HTTP request (GET or HEAD, no body) for a path other than the WebSocket's.

    Only a WebSocket server built with ``http=True`` emits it, instead of a refusal; the layer
    above answers with the framing's ``respond(status, headers, body)``, after which the
    framing closes. Header names are lower-cased, values ISO-8859-1 decoded.
    """

    method: str
    target: str
    path: str
    query: str
    headers: tuple[tuple[str, str], ...]
    http_version: str = "1.1"

    def get_header(self, name: str, default: str | None = None) -> str | None:
        """The first value of header ``name`` (case-insensitive), or ``default``."""
        wanted = name.lower()
        for key, value in self.headers:
            if key == wanted:
                return value
        return default


@dataclass(frozen=True, slots=True)
class Payload:
    """One whole WAMP transport payload (for JSON over WebSocket: the text as UTF-8 bytes)."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Pong:
    """The peer answered a ``ping()`` (or sent an unsolicited pong); ``data`` is its payload."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Closed:
    """The connection is finished; no further events follow.

    ``reason`` is a human-readable explanation. ``error`` is set when the peer violated the
    protocol (its prescribed reply is already queued). ``code`` is transport specific: the
    WebSocket close code (the peer's, or the one we sent on a violation), the HTTP status of a
    refused upgrade, or the RawSocket handshake error code; None when there is none.
    """

    reason: str
    error: ProtocolError | None = None
    code: int | None = None


#: Everything ``next_event()`` can return, besides ``None``.
FramingEvent = Ready | Payload | Pong | Closed | HttpRequest


class Framing(Protocol):
    """The surface every framing implements (see the module docstring)."""

    #: True for the identity framing, whose output keeps message boundaries
    #: (``payloads_to_send()``); False for byte-stream framings (``data_to_send()``).
    message_oriented: bool

    @property
    def serializer(self) -> Serializer | None: ...

    @property
    def closed(self) -> bool: ...

    def receive_data(self, data: bytes) -> None: ...

    def next_event(self) -> FramingEvent | None: ...

    def send(self, payload: bytes) -> None: ...

    def data_to_send(self) -> bytes: ...

    def close(self, reason: str = ..., code: int | None = None) -> None: ...
