"""Application-facing router events: what ``Router.next_event()`` returns.

These report decisions the router already made (the protocol replies are queued); they are for
logging, metrics and the embedding application, never required reading. Every event names the
``peer`` (the id ``Router.accept`` returned) and, once a session exists, its ``session_id``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, NewType

from ..transports.base import HttpRequest

__all__ = [
    "AuthenticateReceived",
    "AuthenticationRequested",
    "EventsDropped",
    "HandshakeTimedOut",
    "HttpRequested",
    "InternalError",
    "LeaveCause",
    "PeerAborted",
    "PeerId",
    "ProtocolViolation",
    "RouterEvent",
    "SessionJoined",
    "SessionLeft",
]

#: A connection handed to the router by ``Router.accept``.
PeerId = NewType("PeerId", int)


class LeaveCause(enum.Enum):
    """Why a session ended (every cause runs the same removal path)."""

    GOODBYE = "goodbye"  # the client said GOODBYE (and got its reply)
    ROUTER_GOODBYE = "router_goodbye"  # the router said GOODBYE (shutdown, kill)
    ABORT = "abort"  # the client sent ABORT
    TRANSPORT_LOST = "transport_lost"  # EOF, a framing failure, or connection_lost()
    PROTOCOL_VIOLATION = "protocol_violation"  # the router sent ABORT protocol_violation
    OUTBOUND_QUEUE_FULL = "outbound_queue_full"  # the peer would not read its messages
    INTERNAL_ERROR = "internal_error"  # a router bug, contained to this peer


@dataclass(frozen=True, slots=True)
class SessionJoined:
    """A session was welcomed into ``realm``."""

    peer: PeerId
    session_id: int
    realm: str
    authid: str
    authrole: str
    authmethod: str
    authprovider: str
    transport_info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SessionLeft:
    """A session ended; its subscriptions, registrations and calls are already gone.

    ``reason`` is the WAMP URI exchanged (the GOODBYE or ABORT reason), or a description of the
    transport loss; ``message`` is human-readable detail, possibly empty.
    """

    peer: PeerId
    session_id: int
    realm: str
    authid: str
    authrole: str
    cause: LeaveCause
    reason: str
    message: str = ""


@dataclass(frozen=True, slots=True)
class PeerAborted:
    """An ABORT other than a protocol violation: ``by_peer`` True if the peer sent it.

    The router sends one to refuse a join (``wamp.error.no_such_realm``,
    ``wampcore.error.realm_full`` ...) or to drop a peer that would not read
    (``wampcore.error.outbound_queue_full``).
    ``session_id`` is None if no session had been established.
    """

    peer: PeerId
    session_id: int | None
    reason: str
    message: str
    by_peer: bool


@dataclass(frozen=True, slots=True)
class ProtocolViolation:
    """The peer broke the protocol (wamp-spec.md §3.6, or its framing's rules).

    ABORT ``wamp.error.protocol_violation`` was queued if the framing could still carry it, the
    session (if any) was removed, and the connection is closing.
    """

    peer: PeerId
    session_id: int | None
    message: str


@dataclass(frozen=True, slots=True)
class EventsDropped:
    """EVENTs for this peer were not delivered.

    ``cause``: ``"outbound_queue_full"`` (policy "drop"), ``"payload_size_exceeded"`` (larger
    than the peer's framing accepts) or ``"unencodable"`` (a value its serializer cannot carry).
    ``count`` is the number dropped since the last report for this peer and cause, ``total``
    the peer's running total over all causes. At most one report per (peer, cause) waits in the
    event queue at a time, so a slow subscriber cannot grow it.
    """

    peer: PeerId
    session_id: int | None
    cause: str
    count: int
    total: int


@dataclass(frozen=True, slots=True)
class HandshakeTimedOut:
    """The peer did not complete HELLO -> WELCOME (or a GOODBYE reply) within the deadline."""

    peer: PeerId
    stage: str  # "handshake" or "goodbye"


@dataclass(frozen=True, slots=True)
class InternalError:
    """A bug in the router while handling this peer's input; the peer was dropped.

    Tests treat any occurrence as a failure; in production it keeps one bad input from
    disturbing every other peer.
    """

    peer: PeerId
    session_id: int | None
    message: str


@dataclass(frozen=True, slots=True)
class AuthenticationRequested:
    """A client asks to join a realm with ``auth_events``: decide with ``Router.auth_welcome``,
    ``auth_challenge`` or ``auth_deny`` (any time before the handshake deadline)."""

    peer: PeerId
    realm: str
    authid: str | None
    #: The method the router picked among the client's ``authmethods``.
    authmethod: str
    authmethods: list[str]
    authextra: dict[str, Any]
    transport_info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AuthenticateReceived:
    """The AUTHENTICATE answering an application's CHALLENGE: decide as for
    ``AuthenticationRequested``. ``signature`` is a secret: it is never in ``repr``."""

    peer: PeerId
    realm: str
    authid: str | None
    authmethod: str
    signature: str = field(repr=False)
    extra: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, slots=True)
class HttpRequested:
    """A plain HTTP request arrived on a WebSocket listener that serves HTTP beside WAMP.

    Answer it with ``Router.http_respond(peer, status, headers, body)``; the connection closes
    after the answer. Unanswered, it is closed at the handshake deadline. This is the one
    router event that needs an answer: an adapter serving HTTP must read its events.
    """

    peer: PeerId
    request: HttpRequest


RouterEvent = (
    SessionJoined
    | SessionLeft
    | PeerAborted
    | ProtocolViolation
    | EventsDropped
    | HandshakeTimedOut
    | InternalError
    | AuthenticationRequested
    | AuthenticateReceived
    | HttpRequested
)
