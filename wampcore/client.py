"""The client peer: WAMP verbs in, bytes out; bytes in, typed events out. No I/O.

``ClientPeer(realm, framing, ...)`` owns one connection's client side: it joins the realm as soon
as the framing is ready, turns verbs (``call``, ``publish``, ``subscribe``, ``register``, ...)
into messages, and turns what the router sends into the events below. The rules of who may send
what, when, are not here: they are the shared state table (``wampcore._state``), which the router
runs too. This module adds what only a client knows: which subscriptions and registrations it
holds, what each pending request was, and which options it may use.

The driving loop (an adapter's whole job)::

    peer = ClientPeer("realm1", RawSocketClient(serializer="cbor"))
    write(peer.data_to_send())              # the transport handshake
    while True:
        peer.receive_data(read())           # b"" at EOF
        while (event := peer.next_event()) is not None:
            handle(event)                   # and call verbs, e.g. peer.call(...)
        write(peer.data_to_send())          # payloads_to_send() for MessageFraming
        if peer.closed and nothing is left to write: drop the connection

Events (frozen dataclasses; ``ClientEvent`` is their union):

=========================  ======================================================================
``Joined``                 WELCOME: session id, authid/authrole/authmethod/authprovider/authextra,
                           the router's roles and features.
``Aborted``                The session ended by ABORT: the router's (``local=False``: join refused,
                           auth failed, killed) or our own (``local=True``: ``abort()``, a
                           CHALLENGE we could not answer).
``Left``                   The GOODBYE handshake completed (``local=True``: we started it with
                           ``leave()``; ``local=False``: the router did, and we already replied).
``ProtocolViolation``      The router broke the protocol: ABORT ``wamp.error.protocol_violation``
                           is queued, the session is over and the transport is being closed.
``TransportClosed``        The framing finished (EOF, close, or a framing-level violation in
                           ``error``). Always the last event.
``CallResult``             RESULT for ``call``; ``progress=True`` for a progressive result (more
                           follow), ``False`` for the final one.
``RequestError``           ERROR for any of our requests (``request_type`` is the request's
                           message code, e.g. 48 for CALL).
``PublicationReceived``    EVENT on one of our subscriptions; ``topic`` is the concrete topic
                           (from the details for pattern subscriptions), ``publisher`` is set when
                           the publisher was disclosed, ``retained=True`` for a retained event
                           sent because we subscribed with ``get_retained`` (wamp-spec.md §4.20).
``InvocationReceived``     INVOCATION for one of our registrations: answer it with
                           ``yield_result`` / ``yield_error``. ``continuation=True`` marks a
                           further chunk of a progressive call invocation (same ``request_id``).
``InterruptReceived``      INTERRUPT for an open invocation (call canceled, or the dealer's call
                           timeout fired). ``mode="kill"``: still answer it (``wamp.error.canceled``
                           is customary); ``mode="killnowait"``: the invocation is over, answers
                           are dropped.
``PublishAcknowledged``    PUBLISHED for ``publish(acknowledge=True)``.
``SubscriptionCreated``    SUBSCRIBED.
``SubscriptionEnded``      UNSUBSCRIBED for ``unsubscribe``, or a revocation by the router
                           (``revoked=True``, ``request_id=None``).
``RegistrationCreated``    REGISTERED.
``RegistrationEnded``      UNREGISTERED for ``unregister``, or a revocation (``revoked=True``).
``PongReceived``           The answer to ``ping()``.
=========================  ======================================================================

Payload passthru (wamp-spec.md §4.18): ``CallResult``, ``RequestError``, ``PublicationReceived`` and
``InvocationReceived`` carry ``ppt``, every ``ppt_*`` / ``enc_*`` key of the message's details
(empty when there is none), and ``payload``, Autobahn's raw payload bytes when they replaced the
args list (args and kwargs are None then). The peer never decodes either. ``call``,
``continue_call``, ``publish``, ``yield_result`` and ``yield_error`` send them with ``ppt=`` (a
dict of ``PPT_KEYS`` options) and ``payload=``; the router must announce
``payload_passthru_mode`` for that.

Every pending request ends exactly once. Its reply ends it; if the session ends first (ABORT,
GOODBYE, violation, transport loss), each pending request gets a ``RequestError`` with
``local=True`` whose ``error`` is the reason the session ended (``wamp.close.transport_lost``
when the transport went away), and each open invocation gets an ``InterruptReceived`` with
``local=True`` and ``mode="killnowait"``. These come before the event that ends the session.
Replies to requests that ended that way, and answers to invocations that ended, are silently
dropped, because they race with the router by nature: ``cancel`` of a finished call,
``yield_result`` after ``killnowait`` or after the session ended, ``continue_call`` after the call
was answered.

Verbs validate everything (state, role, the router's features where the spec makes them
mandatory, option types, URIs, encodability, the transport's size limit) before anything is
queued; if any check fails they raise ``LocalProtocolError`` (``MessageTooLargeError`` for
size), and nothing is sent and no request id is used.

After ``Aborted`` or ``Left`` the transport stays open: ``close()`` it or ``join()`` again
(wamp-spec.md §2.4 allows a new session on the same transport).

Authentication (wamp-spec.md §4.28) comes from credentials, a responder, or both:

* ``credentials=Credentials(authid=..., ticket=..., secret=..., private_key=..., password=...)``
  (or the same keywords given to ``ClientPeer`` directly) builds one method client per credential
  from ``wampcore.auth``: ``private_key`` -> cryptosign, ``password`` -> scram (nonces from the
  injected ``rng``, by default ``wampcore.ids.default_random()``), ``secret`` -> wampcra, ``ticket``
  -> ticket, built afresh for every join (a new SCRAM nonce); ``auth=[...]`` adds ready-made
  method clients (``AuthClient``), used as given on every join. ``channel_id`` (the transport's
  TLS channel id, for channel binding) is passed to their ``respond``. HELLO offers them in
  that order (``AUTH_PREFERENCE``, strongest first; ``auth=`` ones first, as given) unless
  ``authmethods`` names the list (and its order) itself: methods it leaves out are not offered,
  and ``"anonymous"`` is offered only when it names it. HELLO's authextra merges every offered
  method's (cryptosign ``pubkey``, SCRAM ``nonce``) with the ``authextra`` given.
* A CHALLENGE for an offered method is answered by that method's client; one it cannot answer
  ABORTs with ``wamp.error.authentication_failed``. On WELCOME, each method that answered a
  CHALLENGE checks WELCOME.Details.authextra (SCRAM verifies the router's signature); a failure
  ABORTs with ``wamp.error.authentication_failed`` and gives ``Aborted(local=True)`` instead of
  ``Joined``.
* A CHALLENGE for any other method goes to ``responder(challenge) -> Authenticate``. Without a
  responder the peer ABORTs with ``wamp.error.no_matching_auth_method``; a responder that raises
  ``ApplicationError`` ABORTs with that error URI, any other exception with
  ``wamp.error.authentication_failed``.
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from ._state import Disposition, SessionState, SessionTracker, Side
from .errors import (
    AUTHENTICATION_FAILED,
    CLOSE_GOODBYE_AND_OUT,
    CLOSE_REALM,
    CLOSE_SYSTEM_SHUTDOWN,
    CLOSE_TRANSPORT_LOST,
    NO_MATCHING_AUTH_METHOD,
    NO_SUCH_REGISTRATION,
    NO_SUCH_SUBSCRIPTION,
    PROTOCOL_VIOLATION,
    ApplicationError,
    LocalProtocolError,
    MessageTooLargeError,
    ProtocolError,
    RemoteProtocolError,
)
from .messages import (
    CALL,
    INVOCATION,
    PPT_KEYS,
    PUBLISH,
    REGISTER,
    SUBSCRIBE,
    UNREGISTER,
    UNSUBSCRIBE,
    Abort,
    Authenticate,
    Call,
    Cancel,
    Challenge,
    Error,
    Event,
    Goodbye,
    Hello,
    Interrupt,
    Invocation,
    Message,
    Publish,
    Published,
    Register,
    Registered,
    Result,
    Subscribe,
    Subscribed,
    Unregister,
    Unregistered,
    Unsubscribe,
    Unsubscribed,
    Welcome,
    Yield,
    from_wire,
)
from .serializers import Serializer
from .transports.base import Closed, Framing, FramingEvent, Payload, Pong, Ready
from .transports.direct import DirectLink

if TYPE_CHECKING:
    from .auth.base import AuthRandom

__all__ = [
    "AUTH_PREFERENCE",
    "DEFAULT_ROLES",
    "PPT_KEYS",
    "Aborted",
    "AuthClient",
    "CallResult",
    "ClientEvent",
    "ClientPeer",
    "Credentials",
    "InterruptReceived",
    "InvocationReceived",
    "Joined",
    "Left",
    "PongReceived",
    "ProtocolViolation",
    "PublicationReceived",
    "PublishAcknowledged",
    "RegistrationCreated",
    "RegistrationEnded",
    "RequestError",
    "Responder",
    "SubscriptionCreated",
    "SubscriptionEnded",
    "TransportClosed",
    "parse_on_leave",
]

#: The roles and features announced by default: exactly what this module implements.
#: (No ``call_timeout`` for the callee: the peer runs no timers, so the dealer must run them and
#: INTERRUPT us; see wamp-spec.md §4.4.)
DEFAULT_ROLES: dict[str, dict[str, Any]] = {
    "caller": {
        "features": {
            "progressive_call_results": True,
            "progressive_call_invocations": True,
            "call_canceling": True,
            "call_timeout": True,
            "caller_identification": True,
            "payload_passthru_mode": True,
        }
    },
    "callee": {
        "features": {
            "progressive_call_results": True,
            "progressive_call_invocations": True,
            "call_canceling": True,
            "caller_identification": True,
            "pattern_based_registration": True,
            "shared_registration": True,
            "registration_revocation": True,
            "payload_passthru_mode": True,
        }
    },
    "publisher": {
        "features": {
            "publisher_exclusion": True,
            "subscriber_blackwhite_listing": True,
            "publisher_identification": True,
            "payload_passthru_mode": True,
        }
    },
    "subscriber": {
        "features": {
            "pattern_based_subscription": True,
            "publisher_identification": True,
            "subscription_revocation": True,
            "payload_passthru_mode": True,
        }
    },
}

#: The payload passthru options a verb's ``ppt`` may set (wamp-spec.md §4.18: the spec's
#: ``ppt_*``, and Autobahn's ``enc_*``). The router passes exactly these on.
_PPT_PREFIXES = ("ppt_", "enc_")

_CANCEL_MODES = ("skip", "kill", "killnowait")
#: How many answered-early progressive invocations are remembered (their late chunks dropped).
_ANSWERED_STREAMS_KEPT = 1024

#: Features with more than one name in use: ours first. ``payload_transparency`` is Autobahn's
#: and Crossbar.io's name for payload passthru (wamp-spec.md §4.18).
_FEATURE_SPELLINGS = {
    "call_canceling": ("call_canceling", "call_cancelling"),
    "payload_passthru_mode": ("payload_passthru_mode", "payload_transparency"),
}


# --- events ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Joined:
    """The router welcomed us: the session is established."""

    session_id: int
    realm: str
    authid: str | None
    authrole: str | None
    authmethod: str | None
    authprovider: str | None
    authextra: dict[str, Any]
    #: The router's roles and their features, e.g. ``{"dealer": {"features": {...}}}``.
    router_roles: dict[str, Any]
    #: WELCOME.Details as received (router-specific keys included).
    details: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class Aborted:
    """The session ended by ABORT (``local``: we sent it)."""

    reason: str
    message: str | None = None
    args: list[Any] | None = None
    kwargs: dict[str, Any] | None = None
    local: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Left:
    """The GOODBYE handshake completed (``local``: we started it). ``reason`` is the initiator's."""

    reason: str
    message: str | None = None
    local: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ProtocolViolation:
    """The router violated the protocol; our ABORT is queued and the transport is closing."""

    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TransportClosed:
    """The transport is finished; nothing follows. ``error`` is set for a framing violation."""

    reason: str
    error: ProtocolError | None = None
    code: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CallResult:
    """A RESULT; ``progress`` is True for a progressive (non-final) result."""

    request_id: int
    args: list[Any] | None = None
    kwargs: dict[str, Any] | None = None
    details: dict[str, Any] = field(default_factory=dict)
    progress: bool = False
    #: Every ``ppt_*`` / ``enc_*`` key of the details (payload passthru, wamp-spec.md §4.18).
    ppt: dict[str, Any] = field(default_factory=dict)
    #: Autobahn's raw payload (bytes, or a str), which replaced the args list; args and kwargs
    #: are then None and ``ppt`` holds ``enc_algo`` (wamp-spec.md §4.18).
    payload: bytes | str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestError:
    """An ERROR for one of our requests, or (``local``) the end of its session before a reply."""

    request_type: int
    request_id: int
    error: str
    args: list[Any] | None = None
    kwargs: dict[str, Any] | None = None
    details: dict[str, Any] = field(default_factory=dict)
    local: bool = False
    #: Every ``ppt_*`` / ``enc_*`` key of the details (payload passthru, wamp-spec.md §4.18).
    ppt: dict[str, Any] = field(default_factory=dict)
    #: Autobahn's raw payload (bytes, or a str), which replaced the args list; args and kwargs
    #: are then None and ``ppt`` holds ``enc_algo`` (wamp-spec.md §4.18).
    payload: bytes | str | None = None

    def to_exception(self) -> ApplicationError:
        """This error as an ``ApplicationError`` (what client APIs raise)."""
        return ApplicationError(
            self.error, *(self.args or ()), kwargs=self.kwargs, details=self.details
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicationReceived:
    """An EVENT on one of our subscriptions."""

    subscription_id: int
    publication_id: int
    args: list[Any] | None = None
    kwargs: dict[str, Any] | None = None
    details: dict[str, Any] = field(default_factory=dict)
    #: The concrete topic: Details.topic (pattern subscriptions), else the subscribed topic.
    topic: str
    #: The publisher's session id, when disclosed.
    publisher: int | None = None
    publisher_authid: str | None = None
    publisher_authrole: str | None = None
    #: True for a retained event delivered on subscribe (wamp-spec.md §4.20).
    retained: bool = False
    #: Every ``ppt_*`` / ``enc_*`` key of the details (payload passthru, wamp-spec.md §4.18).
    ppt: dict[str, Any] = field(default_factory=dict)
    #: Autobahn's raw payload (bytes, or a str), which replaced the args list; args and kwargs
    #: are then None and ``ppt`` holds ``enc_algo`` (wamp-spec.md §4.18).
    payload: bytes | str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InvocationReceived:
    """An INVOCATION: answer with ``yield_result`` / ``yield_error`` using ``request_id``."""

    request_id: int
    registration_id: int
    args: list[Any] | None = None
    kwargs: dict[str, Any] | None = None
    details: dict[str, Any] = field(default_factory=dict)
    #: The concrete procedure: Details.procedure (pattern registrations), else the registered URI.
    procedure: str
    #: The caller's session id, when disclosed.
    caller: int | None = None
    caller_authid: str | None = None
    caller_authrole: str | None = None
    #: More chunks of this progressive call invocation follow (wamp-spec.md §4.3).
    progress: bool = False
    #: The caller accepts progressive results: ``yield_result(..., progress=True)`` is allowed.
    receive_progress: bool = False
    #: The call timeout in milliseconds, if the dealer forwarded it.
    timeout: int | None = None
    #: A further chunk of an invocation already received (same ``request_id``).
    continuation: bool = False
    #: Every ``ppt_*`` / ``enc_*`` key of the details (payload passthru, wamp-spec.md §4.18).
    ppt: dict[str, Any] = field(default_factory=dict)
    #: Autobahn's raw payload (bytes, or a str), which replaced the args list; args and kwargs
    #: are then None and ``ppt`` holds ``enc_algo`` (wamp-spec.md §4.18).
    payload: bytes | str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InterruptReceived:
    """An INTERRUPT for an open invocation (``local``: its session ended)."""

    request_id: int
    mode: str
    reason: str | None = None
    local: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishAcknowledged:
    """PUBLISHED: an acknowledged publication was accepted."""

    request_id: int
    publication_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SubscriptionCreated:
    """SUBSCRIBED (the id may be one we already hold: the router reuses it per topic)."""

    request_id: int
    subscription_id: int
    topic: str
    match: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SubscriptionEnded:
    """UNSUBSCRIBED, or the router revoked the subscription (``revoked``, no request id)."""

    request_id: int | None
    subscription_id: int
    revoked: bool = False
    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RegistrationCreated:
    """REGISTERED."""

    request_id: int
    registration_id: int
    procedure: str
    match: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RegistrationEnded:
    """UNREGISTERED, or the router revoked the registration (``revoked``, no request id)."""

    request_id: int | None
    registration_id: int
    revoked: bool = False
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class PongReceived:
    """The transport answered ``ping()`` (RawSocket/WebSocket)."""

    data: bytes


ClientEvent = (
    Joined
    | Aborted
    | Left
    | ProtocolViolation
    | TransportClosed
    | CallResult
    | RequestError
    | PublicationReceived
    | InvocationReceived
    | InterruptReceived
    | PublishAcknowledged
    | SubscriptionCreated
    | SubscriptionEnded
    | RegistrationCreated
    | RegistrationEnded
    | PongReceived
)

#: Answers a CHALLENGE for a method no ``AuthClient`` handles (any custom or multi-round flow).
Responder = Callable[[Challenge], Authenticate]

#: The order HELLO offers credential methods in when ``authmethods`` is not given: strongest
#: first, as the router's derived default (``wampcore.config.AUTH_METHODS``) orders them.
AUTH_PREFERENCE = ("cryptosign", "scram", "wampcra", "ticket")


class AuthClient(Protocol):
    """The client half of one authentication method (``wampcore.auth``'s ``TicketClient``,
    ``WampCraClient``, ``CryptosignClient``, ``ScramClient``, or your own)."""

    @property
    def method(self) -> str:
        """The authmethod it answers (``"ticket"``, ``"wampcra"``, ``"scram"``, ...)."""
        ...

    def authextra(self) -> dict[str, Any]:
        """What this method adds to HELLO.Details.authextra."""
        ...

    def respond(self, challenge: Challenge, channel_id: bytes | None = None) -> Authenticate:
        """Answer a CHALLENGE for this method (raise to refuse: the peer ABORTs)."""
        ...

    def check_welcome(self, authextra: dict[str, Any]) -> None:
        """Check WELCOME.Details.authextra after this method answered (raise to refuse)."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Credentials:
    """What a client authenticates with; each credential enables one method (wamp-spec §4.28).

    ``private_key`` -> cryptosign (the Ed25519 seed: 64 hex digits or 32 raw bytes),
    ``password`` -> scram, ``secret`` -> wampcra (plain, or salted when the router's CHALLENGE
    carries a salt), ``ticket`` -> ticket. Ticket, WAMP-CRA and SCRAM need ``authid``.
    ``authmethods``, if given, is HELLO's list as is (order kept; add ``"anonymous"`` to fall
    back to it); otherwise every enabled method is offered in ``AUTH_PREFERENCE`` order.
    Secrets never appear in ``repr``.
    """

    authid: str | None = None
    ticket: str | None = field(default=None, repr=False)
    secret: str | bytes | None = field(default=None, repr=False)
    private_key: str | bytes | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    authmethods: Sequence[str] | None = None

    @property
    def methods(self) -> list[str]:
        """The methods these credentials enable, in ``AUTH_PREFERENCE`` order."""
        given = {
            "cryptosign": self.private_key is not None,
            "scram": self.password is not None,
            "wampcra": self.secret is not None,
            "ticket": self.ticket is not None,
        }
        return [m for m in AUTH_PREFERENCE if given[m]]

    def clients(self, rng: AuthRandom) -> list[AuthClient]:
        """One fresh method client per credential, in ``AUTH_PREFERENCE`` order.

        Raises ``LocalProtocolError`` (``wampcore.auth.CredentialError``) for a malformed or
        incomplete credential, and ``wampcore.auth.MissingExtra`` when cryptosign or scram need
        ``wampcore[crypto]`` and it is not installed.
        """
        if self.authid is not None and type(self.authid) is not str:
            raise LocalProtocolError(f"authid must be a string, got {self.authid!r:.80}")
        out: list[AuthClient] = []
        for method in self.methods:
            if method != "cryptosign" and self.authid is None:
                raise LocalProtocolError(f"authmethod {method!r} needs an authid")
            if method == "cryptosign":
                from .auth.cryptosign import CryptosignClient

                assert self.private_key is not None
                out.append(CryptosignClient(self.private_key))
            elif method == "scram":
                from .auth.scram import ScramClient

                assert self.authid is not None and self.password is not None
                out.append(ScramClient(self.authid, self.password, rng))
            elif method == "wampcra":
                from .auth.wampcra import WampCraClient

                assert self.secret is not None
                out.append(WampCraClient(self.secret))
            else:
                from .auth.ticket import TicketClient

                assert self.ticket is not None
                out.append(TicketClient(self.ticket))
        return out


def _method_key(method: str) -> str:
    """One spelling per method: the spec's ``wamp-scram`` is Autobahn's (and ours) ``scram``."""
    return "scram" if method == "wamp-scram" else method


# --- bookkeeping -----------------------------------------------------------------------------


@dataclass(slots=True)
class _Request:
    """What a pending request was, for building its reply event."""

    type: int
    uri: str = ""
    match: str = "exact"
    #: The subscription/registration an UNSUBSCRIBE/UNREGISTER names.
    target: int = 0
    receive_progress: bool = False
    #: A progressive CALL the caller may still continue (wamp-spec.md §4.3).
    streaming: bool = False


@dataclass(slots=True)
class _Invocation:
    registration_id: int
    procedure: str
    receive_progress: bool
    #: The caller is still streaming this invocation's arguments (wamp-spec.md §4.3).
    streaming: bool = False


def parse_on_leave(args: Sequence[Any] | None) -> tuple[int, str | None, str | None]:
    """``(session, authid, authrole)`` of a ``wamp.session.on_leave`` event's arguments.

    Routers send two shapes: the spec's ``[session, authid, authrole]`` (wampcore) and
    Crossbar.io's ``[session]``; both are accepted (authid and authrole are then None). Anything
    else raises ``LocalProtocolError``.
    """
    items = list(args or ())
    if not 1 <= len(items) <= 3 or type(items[0]) is not int or items[0] < 1:
        raise LocalProtocolError(f"not a wamp.session.on_leave payload: {items!r:.120}")
    authid = items[1] if len(items) > 1 else None
    authrole = items[2] if len(items) > 2 else None
    if not all(v is None or type(v) is str for v in (authid, authrole)):
        raise LocalProtocolError(f"not a wamp.session.on_leave payload: {items!r:.120}")
    return items[0], authid, authrole


def _args(value: Sequence[Any] | None, what: str) -> list[Any] | None:
    if value is None:
        return None
    if isinstance(value, list):
        return value
    if isinstance(value, tuple):
        return list(value)
    raise LocalProtocolError(f"{what} args must be a list or tuple, got {type(value).__name__}")


def _kwargs(value: Mapping[str, Any] | None, what: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, dict):
        return value
    if isinstance(value, Mapping):
        return dict(value)
    raise LocalProtocolError(f"{what} kwargs must be a dict, got {type(value).__name__}")


def _options(options: Mapping[str, Any] | None, what: str) -> dict[str, Any]:
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise LocalProtocolError(f"{what} options must be a dict, got {type(options).__name__}")
    return dict(options)


def _flag(value: Any, what: str) -> bool:
    if type(value) is not bool:
        raise LocalProtocolError(f"{what} must be a bool, got {value!r:.80}")
    return value


def _ppt_of(details: Mapping[str, Any]) -> dict[str, Any]:
    """The payload passthru keys of received Details (any ``ppt_*`` / ``enc_*`` key)."""
    if not details:
        return {}
    return {k: v for k, v in details.items() if k.startswith(_PPT_PREFIXES)}


def _merge_ppt(opts: dict[str, Any], ppt: Mapping[str, Any] | None, what: str) -> bool:
    """Merge a verb's ``ppt`` into ``opts`` (checked); True if ``opts`` now uses passthru."""
    if ppt is not None:
        if not isinstance(ppt, Mapping):
            raise LocalProtocolError(f"{what} ppt must be a dict, got {type(ppt).__name__}")
        for key, value in ppt.items():
            if type(key) is not str or not key.startswith(_PPT_PREFIXES):
                raise LocalProtocolError(
                    f"{what} ppt keys must start with ppt_ or enc_, got {key!r:.80}"
                )
            if key not in PPT_KEYS:
                # The router passes on only the keys it knows: a typo would vanish silently.
                raise LocalProtocolError(
                    f"{what} ppt key {key!r:.80} is not one of {', '.join(PPT_KEYS)}"
                )
            if type(value) is not str:
                raise LocalProtocolError(f"{what} ppt {key} must be a string, got {value!r:.80}")
            if key in opts and opts[key] != value:
                raise LocalProtocolError(f"{what} {key} given both in ppt and in options")
            opts[key] = value
    used = [k for k in opts if type(k) is str and k.startswith(_PPT_PREFIXES)]
    if any(k.startswith("ppt_") for k in used) and "ppt_scheme" not in opts:
        raise LocalProtocolError(f"{what} payload passthru options need ppt_scheme (§4.18)")
    return bool(used)


def _str_or_none(value: Any) -> str | None:
    return value if type(value) is str else None


def _has_feature(roles: Mapping[str, Any], role: str, *features: str) -> bool:
    spec = roles.get(role)
    found = spec.get("features") if isinstance(spec, dict) else None
    return isinstance(found, dict) and any(found.get(f) is True for f in features)


# --- the peer --------------------------------------------------------------------------------


class ClientPeer:
    """One client connection: a WAMP session over ``framing`` (see the module docstring)."""

    def __init__(
        self,
        realm: str,
        framing: Framing | DirectLink,
        *,
        roles: Mapping[str, Mapping[str, Any]] | None = None,
        authid: str | None = None,
        authmethods: Sequence[str] | None = None,
        authextra: Mapping[str, Any] | None = None,
        authrole: str | None = None,
        responder: Responder | None = None,
        agent: str | None = None,
        strict_request_ids: bool = True,
        credentials: Credentials | None = None,
        ticket: str | None = None,
        secret: str | bytes | None = None,
        private_key: str | bytes | None = None,
        password: str | None = None,
        auth: Sequence[AuthClient] | None = None,
        rng: AuthRandom | None = None,
        channel_id: bytes | None = None,
    ) -> None:
        # strict_request_ids=False accepts INVOCATION ids that are unique but not sequential
        # (wamp-spec §3.6 wants sequential): Crossbar.io numbers them per router, not per session.
        if agent is None:
            from . import __version__

            agent = f"wampcore-{__version__}"
        shortcuts = (ticket, secret, private_key, password)
        if credentials is not None:
            if not isinstance(credentials, Credentials):
                raise LocalProtocolError("credentials must be a wampcore.client.Credentials")
            if any(v is not None for v in shortcuts):
                raise LocalProtocolError(
                    "give ticket/secret/private_key/password in credentials or as keywords, "
                    "not both"
                )
            if authid is not None and credentials.authid not in (None, authid):
                raise LocalProtocolError("authid and credentials.authid differ")
            if authmethods is not None and credentials.authmethods is not None:
                raise LocalProtocolError("give authmethods or credentials.authmethods, not both")
        elif any(v is not None for v in shortcuts):
            credentials = Credentials(
                authid=authid,
                ticket=ticket,
                secret=secret,
                private_key=private_key,
                password=password,
            )
        if credentials is not None:
            authid = authid if authid is not None else credentials.authid
            if authmethods is None and credentials.authmethods is not None:
                authmethods = credentials.authmethods
            if credentials.authid is None and authid is not None:
                credentials = replace(credentials, authid=authid)
        if channel_id is not None and type(channel_id) is not bytes:
            raise LocalProtocolError("channel_id must be bytes")
        self._credentials = credentials
        self._auth_given: list[AuthClient] = list(auth or ())
        self._rng = rng
        self._channel_id = channel_id
        chosen = copy.deepcopy(DEFAULT_ROLES if roles is None else dict(roles))
        details: dict[str, Any] = {"roles": chosen, "agent": agent}
        if authmethods is not None:
            if isinstance(authmethods, str) or not all(type(m) is str for m in authmethods):
                raise LocalProtocolError("authmethods must be a list of strings")
            details["authmethods"] = list(authmethods)
        if authid is not None:
            details["authid"] = authid
        if authrole is not None:
            details["authrole"] = authrole
        if authextra is not None:
            details["authextra"] = dict(authextra)
        self._hello_base = details
        # Built once here so that a bad realm, role or auth value fails now, not at Ready.
        # _auth: the method clients HELLO offers (method key -> client); _answered: those that
        # answered a CHALLENGE in the join under way (they check the WELCOME).
        self._hello, self._auth = self._build_hello(realm)
        self._answered: list[AuthClient] = []
        unknown = set(chosen) - {"caller", "callee", "publisher", "subscriber"}
        if unknown:
            raise LocalProtocolError(f"unknown client roles: {', '.join(sorted(unknown))}")
        if responder is not None and not callable(responder):
            raise LocalProtocolError("responder must be callable")

        self._realm = realm
        self._hello_sent = False
        self._framing = framing
        #: Set for a router-internal session: message objects instead of bytes (no framing).
        self._direct = framing if isinstance(framing, DirectLink) else None
        self._responder = responder
        self._tracker = SessionTracker(Side.CLIENT, strict_request_ids=strict_request_ids)
        self._events: deque[ClientEvent] = deque()
        self._serializer: Serializer | None = None
        #: Ready seen, and neither close() nor Closed yet.
        self._open = False
        self._closing = False
        self._transport_done = False
        #: A violation was handled: nothing more from this transport is processed.
        self._failed = False
        #: We sent ABORT: ignore the router's in-flight messages until we send HELLO again.
        self._quiet = False
        self._session_id: int | None = None
        self._leaving: tuple[str, str | None] | None = None
        #: Invocations that ended with their session: answers to them are dropped, not errors.
        self._ended_invocations: set[int] = set()
        #: Progressive invocations answered before their final chunk (the callee may finish
        #: first, wamp-spec.md §4.3): chunks still in flight for them are dropped. With lenient
        #: request ids the state table cannot tell such a chunk from a new INVOCATION.
        self._answered_streams: dict[int, None] = {}
        #: subscription id -> (topic, match); registration id -> (procedure, match).
        self._subscriptions: dict[int, tuple[str, str]] = {}
        self._registrations: dict[int, tuple[str, str]] = {}
        self._handlers: dict[type[Message], Callable[[Any], None]] = {
            Welcome: self._on_welcome,
            Abort: self._on_abort,
            Challenge: self._on_challenge,
            Goodbye: self._on_goodbye,
            Error: self._on_error,
            Published: self._on_published,
            Subscribed: self._on_subscribed,
            Unsubscribed: self._on_unsubscribed,
            Event: self._on_event,
            Result: self._on_result,
            Registered: self._on_registered,
            Unregistered: self._on_unregistered,
            Invocation: self._on_invocation,
            Interrupt: self._on_interrupt,
        }
        if self._direct is not None:
            self._open = True  # a direct link has no transport handshake
            self._hello_now()
            return
        # A framing that is ready at once (the identity framing) must get HELLO queued now:
        # the adapter writes before it reads, and the router speaks only after HELLO.
        assert not isinstance(framing, DirectLink)
        if not self._events:
            fev = framing.next_event()
            if fev is not None:
                self._on_framing_event(fev)

    # -- properties ------------------------------------------------------------------------------

    @property
    def realm(self) -> str:
        return self._realm

    @property
    def channel_id(self) -> bytes | None:
        """The transport's TLS channel id for channel binding (cryptosign), if known."""
        return self._channel_id

    @channel_id.setter
    def channel_id(self, value: bytes | None) -> None:
        # Known only once the TLS handshake is done: the adapter sets it before the CHALLENGE.
        if value is not None and type(value) is not bytes:
            raise LocalProtocolError("channel_id must be bytes")
        self._channel_id = value

    @property
    def framing(self) -> Framing | DirectLink:
        return self._framing

    @property
    def state(self) -> SessionState:
        """The session state (``SessionState.ESTABLISHED`` once joined)."""
        return self._tracker.state

    @property
    def session_id(self) -> int | None:
        """The session id from WELCOME, None outside a session."""
        return self._session_id

    @property
    def is_joined(self) -> bool:
        return self._tracker.state is SessionState.ESTABLISHED

    @property
    def closed(self) -> bool:
        """True once the transport is finished (drop the connection after draining output)."""
        return self._transport_done or self._framing.closed

    @property
    def router_roles(self) -> dict[str, dict[str, object]]:
        """The router's roles and features from WELCOME ({} outside a session)."""
        return self._tracker.router_roles

    @property
    def client_roles(self) -> dict[str, dict[str, object]]:
        """The roles and features this peer announces."""
        return self._hello.roles

    @property
    def subscriptions(self) -> dict[int, tuple[str, str]]:
        """Active subscriptions: id -> (topic, match). A copy."""
        return dict(self._subscriptions)

    @property
    def registrations(self) -> dict[int, tuple[str, str]]:
        """Active registrations: id -> (procedure, match). A copy."""
        return dict(self._registrations)

    # -- bytes in, events out --------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Feed bytes from the transport (``b""`` at EOF); events come from ``next_event``."""
        if self._direct is not None:
            raise LocalProtocolError("a router-internal session receives no bytes")
        assert not isinstance(self._framing, DirectLink)
        self._framing.receive_data(data)

    def next_event(self) -> ClientEvent | None:
        """The next event, or None when more data is needed (and forever after TransportClosed)."""
        events = self._events
        while not events:
            if self._transport_done:
                return None
            if self._direct is not None:
                if not self._next_direct():
                    return None
                continue
            assert not isinstance(self._framing, DirectLink)
            fev = self._framing.next_event()
            if fev is None:
                return None
            self._on_framing_event(fev)
        return events.popleft()

    def data_to_send(self) -> bytes:
        """Bytes to write to the transport, in order (byte-stream framings)."""
        if self._direct is not None:
            return b""
        assert not isinstance(self._framing, DirectLink)
        return self._framing.data_to_send()

    def payloads_to_send(self) -> list[bytes]:
        """Whole messages to send (``MessageFraming`` only)."""
        if self._direct is not None:
            return []
        take: Callable[[], list[bytes]] | None = getattr(self._framing, "payloads_to_send", None)
        if take is None:
            raise LocalProtocolError("this framing is a byte stream: use data_to_send()")
        return take()

    # -- session verbs ---------------------------------------------------------------------------

    def join(self) -> None:
        """Send HELLO again after the previous session ended (the first join is automatic)."""
        self._hello_now()

    def leave(self, reason: str = CLOSE_REALM, message: str | None = None) -> None:
        """Start the GOODBYE handshake; ``Left`` follows when the router replies."""
        msg = Goodbye(details={"message": message} if message is not None else {}, reason=reason)
        self._send(msg)
        self._leaving = (reason, message)

    def abort(self, reason: str = CLOSE_SYSTEM_SHUTDOWN, message: str | None = None) -> None:
        """Send ABORT (e.g. to give up a join); ``Aborted(local=True)`` follows at once."""
        msg = Abort(details={"message": message} if message is not None else {}, reason=reason)
        self._send(msg)
        self._quiet = True
        self._session_over(reason, message)
        self._events.append(Aborted(reason=reason, message=message, local=True))

    def close(self) -> None:
        """Close the transport; ``TransportClosed`` follows (pending requests end before it)."""
        self._closing = True
        self._open = False
        if self._direct is not None:
            self._direct.client_close()
            return
        assert not isinstance(self._framing, DirectLink)
        self._framing.close()

    def ping(self, data: bytes = b"") -> None:
        """Send a transport-level ping; ``PongReceived`` follows."""
        ping: Callable[[bytes], None] | None = getattr(self._framing, "ping", None)
        if ping is None:
            raise LocalProtocolError("this framing has no ping")
        ping(data)

    # -- request verbs ---------------------------------------------------------------------------

    def call(
        self,
        procedure: str,
        args: Sequence[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        *,
        receive_progress: bool = False,
        timeout: int | None = None,
        disclose_me: bool | None = None,
        progress: bool = False,
        ppt: Mapping[str, Any] | None = None,
        payload: bytes | str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> int:
        """Send CALL; returns its request id. ``timeout`` is in milliseconds (0: none).

        ``progress=True`` starts a progressive call invocation: continue it with
        ``continue_call`` and end it with ``continue_call(..., progress=False)``.

        ``ppt``: payload passthru options (wamp-spec.md §4.18), keys from ``PPT_KEYS``, string
        values, ``ppt_scheme`` required with any ``ppt_*`` key; the router's dealer must announce
        ``payload_passthru_mode``. ``payload``: Autobahn's raw form, bytes sent in place of the
        args list (no args or kwargs then, and ``ppt`` must give ``enc_algo``).
        """
        opts = _options(options, "CALL")
        if _flag(receive_progress, "CALL receive_progress"):
            self._require("caller", "progressive_call_results", router=None)
            opts["receive_progress"] = True
        if timeout is not None:
            opts["timeout"] = timeout
        if disclose_me is not None:
            opts["disclose_me"] = disclose_me
        if _flag(progress, "CALL progress"):
            self._require("caller", "progressive_call_invocations", router="dealer")
            opts["progress"] = True
        if _merge_ppt(opts, ppt, "CALL") or payload is not None:
            self._require("caller", "payload_passthru_mode", router="dealer")
        rid = self._tracker.peek_request_id()
        msg = Call(
            request_id=rid,
            options=opts,
            procedure=procedure,
            args=_args(args, "CALL"),
            kwargs=_kwargs(kwargs, "CALL"),
            payload=payload,
        )
        self._send(msg)
        self._attach(
            rid,
            _Request(
                CALL,
                procedure,
                receive_progress=opts.get("receive_progress") is True,
                streaming=opts.get("progress") is True,
            ),
        )
        return rid

    def continue_call(
        self,
        call_request_id: int,
        args: Sequence[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        *,
        progress: bool = True,
        ppt: Mapping[str, Any] | None = None,
        payload: bytes | str | None = None,
    ) -> None:
        """Send the next chunk of a progressive call invocation (``progress=False``: the last).

        ``ppt`` and ``payload`` as for ``call``, per chunk. Dropped silently if the call was
        already answered (the callee may finish first).
        """
        _flag(progress, "CALL progress")
        opts: dict[str, Any] = {"progress": True} if progress else {}
        passthru = _merge_ppt(opts, ppt, "CALL") or payload is not None
        req = self._request(call_request_id)
        if req is None or req.type != CALL:
            if self._issued(call_request_id):
                return
            raise LocalProtocolError(f"call {call_request_id} was never made in this session")
        if not req.streaming:
            raise LocalProtocolError(f"call {call_request_id} is not an open progressive call")
        if passthru:
            self._require("caller", "payload_passthru_mode", router="dealer")
        msg = Call(
            request_id=call_request_id,
            options=opts,
            procedure=req.uri,
            args=_args(args, "CALL"),
            kwargs=_kwargs(kwargs, "CALL"),
            payload=payload,
        )
        if self._send(msg) and not progress:
            req.streaming = False

    def publish(
        self,
        topic: str,
        args: Sequence[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        *,
        acknowledge: bool = False,
        exclude_me: bool | None = None,
        exclude: Sequence[int] | None = None,
        exclude_authid: Sequence[str] | None = None,
        exclude_authrole: Sequence[str] | None = None,
        eligible: Sequence[int] | None = None,
        eligible_authid: Sequence[str] | None = None,
        eligible_authrole: Sequence[str] | None = None,
        disclose_me: bool | None = None,
        retain: bool | None = None,
        ppt: Mapping[str, Any] | None = None,
        payload: bytes | str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> int:
        """Send PUBLISH; returns its request id. Only ``acknowledge=True`` gets a reply.

        ``retain=True`` asks the broker to keep it for later ``get_retained`` subscribers
        (wamp-spec.md §4.20). ``ppt`` and ``payload`` as for ``call`` (the broker must announce
        ``payload_passthru_mode``).
        """
        opts = _options(options, "PUBLISH")
        if _flag(acknowledge, "PUBLISH acknowledge"):
            opts["acknowledge"] = True
        for key, value in (
            ("exclude_me", exclude_me),
            ("disclose_me", disclose_me),
            ("retain", retain),
        ):
            if value is not None:
                opts[key] = value
        for key, seq in (
            ("exclude", exclude),
            ("exclude_authid", exclude_authid),
            ("exclude_authrole", exclude_authrole),
            ("eligible", eligible),
            ("eligible_authid", eligible_authid),
            ("eligible_authrole", eligible_authrole),
        ):
            if seq is not None:
                if isinstance(seq, str | bytes) or not isinstance(seq, Sequence):
                    raise LocalProtocolError(f"PUBLISH {key} must be a list")
                opts[key] = list(seq)
        if _merge_ppt(opts, ppt, "PUBLISH") or payload is not None:
            self._require("publisher", "payload_passthru_mode", router="broker")
        rid = self._tracker.peek_request_id()
        msg = Publish(
            request_id=rid,
            options=opts,
            topic=topic,
            args=_args(args, "PUBLISH"),
            kwargs=_kwargs(kwargs, "PUBLISH"),
            payload=payload,
        )
        self._send(msg)
        if opts.get("acknowledge") is True:
            self._attach(rid, _Request(PUBLISH, topic))
        return rid

    def subscribe(
        self,
        topic: str,
        *,
        match: str | None = None,
        get_retained: bool | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> int:
        """Send SUBSCRIBE (``match``: exact, prefix or wildcard); returns its request id."""
        opts = _options(options, "SUBSCRIBE")
        if match is not None:
            opts["match"] = match
        if get_retained is not None:
            opts["get_retained"] = get_retained
        rid = self._tracker.peek_request_id()
        msg = Subscribe(request_id=rid, options=opts, topic=topic)
        self._send(msg)
        self._attach(rid, _Request(SUBSCRIBE, topic, match=msg.match))
        return rid

    def unsubscribe(self, subscription_id: int) -> int:
        """Send UNSUBSCRIBE; returns its request id. Events may arrive until it is answered."""
        rid = self._tracker.peek_request_id()
        msg = Unsubscribe(request_id=rid, subscription_id=subscription_id)
        self._send(msg)
        self._attach(rid, _Request(UNSUBSCRIBE, target=subscription_id))
        return rid

    def register(
        self,
        procedure: str,
        *,
        match: str | None = None,
        invoke: str | None = None,
        disclose_caller: bool | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> int:
        """Send REGISTER (``invoke``: single, roundrobin, random, first, last); returns its id."""
        opts = _options(options, "REGISTER")
        if match is not None:
            opts["match"] = match
        if invoke is not None:
            opts["invoke"] = invoke
        if disclose_caller is not None:
            opts["disclose_caller"] = disclose_caller
        rid = self._tracker.peek_request_id()
        msg = Register(request_id=rid, options=opts, procedure=procedure)
        self._send(msg)
        self._attach(rid, _Request(REGISTER, procedure, match=msg.match))
        return rid

    def unregister(self, registration_id: int) -> int:
        """Send UNREGISTER; returns its id. Invocations may arrive until it is answered."""
        rid = self._tracker.peek_request_id()
        msg = Unregister(request_id=rid, registration_id=registration_id)
        self._send(msg)
        self._attach(rid, _Request(UNREGISTER, target=registration_id))
        return rid

    # -- callee replies and cancel ---------------------------------------------------------------

    def yield_result(
        self,
        invocation_id: int,
        args: Sequence[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        *,
        progress: bool = False,
        ppt: Mapping[str, Any] | None = None,
        payload: bytes | str | None = None,
    ) -> None:
        """Answer an invocation with YIELD (``progress=True``: a progressive result, more follow).

        ``ppt`` and ``payload`` as for ``call``; they reach the caller in RESULT.Details.
        Dropped silently if the invocation already ended (INTERRUPT killnowait, or its session).
        """
        _flag(progress, "YIELD progress")
        opts: dict[str, Any] = {"progress": True} if progress else {}
        passthru = _merge_ppt(opts, ppt, "YIELD") or payload is not None
        inv = self._invocation(invocation_id)
        if inv is None and invocation_id in self._ended_invocations:
            return
        if progress and (inv is None or not inv.receive_progress):
            raise LocalProtocolError(
                f"invocation {invocation_id} did not ask for progressive results"
            )
        if passthru:
            self._require("callee", "payload_passthru_mode", router="dealer")
        msg = Yield(
            request_id=invocation_id,
            options=opts,
            args=_args(args, "YIELD"),
            kwargs=_kwargs(kwargs, "YIELD"),
            payload=payload,
        )
        self._send(msg)
        if not progress and inv is not None:
            self._note_answered(invocation_id, inv)

    def yield_error(
        self,
        invocation_id: int,
        error: str,
        args: Sequence[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        *,
        ppt: Mapping[str, Any] | None = None,
        payload: bytes | str | None = None,
    ) -> None:
        """Answer an invocation with ERROR ``error``. Dropped silently if it already ended.

        ``ppt`` and ``payload`` as for ``call``; they reach the caller in ERROR.Details.
        """
        details: dict[str, Any] = {}
        passthru = _merge_ppt(details, ppt, "ERROR") or payload is not None
        inv = self._invocation(invocation_id)
        if inv is None and invocation_id in self._ended_invocations:
            return
        if passthru:
            self._require("callee", "payload_passthru_mode", router="dealer")
        msg = Error(
            request_type=INVOCATION,
            request_id=invocation_id,
            details=details,
            error=error,
            args=_args(args, "ERROR"),
            kwargs=_kwargs(kwargs, "ERROR"),
            payload=payload,
        )
        self._send(msg)
        if inv is not None:
            self._note_answered(invocation_id, inv)

    def _note_answered(self, invocation_id: int, inv: _Invocation) -> None:
        """An invocation got its final answer: remember it if its caller was still streaming."""
        if inv.streaming and self._invocation(invocation_id) is None:
            streams = self._answered_streams
            streams[invocation_id] = None
            if len(streams) > _ANSWERED_STREAMS_KEPT:
                del streams[next(iter(streams))]

    def cancel(self, call_request_id: int, mode: str = "kill") -> None:
        """Send CANCEL for a pending call (skip, kill or killnowait; wamp-spec.md §4.5).

        The call still ends with its RESULT or ERROR (``wamp.error.canceled``). Dropped silently
        if the call was already answered.
        """
        if mode not in _CANCEL_MODES:
            raise LocalProtocolError(f"cancel mode must be one of {_CANCEL_MODES}, got {mode!r}")
        req = self._request(call_request_id)
        if req is None and self._issued(call_request_id):
            return
        if req is not None and req.type != CALL:
            raise LocalProtocolError(f"request {call_request_id} is not a call")
        self._require("caller", "call_canceling", router="dealer")
        self._send(Cancel(request_id=call_request_id, options={"mode": mode}))

    # -- internals: sending ----------------------------------------------------------------------

    def _send(self, msg: Message) -> bool:
        """Check ``msg`` completely, then queue it; False if the state table says to drop it."""
        direct = self._direct
        if direct is not None:
            if not self._open or direct.closed:
                raise LocalProtocolError(f"cannot send {msg.NAME}: the session's link is closed")
            if self._tracker.send(msg) is Disposition.IGNORE:
                return False
            direct.client_send(msg)
            return True
        if not self._open or self._serializer is None:
            what = "closing or closed" if self._closing else "not ready yet"
            raise LocalProtocolError(f"cannot send {msg.NAME}: the transport is {what}")
        assert not isinstance(self._framing, DirectLink)
        data = self._serializer.encode(msg.to_wire())
        limit = self._send_limit()
        if limit is not None and len(data) > limit:
            raise MessageTooLargeError(
                f"{msg.NAME} of {len(data)} bytes exceeds the transport limit of {limit}",
                size=len(data),
                limit=limit,
            )
        if self._tracker.send(msg) is Disposition.IGNORE:
            return False
        self._framing.send(data)
        return True

    def _attach(self, request_id: int, request: _Request) -> None:
        """Record what a request just sent was: it lives on its state-table entry."""
        if request_id in self._tracker.pending_out:
            self._tracker.attach(request_id, request, mine=True)

    def _request(self, request_id: int) -> _Request | None:
        found: _Request | None = self._tracker.context(request_id, mine=True)
        return found

    def _invocation(self, request_id: int) -> _Invocation | None:
        found: _Invocation | None = self._tracker.context(request_id, mine=False)
        return found

    def _send_limit(self) -> int | None:
        framing = self._framing
        limit = getattr(framing, "peer_max_message_size", None)
        if limit is None:
            limit = getattr(framing, "max_message_size", None)
        return limit if isinstance(limit, int) else None

    def _build_hello(self, realm: str) -> tuple[Hello, dict[str, AuthClient]]:
        """HELLO and the method clients it offers (fresh ones, e.g. a new SCRAM nonce)."""
        details = copy.deepcopy(self._hello_base)
        clients = list(self._auth_given)
        if self._credentials is not None and self._credentials.methods:
            rng = self._rng
            if rng is None:
                from .ids import default_random

                rng = self._rng = default_random()
            clients += self._credentials.clients(rng)
        offered: dict[str, AuthClient] = {}
        for client in clients:
            method = getattr(client, "method", None)
            if type(method) is not str or not callable(getattr(client, "respond", None)):
                raise LocalProtocolError(f"not an authentication method client: {client!r:.80}")
            key = _method_key(method)
            if key in offered:
                raise LocalProtocolError(f"two clients for the authmethod {method!r}")
            offered[key] = client
        if offered:
            named = details.get("authmethods")
            if named is None:
                details["authmethods"] = [c.method for c in offered.values()]
            else:
                wanted = {_method_key(m) for m in named}
                offered = {k: c for k, c in offered.items() if k in wanted}
            extra: dict[str, Any] = {}
            for client in offered.values():
                for key, value in client.authextra().items():
                    if key in extra and extra[key] != value:
                        raise LocalProtocolError(f"authextra.{key} differs between two authmethods")
                    extra[key] = value
            for key, value in details.get("authextra", {}).items():
                if key in extra and extra[key] != value:
                    raise LocalProtocolError(
                        f"authextra.{key} conflicts with the {key} the credentials give"
                    )
                extra[key] = value
            if extra or "authextra" in details:
                details["authextra"] = extra
        return Hello(realm=realm, details=details), offered

    def _hello_now(self) -> None:
        if (
            self._hello_sent
            and (self._credentials is not None or self._auth_given)
            and self._tracker.state is SessionState.CLOSED
        ):
            # A new join: fresh method clients (a new SCRAM nonce), committed once HELLO is sent.
            hello, offered = self._build_hello(self._realm)
            self._send(hello)
            self._hello, self._auth = hello, offered
        else:
            self._send(self._hello)
        self._hello_sent = True
        self._answered = []
        self._ended_invocations.clear()
        self._answered_streams.clear()
        self._leaving = None
        self._quiet = False

    def _require(self, role: str, feature: str, *, router: str | None) -> None:
        """Refuse a feature we did not announce, or (``router``) the router did not announce."""
        if self._tracker.state is not SessionState.ESTABLISHED:
            raise LocalProtocolError(
                f"{feature} needs an established session (state: {self._tracker.state.value})"
            )
        spelled = _FEATURE_SPELLINGS.get(feature, (feature,))
        if not _has_feature(self._hello.roles, role, *spelled):
            raise LocalProtocolError(f"{feature} was not announced for the {role} role")
        if router is not None and not _has_feature(self._tracker.router_roles, router, *spelled):
            raise LocalProtocolError(f"the router's {router} does not announce {feature}")

    def _issued(self, request_id: int) -> bool:
        """Whether this session already used ``request_id`` (a late reference, not a bug)."""
        return type(request_id) is int and 1 <= request_id < self._tracker.peek_request_id()

    # -- internals: framing events ---------------------------------------------------------------

    def _on_framing_event(self, fev: FramingEvent) -> None:
        if type(fev) is Payload:
            # After a violation or close() nothing more is processed; after our own ABORT,
            # what the router had in flight is dropped until the next HELLO.
            if self._open and not self._failed and not self._quiet:
                self._on_payload(fev.data)
        elif type(fev) is Ready:
            self._on_ready(fev.serializer)
        elif type(fev) is Closed:
            self._on_closed(fev)
        elif type(fev) is Pong:
            self._events.append(PongReceived(fev.data))

    def _on_ready(self, serializer: Serializer) -> None:
        self._serializer = serializer
        if self._closing:
            return
        self._open = True
        self._hello_now()

    def _on_closed(self, event: Closed) -> None:
        self._open = False
        self._closing = True
        self._transport_done = True
        if self._tracker.state is not SessionState.CLOSED:
            self._session_over(CLOSE_TRANSPORT_LOST, event.reason)
        self._events.append(
            TransportClosed(reason=event.reason, error=event.error, code=event.code)
        )

    def _on_payload(self, data: bytes) -> None:
        assert self._serializer is not None
        try:
            for wire in self._serializer.decode(data):
                self._on_message(from_wire(wire))
                if self._failed or self._quiet:
                    return  # the rest of a batch is as dead as the session
        except RemoteProtocolError as exc:
            self._violation(exc.message)

    def _on_message(self, msg: Message) -> None:
        if self._tracker.receive(msg) is Disposition.PROCESS:
            self._handlers[type(msg)](msg)

    def _next_direct(self) -> bool:
        """Process one message from a direct link; False when there is none (yet)."""
        direct = self._direct
        assert direct is not None
        msg = direct.client_receive()
        if msg is None:
            if not direct.closed:
                return False
            self._on_closed(Closed("the router closed the session's link"))
            return True
        if self._failed or self._quiet or not self._open:
            return True  # after a violation, our ABORT or close(): dropped
        try:
            self._on_message(msg)
        except RemoteProtocolError as exc:
            self._violation(exc.message)
        return True

    def _violation(self, message: str) -> None:
        """The router broke the protocol: ABORT, end everything, close (wamp-spec.md §3.6)."""
        self._failed = True
        if self._tracker.state is not SessionState.CLOSED and self._open:
            abort = Abort(details={"message": message[:500]}, reason=PROTOCOL_VIOLATION)
            try:
                self._send(abort)
            except LocalProtocolError:
                pass  # e.g. over the size limit: closing the transport says enough
        self._session_over(PROTOCOL_VIOLATION, message)
        self._tracker.reset()
        self._events.append(ProtocolViolation(message=message))
        self.close()

    def _session_over(self, reason: str, message: str | None) -> None:
        """End every pending request and open invocation of the session that just ended."""
        events = self._events
        err_args = [message] if message else None
        self._tracker.reset()  # what was still open is handed back as orphans
        orphans = self._tracker.take_orphans()
        for mine, rid, rtype, _ in orphans:
            if mine:
                events.append(
                    RequestError(
                        request_type=rtype, request_id=rid, error=reason, args=err_args, local=True
                    )
                )
        for mine, rid, _, _ in orphans:
            if not mine:
                events.append(
                    InterruptReceived(request_id=rid, mode="killnowait", reason=reason, local=True)
                )
                self._ended_invocations.add(rid)
        self._subscriptions.clear()
        self._registrations.clear()
        self._session_id = None
        self._leaving = None

    # -- internals: messages from the router -----------------------------------------------------

    def _on_welcome(self, msg: Welcome) -> None:
        d = msg.details
        authextra = d.get("authextra")
        answered, self._answered = self._answered, []
        for client in answered:
            # E.g. SCRAM: the router proves it knows the password's verifier (ServerSignature).
            try:
                client.check_welcome(dict(authextra) if isinstance(authextra, dict) else {})
            except Exception as exc:
                self.abort(
                    AUTHENTICATION_FAILED,
                    f"{client.method}: the router's WELCOME did not authenticate: {exc}",
                )
                return
        self._session_id = msg.session_id
        self._events.append(
            Joined(
                session_id=msg.session_id,
                realm=self._realm,
                authid=_str_or_none(d.get("authid")),
                authrole=_str_or_none(d.get("authrole")),
                authmethod=_str_or_none(d.get("authmethod")),
                authprovider=_str_or_none(d.get("authprovider")),
                authextra=authextra if isinstance(authextra, dict) else {},
                router_roles=dict(self._tracker.router_roles),
                details=d,
            )
        )

    def _on_abort(self, msg: Abort) -> None:
        message = _str_or_none(msg.details.get("message"))
        self._session_over(msg.reason, message)
        self._events.append(
            Aborted(reason=msg.reason, message=message, args=msg.args, kwargs=msg.kwargs)
        )

    def _on_challenge(self, msg: Challenge) -> None:
        client = self._auth.get(_method_key(msg.method))
        if client is not None:
            self._answer_with(client, msg)
            return
        if self._responder is None:
            if self._auth:
                self.abort(
                    NO_MATCHING_AUTH_METHOD,
                    f"the router chose the authmethod {msg.method!r}, which we did not offer "
                    f"(we offered {', '.join(c.method for c in self._auth.values())})",
                )
                return
            self.abort(
                NO_MATCHING_AUTH_METHOD,
                f"no responder for the authmethod {msg.method!r} the router chose",
            )
            return
        try:
            reply = self._responder(msg)
        except ApplicationError as exc:
            self.abort(exc.error, str(exc.args_list[0]) if exc.args_list else None)
            return
        except Exception as exc:  # user code: any failure means we cannot authenticate
            self.abort(AUTHENTICATION_FAILED, f"{msg.method} responder failed: {exc}")
            return
        if not isinstance(reply, Authenticate):
            self.abort(AUTHENTICATION_FAILED, "responder did not return an Authenticate message")
            return
        try:
            self._send(reply)
        except LocalProtocolError as exc:
            self.abort(AUTHENTICATION_FAILED, f"cannot send AUTHENTICATE: {exc.message}")

    def _answer_with(self, client: AuthClient, msg: Challenge) -> None:
        """Answer a CHALLENGE with the offered method's client, or ABORT."""
        try:
            reply = client.respond(msg, self._channel_id)
        except Exception as exc:  # AuthFailed, MissingExtra, a malformed CHALLENGE, ...
            self.abort(AUTHENTICATION_FAILED, f"cannot answer the {msg.method} CHALLENGE: {exc}")
            return
        if not isinstance(reply, Authenticate):
            self.abort(AUTHENTICATION_FAILED, f"{msg.method} did not return an Authenticate")
            return
        try:
            self._send(reply)
        except LocalProtocolError as exc:
            self.abort(AUTHENTICATION_FAILED, f"cannot send AUTHENTICATE: {exc.message}")
            return
        if client not in self._answered:
            self._answered.append(client)

    def _on_goodbye(self, msg: Goodbye) -> None:
        if self._tracker.state is SessionState.ROUTER_GOODBYE:
            self._send(Goodbye(reason=CLOSE_GOODBYE_AND_OUT))
            message = _str_or_none(msg.details.get("message"))
            self._session_over(msg.reason, message)
            self._events.append(Left(reason=msg.reason, message=message, local=False))
            return
        reason, message = self._leaving or (CLOSE_REALM, None)
        self._session_over(reason, message)
        self._events.append(Left(reason=reason, message=message, local=True))

    def _on_error(self, msg: Error) -> None:
        req: _Request = self._tracker.answered
        if req.type == UNSUBSCRIBE and msg.error == NO_SUCH_SUBSCRIPTION:
            self._subscriptions.pop(req.target, None)
        elif req.type == UNREGISTER and msg.error == NO_SUCH_REGISTRATION:
            self._registrations.pop(req.target, None)
        self._events.append(
            RequestError(
                request_type=msg.request_type,
                request_id=msg.request_id,
                error=msg.error,
                args=msg.args,
                kwargs=msg.kwargs,
                details=msg.details,
                ppt=_ppt_of(msg.details),
                payload=msg.payload,
            )
        )

    def _on_result(self, msg: Result) -> None:
        progress = msg.progress
        if progress:
            req = self._request(msg.request_id)
            if req is None or not req.receive_progress:
                raise RemoteProtocolError(
                    f"progressive RESULT for call {msg.request_id}, which did not ask for one"
                )
        self._events.append(
            CallResult(
                request_id=msg.request_id,
                args=msg.args,
                kwargs=msg.kwargs,
                details=msg.details,
                progress=progress,
                ppt=_ppt_of(msg.details),
                payload=msg.payload,
            )
        )

    def _on_published(self, msg: Published) -> None:
        self._events.append(
            PublishAcknowledged(request_id=msg.request_id, publication_id=msg.publication_id)
        )

    def _on_subscribed(self, msg: Subscribed) -> None:
        req: _Request = self._tracker.answered
        self._subscriptions[msg.subscription_id] = (req.uri, req.match)
        self._events.append(
            SubscriptionCreated(
                request_id=msg.request_id,
                subscription_id=msg.subscription_id,
                topic=req.uri,
                match=req.match,
            )
        )

    def _on_unsubscribed(self, msg: Unsubscribed) -> None:
        if msg.is_revocation:
            sub = msg.details["subscription"]
            # Unknown: our UNSUBSCRIBE crossed the revocation; the reply settles it.
            if self._subscriptions.pop(sub, None) is not None:
                self._events.append(
                    SubscriptionEnded(
                        request_id=None,
                        subscription_id=sub,
                        revoked=True,
                        reason=_str_or_none(msg.details.get("reason")),
                    )
                )
            return
        req: _Request = self._tracker.answered
        self._subscriptions.pop(req.target, None)
        self._events.append(
            SubscriptionEnded(request_id=msg.request_id, subscription_id=req.target)
        )

    def _on_registered(self, msg: Registered) -> None:
        req: _Request = self._tracker.answered
        self._registrations[msg.registration_id] = (req.uri, req.match)
        self._events.append(
            RegistrationCreated(
                request_id=msg.request_id,
                registration_id=msg.registration_id,
                procedure=req.uri,
                match=req.match,
            )
        )

    def _on_unregistered(self, msg: Unregistered) -> None:
        if msg.is_revocation:
            reg = msg.details["registration"]
            if self._registrations.pop(reg, None) is not None:
                self._events.append(
                    RegistrationEnded(
                        request_id=None,
                        registration_id=reg,
                        revoked=True,
                        reason=_str_or_none(msg.details.get("reason")),
                    )
                )
            return
        req: _Request = self._tracker.answered
        self._registrations.pop(req.target, None)
        self._events.append(
            RegistrationEnded(request_id=msg.request_id, registration_id=req.target)
        )

    def _on_event(self, msg: Event) -> None:
        sub = self._subscriptions.get(msg.subscription_id)
        if sub is None:
            raise RemoteProtocolError(f"EVENT for unknown subscription {msg.subscription_id}")
        d = msg.details
        topic = d.get("topic")
        publisher = d.get("publisher")
        self._events.append(
            PublicationReceived(
                subscription_id=msg.subscription_id,
                publication_id=msg.publication_id,
                args=msg.args,
                kwargs=msg.kwargs,
                details=d,
                topic=topic if type(topic) is str else sub[0],
                publisher=publisher if type(publisher) is int else None,
                publisher_authid=_str_or_none(d.get("publisher_authid")),
                publisher_authrole=_str_or_none(d.get("publisher_authrole")),
                retained=d.get("retained") is True,
                ppt=_ppt_of(d),
                payload=msg.payload,
            )
        )

    def _on_invocation(self, msg: Invocation) -> None:
        d = msg.details
        progress = d.get("progress") is True
        if progress and not _has_feature(
            self._hello.roles, "callee", "progressive_call_invocations"
        ):
            raise RemoteProtocolError(
                "progressive INVOCATION, but progressive_call_invocations was not announced"
            )
        inv = self._invocation(msg.request_id)
        continuation = inv is not None
        if inv is None and msg.request_id in self._answered_streams:
            # A chunk of a progressive invocation we already answered: late, dropped.
            self._tracker.forget(msg.request_id, mine=False)
            if not progress:
                del self._answered_streams[msg.request_id]
            return
        if inv is None:
            reg = self._registrations.get(msg.registration_id)
            if reg is None:
                raise RemoteProtocolError(
                    f"INVOCATION for unknown registration {msg.registration_id}"
                )
            procedure = d.get("procedure")
            inv = _Invocation(
                registration_id=msg.registration_id,
                procedure=procedure if type(procedure) is str else reg[0],
                receive_progress=d.get("receive_progress") is True,
            )
            self._tracker.attach(msg.request_id, inv, mine=False)
        elif inv.registration_id != msg.registration_id:
            raise RemoteProtocolError(
                f"INVOCATION {msg.request_id} continues under another registration"
            )
        inv.streaming = progress
        caller = d.get("caller")
        timeout = d.get("timeout")
        self._events.append(
            InvocationReceived(
                request_id=msg.request_id,
                registration_id=msg.registration_id,
                args=msg.args,
                kwargs=msg.kwargs,
                details=d,
                procedure=inv.procedure,
                caller=caller if type(caller) is int else None,
                caller_authid=_str_or_none(d.get("caller_authid")),
                caller_authrole=_str_or_none(d.get("caller_authrole")),
                progress=progress,
                receive_progress=inv.receive_progress,
                timeout=timeout if type(timeout) is int and timeout > 0 else None,
                continuation=continuation,
                ppt=_ppt_of(d),
                payload=msg.payload,
            )
        )

    def _on_interrupt(self, msg: Interrupt) -> None:
        mode = msg.options.get("mode", "kill")
        # A killnowait INTERRUPT has already closed the invocation in the state table.
        self._events.append(
            InterruptReceived(
                request_id=msg.request_id,
                mode=mode,
                reason=_str_or_none(msg.options.get("reason")),
            )
        )
