"""Error classes raised by wampcore, and every predefined WAMP error and close URI.

Two kinds of protocol error share one base (DESIGN.md §1.7):

* ``LocalProtocolError``: the user of the API asked for something illegal (a verb in the wrong
  state, an invalid option). Nothing was sent.
* ``RemoteProtocolError``: the peer sent something illegal. Where the protocol prescribes an
  answer (ABORT, a RawSocket error reply, a WebSocket close) it has already been queued.

``ApplicationError`` is not a protocol error: it is the typed form of a WAMP ERROR message that
the application itself produced or receives (an error URI plus payload).
"""

from __future__ import annotations

from typing import Any

# --- Basic profile error URIs (wamp-spec.md §3.7) ---------------------------------------------
INVALID_URI = "wamp.error.invalid_uri"
NO_SUCH_PROCEDURE = "wamp.error.no_such_procedure"
PROCEDURE_ALREADY_EXISTS = "wamp.error.procedure_already_exists"
NO_SUCH_REGISTRATION = "wamp.error.no_such_registration"
NO_SUCH_SUBSCRIPTION = "wamp.error.no_such_subscription"
INVALID_ARGUMENT = "wamp.error.invalid_argument"
CANCELED = "wamp.error.canceled"
#: The basic-profile text's alternative spelling; accepted on input, never sent.
CANCELLED = "wamp.error.cancelled"
PAYLOAD_SIZE_EXCEEDED = "wamp.error.payload_size_exceeded"
PROTOCOL_VIOLATION = "wamp.error.protocol_violation"
NOT_AUTHORIZED = "wamp.error.not_authorized"
AUTHORIZATION_FAILED = "wamp.error.authorization_failed"
NO_SUCH_REALM = "wamp.error.no_such_realm"
NO_SUCH_ROLE = "wamp.error.no_such_role"

# --- Close reasons ------------------------------------------------------------------------------
CLOSE_SYSTEM_SHUTDOWN = "wamp.close.system_shutdown"
CLOSE_REALM = "wamp.close.close_realm"
CLOSE_GOODBYE_AND_OUT = "wamp.close.goodbye_and_out"
CLOSE_KILLED = "wamp.close.killed"
#: Autobahn's default GOODBYE reason (and the test vectors'); not a spec URI but common.
CLOSE_NORMAL = "wamp.close.normal"
#: Autobahn's reason when the transport went away under a session; the client peer ends pending
#: requests with it.
CLOSE_TRANSPORT_LOST = "wamp.close.transport_lost"

# --- Advanced profile error URIs -----------------------------------------------------------------
NO_MATCHING_AUTH_METHOD = "wamp.error.no_matching_auth_method"
NO_SUCH_PRINCIPAL = "wamp.error.no_such_principal"
AUTHENTICATION_DENIED = "wamp.error.authentication_denied"
AUTHENTICATION_FAILED = "wamp.error.authentication_failed"
AUTHENTICATION_REQUIRED = "wamp.error.authentication_required"
AUTHORIZATION_DENIED = "wamp.error.authorization_denied"
AUTHORIZATION_REQUIRED = "wamp.error.authorization_required"
TIMEOUT = "wamp.error.timeout"
OPTION_NOT_ALLOWED = "wamp.error.option_not_allowed"
OPTION_DISALLOWED_DISCLOSE_ME = "wamp.error.option_disallowed.disclose_me"
#: The caller-identification section's alternative spelling of the disclose_me refusal.
DISCLOSE_ME_NOT_ALLOWED = "wamp.error.disclose_me.not_allowed"
NETWORK_FAILURE = "wamp.error.network_failure"
UNAVAILABLE = "wamp.error.unavailable"
NO_AVAILABLE_CALLEE = "wamp.error.no_available_callee"
FEATURE_NOT_SUPPORTED = "wamp.error.feature_not_supported"
NO_SUCH_SESSION = "wamp.error.no_such_session"

#: Every URI above, for tests and for callers that want to recognise predefined reasons.
ALL_URIS: frozenset[str] = frozenset(
    value for name, value in dict(globals()).items() if name.isupper() and isinstance(value, str)
)


class ProtocolError(Exception):
    """Base of every protocol error wampcore raises.

    ``reason`` is the WAMP URI that describes the error on the wire (for a protocol violation,
    ``wamp.error.protocol_violation``); ``message`` is the human-readable explanation.
    """

    def __init__(self, message: str, *, reason: str = PROTOCOL_VIOLATION) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, reason={self.reason!r})"


class LocalProtocolError(ProtocolError):
    """The API user attempted something the protocol forbids; nothing was sent."""


class RemoteProtocolError(ProtocolError):
    """The peer violated the protocol; any mandatory reply is already queued."""


class MessageTooLargeError(LocalProtocolError):
    """A payload to send exceeds the limit the peer announced (or the local limit).

    The layer above decides what to do: a router turns an oversize RESULT or EVENT into a proper
    ERROR (``wamp.error.payload_size_exceeded``) or a dropped-event counter.
    """

    def __init__(self, message: str, *, size: int, limit: int) -> None:
        super().__init__(message, reason=PAYLOAD_SIZE_EXCEEDED)
        self.size = size
        self.limit = limit


class ApplicationError(Exception):
    """A WAMP ERROR as an exception: an error URI plus optional args and kwargs.

    Raised by client APIs when a call, publish, subscribe or register fails; raised by callee
    code to answer an invocation with that ERROR.
    """

    def __init__(
        self,
        error: str,
        *args: Any,
        kwargs: dict[str, Any] | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(error, *args)
        self.error = error
        self.args_list: list[Any] = list(args)
        self.kwargs: dict[str, Any] = dict(kwargs or {})
        self.details: dict[str, Any] = dict(details or {})

    def __str__(self) -> str:
        parts = [self.error]
        if self.args_list:
            parts.append(repr(self.args_list))
        if self.kwargs:
            parts.append(repr(self.kwargs))
        return " ".join(parts)

    def __repr__(self) -> str:
        return f"ApplicationError({self.error!r}, args={self.args_list!r}, kwargs={self.kwargs!r})"


# --- wampcore's own URIs ------------------------------------------------------------------------
# The spec reserves ``wamp.*`` for itself, so conditions only this router defines use
# ``wampcore.*``.

#: ABORT reason for a peer disconnected because its outbound queue overflowed (policy
#: "disconnect", or a reply that could not be queued within the hard ceiling).
OUTBOUND_QUEUE_FULL = "wampcore.error.outbound_queue_full"
#: ABORT reason when a realm already holds ``Limits.max_sessions_per_realm`` sessions.
REALM_FULL = "wampcore.error.realm_full"
#: ERROR(48) reason when a caller already has ``Limits.max_pending_calls_per_session`` calls open.
TOO_MANY_PENDING_CALLS = "wampcore.error.too_many_pending_calls"
#: ABORT reason for a peer that did not complete HELLO -> WELCOME within the handshake deadline.
HANDSHAKE_TIMEOUT = "wampcore.error.handshake_timeout"


class ConfigError(LocalProtocolError):
    """A configuration value is invalid; ``field`` names it (e.g. ``limits.handshake_timeout``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", reason=INVALID_ARGUMENT)
        self.field = field
