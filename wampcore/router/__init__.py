"""The router: many connections, realms, a broker and a dealer per realm, the meta API; no I/O.

Two layers, one concern per file:

* connection layer -- :mod:`.router` (``Router``: the adapter-facing API, framings, outbound
  queues and budgets, deadlines, the protocol handshakes, router-internal sessions),
  :mod:`.connection` (its records: network ``Peer`` and internal ``LocalPeer``),
  :mod:`.events` (what ``Router.next_event()`` reports);
* realm/session layer -- :mod:`.sessions` (join, leave, dispatch, deferred work),
  :mod:`.member` (what broker and dealer route to), :mod:`.session` (a joined session),
  :mod:`.realm`, :mod:`.broker` (publish, subscribe), :mod:`.dealer` (call, register),
  :mod:`.store` (retained events, history), :mod:`.hooks` (lifecycle hooks), :mod:`.meta`
  (the meta API), :mod:`.remote` (other cluster nodes' sessions as members),
  :mod:`.testament`, :mod:`.authentication` (join decisions that need more
  than the HELLO), :mod:`.authorization` (what each role may do).
"""

from .events import (
    EventsDropped,
    HandshakeTimedOut,
    HttpRequested,
    InternalError,
    LeaveCause,
    PeerAborted,
    PeerId,
    ProtocolViolation,
    RouterEvent,
    SessionJoined,
    SessionLeft,
)
from .hooks import Lifecycle
from .member import Kind, Member, Outcome
from .metrics import Metrics, Snapshot
from .router import Router

__all__ = [
    "EventsDropped",
    "HandshakeTimedOut",
    "HttpRequested",
    "InternalError",
    "Kind",
    "LeaveCause",
    "Lifecycle",
    "Member",
    "Metrics",
    "Outcome",
    "PeerAborted",
    "PeerId",
    "ProtocolViolation",
    "Router",
    "RouterEvent",
    "SessionJoined",
    "SessionLeft",
    "Snapshot",
]
