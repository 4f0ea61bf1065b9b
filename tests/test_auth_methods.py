"""The authentication methods of wamp-spec.md §4.28 as sans-I/O halves (wampcore.auth).

For each method (ticket, WAMP-CRA plain and salted, WAMP-SCRAM with Argon2id and PBKDF2,
WAMP-Cryptosign with and without channel binding): our client against our verifier, every
failure path (only AuthFailed or a typed error, never another exception), single use, interop
both ways with Autobahn|Python's own code, our client against challenges built the way Crossbar's
router builds them, and the published test vectors (the spec's cryptosign vectors, Autobahn's
WAMP-CRA / SCRAM vectors, RFC 7677's SCRAM-SHA-256 exchange).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import os
import random
import subprocess
import sys
import warnings
from collections.abc import Iterator
from typing import Any
from unittest.mock import Mock

import pytest

from wampcore.auth import (
    CRYPTO_EXTRA,
    AuthError,
    AuthFailed,
    CredentialError,
    CryptosignClient,
    CryptosignVerifier,
    MissingExtra,
    ScramClient,
    ScramVerifier,
    TicketClient,
    TicketVerifier,
    Verifier,
    WampCraClient,
    WampCraVerifier,
    derive_cra_key,
    derive_scram_credential,
    extra_needed,
    generate_cryptosign_keypair,
    parse_scram_credential,
    public_key_of,
    random_bytes,
    saslprep,
)
from wampcore.auth import scram as scram_mod
from wampcore.errors import AUTHENTICATION_FAILED, LocalProtocolError
from wampcore.messages import Authenticate, Challenge

# Autobahn's auth module imports passlib, which imports the deprecated stdlib `crypt`.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from autobahn.wamp import auth as ab_auth
from autobahn.wamp import types as ab_types
from autobahn.wamp.cryptosign import HAS_CRYPTOSIGN

NOW = "2026-01-02T03:04:05.678Z"

needs_ab_scram = pytest.mark.skipif(
    not ab_auth.HAS_ARGON, reason="Autobahn's SCRAM needs argon2-cffi and passlib (test extra)"
)
needs_ab_cryptosign = pytest.mark.skipif(
    not HAS_CRYPTOSIGN, reason="Autobahn's cryptosign needs pynacl, base58, ecdsa (test extra)"
)


def kw(rng: Any = None, authid: str | None = "joe", **over: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "authid": authid,
        "session_id": 4242,
        "rng": rng if rng is not None else random.Random(7),
        "now_iso": NOW,
        "authrole": "user",
        "authprovider": "static",
    }
    args.update(over)
    return args


class FixedRng:
    """Hands out the given bytes first (to pin a verifier's challenge), then zeros."""

    def __init__(self, *chunks: bytes) -> None:
        self._chunks = list(chunks)

    def getrandbits(self, k: int) -> int:
        return 0

    def randbytes(self, n: int) -> bytes:
        if self._chunks:
            chunk = self._chunks.pop(0)
            assert len(chunk) == n
            return chunk
        return bytes(n)


def auth(signature: str, **extra: Any) -> Authenticate:
    return Authenticate(signature=signature, extra=extra)


@pytest.fixture
def txaio_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """Autobahn's CryptosignKey signs through txaio futures: give txaio a private loop."""
    import txaio

    txaio.use_asyncio()
    loop = asyncio.new_event_loop()
    old = txaio.config.loop
    txaio.config.loop = loop
    try:
        yield loop
    finally:
        txaio.config.loop = old
        loop.close()


# -- base ----------------------------------------------------------------------------------------


def test_random_bytes_prefers_randbytes_and_falls_back_to_getrandbits() -> None:
    """§4.28 (all methods): randomness comes only from the injected source."""
    assert random_bytes(random.Random(1), 16) == random.Random(1).randbytes(16)

    class BitsOnly:
        def getrandbits(self, k: int) -> int:
            return (1 << k) - 1

    assert random_bytes(BitsOnly(), 5) == b"\xff" * 5
    assert random_bytes(BitsOnly(), 0) == b""


def test_error_types() -> None:
    """AuthFailed maps to wamp.error.authentication_failed; MissingExtra is not an ImportError;
    CredentialError is the API user's mistake (a LocalProtocolError)."""
    assert AuthFailed.uri == AUTHENTICATION_FAILED == "wamp.error.authentication_failed"
    assert issubclass(AuthFailed, AuthError) and issubclass(MissingExtra, AuthError)
    assert not issubclass(MissingExtra, ImportError)
    assert issubclass(CredentialError, LocalProtocolError)
    err = MissingExtra("cryptosign")
    assert err.extra == CRYPTO_EXTRA == "wampcore[crypto]" and "pip install" in str(err)


def test_extra_needed_is_lazy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only cryptosign and scram need wampcore[crypto]; checked when asked, not at import."""
    for method in ("ticket", "wampcra", "anonymous", "cryptosign", "scram"):
        assert extra_needed(method) is None
    monkeypatch.setitem(sys.modules, "argon2.low_level", None)
    monkeypatch.setitem(sys.modules, "cryptography.hazmat.primitives.asymmetric.ed25519", None)
    assert extra_needed("scram") == extra_needed("cryptosign") == "wampcore[crypto]"
    assert extra_needed("ticket") is None and extra_needed("wampcra") is None
    with pytest.raises(MissingExtra):
        CryptosignClient("11" * 32)
    client = ScramClient("joe", "pw", random.Random(1))
    verifier = ScramVerifier(
        {"kdf": "argon2id13", "iterations": 2, "memory": 8, "salt": "00" * 16}
        | {"stored_key": "00" * 32, "server_key": "00" * 32},
        client.authextra(),
        **kw(),
    )
    with pytest.raises(MissingExtra):
        client.respond(Challenge(method="scram", extra=verifier.challenge_extra()))


def test_core_imports_without_the_crypto_extra() -> None:
    """DESIGN §1: wampcore.auth imports (and ticket/wampcra/pbkdf2-SCRAM work) without
    cryptography and argon2 installed."""
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('cryptography', 'argon2'):\n"
        "            raise ImportError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import random, wampcore.auth as a\n"
        "from wampcore.messages import Challenge\n"
        "assert a.extra_needed('cryptosign') == 'wampcore[crypto]'\n"
        "cred = a.derive_scram_credential('pw', b's' * 16, kdf='pbkdf2', iterations=10)\n"
        "k = dict(authid='u', session_id=1, rng=random.Random(1), now_iso='t', authrole='r',"
        " authprovider='p')\n"
        "c = a.ScramClient('u', 'pw', random.Random(2))\n"
        "v = a.ScramVerifier(cred, c.authextra(), **k)\n"
        "c.check_welcome(v.verify(c.respond(Challenge(method='scram',"
        " extra=v.challenge_extra()))))\n"
        "print('ok', 'cryptography' in sys.modules, 'argon2' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert out.stdout.split() == ["ok", "False", "False"]


# -- ticket --------------------------------------------------------------------------------------


def test_ticket_round_trip_spec_4_28() -> None:
    """§4.28 ticket: CHALLENGE [4,"ticket",{}] -> AUTHENTICATE [5,ticket,{}]."""
    client = TicketClient("s3cr3t")
    assert client.method == "ticket" and client.authextra() == {}
    verifier = TicketVerifier("s3cr3t", **kw())
    assert verifier.challenge_extra() == {}
    answer = client.respond(Challenge(method="ticket", extra=verifier.challenge_extra()))
    assert answer.to_wire() == [5, "s3cr3t", {}]
    assert verifier.verify(answer) == {}
    client.check_welcome({})


def test_ticket_failures() -> None:
    with pytest.raises(AuthFailed):
        TicketVerifier("s3cr3t", **kw()).verify(auth("wrong"))
    with pytest.raises(AuthFailed):
        TicketVerifier("s3cr3t", **kw()).verify(auth("s3cr3t\udcff"))
    verifier = TicketVerifier("s3cr3t", **kw())
    verifier.verify(auth("s3cr3t"))
    with pytest.raises(AuthFailed, match="already"):
        verifier.verify(auth("s3cr3t"))  # single use
    with pytest.raises(AuthFailed):
        TicketClient("x").respond(Challenge(method="wampcra", extra={}))
    with pytest.raises(CredentialError):
        TicketVerifier(123, **kw())  # type: ignore[arg-type]
    with pytest.raises(CredentialError):
        TicketClient(None)  # type: ignore[arg-type]


def test_ticket_autobahn_client_against_our_verifier() -> None:
    ab = ab_auth.AuthTicket(ticket="s3cr3t")
    verifier = TicketVerifier("s3cr3t", **kw())
    sig = ab.on_challenge(Mock(), ab_types.Challenge("ticket", verifier.challenge_extra()))
    assert verifier.verify(auth(sig)) == {}


# -- WAMP-CRA ------------------------------------------------------------------------------------


def test_wampcra_challenge_shape_spec_4_28() -> None:
    """§4.28 WAMP-CRA: Extra.challenge is a JSON string with authid, authrole, authmethod,
    authprovider, nonce, timestamp, session."""
    extra = WampCraVerifier("secret", **kw()).challenge_extra()
    assert set(extra) == {"challenge"}
    body = json.loads(extra["challenge"])
    assert body["authid"] == "joe" and body["authrole"] == "user"
    assert body["authmethod"] == "wampcra" and body["authprovider"] == "static"
    assert body["session"] == 4242 and body["timestamp"] == NOW
    assert len(body["nonce"]) == 64 and base64.b64decode(body["nonce"])
    salted = WampCraVerifier("secret", salt="salt123", iterations=100, keylen=16, **kw())
    extra = salted.challenge_extra()
    assert (extra["salt"], extra["iterations"], extra["keylen"]) == ("salt123", 100, 16)
    # A fresh verifier draws a fresh nonce.
    again = WampCraVerifier("secret", **kw(rng=random.Random(8))).challenge_extra()
    assert json.loads(again["challenge"])["nonce"] != body["nonce"]


@pytest.mark.parametrize("salted", [False, True])
def test_wampcra_round_trip_and_failures(salted: bool) -> None:
    """§4.28 WAMP-CRA: base64(HMAC-SHA256(key, challenge)); wrong secret, replay, second use."""
    opts: dict[str, Any] = {"salt": "pepper", "iterations": 50, "keylen": 32} if salted else {}
    verifier = WampCraVerifier("secret", **opts, **kw())
    client = WampCraClient("secret")
    assert client.method == "wampcra" and client.authextra() == {}
    answer = client.respond(Challenge(method="wampcra", extra=verifier.challenge_extra()))
    assert verifier.verify(answer) == {}
    with pytest.raises(AuthFailed):
        verifier.verify(answer)  # single use
    fresh = WampCraVerifier("secret", **opts, **kw(rng=random.Random(99)))
    with pytest.raises(AuthFailed):
        fresh.verify(answer)  # replayed to a new attempt (new nonce)
    wrong = WampCraVerifier("secret", **opts, **kw())
    bad = WampCraClient(b"other").respond(
        Challenge(method="wampcra", extra=wrong.challenge_extra())
    )
    with pytest.raises(AuthFailed):
        wrong.verify(bad)
    for junk in ("", "not base64 at all", "\u00e9\u00e9", "\udcff"):
        with pytest.raises(AuthFailed):
            WampCraVerifier("secret", **opts, **kw()).verify(auth(junk))


def test_wampcra_salted_with_derived_key_only() -> None:
    """The router may store only derive_cra_key(...) instead of the secret."""
    key = derive_cra_key("secret", "pepper", 50, 32)
    verifier = WampCraVerifier(derived_key=key, salt="pepper", iterations=50, keylen=32, **kw())
    answer = WampCraClient("secret").respond(
        Challenge(method="wampcra", extra=verifier.challenge_extra())
    )
    assert verifier.verify(answer) == {}


def test_wampcra_constructor_errors() -> None:
    for bad in (
        {},
        {"secret": "s", "derived_key": "k"},
        {"derived_key": "k"},
        {"salt": "x"},
        {"secret": "s", "salt": 5},
        {"secret": "s", "salt": "x", "iterations": 0},
        {"secret": "s", "salt": "x", "keylen": True},
        {"derived_key": "", "salt": "x"},
        {"secret": 5},
    ):
        with pytest.raises(CredentialError):
            WampCraVerifier(**bad, **kw())
    with pytest.raises(CredentialError):
        derive_cra_key("s", "x", iterations=-1)
    with pytest.raises(CredentialError):
        WampCraClient(3.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"challenge": 5},
        {"challenge": None},
        {"challenge": "c", "salt": 5, "iterations": 10, "keylen": 32},
        {"challenge": "c", "salt": "s", "iterations": True, "keylen": 32},
        {"challenge": "c", "salt": "s", "iterations": "10", "keylen": 32},
        {"challenge": "c", "salt": "s", "iterations": 0, "keylen": 32},
        {"challenge": "c", "salt": "s", "iterations": 10**9, "keylen": 32},
        {"challenge": "c", "salt": "s", "iterations": 10},
        {"challenge": "c", "salt": "s", "iterations": 10, "keylen": 10**6},
    ],
)
def test_wampcra_client_rejects_junk_challenges(extra: dict[str, Any]) -> None:
    with pytest.raises(AuthFailed):
        WampCraClient("secret").respond(Challenge(method="wampcra", extra=extra))


def test_wampcra_autobahn_vectors() -> None:
    """Autobahn's test_wamp_auth.py constants: derive_key and compute_wcs."""
    assert (
        derive_cra_key("L3L1YUE8Txlw", "salt123") == "qzcdsr9uu/L5hnss3kjNTRe490ETgA70ZBaB5rvnJ5Y="
    )
    answer = WampCraClient("L3L1YUE8Txlw").respond(
        Challenge(method="wampcra", extra={"challenge": json.dumps([1, 2, 3])})
    )
    assert answer.signature == "1njQtmmeYO41N5EWEzD2kAjjEKRZ5kPZt/TzpYXOzR0="


@pytest.mark.parametrize(
    ("secret", "salt", "iterations", "keylen"),
    [("secret", "salt123", 1000, 32), (b"\xc3\xa9t\xc3\xa9", "s\u00e9l", 7, 16), ("x", "", 1, 1)],
)
def test_derive_cra_key_equals_autobahn(
    secret: str | bytes, salt: str, iterations: int, keylen: int
) -> None:
    ours = derive_cra_key(secret, salt, iterations, keylen)
    assert ours == ab_auth.derive_key(secret, salt, iterations, keylen).decode("ascii")


@pytest.mark.parametrize("salted", [False, True])
def test_wampcra_autobahn_client_against_our_verifier(salted: bool) -> None:
    opts: dict[str, Any] = {"salt": "salt123", "iterations": 100, "keylen": 16} if salted else {}
    verifier = WampCraVerifier("L3L1YUE8Txlw", **opts, **kw())
    ab = ab_auth.AuthWampCra(authid="joe", secret="L3L1YUE8Txlw")
    sig = ab.on_challenge(Mock(), ab_types.Challenge("wampcra", verifier.challenge_extra()))
    assert verifier.verify(auth(sig)) == {}


@pytest.mark.parametrize("salted", [False, True])
def test_wampcra_our_client_against_crossbar_style_challenge(salted: bool) -> None:
    """Crossbar: json.dumps of the challenge object, nonce = 64 random chars, signature via
    Autobahn's derive_key + compute_wcs, compared as strings."""
    body = {
        "authid": "joe",
        "authrole": "user",
        "authmethod": "wampcra",
        "authprovider": "static",
        "session": 99,
        "nonce": base64.b64encode(os.urandom(48)).decode()[:64],
        "timestamp": NOW,
    }
    extra: dict[str, Any] = {"challenge": json.dumps(body, ensure_ascii=False)}
    key = b"pass\xc3\xa9"
    if salted:
        extra.update(salt="salt123", iterations=100, keylen=32)
        key = ab_auth.derive_key(key, "salt123", 100, 32)
    expected = ab_auth.compute_wcs(key, extra["challenge"].encode()).decode("ascii")
    answer = WampCraClient("pass\u00e9").respond(Challenge(method="wampcra", extra=extra))
    assert answer.signature == expected


# -- WAMP-SCRAM ----------------------------------------------------------------------------------


def scram_pair(
    password: str = "p4ssw0rd", kdf: str = "argon2id13", seed: int = 3, **over: Any
) -> tuple[ScramClient, ScramVerifier]:
    cred = derive_scram_credential(
        password, b"0123456789abcdef", kdf=kdf, iterations=over.pop("iterations", 4), memory=64
    )
    client = ScramClient("joe", "p4ssw0rd", random.Random(seed))
    return client, ScramVerifier(cred, client.authextra(), **kw(rng=random.Random(seed + 1)))


@pytest.mark.parametrize("kdf", ["argon2id13", "argon2id-13", "pbkdf2"])
def test_scram_round_trip_spec_4_28(kdf: str) -> None:
    """§4.28 WAMP-SCRAM: HELLO nonce, CHALLENGE {nonce, salt, kdf, iterations, memory},
    AUTHENTICATE base64(ClientProof), WELCOME scram_server_signature, checked by the client."""
    client, verifier = scram_pair(kdf=kdf)
    assert client.method == "scram"
    hello = client.authextra()
    assert set(hello) == {"nonce", "channel_binding"} and hello["channel_binding"] is None
    assert len(base64.b64decode(hello["nonce"], validate=True)) == 16
    extra = verifier.challenge_extra()
    assert set(extra) == {"nonce", "salt", "kdf", "iterations", "memory"}
    assert extra["kdf"] == ("pbkdf2" if kdf == "pbkdf2" else "argon2id-13")
    assert base64.b64decode(extra["salt"]) == b"0123456789abcdef"
    assert base64.b64decode(extra["nonce"]).startswith(base64.b64decode(hello["nonce"]))
    answer = client.respond(Challenge(method="scram", extra=extra))
    assert answer.extra["nonce"] == extra["nonce"]
    welcome = verifier.verify(answer)
    assert welcome["scram_server_signature"] == welcome["verifier"]
    client.check_welcome(welcome)
    client.check_welcome({"verifier": welcome["verifier"]})  # the spec's key


def test_scram_failures() -> None:
    client, verifier = scram_pair(password="other")
    with pytest.raises(AuthFailed):  # wrong password
        verifier.verify(client.respond(Challenge(method="scram", extra=verifier.challenge_extra())))
    client, verifier = scram_pair()
    answer = client.respond(Challenge(method="scram", extra=verifier.challenge_extra()))
    fresh = ScramVerifier(  # same client nonce, new server nonce
        derive_scram_credential("p4ssw0rd", b"0123456789abcdef", iterations=4, memory=64),
        client.authextra(),
        **kw(rng=random.Random(1234)),
    )
    with pytest.raises(AuthFailed):  # replayed to a new attempt
        fresh.verify(auth(answer.signature))
    proof = bytearray(base64.b64decode(answer.signature))
    proof[0] ^= 1
    for bad in (
        auth(base64.b64encode(bytes(proof)).decode()),
        auth("%%%"),
        auth(base64.b64encode(b"short").decode()),
        auth(answer.signature, nonce="someone else's"),
        auth(answer.signature, nonce=5),
        auth(answer.signature, channel_binding="tls-unique"),
    ):
        _, v = scram_pair()
        with pytest.raises(AuthFailed):
            v.verify(bad)
    assert verifier.verify(answer)
    with pytest.raises(AuthFailed, match="already"):
        verifier.verify(answer)  # single use


def test_scram_client_checks_the_server_signature() -> None:
    client, verifier = scram_pair()
    with pytest.raises(AuthFailed):
        client.check_welcome({"scram_server_signature": "AAAA"})  # before any CHALLENGE
    welcome = verifier.verify(
        client.respond(Challenge(method="scram", extra=verifier.challenge_extra()))
    )
    forged = base64.b64encode(bytes(32)).decode()
    for bad in ({}, {"scram_server_signature": forged}, {"scram_server_signature": 5}):
        with pytest.raises(AuthFailed):
            client.check_welcome(bad)
    with pytest.raises(AuthFailed):
        client.check_welcome({"scram_server_signature": "%%%%"})
    client.check_welcome(welcome)


def _good_scram_extra(client: ScramClient) -> dict[str, Any]:
    nonce = base64.b64encode(base64.b64decode(client.nonce) + b"\x01" * 16).decode()
    return {"nonce": nonce, "salt": "MDEyMzQ1Njc4OWFiY2RlZg==", "kdf": "argon2id-13"} | {
        "iterations": 2,
        "memory": 8,
    }


@pytest.mark.parametrize(
    "change",
    [
        {"nonce": None},
        {"nonce": 7},
        {"nonce": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="},  # does not extend ours
        {"salt": None},
        {"salt": "!!notbase64"},
        {"salt": ""},
        {"salt": "YWJj"},  # 3 bytes: too short for argon2
        {"kdf": "scrypt"},
        {"kdf": None},
        {"iterations": True},
        {"iterations": "2"},
        {"iterations": 0},
        {"iterations": 10**9},
        {"memory": None},
        {"memory": 2},
        {"memory": 10**12},
        {"channel_binding": "tls-unique"},
    ],
)
def test_scram_client_rejects_junk_challenges(change: dict[str, Any]) -> None:
    client = ScramClient("joe", "pw", random.Random(5))
    extra = _good_scram_extra(client)
    client.respond(Challenge(method="scram", extra=dict(extra)))  # the baseline is fine
    extra.update(change)
    extra = {k: v for k, v in extra.items() if v is not None}
    with pytest.raises(AuthFailed):
        ScramClient("joe", "pw", random.Random(5)).respond(Challenge(method="scram", extra=extra))


def test_scram_client_accepts_the_spec_style_textual_nonce() -> None:
    """The spec's example concatenates two base64 strings ("egVDf3DMJh0=SBmkFIh7sSo=")."""
    client = ScramClient("joe", "pw", random.Random(5))
    extra = _good_scram_extra(client) | {"nonce": client.nonce + "SBmkFIh7sSo="}
    client.respond(Challenge(method="wamp-scram", extra=extra))
    with pytest.raises(AuthFailed):
        client.respond(Challenge(method="ticket", extra=extra))


@pytest.mark.parametrize(
    ("authextra", "authid"),
    [
        (None, "joe"),
        ({}, "joe"),
        ({"nonce": 5}, "joe"),
        ({"nonce": ""}, "joe"),
        ({"nonce": "not base64!"}, "joe"),
        ({"nonce": "AAE"}, "joe"),  # unpadded, not canonical
        ({"nonce": "A" * 400}, "joe"),
        ({"nonce": "AAECAw==", "channel_binding": "tls-unique"}, "joe"),
        ({"nonce": "AAECAw=="}, None),
        ({"nonce": "AAECAw=="}, "bad\u0007id"),
    ],
)
def test_scram_verifier_rejects_bad_hello(authextra: Any, authid: str | None) -> None:
    cred = derive_scram_credential("pw", b"0123456789abcdef", kdf="pbkdf2", iterations=2)
    with pytest.raises(AuthFailed):
        ScramVerifier(cred, authextra, **kw(authid=authid))


def test_scram_credential_records() -> None:
    """Autobahn/Crossbar records ("stored-key", "server-key", kdf "argon2id-13") and ours
    (underscores) both parse; malformed ones raise CredentialError."""
    ours = derive_scram_credential("pw", b"0123456789abcdef", iterations=2, memory=8)
    assert set(ours) == {"kdf", "memory", "iterations", "salt", "stored_key", "server_key"}
    assert ours["kdf"] == "argon2id-13" and ours["salt"] == b"0123456789abcdef".hex()
    hyphens = {k.replace("_", "-"): v for k, v in ours.items()} | {"kdf": "argon2id13"}
    assert parse_scram_credential(hyphens) == parse_scram_credential(ours)
    for change in (
        {"kdf": "md5"},
        {"iterations": 0},
        {"iterations": "4"},
        {"memory": None},
        {"memory": 1},
        {"salt": "zz"},
        {"salt": ""},
        {"stored_key": "00"},
        {"server_key": 5},
        {"stored_key": None},
    ):
        record = {k: v for k, v in (ours | change).items() if v is not None}
        with pytest.raises(CredentialError):
            parse_scram_credential(record)
    with pytest.raises(CredentialError):
        parse_scram_credential([])  # type: ignore[arg-type]
    for bad_args in (
        {"kdf": "bcrypt"},
        {"iterations": 0},
        {"memory": 4},
        {"salt": b"short"},
        {"salt": "text"},
    ):
        with pytest.raises(CredentialError):
            derive_scram_credential("pw", **({"salt": b"0123456789abcdef"} | bad_args))
    drawn = derive_scram_credential("pw", kdf="pbkdf2", iterations=2, rng=random.Random(1))
    assert drawn["salt"] == random.Random(1).randbytes(16).hex()
    assert len(derive_scram_credential("pw", kdf="pbkdf2", iterations=2)["salt"]) == 32


@pytest.mark.parametrize("vector", [0, 1])
def test_scram_credential_autobahn_vectors(vector: int) -> None:
    """Autobahn's test_wamp_scram.py constants (argon2id-13, t=4096, m=512): same keys. The
    first vector's salt is Autobahn's default, SHA256(email)[:16]."""
    salt = [
        hashlib.sha256(b"foobar@example.com").digest()[:16],
        bytes.fromhex("ae1f0d2f422757809077785e660b62c6"),
    ]
    expected = [
        {
            "salt": "3bc3ca01dd1d501ca1c22e1c5d7d16fe",
            "server_key": "8de7864c316f3c2356fd76cfdab696db55bc70e680fe5180e2f731e2345acca2",
            "stored_key": "e796c2f0a51770303ee4616bc630a66774d51a55003154aff2a54ec7c4ac0e38",
        },
        {
            "salt": "ae1f0d2f422757809077785e660b62c6",
            "server_key": "0d8e7e9222a7c0e54c9e979aa342115699ff5696c45dc379b5ee241338a5861d",
            "stored_key": "5f19358ff6f38e267b6ef1ea1d862514ec4e8745a84682259fd3894be09febb5",
        },
    ][vector]
    got = derive_scram_credential("secret123", salt[vector])
    assert got == expected | {"kdf": "argon2id-13", "iterations": 4096, "memory": 512}


def test_scram_kdf_autobahn_static_vectors() -> None:
    """Autobahn's test_wamp_auth.py KDF constants: Argon2id (the reference `argon2` tool's
    output; SaltedPassword is its unpadded base64 text) and PBKDF2-SHA256 (raw bytes)."""
    salted = scram_mod._salted_password(scram_mod.ARGON2, b"p4ssw0rd", b"1234567890abcdef", 32, 512)
    assert base64.b64decode(salted + b"=") == bytes.fromhex(
        "ee4a8acf9d5958354fb79a95ae20692d05e42591ba49fae85eb6700e8b0ed293"
    )
    assert salted == base64.b64encode(base64.b64decode(salted + b"=")).rstrip(b"=")
    raw = scram_mod._salted_password(scram_mod.PBKDF2, b"p4ssw0rd", b"1234567890abcdef", 8, 0)
    assert raw == bytes.fromhex("f6991a28c75f43751e0d75499fd7b8649f659118ddc1d61cee5883af547d15f5")


def test_scram_autobahn_client_proof_vector() -> None:
    """Autobahn's TestScram.test_basic constants through our AuthMessage and proof: client nonce
    "3132...66", CHALLENGE nonce "1234567890abcdeffedcba0987654321", salt text (hex used as
    base64) "3132...66", argon2id-13 t=32 m=512, authid "username", password "p4ssw0rd"."""
    salt_text = b"1234567890abcdef".hex()
    salted = scram_mod._salted_password(
        scram_mod.ARGON2, b"p4ssw0rd", base64.b64decode(salt_text), 32, 512
    )
    client_key, stored_key, _ = scram_mod._keys(salted)
    message = scram_mod._auth_message(
        "username", salt_text, "1234567890abcdeffedcba0987654321", salt_text, 32
    )
    proof = scram_mod._xor(client_key, scram_mod._hmac(stored_key, message))
    assert base64.b64encode(proof) == b"f5r3loERzGVSuimE+lvO0bWna2zyswBo0HrZkaaEy38="


def test_scram_rfc7677_vector_for_the_pbkdf2_core() -> None:
    """RFC 7677 §3 (SCRAM-SHA-256, user "user", password "pencil"): our PBKDF2 SaltedPassword
    and key schedule give the RFC's ClientProof and ServerSignature (its AuthMessage has the RFC
    form with c=biws; the WAMP form differs only there)."""
    cnonce = "rOprNGfwEbeRWgbNEkqO"
    nonce = cnonce + "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
    salt = "W22ZaJ0SNY7soEsUEjb6gQ=="
    salted = scram_mod._salted_password(
        scram_mod.PBKDF2, b"pencil", base64.b64decode(salt), 4096, 0
    )
    client_key, stored_key, server_key = scram_mod._keys(salted)
    message = f"n=user,r={cnonce},r={nonce},s={salt},i=4096,c=biws,r={nonce}".encode()
    proof = scram_mod._xor(client_key, scram_mod._hmac(stored_key, message))
    assert base64.b64encode(proof) == b"dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
    signature = scram_mod._hmac(server_key, message)
    assert base64.b64encode(signature) == b"6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="


def test_saslprep_rfc4013_examples() -> None:
    """RFC 4013 §3 examples (what Autobahn applies to the SCRAM authid)."""
    assert saslprep("I\u00adX") == "IX"
    assert saslprep("user") == "user"
    assert saslprep("USER") == "USER"
    assert saslprep("\u00aa") == "a"
    assert saslprep("\u2168") == "IX"
    assert saslprep("a\u00a0b") == "a b"
    for bad in ("\u0007", "\u0627\u0031", "a\ufffe"):
        with pytest.raises(AuthFailed):
            saslprep(bad)
    with pytest.raises(CredentialError):
        ScramClient("\u0007", "pw", random.Random(1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        passlib_utils = pytest.importorskip("passlib.utils")
    for text in ("I\u00adX", "\u2168", "Stra\u00dfe", "joe@example.com", "\u0627\u0628"):
        assert saslprep(text) == passlib_utils.saslprep(text)


@needs_ab_scram
def test_scram_autobahn_client_against_our_verifier() -> None:
    """Autobahn's AuthScram answers our CHALLENGE and accepts our WELCOME signature."""
    cred = derive_scram_credential("p4ssw0rd", b"0123456789abcdef", iterations=8, memory=64)
    ab = ab_auth.AuthScram(authid="joe", password="p4ssw0rd")
    verifier = ScramVerifier(cred, ab.authextra, **kw())
    proof = ab.on_challenge(Mock(), ab_types.Challenge("scram", verifier.challenge_extra()))
    welcome = verifier.verify(auth(proof.decode("ascii")))
    assert ab.on_welcome(Mock(), welcome) is None  # None means "verified"
    ab = ab_auth.AuthScram(authid="joe", password="wrong")
    verifier = ScramVerifier(cred, ab.authextra, **kw())
    proof = ab.on_challenge(Mock(), ab_types.Challenge("scram", verifier.challenge_extra()))
    with pytest.raises(AuthFailed):
        verifier.verify(auth(proof.decode("ascii")))


@needs_ab_scram
def test_scram_credential_equals_autobahn_derivation() -> None:
    """Autobahn's derive_scram_credential (fixed t=4096, m=512) and ours agree key for key."""
    salt = bytes(range(16))
    theirs = ab_auth.derive_scram_credential("a@b.c", "p\u00e4ss", salt)
    ours = derive_scram_credential("p\u00e4ss", salt, kdf="argon2id-13")
    assert ours == {k.replace("-", "_"): v for k, v in theirs.items()}


@needs_ab_scram
def test_scram_autobahn_pbkdf2_client_path() -> None:
    """Finding: Autobahn's AuthScram cannot do kdf "pbkdf2" (it passes the base64 *string* salt
    to its bytes-only pbkdf2, ValueError). Should that be fixed, the decoded-salt RFC 5802 form
    we chose must be what it computes."""
    cred = derive_scram_credential("p4ssw0rd", b"0123456789abcdef", kdf="pbkdf2", iterations=64)
    ab = ab_auth.AuthScram(authid="joe", password="p4ssw0rd")
    verifier = ScramVerifier(cred, ab.authextra, **kw())
    try:
        proof = ab.on_challenge(Mock(), ab_types.Challenge("scram", verifier.challenge_extra()))
    except ValueError as exc:
        assert "Invalid argument types" in str(exc)
        return
    verifier.verify(auth(proof.decode("ascii")))


def _crossbar_scram_challenge(record: dict[str, Any], hello: dict[str, Any]) -> dict[str, Any]:
    """How Crossbar's PendingAuthScram builds CHALLENGE.Extra: nonce = base64(decoded client
    nonce + 16 random bytes), salt = base64 of the hex-stored salt, kdf/iterations/memory copied
    from the principal record, no channel_binding key."""
    server_nonce = base64.b64decode(hello["nonce"]) + os.urandom(16)
    return {
        "nonce": base64.b64encode(server_nonce).decode(),
        "kdf": record["kdf"],
        "salt": base64.b64encode(bytes.fromhex(record["salt"])).decode(),
        "iterations": record["iterations"],
        "memory": record["memory"],
    }


def _crossbar_scram_check(
    record: dict[str, Any], authid: str, hello: dict[str, Any], extra: dict[str, Any], proof: str
) -> tuple[bool, str]:
    """Crossbar's authenticate(): AuthMessage with c= empty, recover the ClientKey from the
    proof, compare SHA256 of it with the stored key; WELCOME carries scram_server_signature."""
    stored = bytes.fromhex(record["stored-key"])
    server = bytes.fromhex(record["server-key"])
    cnonce = base64.b64encode(base64.b64decode(hello["nonce"])).decode()
    message = (
        f"n={authid},r={cnonce},r={extra['nonce']},s={extra['salt']},i={extra['iterations']},"
        f"c=,r={extra['nonce']}"
    ).encode("ascii")
    client_key = bytes(
        a ^ b
        for a, b in zip(
            hmac.new(stored, message, "sha256").digest(), base64.b64decode(proof), strict=True
        )
    )
    ok = hmac.compare_digest(hashlib.sha256(client_key).digest(), stored)
    return ok, base64.b64encode(hmac.new(server, message, "sha256").digest()).decode()


@needs_ab_scram
def test_scram_our_client_against_crossbar_style_router() -> None:
    """A principal record as Autobahn derives it for Crossbar's config ("stored-key",
    "argon2id-13"), a CHALLENGE as Crossbar builds it, Crossbar's check of our proof, and our
    check of Crossbar's server signature."""
    record = ab_auth.derive_scram_credential("joe@example.com", "p4ssw0rd", bytes(range(16)))
    client = ScramClient("joe", "p4ssw0rd", random.Random(11))
    hello = client.authextra()
    extra = _crossbar_scram_challenge(record, hello)
    answer = client.respond(Challenge(method="scram", extra=extra))
    ok, server_signature = _crossbar_scram_check(record, "joe", hello, extra, answer.signature)
    assert ok
    client.check_welcome({"scram_server_signature": server_signature})
    wrong = ScramClient("joe", "nope", random.Random(12))
    extra = _crossbar_scram_challenge(record, wrong.authextra())
    answer = wrong.respond(Challenge(method="scram", extra=extra))
    assert not _crossbar_scram_check(record, "joe", wrong.authextra(), extra, answer.signature)[0]


# -- WAMP-Cryptosign -----------------------------------------------------------------------------

#: The spec's test vectors (rfc/text/advanced/authentication_cryptosign.md; the same constants
#: are in Autobahn's test_wamp_cryptosign.py): 3 without and 3 with a tls-unique channel id.
CID = "62e935ae755f3d48f80d4d59f6121358c435722a67e859cc0caa8b539027f2ff"
CRYPTOSIGN_VECTORS = [
    (
        None,
        "4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510",
        "ff" * 32,
        "b32675b221f08593213737bef8240e7c15228b07028e19595294678c90d11c0cae80a357331bfc5cc9fb71081464e6e75013517c2cf067ad566a6b7b728e5d03"
        + "ff" * 32,
    ),
    (
        None,
        "d511fe78e23934b3dadb52fcd022974b80bd92bccc7c5cf404e46cc0a8a2f5cd",
        "b26c1f87c13fc1da14997f1b5a71995dff8fbe0a62fae8473c7bdbd05bfb607d",
        "d4209ad10d5aff6bfbc009d7e924795de138a63515efc7afc6b01b7fe5201372190374886a70207b042294af5bd64ce725cd8dceb344e6d11c09d1aaaf4d660f"
        "b26c1f87c13fc1da14997f1b5a71995dff8fbe0a62fae8473c7bdbd05bfb607d",
    ),
    (
        None,
        "6e1fde9cf9e2359a87420b65a87dc0c66136e66945196ba2475990d8a0c3a25b",
        "b05e6b8ad4d69abf74aa3be3c0ee40ae07d66e1895b9ab09285a2f1192d562d2",
        "7beb282184baadd08f166f16dd683b39cab53816ed81e6955def951cb2ddad1ec184e206746fd82bda075af03711d3d5658fc84a76196b0fa8d1ebc92ef9f30b"
        "b05e6b8ad4d69abf74aa3be3c0ee40ae07d66e1895b9ab09285a2f1192d562d2",
    ),
    (
        CID,
        "4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510",
        "ff" * 32,
        "9b6f41540c9b95b4b7b281c3042fa9c54cef43c842d62ea3fd6030fcb66e70b3e80d49d44c29d1635da9348d02ec93f3ed1ef227dfb59a07b580095c2b82f80f"
        "9d16ca518aa0c2b707f2b2a609edeca73bca8dd59817a633f35574ac6fd80d00",
    ),
    (
        CID,
        "d511fe78e23934b3dadb52fcd022974b80bd92bccc7c5cf404e46cc0a8a2f5cd",
        "b26c1f87c13fc1da14997f1b5a71995dff8fbe0a62fae8473c7bdbd05bfb607d",
        "305aaa3ac25e98f651427688b3fc43fe7d8a68a7ec1d7d61c61517c519bd4a427c3015599d83ca28b4c652333920223844ef0725eb5dc2febfd6af7677b73f01"
        "d0852a29b460fc92ec943242ac638a053bbacc200512b18b30d15083cbdc9282",
    ),
    (
        CID,
        "6e1fde9cf9e2359a87420b65a87dc0c66136e66945196ba2475990d8a0c3a25b",
        "b05e6b8ad4d69abf74aa3be3c0ee40ae07d66e1895b9ab09285a2f1192d562d2",
        "ee3c7644fd8070532bc1fde3d70d742267da545d8c8f03e63bda63f1ad4214f4d2c4bfdb4eb9526def42deeb7e31602a6ff99eba893e0a4ad4d45892ca75e608"
        "d2b75e24a189a7f78ca776ba36fc53f6c3e31c32f251f2c524f0a44202f2902d",
    ),
]


@pytest.mark.parametrize(("channel_id", "private", "challenge", "signature"), CRYPTOSIGN_VECTORS)
def test_cryptosign_spec_vectors(
    channel_id: str | None, private: str, challenge: str, signature: str
) -> None:
    """§4.28 cryptosign: signature = hex(Ed25519(challenge XOR channel id) || that message);
    our client produces the spec's bytes, and our verifier (pinned to that challenge) accepts."""
    binding = "tls-unique" if channel_id else None
    cid = bytes.fromhex(channel_id) if channel_id else None
    client = CryptosignClient(private, channel_binding=binding)
    challenge_extra = {"challenge": challenge, "channel_binding": binding}
    answer = client.respond(Challenge(method="cryptosign", extra=challenge_extra), cid)
    assert answer.signature == signature and len(answer.signature) == 192
    verifier = CryptosignVerifier(
        [public_key_of(private)],
        client.authextra(),
        **kw(rng=FixedRng(bytes.fromhex(challenge)), channel_id=cid),
    )
    assert verifier.challenge_extra() == challenge_extra
    assert verifier.verify(answer) == {}


@pytest.mark.parametrize("binding", [None, "tls-unique", "tls-exporter"])
def test_cryptosign_round_trip(binding: str | None) -> None:
    private, public = generate_cryptosign_keypair(random.Random(21))
    client = CryptosignClient(bytes.fromhex(private), channel_binding=binding)
    assert client.method == "cryptosign" and client.public_key == public
    expected_hello: dict[str, Any] = {"pubkey": public}
    if binding:
        expected_hello["channel_binding"] = binding
    assert client.authextra() == expected_hello
    cid = os.urandom(32) if binding else None
    verifier = CryptosignVerifier(
        ["ab" * 32, public.upper()], client.authextra(), **kw(channel_id=cid)
    )
    extra = verifier.challenge_extra()
    assert set(extra) == {"challenge", "channel_binding"} and len(extra["challenge"]) == 64
    assert extra["channel_binding"] == binding and verifier.pubkey == public
    answer = client.respond(Challenge(method="cryptosign", extra=extra), cid)
    assert verifier.verify(answer) == {}
    client.check_welcome({})
    with pytest.raises(AuthFailed, match="already"):
        verifier.verify(answer)  # single use


def test_cryptosign_failures() -> None:
    private, public = generate_cryptosign_keypair(random.Random(1))
    other_private, other_public = generate_cryptosign_keypair(random.Random(2))
    hello = {"pubkey": public}
    client = CryptosignClient(private)

    def fresh(seed: int = 5, **over: Any) -> CryptosignVerifier:
        return CryptosignVerifier([public], hello, **kw(rng=random.Random(seed), **over))

    first = fresh()
    answer = client.respond(Challenge(method="cryptosign", extra=first.challenge_extra()))
    with pytest.raises(AuthFailed, match="challenge"):
        fresh(seed=6).verify(answer)  # signature for another challenge / replay to a new attempt
    # The right message signed by the wrong key (the HELLO claimed `public`).
    impostor = CryptosignClient(other_private)
    v = fresh()
    with pytest.raises(AuthFailed, match="verify"):
        v.verify(impostor.respond(Challenge(method="cryptosign", extra=v.challenge_extra())))
    sig = bytearray(bytes.fromhex(answer.signature))
    sig[3] ^= 0x40
    for bad in (
        bytes(sig).hex(),
        answer.signature[:-2],
        answer.signature + "00",
        "zz" * 96,
        "",
        "\u00e9" * 192,
    ):
        with pytest.raises(AuthFailed):
            fresh().verify(auth(bad))
    with pytest.raises(AuthFailed, match="not one of"):
        CryptosignVerifier([public], {"pubkey": other_public}, **kw())
    for bad_hello in (
        None,
        {},
        {"pubkey": 5},
        {"pubkey": "zz" * 32},
        {"pubkey": public[:-2]},
        {"pubkey": public + "00"},
    ):
        with pytest.raises(AuthFailed):
            CryptosignVerifier([public], bad_hello, **kw())
    for binding in ("tls-server-end-point", 7, ""):
        with pytest.raises(AuthFailed):
            CryptosignVerifier([public], hello | {"channel_binding": binding}, **kw())
    with pytest.raises(AuthFailed, match="without"):
        CryptosignVerifier([public], hello | {"channel_binding": "tls-unique"}, **kw())
    with pytest.raises(CredentialError):
        CryptosignVerifier(
            [public], hello | {"channel_binding": "tls-unique"}, **kw(channel_id=b"x")
        )
    with pytest.raises(CredentialError):
        CryptosignVerifier([public], hello, **kw(channel_id="not bytes"))
    for keys in ([public[:10]], ["zz" * 32], public, [5]):
        with pytest.raises(CredentialError):
            CryptosignVerifier(keys, hello, **kw())  # type: ignore[arg-type]
    # A channel-bound answer fails against an unbound verifier and vice versa.
    cid = os.urandom(32)
    bound = CryptosignVerifier(
        [public], hello | {"channel_binding": "tls-unique"}, **kw(channel_id=cid)
    )
    unbound_answer = client.respond(
        Challenge(method="cryptosign", extra=bound.challenge_extra() | {"channel_binding": None})
    )
    with pytest.raises(AuthFailed):
        bound.verify(unbound_answer)


@pytest.mark.parametrize(
    ("binding", "extra", "channel_id"),
    [
        (None, {}, None),
        (None, {"challenge": 5}, None),
        (None, {"challenge": "ab" * 31}, None),
        (None, {"challenge": "zz" * 32}, None),
        (None, {"challenge": "ab" * 32, "channel_binding": "tls-unique"}, None),
        ("tls-unique", {"challenge": "ab" * 32}, bytes(32)),  # router dropped the binding
        ("tls-unique", {"challenge": "ab" * 32, "channel_binding": "tls-unique"}, None),
        ("tls-unique", {"challenge": "ab" * 32, "channel_binding": "tls-unique"}, bytes(31)),
    ],
)
def test_cryptosign_client_rejects_bad_challenges(
    binding: str | None, extra: dict[str, Any], channel_id: bytes | None
) -> None:
    """§4.28: the client MUST check that the binding in use is the one it asked for."""
    client = CryptosignClient("11" * 32, channel_binding=binding)
    with pytest.raises(AuthFailed):
        client.respond(Challenge(method="cryptosign", extra=extra), channel_id)
    with pytest.raises(AuthFailed):
        client.respond(Challenge(method="ticket", extra={"challenge": "ab" * 32}))


def test_cryptosign_key_errors() -> None:
    for bad in ("11" * 31, "zz" * 32, b"\x00" * 31, 5, None):
        with pytest.raises(CredentialError):
            CryptosignClient(bad)  # type: ignore[arg-type]
    with pytest.raises(CredentialError):
        CryptosignClient("11" * 32, channel_binding="tls-server-end-point")


@needs_ab_cryptosign
def test_cryptosign_keypair_matches_autobahn() -> None:
    from autobahn.wamp.cryptosign import CryptosignKey

    private, public = generate_cryptosign_keypair(random.Random(3))
    assert private == random.Random(3).randbytes(32).hex()
    assert CryptosignKey.from_bytes(bytes.fromhex(private)).public_key() == public


@needs_ab_cryptosign
@pytest.mark.parametrize("binding", [None, "tls-unique"])
def test_cryptosign_autobahn_client_against_our_verifier(
    binding: str | None, txaio_loop: asyncio.AbstractEventLoop
) -> None:
    """Autobahn's AuthCryptoSign (channel id from its transport details) answers our CHALLENGE."""
    private, public = generate_cryptosign_keypair(random.Random(4))
    authextra = {"channel_binding": binding} if binding else {}
    ab = ab_auth.AuthCryptoSign(privkey=private, authextra=authextra)
    assert ab.authextra["pubkey"] == public
    cid = os.urandom(32) if binding else None
    session = Mock()
    session._transport.transport_details = ab_types.TransportDetails(
        channel_id={"tls-unique": cid} if cid else {}
    )
    verifier = CryptosignVerifier([public], ab.authextra, **kw(channel_id=cid))
    future = ab.on_challenge(session, ab_types.Challenge("cryptosign", verifier.challenge_extra()))
    signature = txaio_loop.run_until_complete(future)
    assert verifier.verify(auth(signature)) == {}


@needs_ab_cryptosign
def test_cryptosign_our_client_against_crossbar_style_router() -> None:
    """Crossbar: CHALLENGE {"challenge": hex(32 random), "channel_binding": requested}, then
    PyNaCl VerifyKey(pubkey).verify(signed 96 bytes) must return exactly the challenge."""
    from nacl.signing import VerifyKey

    private, _ = generate_cryptosign_keypair(random.Random(6))
    client = CryptosignClient(private)
    challenge = os.urandom(32)
    answer = client.respond(
        Challenge(
            method="cryptosign", extra={"challenge": challenge.hex(), "channel_binding": None}
        )
    )
    signed = binascii.a2b_hex(answer.signature)
    assert VerifyKey(bytes.fromhex(client.authextra()["pubkey"])).verify(signed) == challenge


# -- every verifier: junk in, AuthFailed out -----------------------------------------------------

JUNK_SIGNATURES = ["", "\x00", "=" * 8, "A" * 10_000, "\udcff", "ab" * 96, "AAAA" * 11]
JUNK_EXTRAS: list[dict[str, Any]] = [
    {},
    {"nonce": None},
    {"nonce": ["x"]},
    {"channel_binding": {"a": 1}},
    {"nonce": 1.5, "cbind_data": b"\x00"},
]


def _verifiers() -> list[Verifier]:
    _, public = generate_cryptosign_keypair(random.Random(9))
    cred = derive_scram_credential("pw", b"0123456789abcdef", kdf="pbkdf2", iterations=2)
    return [
        TicketVerifier("t", **kw()),
        WampCraVerifier("s", **kw()),
        WampCraVerifier("s", salt="x", iterations=2, keylen=8, **kw()),
        CryptosignVerifier([public], {"pubkey": public}, **kw()),
        ScramVerifier(cred, {"nonce": "AAECAwQFBgcICQoLDA0ODw=="}, **kw()),
    ]


def test_every_verifier_turns_junk_into_auth_failed() -> None:
    """No exception other than AuthFailed escapes verify(), whatever the AUTHENTICATE holds."""
    for signature in JUNK_SIGNATURES:
        for extra in JUNK_EXTRAS:
            for verifier in _verifiers():
                with pytest.raises(AuthFailed):
                    verifier.verify(auth(signature, **extra))
    for verifier in _verifiers():
        with pytest.raises(AuthFailed):
            verifier.verify("not a message")  # type: ignore[arg-type]
