"""The dealer of one realm: registrations and routed calls (wamp-spec.md §3.4, §4.2-§4.9).

Owns the realm's registrations and decides every call in flight (``CallRecord``: caller,
callee, the two request ids, and the call's progress/cancel/timeout state). Dealer code sees
only realm members (:class:`~.member.Member`), never connections or their state trackers. A
record is kept by its two members -- the caller's open call, the callee's open invocation (for
a tracked session, on the state-table entries of the CALL and the INVOCATION) -- so the record
exists once, ends when the state table closes its request, and the removal path finds exactly
the calls a departing member is part of.

Implemented features (announced in WELCOME):

* pattern-based registration (exact, then the longest prefix, then the best wildcard;
  INVOCATION.Details.procedure carries the concrete URI) and shared registration (``invoke``:
  single, roundrobin, random, first, last; later REGISTERs must use the same policy);
* caller identification (``disclose_me`` on the CALL, or ``disclose_caller`` on the REGISTER:
  INVOCATION.Details.caller, caller_authid, caller_authrole);
* progressive call results (``receive_progress``: each progressive YIELD is forwarded at once as
  a progressive RESULT) and progressive call invocations (CALLs with ``progress=true`` repeat the
  request id and go to the same callee as progressive INVOCATIONs);
* call canceling: CANCEL with mode ``skip`` (the caller gets ERROR ``wamp.error.canceled`` at
  once, no INTERRUPT), ``kill`` (INTERRUPT, the callee's answer settles the call) or
  ``killnowait`` (INTERRUPT and the ERROR at once). The spec names no default; a CANCEL without a
  mode is ``killnowait``. A callee that did not announce call_canceling always gets ``skip``;
* call timeout (``timeout`` in ms on the CALL): the dealer runs the timer itself; when it fires
  the caller gets ERROR ``wamp.error.timeout`` and the callee an INTERRUPT ``killnowait`` (or
  nothing, if it cannot cancel). A callee that announced call_timeout also finds the timeout in
  INVOCATION.Details.timeout. With progressive results the timer restarts at each result;
* payload passthru (``ppt_*`` and Autobahn's ``enc_*`` options travel from CALL to INVOCATION
  and from YIELD/ERROR to RESULT/ERROR unchanged; the payload is never decoded);
* registration revocation (``remove_callee``: UNREGISTERED with request id 0 to a callee that
  announced it).

URIs the dealer answers with besides the basic profile's (``no_such_procedure``,
``procedure_already_exists``, ``no_such_registration``):

* ``wamp.error.canceled`` -- the callee left before answering (the spec's URI);
* ``wamp.error.no_available_callee`` -- no callee of the registration could take the INVOCATION
  because their outbound queues are full;
* ``wamp.error.payload_size_exceeded`` -- the INVOCATION or RESULT is larger than the receiving
  peer's transport accepts;
* ``wamp.error.invalid_argument`` -- the payload holds a value the receiving peer's serializer
  cannot carry (e.g. a NaN for a JSON peer);
* ``wamp.error.feature_not_supported`` -- a progressive CALL for a callee without
  progressive_call_invocations;
* ``wampcore.error.too_many_pending_calls`` -- the caller is at
  ``Limits.max_pending_calls_per_session``;
* ``wamp.error.invalid_uri`` -- REGISTER in the reserved ``wamp.*`` namespace by a network
  client (router-internal members register the meta API there).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import (
    CANCELED,
    FEATURE_NOT_SUPPORTED,
    INVALID_ARGUMENT,
    INVALID_URI,
    NO_AVAILABLE_CALLEE,
    NO_SUCH_PROCEDURE,
    NO_SUCH_REGISTRATION,
    PAYLOAD_SIZE_EXCEEDED,
    PROCEDURE_ALREADY_EXISTS,
    TIMEOUT,
    TOO_MANY_PENDING_CALLS,
    RemoteProtocolError,
)
from ..ids import RouterScopeIds
from ..messages import (
    CALL,
    REGISTER,
    UNREGISTER,
    Call,
    Cancel,
    Error,
    Interrupt,
    Invocation,
    Register,
    Registered,
    Result,
    Unregister,
    Unregistered,
    Yield,
)
from ..uri import PatternMap
from .broker import PASS_THROUGH
from .hooks import Lifecycle
from .member import Kind, Member, Outcome, Outlet
from .metrics import REFUSED

__all__ = ["DEALER_FEATURES", "DEFAULT_CANCEL_MODE", "CallRecord", "Dealer", "Registration"]

#: The dealer features WELCOME announces: exactly what this module implements.
DEALER_FEATURES: dict[str, bool] = {
    "progressive_call_results": True,
    "progressive_call_invocations": True,
    "call_canceling": True,
    "call_timeout": True,
    "caller_identification": True,
    "pattern_based_registration": True,
    "shared_registration": True,
    "payload_passthru_mode": True,
    "registration_revocation": True,
    "session_meta_api": True,
    "registration_meta_api": True,
    "testament_meta_api": True,
}

#: The mode of a CANCEL that names none (the spec gives no default, wamp-spec.md §9.12).
DEFAULT_CANCEL_MODE = "killnowait"

_FAILURE_URIS = {
    Outcome.TOO_LARGE: PAYLOAD_SIZE_EXCEEDED,
    Outcome.UNENCODABLE: INVALID_ARGUMENT,
    Outcome.NO_ROOM: NO_AVAILABLE_CALLEE,
}
_FAILURE_TEXT = {
    Outcome.TOO_LARGE: "the message is larger than the receiving peer's transport accepts",
    Outcome.UNENCODABLE: "the payload holds a value the receiving peer's serializer cannot carry",
    Outcome.NO_ROOM: "no callee can take the call: outbound queues are full",
}


class Registration:
    """One (procedure, match) registration and its callees, in registration order."""

    __slots__ = (
        "callee_options",
        "callees",
        "created",
        "id",
        "invoke",
        "match",
        "next_index",
        "uri",
    )

    def __init__(
        self, registration_id: int, uri: str, match: str, invoke: str, created: str = ""
    ) -> None:
        self.id = registration_id
        self.uri = uri
        self.match = match
        self.invoke = invoke
        self.created = created
        self.callees: list[Member] = []
        #: Per callee session id: (disclose_caller, forward_timeout) from its REGISTER.
        self.callee_options: dict[int, tuple[bool, bool]] = {}
        self.next_index = 0


class CallRecord:
    """One call in flight, from the CALL until its final RESULT/ERROR."""

    __slots__ = (
        "callee",
        "caller",
        "caller_request_id",
        "deadline",
        "dealer",
        "done",
        "invocation_id",
        "killing",
        "procedure",
        "receive_progress",
        "registration",
        "started",
        "streaming",
        "timeout",
    )

    def __init__(
        self,
        caller: Member,
        caller_request_id: int,
        callee: Member,
        invocation_id: int,
        registration: Registration,
        procedure: str,
    ) -> None:
        self.caller = caller
        self.caller_request_id = caller_request_id
        self.callee = callee
        self.invocation_id = invocation_id
        self.registration = registration
        self.procedure = procedure
        #: The caller asked for progressive results and the callee can give them.
        self.receive_progress = False
        #: The caller's progressive-invocation stream is still open.
        self.streaming = False
        #: A CANCEL in mode "kill" was forwarded; the callee's answer settles the call.
        self.killing = False
        #: Call timeout in seconds (0: none) and the instant it fires.
        self.timeout = 0.0
        self.deadline: float | None = None
        self.done = False
        #: The dealer that decides this call (its timeout fires there).
        self.dealer: Dealer | None = None
        #: When the CALL was routed (the router's ``now``), for the duration metric.
        self.started = 0.0


class Dealer:
    """Registrations and routed calls for one realm."""

    __slots__ = (
        "_by_id",
        "_clock",
        "_counts",
        "_hooks",
        "_ids",
        "_max_pending",
        "_outlet",
        "_realm",
        "_registrations",
        "claims",
        "id_for",
    )

    def __init__(
        self,
        realm: Any,
        outlet: Outlet,
        hooks: Lifecycle,
        clock: Callable[[], str],
        *,
        max_pending_calls: int,
    ) -> None:
        self._realm = realm
        self._outlet = outlet
        self._hooks = hooks
        self._clock = clock
        self._max_pending = max_pending_calls
        self._ids = RouterScopeIds()
        self._registrations: PatternMap[Registration] = PatternMap()
        self._by_id: dict[int, Registration] = {}
        #: The cluster backplane's hooks (wampcore.router.remote): ``claims(member, msg)``
        #: False means the cluster decides the REGISTER and completes it later (with
        #: ``register(..., claimed=True)`` or ``refuse``); ``id_for`` derives registration ids
        #: alike on every node.
        self.claims: Callable[[Member, Register], bool] | None = None
        self.id_for: Callable[[str, str, dict[int, Registration]], int] | None = None
        #: This realm's call counters by outcome (wampcore.router.metrics).
        self._counts = outlet.metrics.call_counters(realm.name)

    # -- queries ---------------------------------------------------------------------------------

    def registration(self, registration_id: int) -> Registration | None:
        return self._by_id.get(registration_id)

    def registrations(self, *, own: bool = False) -> list[Registration]:
        """The realm's registrations; the router's own ``wamp.*`` ones only with ``own``."""
        if own:
            return list(self._by_id.values())
        return [r for r in self._by_id.values() if not r.uri.startswith("wamp.")]

    def lookup(self, procedure: str, match: str = "exact") -> Registration | None:
        return self._registrations.get(procedure, match)

    def best(self, procedure: str) -> Registration | None:
        """The registration a CALL to ``procedure`` would go to (wamp-spec.md §4.8)."""
        return self._registrations.best(procedure)

    # -- REGISTER / UNREGISTER -------------------------------------------------------------------

    def register(self, session: Member, msg: Register, *, claimed: bool = False) -> None:
        if msg.procedure.startswith("wamp.") and not session.internal:
            self.refuse(session, msg, INVALID_URI, "the wamp.* namespace is reserved")
            return
        match, invoke = msg.match, msg.invoke
        reg = self._registrations.get(msg.procedure, match)
        created = reg is None
        if reg is not None:
            if invoke == "single" or reg.invoke != invoke:
                self.refuse(
                    session,
                    msg,
                    PROCEDURE_ALREADY_EXISTS,
                    f"{msg.procedure!r} is registered with invoke={reg.invoke!r}",
                )
                return
            if session.id in reg.callee_options:
                self.refuse(
                    session,
                    msg,
                    PROCEDURE_ALREADY_EXISTS,
                    f"this session already registered {msg.procedure!r}",
                )
                return
        if not claimed and self.claims is not None and not self.claims(session, msg):
            return  # the cluster decides cluster-wide uniqueness first
        if reg is None:
            reg_id = (
                self._ids.next(self._by_id)
                if self.id_for is None
                else self.id_for(msg.procedure, match, self._by_id)
            )
            reg = Registration(reg_id, msg.procedure, match, invoke, self._clock())
            self._registrations.set(msg.procedure, match, reg)
            self._by_id[reg.id] = reg
        reg.callees.append(session)
        reg.callee_options[session.id] = (
            msg.options.get("disclose_caller") is True,
            msg.options.get("forward_timeout") is True,
        )
        session.registrations[reg.id] = reg
        session.send(Registered(request_id=msg.request_id, registration_id=reg.id), Kind.REPLY)
        if created:
            self._hooks.registration_created(self._realm, session, reg)
        self._hooks.registered(self._realm, session, reg)

    def unregister(self, session: Member, msg: Unregister) -> None:
        reg = session.registrations.pop(msg.registration_id, None)
        if reg is None:
            session.send(
                Error(
                    request_type=UNREGISTER,
                    request_id=msg.request_id,
                    error=NO_SUCH_REGISTRATION,
                    args=[f"no registration {msg.registration_id} in this session"],
                ),
                Kind.REPLY,
            )
            return
        session.send(Unregistered(request_id=msg.request_id), Kind.REPLY)
        self._drop_callee(reg, session)

    def refuse(self, session: Member, msg: Register | Call, error: str, text: str) -> None:
        """Answer a REGISTER or CALL with an ERROR."""
        request_type = REGISTER if isinstance(msg, Register) else CALL
        if request_type == CALL:
            self._counts[REFUSED] += 1
        session.send(
            Error(request_type=request_type, request_id=msg.request_id, error=error, args=[text]),
            Kind.REPLY,
        )

    def call_refused(self) -> None:
        """A CALL was answered with an ERROR before reaching the dealer (not authorized)."""
        self._counts[REFUSED] += 1

    def remove_callee(self, reg: Registration, session: Member, reason: str | None) -> None:
        """Revoke one callee's registration (the meta API's ``remove_callee``).

        Invocations already sent to it still settle normally.
        """
        if session.registrations.pop(reg.id, None) is None:
            return
        if session.client_feature("callee", "registration_revocation"):
            details: dict[str, Any] = {"registration": reg.id}
            if reason:
                details["reason"] = reason
            session.send(Unregistered(request_id=0, details=details), Kind.REPLY)
        self._drop_callee(reg, session)

    # -- CALL ------------------------------------------------------------------------------------

    def call(
        self,
        caller: Member,
        msg: Call,
        now: float,
        *,
        disclose: bool = False,
        to: tuple[Registration, Member] | None = None,
    ) -> None:
        """Route one CALL (or continue a progressive one); ``disclose`` (the authorization's
        verdict) discloses the caller as if it had asked ``disclose_me``; ``to`` is the
        registration and callee another cluster node already chose."""
        record = caller.call_record(msg.request_id)
        if record is not None:
            self._continue(record, msg)
            return
        progress = msg.options.get("progress") is True
        if progress and not caller.client_feature("caller", "progressive_call_invocations"):
            raise RemoteProtocolError(
                "CALL with Options.progress from a caller that did not announce "
                "progressive_call_invocations"
            )
        in_flight = caller.calls_in_flight() - 1  # this CALL is open already
        if in_flight >= self._max_pending:
            self.refuse(
                caller,
                msg,
                TOO_MANY_PENDING_CALLS,
                f"this session already has {in_flight} calls in flight",
            )
            return
        reg = self._registrations.best(msg.procedure) if to is None else to[0]
        if reg is None:
            self.refuse(caller, msg, NO_SUCH_PROCEDURE, f"no callee for {msg.procedure!r}")
            return

        outcome = Outcome.NO_ROOM
        for callee in self._candidates(reg) if to is None else [to[1]]:
            if progress and not callee.can_progress_invocations:
                self.refuse(
                    caller,
                    msg,
                    FEATURE_NOT_SUPPORTED,
                    "the callee does not support progressive call invocations",
                )
                return
            record = CallRecord(
                caller, msg.request_id, callee, callee.next_invocation_id(), reg, msg.procedure
            )
            invocation = self._invocation(record, msg, disclose)
            outcome = callee.send(invocation, Kind.INVOKE)
            if outcome is Outcome.SENT:
                self._open(record, msg, now)
                return
            if outcome is not Outcome.NO_ROOM:
                break  # too large or unencodable for this callee: another would fare no better
        self.refuse(caller, msg, _FAILURE_URIS.get(outcome, NO_AVAILABLE_CALLEE), _text(outcome))

    def _candidates(self, reg: Registration) -> list[Member]:
        """Callees to try, in the order the registration's invocation policy prefers."""
        callees = reg.callees
        n = len(callees)
        if n == 1 or reg.invoke in ("single", "first"):
            return list(callees)
        if reg.invoke == "last":
            return callees[::-1]
        if reg.invoke == "roundrobin":
            start = reg.next_index % n
            reg.next_index = start + 1
        else:  # random
            start = self._outlet.random_index(n)
        return callees[start:] + callees[:start]

    def _invocation(self, record: CallRecord, msg: Call, disclose: bool = False) -> Invocation:
        options = msg.options
        callee = record.callee
        reg = record.registration
        details: dict[str, Any] = {}
        if reg.match != "exact":
            details["procedure"] = msg.procedure
        if options.get("receive_progress") is True and callee.can_progress_results:
            details["receive_progress"] = True
        if options.get("progress") is True:
            details["progress"] = True
        disclose_caller, forward_timeout = reg.callee_options.get(callee.id, (False, False))
        if disclose or options.get("disclose_me") is True or disclose_caller:
            caller = record.caller
            details["caller"] = caller.id
            details["caller_authid"] = caller.authid
            details["caller_authrole"] = caller.authrole
        timeout = options.get("timeout", 0)
        if timeout and (callee.can_timeout or forward_timeout):
            details["timeout"] = timeout
        for key in PASS_THROUGH:
            if key in options:
                details[key] = options[key]
        return Invocation(
            request_id=record.invocation_id,
            registration_id=reg.id,
            details=details,
            args=msg.args,
            kwargs=msg.kwargs,
            payload=msg.payload,
        )

    def _open(self, record: CallRecord, msg: Call, now: float) -> None:
        options = msg.options
        record.receive_progress = (
            options.get("receive_progress") is True and record.callee.can_progress_results
        )
        record.streaming = options.get("progress") is True
        record.started = now
        record.caller.attach_call(record.caller_request_id, record)
        record.callee.attach_invocation(record.invocation_id, record)
        timeout_ms = options.get("timeout", 0)
        if timeout_ms:
            record.timeout = timeout_ms / 1000.0
            record.deadline = now + record.timeout
            record.dealer = self
            self._outlet.schedule(record)

    def _continue(self, record: CallRecord, msg: Call) -> None:
        """A progressive-call continuation (wamp-spec.md §4.3): same id, same callee."""
        if msg.procedure != record.procedure:
            raise RemoteProtocolError(
                f"progressive CALL continuation for {msg.procedure!r}, "
                f"the call was made to {record.procedure!r}"
            )
        if not record.streaming or record.killing:
            return  # the stream is over (or being killed): nothing more goes to the callee
        progress = msg.options.get("progress") is True
        record.streaming = progress
        invocation = Invocation(
            request_id=record.invocation_id,
            registration_id=record.registration.id,
            details=_pass_through(msg.options, {"progress": True} if progress else {}),
            args=msg.args,
            kwargs=msg.kwargs,
            payload=msg.payload,
        )
        outcome = record.callee.send(invocation, Kind.INVOKE)
        if outcome is not Outcome.SENT and outcome is not Outcome.IGNORED:
            self._abandon(record, _FAILURE_URIS.get(outcome, CANCELED), _text(outcome))

    # -- answers from the callee -----------------------------------------------------------------

    def yield_(self, callee: Member, msg: Yield, now: float) -> None:
        record = callee.invocation_record(msg.request_id)
        if record is None or record.done:
            return  # settled meanwhile (cancel, timeout); the state table allows it
        if msg.progress:
            if not record.receive_progress:
                return  # the caller did not ask for progressive results
            result = Result(
                request_id=record.caller_request_id,
                details=_pass_through(msg.options, {"progress": True}),
                args=msg.args,
                kwargs=msg.kwargs,
                payload=msg.payload,
            )
            outcome = record.caller.send(result, Kind.RESULT)
            if outcome in (Outcome.TOO_LARGE, Outcome.UNENCODABLE):
                self._abandon(record, _FAILURE_URIS[outcome], _text(outcome))
            elif record.timeout:
                record.deadline = now + record.timeout
            return
        self._close(record)
        result = Result(
            request_id=record.caller_request_id,
            details=_pass_through(msg.options, {}),
            args=msg.args,
            kwargs=msg.kwargs,
            payload=msg.payload,
        )
        self._answer(record, result)

    def error(self, callee: Member, msg: Error) -> None:
        record = callee.invocation_record(msg.request_id)
        if record is None or record.done:
            return
        self._close(record)
        error = Error(
            request_type=CALL,
            request_id=record.caller_request_id,
            details=_pass_through(msg.details, {}),
            error=msg.error,
            args=msg.args,
            kwargs=msg.kwargs,
            payload=msg.payload,
        )
        self._answer(record, error)

    # -- CANCEL and timeouts -------------------------------------------------------------------

    def cancel(self, caller: Member, msg: Cancel) -> None:
        record = caller.call_record(msg.request_id)
        if record is None or record.done:
            return
        mode = msg.options.get("mode") or DEFAULT_CANCEL_MODE
        if not record.callee.can_cancel:
            mode = "skip"
        if mode == "kill":
            if not record.killing:
                record.killing = True
                record.streaming = False
                record.callee.send(
                    Interrupt(request_id=record.invocation_id, options={"mode": "kill"}),
                    Kind.REPLY,
                )
            return
        self._abandon(record, CANCELED, "the call was canceled", mode=mode)

    def timeout(self, record: CallRecord) -> None:
        """The call's deadline passed (the Router checked it)."""
        self._abandon(record, TIMEOUT, f"no result within {record.timeout:g} s")

    # -- removal ---------------------------------------------------------------------------------

    def remove_session(self, session: Member) -> None:
        """Undo everything a departing member is part of (its ``gone`` flag is already set)."""
        regs, session.registrations = session.registrations, {}
        for reg in regs.values():
            self._drop_callee(reg, session)
        # Calls it made: the callees are told with INTERRUPT killnowait where they can cancel
        # (wamp-spec.md §3.4); either way their late answers are dropped.
        for record in session.open_calls():
            if record.done:
                continue
            self._interrupt_and_forget(record, "killnowait")
            self._close(record)
            self._outlet.metrics.call_answered(self._counts, record.started, CANCELED)
        # Invocations it owes: each caller gets ERROR wamp.error.canceled.
        for record in session.open_invocations():
            if record.done:
                continue
            self._close(record)
            self._answer(
                record,
                Error(
                    request_type=CALL,
                    request_id=record.caller_request_id,
                    error=CANCELED,
                    args=["the callee left before answering"],
                ),
            )

    # -- internals -------------------------------------------------------------------------------

    def _drop_callee(self, reg: Registration, session: Member) -> None:
        if reg.callee_options.pop(session.id, None) is None:
            return
        reg.callees.remove(session)
        gone = not reg.callees
        if gone:
            self._registrations.remove(reg.uri, reg.match)
            del self._by_id[reg.id]
        self._hooks.unregistered(self._realm, session, reg)
        if gone:
            self._hooks.registration_deleted(self._realm, session, reg)

    def _close(self, record: CallRecord) -> None:
        """A call is settled: the callee's INVOCATION wants no answer any more (the caller's
        CALL closes with the answer sent to it; the timer entry lapses by itself)."""
        record.done = True
        record.deadline = None
        record.callee.end_invocation(record.invocation_id)

    def _answer(self, record: CallRecord, msg: Result | Error) -> None:
        """Send the final RESULT/ERROR; substitute an ERROR if the caller cannot take it."""
        self._outlet.metrics.call_answered(
            self._counts, record.started, msg.error if type(msg) is Error else None
        )
        outcome = record.caller.send(msg, Kind.RESULT)
        if outcome in (Outcome.TOO_LARGE, Outcome.UNENCODABLE):
            record.caller.send(
                Error(
                    request_type=CALL,
                    request_id=record.caller_request_id,
                    error=_FAILURE_URIS[outcome],
                    args=[_text(outcome)],
                ),
                Kind.RESULT,
            )

    def _abandon(
        self, record: CallRecord, error: str, text: str, *, mode: str = "killnowait"
    ) -> None:
        """End a call early: the caller gets ``error`` now, the callee an INTERRUPT (``mode``)."""
        self._interrupt_and_forget(record, mode)
        self._close(record)
        self._answer(
            record,
            Error(request_type=CALL, request_id=record.caller_request_id, error=error, args=[text]),
        )

    def _interrupt_and_forget(self, record: CallRecord, mode: str) -> None:
        callee = record.callee
        if mode != "skip" and callee.can_cancel and not callee.gone:
            callee.send(
                Interrupt(request_id=record.invocation_id, options={"mode": mode}), Kind.REPLY
            )
        # The invocation is over for the dealer: a later YIELD/ERROR is late, and dropped.
        callee.end_invocation(record.invocation_id)


def _pass_through(source: dict[str, Any], details: dict[str, Any]) -> dict[str, Any]:
    for key in PASS_THROUGH:
        if key in source:
            details[key] = source[key]
    return details


def _text(outcome: Outcome) -> str:
    return _FAILURE_TEXT.get(outcome, "the call could not be delivered")
