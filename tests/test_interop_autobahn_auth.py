"""Interop: Autobahn|Python (asyncio, from PyPI) clients authenticate to ``wampcore router``.

One router subprocess per module (``--config`` with a TOML file written here, ephemeral
loopback ports). The realm ``com.auth`` admits only its principals: one per method (ticket,
WAMP-CRA, salted WAMP-CRA, WAMP-SCRAM with argon2id, cryptosign), each credential made here
(``wampcore.auth``'s ``derive_scram_credential`` and ``generate_cryptosign_keypair``) and
answered by Autobahn's own authenticators
(``autobahn.wamp.auth.create_authenticator``, what ``Component(authentication=...)`` uses);
``realm1`` stays open to anonymous clients. Over WebSocket and RawSocket with json, msgpack and
cbor, every method joins (WELCOME authid/authrole/authmethod/authprovider as configured), makes
one authorized call whose callee sees the caller (the role's ``disclose_caller``), is refused a
call and a registration its role denies (``wamp.error.not_authorized``), and fails to join with
a wrong credential (ABORT ``wamp.error.authentication_failed``). A few more cases run over two
combinations: the classic ``ApplicationSession.onChallenge`` API, ``Component``, an unknown
authid, a key that belongs to another principal, anonymous on a closed realm, and that a known
authid without the offered credential, or an unknown key, is refused like an unknown authid.

Facts about Autobahn|Python 26.x found here: an ABORT in answer to HELLO or AUTHENTICATE
reaches the session as ``onLeave(CloseDetails(reason, message))`` with the router's reason URI
unchanged (a ``Component`` turns it into ``ApplicationError(reason)`` for its
``connectfailure`` listeners); ``AuthScram`` checks the router's ``scram_server_signature`` in
WELCOME and rejects a CHALLENGE with unknown extra keys; ``AuthWampCra`` derives the salted key
from the password itself (salt, iterations, keylen from the CHALLENGE); ``AuthCryptoSign``
always sends ``authextra.pubkey`` (derived from the private key), so an authid is optional;
an asyncio ``Component`` over RawSocket never finishes after its ``main`` returns (see
``test_autobahn_component_authentication``).

The router slows repeated failures from one address down (docs/auth.md); every failure here is
followed by a successful join from the same address, which forgives it, so no test waits.
"""

from __future__ import annotations

import asyncio
import binascii
import secrets
import warnings
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from adapterkit import Router, run_closing

from wampcore.auth.cryptosign import generate_cryptosign_keypair
from wampcore.auth.scram import derive_scram_credential
from wampcore.ids import default_random

autobahn = pytest.importorskip("autobahn")
txaio = pytest.importorskip("txaio")
pytest.importorskip("nacl")  # autobahn.wamp.cryptosign
pytest.importorskip("argon2")  # autobahn's AuthScram
txaio.use_asyncio()

# Autobahn's auth module imports passlib, which imports the deprecated stdlib `crypt`.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from autobahn.wamp import auth as ab_auth

from autobahn.asyncio.component import Component  # noqa: E402
from autobahn.asyncio.rawsocket import WampRawSocketClientFactory  # noqa: E402
from autobahn.asyncio.wamp import ApplicationSession, Session  # noqa: E402
from autobahn.asyncio.websocket import WampWebSocketClientFactory  # noqa: E402
from autobahn.wamp.cryptosign import CryptosignKey  # noqa: E402
from autobahn.wamp.exception import ApplicationError as ABApplicationError  # noqa: E402
from autobahn.wamp.serializer import (  # noqa: E402
    CBORSerializer,
    JsonSerializer,
    MsgPackSerializer,
)
from autobahn.wamp.types import ComponentConfig, RegisterOptions  # noqa: E402

pytestmark = pytest.mark.timeout(90)

SERIALIZERS = {"json": JsonSerializer, "msgpack": MsgPackSerializer, "cbor": CBORSerializer}
COMBINATIONS = [
    pytest.param(s, z, id=f"{s}-{z}") for s in ("ws", "rs") for z in ("json", "msgpack", "cbor")
]
#: Where the extra cases run.
SOME = [pytest.param("ws", "json", id="ws-json"), pytest.param("rs", "cbor", id="rs-cbor")]

AUTH_REALM = "com.auth"
OPEN_REALM = "realm1"
API = "com.auth.api"  # frontend: call, with the caller disclosed
DENIED = "com.auth.api.admin"  # frontend: a rule with every flag false

# --- credentials, computed for this run ----------------------------------------------------------

RNG = default_random()
BACKEND_TICKET = secrets.token_urlsafe(16)
TICKET = secrets.token_urlsafe(16)
CRA_SECRET = secrets.token_urlsafe(16)
SALTED_PASSWORD = "sälted-" + secrets.token_urlsafe(9)  # UTF-8 into PBKDF2 on both sides
SALT, ITERATIONS, KEYLEN = secrets.token_hex(8), 100, 32
SCRAM_PASSWORD = "pässword-" + secrets.token_hex(6)  # non-ASCII: Autobahn sends raw UTF-8
# Small argon2id costs keep every join fast; Autobahn reads them from the CHALLENGE.
SCRAM = derive_scram_credential(
    SCRAM_PASSWORD, salt=secrets.token_bytes(16), iterations=2, memory=512
)
CS_PRIVATE, CS_PUBLIC = generate_cryptosign_keypair(RNG)
OTHER_PRIVATE, OTHER_PUBLIC = generate_cryptosign_keypair(RNG)  # belongs to "csother"
STRANGER_PRIVATE, _ = generate_cryptosign_keypair(RNG)  # nobody's key


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


def config_text() -> str:
    everything = {"call": True, "register": True, "publish": True, "subscribe": True}
    roles = {
        "backend": [{"uri": "", "match": "prefix", **everything}],
        "frontend": [
            {"uri": f"{API}.", "match": "prefix", "call": True, "disclose_caller": True},
            {"uri": f"{DENIED}.", "match": "prefix"},
        ],
    }
    principals: list[dict[str, Any]] = [
        {"authid": "backend", "role": "backend", "ticket": BACKEND_TICKET},
        {"authid": "ticketuser", "role": "frontend", "ticket": TICKET},
        {"authid": "crauser", "role": "frontend", "secret": CRA_SECRET},
        {
            "authid": "crasalted",
            "role": "frontend",
            # As Crossbar reads it (docs/auth.md): the router derives the key from the secret
            # with the salt, as the client does.
            "secret": SALTED_PASSWORD,
            "salt": SALT,
            "iterations": ITERATIONS,
            "keylen": KEYLEN,
        },
        {"authid": "scramuser", "role": "frontend", "scram": SCRAM},
        {"authid": "csuser", "role": "frontend", "cryptosign_keys": [CS_PUBLIC]},
        {"authid": "csother", "role": "frontend", "cryptosign_keys": [OTHER_PUBLIC]},
    ]
    lines = [f"[[realms]]\nname = {_toml(OPEN_REALM)}\n"]
    lines += [f"[[realms]]\nname = {_toml(AUTH_REALM)}\nallow_anonymous = false\n"]
    for name, rules in roles.items():
        lines.append(f"[[realms.roles]]\nname = {_toml(name)}\npermissions = {_toml(rules)}\n")
    for principal in principals:
        body = "".join(f"{k} = {_toml(v)}\n" for k, v in principal.items())
        lines.append(f"[[realms.principals]]\n{body}")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def router(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Router]:
    config = Path(tmp_path_factory.mktemp("autobahn-auth")) / "router.toml"
    config.write_text(config_text(), encoding="utf-8")
    with Router("--config", str(config)) as router:  # its __exit__ reaps it and closes its pipes
        yield router


# --- the methods: Autobahn's authenticator, what WELCOME says, a wrong credential ----------------


def authenticator(method: str, **override: Any) -> Any | None:
    """Autobahn's IAuthenticator for ``method`` with the right credential (or ``override``)."""
    kwargs: dict[str, Any] = {
        "ticket": {"authid": "ticketuser", "ticket": TICKET},
        "wampcra": {"authid": "crauser", "secret": CRA_SECRET},
        "wampcra-salted": {"authid": "crasalted", "secret": SALTED_PASSWORD},
        "scram": {"authid": "scramuser", "password": SCRAM_PASSWORD},
        "cryptosign": {"authid": "csuser", "privkey": CS_PRIVATE},
        "anonymous": {},
    }[method]
    if method == "anonymous":
        return None
    name = "wampcra" if method == "wampcra-salted" else method
    return ab_auth.create_authenticator(name, **{**kwargs, **override})


EXPECTED = {  # method -> (realm, authid, authmethod)
    "ticket": (AUTH_REALM, "ticketuser", "ticket"),
    "wampcra": (AUTH_REALM, "crauser", "wampcra"),
    "wampcra-salted": (AUTH_REALM, "crasalted", "wampcra"),
    "scram": (AUTH_REALM, "scramuser", "scram"),
    "cryptosign": (AUTH_REALM, "csuser", "cryptosign"),
    "anonymous": (OPEN_REALM, None, "anonymous"),
}
WRONG = {
    "ticket": {"ticket": "not-" + TICKET},
    "wampcra": {"secret": "not-" + CRA_SECRET},
    "wampcra-salted": {"secret": "not-" + SALTED_PASSWORD},
    "scram": {"password": "not-" + SCRAM_PASSWORD},
    "cryptosign": {"privkey": STRANGER_PRIVATE},
}
AUTH_METHODS = [m for m in EXPECTED if m != "anonymous"]


# --- sessions ------------------------------------------------------------------------------------


class JoinFailed(Exception):
    """The router ended the join: ``reason`` and ``message`` of the ABORT."""

    def __init__(self, reason: str, message: str | None) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason, self.message = reason, message


class Tracked:
    """What the session classes below share: futures for WELCOME, leaving and disconnecting."""

    def _track(self) -> None:
        loop = asyncio.get_running_loop()
        self.joined: asyncio.Future[Any] = loop.create_future()
        self.disconnected: asyncio.Future[None] = loop.create_future()
        self.details: Any = None
        _OPEN.add(self)

    def _on_join(self, details: Any) -> None:
        self.details = details
        if not self.joined.done():
            self.joined.set_result(self)

    def _on_leave(self, details: Any) -> None:
        if not self.joined.done():
            self.joined.set_exception(JoinFailed(details.reason, details.message))

    def _on_disconnect(self) -> None:
        _OPEN.discard(self)
        if not self.joined.done():
            self.joined.set_exception(JoinFailed("(disconnected)", None))
        if not self.disconnected.done():
            self.disconnected.set_result(None)


class Client(Session, Tracked):  # type: ignore[misc]
    """Autobahn's authenticator-based session (Component's ``session_factory``)."""

    def __init__(self, config: ComponentConfig) -> None:
        super().__init__(config)
        self._track()

    def onJoin(self, details: Any) -> None:
        self._on_join(details)

    def onLeave(self, details: Any) -> None:
        self._on_leave(details)
        super().onLeave(details)

    def onDisconnect(self) -> None:
        self._on_disconnect()
        super().onDisconnect()


class ClassicClient(ApplicationSession, Tracked):  # type: ignore[misc]
    """The classic API: ``join(authmethods=...)`` in onConnect, the answer in onChallenge."""

    def __init__(self, config: ComponentConfig) -> None:
        super().__init__(config)
        self._track()
        self.challenges: list[Any] = []

    def onConnect(self) -> None:
        extra = self.config.extra
        self.join(
            self.config.realm,
            authmethods=[extra["method"]],
            authid=extra.get("authid"),
            authextra=extra.get("authextra"),
        )

    def onChallenge(self, challenge: Any) -> Any:
        self.challenges.append(challenge)
        return self.config.extra["answer"](challenge)

    def onJoin(self, details: Any) -> None:
        self._on_join(details)

    def onLeave(self, details: Any) -> None:
        self._on_leave(details)
        super().onLeave(details)

    def onDisconnect(self) -> None:
        self._on_disconnect()
        super().onDisconnect()


#: Sessions not yet disconnected: ``run`` leaves and awaits them, so no socket outlives a test.
_OPEN: set[Any] = set()


async def connect(url: str, serializer: str, session: Any) -> Any:
    """Connect ``session`` at ``url`` (ws:// or rs://); the joined session, within 10 s."""
    loop = asyncio.get_running_loop()
    parts = urlsplit(url)
    ser = SERIALIZERS[serializer]()
    factory: Any
    if parts.scheme == "ws":
        factory = WampWebSocketClientFactory(lambda: session, url=url, serializers=[ser])
    else:
        factory = WampRawSocketClientFactory(lambda: session, serializer=ser)
    async with asyncio.timeout(10):
        await loop.create_connection(factory, parts.hostname, parts.port)
        return await session.joined


async def join(url: str, serializer: str, method: str, **override: Any) -> Client:
    """A session joined with ``method`` (JoinFailed if the router refuses)."""
    realm = EXPECTED[method][0]
    client = Client(ComponentConfig(realm))
    auth = authenticator(method, **override)
    if auth is not None:
        client.add_authenticator(auth)
    return await connect(url, serializer, client)


async def backend(url: str, serializer: str, realm: str = AUTH_REALM) -> Client:
    client = Client(ComponentConfig(realm))
    if realm == AUTH_REALM:
        ticket = ab_auth.create_authenticator("ticket", authid="backend", ticket=BACKEND_TICKET)
        client.add_authenticator(ticket)
    return await connect(url, serializer, client)


async def refused(url: str, serializer: str, method: str, **override: Any) -> JoinFailed:
    """The ABORT a join with ``method`` (and ``override``) gets; its transport is closed."""
    with pytest.raises(JoinFailed) as info:
        await join(url, serializer, method, **override)
    return info.value


async def leave(*sessions: Any) -> None:
    for session in sessions:
        if session.is_attached():
            session.leave()
    async with asyncio.timeout(10):
        await asyncio.gather(*(s.disconnected for s in sessions))


def run(coro: Awaitable[None]) -> None:
    run_closing(coro, _OPEN, 45)


def whoami(details: Any = None) -> dict[str, Any]:
    return {
        "caller": details.caller,
        "caller_authid": details.caller_authid,
        "caller_authrole": details.caller_authrole,
    }


async def not_authorized(coro: Awaitable[Any]) -> None:
    with pytest.raises(ABApplicationError) as info:
        await coro
    assert info.value.error == "wamp.error.not_authorized"


# --- the matrix ----------------------------------------------------------------------------------


@pytest.mark.interop(
    peer="autobahn-python",
    transport="{scheme}",
    serializer="{serializer}",
    features=["auth-{method}", "authorization", "disclosure"],
)
@pytest.mark.parametrize("method", list(EXPECTED))
@pytest.mark.parametrize(("scheme", "serializer"), COMBINATIONS)
def test_autobahn_authenticates_calls_and_is_authorized(
    router: Router, scheme: str, serializer: str, method: str
) -> None:
    """wamp-spec §4.28 (each method; WELCOME details) and §10 (authorization, disclosure)."""
    url = router.urls[scheme]
    realm, authid, authmethod = EXPECTED[method]
    tag = f"{scheme}.{serializer}.{method.replace('-', '_')}"

    async def test() -> None:
        callee = await backend(url, serializer, realm)
        await callee.register(
            whoami, f"{API}.{tag}.whoami", options=RegisterOptions(details_arg="details")
        )
        await callee.register(lambda: "secret", f"{DENIED}.{tag}")
        client = await join(url, serializer, method)

        d = client.details
        assert (d.realm, d.authmethod, d.authprovider) == (realm, authmethod, "static")
        assert isinstance(d.session, int) and d.session == client._session_id
        if method == "anonymous":
            assert d.authrole == "anonymous" and isinstance(d.authid, str) and d.authid
        else:
            assert (d.authid, d.authrole) == (authid, "frontend")
        if method == "scram":  # Autobahn checked it in onWelcome before onJoin
            assert isinstance(d.authextra["scram_server_signature"], str)

        seen = await client.call(f"{API}.{tag}.whoami")
        if method == "anonymous":  # an open realm: no roles, no disclosure unless asked
            assert seen == {"caller": None, "caller_authid": None, "caller_authrole": None}
            assert await client.call(f"{DENIED}.{tag}") == "secret"
        else:
            assert seen == {
                "caller": client._session_id,
                "caller_authid": authid,
                "caller_authrole": "frontend",
            }
            await not_authorized(client.call(f"{DENIED}.{tag}"))
            await not_authorized(client.register(lambda: None, f"{API}.{tag}.mine"))
            await not_authorized(client.call("com.auth.elsewhere"))  # no rule at all
            # The denials changed nothing: the allowed call still works.
            assert (await client.call(f"{API}.{tag}.whoami"))["caller"] == client._session_id
        await leave(client, callee)

    run(test())


@pytest.mark.interop(
    peer="autobahn-python",
    transport="{scheme}",
    serializer="{serializer}",
    features=["auth-{method}"],
)
@pytest.mark.parametrize("method", AUTH_METHODS)
@pytest.mark.parametrize(("scheme", "serializer"), COMBINATIONS)
def test_autobahn_join_with_a_wrong_credential_is_aborted(
    router: Router, scheme: str, serializer: str, method: str
) -> None:
    """wamp-spec §4.28: a wrong ticket, secret, password or key ends the join with ABORT
    ``wamp.error.authentication_failed`` (a cryptosign key no principal has: at HELLO)."""
    url = router.urls[scheme]

    async def test() -> None:
        failed = await refused(url, serializer, method, **WRONG[method])
        assert failed.reason == "wamp.error.authentication_failed"
        assert failed.message == "authentication failed"  # the same text, whatever failed
        # The right credential still works from this address (and forgives the failure).
        client = await join(url, serializer, method)
        assert client.details.authid == EXPECTED[method][1]
        await leave(client)

    run(test())


# --- more cases, over two combinations -----------------------------------------------------------


@pytest.mark.interop(
    peer="autobahn-python",
    transport="{scheme}",
    serializer="{serializer}",
    features=["auth-ticket", "auth-wampcra", "auth-scram", "auth-cryptosign", "authorization"],
)
@pytest.mark.parametrize(("scheme", "serializer"), SOME)
def test_autobahn_refusals_beyond_a_wrong_secret(
    router: Router, scheme: str, serializer: str
) -> None:
    """An unknown authid (refused like a wrong secret), a key of another principal, anonymous
    on a closed realm; cryptosign without an authid."""
    url = router.urls[scheme]

    async def test() -> None:
        attempts: list[tuple[str, dict[str, Any]]] = [
            ("ticket", {"authid": "nobody"}),
            ("wampcra", {"authid": "nobody"}),
            ("scram", {"authid": "nobody"}),
            ("cryptosign", {"authid": "csuser", "privkey": OTHER_PRIVATE}),
        ]
        reasons = []
        for method, override in attempts:
            reasons.append((await refused(url, serializer, method, **override)).reason)
            await leave(await join(url, serializer, "ticket"))  # forgive: no growing delay
        assert reasons == ["wamp.error.authentication_failed"] * len(attempts)

        client = Client(ComponentConfig(AUTH_REALM))  # no authenticator: anonymous
        with pytest.raises(JoinFailed) as info:
            await connect(url, serializer, client)
        assert info.value.reason == "wamp.error.no_matching_auth_method"

        # Without an authid, cryptosign finds the principal by the public key.
        client = await join(url, serializer, "cryptosign", authid=None)
        assert (client.details.authid, client.details.authrole) == ("csuser", "frontend")
        await leave(client)

    run(test())


@pytest.mark.interop(
    peer="autobahn-python",
    transport="{scheme}",
    serializer="{serializer}",
    features=["auth-ticket", "auth-wampcra", "auth-wampcra-salted", "auth-cryptosign"],
)
@pytest.mark.parametrize(("scheme", "serializer"), SOME)
def test_autobahn_classic_on_challenge(router: Router, scheme: str, serializer: str) -> None:
    """The classic ApplicationSession API with Autobahn's primitives: compute_wcs, derive_key,
    CryptosignKey.sign_challenge; the CHALLENGE extra as Autobahn sees it."""
    url = router.urls[scheme]
    key = CryptosignKey.from_bytes(binascii.a2b_hex(CS_PRIVATE))

    def cra(secret: str) -> Any:
        return lambda c: ab_auth.compute_wcs(secret, c.extra["challenge"]).decode("ascii")

    def salted(password: str) -> Any:
        def answer(c: Any) -> str:
            derived = ab_auth.derive_key(
                password, c.extra["salt"], c.extra["iterations"], c.extra["keylen"]
            )
            return ab_auth.compute_wcs(derived, c.extra["challenge"]).decode("ascii")

        return answer

    cases = [
        ("ticket", "ticketuser", lambda c: TICKET, None),
        ("wampcra", "crauser", cra(CRA_SECRET), None),
        ("wampcra", "crasalted", salted(SALTED_PASSWORD), None),
        ("cryptosign", "csuser", key.sign_challenge, {"pubkey": key.public_key()}),
    ]

    async def classic(method: str, authid: str, answer: Any, extra: Any) -> ClassicClient:
        config = ComponentConfig(
            AUTH_REALM,
            extra={"method": method, "authid": authid, "answer": answer, "authextra": extra},
        )
        return await connect(url, serializer, ClassicClient(config))

    async def test() -> None:
        for method, authid, answer, extra in cases:
            client = await classic(method, authid, answer, extra)
            assert (client.details.authid, client.details.authmethod) == (authid, method)
            (challenge,) = client.challenges
            assert challenge.method == method
            if authid == "crasalted":
                assert (challenge.extra["salt"], challenge.extra["keylen"]) == (SALT, KEYLEN)
                assert challenge.extra["iterations"] == ITERATIONS
            await leave(client)
        # A wrong secret, and an unknown authid: challenged like a known one, then refused.
        for authid, answer in [("crauser", cra("wrong")), ("nobody", cra(CRA_SECRET))]:
            client = ClassicClient(
                ComponentConfig(
                    AUTH_REALM, extra={"method": "wampcra", "authid": authid, "answer": answer}
                )
            )
            with pytest.raises(JoinFailed) as info:
                await connect(url, serializer, client)
            assert info.value.reason == "wamp.error.authentication_failed"
            assert [c.method for c in client.challenges] == ["wampcra"]
            await leave(await classic(*cases[0]))  # forgive

    run(test())


@pytest.mark.interop(
    peer="autobahn-python",
    transport="ws",
    serializer="{serializer}",
    features=["auth-cryptosign", "auth-scram", "auth-ticket"],
)
@pytest.mark.parametrize("serializer", ["json", "cbor"])
def test_autobahn_component_authentication(router: Router, serializer: str) -> None:
    """``Component(authentication={...})``: cryptosign (no authid) and scram join and call; a
    wrong ticket reaches ``connectfailure`` as ApplicationError authentication_failed.

    WebSocket only: over RawSocket an asyncio Component whose ``main`` returned never finishes
    (Autobahn 26.x): its session closes the transport in ``onLeave``, the connection_lost
    wrapper of ``Component._wrap_connection_future`` runs before the Component's own ``leave``
    listener, takes the clean GOODBYE for ``TransportLost('failed to complete connection')`` and
    reconnects, ``max_retries`` notwithstanding (a successful join resets the count). The
    WebSocket closing handshake gives the listener the time it needs."""
    url = router.urls["ws"]
    transport = {"type": "websocket", "url": url, "serializers": [serializer], "max_retries": 0}

    async def component(authentication: dict[str, Any]) -> tuple[Any, list[Any]]:
        """Run one Component to its end: (what its main saw, the connect failures)."""
        seen: list[Any] = []
        failures: list[Any] = []

        async def main(loop: Any, session: Any) -> None:
            seen.append(session._session_id)
            seen.append(await session.call(f"{API}.component.whoami"))

        comp = Component(
            transports=[transport], realm=AUTH_REALM, authentication=authentication, main=main
        )
        comp.on("connectfailure", lambda _comp, error: failures.append(error))
        done = comp.start(asyncio.get_running_loop())
        async with asyncio.timeout(10):
            try:
                await done
            except RuntimeError as exc:  # max_retries exhausted after a failure
                assert "Exhausted" in str(exc)
        return seen, failures

    async def test() -> None:
        callee = await backend(url, serializer)
        await callee.register(
            whoami, f"{API}.component.whoami", options=RegisterOptions(details_arg="details")
        )
        for authentication, authid in [
            ({"cryptosign": {"privkey": CS_PRIVATE}}, "csuser"),
            ({"scram": {"authid": "scramuser", "password": SCRAM_PASSWORD}}, "scramuser"),
        ]:
            (session_id, called), failures = await component(authentication)
            assert failures == []
            assert called == {
                "caller": session_id,
                "caller_authid": authid,
                "caller_authrole": "frontend",
            }
        seen, failures = await component({"ticket": {"authid": "ticketuser", "ticket": "wrong"}})
        assert seen == []
        (error,) = failures
        assert isinstance(error, ABApplicationError)
        assert error.error == "wamp.error.authentication_failed"
        await leave(await join(url, serializer, "ticket"))  # forgive
        await leave(callee)

    run(test())


@pytest.mark.interop(
    peer="autobahn-python",
    transport="ws",
    serializer="json",
    features=["auth-ticket"],
)
def test_autobahn_known_authid_without_that_credential_is_refused_like_an_unknown_one(
    router: Router,
) -> None:
    """HELLO authid "crauser" (who has a WAMP-CRA secret, no ticket), authmethods ["ticket"]:
    the answer must not differ from the one for authid "nobody" (CHALLENGE, then ABORT
    authentication_failed), or it reveals that "crauser" exists."""
    url = router.urls["ws"]

    async def test() -> None:
        outcomes = []
        for authid in ("nobody", "crauser"):
            client = ClassicClient(
                ComponentConfig(
                    AUTH_REALM,
                    extra={"method": "ticket", "authid": authid, "answer": lambda c: "guess"},
                )
            )
            with pytest.raises(JoinFailed) as info:
                await connect(url, "json", client)
            outcomes.append((info.value.reason, [c.method for c in client.challenges]))
            await leave(await join(url, "json", "ticket"))  # forgive
        assert outcomes[0] == ("wamp.error.authentication_failed", ["ticket"])
        assert outcomes[1] == outcomes[0]

    run(test())


@pytest.mark.interop(
    peer="autobahn-python",
    transport="ws",
    serializer="json",
    features=["auth-cryptosign"],
)
def test_autobahn_unknown_cryptosign_key_without_authid(router: Router) -> None:
    """Component-style cryptosign (privkey only, no authid) with a key nobody has: a failed
    attempt like any other, ABORT wamp.error.authentication_failed."""
    url = router.urls["ws"]

    async def test() -> None:
        failed = await refused(url, "json", "cryptosign", authid=None, privkey=STRANGER_PRIVATE)
        await leave(await join(url, "json", "ticket"))  # forgive
        assert (failed.reason, failed.message) == (
            "wamp.error.authentication_failed",
            "authentication failed",
        )

    run(test())
