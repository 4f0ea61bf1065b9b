"""The router's records of connections (``Peer``) and joined sessions (``Session``).

A ``Peer`` is one connection handed to ``Router.accept``: its framing, its session-state
tracker, its bounded outbound queue and its deadline. A ``Session`` is what a successful HELLO
adds on top: the identity WELCOME announced and the indexes the removal path walks (the
session's subscriptions, registrations, calls it made and invocations it owes), so that removing
a session touches only what it owns.

``Outlet`` is the narrow surface the broker and dealer use to put messages on the wire; the
Router implements it (encoding, size limits, budgets, the state table).
"""

from __future__ import annotations

import enum
from collections import deque
from typing import TYPE_CHECKING, Any, Protocol

from .._state import SessionTracker
from .events import PeerId

if TYPE_CHECKING:
    from ..messages import Error, Event, Interrupt, Invocation, Message, Result
    from ..transports.base import Framing
    from .broker import Subscription
    from .dealer import CallRecord, Registration
    from .realm import Realm

__all__ = ["Outcome", "Outlet", "Peer", "Session"]


class Outcome(enum.Enum):
    """What became of one message the router tried to send."""

    SENT = "sent"  # queued for the peer
    TOO_LARGE = "too_large"  # larger than the peer's framing accepts
    UNENCODABLE = "unencodable"  # the peer's serializer cannot carry a value in it
    NO_ROOM = "no_room"  # the peer's outbound queue is full
    GONE = "gone"  # the peer is leaving; nothing more is sent to it
    IGNORED = "ignored"  # the state table says the message is moot (e.g. already answered)


class Outlet(Protocol):
    """How the broker and dealer send; implemented by the Router."""

    def reply(self, session: Session, msg: Message) -> Outcome:
        """A reply or control message that must not be dropped: NO_ROOM drops the peer."""
        ...

    def send_result(self, session: Session, msg: Result | Error) -> Outcome:
        """A RESULT/ERROR for a call: like ``reply``, but TOO_LARGE/UNENCODABLE are returned
        (the dealer substitutes an ERROR) instead of dropping the peer."""
        ...

    def invoke(self, session: Session, msg: Invocation) -> Outcome:
        """An INVOCATION: refused (NO_ROOM) once the queue passes the soft budget."""
        ...

    def interrupt(self, session: Session, msg: Interrupt) -> Outcome:
        """An INTERRUPT (a control message, sent like ``reply``)."""
        ...

    def fan_out(self, event: Event, recipients: list[Session]) -> int:
        """One EVENT to many sessions, encoded once per serializer; returns how many got it."""
        ...

    def schedule(self, record: CallRecord) -> None:
        """Arm ``record.deadline`` (a call timeout)."""
        ...

    def random_index(self, n: int) -> int:
        """A uniform index in [0, n) from the router's random source."""
        ...


class Peer:
    """One connection: framing, state tracker, outbound queue, deadline."""

    __slots__ = (
        "codec_key",
        "deadline",
        "deadline_stage",
        "doomed",
        "drop_counts",
        "dropped_total",
        "finished",
        "framing",
        "goodbye_sent",
        "id",
        "queue",
        "queued",
        "request",
        "send_limit",
        "serializer",
        "session",
        "tracker",
        "transport_info",
    )

    def __init__(
        self,
        peer_id: PeerId,
        framing: Framing,
        transport_info: dict[str, Any],
        tracker: SessionTracker,
    ) -> None:
        self.id = peer_id
        self.framing = framing
        self.transport_info = transport_info
        self.tracker = tracker
        self.serializer: Any = None  # a Serializer once the framing is Ready
        #: Serializers with equal keys produce identical bytes: the fan-out cache key.
        self.codec_key: tuple[str, bool] = ("", False)
        #: Largest payload the framing will carry to the peer.
        self.send_limit = 0
        self.request: Any = None  # the WebSocket upgrade request, if any
        self.queue: deque[bytes] = deque()
        self.queued = 0
        self.session: Session | None = None
        self.deadline: float | None = None
        self.deadline_stage = "handshake"
        #: True once the router decided the connection is over (should_close).
        self.finished = False
        #: True while a router-initiated GOODBYE awaits the client's reply.
        self.goodbye_sent = False
        #: Set when the peer is to be dropped at the end of the current step: (cause, reason,
        #: message). Nothing more is sent to it meanwhile.
        self.doomed: tuple[Any, str, str] | None = None
        self.dropped_total = 0
        #: Dropped EVENTs per cause not yet reported in an EventsDropped router event.
        self.drop_counts: dict[str, int] = {}

    @property
    def accepting_output(self) -> bool:
        return not self.finished and self.doomed is None


class Session:
    """A joined session: identity, features, and everything the removal path must undo."""

    __slots__ = (
        "authextra",
        "authid",
        "authmethod",
        "authprovider",
        "authrole",
        "calls",
        "can_cancel",
        "can_progress_invocations",
        "can_progress_results",
        "can_timeout",
        "gone",
        "id",
        "invocations",
        "peer",
        "realm",
        "registrations",
        "subscriptions",
    )

    def __init__(
        self,
        session_id: int,
        peer: Peer,
        realm: Realm,
        *,
        authid: str,
        authrole: str,
        authmethod: str,
        authprovider: str,
        authextra: dict[str, Any] | None = None,
    ) -> None:
        self.id = session_id
        self.peer = peer
        self.realm = realm
        self.authid = authid
        self.authrole = authrole
        self.authmethod = authmethod
        self.authprovider = authprovider
        self.authextra = authextra or {}
        self.subscriptions: dict[int, Subscription] = {}
        self.registrations: dict[int, Registration] = {}
        #: Calls this session made and that are still open: caller request id -> record.
        self.calls: dict[int, CallRecord] = {}
        #: Invocations this session owes an answer: invocation request id -> record.
        self.invocations: dict[int, CallRecord] = {}
        #: Set by the removal path; a gone session receives nothing more.
        self.gone = False
        tracker = peer.tracker
        callee_can_cancel = tracker.client_feature("callee", "call_canceling") or (
            tracker.client_feature("callee", "call_cancelling")
        )
        #: Callee features the dealer relies on (wamp-spec.md §4.2-§4.5). Progressive
        #: invocations count only together with call canceling, as the spec says. Progressive
        #: results are honoured on their own announcement: the spec also asks for canceling
        #: there, but autobahn-js callees announce progressive results without it and stream
        #: fine through Crossbar; such a callee just never gets an INTERRUPT (cancel is `skip`).
        self.can_cancel = callee_can_cancel
        self.can_progress_results = tracker.client_feature("callee", "progressive_call_results")
        self.can_progress_invocations = callee_can_cancel and tracker.client_feature(
            "callee", "progressive_call_invocations"
        )
        self.can_timeout = tracker.client_feature("callee", "call_timeout")

    def caller_feature(self, feature: str) -> bool:
        return self.peer.tracker.client_feature("caller", feature)

    def __repr__(self) -> str:
        return f"<Session {self.id} authid={self.authid!r} peer={self.peer.id}>"
