"""THE session state table, shared by the client peer and the router.

Theory of operation
-------------------
A WAMP session has two sides, CLIENT and ROUTER. Everything here is keyed by *which side sends*
a message, never by "me" and "them", so the client peer and the router run the very same table
(h11's ``_state.py`` is the model): neither can be laxer than the other.

* ``SENDABLE[state][side]``: the message types ``side`` may send in ``state``.
* ``TRANSITIONS[(state, side, type)]``: the state after ``side`` sends ``type`` in ``state``.
  ABORT from either side, at any time, goes to CLOSED.
* While one side waits for the GOODBYE reply it ignores whatever the other side still had in
  flight (wamp-spec.md §3.2): ``receive`` reports IGNORE for those.
* ``ROLE_FOR``: the client role a client-sent message requires; a client may only use the roles
  it announced in HELLO.
* Requests and replies: the client issues PUBLISH, SUBSCRIBE, UNSUBSCRIBE, CALL, REGISTER and
  UNREGISTER; the router issues INVOCATION. Each direction has one sequential id counter shared
  by all request types (wamp-spec.md §2.1). ``REPLY_TO`` pairs each reply type with its request
  type; ERROR names its request type itself.

``SessionTracker`` applies the table for one side of one session. Call ``send(msg)`` before
putting a message on the wire (it raises ``LocalProtocolError`` and changes nothing if the
message is illegal) and ``receive(msg)`` for each message from the peer (it raises
``RemoteProtocolError`` on a violation, after which the caller sends ABORT
``wamp.error.protocol_violation``). ``receive`` returns a ``Disposition``:

* PROCESS: handle the message;
* IGNORE: drop it silently. This covers messages in flight while a GOODBYE reply is awaited,
  and *late* references: a YIELD/ERROR for an invocation the router already finished (after a
  cancel or timeout), an INTERRUPT for an invocation the callee already answered, a CANCEL for a
  call already answered, a late continuation of a finished progressive call. An id that was
  never issued is not late: it is a violation.

**Pending requests live here, once.** Each open request is one entry in ``pending_out`` (issued by
this side) or ``pending_in`` (issued by the peer). What the owner of the session needs to know
about a request (the client's record of what it asked, the router's ``CallRecord``) is attached
to that entry as its ``context`` (``attach``), read back with ``context``/``open_requests``, and
disappears with the entry: when the final reply passes ``send``/``receive`` (``answered`` then
holds the context of the request it closed, for the receiver's handler), when ``forget`` drops
an entry whose answer is no longer wanted (a later answer is then *late* and ignored), or at
``reset``. Nobody keeps a parallel table in sync by hand.

Request-id rules enforced on receipt: a new request must carry exactly the next id of the
sender's counter (wamp-spec.md §3.6), except a progressive-call continuation, which repeats the
id of its still-open call (§4.3). Replies must answer a pending request of the matching type; a
progressive RESULT or YIELD keeps its request open, a final one closes it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from .errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from .ids import RequestIds
from .messages import (
    ABORT,
    AUTHENTICATE,
    CALL,
    CANCEL,
    CHALLENGE,
    ERROR,
    EVENT,
    EVENT_RECEIVED,
    GOODBYE,
    HELLO,
    INTERRUPT,
    INVOCATION,
    PUBLISH,
    PUBLISHED,
    REGISTER,
    REGISTERED,
    RESULT,
    SUBSCRIBE,
    SUBSCRIBED,
    UNREGISTER,
    UNREGISTERED,
    UNSUBSCRIBE,
    UNSUBSCRIBED,
    WELCOME,
    YIELD,
    Cancel,
    Error,
    Hello,
    Interrupt,
    Message,
    Welcome,
)

__all__ = [
    "CLIENT_REQUESTS",
    "REPLY_TO",
    "ROLE_FOR",
    "ROUTER_REQUESTS",
    "SENDABLE",
    "TRANSITIONS",
    "Disposition",
    "SessionState",
    "SessionTracker",
    "Side",
]


class Side(enum.Enum):
    CLIENT = "client"
    ROUTER = "router"

    # Members are singletons compared by identity, so the identity hash is a valid hash, and
    # a C-level one: Enum's own ``__hash__`` is Python code, run for every table lookup below.
    __hash__ = object.__hash__

    @property
    def other(self) -> Side:
        return Side.ROUTER if self is Side.CLIENT else Side.CLIENT


class SessionState(enum.Enum):
    CLOSED = "closed"  # no session (transport may be up); HELLO starts one
    ESTABLISHING = "establishing"  # HELLO sent, awaiting WELCOME / CHALLENGE / ABORT
    CHALLENGING = "challenging"  # CHALLENGE sent, awaiting AUTHENTICATE
    AUTHENTICATING = "authenticating"  # AUTHENTICATE sent, awaiting WELCOME / CHALLENGE / ABORT
    ESTABLISHED = "established"
    CLIENT_GOODBYE = "client_goodbye"  # the client sent GOODBYE, awaiting the router's reply
    ROUTER_GOODBYE = "router_goodbye"  # the router sent GOODBYE, awaiting the client's reply

    __hash__ = object.__hash__  # see Side


class Disposition(enum.Enum):
    PROCESS = "process"
    IGNORE = "ignore"

    __hash__ = object.__hash__  # see Side


_S = SessionState
_C, _R = Side.CLIENT, Side.ROUTER

_CLIENT_SESSION_MESSAGES = frozenset(
    {PUBLISH, SUBSCRIBE, UNSUBSCRIBE, CALL, CANCEL, REGISTER, UNREGISTER, YIELD, ERROR}
    | {EVENT_RECEIVED, GOODBYE, ABORT}
)
_ROUTER_SESSION_MESSAGES = frozenset(
    {PUBLISHED, SUBSCRIBED, UNSUBSCRIBED, EVENT, RESULT, REGISTERED, UNREGISTERED}
    | {INVOCATION, INTERRUPT, ERROR, GOODBYE, ABORT}
)

#: What each side may send in each state.
SENDABLE: dict[SessionState, dict[Side, frozenset[int]]] = {
    _S.CLOSED: {_C: frozenset({HELLO}), _R: frozenset()},
    _S.ESTABLISHING: {_C: frozenset({ABORT}), _R: frozenset({WELCOME, CHALLENGE, ABORT})},
    _S.CHALLENGING: {_C: frozenset({AUTHENTICATE, ABORT}), _R: frozenset({ABORT})},
    _S.AUTHENTICATING: {_C: frozenset({ABORT}), _R: frozenset({WELCOME, CHALLENGE, ABORT})},
    _S.ESTABLISHED: {_C: _CLIENT_SESSION_MESSAGES, _R: _ROUTER_SESSION_MESSAGES},
    # The side awaiting the GOODBYE reply sends nothing more (ABORT aside); the other side's
    # in-flight session messages still arrive and are ignored by the receiver.
    _S.CLIENT_GOODBYE: {_C: frozenset({ABORT}), _R: _ROUTER_SESSION_MESSAGES},
    _S.ROUTER_GOODBYE: {_C: _CLIENT_SESSION_MESSAGES, _R: frozenset({ABORT})},
}

#: (state, sending side, message type) -> next state. ABORT always leads to CLOSED.
TRANSITIONS: dict[tuple[SessionState, Side, int], SessionState] = {
    (_S.CLOSED, _C, HELLO): _S.ESTABLISHING,
    (_S.ESTABLISHING, _R, WELCOME): _S.ESTABLISHED,
    (_S.ESTABLISHING, _R, CHALLENGE): _S.CHALLENGING,
    (_S.CHALLENGING, _C, AUTHENTICATE): _S.AUTHENTICATING,
    (_S.AUTHENTICATING, _R, WELCOME): _S.ESTABLISHED,
    (_S.AUTHENTICATING, _R, CHALLENGE): _S.CHALLENGING,
    (_S.ESTABLISHED, _C, GOODBYE): _S.CLIENT_GOODBYE,
    (_S.ESTABLISHED, _R, GOODBYE): _S.ROUTER_GOODBYE,
    (_S.CLIENT_GOODBYE, _R, GOODBYE): _S.CLOSED,
    (_S.ROUTER_GOODBYE, _C, GOODBYE): _S.CLOSED,
}

#: The only message types that can change the state (the rest leave it as it is).
_TRANSITION_TYPES = frozenset(mtype for _, _, mtype in TRANSITIONS) | {ABORT}
#: The types ``_apply`` treats specially before the request bookkeeping.
_HANDSHAKE = frozenset({ABORT, HELLO, WELCOME})

#: In these states, what the *waiting* side receives (other than GOODBYE/ABORT) is ignored.
_AWAITING_GOODBYE_REPLY: dict[SessionState, Side] = {
    _S.CLIENT_GOODBYE: _C,
    _S.ROUTER_GOODBYE: _R,
}

#: Request types each side issues (with its own sequential id counter).
CLIENT_REQUESTS = frozenset({PUBLISH, SUBSCRIBE, UNSUBSCRIBE, CALL, REGISTER, UNREGISTER})
ROUTER_REQUESTS = frozenset({INVOCATION})

#: Reply type -> the request type it answers (ERROR carries its request type itself).
REPLY_TO: dict[int, int] = {
    PUBLISHED: PUBLISH,
    SUBSCRIBED: SUBSCRIBE,
    UNSUBSCRIBED: UNSUBSCRIBE,
    RESULT: CALL,
    REGISTERED: REGISTER,
    UNREGISTERED: UNREGISTER,
    YIELD: INVOCATION,
}

#: Messages that refer to an open request without answering it.
_REFERENCES: dict[int, int] = {CANCEL: CALL, INTERRUPT: INVOCATION}

#: The client role a client-sent message requires.
ROLE_FOR: dict[int, str] = {
    PUBLISH: "publisher",
    SUBSCRIBE: "subscriber",
    UNSUBSCRIBE: "subscriber",
    EVENT_RECEIVED: "subscriber",
    CALL: "caller",
    CANCEL: "caller",
    REGISTER: "callee",
    UNREGISTER: "callee",
    YIELD: "callee",
}

#: Revocation forms (request id 0): the client feature that must be announced to receive them.
_REVOCATION_FEATURE: dict[int, tuple[str, str]] = {
    UNSUBSCRIBED: ("subscriber", "subscription_revocation"),
    UNREGISTERED: ("callee", "registration_revocation"),
}

#: Client roles, router roles.
CLIENT_ROLES = frozenset({"publisher", "subscriber", "caller", "callee"})
ROUTER_ROLES = frozenset({"broker", "dealer"})


@dataclass(slots=True)
class _Pending:
    """An open request: its type, whether it is a still-open progressive CALL stream, and what
    the session's owner attached to it."""

    type: int
    streaming: bool = False
    context: Any = None


class SessionTracker:
    """Applies the state table for one side (``side``) of one session."""

    __slots__ = (
        "_in_last",
        "_orphans",
        "_out_ids",
        "answered",
        "client_roles",
        "pending_in",
        "pending_out",
        "router_roles",
        "side",
        "state",
        "strict_request_ids",
    )

    def __init__(self, side: Side, *, strict_request_ids: bool = True) -> None:
        self.side = side
        self.state = SessionState.CLOSED
        #: Whether incoming new-request ids must be sequential (the spec says so; a few old
        #: clients use random ids, so a router may relax this).
        self.strict_request_ids = strict_request_ids
        self.client_roles: dict[str, dict[str, object]] = {}
        self.router_roles: dict[str, dict[str, object]] = {}
        #: Requests this side issued that await the peer's reply: id -> pending.
        self.pending_out: dict[int, _Pending] = {}
        #: Requests the peer issued that await this side's reply: id -> pending.
        self.pending_in: dict[int, _Pending] = {}
        self._out_ids = RequestIds()
        self._in_last = 0
        #: After ``send``/``receive`` of a final reply: the context of the request it closed
        #: (None if none was attached, or if the message closed no request).
        self.answered: Any = None
        #: Open requests dropped by ``reset`` since the last ``take_orphans`` (None: none; most
        #: sessions never have any, and an idle one should cost little).
        self._orphans: list[tuple[bool, int, int, Any]] | None = None

    # -- queries ---------------------------------------------------------------------------------

    @property
    def established(self) -> bool:
        return self.state is SessionState.ESTABLISHED

    def next_request_id(self) -> int:
        """Allocate this side's next request id (call it only for a request you will send)."""
        return self._out_ids.next()

    def peek_request_id(self) -> int:
        """The id the next ``next_request_id`` call will return.

        ``send`` also accepts a new request carrying this id and allocates it only if the message
        is legal, so a refused send leaves no gap in the sequence (wamp-spec.md §3.6).
        """
        return self._out_ids.expected()

    def client_feature(self, role: str, feature: str) -> bool:
        """Whether the client announced ``feature`` for ``role``."""
        return _feature(self.client_roles, role, feature)

    def router_feature(self, role: str, feature: str) -> bool:
        """Whether the router announced ``feature`` for ``role``."""
        return _feature(self.router_roles, role, feature)

    # -- request contexts ------------------------------------------------------------------------

    def attach(self, request_id: int, context: Any, *, mine: bool) -> None:
        """Attach ``context`` to an open request (``mine``: issued by this side).

        Raises ``LocalProtocolError`` if no such request is open.
        """
        entry = (self.pending_out if mine else self.pending_in).get(request_id)
        if entry is None:
            raise LocalProtocolError(f"request {request_id} is not open")
        entry.context = context

    def context(self, request_id: int, *, mine: bool) -> Any:
        """The context attached to an open request, or None."""
        entry = (self.pending_out if mine else self.pending_in).get(request_id)
        return None if entry is None else entry.context

    def forget(self, request_id: int, *, mine: bool) -> Any:
        """Drop an open request whose answer is no longer wanted; returns its context.

        An answer that still arrives for it is late: ``receive`` reports IGNORE.
        """
        entry = (self.pending_out if mine else self.pending_in).pop(request_id, None)
        return None if entry is None else entry.context

    def open_requests(self, *, mine: bool) -> list[tuple[int, int, Any]]:
        """``(request_id, type, context)`` of every open request, oldest first."""
        table = self.pending_out if mine else self.pending_in
        return [(rid, entry.type, entry.context) for rid, entry in table.items()]

    def take_orphans(self) -> list[tuple[bool, int, int, Any]]:
        """``(mine, request_id, type, context)`` of every request that was still open when a
        ``reset`` ended the session (an ABORT, a GOODBYE handshake), once; oldest first."""
        orphans, self._orphans = self._orphans, None
        return orphans or []

    # -- the two operations ----------------------------------------------------------------------

    def send(self, msg: Message) -> Disposition:
        """Check and record a message this side is about to send.

        IGNORE means: do not send it after all (a CANCEL or a reply for a request that has
        already finished, or anything while this side awaits a GOODBYE reply).
        """
        self.answered = None
        try:
            return self._apply(msg, self.side, local=True)
        except ProtocolError as exc:
            raise LocalProtocolError(exc.message, reason=exc.reason) from None

    def receive(self, msg: Message) -> Disposition:
        """Check and record a message from the peer."""
        self.answered = None
        try:
            return self._apply(msg, self.side.other, local=False)
        except ProtocolError as exc:
            raise RemoteProtocolError(exc.message, reason=exc.reason) from None

    def reset(self) -> None:
        """Forget the session (after ABORT, a closed GOODBYE handshake or a violation).

        Requests still open become orphans (``take_orphans``): their owner ends them.
        """
        if self.pending_out or self.pending_in:
            if self._orphans is None:
                self._orphans = []
            orphans = self._orphans
            orphans.extend((True, rid, e.type, e.context) for rid, e in self.pending_out.items())
            orphans.extend((False, rid, e.type, e.context) for rid, e in self.pending_in.items())
        self.state = SessionState.CLOSED
        self.pending_in.clear()
        self.pending_out.clear()
        self.client_roles = {}
        self.router_roles = {}
        self._out_ids = RequestIds()
        self._in_last = 0
        self.answered = None

    # -- internals -------------------------------------------------------------------------------

    def _apply(self, msg: Message, sender: Side, *, local: bool) -> Disposition:
        mtype = msg.TYPE
        state = self.state
        if mtype not in SENDABLE[state][sender]:
            raise ProtocolError(
                f"{msg.NAME} from the {sender.value} is not allowed in state {state.value}"
            )

        waiting = _AWAITING_GOODBYE_REPLY.get(state)
        if waiting is not None and waiting is not sender and mtype not in (GOODBYE, ABORT):
            return Disposition.IGNORE  # in flight while a GOODBYE reply is awaited

        if mtype not in _HANDSHAKE:
            pass  # the common case: a session message
        elif mtype == ABORT:
            self.reset()
            return Disposition.PROCESS
        elif mtype == HELLO:
            assert isinstance(msg, Hello)
            self.reset()
            self._orphans = None  # a new session: whatever the last one left is nobody's now
            self.client_roles = _roles(msg.details.get("roles"), CLIENT_ROLES)
            if not local:
                self.client_roles = _interned(self.client_roles)
            if not self.client_roles:
                raise ProtocolError("HELLO.Details.roles announces no client role")
        elif mtype == WELCOME:
            assert isinstance(msg, Welcome)
            self.router_roles = _roles(msg.details.get("roles"), ROUTER_ROLES)
            if not self.router_roles:
                raise ProtocolError("WELCOME.Details.roles announces no router role")

        if sender is Side.CLIENT:
            role = ROLE_FOR.get(mtype)
            if role is not None and role not in self.client_roles:
                raise ProtocolError(f"{msg.NAME} requires the {role} role, which was not announced")

        disposition = self._track(msg, mtype, sender, local)
        if disposition is Disposition.PROCESS and mtype in _TRANSITION_TYPES:
            next_state = TRANSITIONS.get((state, sender, mtype))
            if next_state is not None:
                self.state = next_state
                if next_state is SessionState.CLOSED:
                    self.reset()
        return disposition

    def _track(self, msg: Message, mtype: int, sender: Side, local: bool) -> Disposition:
        """Request/reply bookkeeping for a message ``sender`` sends."""
        issued = self.side is sender  # requests sent by this side live in pending_out
        requests = CLIENT_REQUESTS if sender is Side.CLIENT else ROUTER_REQUESTS
        if mtype in requests:
            return self._new_request(msg, mtype, issued, local)

        if mtype == ERROR:
            assert isinstance(msg, Error)
            # A side may only send ERROR for requests the *other* side issues.
            other_requests = ROUTER_REQUESTS if sender is Side.CLIENT else CLIENT_REQUESTS
            if msg.request_type not in other_requests:
                raise ProtocolError(
                    f"ERROR for request type {msg.request_type} cannot come from the {sender.value}"
                )
            return self._reply(msg.request_id, msg.request_type, final=True, issued=not issued)

        # (Message types are compared by code below: cheaper than isinstance on a hot path.)
        if (mtype == UNSUBSCRIBED or mtype == UNREGISTERED) and msg.request_id == 0:  # type: ignore[attr-defined]
            # Revocation (wamp-spec.md §4.12, §4.21) answers no request, and the router may send
            # it only to a client that announced the feature.
            role, feature = _REVOCATION_FEATURE[mtype]
            if not self.client_feature(role, feature):
                raise ProtocolError(
                    f"{msg.NAME} revocation requires the client feature {role}.{feature}"
                )
            return Disposition.PROCESS

        request_type = REPLY_TO.get(mtype)
        if request_type is not None:
            request_id: int = msg.request_id  # type: ignore[attr-defined]
            final = True
            if mtype == RESULT or mtype == YIELD:
                final = not msg.progress  # type: ignore[attr-defined]
            return self._reply(request_id, request_type, final=final, issued=not issued)

        request_type = _REFERENCES.get(mtype)
        if request_type is not None:
            assert isinstance(msg, Cancel | Interrupt)
            table = self.pending_out if issued else self.pending_in
            pending = table.get(msg.request_id)
            if pending is None or pending.type != request_type:
                if self._was_issued(msg.request_id, by_this_side=issued):
                    return Disposition.IGNORE  # the request finished meanwhile
                raise ProtocolError(f"{msg.NAME} for request {msg.request_id} that was never made")
            if isinstance(msg, Interrupt) and msg.options.get("mode") == "killnowait":
                # The dealer expects no answer (wamp-spec.md §4.5): the invocation is over for
                # both sides, and a later YIELD/ERROR is a late reply, dropped.
                del table[msg.request_id]
                self.answered = pending.context
        return Disposition.PROCESS

    def _new_request(self, msg: Message, mtype: int, issued: bool, local: bool) -> Disposition:
        request_id: int = msg.request_id  # type: ignore[attr-defined]
        table = self.pending_out if issued else self.pending_in
        # A progressive CALL is forwarded as progressive INVOCATIONs (wamp-spec.md §4.3): both
        # streams reuse the id of their first message.
        progress = (mtype == CALL and msg.options.get("progress") is True) or (  # type: ignore[attr-defined]
            mtype == INVOCATION and msg.details.get("progress") is True  # type: ignore[attr-defined]
        )
        open_stream = table.get(request_id)
        if open_stream is not None and open_stream.streaming and open_stream.type == mtype:
            # A progressive-call continuation (wamp-spec.md §4.3) reuses the open call's id.
            if not progress:
                open_stream.streaming = False
            return Disposition.PROCESS

        if issued:
            if local:
                if request_id == self._out_ids.expected() and request_id != self._out_ids.last:
                    self._out_ids.next()  # peeked id: allocated now that the send is legal
                elif request_id != self._out_ids.last:
                    raise ProtocolError(
                        f"{msg.NAME} must use the id from next_request_id() or "
                        f"peek_request_id() (expected {self._out_ids.expected()}, "
                        f"got {request_id})"
                    )
        else:
            expected = self._in_last + 1 if self._in_last < 2**53 else 1
            if request_id != expected:
                if self.strict_request_ids or request_id in table:
                    finished = request_id not in table
                    if (
                        mtype in (CALL, INVOCATION)
                        and finished
                        and self._was_issued(request_id, by_this_side=False)
                    ):
                        return Disposition.IGNORE  # late continuation of a finished stream
                    raise ProtocolError(
                        f"{msg.NAME} request id {request_id} is not sequential "
                        f"(expected {expected})"
                    )
            self._in_last = request_id

        if mtype == PUBLISH and msg.options.get("acknowledge") is not True:  # type: ignore[attr-defined]
            return Disposition.PROCESS  # no reply will come
        table[request_id] = _Pending(mtype, progress)
        return Disposition.PROCESS

    def _reply(
        self, request_id: int, request_type: int, *, final: bool, issued: bool
    ) -> Disposition:
        """A reply to a request; ``issued`` says the request lives in pending_out."""
        table = self.pending_out if issued else self.pending_in
        pending = table.get(request_id)
        if pending is None or pending.type != request_type:
            # Replies from the client (YIELD / ERROR to an INVOCATION) may be late: the router
            # already settled the call by cancel or timeout. Any other stray reply is a
            # violation, as is a reply to an id that was never issued.
            late_ok = request_type in ROUTER_REQUESTS
            if late_ok and self._was_issued(request_id, by_this_side=issued):
                return Disposition.IGNORE
            raise ProtocolError(f"reply for request {request_id} that is not pending")
        if final:
            del table[request_id]
            self.answered = pending.context
        return Disposition.PROCESS

    def _was_issued(self, request_id: int, *, by_this_side: bool) -> bool:
        last = self._out_ids.last if by_this_side else self._in_last
        return 1 <= request_id <= last


def _roles(value: object, allowed: frozenset[str]) -> dict[str, dict[str, object]]:
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if k in allowed and isinstance(v, dict)}


#: Role announcements received in HELLOs, by content: thousands of sessions of the same client
#: library announce the same roles, and each keeps them for its whole life, so equal ones share
#: one dict (read-only: nothing here or in the router changes a received announcement). Bounded,
#: because peers choose what they announce.
_INTERNED_ROLES: dict[object, dict[str, dict[str, object]]] = {}
_INTERN_LIMIT = 64


def _interned(roles: dict[str, dict[str, object]]) -> dict[str, dict[str, object]]:
    try:
        key = _frozen(roles)
    except (TypeError, RecursionError):
        return roles
    found = _INTERNED_ROLES.get(key)
    if found is not None:
        return found
    if len(_INTERNED_ROLES) < _INTERN_LIMIT:
        _INTERNED_ROLES[key] = roles
    return roles


def _frozen(value: object) -> object:
    """A hashable stand-in equal only for equal values of equal types (True is not 1 here)."""
    kind = type(value)
    if kind is dict:
        items = value.items()  # type: ignore[attr-defined]
        return (dict, tuple(((type(k), k), _frozen(v)) for k, v in items))
    if kind is list:
        return (list, tuple(_frozen(v) for v in value))  # type: ignore[attr-defined]
    if kind in (str, int, float, bool, bytes) or value is None:
        return (kind, value)
    raise TypeError(f"not interned: {kind.__name__}")


def _feature(roles: dict[str, dict[str, object]], role: str, feature: str) -> bool:
    spec = roles.get(role)
    if spec is None:
        return False
    features = spec.get("features")
    return isinstance(features, dict) and features.get(feature) is True
