"""``Session``: one joined session of a realm, the realm layer's record and a realm member.

A Session is what a successful HELLO adds on top of a connection (``.connection``): the
identity WELCOME announced, the features its HELLO announced, the subscriptions and
registrations it holds (indexes the broker and dealer own, walked by the removal path), its
testaments, and -- on its connection's state-table entries -- the calls it has in flight and
the invocations it owes. It implements :class:`~.member.Member` for both kinds of connection
(network and router-internal); how a message actually travels is the connection layer's
business (``deliver``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .dealer import CallRecord
from .member import Kind, Outcome

if TYPE_CHECKING:
    from ..messages import Message
    from .authorization import Decision
    from .broker import Subscription
    from .connection import Connection
    from .dealer import Registration
    from .realm import Realm
    from .testament import Testament

__all__ = ["Deliver", "Session"]

#: How the connection layer carries one message to a connection.
Deliver = Callable[["Connection", "Message", Kind], Outcome]


class Session:
    """A joined session: identity, features, holdings, calls in flight (see module docs)."""

    __slots__ = (
        "_deliver",
        "authextra",
        "authid",
        "authmethod",
        "authorized",
        "authprovider",
        "authrole",
        "can_cancel",
        "can_progress_invocations",
        "can_progress_results",
        "can_timeout",
        "connection",
        "gone",
        "held",
        "hidden",
        "id",
        "internal",
        "joined",
        "joined_at",
        "realm",
        "registrations",
        "subscriptions",
        "testaments",
        "tracker",
        "transport_info",
    )

    def __init__(
        self,
        session_id: int,
        connection: Connection,
        realm: Realm,
        deliver: Deliver,
        *,
        authid: str,
        authrole: str,
        authmethod: str,
        authprovider: str,
        authextra: dict[str, Any] | None = None,
        internal: bool = False,
        hidden: bool = False,
        joined_at: float = 0.0,
    ) -> None:
        self.id = session_id
        self.connection = connection
        self.tracker = connection.tracker
        self.transport_info = connection.transport_info
        self.realm = realm
        self._deliver = deliver
        self.authid = authid
        self.authrole = authrole
        self.authmethod = authmethod
        self.authprovider = authprovider
        self.authextra = authextra or {}
        self.internal = internal
        #: A router service session: not listed by the meta API, keeps no realm alive.
        self.hidden = hidden
        self.joined_at = joined_at
        #: When it joined, as the meta API dates things (ISO 8601 UTC); "" for service sessions.
        self.joined = ""
        self.subscriptions: dict[int, Subscription] = {}
        self.registrations: dict[int, Registration] = {}
        #: Testaments by scope ("destroyed", "detached"), in the order they were added.
        self.testaments: dict[str, list[Testament]] = {}
        #: Authorization verdicts that may be reused: (action, uri) -> Decision.
        self.authorized: dict[tuple[str, str], Decision] = {}
        #: Messages waiting behind a request a dynamic authorizer is deciding (None: none).
        self.held: deque[Message] | None = None
        self.gone = False
        tracker = self.tracker
        callee_can_cancel = tracker.client_feature("callee", "call_canceling") or (
            tracker.client_feature("callee", "call_cancelling")
        )
        # Progressive invocations count only together with call canceling, as the spec says.
        # Progressive results are honoured on their own announcement: the spec also asks for
        # canceling there, but autobahn-js callees announce progressive results without it and
        # stream fine through Crossbar; such a callee just never gets an INTERRUPT.
        self.can_cancel = callee_can_cancel
        self.can_progress_results = tracker.client_feature("callee", "progressive_call_results")
        self.can_progress_invocations = callee_can_cancel and tracker.client_feature(
            "callee", "progressive_call_invocations"
        )
        self.can_timeout = tracker.client_feature("callee", "call_timeout")

    # -- Member ----------------------------------------------------------------------------------

    def client_feature(self, role: str, feature: str) -> bool:
        return self.tracker.client_feature(role, feature)

    def send(self, msg: Message, kind: Kind) -> Outcome:
        if self.gone:
            return Outcome.GONE
        return self._deliver(self.connection, msg, kind)

    def next_invocation_id(self) -> int:
        return self.tracker.peek_request_id()

    def attach_call(self, request_id: int, record: CallRecord) -> None:
        self.tracker.attach(request_id, record, mine=False)

    def call_record(self, request_id: int) -> CallRecord | None:
        found = self.tracker.context(request_id, mine=False)
        return found if type(found) is CallRecord else None

    def calls_in_flight(self) -> int:
        # Requests the client has open with the router. Everything but CALL is answered while
        # it is handled, so besides the CALL being handled these are calls.
        return len(self.tracker.pending_in)

    def open_calls(self) -> list[CallRecord]:
        return [c for _, _, c in self.tracker.open_requests(mine=False) if type(c) is CallRecord]

    def attach_invocation(self, invocation_id: int, record: CallRecord) -> None:
        self.tracker.attach(invocation_id, record, mine=True)

    def invocation_record(self, invocation_id: int) -> CallRecord | None:
        found = self.tracker.context(invocation_id, mine=True)
        if found is None:
            # The final YIELD/ERROR closed the entry just now; the state table hands it over.
            found = self.tracker.answered
            if type(found) is not CallRecord or found.invocation_id != invocation_id:
                return None
        return found if type(found) is CallRecord else None

    def open_invocations(self) -> list[CallRecord]:
        return [c for _, _, c in self.tracker.open_requests(mine=True) if type(c) is CallRecord]

    def end_invocation(self, invocation_id: int) -> None:
        self.tracker.forget(invocation_id, mine=True)

    def __repr__(self) -> str:
        return f"<Session {self.id} authid={self.authid!r} connection={self.connection.id}>"
