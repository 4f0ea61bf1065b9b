"""WAMP-SCRAM (authmethod ``"scram"``, Autobahn's and Crossbar's name; the spec says
``"wamp-scram"``; wamp-spec.md §4.28): both halves and the credential helper.

Owns SCRAM-SHA-256 in the form Autobahn's client and Crossbar's router actually speak, which
differs from the spec text in four places (spec §9 item 9):

* method ``"scram"``; CHALLENGE ``kdf`` is ``"argon2id-13"`` (we also accept ``"argon2id13"``)
  or ``"pbkdf2"``; the server signature comes back in WELCOME ``authextra.scram_server_signature``
  (we also send the spec's ``verifier`` with the same value, and read either);
* AuthMessage = ``n=<SASLprep(authid)>,r=<client nonce>`` + ``,r=<nonce>,s=<salt>,i=<iterations>``
  + ``,c=,r=<nonce>``: the ``c=`` attribute is empty (no GS2 header, no base64 ``biws``) and
  the authid is not ``=2C``/``=3D`` escaped; the password is not SASLprep'd (Autobahn uses its
  raw UTF-8);
* Argon2id v1.3 (parallelism 1, 32-byte hash, salt base64-decoded): SaltedPassword is the
  *unpadded base64 text* of the 32-byte hash, as argon2's encoded form prints it (Autobahn's
  ``_hash_argon2id13_secret`` and ``derive_scram_credential`` both key the HMACs with that text);
* PBKDF2: Autobahn's client path cannot run (it hands the base64 *string* salt to its ``pbkdf2``,
  which rejects non-bytes with ValueError) and Crossbar derives nothing itself (it uses the stored
  keys). We follow RFC 5802: SaltedPassword = PBKDF2-HMAC-SHA256(password UTF-8, decoded salt,
  iterations, 32), the raw 32 bytes, which also matches Autobahn's own ``_hash_pbkdf2_secret``
  test vector. That variant needs only the standard library.

Nonces are base64: the client sends 16 random bytes; the router answers base64(client nonce bytes
+ 16 random bytes), exactly as Crossbar does (so the textual prefix of the combined nonce is not
the client's padded nonce; our client accepts either a textual or a byte prefix). The CHALLENGE
carries no ``channel_binding`` key: Autobahn's client writes ``c=<channel_binding>`` into the
AuthMessage, so a ``None`` there would make it compute ``c=None``. Channel binding is not
supported (Crossbar does not support it either): a HELLO that asks for it fails.

Stored credentials have Autobahn's record shape: ``kdf, iterations, memory, salt`` (hex),
``stored_key``, ``server_key`` (hex; Autobahn and Crossbar spell them ``stored-key``,
``server-key``, and both spellings are read).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import stringprep
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..messages import Authenticate, Challenge
from .base import (
    AuthFailed,
    AuthRandom,
    CredentialError,
    MissingExtra,
    Verifier,
    random_bytes,
    require_int,
    require_str,
)

__all__ = [
    "MAX_ARGON2_ITERATIONS",
    "MAX_ARGON2_MEMORY",
    "MAX_PBKDF2_ITERATIONS",
    "ScramClient",
    "ScramCredential",
    "ScramVerifier",
    "derive_scram_credential",
    "parse_scram_credential",
    "saslprep",
]

#: Cost bounds a client accepts in a CHALLENGE (a hostile router must not make it spin).
MAX_ARGON2_ITERATIONS = 100_000
MAX_ARGON2_MEMORY = 1_048_576  # KiB, i.e. 1 GiB
MAX_PBKDF2_ITERATIONS = 10_000_000
#: Longest base64 nonce a router accepts from HELLO.
MAX_NONCE_CHARS = 256

ARGON2 = "argon2id-13"
PBKDF2 = "pbkdf2"
_KDF_NAMES = {"argon2id13": ARGON2, "argon2id-13": ARGON2, "pbkdf2": PBKDF2}


def _kdf_name(kdf: object) -> str | None:
    return _KDF_NAMES.get(kdf) if type(kdf) is str else None


# -- SASLprep (RFC 4013) -------------------------------------------------------------------------

_PROHIBITED = (
    stringprep.in_table_c12,
    stringprep.in_table_c21,
    stringprep.in_table_c22,
    stringprep.in_table_c3,
    stringprep.in_table_c4,
    stringprep.in_table_c5,
    stringprep.in_table_c6,
    stringprep.in_table_c7,
    stringprep.in_table_c8,
    stringprep.in_table_c9,
    stringprep.in_table_a1,
)


def saslprep(text: str) -> str:
    """RFC 4013 SASLprep of a stored string (unassigned code points prohibited); ``AuthFailed``
    for a prohibited character or a bidi violation. What Autobahn (via passlib) applies to the
    authid."""
    mapped = []
    for ch in text:
        if stringprep.in_table_c12(ch):
            mapped.append(" ")
        elif not stringprep.in_table_b1(ch):
            mapped.append(ch)
    out = unicodedata.ucd_3_2_0.normalize("NFKC", "".join(mapped))
    for ch in out:
        if any(table(ch) for table in _PROHIBITED):
            raise AuthFailed(f"SASLprep: prohibited character U+{ord(ch):04X}")
    if any(stringprep.in_table_d1(ch) for ch in out):
        if any(stringprep.in_table_d2(ch) for ch in out):
            raise AuthFailed("SASLprep: mixed right-to-left and left-to-right text")
        if not (stringprep.in_table_d1(out[0]) and stringprep.in_table_d1(out[-1])):
            raise AuthFailed("SASLprep: right-to-left text must start and end right-to-left")
    return out


# -- the algorithms ------------------------------------------------------------------------------


def _salted_password(kdf: str, password: bytes, salt: bytes, iterations: int, memory: int) -> bytes:
    if kdf == PBKDF2:
        return hashlib.pbkdf2_hmac("sha256", password, salt, iterations, 32)
    try:
        from argon2.low_level import Type, hash_secret_raw
    except ImportError:
        raise MissingExtra("scram") from None
    raw = hash_secret_raw(
        secret=password,
        salt=salt,
        time_cost=iterations,
        memory_cost=memory,
        parallelism=1,
        hash_len=32,
        type=Type.ID,
        version=0x13,
    )
    return base64.b64encode(raw).rstrip(b"=")


def _hmac(key: bytes, msg: bytes) -> bytes:
    return hmac.new(key, msg, hashlib.sha256).digest()


def _keys(salted: bytes) -> tuple[bytes, bytes, bytes]:
    """(ClientKey, StoredKey, ServerKey) from SaltedPassword."""
    client_key = _hmac(salted, b"Client Key")
    return client_key, hashlib.sha256(client_key).digest(), _hmac(salted, b"Server Key")


def _auth_message(
    authid: str, client_nonce: str, nonce: str, salt_b64: str, iterations: int
) -> bytes:
    text = f"n={authid},r={client_nonce},r={nonce},s={salt_b64},i={iterations},c=,r={nonce}"
    return text.encode("utf-8")


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def _b64decode(text: str) -> bytes | None:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return None


# -- credentials ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScramCredential:
    """A parsed SCRAM credential record (what the router stores; never the password)."""

    kdf: str
    iterations: int
    memory: int | None
    salt: bytes
    stored_key: bytes
    server_key: bytes


def _record_hex(record: Mapping[str, Any], *names: str) -> bytes:
    for name in names:
        if name in record:
            value = record[name]
            if type(value) is not str:
                raise CredentialError(f"scram credential {name} must be hex text")
            try:
                return binascii.a2b_hex(value)
            except (binascii.Error, ValueError):
                raise CredentialError(f"scram credential {name} is not valid hex") from None
    raise CredentialError(f"scram credential lacks {names[0]}")


def parse_scram_credential(record: Mapping[str, Any] | ScramCredential) -> ScramCredential:
    """Validate a credential record (either key spelling); ``CredentialError`` if malformed."""
    if isinstance(record, ScramCredential):
        return record
    if not isinstance(record, Mapping):
        raise CredentialError("a scram credential must be a mapping")
    kdf = _kdf_name(record.get("kdf"))
    if kdf is None:
        raise CredentialError(f"scram credential kdf must be one of {sorted(_KDF_NAMES)}")
    iterations = record.get("iterations")
    if type(iterations) is not int or iterations < 1:
        raise CredentialError("scram credential iterations must be a positive integer")
    memory = record.get("memory")
    if memory is not None and (type(memory) is not int or memory < 8):
        raise CredentialError("scram credential memory must be an integer >= 8 (KiB)")
    if kdf == ARGON2 and memory is None:
        raise CredentialError("an argon2id-13 scram credential needs memory")
    salt = _record_hex(record, "salt")
    if not salt:
        raise CredentialError("scram credential salt is empty")
    stored = _record_hex(record, "stored_key", "stored-key")
    server = _record_hex(record, "server_key", "server-key")
    if len(stored) != 32 or len(server) != 32:
        raise CredentialError("scram credential keys must be 32 bytes (64 hex characters)")
    return ScramCredential(kdf, iterations, memory, salt, stored, server)


def derive_scram_credential(
    password: str,
    salt: bytes | None = None,
    kdf: str = "argon2id13",
    iterations: int = 4096,
    memory: int = 512,
    *,
    rng: AuthRandom | None = None,
) -> dict[str, Any]:
    """The stored SCRAM credential for ``password``: ``{kdf, memory, iterations, salt,
    stored_key, server_key}`` (hex), Autobahn's record shape with underscores; ``kdf`` is written
    in Autobahn's spelling (``"argon2id-13"`` or ``"pbkdf2"``). With the same password, salt and
    Argon2 parameters the keys equal ``autobahn.wamp.auth.derive_scram_credential``'s.

    Without ``salt``, 16 bytes are drawn from ``rng`` (default: a CSPRNG).
    """
    name = _kdf_name(kdf)
    if name is None:
        raise CredentialError(f"kdf must be one of {sorted(_KDF_NAMES)}")
    if type(password) is not str:
        raise CredentialError("password must be a string")
    if type(iterations) is not int or iterations < 1:
        raise CredentialError("iterations must be a positive integer")
    if type(memory) is not int or memory < 8:
        raise CredentialError("memory must be an integer >= 8 (KiB)")
    if salt is None:
        if rng is None:
            from ..ids import default_random

            rng = default_random()
        salt = random_bytes(rng, 16)
    if type(salt) is not bytes or (name == ARGON2 and len(salt) < 8) or not salt:
        raise CredentialError("salt must be bytes (at least 8 for argon2id)")
    _, stored, server = _keys(
        _salted_password(name, password.encode("utf-8"), salt, iterations, memory)
    )
    return {
        "kdf": name,
        "memory": memory,
        "iterations": iterations,
        "salt": salt.hex(),
        "stored_key": stored.hex(),
        "server_key": server.hex(),
    }


# -- client --------------------------------------------------------------------------------------


class ScramClient:
    """Client half: sends a nonce in HELLO, answers the CHALLENGE with the ClientProof, and
    checks the router's ServerSignature in WELCOME (``check_welcome``)."""

    method = "scram"

    def __init__(self, authid: str, password: str, rng: AuthRandom) -> None:
        if type(authid) is not str or type(password) is not str:
            raise CredentialError("authid and password must be strings")
        try:
            self._authid = saslprep(authid)
        except AuthFailed as exc:
            raise CredentialError(f"authid: {exc}") from None
        self.authid = authid
        self._password = password.encode("utf-8")
        self._nonce_bytes = random_bytes(rng, 16)
        self.nonce = base64.b64encode(self._nonce_bytes).decode("ascii")
        self._server_signature: bytes | None = None

    def authextra(self) -> dict[str, Any]:
        return {"nonce": self.nonce, "channel_binding": None}

    def _nonce_ok(self, nonce: str) -> bool:
        if len(nonce) > len(self.nonce) and nonce.startswith(self.nonce):
            return True
        raw = _b64decode(nonce)
        return (
            raw is not None
            and len(raw) > len(self._nonce_bytes)
            and raw.startswith(self._nonce_bytes)
        )

    def respond(self, challenge: Challenge, channel_id: bytes | None = None) -> Authenticate:
        if challenge.method not in ("scram", "wamp-scram"):
            raise AuthFailed(f"scram client got a {challenge.method!r} challenge")
        extra = challenge.extra
        nonce = require_str(extra, "nonce", "CHALLENGE.Extra")
        if not self._nonce_ok(nonce):
            raise AuthFailed("scram: the router's nonce does not extend the client nonce")
        salt_b64 = require_str(extra, "salt", "CHALLENGE.Extra")
        salt = _b64decode(salt_b64)
        if not salt:
            raise AuthFailed("scram: CHALLENGE.Extra.salt is not base64")
        kdf = _kdf_name(extra.get("kdf"))
        if kdf is None:
            raise AuthFailed(f"scram: unknown kdf {extra.get('kdf')!r:.40}")
        if extra.get("channel_binding") not in (None, ""):
            raise AuthFailed("scram: the router asked for channel binding, which was not requested")
        if kdf == ARGON2:
            iterations = require_int(
                extra, "iterations", "CHALLENGE.Extra", 1, MAX_ARGON2_ITERATIONS
            )
            memory = require_int(extra, "memory", "CHALLENGE.Extra", 8, MAX_ARGON2_MEMORY)
            if len(salt) < 8:
                raise AuthFailed("scram: argon2id needs a salt of at least 8 bytes")
        else:
            iterations = require_int(
                extra, "iterations", "CHALLENGE.Extra", 1, MAX_PBKDF2_ITERATIONS
            )
            memory = 0
        salted = _salted_password(kdf, self._password, salt, iterations, memory)
        client_key, stored_key, server_key = _keys(salted)
        message = _auth_message(self._authid, self.nonce, nonce, salt_b64, iterations)
        proof = _xor(client_key, _hmac(stored_key, message))
        self._server_signature = _hmac(server_key, message)
        return Authenticate(
            signature=base64.b64encode(proof).decode("ascii"),
            extra={"nonce": nonce, "channel_binding": None},
        )

    def check_welcome(self, authextra: dict[str, Any]) -> None:
        """Mutual authentication: WELCOME must carry the ServerSignature for this exchange."""
        if self._server_signature is None:
            raise AuthFailed("scram: WELCOME before any CHALLENGE was answered")
        if not isinstance(authextra, Mapping):
            raise AuthFailed("scram: WELCOME carries no authextra")
        value = authextra.get("scram_server_signature", authextra.get("verifier"))
        given = _b64decode(value) if type(value) is str else None
        if given is None or not hmac.compare_digest(given, self._server_signature):
            raise AuthFailed("scram: the router's server signature does not verify")


# -- router --------------------------------------------------------------------------------------


class ScramVerifier(Verifier):
    """Router half: ``credential`` is the stored record (see ``parse_scram_credential``) and
    ``client_authextra`` is HELLO.Details.authextra (its ``nonce``). ``authid`` is required.
    A missing or malformed nonce, or a requested channel binding, raises ``AuthFailed`` here."""

    method = "scram"

    def __init__(
        self,
        credential: Mapping[str, Any] | ScramCredential,
        client_authextra: Mapping[str, Any] | None,
        **context: Any,
    ) -> None:
        super().__init__(**context)
        cred = parse_scram_credential(credential)
        if type(self.authid) is not str:
            raise AuthFailed("scram: HELLO has no authid")
        prepped = saslprep(self.authid)
        if not isinstance(client_authextra, Mapping):
            raise AuthFailed("scram: HELLO.Details.authextra is missing")
        client_nonce = client_authextra.get("nonce")
        if type(client_nonce) is not str or not 0 < len(client_nonce) <= MAX_NONCE_CHARS:
            raise AuthFailed("scram: HELLO authextra.nonce must be a base64 string")
        raw = _b64decode(client_nonce)
        if not raw or base64.b64encode(raw).decode("ascii") != client_nonce:
            raise AuthFailed("scram: HELLO authextra.nonce is not canonical base64")
        if client_authextra.get("channel_binding") not in (None, ""):
            raise AuthFailed("scram: channel binding is not supported")
        self._cred = cred
        self._nonce = base64.b64encode(raw + random_bytes(self._rng, 16)).decode("ascii")
        salt_b64 = base64.b64encode(cred.salt).decode("ascii")
        self._extra: dict[str, Any] = {
            "nonce": self._nonce,
            "salt": salt_b64,
            "kdf": cred.kdf,
            "iterations": cred.iterations,
        }
        if cred.memory is not None:
            self._extra["memory"] = cred.memory
        self._message = _auth_message(prepped, client_nonce, self._nonce, salt_b64, cred.iterations)

    def challenge_extra(self) -> dict[str, Any]:
        return dict(self._extra)

    def _verify(self, signature: str, extra: dict[str, Any]) -> dict[str, Any]:
        if "nonce" in extra:
            nonce = extra["nonce"]
            if type(nonce) is not str or not hmac.compare_digest(
                nonce.encode("utf-8", "surrogatepass"), self._nonce.encode("ascii")
            ):
                raise AuthFailed("scram: AUTHENTICATE.Extra.nonce is not this attempt's nonce")
        if extra.get("channel_binding") not in (None, ""):
            raise AuthFailed("scram: channel binding is not supported")
        proof = _b64decode(signature)
        if proof is None or len(proof) != 32:
            raise AuthFailed("scram: the ClientProof is not 32 bytes of base64")
        client_key = _xor(proof, _hmac(self._cred.stored_key, self._message))
        if not hmac.compare_digest(hashlib.sha256(client_key).digest(), self._cred.stored_key):
            raise AuthFailed("scram: the ClientProof does not verify")
        server_signature = base64.b64encode(_hmac(self._cred.server_key, self._message)).decode(
            "ascii"
        )
        return {"scram_server_signature": server_signature, "verifier": server_signature}
