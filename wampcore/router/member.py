"""What the broker and dealer route to: a realm *member*, and how a send turned out.

A member is one session joined to a realm, whatever carries it: a network peer (a framing, an
outbound queue and budget, a state tracker), a router-internal session (the meta API's service
session, a callee embedded in the router process), or -- through the same seam -- a remote
router node. Broker and dealer see only this surface: identity, the features the session
announced, a way to deliver a message (``send``), its invocation ids, and the calls it has in
flight. They never touch framings, serializers or state trackers.

Request state has one owner. The calls a member made and the invocations it owes are
``CallRecord`` objects kept by the member itself (for a tracked session: on its state-table
entries, see ``wampcore._state``), so there is no second table to keep in sync.

``Outlet`` is what the realm layer asks of the connection layer: fan an EVENT out to many
members (encoding once per serializer), arm a call timer, draw a random index, end a session.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..messages import Event, Message
    from .broker import Subscription
    from .dealer import CallRecord, Registration
    from .metrics import Metrics

__all__ = ["Kind", "Member", "Outcome", "Outlet"]


class Outcome(enum.Enum):
    """What became of one message the router tried to send."""

    SENT = "sent"  # queued for the member
    TOO_LARGE = "too_large"  # larger than the member's transport accepts
    UNENCODABLE = "unencodable"  # the member's serializer cannot carry a value in it
    NO_ROOM = "no_room"  # the member's outbound queue is full
    GONE = "gone"  # the member is leaving; nothing more is sent to it
    IGNORED = "ignored"  # the state table says the message is moot (e.g. already answered)


class Kind(enum.Enum):
    """How a message must be treated if it cannot be delivered as it is."""

    #: A reply or control message that must not be dropped: NO_ROOM, TOO_LARGE or UNENCODABLE
    #: end the member's session.
    REPLY = "reply"
    #: A RESULT/ERROR for a call: TOO_LARGE/UNENCODABLE are returned (the dealer substitutes an
    #: ERROR); NO_ROOM ends the session.
    RESULT = "result"
    #: An INVOCATION: refused (NO_ROOM) once the queue passes the soft budget.
    INVOKE = "invoke"
    #: An EVENT: dropped (counted) or the member disconnected, by the outbound policy.
    EVENT = "event"


class Member(Protocol):
    """One session of a realm, as the broker, the dealer and the meta API see it."""

    id: int
    authid: str
    authrole: str
    authmethod: str
    authprovider: str
    authextra: dict[str, Any]
    transport_info: dict[str, Any]
    #: A router-internal session (it may use the reserved ``wamp.*`` namespace).
    internal: bool
    #: Set by the removal path; a gone member receives nothing more.
    gone: bool
    #: The realm's subscriptions and registrations this member holds (owned by broker/dealer).
    subscriptions: dict[int, Subscription]
    registrations: dict[int, Registration]
    #: Callee features the dealer relies on (wamp-spec.md §4.2-§4.5).
    can_cancel: bool
    can_progress_results: bool
    can_progress_invocations: bool
    can_timeout: bool

    def client_feature(self, role: str, feature: str) -> bool:
        """Whether the session announced ``feature`` for its client ``role``."""
        ...

    def send(self, msg: Message, kind: Kind) -> Outcome:
        """Deliver one message (see :class:`Kind` for what happens when it cannot go)."""
        ...

    def next_invocation_id(self) -> int:
        """The request id the next INVOCATION to this member must carry."""
        ...

    # -- calls in flight (the member owns them) --------------------------------------------------

    def attach_call(self, request_id: int, record: CallRecord) -> None:
        """Remember ``record`` as the call this member made with ``request_id``."""
        ...

    def call_record(self, request_id: int) -> CallRecord | None:
        """The open call this member made with ``request_id``."""
        ...

    def calls_in_flight(self) -> int: ...

    def open_calls(self) -> list[CallRecord]: ...

    def attach_invocation(self, invocation_id: int, record: CallRecord) -> None:
        """Remember ``record`` as the call behind the INVOCATION just sent."""
        ...

    def invocation_record(self, invocation_id: int) -> CallRecord | None:
        """The call behind an open INVOCATION, or the one its answer just closed."""
        ...

    def open_invocations(self) -> list[CallRecord]: ...

    def end_invocation(self, invocation_id: int) -> None:
        """The dealer wants no answer any more: a later YIELD/ERROR is late and dropped."""
        ...


class Outlet(Protocol):
    """What the realm layer needs from the connection layer."""

    #: The router's counters (the dealer counts calls there).
    metrics: Metrics

    def fan_out(self, event: Event, recipients: list[Member]) -> int:
        """One EVENT to many members, encoded once per serializer; returns how many got it."""
        ...

    def schedule(self, record: CallRecord) -> None:
        """Arm ``record.deadline`` (a call timeout)."""
        ...

    def random_index(self, n: int) -> int:
        """A uniform index in [0, n) from the router's random source."""
        ...

    def end_session(self, member: Member, reason: str, message: str | None) -> None:
        """End a member's session with a router GOODBYE (the meta API's kill)."""
        ...
