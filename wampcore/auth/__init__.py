"""Authentication methods as sans-I/O building blocks (wamp-spec.md §4.28), one module each.

Every method has a client half (``<Method>Client``: ``method``, ``authextra()``,
``respond(challenge, channel_id=None) -> Authenticate``, ``check_welcome(authextra)``) and a
router half (``<Method>Verifier``: one attempt, ``challenge_extra()`` and a single-use
``verify(authenticate) -> dict`` of WELCOME authextra additions). Nothing here does I/O, reads a
clock or uses global randomness: the time and a random source are passed in. ``cryptography``
and ``argon2-cffi`` (the ``wampcore[crypto]`` extra) are imported only when a method needs them.

This package does not decide who may join: the router wires verifiers to its principals.
"""

from .base import (
    CRYPTO_EXTRA,
    AuthError,
    AuthFailed,
    AuthRandom,
    CredentialError,
    MissingExtra,
    Verifier,
    extra_needed,
    random_bytes,
)
from .cryptosign import (
    CryptosignClient,
    CryptosignVerifier,
    generate_cryptosign_keypair,
    public_key_of,
)
from .scram import (
    ScramClient,
    ScramCredential,
    ScramVerifier,
    derive_scram_credential,
    parse_scram_credential,
    saslprep,
)
from .ticket import TicketClient, TicketVerifier
from .wampcra import WampCraClient, WampCraVerifier, derive_cra_key

__all__ = [
    "CRYPTO_EXTRA",
    "AuthError",
    "AuthFailed",
    "AuthRandom",
    "CredentialError",
    "CryptosignClient",
    "CryptosignVerifier",
    "MissingExtra",
    "ScramClient",
    "ScramCredential",
    "ScramVerifier",
    "TicketClient",
    "TicketVerifier",
    "Verifier",
    "WampCraClient",
    "WampCraVerifier",
    "derive_cra_key",
    "derive_scram_credential",
    "extra_needed",
    "generate_cryptosign_keypair",
    "parse_scram_credential",
    "public_key_of",
    "random_bytes",
    "saslprep",
]
