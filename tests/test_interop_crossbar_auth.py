"""Interop: the wampcore clients authenticate to Crossbar.io with every method it offers.

One Crossbar.io node for the module; one extra WebSocket transport whose ``auth`` section has
static principals for ticket, WAMP-CRA (plain and salted), cryptosign and WAMP-SCRAM (argon2id
and pbkdf2), all with the role ``authed`` on the realm ``com.auth``, which may only call and
register under ``com.auth.``. Credentials are computed here with ``wampcore.auth``. For each
method, the asyncio client (and the threads client for some) joins with the configured
authid/authrole/authmethod/authprovider, makes a call to a procedure it registered, and a wrong
credential ends the join with ``SessionAborted``; one ``wampcore call`` run with ``--authid``
and ``--ticket``. What Crossbar.io does is written down in docs/auth.md, "Against Crossbar.io
(observed)".

Crossbar.io lives in its own virtual environment (see adapterkit.crossbar_executable); without
it these tests skip, saying so.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from adapterkit import WAMPCORE, Crossbar, crossbar_executable, run
from wampcore.adapters import threads
from wampcore.adapters.asyncio import Session, SessionAborted, connect

from wampcore.auth import (
    derive_cra_key,
    derive_scram_credential,
    generate_cryptosign_keypair,
    public_key_of,
)
from wampcore.errors import ApplicationError
from wampcore.ids import default_random

pytest.importorskip("cryptography")  # cryptosign
pytest.importorskip("argon2")  # scram with argon2id

pytestmark = pytest.mark.timeout(120)
CROSSBAR = crossbar_executable()

REALM = "com.auth"
ROLE = "authed"
TICKET = "ticket-secret-1"
CRA_SECRET = "cra-secret-1"
SALTED_SECRET = "salted-secret-1"
SALT, ITERATIONS, KEYLEN = "salt123", 100, 32
SCRAM_PASSWORD = "scram-password-1"
CS_PRIVATE, CS_PUBLIC = generate_cryptosign_keypair(default_random())
OTHER_PRIVATE, _ = generate_cryptosign_keypair(default_random())

#: Crossbar's ABORT reason for a wrong credential / an unknown authid (the default reason of
#: autobahn.wamp.types.Deny): not the spec's wamp.error.authentication_failed.
NOT_AUTHORIZED = "wamp.error.not_authorized"


def scram_record(password: str, kdf: str, iterations: int) -> dict[str, Any]:
    """derive_scram_credential's record in Crossbar's key spelling (stored-key, server-key)."""
    record = derive_scram_credential(password, kdf=kdf, iterations=iterations, memory=512)
    return {key.replace("_", "-"): value for key, value in record.items()}


def auth_section() -> dict[str, object]:
    def principal(**fields: object) -> dict[str, object]:
        return {"role": ROLE, **fields}

    return {
        "ticket": {"type": "static", "principals": {"tk-user": principal(ticket=TICKET)}},
        "wampcra": {
            "type": "static",
            "users": {
                "cra-user": principal(secret=CRA_SECRET),
                # Crossbar derives the key from `secret` itself (derive_key(secret, salt, ...)):
                # `secret` here is what the client holds, not the derived key.
                "cra-salted": principal(
                    secret=SALTED_SECRET, salt=SALT, iterations=ITERATIONS, keylen=KEYLEN
                ),
                # a secret that is itself a derived key: the client must hold it as is.
                "cra-derived": principal(
                    secret=derive_cra_key(SALTED_SECRET, SALT, ITERATIONS, KEYLEN),
                    salt=SALT,
                    iterations=ITERATIONS,
                    keylen=KEYLEN,
                ),
            },
        },
        "cryptosign": {
            "type": "static",
            "principals": {"cs-user": principal(authorized_keys=[CS_PUBLIC])},
        },
        "scram": {
            "type": "static",
            "principals": {
                "scram-user": principal(**scram_record(SCRAM_PASSWORD, "argon2id-13", 8)),
                "scram-pbkdf2": principal(**scram_record(SCRAM_PASSWORD, "pbkdf2", 1000)),
            },
        },
    }


@pytest.fixture(scope="module")
def crossbar(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crossbar]:
    if CROSSBAR is None:
        pytest.skip(
            "Crossbar.io is not installed: .ci/run installs it into .cbvenv "
            "(python3 -m venv .cbvenv && .cbvenv/bin/pip install crossbar), or set "
            "WAMPCORE_CROSSBAR to a crossbar executable"
        )
    allow = {"call": True, "register": True, "publish": False, "subscribe": False}
    role = {
        "name": ROLE,
        "permissions": [
            {
                "uri": "com.auth.",
                "match": "prefix",
                "allow": allow,
                "disclose": {"caller": True, "publisher": False},
                "cache": True,
            }
        ],
    }
    with Crossbar(
        CROSSBAR,
        str(tmp_path_factory.mktemp("crossbar-auth")),
        extra_realms=[{"name": REALM, "roles": [role]}],
        extra_transports={"auth": auth_section()},
    ) as node:
        yield node


def arun(test: Callable[[], Awaitable[None]]) -> None:
    async def bounded() -> None:
        async with asyncio.timeout(30):
            await test()

    asyncio.run(bounded())


#: method -> (authid, the credential's connect() keyword, the right value, a wrong value)
METHODS: dict[str, tuple[str, str, str, str]] = {
    "ticket": ("tk-user", "ticket", TICKET, "not-the-ticket"),
    "wampcra": ("cra-user", "secret", CRA_SECRET, "not-the-secret"),
    "wampcra-salted": ("cra-salted", "secret", SALTED_SECRET, "not-the-secret"),
    "cryptosign": ("cs-user", "private_key", CS_PRIVATE, OTHER_PRIVATE),
    "scram": ("scram-user", "password", SCRAM_PASSWORD, "not-the-password"),
    "scram-pbkdf2": ("scram-pbkdf2", "password", SCRAM_PASSWORD, "not-the-password"),
}


#: Crossbar's ABORT message for a wrong credential, per method (Crossbar.io 26.x). Every one
#: comes after the CHALLENGE, except cryptosign: a public key not in ``authorized_keys`` is
#: refused in answer to HELLO.
WRONG = {
    "ticket": "ticket in static WAMP-Ticket authentication is invalid",
    "wampcra": "WAMP-CRA client signature is invalid",
    "wampcra-salted": "WAMP-CRA client signature is invalid",
    "cryptosign": (
        "extra.pubkey provided does not match any one of authorized_keys for the principal"
    ),
    "scram": "SCRAM authentication failed",
    "scram-pbkdf2": "SCRAM authentication failed",
}


def assert_joined(session: Any, authid: str, method: str) -> None:
    details = session.details
    assert (details.realm, details.authid, details.authrole) == (REALM, authid, ROLE)
    assert (details.authmethod, details.authprovider) == (method.split("-")[0], "static")


async def call_roundtrip(session: Session, name: str) -> None:
    procedure = f"com.auth.{name}.echo"
    registration = await session.register(procedure, lambda *a, **kw: [a, kw])
    assert await session.call(procedure, 1, "x", k=True) == [[1, "x"], {"k": True}]
    with pytest.raises(ApplicationError) as info:  # outside the role's com.auth. prefix
        await session.call("com.other.echo")
    assert info.value.error == "wamp.error.not_authorized"
    await registration.unregister()


@pytest.mark.interop(
    peer="crossbar",
    transport="websocket",
    serializer="json",
    features=["auth-{name}"],
)
@pytest.mark.parametrize("name", list(METHODS))
def test_asyncio_client_joins_and_calls(crossbar: Crossbar, name: str) -> None:
    authid, keyword, right, _ = METHODS[name]

    async def test() -> None:
        async with connect(crossbar.urls["auth"], REALM, authid=authid, **{keyword: right}) as s:
            assert_joined(s, authid, name)
            if name.startswith("scram"):  # Crossbar sends it; our client checked it
                assert "scram_server_signature" in s.details.authextra
            await call_roundtrip(s, name)

    arun(test)


@pytest.mark.interop(
    peer="crossbar",
    transport="websocket",
    serializer="json",
    features=["auth-{name}"],
)
@pytest.mark.parametrize("name", list(METHODS))
def test_asyncio_client_wrong_credential_is_aborted(crossbar: Crossbar, name: str) -> None:
    authid, keyword, _, wrong = METHODS[name]

    async def test() -> None:
        with pytest.raises(SessionAborted) as info:
            await connect(crossbar.urls["auth"], REALM, authid=authid, **{keyword: wrong})
        assert (info.value.reason, info.value.message) == (NOT_AUTHORIZED, WRONG[name])

    arun(test)


@pytest.mark.interop(
    peer="crossbar",
    transport="websocket",
    serializer="json",
    features=["auth-cryptosign"],
)
def test_cryptosign_without_authid_is_found_by_public_key(crossbar: Crossbar) -> None:
    """Crossbar maps HELLO authextra.pubkey to the principal holding it when no authid is sent."""

    async def test() -> None:
        async with connect(crossbar.urls["auth"], REALM, private_key=CS_PRIVATE) as s:
            assert_joined(s, "cs-user", "cryptosign")

    assert public_key_of(CS_PRIVATE) == CS_PUBLIC
    arun(test)


@pytest.mark.interop(
    peer="crossbar",
    transport="websocket",
    serializer="json",
    features=["auth-wampcra-salted"],
)
def test_salted_wampcra_with_the_derived_key_as_crossbar_secret(crossbar: Crossbar) -> None:
    """Crossbar derives the salted key from the configured ``secret``: configured with the key
    already derived, the original secret fails and the derived key itself is what the client must
    hold: the router derives once more, from whatever ``secret`` says (wampcore's router reads
    the same configuration the same way)."""

    async def test() -> None:
        with pytest.raises(SessionAborted) as info:
            await connect(crossbar.urls["auth"], REALM, authid="cra-derived", secret=SALTED_SECRET)
        assert info.value.reason == NOT_AUTHORIZED
        derived = derive_cra_key(SALTED_SECRET, SALT, ITERATIONS, KEYLEN)
        async with connect(crossbar.urls["auth"], REALM, authid="cra-derived", secret=derived) as s:
            assert_joined(s, "cra-derived", "wampcra")

    arun(test)


@pytest.mark.interop(
    peer="crossbar",
    transport="websocket",
    serializer="json",
    features=["authorization"],
)
@pytest.mark.parametrize(
    ("options", "reason", "message"),
    [
        pytest.param(
            {"authid": "nobody", "ticket": TICKET},
            NOT_AUTHORIZED,
            'no principal with authid "nobody" exists',
            id="unknown-authid",
        ),
        pytest.param(  # each method has its own principals: tk-user is no WAMP-CRA user
            {"authid": "tk-user", "secret": TICKET},
            NOT_AUTHORIZED,
            'no principal with authid "tk-user" exists',
            id="authid-of-another-method",
        ),
        pytest.param(
            {},
            "wamp.error.no_auth_method",
            "cannot authenticate [2] using any of the offered authmethods ['anonymous']",
            id="anonymous",
        ),
        pytest.param(
            {"authid": "tk-user", "ticket": TICKET, "authmethods": ["x-unknown"]},
            NOT_AUTHORIZED,
            'invalid authmethod "x-unknown"',
            id="unknown-method",
        ),
    ],
)
def test_refused_in_answer_to_hello(
    crossbar: Crossbar, options: dict[str, Any], reason: str, message: str
) -> None:
    async def test() -> None:
        with pytest.raises(SessionAborted) as info:
            await connect(crossbar.urls["auth"], REALM, **options)
        assert (info.value.reason, info.value.message) == (reason, message)

    arun(test)


@pytest.mark.interop(
    peer="crossbar",
    transport="websocket",
    serializer="json",
    features=["auth-ticket", "rpc"],
)
def test_threads_client(crossbar: Crossbar) -> None:
    url = crossbar.urls["auth"]
    with threads.connect(
        url, REALM, authid="scram-user", password=SCRAM_PASSWORD, serializers=["msgpack"]
    ) as s:
        assert_joined(s, "scram-user", "scram")
        s.register("com.auth.threads.mul", lambda a, b: a * b)
        assert s.call("com.auth.threads.mul", 6, 7) == 42
    with threads.connect(url, REALM, authid="cra-salted", secret=SALTED_SECRET) as s:
        assert_joined(s, "cra-salted", "wampcra-salted")
    for authid, keyword, wrong in (
        ("cs-user", "private_key", OTHER_PRIVATE),
        ("tk-user", "ticket", "wrong"),
    ):
        with pytest.raises(SessionAborted) as info:
            threads.connect(url, REALM, authid=authid, **{keyword: wrong})
        assert info.value.reason == NOT_AUTHORIZED


@pytest.mark.interop(
    peer="crossbar",
    transport="websocket",
    serializer="json",
    features=["auth-ticket"],
)
def test_threads_session_exposes_welcome_details(crossbar: Crossbar) -> None:
    with threads.connect(crossbar.urls["auth"], REALM, authid="tk-user", ticket=TICKET) as s:
        assert_joined(s, "tk-user", "ticket")


@pytest.mark.interop(
    peer="crossbar",
    transport="websocket",
    serializer="json",
    features=["auth-ticket", "rpc"],
)
def test_cli_call_with_ticket(crossbar: Crossbar) -> None:
    url = crossbar.urls["auth"]
    with threads.connect(url, REALM, authid="cs-user", private_key=CS_PRIVATE) as callee:
        callee.register("com.auth.cli.add", lambda a, b: a + b)
        args = [*WAMPCORE, "call", url, REALM, "com.auth.cli.add", "2", "3"]
        out = run([*args, "--authid", "tk-user", "--ticket", TICKET])
        assert (out.returncode, json.loads(out.stdout)) == (0, 5), out
        bad = run([*args, "--authid", "tk-user", "--ticket", "bad-ticket-7f3a"])
        assert bad.returncode == 3, bad  # EXIT_CONNECTION
        assert "router aborted the session: wamp.error.not_authorized" in bad.stderr
        assert "bad-ticket-7f3a" not in bad.stdout + bad.stderr
