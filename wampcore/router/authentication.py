"""Who a joining client is: the router's half of authentication (wamp-spec.md §4.28).

Owns every join that is not decided at once: which method the router picks, the verifier of the
attempt (``wampcore.auth``), and the decisions that come later -- from an AUTHENTICATE, from the
realm's dynamic authenticator procedure, or from the embedding application. The session layer's
``decide`` and ``authenticate`` call in; each answer is one of

* :class:`~.sessions.Admission` (send WELCOME), :class:`~.sessions.Refusal` (send ABORT),
* :class:`Challenge` (send CHALLENGE; the AUTHENTICATE comes back to ``authenticate``),
* :class:`Waiting` (nothing yet: the answer arrives later through ``Router.resolve_join``).

**Method choice.** The realm's ``effective_auth_methods`` in order, the first one the client's
HELLO lists (no ``authmethods`` means ``["anonymous"]``) and that can be carried out: anonymous
if the realm admits it; a challenge method if a static principal has credentials for it, or the
realm has an ``authenticator`` procedure, or ``auth_events`` (a router event the application
answers). None: ABORT ``wamp.error.no_matching_auth_method``.

**Leaking nothing.** An unknown authid gets the same CHALLENGE as a known one (a decoy verifier
with random credentials) and fails at AUTHENTICATE like a wrong secret: every failure is ABORT
``wamp.error.authentication_failed`` with the same message. Failures are counted per peer
address; each further one within ``_FAILURE_WINDOW`` seconds doubles the delay before that
ABORT goes out (from ``_FIRST_DELAY`` up to the handshake timeout).

**Dynamic authenticator** (``authenticator = "URI"``, ``authenticator_realm``), called as
Crossbar calls it: ``(realm, authid, details)`` with ``details`` holding ``authmethod``,
``authextra``, ``session``, ``transport`` (and ``ticket`` for ticket, after its CHALLENGE). It
answers a role string, or a dict with ``role`` (and optionally ``authid``, ``extra``/
``authextra``, ``authprovider``; ``secret``/``salt``/``iterations``/``keylen`` for wampcra;
``pubkey`` (list) for cryptosign; the SCRAM record for scram); an ERROR denies (its URI is the
ABORT reason); junk, a timeout or a missing procedure fail the attempt.

**Application decisions** (``auth_events = true``): the router reports
``AuthenticationRequested`` (and ``AuthenticateReceived`` after an application CHALLENGE); the
application answers with ``Router.resolve_join(peer, ...)`` whenever it likes -- an async answer
never blocks the core, and a peer that leaves meanwhile leaves nothing behind (a late answer is
ignored).
"""

from __future__ import annotations

import base64
import dataclasses
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..auth.base import AuthError, Verifier, random_bytes
from ..config import PrincipalConfig, RealmConfig, ScramConfig
from ..errors import AUTHENTICATION_FAILED, NO_MATCHING_AUTH_METHOD, LocalProtocolError
from ..messages import Authenticate, Hello

if TYPE_CHECKING:
    from .connection import Connection
    from .sessions import Admission, Refusal, SessionLayer

__all__ = ["Attempt", "Authentication", "Challenge", "Waiting"]

_FIRST_DELAY = 0.25
_FAILURE_WINDOW = 300.0
_MAX_ADDRESSES = 10_000
_FAILED_MESSAGE = "authentication failed"
_CHALLENGE_METHODS = ("ticket", "wampcra", "scram", "cryptosign")


@dataclass(frozen=True, slots=True)
class Challenge:
    """Send CHALLENGE ``method`` with ``extra``."""

    method: str
    extra: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Waiting:
    """The decision comes later (the authenticator procedure, or the application)."""


@dataclass(slots=True)
class Attempt:
    """One join being decided, kept until it is admitted, refused or its peer leaves."""

    conn: Connection
    hello: Hello
    realm: RealmConfig
    session_id: int
    method: str = ""
    authid: str | None = None
    authrole: str = ""
    authprovider: str = "static"
    authextra: dict[str, Any] = field(default_factory=dict)
    verifier: Verifier | None = None
    #: A decoy: whatever the client answers fails (unknown authid).
    decoy: bool = False
    #: For ticket with an authenticator: ask it once the ticket arrived.
    ask_after_authenticate: bool = False
    #: Matches asynchronous answers to this attempt (a late answer to an older one is ignored).
    token: int = 0
    stage: str = "hello"


class Authentication:
    """Join decisions that need more than the HELLO (see the module docstring)."""

    def __init__(self, layer: SessionLayer, rng: Any, clock: Any) -> None:
        self._layer = layer
        self._rng = rng
        self._clock = clock
        self._attempts: dict[int, Attempt] = {}
        #: Session ids promised to joins being decided (WAMP-CRA signs the id before WELCOME).
        self.promised: set[int] = set()
        self._tokens = 0
        #: peer address -> (failures, time of the last one)
        self._failures: OrderedDict[str, tuple[int, float]] = OrderedDict()

    # -- entry points (the session layer) --------------------------------------------------------

    def start(
        self, conn: Connection, hello: Hello, realm: RealmConfig, session_id: int, now: float
    ) -> Admission | Refusal | Challenge | Waiting:
        offered = _offered(hello)
        if offered is None:
            return self._refusal(NO_MATCHING_AUTH_METHOD, "HELLO.Details.authmethods is malformed")
        authid = hello.details.get("authid")
        if authid is not None and type(authid) is not str:
            return self._fail(conn, now, "HELLO.Details.authid is not a string", realm=realm.name)
        skipped: Attempt | None = None
        for method in realm.effective_auth_methods:
            if method not in offered:
                continue
            if method == "anonymous":
                return self._layer.anonymous(realm)
            attempt = Attempt(conn, hello, realm, session_id, method=method, authid=authid)
            outcome = self._begin(attempt, now)
            if isinstance(outcome, _Skipped):
                skipped = skipped or attempt
            elif outcome is not None:
                return outcome
        if skipped is not None:
            # A known authid without credentials for any method it offered: answer exactly as
            # for an unknown authid, so the refusal does not tell which authids exist.
            return self._pretend(skipped, now)
        methods = ", ".join(realm.effective_auth_methods) or "none"
        return self._refusal(
            NO_MATCHING_AUTH_METHOD,
            f"none of the offered authmethods is available here (this realm offers: {methods})",
        )

    def authenticate(
        self, conn: Connection, msg: Authenticate, now: float
    ) -> Admission | Refusal | Challenge | Waiting:
        attempt = self._attempts.get(conn.id)
        if attempt is None or attempt.stage != "challenged":
            return self._fail(conn, now, "AUTHENTICATE without a challenge in progress")
        if attempt.verifier is None:  # the application issued the challenge: it decides
            attempt.stage = "event"
            self._layer.report_authenticate(conn, attempt, msg)
            return Waiting()
        try:
            welcome_extra = attempt.verifier.verify(msg)
        except (AuthError, LocalProtocolError) as exc:
            return self._fail(conn, now, str(exc))
        if attempt.decoy:
            return self._fail(conn, now, "unknown authid")
        if attempt.ask_after_authenticate:
            attempt.stage = "authenticator"
            self._ask_authenticator(attempt, {"ticket": msg.signature})
            return Waiting()
        attempt.authextra.update(welcome_extra)
        return self._admit(attempt, now)

    def abandon(self, conn: Connection) -> None:
        """The peer left (or was refused): forget its attempt; late answers are ignored."""
        self._drop(conn.id)

    def pending(self, conn: Connection) -> Attempt | None:
        return self._attempts.get(conn.id)

    # -- asynchronous answers --------------------------------------------------------------------

    def resolve(
        self, conn: Connection, token: int | None, answer: Any, now: float
    ) -> Admission | Refusal | Challenge | Waiting | None:
        """An answer from the authenticator procedure or the application; None if stale."""
        attempt = self._attempts.get(conn.id)
        if attempt is None or (token is not None and token != attempt.token):
            return None
        if isinstance(answer, _Denied):
            self._drop(conn.id)
            self._count_metric(attempt, "")
            self._count_failure(conn, now)
            return self._refusal(answer.reason, answer.message)
        if isinstance(answer, _AppChallenge):
            attempt.verifier = None
            attempt.stage = "challenged"
            attempt.method = answer.method
            return Challenge(answer.method, answer.extra)
        if attempt.stage == "event" or isinstance(answer, _AppWelcome):
            if not isinstance(answer, _AppWelcome):
                return self._fail(conn, now, "the application's answer is not a decision")
            attempt.authid = answer.authid or attempt.authid
            attempt.authrole = answer.authrole
            attempt.authprovider = answer.authprovider
            attempt.authextra.update(answer.authextra)
            if answer.authmethod:
                attempt.method = answer.authmethod
            return self._admit(attempt, now)
        # The authenticator procedure's RESULT.
        try:
            principal = _principal_from(answer, attempt)
        except ValueError as exc:
            return self._fail(conn, now, f"the authenticator answered junk: {exc}")
        attempt.authrole = principal.role
        attempt.authid = principal.authid or attempt.authid
        attempt.authprovider = "dynamic"
        attempt.authextra.update(principal.authextra)
        if attempt.stage == "authenticator" and attempt.ask_after_authenticate:
            return self._admit(attempt, now)
        try:
            verifier = self._verifier(attempt, principal)
        except (AuthError, LocalProtocolError) as exc:
            return self._fail(conn, now, str(exc))
        if verifier is None:
            return self._fail(conn, now, f"the authenticator gave no {attempt.method} credentials")
        attempt.verifier = verifier
        attempt.stage = "challenged"
        return Challenge(attempt.method, verifier.challenge_extra())

    def authenticator_failed(self, conn: Connection, token: int, uri: str, now: float) -> Any:
        attempt = self._attempts.get(conn.id)
        if attempt is None or token != attempt.token:
            return None
        self._drop(conn.id)
        self._count_metric(attempt, "")
        self._count_failure(conn, now)
        if uri.startswith("wamp.error.") and uri not in _DENIALS:
            uri = AUTHENTICATION_FAILED  # the authenticator broke: say nothing more
        return self._refusal(uri, _FAILED_MESSAGE)

    # -- internals -------------------------------------------------------------------------------

    def _begin(
        self, attempt: Attempt, now: float
    ) -> Challenge | Waiting | Refusal | _Skipped | None:
        realm = attempt.realm
        principal = self._static_principal(attempt)
        if principal is not None and attempt.method not in principal.methods():
            return _SKIPPED  # a known principal without credentials for this method: try the next
        if principal is not None:
            attempt.authrole = principal.role
            attempt.authid = principal.authid
            attempt.authextra = dict(principal.authextra)
            try:
                verifier = self._verifier(attempt, principal)
            except (AuthError, LocalProtocolError) as exc:
                return self._fail(attempt.conn, now, str(exc), attempt=attempt)
            assert verifier is not None
            return self._challenge(attempt, verifier)
        if realm.authenticator is not None:
            self._track(attempt)
            if attempt.method == "ticket":
                # The ticket comes with the AUTHENTICATE: challenge first, then ask.
                attempt.ask_after_authenticate = True
                attempt.verifier = _AnyTicket(self._verifier_kwargs(attempt))
                attempt.stage = "challenged"
                return Challenge("ticket", {})
            attempt.stage = "authenticator"
            self._ask_authenticator(attempt, {})
            return Waiting()
        if realm.auth_events:
            self._track(attempt)
            attempt.stage = "event"
            self._layer.report_authentication(attempt.conn, attempt)
            return Waiting()
        if any(attempt.method in p.methods() for p in realm.principals):
            return self._pretend(attempt, now)
        return None

    def _pretend(self, attempt: Attempt, now: float) -> Challenge | Refusal:
        """An authid (or key) nobody has: challenge as if it were known and fail at
        AUTHENTICATE; cryptosign, whose key is public, fails at once."""
        if attempt.method == "cryptosign":
            return self._fail(
                attempt.conn, now, "no principal has this public key", attempt=attempt
            )
        try:
            verifier = self._decoy(attempt)
        except (AuthError, LocalProtocolError):
            return self._fail(attempt.conn, now, "no principal for this authid", attempt=attempt)
        attempt.decoy = True
        return self._challenge(attempt, verifier)

    def _challenge(self, attempt: Attempt, verifier: Verifier) -> Challenge:
        attempt.verifier = verifier
        attempt.stage = "challenged"
        self._track(attempt)
        return Challenge(attempt.method, verifier.challenge_extra())

    def _track(self, attempt: Attempt) -> None:
        self._tokens += 1
        attempt.token = self._tokens
        self._drop(attempt.conn.id)
        self._attempts[attempt.conn.id] = attempt
        self.promised.add(attempt.session_id)

    def _drop(self, conn_id: int) -> None:
        attempt = self._attempts.pop(conn_id, None)
        if attempt is not None:
            self.promised.discard(attempt.session_id)

    def _admit(self, attempt: Attempt, now: float) -> Admission | Refusal:
        self._drop(attempt.conn.id)
        self._forgive(attempt.conn)
        return self._layer.authenticated(attempt)

    def _fail(
        self,
        conn: Connection,
        now: float,
        why: str,
        *,
        attempt: Attempt | None = None,
        realm: str = "",
    ) -> Refusal:
        """A failed attempt: the one generic ABORT, delayed for a repeat offender. ``why`` is
        for the reader of the call site only; the client is never told. ``attempt`` (else the
        tracked one) or ``realm`` label the failure in the metrics."""
        self._count_metric(attempt or self._attempts.get(conn.id), realm)
        self._drop(conn.id)
        delay = self._count_failure(conn, now)
        return self._refusal(AUTHENTICATION_FAILED, _FAILED_MESSAGE, delay)

    def _refusal(self, reason: str, message: str, delay: float = 0.0) -> Refusal:
        from .sessions import Refusal  # sessions imports this module

        return Refusal(reason, message, delay)

    def _count_metric(self, attempt: Attempt | None, realm: str) -> None:
        if attempt is not None:
            self._layer.metrics.auth_failed(attempt.realm.name, attempt.method or "other")
        else:
            self._layer.metrics.auth_failed(realm or "(unknown)", "other")

    def _count_failure(self, conn: Connection, now: float) -> float:
        address = _address(conn)
        failures, last = self._failures.pop(address, (0, now))
        if now - last > _FAILURE_WINDOW:
            failures = 0
        failures += 1
        self._failures[address] = (failures, now)
        while len(self._failures) > _MAX_ADDRESSES:
            self._failures.popitem(last=False)
        if failures <= 1:
            return 0.0
        limit = self._layer.handshake_timeout()
        return float(min(_FIRST_DELAY * 2 ** (failures - 2), limit / 2))

    def _forgive(self, conn: Connection) -> None:
        self._failures.pop(_address(conn), None)

    def _static_principal(self, attempt: Attempt) -> PrincipalConfig | None:
        realm = attempt.realm
        if attempt.authid is not None:
            for principal in realm.principals:
                if principal.authid == attempt.authid:
                    return principal
            return None
        if attempt.method == "cryptosign":
            extra = attempt.hello.details.get("authextra")
            pubkey = extra.get("pubkey") if isinstance(extra, dict) else None
            if type(pubkey) is str:
                for principal in realm.principals:
                    if pubkey.lower() in principal.cryptosign_keys:
                        return principal
        return None

    def _verifier_kwargs(self, attempt: Attempt) -> dict[str, Any]:
        return {
            "authid": attempt.authid,
            "session_id": attempt.session_id,
            "rng": self._rng,
            "now_iso": self._clock(),
            "authrole": attempt.authrole,
            "authprovider": attempt.authprovider,
            "channel_id": attempt.conn.transport_info.get("channel_id"),
        }

    def _verifier(self, attempt: Attempt, principal: PrincipalConfig) -> Verifier | None:
        method = attempt.method
        kwargs = self._verifier_kwargs(attempt)
        if method == "ticket" and principal.ticket is not None:
            from ..auth.ticket import TicketVerifier

            return TicketVerifier(principal.ticket, **kwargs)
        if method == "wampcra" and principal.secret is not None:
            from ..auth.wampcra import WampCraVerifier

            if principal.salt is not None:
                # Salted: the key is derived from the secret as the client derives it (and as
                # Crossbar reads the same configuration).
                return WampCraVerifier(
                    principal.secret,
                    salt=principal.salt,
                    iterations=principal.iterations or 1000,
                    keylen=principal.keylen or 32,
                    **kwargs,
                )
            return WampCraVerifier(principal.secret, **kwargs)
        if method == "cryptosign" and principal.cryptosign_keys:
            from ..auth.cryptosign import CryptosignVerifier

            return CryptosignVerifier(
                principal.cryptosign_keys, attempt.hello.details.get("authextra"), **kwargs
            )
        if method == "scram" and principal.scram is not None:
            from ..auth.scram import ScramVerifier

            record = dataclasses.asdict(principal.scram)
            return ScramVerifier(record, attempt.hello.details.get("authextra"), **kwargs)
        return None

    def _decoy(self, attempt: Attempt) -> Verifier:
        """A verifier for credentials nobody has: its challenge looks real, it never passes."""
        noise = base64.b64encode(random_bytes(self._rng, 24)).decode("ascii")
        decoy = PrincipalConfig(authid=attempt.authid or "", role="")
        if attempt.method == "ticket":
            decoy.ticket = noise
        elif attempt.method == "wampcra":
            decoy.secret = noise
            template = next(
                (p for p in attempt.realm.principals if p.secret is not None and p.salt), None
            )
            if template is not None:  # look like the realm's salted principals
                decoy.salt = noise[:16]
                decoy.iterations, decoy.keylen = template.iterations, template.keylen
        elif attempt.method == "scram":
            template_scram = next(
                (p.scram for p in attempt.realm.principals if p.scram is not None), None
            )
            assert template_scram is not None
            decoy.scram = ScramConfig(
                kdf=template_scram.kdf,
                salt=random_bytes(self._rng, 16).hex(),
                iterations=template_scram.iterations,
                memory=template_scram.memory,
                stored_key=random_bytes(self._rng, 32).hex(),
                server_key=random_bytes(self._rng, 32).hex(),
            )
        verifier = self._verifier(attempt, decoy)
        if verifier is None:
            raise AuthError("no decoy for this method")
        return verifier

    def _ask_authenticator(self, attempt: Attempt, more: dict[str, Any]) -> None:
        realm = attempt.realm
        authextra = attempt.hello.details.get("authextra")
        details: dict[str, Any] = {
            "authmethod": attempt.method,
            "authextra": authextra if isinstance(authextra, dict) else {},
            "session": attempt.session_id,
            "transport": {
                k: v for k, v in attempt.conn.transport_info.items() if k != "channel_id"
            },
        }
        details.update(more)
        self._layer.call_authenticator(
            attempt.conn,
            attempt.token,
            realm.authenticator_realm or realm.name,
            realm.authenticator or "",
            [realm.name, attempt.authid, details],
        )


# -- answers --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Skipped:
    """``_begin``'s answer for a known principal without credentials for the method."""


_SKIPPED = _Skipped()


@dataclass(frozen=True, slots=True)
class _AppWelcome:
    authrole: str
    authid: str | None = None
    authextra: dict[str, Any] = field(default_factory=dict)
    authprovider: str = "dynamic"
    authmethod: str | None = None


@dataclass(frozen=True, slots=True)
class _AppChallenge:
    method: str
    extra: dict[str, Any]


@dataclass(frozen=True, slots=True)
class _Denied:
    reason: str
    message: str


#: Error URIs an authenticator may deny with as they are; any other wamp.error.* becomes
#: authentication_failed (a broken authenticator must not leak its failure to the client).
_DENIALS = frozenset(
    {
        "wamp.error.not_authorized",
        "wamp.error.authentication_denied",
        "wamp.error.authentication_failed",
        "wamp.error.no_such_principal",
        "wamp.error.no_such_role",
        "wamp.error.authorization_failed",
    }
)


class _AnyTicket(Verifier):
    """Ticket with an authenticator: any ticket passes here; the authenticator judges it."""

    method = "ticket"

    def __init__(self, kwargs: dict[str, Any]) -> None:
        super().__init__(**kwargs)

    def challenge_extra(self) -> dict[str, Any]:
        return {}

    def _verify(self, signature: str, extra: dict[str, Any]) -> dict[str, Any]:
        return {}


def _offered(hello: Hello) -> list[str] | None:
    methods = hello.details.get("authmethods")
    if methods is None:
        return ["anonymous"]
    if type(methods) is not list or not all(type(m) is str for m in methods):
        return None
    # Autobahn's name for WAMP-SCRAM is "scram"; the spec's is "wamp-scram".
    return ["scram" if m == "wamp-scram" else m for m in methods]


def _address(conn: Connection) -> str:
    peer = conn.transport_info.get("peer")
    if type(peer) is not str:
        return "?"
    # "tcp4:127.0.0.1:5555" -> "tcp4:127.0.0.1": failures count per host, not per connection.
    head, _, port = peer.rpartition(":")
    return head if head and port.isdigit() else peer


def _principal_from(answer: Any, attempt: Attempt) -> PrincipalConfig:
    """A principal from the authenticator's RESULT (a role string or a dict)."""
    value = answer
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    role: Any
    fields: dict[str, Any]
    if type(value) is str:
        role, fields = value, {}
    elif isinstance(value, dict):
        role = value.get("role")
        fields = value
    else:
        raise ValueError("neither a role nor a dict")
    if type(role) is not str or not role:
        raise ValueError("no role")
    authid = fields.get("authid", attempt.authid)
    if authid is not None and type(authid) is not str:
        raise ValueError("authid is not a string")
    principal = PrincipalConfig(authid=authid or "", role=role)
    extra = fields.get("extra", fields.get("authextra", {}))
    if not isinstance(extra, dict):
        raise ValueError("extra is not a dict")
    principal.authextra = extra
    method = attempt.method
    if method == "wampcra":
        secret = fields.get("secret")
        if type(secret) is not str:
            raise ValueError("wampcra needs a secret")
        principal.secret = secret
        if "salt" in fields:
            salt, iterations, keylen = (
                fields["salt"],
                fields.get("iterations"),
                fields.get("keylen"),
            )
            if type(salt) is not str or type(iterations) is not int or type(keylen) is not int:
                raise ValueError("salted wampcra needs salt, iterations and keylen")
            principal.salt, principal.iterations, principal.keylen = salt, iterations, keylen
    elif method == "cryptosign":
        keys = fields.get("pubkey")
        if type(keys) is str:
            keys = [keys]
        if type(keys) is not list or not keys or not all(type(k) is str for k in keys):
            raise ValueError("cryptosign needs pubkey (a list of hex keys)")
        principal.cryptosign_keys = [k.lower() for k in keys]
    elif method == "scram":
        record = fields.get("scram", fields)
        try:
            principal.scram = ScramConfig(
                kdf=record["kdf"],
                salt=record["salt"],
                iterations=record["iterations"],
                memory=record.get("memory"),
                stored_key=record.get("stored_key", record.get("stored-key")),
                server_key=record.get("server_key", record.get("server-key")),
            )
            principal.scram.validate("scram")
        except Exception as exc:
            raise ValueError(f"scram needs a valid record ({type(exc).__name__})") from None
    return principal


def welcome(
    authrole: str,
    *,
    authid: str | None = None,
    authextra: dict[str, Any] | None = None,
    authprovider: str = "dynamic",
    authmethod: str | None = None,
) -> _AppWelcome:
    """The application's decision: admit, as ``authrole``."""
    return _AppWelcome(authrole, authid, dict(authextra or {}), authprovider, authmethod)


def challenge(method: str, extra: dict[str, Any] | None = None) -> _AppChallenge:
    """The application's decision: send this CHALLENGE (its AUTHENTICATE is reported back)."""
    return _AppChallenge(method, dict(extra or {}))


def deny(reason: str = "wamp.error.not_authorized", message: str = "") -> _Denied:
    """The application's decision: refuse, with ABORT ``reason``."""
    return _Denied(reason, message or "not admitted")
