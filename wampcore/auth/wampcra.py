"""WAMP-CRA, plain and salted (authmethod ``"wampcra"``, wamp-spec.md §4.28): both halves and
the salted-key helper.

Owns the challenge-response over a shared secret:

* CHALLENGE.Extra.challenge is a JSON *string* of ``{authid, authrole, authmethod, authprovider,
  nonce, session, timestamp}`` (serialised as Crossbar does: ``json.dumps(..., ensure_ascii=False)``
  with the default separators; the nonce is 64 base64 characters from 48 random bytes);
* signature = base64(HMAC-SHA256(key, challenge as UTF-8));
* plain CRA: key = the secret as UTF-8;
* salted CRA: CHALLENGE.Extra also has ``salt`` (a string), ``iterations``, ``keylen`` and
  key = ``derive_cra_key(secret, salt, iterations, keylen)``: the *base64 text* of
  PBKDF2-HMAC-SHA256(secret UTF-8, salt UTF-8), used as the HMAC key. That is exactly
  Autobahn's ``derive_key`` + ``compute_wcs`` (the spec says only "PBKDF2"), and Crossbar's.

Only the standard library is needed (``hashlib.pbkdf2_hmac``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from ..messages import Authenticate, Challenge
from .base import (
    AuthFailed,
    CredentialError,
    Verifier,
    random_bytes,
    require_int,
    require_str,
)

__all__ = [
    "MAX_CRA_ITERATIONS",
    "MAX_CRA_KEYLEN",
    "WampCraClient",
    "WampCraVerifier",
    "derive_cra_key",
]

#: Bounds a client accepts in a salted challenge (a hostile router must not make it spin).
MAX_CRA_ITERATIONS = 10_000_000
MAX_CRA_KEYLEN = 1024


def _utf8(value: str | bytes, what: str) -> bytes:
    if type(value) is bytes:
        return value
    if type(value) is str:
        return value.encode("utf-8")
    raise CredentialError(f"{what} must be str or bytes")


def derive_cra_key(
    secret: str | bytes, salt: str | bytes, iterations: int = 1000, keylen: int = 32
) -> str:
    """The salted WAMP-CRA key: base64(PBKDF2-HMAC-SHA256(secret, salt, iterations, keylen)).

    Identical to Autobahn's ``autobahn.wamp.auth.derive_key`` (which returns the same text as
    bytes). str arguments are UTF-8 encoded; the salt is used as text, not decoded.
    """
    if type(iterations) is not int or iterations < 1:
        raise CredentialError("iterations must be a positive integer")
    if type(keylen) is not int or keylen < 1:
        raise CredentialError("keylen must be a positive integer")
    raw = hashlib.pbkdf2_hmac(
        "sha256", _utf8(secret, "secret"), _utf8(salt, "salt"), iterations, keylen
    )
    return base64.b64encode(raw).decode("ascii")


def _sign(key: bytes, challenge: str) -> bytes:
    mac = hmac.new(key, challenge.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()
    return base64.b64encode(mac)


class WampCraClient:
    """Client half: signs the challenge string with the secret (or the salted key)."""

    method = "wampcra"

    def __init__(self, secret: str | bytes) -> None:
        self._secret = _utf8(secret, "secret")

    def authextra(self) -> dict[str, Any]:
        return {}

    def respond(self, challenge: Challenge, channel_id: bytes | None = None) -> Authenticate:
        if challenge.method != self.method:
            raise AuthFailed(f"wampcra client got a {challenge.method!r} challenge")
        extra = challenge.extra
        text = require_str(extra, "challenge", "CHALLENGE.Extra")
        key = self._secret
        if "salt" in extra:
            salt = require_str(extra, "salt", "CHALLENGE.Extra")
            iterations = require_int(extra, "iterations", "CHALLENGE.Extra", 1, MAX_CRA_ITERATIONS)
            keylen = require_int(extra, "keylen", "CHALLENGE.Extra", 1, MAX_CRA_KEYLEN)
            key = derive_cra_key(key, salt, iterations, keylen).encode("ascii")
        return Authenticate(signature=_sign(key, text).decode("ascii"), extra={})

    def check_welcome(self, authextra: dict[str, Any]) -> None:
        return None


class WampCraVerifier(Verifier):
    """Router half: issues the JSON challenge and checks the HMAC.

    Give the principal's ``secret``, or (salted only) the already derived ``derived_key`` (the
    base64 text ``derive_cra_key`` returns) so the configuration need not hold the secret.
    ``salt`` switches to salted CRA with ``iterations`` and ``keylen``.
    """

    method = "wampcra"

    def __init__(
        self,
        secret: str | bytes | None = None,
        *,
        derived_key: str | None = None,
        salt: str | None = None,
        iterations: int = 1000,
        keylen: int = 32,
        **context: Any,
    ) -> None:
        super().__init__(**context)
        if salt is None:
            if secret is None or derived_key is not None:
                raise CredentialError("plain wampcra needs the secret (and no derived_key)")
            key = _utf8(secret, "secret")
        else:
            if type(salt) is not str:
                raise CredentialError("salt must be a string")
            if type(iterations) is not int or iterations < 1:
                raise CredentialError("iterations must be a positive integer")
            if type(keylen) is not int or keylen < 1:
                raise CredentialError("keylen must be a positive integer")
            if derived_key is not None:
                if secret is not None:
                    raise CredentialError("give either secret or derived_key, not both")
                if type(derived_key) is not str or not derived_key or not derived_key.isascii():
                    raise CredentialError("derived_key must be the base64 text of the key")
                key = derived_key.encode("ascii")
            elif secret is not None:
                key = derive_cra_key(secret, salt, iterations, keylen).encode("ascii")
            else:
                raise CredentialError("salted wampcra needs the secret or the derived_key")
        self._extra: dict[str, Any] = {}
        nonce = base64.b64encode(random_bytes(self._rng, 48)).decode("ascii")
        body = {
            "authid": self.authid,
            "authrole": self.authrole,
            "authmethod": self.method,
            "authprovider": self.authprovider,
            "session": self.session_id,
            "nonce": nonce,
            "timestamp": self.now_iso,
        }
        text = json.dumps(body, ensure_ascii=False)
        self._extra["challenge"] = text
        if salt is not None:
            self._extra.update(salt=salt, iterations=iterations, keylen=keylen)
        self._expected = _sign(key, text)

    def challenge_extra(self) -> dict[str, Any]:
        return dict(self._extra)

    def _verify(self, signature: str, extra: dict[str, Any]) -> dict[str, Any]:
        given = signature.encode("utf-8", "surrogatepass")
        if not hmac.compare_digest(given, self._expected):
            raise AuthFailed("wampcra: the signature does not match")
        return {}
