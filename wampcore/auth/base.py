"""What every authentication method shares (wamp-spec.md §4.28): the error types, the optional
dependency check, the random-bytes helper and the single-use verifier base.

Owns:

* ``AuthError`` and its three kinds: ``AuthFailed`` (the peer's answer did not verify, or a
  challenge cannot be answered), ``MissingExtra`` (the method needs ``wampcore[crypto]``, which
  is not installed) and ``CredentialError`` (a stored credential or a constructor argument given
  by the embedding code is malformed: the API user's mistake, so it is a ``LocalProtocolError``).
* ``extra_needed(method)``: which pip extra a method needs that is not importable. The optional
  libraries (``cryptography``, ``argon2-cffi``) are imported lazily, inside functions, so the core
  imports without them.
* ``random_bytes(rng, n)``: every nonce, challenge and salt comes from the injected ``rng``.
  The router passes a CSPRNG-backed source (``wampcore.ids.default_random()``, i.e.
  ``secrets.SystemRandom``); tests pass a seeded ``random.Random`` for reproducible runs.
* ``Verifier``: the router half of one authentication attempt. It issues one CHALLENGE and
  accepts at most one AUTHENTICATE: a second ``verify()`` raises ``AuthFailed`` (no replay).
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping
from typing import Any, ClassVar, Protocol

from ..errors import AUTHENTICATION_FAILED, INVALID_ARGUMENT, LocalProtocolError
from ..messages import Authenticate

__all__ = [
    "CRYPTO_EXTRA",
    "AuthError",
    "AuthFailed",
    "AuthRandom",
    "CredentialError",
    "MissingExtra",
    "Verifier",
    "extra_needed",
    "random_bytes",
]

#: The pip extra that brings cryptography (Ed25519) and argon2-cffi (Argon2id).
CRYPTO_EXTRA = "wampcore[crypto]"


class AuthError(Exception):
    """Base of the errors raised by ``wampcore.auth``."""


class AuthFailed(AuthError):
    """Verification failed (router side), or a CHALLENGE cannot be answered (client side).

    The message says why and is safe to log (it never contains a secret), but a router sends the
    peer only the URI ``wamp.error.authentication_failed`` (``uri``) with a generic message, so a
    probing client learns nothing about which check failed.
    """

    uri: ClassVar[str] = AUTHENTICATION_FAILED


class MissingExtra(AuthError):
    """The method needs an optional dependency that is not installed.

    Deliberately not an ``ImportError``: callers catch it as an auth error, and an import
    machinery ``except ImportError`` elsewhere never swallows it. ``extra`` is what to install.
    """

    def __init__(self, method: str, extra: str = CRYPTO_EXTRA) -> None:
        super().__init__(
            f"authmethod {method!r} needs the optional dependencies: pip install '{extra}'"
        )
        self.method = method
        self.extra = extra


class CredentialError(LocalProtocolError):
    """A stored credential or an argument given by the embedding code is malformed."""

    def __init__(self, message: str) -> None:
        super().__init__(message, reason=INVALID_ARGUMENT)


def _importable(*modules: str) -> bool:
    import importlib

    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            return False
    return True


#: What each method needs beyond the standard library (ticket and WAMP-CRA need nothing).
_NEEDS: dict[str, tuple[str, ...]] = {
    "cryptosign": ("cryptography.hazmat.primitives.asymmetric.ed25519",),
    "scram": ("argon2.low_level",),
    "wamp-scram": ("argon2.low_level",),
}


def extra_needed(method: str) -> str | None:
    """The pip extra (``"wampcore[crypto]"``) that ``method`` needs and lacks, else ``None``.

    Checked lazily, by importing the optional modules now. SCRAM is reported as needing the extra
    when Argon2 is missing even though its PBKDF2 variant needs only the standard library: the
    default (and Autobahn's only working) KDF is Argon2id.
    """
    modules = _NEEDS.get(method)
    if modules is None or _importable(*modules):
        return None
    return CRYPTO_EXTRA


class AuthRandom(Protocol):
    """What the auth code needs of a random source (``random.Random``, ``SystemRandom``)."""

    def getrandbits(self, k: int, /) -> int: ...


def random_bytes(rng: AuthRandom, n: int) -> bytes:
    """``n`` bytes from ``rng``: ``rng.randbytes(n)`` when it has it, else from ``getrandbits``."""
    if n <= 0:
        return b""
    randbytes = getattr(rng, "randbytes", None)
    if randbytes is not None:
        data = randbytes(n)
        if type(data) is bytes and len(data) == n:
            return data
        raise CredentialError(f"rng.randbytes({n}) did not return {n} bytes")
    return rng.getrandbits(n * 8).to_bytes(n, "little")


# -- small shared parsers (peer input -> AuthFailed) ---------------------------------------------


def require_str(mapping: Mapping[str, Any], key: str, what: str) -> str:
    value = mapping.get(key)
    if type(value) is not str:
        raise AuthFailed(f"{what}.{key} must be a string, got {type(value).__name__}")
    return value


def require_int(mapping: Mapping[str, Any], key: str, what: str, low: int, high: int) -> int:
    value = mapping.get(key)
    if type(value) is not int:
        raise AuthFailed(f"{what}.{key} must be an integer, got {type(value).__name__}")
    if not low <= value <= high:
        raise AuthFailed(f"{what}.{key} = {value} is outside [{low}, {high}]")
    return value


def unhex(text: object, length: int, what: str) -> bytes:
    """Decode peer-supplied hex of exactly ``length`` bytes, or raise ``AuthFailed``."""
    if type(text) is not str or len(text) != 2 * length:
        raise AuthFailed(f"{what} must be {2 * length} hex characters")
    try:
        return binascii.a2b_hex(text)
    except (binascii.Error, ValueError):
        raise AuthFailed(f"{what} is not valid hex") from None


class Verifier:
    """The router half of one authentication attempt (one CHALLENGE, at most one AUTHENTICATE).

    Every method's verifier takes its credentials first and passes these keywords on to this
    base unchanged (``**context``), which keeps them as attributes of the same names (``rng`` as
    ``_rng``):

    * ``authid``, ``authrole``, ``authprovider``: the principal being authenticated (WAMP-CRA puts
      them in the signed challenge; the others keep them for the embedding router);
    * ``session_id``: the session id the router will assign (WAMP-CRA signs it);
    * ``rng``: the random source for nonces and challenges, CSPRNG-backed in a router
      (``wampcore.ids.default_random()``);
    * ``now_iso``: the current UTC time as ISO 8601 (the core has no clock; WAMP-CRA signs it);
    * ``channel_id``: the transport's TLS channel id, when the adapter has one.

    The challenge is drawn at construction, so a verifier is always bound to the one challenge it
    issues. ``verify()`` returns the additions to WELCOME.Details.authextra or raises
    ``AuthFailed``; it runs once: any later call raises ``AuthFailed`` whatever it carries.
    Deadlines ("the AUTHENTICATE arrived in due time") belong to the router's handshake timeout.
    """

    method: ClassVar[str] = ""

    def __init__(
        self,
        *,
        authid: str | None,
        session_id: int,
        rng: AuthRandom,
        now_iso: str,
        authrole: str,
        authprovider: str,
        channel_id: bytes | None = None,
    ) -> None:
        if channel_id is not None and type(channel_id) is not bytes:
            raise CredentialError("channel_id must be bytes or None")
        self.authid = authid
        self.session_id = session_id
        self.authrole = authrole
        self.authprovider = authprovider
        self.now_iso = now_iso
        self.channel_id = channel_id
        self._rng = rng
        self._used = False

    def challenge_extra(self) -> dict[str, Any]:
        """CHALLENGE.Extra for this attempt (the same every call)."""
        raise NotImplementedError

    def verify(self, authenticate: Authenticate) -> dict[str, Any]:
        """Check the AUTHENTICATE; the WELCOME authextra additions, or ``AuthFailed``."""
        if self._used:
            raise AuthFailed(f"{self.method}: this attempt already received an AUTHENTICATE")
        self._used = True
        if not isinstance(authenticate, Authenticate):
            raise AuthFailed(f"{self.method}: expected an Authenticate message")
        signature = authenticate.signature
        extra = authenticate.extra
        if type(signature) is not str or type(extra) is not dict:
            raise AuthFailed(f"{self.method}: malformed AUTHENTICATE")
        return self._verify(signature, extra)

    def _verify(self, signature: str, extra: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError
