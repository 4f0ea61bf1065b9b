"""WAMP-Ticket (authmethod ``"ticket"``, wamp-spec.md §4.28): both halves.

Owns the ticket flow: CHALLENGE ``[4, "ticket", {}]`` and AUTHENTICATE ``[5, ticket, {}]``. The
ticket is a shared secret that travels in clear text (use TLS); the router compares it in
constant time. A replayed ticket is, by nature of the method, still the ticket: only the other
methods bind an answer to one challenge.
"""

from __future__ import annotations

import hmac
from typing import Any

from ..messages import Authenticate, Challenge
from .base import AuthFailed, CredentialError, Verifier

__all__ = ["TicketClient", "TicketVerifier"]


class TicketClient:
    """Client half: answers a ticket CHALLENGE with the ticket."""

    method = "ticket"

    def __init__(self, ticket: str) -> None:
        if type(ticket) is not str:
            raise CredentialError("ticket must be a string")
        self._ticket = ticket

    def authextra(self) -> dict[str, Any]:
        return {}

    def respond(self, challenge: Challenge, channel_id: bytes | None = None) -> Authenticate:
        if challenge.method != self.method:
            raise AuthFailed(f"ticket client got a {challenge.method!r} challenge")
        return Authenticate(signature=self._ticket, extra={})

    def check_welcome(self, authextra: dict[str, Any]) -> None:
        return None


class TicketVerifier(Verifier):
    """Router half: the AUTHENTICATE signature must equal the principal's ticket."""

    method = "ticket"

    def __init__(
        self,
        ticket: str,
        **context: Any,
    ) -> None:
        super().__init__(**context)
        if type(ticket) is not str:
            raise CredentialError("ticket must be a string")
        self._ticket = ticket.encode("utf-8")

    def challenge_extra(self) -> dict[str, Any]:
        return {}

    def _verify(self, signature: str, extra: dict[str, Any]) -> dict[str, Any]:
        given = signature.encode("utf-8", "surrogatepass")
        if not hmac.compare_digest(given, self._ticket):
            raise AuthFailed("ticket: the ticket does not match")
        return {}
