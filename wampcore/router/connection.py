"""The connection layer's records: one per connection the router carries.

``Peer`` is a network connection handed to ``Router.accept``: its framing, its bounded outbound
queue of encoded messages, its deadline. ``LocalPeer`` is a router-internal connection: a
:class:`~wampcore.transports.direct.DirectLink` to a :class:`~wampcore.client.ClientPeer` in the
same process (the meta API's service session, an embedded session), with no bytes and no budget
in between. Both run a router-side ``SessionTracker`` (the state table) and carry at most one
joined :class:`~.session.Session` at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._state import SessionTracker
from .events import PeerId

if TYPE_CHECKING:
    from ..client import ClientPeer
    from ..transports.base import Framing
    from ..transports.direct import DirectLink
    from .session import Session

__all__ = ["Connection", "LocalPeer", "Peer"]


class Connection:
    """What every connection has: an id, the state table, the session, how it is ending."""

    __slots__ = (
        "deadline",
        "deadline_stage",
        "doomed",
        "finished",
        "goodbye_sent",
        "id",
        "refusal",
        "session",
        "tracker",
        "transport_info",
    )

    def __init__(
        self, peer_id: PeerId, transport_info: dict[str, Any], tracker: SessionTracker
    ) -> None:
        self.id = peer_id
        self.transport_info = transport_info
        self.tracker = tracker
        self.session: Session | None = None
        self.deadline: float | None = None
        self.deadline_stage = "handshake"
        #: True once the router decided the connection is over (should_close).
        self.finished = False
        #: True while a router-initiated GOODBYE awaits the client's reply.
        self.goodbye_sent = False
        #: Set when the connection is to be dropped at the end of the current step: (cause,
        #: reason, message). Nothing more is sent to it meanwhile.
        self.doomed: tuple[Any, str, str] | None = None
        #: A join refusal waiting for its delayed ABORT (repeated authentication failures).
        self.refusal: Any = None

    @property
    def accepting_output(self) -> bool:
        return not self.finished and self.doomed is None


class Peer(Connection):
    """A network connection: framing, outbound queue, drop counters."""

    __slots__ = (
        "codec_key",
        "drop_counts",
        "dropped_total",
        "frame_key",
        "framed",
        "framing",
        "queue",
        "queued",
        "request",
        "send_limit",
        "serializer",
    )

    def __init__(
        self,
        peer_id: PeerId,
        framing: Framing,
        transport_info: dict[str, Any],
        tracker: SessionTracker,
    ) -> None:
        super().__init__(peer_id, transport_info, tracker)
        self.framing = framing
        self.serializer: Any = None  # a Serializer once the framing is Ready
        #: Serializers with equal keys produce identical payloads, and peers with equal frame
        #: keys (the serializer's key and ``Framing.frame_kind``) identical frames: the keys of
        #: the fan-out caches.
        self.codec_key: tuple[str, bool] = ("", False)
        self.frame_key: tuple[str, bool, object] = ("", False, None)
        #: Whether the framing's frames can be built once and shared (``Framing.frame_kind``:
        #: its ``frame`` and ``send_framed``); then ``queue`` holds frames, else payloads.
        self.framed = False
        #: Largest payload the framing will carry to the peer.
        self.send_limit = 0
        self.request: Any = None  # the WebSocket upgrade request, if any
        #: What waits for ``data_to_send``; ``queued`` counts its bytes (framing included).
        #: A list rather than a deque: an idle connection should cost as little as possible.
        self.queue: list[bytes] = []
        self.queued = 0
        self.dropped_total = 0
        #: Dropped EVENTs per cause not yet reported in an EventsDropped router event (None
        #: until the first drop: most connections never have one).
        self.drop_counts: dict[str, int] | None = None


class LocalPeer(Connection):
    """A router-internal connection over a DirectLink.

    ``identity`` is what the join admits it as (authid, authrole, authextra); ``hidden`` marks
    the router's own service sessions, which the meta API does not list and which keep no realm
    alive; ``service(client)`` is run by the router after each step to let such a session (its
    in-process ``client`` peer) handle what
    it received (embedded sessions are pumped by their adapter instead).
    """

    __slots__ = ("client", "hidden", "identity", "link", "service")

    def __init__(
        self,
        peer_id: PeerId,
        link: DirectLink,
        transport_info: dict[str, Any],
        tracker: SessionTracker,
        *,
        identity: dict[str, Any],
        hidden: bool = False,
        service: Callable[[ClientPeer], None] | None = None,
    ) -> None:
        super().__init__(peer_id, transport_info, tracker)
        self.link = link
        self.identity = identity
        self.hidden = hidden
        self.service = service
        #: The in-process client peer at the other end of ``link`` (set once it exists).
        self.client: ClientPeer | None = None
