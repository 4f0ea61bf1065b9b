"""The realm/session layer: who joins which realm as whom, what leaving undoes, and where each
message of a joined session goes. It sees realm members, never connections' bytes.

* **Join** is two steps (``decide``, then ``admit`` once the connection layer is about to send
  WELCOME, which re-checks that the realm still exists and has room), then ``joined`` once the
  WELCOME is queued. Network clients join anonymously (authid generated, authrole/authmethod
  ``anonymous``, authprovider ``static``) unless the realm refuses anonymous clients;
  router-internal sessions join with the identity they were opened with (authrole ``trusted``
  by default, authmethod ``trusted``, authprovider ``programcode``).
* **Leave** (``leave``) is the realm's half of the one removal path: the broker drops the
  session's subscriptions, the dealer its registrations and calls, the lifecycle hooks fire,
  its testaments are published, and a realm created on demand goes with its last session.
* **Dispatch** (``dispatch``) hands each message of a joined session to the broker (publish,
  subscribe, unsubscribe) or the dealer (call, yield, error, register, unregister, cancel).
* **Deferred work**: meta events, testaments and dropping emptied realms are queued while a
  step runs and done by ``run_deferred`` once it settles -- after the operation that caused
  them was answered, in the order they were caused, never re-entrantly.

The meta API (:mod:`.meta`) is one listener on this layer's lifecycle hooks and runs as one
hidden router-internal session per realm.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Container
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from ..config import RealmConfig, RouterConfig
from ..errors import (
    NO_SUCH_REALM,
    NOT_AUTHORIZED,
    REALM_FULL,
    LocalProtocolError,
    RemoteProtocolError,
)
from ..ids import RandomSource, global_id
from ..messages import (
    CALL,
    CANCEL,
    ERROR,
    EVENT_RECEIVED,
    PUBLISH,
    REGISTER,
    SUBSCRIBE,
    UNREGISTER,
    UNSUBSCRIBE,
    YIELD,
    Authenticate,
    Hello,
    Message,
)
from .authentication import Attempt, Authentication, Challenge, Waiting
from .authorization import ALLOW, DENY, AuthorizationHook, Authorizer, Decision
from .connection import Connection, LocalPeer
from .hooks import LifecycleHooks
from .member import Kind
from .meta import MetaService, session_details
from .realm import Realm
from .session import Session
from .testament import Testament

if TYPE_CHECKING:
    from .router import Router

__all__ = ["Admission", "Refusal", "SessionLayer"]

_AUTHID_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
#: The requests authorization judges, and the action each is.
_ACTIONS = {PUBLISH: "publish", SUBSCRIBE: "subscribe", CALL: "call", REGISTER: "register"}
#: Cached verdicts per session (a dynamic authorizer may allow caching).
_CACHE_LIMIT = 1024
#: The upgrade request's query parameter that names a join grant (``Router.grant_join``).
_GRANT_PARAM = "status_grant"
_MAX_GRANTS = 1024


def _remember(session: Session, action: str, uri: str, decision: Decision) -> None:
    cache = session.authorized
    if len(cache) >= _CACHE_LIMIT:
        cache.pop(next(iter(cache)))
    cache[(action, uri)] = decision


def _authorizer_verdict(value: Any) -> Decision:
    """A dynamic authorizer's RESULT: a bool, or ``{"allow", "disclose", "cache"}``."""
    if type(value) is bool:
        return Decision(value, False, cache=False)
    if isinstance(value, dict) and type(value.get("allow")) is bool:
        disclose = value.get("disclose") is True
        return Decision(value["allow"], disclose, cache=value.get("cache") is True)
    return DENY  # junk denies


@dataclass(frozen=True, slots=True)
class Admission:
    """A join decided in favour: into which realm, as whom."""

    realm: RealmConfig
    authid: str
    authrole: str
    authmethod: str
    authprovider: str
    authextra: dict[str, Any] | None = None
    #: A router-internal session (may use ``wamp.*``; not counted against the realm's limit).
    internal: bool = False
    #: The router's own service session (not listed by the meta API).
    hidden: bool = False
    #: The session id already promised (a WAMP-CRA challenge signs it); None: draw one.
    session_id: int | None = None


@dataclass(frozen=True, slots=True)
class Refusal:
    """A join refused: the ABORT reason and message, sent after ``delay`` seconds."""

    reason: str
    message: str
    delay: float = 0.0


class SessionLayer:
    """Realms, joined sessions, lifecycle hooks, deferred work (see the module docstring)."""

    def __init__(
        self, router: Router, config: RouterConfig, rng: RandomSource, clock: Callable[[], str]
    ) -> None:
        self._router = router
        self._config = config
        self._rng = rng
        self._clock = clock
        self.realms: dict[str, Realm] = {}
        self.sessions: dict[int, Session] = {}
        self.hooks = LifecycleHooks()
        self.meta = MetaService(self, router)
        self.hooks.add(self.meta)
        self._deferred: deque[Callable[[], object]] = deque()
        #: Sessions ended by ``wamp.session.kill_all``: no testament, no meta event.
        self.quiet: set[int] = set()
        #: Joins that need more than the HELLO (challenges, dynamic decisions).
        self.auth = Authentication(self, rng, clock)
        #: The embedder's authorization hook (see ``Router.set_authorization_hook``).
        self.authorization_hook: AuthorizationHook | None = None
        #: Session ids in use on other cluster nodes (the backplane's directory), never drawn.
        self.elsewhere: Container[int] = ()
        #: The router's counters (calls refused here, auth failures in ``auth``).
        self.metrics = router.metrics
        #: Single-use join grants (``Router.grant_join``): token -> (authrole, authid, expires).
        self._grants: dict[str, tuple[str, str | None, float]] = {}

    def start(self) -> None:
        """Create the configured realms (the router calls this once, inside a step)."""
        for realm_config in self._config.realms:
            self._create_realm(realm_config, on_demand=False)

    # -- queries ---------------------------------------------------------------------------------

    def count(self, realm: str | None = None) -> int:
        """Sessions in ``realm`` (in all realms if None), the router's own not counted."""
        if realm is None:
            return sum(r.visible for r in self.realms.values())
        found = self.realms.get(realm)
        return 0 if found is None else found.visible

    def visible_sessions(self, realm: Realm) -> list[Session]:
        """The realm's sessions as the meta API lists them, in join order."""
        return [s for s in realm.members.values() if type(s) is Session and not s.hidden]

    # -- join ------------------------------------------------------------------------------------

    def new_session_id(self) -> int:
        """A session id no session has and no pending join was promised."""
        while True:
            session_id = global_id(self._rng)
            if (
                session_id not in self.sessions
                and session_id not in self.auth.promised
                and session_id not in self.elsewhere
            ):
                return session_id

    def decide(
        self, conn: Connection, hello: Hello, now: float = 0.0
    ) -> Admission | Refusal | Challenge | Waiting:
        """THE place a join is decided: admit (with an identity), refuse (with an ABORT),
        challenge, or wait for a decision made elsewhere (see :mod:`.authentication`)."""
        realm = self.realms.get(hello.realm)
        realm_config = realm.config if realm is not None else None
        if realm_config is None:
            if not self._config.auto_create_realms:
                return Refusal(NO_SUCH_REALM, f"no realm {hello.realm!r} on this router")
            realm_config = RealmConfig(hello.realm)
        if isinstance(conn, LocalPeer):
            identity = conn.identity
            return Admission(
                realm_config,
                authid=identity.get("authid") or self._anonymous_authid(),
                authrole=identity.get("authrole") or realm_config.embedded_authrole,
                authmethod="trusted",
                authprovider="programcode",
                authextra=identity.get("authextra"),
                internal=True,
                hidden=conn.hidden,
            )
        room = self._room(realm)
        if room is not None:
            return room
        granted = self._granted(conn, realm_config, now)
        if granted is not None:
            return granted
        return self.auth.start(conn, hello, realm_config, self.new_session_id(), now)

    def grant(self, token: str, authrole: str, authid: str | None, expires: float) -> None:
        """Record a single-use join grant (see ``Router.grant_join``)."""
        if type(token) is not str or len(token) < 16:
            raise LocalProtocolError("a join grant's token is a string of at least 16 characters")
        if type(authrole) is not str or not authrole:
            raise LocalProtocolError("a join grant names an authrole")
        grants = self._grants
        # Oldest first; a flood of grants (page loads) can hold at most _MAX_GRANTS.
        while len(grants) >= _MAX_GRANTS:
            grants.pop(next(iter(grants)))
        grants[token] = (authrole, authid, expires)

    def _granted(
        self, conn: Connection, realm: RealmConfig, now: float
    ) -> Admission | Refusal | None:
        """A join grant named by the upgrade request's query: admit as its role (used up),
        refuse a stale or unknown one; None when the request names none."""
        request = getattr(conn, "request", None)
        query = getattr(request, "query", "")
        if not query or _GRANT_PARAM not in query:
            return None
        token = next(
            (v for k, _, v in (p.partition("=") for p in query.split("&")) if k == _GRANT_PARAM),
            None,
        )
        if token is None:
            return None
        for stale in [t for t, (_, _, expires) in self._grants.items() if expires < now]:
            del self._grants[stale]
        grant = self._grants.pop(token, None)
        if grant is None:
            self.metrics.auth_failed(realm.name, "status_grant")
            return Refusal(NOT_AUTHORIZED, "this status page grant is used up or expired: reload")
        authrole, authid, _ = grant
        return Admission(
            realm,
            authid=authid or self._anonymous_authid(),
            authrole=authrole,
            authmethod="status_grant",
            authprovider="wampcore.http",
        )

    def authenticate(
        self, conn: Connection, msg: Authenticate, now: float
    ) -> Admission | Refusal | Challenge | Waiting:
        """An AUTHENTICATE (the state table admits it only after a CHALLENGE)."""
        return self.auth.authenticate(conn, msg, now)

    # -- what the authentication engine asks of this layer ---------------------------------------

    def anonymous(self, realm: RealmConfig) -> Admission:
        return Admission(
            realm,
            authid=self._anonymous_authid(),
            authrole=realm.anonymous_role,
            authmethod="anonymous",
            authprovider="static",
        )

    def authenticated(self, attempt: Attempt) -> Admission:
        return Admission(
            attempt.realm,
            authid=attempt.authid or self._anonymous_authid(),
            authrole=attempt.authrole,
            authmethod=attempt.method,
            authprovider=attempt.authprovider,
            authextra=attempt.authextra or None,
            session_id=attempt.session_id,
        )

    def handshake_timeout(self) -> float:
        return float(self._config.limits.handshake_timeout)

    def report_authentication(self, conn: Connection, attempt: Attempt) -> None:
        self._router.report_authentication(conn, attempt, None)

    def report_authenticate(self, conn: Connection, attempt: Attempt, msg: Authenticate) -> None:
        self._router.report_authentication(conn, attempt, msg)

    def call_authenticator(
        self, conn: Connection, token: int, realm: str, procedure: str, args: list[Any]
    ) -> None:
        def done(ok: bool, value: Any) -> None:
            self._router.authenticator_answered(conn, token, ok, value)

        timeout_ms = int(self._config.limits.handshake_timeout * 1000)
        if not self.meta.call(realm, procedure, args, timeout_ms, done):
            self.defer(lambda: done(False, "wamp.error.no_such_realm"))

    def admit(
        self, conn: Connection, admission: Admission, session_id: int, now: float
    ) -> Session | Refusal:
        """The second step: re-check the realm, then add the session (not yet announced)."""
        name = admission.realm.name
        realm = self.realms.get(name)
        if realm is None:
            if not self._config.auto_create_realms:
                return Refusal(NO_SUCH_REALM, f"no realm {name!r} on this router")
            realm = self._create_realm(admission.realm, on_demand=True)
        if not admission.internal:
            room = self._room(realm)
            if room is not None:
                return room
        session = Session(
            session_id,
            conn,
            realm,
            self._router.deliver,
            authid=admission.authid,
            authrole=admission.authrole,
            authmethod=admission.authmethod,
            authprovider=admission.authprovider,
            authextra=admission.authextra,
            internal=admission.internal,
            hidden=admission.hidden,
            joined_at=now,
        )
        if not admission.hidden:
            session.joined = self._clock()
        realm.members[session_id] = session
        if admission.hidden:
            realm.service = session
        else:
            realm.visible += 1
            if not admission.internal:
                realm.counted += 1
        self.sessions[session_id] = session
        return session

    def joined(self, session: Session) -> None:
        """The WELCOME is queued: the join is announced."""
        self.hooks.session_joined(session.realm, session)

    def discard(self, session: Session) -> None:
        """The WELCOME could not be queued: undo ``admit`` silently."""
        session.gone = True
        self._forget(session)

    def _room(self, realm: Realm | None) -> Refusal | None:
        limit = self._config.limits.max_sessions_per_realm
        if realm is not None and realm.counted >= limit:
            return Refusal(REALM_FULL, f"realm {realm.name!r} holds {limit} sessions")
        return None

    def _anonymous_authid(self) -> str:
        chars = [_AUTHID_ALPHABET[self._rng.randint(0, 31)] for _ in range(12)]
        return "-".join("".join(chars[i : i + 4]) for i in (0, 4, 8))

    # -- leave -----------------------------------------------------------------------------------

    def leave(self, session: Session, reason: str) -> None:
        """The realm's half of the removal path (the connection layer calls it exactly once)."""
        session.gone = True
        realm = session.realm
        realm.remove(session)
        self._forget(session)
        quiet = session.id in self.quiet
        if not quiet and not session.hidden:
            # No session resumption: "detached" testaments go out before "destroyed" ones
            # (wamp-spec.md §4.23).
            for scope in ("detached", "destroyed"):
                for testament in session.testaments.get(scope, ()):
                    self.defer(partial(self.meta.publish_testament, realm, testament))
        session.testaments = {}
        self.hooks.session_left(realm, session, reason)
        self.quiet.discard(session.id)
        if realm.on_demand and not realm.visible:
            self.defer(lambda: self._drop_if_empty(realm))

    def _forget(self, session: Session) -> None:
        realm = session.realm
        if realm.members.pop(session.id, None) is not None:
            if session.hidden:
                realm.service = None
            else:
                realm.visible -= 1
                if not session.internal:
                    realm.counted -= 1
        self.sessions.pop(session.id, None)

    def _drop_if_empty(self, realm: Realm) -> None:
        if realm.visible or self.realms.get(realm.name) is not realm:
            return
        del self.realms[realm.name]
        self.meta.detach(realm)

    # -- testaments ------------------------------------------------------------------------------

    def add_testament(self, session: Session, testament: Testament) -> None:
        session.testaments.setdefault(testament.scope, []).append(testament)
        self.hooks.testament_added(session.realm, session, testament)

    def flush_testaments(self, session: Session, scope: str) -> int:
        flushed = len(session.testaments.pop(scope, ()))
        if flushed:
            self.hooks.testaments_flushed(session.realm, session, scope)
        return flushed

    # -- dispatch --------------------------------------------------------------------------------

    def dispatch(self, session: Session, msg: Message, now: float) -> None:
        """Route one message of a joined session to its realm's broker or dealer, once the
        realm's authorization allows it (wamp-spec.md §10).

        While a dynamic authorizer is deciding one of the session's requests, the session's
        later messages wait behind it, so they are routed in the order they came.
        """
        if session.held is not None:
            session.held.append(msg)
            return
        verdict = self._authorize(session, msg)
        if verdict is not None:
            self.route(session, msg, now, verdict)

    def route(self, session: Session, msg: Message, now: float, verdict: Decision) -> None:
        """Route one message whose authorization verdict is known."""
        realm = session.realm
        mtype = msg.TYPE
        if not verdict.allow:
            self._not_authorized(session, msg)
        elif mtype == PUBLISH:
            realm.broker.publish(session, msg, disclose=verdict.disclose)  # type: ignore[arg-type]
        elif mtype == CALL:
            realm.dealer.call(session, msg, now, disclose=verdict.disclose)  # type: ignore[arg-type]
        elif mtype == YIELD:
            realm.dealer.yield_(session, msg, now)  # type: ignore[arg-type]
        elif mtype == ERROR:
            realm.dealer.error(session, msg)  # type: ignore[arg-type]
        elif mtype == SUBSCRIBE:
            realm.broker.subscribe(session, msg)  # type: ignore[arg-type]
        elif mtype == UNSUBSCRIBE:
            realm.broker.unsubscribe(session, msg)  # type: ignore[arg-type]
        elif mtype == REGISTER:
            realm.dealer.register(session, msg)  # type: ignore[arg-type]
        elif mtype == UNREGISTER:
            realm.dealer.unregister(session, msg)  # type: ignore[arg-type]
        elif mtype == CANCEL:
            realm.dealer.cancel(session, msg)  # type: ignore[arg-type]
        elif mtype != EVENT_RECEIVED:  # acknowledged delivery is not implemented: ignored
            raise RemoteProtocolError(f"{msg.NAME} is not handled by this router")

    # -- authorization ---------------------------------------------------------------------------

    def _authorize(self, session: Session, msg: Message) -> Decision | None:
        """The verdict for one message, or None when a dynamic authorizer was asked."""
        action = _ACTIONS.get(msg.TYPE)
        if action is None or session.internal or session.realm.open_access:
            # Replies need no permission; router-internal sessions are trusted; a realm without
            # roles, authorizer or hook lets everyone do everything.
            return ALLOW
        if action == "call" and session.call_record(msg.request_id) is not None:  # type: ignore[attr-defined]
            return ALLOW  # a progressive continuation of an authorized call
        uri: str = getattr(msg, "topic" if action in ("publish", "subscribe") else "procedure")
        cached = session.authorized.get((action, uri))
        if cached is not None:
            return cached
        realm = session.realm
        options: dict[str, Any] = getattr(msg, "options", {})
        if realm.config.authorizer is not None:
            self._ask_authorizer(session, msg, action, uri, options)
            return None
        details = session_details(session) if self.authorization_hook is not None else None
        decision = realm.authorizer.authorize(
            session.authrole,
            action,  # type: ignore[arg-type]
            uri,
            session=details,
            options=options,
        )
        if decision.cache:
            _remember(session, action, uri, decision)
        return decision

    def _ask_authorizer(
        self, session: Session, msg: Message, action: str, uri: str, options: dict[str, Any]
    ) -> None:
        realm = session.realm
        session.held = deque()

        def done(ok: bool, value: Any) -> None:
            if session.gone:
                return
            decision = _authorizer_verdict(value) if ok else DENY
            if ok and decision.cache:
                _remember(session, action, uri, decision)
            self._router.route_later(session, msg, decision)
            held, session.held = session.held, None
            for later in held or ():
                self._router.route_later(session, later, None)

        timeout_ms = int(self._config.limits.handshake_timeout * 1000)
        procedure = realm.config.authorizer or ""
        args = [session_details(session), uri, action, dict(options)]
        if not self.meta.call(realm.name, procedure, args, timeout_ms, done):
            self.defer(lambda: done(False, None))

    def _not_authorized(self, session: Session, msg: Message) -> None:
        from ..messages import Error

        request_type = msg.TYPE
        if request_type == PUBLISH and msg.options.get("acknowledge") is not True:  # type: ignore[attr-defined]
            return  # an unacknowledged PUBLISH is never answered (wamp-spec.md §3.3)
        if request_type == CALL:
            session.realm.dealer.call_refused()
        what = _ACTIONS.get(request_type, "do that")
        uri = getattr(msg, "topic", None) or getattr(msg, "procedure", "")
        session.send(
            Error(
                request_type=request_type,
                request_id=msg.request_id,  # type: ignore[attr-defined]
                error=NOT_AUTHORIZED,
                args=[f"session is not authorized to {what} {uri!r:.120}"],
            ),
            Kind.REPLY,
        )

    # -- deferred work ---------------------------------------------------------------------------

    def defer(self, action: Callable[[], object]) -> None:
        """Run ``action`` once the current step has settled (in the order deferred)."""
        self._deferred.append(action)

    def run_deferred(self) -> bool:
        """Run one deferred action; False if there was none."""
        if not self._deferred:
            return False
        action = self._deferred.popleft()
        try:
            action()
        except Exception as exc:  # a router bug (or an embedder's hook): report, carry on
            self._router.report_internal_error(exc)
        return True

    # -- realms ----------------------------------------------------------------------------------

    def set_authorization_hook(self, hook: AuthorizationHook | None) -> None:
        self.authorization_hook = hook
        for realm in self.realms.values():
            realm.set_authorizer(
                Authorizer.for_realm(realm.config, hook=hook), hooked=hook is not None
            )

    def _create_realm(self, config: RealmConfig, *, on_demand: bool) -> Realm:
        realm = Realm(
            config,
            self._router,
            self._rng,
            self.hooks,
            self._clock,
            max_pending_calls=self._config.limits.max_pending_calls_per_session,
            on_demand=on_demand,
        )
        realm.set_authorizer(
            Authorizer.for_realm(config, hook=self.authorization_hook),
            hooked=self.authorization_hook is not None,
        )
        self.realms[realm.name] = realm
        self.meta.attach(realm)
        return realm
