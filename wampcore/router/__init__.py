"""The router: many peers, realms, a broker and a dealer per realm, outbound budgets; no I/O.

``Router`` (in :mod:`.router`) is the one object an adapter drives; :mod:`.events` holds what
``Router.next_event()`` reports.
"""

from .events import (
    EventsDropped,
    HandshakeTimedOut,
    InternalError,
    LeaveCause,
    PeerAborted,
    PeerId,
    ProtocolViolation,
    RouterEvent,
    SessionJoined,
    SessionLeft,
)
from .router import Router

__all__ = [
    "EventsDropped",
    "HandshakeTimedOut",
    "InternalError",
    "LeaveCause",
    "PeerAborted",
    "PeerId",
    "ProtocolViolation",
    "Router",
    "RouterEvent",
    "SessionJoined",
    "SessionLeft",
]
