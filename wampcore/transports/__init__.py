"""Framings: the bytes of one connection <-> whole WAMP transport payloads, without I/O.

RawSocket (:mod:`.rawsocket`) and WebSocket (:mod:`.websocket`), each in client and server roles,
and the identity framing (:mod:`.message`) share one surface (:mod:`.base`).
"""

from .base import (
    Closed,
    Framing,
    FramingEvent,
    HandshakeRequest,
    HttpRequest,
    Payload,
    Pong,
    Ready,
)
from .message import MessageFraming
from .rawsocket import RawSocketClient, RawSocketError, RawSocketServer
from .websocket import WebSocketClient, WebSocketServer

__all__ = [
    "Closed",
    "Framing",
    "FramingEvent",
    "HandshakeRequest",
    "HttpRequest",
    "MessageFraming",
    "Payload",
    "Pong",
    "RawSocketClient",
    "RawSocketError",
    "RawSocketServer",
    "Ready",
    "WebSocketClient",
    "WebSocketServer",
]
