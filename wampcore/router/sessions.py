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
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from ..config import RealmConfig, RouterConfig
from ..errors import NO_MATCHING_AUTH_METHOD, NO_SUCH_REALM, REALM_FULL, RemoteProtocolError
from ..ids import RandomSource
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
    Hello,
    Message,
)
from .connection import Connection, LocalPeer
from .hooks import LifecycleHooks
from .meta import MetaService
from .realm import Realm
from .session import Session
from .testament import Testament

if TYPE_CHECKING:
    from .router import Router

__all__ = ["Admission", "Refusal", "SessionLayer"]

_AUTHID_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


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


@dataclass(frozen=True, slots=True)
class Refusal:
    """A join refused: the ABORT reason and message."""

    reason: str
    message: str


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

    def decide(self, conn: Connection, hello: Hello) -> Admission | Refusal:
        """THE place a join is decided: admit (with an identity) or refuse (with an ABORT)."""
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
        methods = hello.details.get("authmethods")
        if methods and "anonymous" not in methods:
            return Refusal(
                NO_MATCHING_AUTH_METHOD,
                f"none of the offered authmethods {methods!r} is available (only anonymous)",
            )
        if not realm_config.allow_anonymous:
            return Refusal(
                NO_MATCHING_AUTH_METHOD,
                f"realm {realm_config.name!r} does not admit anonymous clients",
            )
        return Admission(
            realm_config,
            authid=self._anonymous_authid(),
            authrole="anonymous",
            authmethod="anonymous",
            authprovider="static",
        )

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

    def flush_testaments(self, session: Session, scope: str) -> int:
        return len(session.testaments.pop(scope, ()))

    # -- dispatch --------------------------------------------------------------------------------

    def dispatch(self, session: Session, msg: Message, now: float) -> None:
        """Route one message of a joined session to its realm's broker or dealer."""
        realm = session.realm
        mtype = msg.TYPE
        if mtype == PUBLISH:
            realm.broker.publish(session, msg)  # type: ignore[arg-type]
        elif mtype == CALL:
            realm.dealer.call(session, msg, now)  # type: ignore[arg-type]
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
        self.realms[realm.name] = realm
        self.meta.attach(realm)
        return realm
