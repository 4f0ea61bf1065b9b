"""The meta API (wamp-spec.md §4.19, §4.23, §4.25-4.27): procedures and events about a realm.

It runs on the same mechanism as an embedded session: one hidden router-internal session per
realm (a :class:`~wampcore.client.ClientPeer` over a DirectLink, authrole ``trusted``) registers
every ``wamp.session.*``, ``wamp.registration.*`` and ``wamp.subscription.*`` procedure with
``disclose_caller`` and answers their INVOCATIONs from the realm's own state; its meta events are
ordinary publications from that session, so subscribers, black/white lists and (later)
authorization treat them like any other. Events come from the lifecycle hooks
(:mod:`.hooks`) and are published only after the step that caused them has settled.

Shapes (arguments by position or by Crossbar's keyword names; see docs/meta-api.md):

* ``wamp.session.on_join`` ``[details]``; ``on_leave`` ``[session, authid, authrole]``;
  ``count``/``list`` ``[filter_authroles?]`` -> int / ids; ``get`` ``[session]`` -> details;
  ``kill`` ``[session]`` (kwargs ``reason``, ``message``; default ``wamp.close.killed``; one's
  own id is ``no_such_session``); ``kill_by_authid`` -> killed ids; ``kill_by_authrole`` and
  ``kill_all`` -> count (never the caller; ``kill_all`` ends sessions without testaments or
  meta events, as the spec says); ``add_testament``, ``flush_testaments`` (-> count).
* ``wamp.registration.*`` / ``wamp.subscription.*``: ``on_create`` ``[session, details]``;
  ``on_register``/``on_subscribe``, ``on_unregister``/``on_unsubscribe``, ``on_delete``
  ``[session, id]``; ``list`` -> ``{"exact": [...], "prefix": [...], "wildcard": [...]}``;
  ``lookup`` ``[uri, {"match": ...}?]`` -> id or None; ``match`` -> id or None (registration),
  list of ids or None (subscription); ``get``; ``list_callees``/``list_subscribers``;
  ``count_callees``/``count_subscribers``; ``remove_callee``/``remove_subscriber``
  ``[id, session, reason?]`` (revocation with request id 0 where announced);
  ``wamp.subscription.get_events`` ``[subscription, limit?]`` (default 10) -> kept events,
  newest last, each ``{timestamp, subscription, publication, topic, realm, details, args,
  kwargs}`` (plus ``payload``, the bytes as published, for an Autobahn raw-payload event).

URIs under ``wamp.`` are the router's own: the meta API does not list, match or describe
registrations and subscriptions there, and publishes no events about them. Errors: wrong
argument types or counts ``wamp.error.invalid_argument``; unknown ids ``no_such_session`` /
``no_such_registration`` / ``no_such_subscription``; a kill reason that is no URI, or a
testament topic that is none or lies in ``wamp.*``, ``wamp.error.invalid_uri``; ``get_events``
of a subscription without configured history ``wamp.error.history_unavailable`` (Crossbar's
URI).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from ..client import (
    CallResult,
    ClientPeer,
    InvocationReceived,
    Joined,
    RegistrationCreated,
    RequestError,
)
from ..errors import (
    CLOSE_KILLED,
    INVALID_ARGUMENT,
    INVALID_URI,
    NO_SUCH_REGISTRATION,
    NO_SUCH_SESSION,
    NO_SUCH_SUBSCRIPTION,
)
from ..ids import MAX_ID
from ..uri import MATCH_POLICIES, is_valid
from .hooks import Lifecycle
from .store import eligible
from .testament import TestamentError, make_testament

if TYPE_CHECKING:
    from .broker import Subscription
    from .dealer import Registration
    from .member import Member
    from .realm import Realm
    from .router import Router
    from .session import Session
    from .sessions import SessionLayer
    from .store import Kept
    from .testament import Testament

__all__ = [
    "HISTORY_UNAVAILABLE",
    "META_PROCEDURES",
    "META_TOPICS",
    "MetaService",
    "session_details",
]

HISTORY_UNAVAILABLE = "wamp.error.history_unavailable"
RUNTIME_ERROR = "wamp.error.runtime_error"
SERVICE_AUTHID = "wampcore.meta"
#: Most events ``get_events`` returns at once.
MAX_EVENTS = 1000


class MetaError(Exception):
    """An ERROR answer to a meta call."""

    def __init__(self, uri: str, message: str) -> None:
        super().__init__(message)
        self.uri = uri
        self.message = message


def session_details(session: Session) -> dict[str, Any]:
    """What ``wamp.session.get`` and ``wamp.session.on_join`` tell about a session."""
    return {
        "session": session.id,
        "realm": session.realm.name,
        "authid": session.authid,
        "authrole": session.authrole,
        "authmethod": session.authmethod,
        "authprovider": session.authprovider,
        "authextra": dict(session.authextra),
        # The TLS channel id serves channel binding only; it is nobody else's business.
        "transport": {k: v for k, v in session.transport_info.items() if k != "channel_id"},
        # When it joined (ISO 8601 UTC, milliseconds): the status page shows each session's age.
        "joined": session.joined,
    }


def _reg_details(reg: Registration) -> dict[str, Any]:
    return {
        "id": reg.id,
        "created": reg.created,
        "uri": reg.uri,
        "match": reg.match,
        "invoke": reg.invoke,
    }


def _sub_details(sub: Subscription) -> dict[str, Any]:
    return {"id": sub.id, "created": sub.created, "uri": sub.uri, "match": sub.match}


def _own(uri: str) -> bool:
    return uri.startswith("wamp.")


_MISSING: Any = object()
_NO_RESULT: Any = object()


class _Call:
    """One meta INVOCATION: its arguments bound to names, its caller, its realm."""

    __slots__ = ("caller", "procedure", "realm", "values")

    def __init__(
        self, realm: Realm, ev: InvocationReceived, names: tuple[str, ...], required: int
    ) -> None:
        self.realm = realm
        self.procedure = ev.procedure
        self.caller = ev.caller
        args = ev.args or []
        if len(args) > len(names):
            raise _invalid(f"{ev.procedure} takes at most {len(names)} arguments, got {len(args)}")
        values = list(args) + [_MISSING] * (len(names) - len(args))
        for key, value in (ev.kwargs or {}).items():
            if key not in names:
                raise _invalid(f"{ev.procedure} has no argument {key!r:.40}")
            index = names.index(key)
            if values[index] is not _MISSING:
                raise _invalid(f"{ev.procedure}: argument {key!r} given twice")
            values[index] = value
        for index in range(required):
            if values[index] is _MISSING:
                raise _invalid(f"{ev.procedure} needs the argument {names[index]!r}")
        self.values = [None if v is _MISSING else v for v in values]


def _invalid(message: str) -> MetaError:
    return MetaError(INVALID_ARGUMENT, message)


def _id(value: Any, what: str) -> int:
    if type(value) is not int or not 1 <= value <= MAX_ID:
        raise _invalid(f"{what} must be an id (an integer in [1, 2^53]), got {value!r:.80}")
    return value


def _text(value: Any, what: str) -> str:
    if type(value) is not str:
        raise _invalid(f"{what} must be a string, got {value!r:.80}")
    return value


def _texts(value: Any, what: str) -> list[str] | None:
    if value is None:
        return None
    if type(value) is not list or not all(type(v) is str for v in value):
        raise _invalid(f"{what} must be a list of strings, got {value!r:.80}")
    return value


def _reason(value: Any) -> str:
    if value is None:
        return CLOSE_KILLED
    if type(value) is not str or not is_valid(value):
        raise MetaError(INVALID_URI, f"the reason must be a URI, got {value!r:.80}")
    return value


def _message(value: Any) -> str | None:
    if value is not None and type(value) is not str:
        raise _invalid(f"the message must be a string, got {value!r:.80}")
    return value


def _match_option(value: Any) -> str:
    if value is None:
        return "exact"
    if type(value) is not dict:
        raise _invalid(f"options must be a dict, got {value!r:.80}")
    match = value.get("match", "exact")
    if match not in MATCH_POLICIES:
        raise _invalid(f"options.match must be exact, prefix or wildcard, got {match!r:.40}")
    return str(match)


class _Service:
    """One realm's service session and the procedures it registered."""

    __slots__ = ("calls", "handlers", "peer", "pending", "realm")

    def __init__(self, realm: Realm) -> None:
        self.realm = realm
        self.peer: ClientPeer | None = None
        self.pending: dict[int, Callable[[_Call], Any]] = {}
        #: Calls the router makes through this session (a dynamic authenticator): request id ->
        #: what to do with the answer (ok, value).
        self.calls: dict[int, Callable[[bool, Any], None]] = {}
        self.handlers: dict[int, tuple[Callable[[_Call], Any], tuple[str, ...], int]] = {}


class MetaService(Lifecycle):
    """The meta API of every realm (see the module docstring)."""

    def __init__(self, layer: SessionLayer, router: Router) -> None:
        self._layer = layer
        self._router = router
        #: The cluster backplane's directory of other nodes' sessions (None: standalone):
        #: ``sessions(realm)`` and ``session(realm, id)``, so ``wamp.session.*`` answers for
        #: the whole cluster.
        self.cluster: Any = None
        self._services: dict[str, _Service] = {}
        #: uri -> (handler, argument names, how many are required)
        self._procedures: dict[str, tuple[Callable[[_Call], Any], tuple[str, ...], int]] = {
            "wamp.session.count": (self._session_count, ("filter_authroles",), 0),
            "wamp.session.list": (self._session_list, ("filter_authroles",), 0),
            "wamp.session.get": (self._session_get, ("session_id",), 1),
            "wamp.session.kill": (self._kill, ("session_id", "reason", "message"), 1),
            "wamp.session.kill_by_authid": (
                self._kill_by_authid,
                ("authid", "reason", "message"),
                1,
            ),
            "wamp.session.kill_by_authrole": (
                self._kill_by_authrole,
                ("authrole", "reason", "message"),
                1,
            ),
            "wamp.session.kill_all": (self._kill_all, ("reason", "message"), 0),
            "wamp.session.add_testament": (
                self._add_testament,
                ("topic", "args", "kwargs", "publish_options", "scope"),
                1,
            ),
            "wamp.session.flush_testaments": (self._flush_testaments, ("scope",), 0),
            "wamp.registration.list": (self._reg_list, (), 0),
            "wamp.registration.lookup": (self._reg_lookup, ("procedure", "options"), 1),
            "wamp.registration.match": (self._reg_match, ("procedure",), 1),
            "wamp.registration.get": (self._reg_get, ("registration_id",), 1),
            "wamp.registration.list_callees": (self._reg_callees, ("registration_id",), 1),
            "wamp.registration.count_callees": (self._reg_count, ("registration_id",), 1),
            "wamp.registration.remove_callee": (
                self._reg_remove,
                ("registration_id", "callee_id", "reason"),
                2,
            ),
            "wamp.subscription.list": (self._sub_list, (), 0),
            "wamp.subscription.lookup": (self._sub_lookup, ("topic", "options"), 1),
            "wamp.subscription.match": (self._sub_match, ("topic",), 1),
            "wamp.subscription.get": (self._sub_get, ("subscription_id",), 1),
            "wamp.subscription.list_subscribers": (
                self._sub_subscribers,
                ("subscription_id",),
                1,
            ),
            "wamp.subscription.count_subscribers": (self._sub_count, ("subscription_id",), 1),
            "wamp.subscription.remove_subscriber": (
                self._sub_remove,
                ("subscription_id", "subscriber_id", "reason"),
                2,
            ),
            "wamp.subscription.get_events": (
                self._get_events,
                ("subscription_id", "limit"),
                1,
            ),
        }

    # -- the service sessions --------------------------------------------------------------------

    def attach(self, realm: Realm) -> None:
        """Open the realm's service session (it joins and registers once the step settles)."""
        service = _Service(realm)
        self._services[realm.name] = service
        service.peer = self._router.open_service_session(
            realm.name, SERVICE_AUTHID, partial(self._serve, service)
        )

    def detach(self, realm: Realm) -> None:
        service = self._services.get(realm.name)
        if service is None or service.realm is not realm:
            return
        del self._services[realm.name]
        if service.peer is not None and not service.peer.closed:
            service.peer.close()

    def call(
        self,
        realm: str,
        procedure: str,
        args: list[Any],
        timeout_ms: int,
        on_done: Callable[[bool, Any], None],
    ) -> bool:
        """Call ``procedure`` from ``realm``'s service session; ``on_done(True, result)`` or
        ``on_done(False, error_uri)`` follows (once). False if the realm has no service."""
        service = self._services.get(realm)
        if service is None or service.peer is None or not service.peer.is_joined:
            return False
        request_id = service.peer.call(procedure, args, timeout=timeout_ms)
        service.calls[request_id] = on_done
        return True

    def _serve(self, service: _Service, peer: ClientPeer) -> None:
        while (ev := peer.next_event()) is not None:
            if isinstance(ev, InvocationReceived):
                self._invoke(service, peer, ev)
            elif isinstance(ev, CallResult) and not ev.progress:
                done = service.calls.pop(ev.request_id, None)
                if done is not None:
                    done(True, ev.args[0] if ev.args else (ev.kwargs or None))
            elif isinstance(ev, RequestError):
                failed = service.calls.pop(ev.request_id, None)
                if failed is not None:
                    failed(False, ev.error)
            elif isinstance(ev, RegistrationCreated):
                handler = service.pending.pop(ev.request_id, None)
                if handler is not None:
                    service.handlers[ev.registration_id] = self._procedures[ev.procedure]
            elif isinstance(ev, Joined):
                for uri, entry in self._procedures.items():
                    service.pending[peer.register(uri, disclose_caller=True)] = entry[0]

    def _invoke(self, service: _Service, peer: ClientPeer, ev: InvocationReceived) -> None:
        entry = service.handlers.get(ev.registration_id)
        if entry is None:
            peer.yield_error(ev.request_id, RUNTIME_ERROR, ["not a meta procedure"])
            return
        handler, names, required = entry
        try:
            result = handler(_Call(service.realm, ev, names, required))
        except MetaError as exc:
            peer.yield_error(ev.request_id, exc.uri, [exc.message])
            return
        except Exception as exc:  # a router bug: the caller gets an ERROR, the router carries on
            self._router.report_internal_error(exc)
            peer.yield_error(ev.request_id, RUNTIME_ERROR, [f"{type(exc).__name__}: {exc}"])
            return
        if result is _NO_RESULT:
            peer.yield_result(ev.request_id)
        else:
            peer.yield_result(ev.request_id, [result])

    def publish(
        self,
        realm: Realm,
        topic: str,
        args: list[Any],
        kwargs: dict[str, Any] | None = None,
        options: dict[str, Any] | None = None,
    ) -> None:
        """Publish from the realm's service session (meta events, testaments)."""
        service = self._services.get(realm.name)
        if service is None or service.realm is not realm or service.peer is None:
            return
        if service.peer.is_joined:
            service.peer.publish(topic, args, kwargs or None, options=options)

    def publish_testament(self, realm: Realm, testament: Testament) -> None:
        self.publish(realm, testament.topic, testament.args, testament.kwargs, testament.options)

    # -- lifecycle hooks -> meta events ----------------------------------------------------------

    def _event(self, realm: Realm, topic: str, args: Callable[[], list[Any]]) -> None:
        """Publish ``topic`` once the step settles -- if anybody listens now."""
        if realm.service is None or not realm.broker.has_subscribers(topic):
            return
        payload = args()  # a snapshot now: the session may be gone when it is published
        self._layer.defer(lambda: self.publish(realm, topic, payload))

    def _quiet(self, session: Member) -> bool:
        hidden: bool = getattr(session, "hidden", False)
        return hidden or session.id in self._layer.quiet

    def session_joined(self, realm: Realm, session: Member) -> None:
        if not self._quiet(session):
            s: Any = session
            self._event(realm, "wamp.session.on_join", lambda: [session_details(s)])

    def session_left(self, realm: Realm, session: Member, reason: str) -> None:
        if not self._quiet(session):
            self._event(
                realm,
                "wamp.session.on_leave",
                lambda: [session.id, session.authid, session.authrole],
            )

    def _about(self, realm: Realm, session: Member, uri: str, topic: str, args: list[Any]) -> None:
        if not _own(uri) and not self._quiet(session):
            self._event(realm, topic, lambda: args)

    def registration_created(self, realm: Realm, session: Member, reg: Registration) -> None:
        self._about(
            realm, session, reg.uri, "wamp.registration.on_create", [session.id, _reg_details(reg)]
        )

    def registered(self, realm: Realm, session: Member, reg: Registration) -> None:
        self._about(realm, session, reg.uri, "wamp.registration.on_register", [session.id, reg.id])

    def unregistered(self, realm: Realm, session: Member, reg: Registration) -> None:
        self._about(
            realm, session, reg.uri, "wamp.registration.on_unregister", [session.id, reg.id]
        )

    def registration_deleted(self, realm: Realm, session: Member, reg: Registration) -> None:
        self._about(realm, session, reg.uri, "wamp.registration.on_delete", [session.id, reg.id])

    def subscription_created(self, realm: Realm, session: Member, sub: Subscription) -> None:
        self._about(
            realm, session, sub.uri, "wamp.subscription.on_create", [session.id, _sub_details(sub)]
        )

    def subscribed(self, realm: Realm, session: Member, sub: Subscription) -> None:
        self._about(realm, session, sub.uri, "wamp.subscription.on_subscribe", [session.id, sub.id])

    def unsubscribed(self, realm: Realm, session: Member, sub: Subscription) -> None:
        self._about(
            realm, session, sub.uri, "wamp.subscription.on_unsubscribe", [session.id, sub.id]
        )

    def subscription_deleted(self, realm: Realm, session: Member, sub: Subscription) -> None:
        self._about(realm, session, sub.uri, "wamp.subscription.on_delete", [session.id, sub.id])

    # -- wamp.session.* --------------------------------------------------------------------------

    def _sessions(self, call: _Call, roles: list[str] | None = None) -> list[Session]:
        found = self._layer.visible_sessions(call.realm)
        if self.cluster is not None:
            found = found + self.cluster.sessions(call.realm)
        if roles is not None:
            found = [s for s in found if s.authrole in roles]
        return found

    def _session_count(self, call: _Call) -> int:
        roles = _texts(call.values[0], "filter_authroles")
        return len(self._sessions(call, roles))

    def _session_list(self, call: _Call) -> list[int]:
        roles = _texts(call.values[0], "filter_authroles")
        return [s.id for s in self._sessions(call, roles)]

    def _target(self, call: _Call, session_id: int) -> Session:
        session = self._layer.sessions.get(session_id)
        if session is None and self.cluster is not None:
            remote: Session | None = self.cluster.session(call.realm, session_id)
            if remote is not None:
                return remote
        if session is None or session.hidden or session.realm is not call.realm:
            raise MetaError(NO_SUCH_SESSION, f"no session {session_id} in this realm")
        return session

    def _session_get(self, call: _Call) -> dict[str, Any]:
        return session_details(self._target(call, _id(call.values[0], "session_id")))

    def _kill(self, call: _Call) -> Any:
        session_id = _id(call.values[0], "session_id")
        reason, message = _reason(call.values[1]), _message(call.values[2])
        if session_id == call.caller:
            raise MetaError(NO_SUCH_SESSION, "a session cannot kill itself")
        self._router.end_session(self._target(call, session_id), reason, message)
        return _NO_RESULT

    def _kill_where(
        self, call: _Call, wanted: Callable[[Session], bool], quiet: bool = False
    ) -> list[int]:
        reason, message = _reason(call.values[-2]), _message(call.values[-1])
        victims = [s for s in self._sessions(call) if s.id != call.caller and wanted(s)]
        for session in victims:
            if quiet:
                self._layer.quiet.add(session.id)
            self._router.end_session(session, reason, message)
        return [s.id for s in victims]

    def _kill_by_authid(self, call: _Call) -> list[int]:
        authid = _text(call.values[0], "authid")
        return self._kill_where(call, lambda s: s.authid == authid)

    def _kill_by_authrole(self, call: _Call) -> int:
        authrole = _text(call.values[0], "authrole")
        return len(self._kill_where(call, lambda s: s.authrole == authrole))

    def _kill_all(self, call: _Call) -> int:
        return len(self._kill_where(call, lambda s: True, quiet=True))

    def _caller(self, call: _Call) -> Session:
        session = self._layer.sessions.get(call.caller or 0)
        if session is None:
            raise MetaError(NO_SUCH_SESSION, "the calling session is gone")
        return session

    def _add_testament(self, call: _Call) -> Any:
        topic, args, kwargs, publish_options, scope = call.values
        try:
            testament = make_testament(topic, args, kwargs, publish_options, scope)
        except TestamentError as exc:
            bad_topic = type(topic) is str and (not is_valid(topic) or _own(topic))
            raise MetaError(INVALID_URI if bad_topic else INVALID_ARGUMENT, str(exc)) from None
        self._layer.add_testament(self._caller(call), testament)
        return _NO_RESULT

    def _flush_testaments(self, call: _Call) -> int:
        scope = call.values[0]
        if scope is None:
            scope = "destroyed"
        if scope not in ("destroyed", "detached"):
            raise _invalid(f"scope must be 'destroyed' or 'detached', got {scope!r:.40}")
        return self._layer.flush_testaments(self._caller(call), scope)

    # -- wamp.registration.* ---------------------------------------------------------------------

    def _registration(self, call: _Call) -> Registration:
        registration_id = _id(call.values[0], "registration_id")
        reg = call.realm.dealer.registration(registration_id)
        if reg is None or _own(reg.uri):
            raise MetaError(NO_SUCH_REGISTRATION, f"no registration {registration_id}")
        return reg

    def _reg_list(self, call: _Call) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {match: [] for match in MATCH_POLICIES}
        for reg in call.realm.dealer.registrations():
            if not _own(reg.uri):
                out[reg.match].append(reg.id)
        return out

    def _reg_lookup(self, call: _Call) -> int | None:
        procedure = _text(call.values[0], "procedure")
        reg = call.realm.dealer.lookup(procedure, _match_option(call.values[1]))
        return None if reg is None or _own(reg.uri) else reg.id

    def _reg_match(self, call: _Call) -> int | None:
        reg = call.realm.dealer.best(_text(call.values[0], "procedure"))
        return None if reg is None or _own(reg.uri) else reg.id

    def _reg_get(self, call: _Call) -> dict[str, Any]:
        return _reg_details(self._registration(call))

    def _reg_callees(self, call: _Call) -> list[int]:
        return [s.id for s in self._registration(call).callees]

    def _reg_count(self, call: _Call) -> int:
        return len(self._registration(call).callees)

    def _reg_remove(self, call: _Call) -> Any:
        reg = self._registration(call)
        callee_id = _id(call.values[1], "callee_id")
        reason = call.values[2]
        if reason is not None:
            _text(reason, "reason")
        callee = next((s for s in reg.callees if s.id == callee_id), None)
        if callee is None:
            raise MetaError(NO_SUCH_SESSION, f"session {callee_id} is no callee of {reg.id}")
        call.realm.dealer.remove_callee(reg, callee, reason)
        return _NO_RESULT

    # -- wamp.subscription.* ---------------------------------------------------------------------

    def _subscription(self, call: _Call) -> Subscription:
        subscription_id = _id(call.values[0], "subscription_id")
        sub = call.realm.broker.subscription(subscription_id)
        if sub is None or _own(sub.uri):
            raise MetaError(NO_SUCH_SUBSCRIPTION, f"no subscription {subscription_id}")
        return sub

    def _sub_list(self, call: _Call) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {match: [] for match in MATCH_POLICIES}
        for sub in call.realm.broker.subscriptions():
            if not _own(sub.uri):
                out[sub.match].append(sub.id)
        return out

    def _sub_lookup(self, call: _Call) -> int | None:
        topic = _text(call.values[0], "topic")
        sub = call.realm.broker.lookup(topic, _match_option(call.values[1]))
        return None if sub is None or _own(sub.uri) else sub.id

    def _sub_match(self, call: _Call) -> list[int] | None:
        topic = _text(call.values[0], "topic")
        found = [s.id for s in call.realm.broker.matching(topic) if not _own(s.uri)]
        return found or None

    def _sub_get(self, call: _Call) -> dict[str, Any]:
        return _sub_details(self._subscription(call))

    def _sub_subscribers(self, call: _Call) -> list[int]:
        return list(self._subscription(call).subscribers)

    def _sub_count(self, call: _Call) -> int:
        return len(self._subscription(call).subscribers)

    def _sub_remove(self, call: _Call) -> Any:
        sub = self._subscription(call)
        subscriber_id = _id(call.values[1], "subscriber_id")
        reason = call.values[2]
        if reason is not None:
            _text(reason, "reason")
        subscriber = sub.subscribers.get(subscriber_id)
        if subscriber is None:
            raise MetaError(
                NO_SUCH_SESSION, f"session {subscriber_id} is no subscriber of {sub.id}"
            )
        call.realm.broker.remove_subscriber(sub, subscriber, reason)
        return _NO_RESULT

    def _get_events(self, call: _Call) -> list[dict[str, Any]]:
        sub = self._subscription(call)
        limit = call.values[1]
        if limit is None:
            limit = 10
        if type(limit) is not int or limit < 1:
            raise _invalid(f"limit must be a positive integer, got {limit!r:.40}")
        kept = call.realm.broker.store.history(sub.uri, sub.match)
        if kept is None:
            raise MetaError(HISTORY_UNAVAILABLE, f"no event history is kept for {sub.uri!r}")
        caller = self._layer.sessions.get(call.caller or 0)
        if caller is not None:
            kept = [k for k in kept if eligible(k.filters, caller)]
        return [_kept_event(k, sub, call.realm) for k in kept[-min(limit, MAX_EVENTS) :]]


def _kept_event(kept: Kept, sub: Subscription, realm: Realm) -> dict[str, Any]:
    """One ``get_events`` entry; a transparent (raw) payload is kept as it came, in ``payload``."""
    entry: dict[str, Any] = {
        "timestamp": kept.timestamp,
        "subscription": sub.id,
        "publication": kept.publication_id,
        "topic": kept.topic,
        "realm": realm.name,
        "details": dict(kept.details),
        "args": list(kept.args or []),
        "kwargs": dict(kept.kwargs or {}),
    }
    if kept.payload is not None:
        entry["payload"] = kept.payload
    return entry


#: Every meta procedure the service session registers, and every meta topic it publishes.
META_PROCEDURES = (
    "wamp.session.count",
    "wamp.session.list",
    "wamp.session.get",
    "wamp.session.kill",
    "wamp.session.kill_by_authid",
    "wamp.session.kill_by_authrole",
    "wamp.session.kill_all",
    "wamp.session.add_testament",
    "wamp.session.flush_testaments",
    "wamp.registration.list",
    "wamp.registration.lookup",
    "wamp.registration.match",
    "wamp.registration.get",
    "wamp.registration.list_callees",
    "wamp.registration.count_callees",
    "wamp.registration.remove_callee",
    "wamp.subscription.list",
    "wamp.subscription.lookup",
    "wamp.subscription.match",
    "wamp.subscription.get",
    "wamp.subscription.list_subscribers",
    "wamp.subscription.count_subscribers",
    "wamp.subscription.remove_subscriber",
    "wamp.subscription.get_events",
)
META_TOPICS = (
    "wamp.session.on_join",
    "wamp.session.on_leave",
    "wamp.registration.on_create",
    "wamp.registration.on_register",
    "wamp.registration.on_unregister",
    "wamp.registration.on_delete",
    "wamp.subscription.on_create",
    "wamp.subscription.on_subscribe",
    "wamp.subscription.on_unsubscribe",
    "wamp.subscription.on_delete",
)
