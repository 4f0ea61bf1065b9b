"""WAMP-Cryptosign (authmethod ``"cryptosign"``, wamp-spec.md §4.28): both halves and the key
pair helper. Ed25519 (RFC 8032) through ``cryptography``, imported lazily (``wampcore[crypto]``).

Owns:

* HELLO.Details.authextra: ``{"pubkey": <64 hex>}`` plus ``"channel_binding"`` when asked for;
* CHALLENGE.Extra: ``{"challenge": <64 hex of 32 random bytes>, "channel_binding": <echo>}``
  (the echo is ``None`` without binding, as Crossbar sends it);
* the signed message: the 32 challenge bytes, XORed byte by byte with the 32-byte TLS channel id
  when channel binding is in use (Autobahn's ``_format_challenge``);
* AUTHENTICATE.Signature: hex(Ed25519 signature (64 bytes) || signed message (32 bytes)), 192
  hex characters (Autobahn's ``_sign_challenge``).

The router checks that the HELLO pubkey is one of the principal's authorized keys, that the
appended message is exactly the challenge *this* verifier issued (XOR the channel id), and that
the signature over it verifies. Router-to-client authentication (``authextra.challenge``) and the
certificate/trustroot machinery are not implemented.
"""

from __future__ import annotations

import binascii
import hmac
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..messages import Authenticate, Challenge
from .base import (
    AuthFailed,
    AuthRandom,
    CredentialError,
    MissingExtra,
    Verifier,
    random_bytes,
    unhex,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ed25519

__all__ = [
    "CHANNEL_BINDINGS",
    "CryptosignClient",
    "CryptosignVerifier",
    "generate_cryptosign_keypair",
    "public_key_of",
]

#: Channel binding types the router accepts in HELLO (Autobahn's client knows "tls-unique"; the
#: spec adds "tls-exporter"). ``channel_id`` must be that binding's 32-byte value.
CHANNEL_BINDINGS = ("tls-unique", "tls-exporter")


def _ed25519() -> Any:
    import importlib

    try:
        return importlib.import_module("cryptography.hazmat.primitives.asymmetric.ed25519")
    except ImportError:
        raise MissingExtra("cryptosign") from None


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def _private_seed(key: str | bytes) -> bytes:
    if type(key) is bytes:
        seed = key
    elif type(key) is str:
        try:
            seed = binascii.a2b_hex(key.strip())
        except (binascii.Error, ValueError):
            raise CredentialError("the cryptosign private key is not valid hex") from None
    else:
        raise CredentialError("the cryptosign private key must be hex text or 32 bytes")
    if len(seed) != 32:
        raise CredentialError(f"the cryptosign private key must be 32 bytes, got {len(seed)}")
    return seed


def _signing_key(seed: bytes) -> ed25519.Ed25519PrivateKey:
    key: ed25519.Ed25519PrivateKey = _ed25519().Ed25519PrivateKey.from_private_bytes(seed)
    return key


def public_key_of(private_key: str | bytes) -> str:
    """The hex public key of a private key (hex text or 32 raw bytes)."""
    return _signing_key(_private_seed(private_key)).public_key().public_bytes_raw().hex()


def generate_cryptosign_keypair(rng: AuthRandom) -> tuple[str, str]:
    """A new Ed25519 key pair as ``(private_hex, public_hex)``; the 32-byte seed is drawn from
    ``rng`` (pass a CSPRNG-backed one, e.g. ``wampcore.ids.default_random()``)."""
    seed = random_bytes(rng, 32)
    return seed.hex(), public_key_of(seed)


def _check_binding(channel_binding: object) -> str | None:
    if channel_binding is None:
        return None
    if type(channel_binding) is not str or channel_binding not in CHANNEL_BINDINGS:
        raise AuthFailed(f"unsupported channel binding {channel_binding!r:.40}")
    return channel_binding


class CryptosignClient:
    """Client half: signs the router's challenge with the Ed25519 private key.

    ``private_key`` is the 32-byte seed, raw or as 64 hex characters. With ``channel_binding``
    (``"tls-unique"``), ``respond`` needs the transport's 32-byte ``channel_id`` and the router
    must echo the same binding.
    """

    method = "cryptosign"

    def __init__(self, private_key: str | bytes, channel_binding: str | None = None) -> None:
        try:
            self.channel_binding = _check_binding(channel_binding)
        except AuthFailed as exc:
            raise CredentialError(str(exc)) from None
        self._key = _signing_key(_private_seed(private_key))
        self.public_key = self._key.public_key().public_bytes_raw().hex()

    def authextra(self) -> dict[str, Any]:
        extra: dict[str, Any] = {"pubkey": self.public_key}
        if self.channel_binding is not None:
            extra["channel_binding"] = self.channel_binding
        return extra

    def respond(self, challenge: Challenge, channel_id: bytes | None = None) -> Authenticate:
        if challenge.method != self.method:
            raise AuthFailed(f"cryptosign client got a {challenge.method!r} challenge")
        extra = challenge.extra
        raw = unhex(extra.get("challenge"), 32, "CHALLENGE.Extra.challenge")
        echoed = extra.get("channel_binding")
        if echoed != self.channel_binding:
            raise AuthFailed(
                f"the router answered channel binding {echoed!r:.40}, "
                f"the client asked for {self.channel_binding!r}"
            )
        if self.channel_binding is not None:
            if type(channel_id) is not bytes or len(channel_id) != 32:
                raise AuthFailed("channel binding needs the transport's 32-byte channel id")
            raw = _xor(raw, channel_id)
        signature = self._key.sign(raw)
        return Authenticate(signature=(signature + raw).hex(), extra={})

    def check_welcome(self, authextra: dict[str, Any]) -> None:
        return None


class CryptosignVerifier(Verifier):
    """Router half: checks the pubkey, issues a 32-byte challenge, verifies the signature.

    ``authorized_keys`` are the principal's public keys (hex); ``client_authextra`` is
    HELLO.Details.authextra. A pubkey that is missing, malformed or not authorized, or a channel
    binding that cannot be honoured, raises ``AuthFailed`` here, before any CHALLENGE.
    """

    method = "cryptosign"

    def __init__(
        self,
        authorized_keys: Iterable[str],
        client_authextra: Mapping[str, Any] | None,
        **context: Any,
    ) -> None:
        super().__init__(**context)
        if isinstance(authorized_keys, str | bytes):
            raise CredentialError(
                "authorized_keys must be a collection of hex keys, not one string"
            )
        keys: list[bytes] = []
        for key in authorized_keys:
            try:
                keys.append(unhex(key, 32, "authorized key"))
            except AuthFailed as exc:
                raise CredentialError(str(exc)) from None
        ed = _ed25519()
        if not isinstance(client_authextra, Mapping):
            raise AuthFailed("cryptosign: HELLO.Details.authextra is missing")
        pubkey = unhex(client_authextra.get("pubkey"), 32, "HELLO authextra.pubkey")
        # Constant-time per key; the set of keys is configuration, not secret.
        if not any([hmac.compare_digest(pubkey, k) for k in keys]):
            raise AuthFailed("cryptosign: the pubkey is not one of the principal's keys")
        self.pubkey = pubkey.hex()
        self.channel_binding = _check_binding(client_authextra.get("channel_binding"))
        self._challenge = random_bytes(self._rng, 32)
        expected = self._challenge
        if self.channel_binding is not None:
            if self.channel_id is None:
                raise AuthFailed("cryptosign: channel binding requested on a transport without one")
            if len(self.channel_id) != 32:
                raise CredentialError("channel_id must be 32 bytes for cryptosign binding")
            expected = _xor(expected, self.channel_id)
        self._expected = expected
        try:
            self._verify_key = ed.Ed25519PublicKey.from_public_bytes(pubkey)
        except ValueError:
            raise AuthFailed("cryptosign: the pubkey is not a valid Ed25519 key") from None

    def challenge_extra(self) -> dict[str, Any]:
        return {"challenge": self._challenge.hex(), "channel_binding": self.channel_binding}

    def _verify(self, signature: str, extra: dict[str, Any]) -> dict[str, Any]:
        signed = unhex(signature, 96, "AUTHENTICATE.Signature")
        sig, message = signed[:64], signed[64:]
        if not hmac.compare_digest(message, self._expected):
            raise AuthFailed("cryptosign: the signed message is not this attempt's challenge")
        from cryptography.exceptions import InvalidSignature

        try:
            self._verify_key.verify(sig, self._expected)
        except (InvalidSignature, ValueError):
            raise AuthFailed("cryptosign: the signature does not verify") from None
        return {}
