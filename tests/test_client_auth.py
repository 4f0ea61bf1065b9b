"""The client peer authenticating with credentials (wamp-spec.md §4.28).

The router side is played by hand (``clientkit.Scripted``): its CHALLENGEs are built, and the
client's AUTHENTICATEs checked, by ``wampcore.auth``'s verifiers, the way Crossbar.io builds and
checks them. A small scripted asyncio server (not the wampcore router) checks that both client
APIs pass the credentials through and report a refused join as ``SessionAborted``.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from clientkit import ROUTER_ROLES, Scripted
from wampcore.adapters import asyncio as wa
from wampcore.adapters import threads

from wampcore.auth import (
    AuthFailed,
    CryptosignClient,
    CryptosignVerifier,
    ScramVerifier,
    TicketClient,
    TicketVerifier,
    Verifier,
    WampCraVerifier,
    derive_cra_key,
    derive_scram_credential,
    generate_cryptosign_keypair,
)
from wampcore.client import AUTH_PREFERENCE, Aborted, ClientPeer, Credentials, Joined
from wampcore.errors import LocalProtocolError
from wampcore.messages import Abort, Authenticate, Challenge, Goodbye, Hello, Welcome, from_wire
from wampcore.transports import Payload, RawSocketClient, RawSocketServer, Ready

pytestmark = pytest.mark.timeout(60)

ABORT, AUTHENTICATE = 3, 5
PRIVATE, PUBLIC = generate_cryptosign_keypair(random.Random(42))
#: Cheap Argon2 parameters (the default ones cost a second per derivation).
SCRAM = derive_scram_credential("pw", b"0123456789abcdef", "argon2id13", iterations=2, memory=64)


def vkw(authid: str | None, session_id: int = 77) -> dict[str, Any]:
    """The keywords every verifier takes, as the router would pass them."""
    return {
        "authid": authid,
        "session_id": session_id,
        "rng": random.Random(session_id),
        "now_iso": "2024-05-01T12:00:00.000Z",
        "authrole": "user",
        "authprovider": "static",
    }


def hello_of(s: Scripted) -> dict[str, Any]:
    s.events()
    ((code, realm, details),) = s.sent()
    assert (code, realm) == (1, "realm1")
    assert isinstance(details, dict)
    return details


def answer(s: Scripted, verifier: Verifier, method: str | None = None) -> dict[str, Any]:
    """Send the verifier's CHALLENGE, check the AUTHENTICATE; the WELCOME authextra."""
    s.send(Challenge(method=method or verifier.method, extra=verifier.challenge_extra()))
    assert s.events() == []
    ((code, signature, extra),) = s.sent()
    assert code == AUTHENTICATE
    return verifier.verify(Authenticate(signature=signature, extra=extra))


def welcome(s: Scripted, method: str, authextra: dict[str, Any] | None = None) -> list[Any]:
    details: dict[str, Any] = {"roles": ROUTER_ROLES, "authid": "alice", "authmethod": method}
    details["authrole"], details["authprovider"] = "user", "static"
    if authextra is not None:
        details["authextra"] = authextra
    s.send(Welcome(session_id=77, details=details))
    return s.events()


def refused_locally(s: Scripted, reason: str) -> Aborted:
    (ev,) = s.events()
    assert isinstance(ev, Aborted) and ev.local and ev.reason == reason, ev
    (abort,) = s.sent()
    assert abort[0] == ABORT and abort[2] == reason
    assert not s.peer.is_joined and s.peer.session_id is None
    return ev


# --- the HELLO ----------------------------------------------------------------------------------


def test_hello_offers_every_credential_strongest_first() -> None:
    s = Scripted(
        authid="alice",
        ticket="t",
        secret="s",
        private_key=PRIVATE,
        password="pw",
        authextra={"x_app": 1},
        authrole="user",
        rng=random.Random(1),
    )
    details = hello_of(s)
    assert details["authmethods"] == list(AUTH_PREFERENCE)
    assert details["authmethods"] == ["cryptosign", "scram", "wampcra", "ticket"]
    assert details["authid"] == "alice" and details["authrole"] == "user"
    extra = details["authextra"]
    assert extra["pubkey"] == PUBLIC and extra["x_app"] == 1
    assert isinstance(extra["nonce"], str) and len(extra["nonce"]) == 24  # base64 of 16 bytes
    assert "anonymous" not in details["authmethods"]


def test_credentials_object_is_the_same_as_the_keywords() -> None:
    creds = Credentials(authid="alice", ticket="t", secret="s")
    a = hello_of(Scripted(credentials=creds))
    b = hello_of(Scripted(authid="alice", ticket="t", secret="s"))
    assert a == b and a["authmethods"] == ["wampcra", "ticket"] and "authextra" not in a
    assert creds.methods == ["wampcra", "ticket"]
    # An authid given to the peer completes credentials that have none.
    c = hello_of(Scripted(authid="bob", credentials=Credentials(ticket="t")))
    assert c["authid"] == "bob" and c["authmethods"] == ["ticket"]


def test_authmethods_choose_and_order_what_is_offered() -> None:
    s = Scripted(
        authid="alice",
        ticket="t",
        private_key=PRIVATE,
        authmethods=["ticket", "anonymous"],
    )
    details = hello_of(s)
    assert details["authmethods"] == ["ticket", "anonymous"]
    assert "authextra" not in details  # cryptosign is not offered: no pubkey either
    s.send(Challenge(method="cryptosign", extra={"challenge": "00" * 32}))
    refused_locally(s, "wamp.error.no_matching_auth_method")
    creds = Credentials(authid="a", ticket="t", authmethods=["anonymous", "ticket"])
    assert hello_of(Scripted(credentials=creds))["authmethods"] == ["anonymous", "ticket"]


def test_no_credentials_keep_the_hello_as_it_was() -> None:
    details = hello_of(Scripted())
    assert "authmethods" not in details and "authextra" not in details
    details = hello_of(Scripted(authmethods=["ticket"], authid="joe", authextra={"k": "v"}))
    assert details["authmethods"] == ["ticket"] and details["authextra"] == {"k": "v"}


def test_secrets_stay_out_of_repr_and_hello() -> None:
    creds = Credentials(authid="alice", ticket="T1CKET", secret="S3CRET", password="P4SS")
    assert "T1CKET" not in repr(creds) and "S3CRET" not in repr(creds)
    assert "P4SS" not in repr(creds) and "alice" in repr(creds)
    s = Scripted(credentials=creds, rng=random.Random(1))
    text = str(hello_of(s))
    assert not any(secret in text for secret in ("T1CKET", "S3CRET", "P4SS"))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"ticket": "t"},  # ticket needs an authid
        {"secret": "s"},
        {"password": "pw"},
        {"private_key": "zz" * 32},
        {"private_key": "00" * 31},
        {"credentials": Credentials(ticket="t"), "ticket": "t", "authid": "a"},
        {"credentials": Credentials(authid="a", ticket="t"), "authid": "b"},
        {"authid": "a", "ticket": "t", "auth": [TicketClient("u")]},  # two ticket clients
        {"private_key": PRIVATE, "authextra": {"pubkey": "11" * 32}},
        {"auth": [object()]},
        {"authmethods": "ticket"},
    ],
)
def test_bad_credentials_are_refused_at_construction(kwargs: dict[str, Any]) -> None:
    with pytest.raises(LocalProtocolError):
        ClientPeer("realm1", RawSocketClient(), **kwargs)


# --- answering each method ----------------------------------------------------------------------


def test_ticket() -> None:
    s = Scripted(authid="alice", ticket="secret-ticket")
    assert hello_of(s)["authmethods"] == ["ticket"]
    assert answer(s, TicketVerifier("secret-ticket", **vkw("alice"))) == {}
    (ev,) = welcome(s, "ticket")
    assert isinstance(ev, Joined) and ev.authmethod == "ticket" and s.peer.is_joined


@pytest.mark.parametrize("salted", [False, True])
def test_wampcra_plain_and_salted(salted: bool) -> None:
    s = Scripted(authid="alice", secret="s3cret")
    hello_of(s)
    if salted:
        key = derive_cra_key("s3cret", "salt123", 1000, 32)
        verifier = WampCraVerifier(
            derived_key=key, salt="salt123", iterations=1000, keylen=32, **vkw("alice")
        )
        assert {"salt", "iterations", "keylen"} <= set(verifier.challenge_extra())
    else:
        verifier = WampCraVerifier("s3cret", **vkw("alice"))
    answer(s, verifier)
    (ev,) = welcome(s, "wampcra")
    assert isinstance(ev, Joined) and ev.authmethod == "wampcra"


def test_wampcra_wrong_secret_does_not_verify() -> None:
    s = Scripted(authid="alice", secret="wrong")
    hello_of(s)
    with pytest.raises(AuthFailed, match="does not match"):
        answer(s, WampCraVerifier("s3cret", **vkw("alice")))


def test_cryptosign_without_authid() -> None:
    s = Scripted(private_key=PRIVATE)
    details = hello_of(s)
    assert details["authmethods"] == ["cryptosign"] and "authid" not in details
    verifier = CryptosignVerifier([PUBLIC], details["authextra"], **vkw(None))
    answer(s, verifier)
    (ev,) = welcome(s, "cryptosign")
    assert isinstance(ev, Joined)


def test_cryptosign_raw_seed_bytes() -> None:
    s = Scripted(private_key=bytes.fromhex(PRIVATE), authid="alice")
    details = hello_of(s)
    assert details["authextra"]["pubkey"] == PUBLIC
    answer(s, CryptosignVerifier([PUBLIC], details["authextra"], **vkw("alice")))


@pytest.mark.parametrize("kdf", ["argon2id13", "pbkdf2"])
def test_scram_verifies_the_router_too(kdf: str) -> None:
    cred = SCRAM if kdf == "argon2id13" else derive_scram_credential("pw", b"salt", "pbkdf2", 4096)
    s = Scripted(authid="alice", password="pw", rng=random.Random(3))
    details = hello_of(s)
    assert details["authmethods"] == ["scram"]
    verifier = ScramVerifier(cred, details["authextra"], **vkw("alice"))
    authextra = answer(s, verifier)
    assert authextra["scram_server_signature"]
    (ev,) = welcome(s, "scram", authextra)
    assert isinstance(ev, Joined) and ev.authmethod == "scram" and s.peer.session_id == 77


def test_scram_spec_spelling_of_the_method() -> None:
    s = Scripted(authid="alice", password="pw", authmethods=["wamp-scram"], rng=random.Random(3))
    details = hello_of(s)
    assert details["authmethods"] == ["wamp-scram"] and "nonce" in details["authextra"]
    authextra = answer(s, ScramVerifier(SCRAM, details["authextra"], **vkw("alice")), "wamp-scram")
    assert isinstance(welcome(s, "wamp-scram", authextra)[0], Joined)


@pytest.mark.parametrize(
    "authextra",
    [None, {}, {"scram_server_signature": "AAAA"}, {"verifier": "bm90IGl0"}],
    ids=["no-authextra", "empty", "wrong", "wrong-verifier"],
)
def test_scram_welcome_without_the_server_signature_is_refused(
    authextra: dict[str, Any] | None,
) -> None:
    s = Scripted(authid="alice", password="pw", rng=random.Random(3))
    details = hello_of(s)
    answer(s, ScramVerifier(SCRAM, details["authextra"], **vkw("alice")))
    details = {"roles": ROUTER_ROLES, "authmethod": "scram"}
    if authextra is not None:
        details["authextra"] = authextra
    s.send(Welcome(session_id=77, details=details))
    ev = refused_locally(s, "wamp.error.authentication_failed")
    assert ev.message and "scram" in ev.message
    # The transport stays open: a new join (with a fresh nonce) may follow.
    assert not s.peer.closed


def test_scram_router_nonce_must_extend_ours() -> None:
    s = Scripted(authid="alice", password="pw", rng=random.Random(3))
    hello_of(s)
    other = ScramVerifier(SCRAM, {"nonce": "AAAAAAAAAAAAAAAAAAAAAA=="}, **vkw("alice"))
    s.send(Challenge(method="scram", extra=other.challenge_extra()))
    ev = refused_locally(s, "wamp.error.authentication_failed")
    assert ev.message and "nonce" in ev.message


def test_rejoin_sends_a_fresh_scram_nonce() -> None:
    s = Scripted(authid="alice", password="pw", rng=random.Random(3))
    first = hello_of(s)["authextra"]["nonce"]
    s.send(Abort(details={}, reason="wamp.error.authentication_failed"))
    assert isinstance(s.events()[0], Aborted)
    s.peer.join()
    second = hello_of(s)["authextra"]
    assert second["nonce"] != first
    authextra = answer(s, ScramVerifier(SCRAM, second, **vkw("alice")))
    assert isinstance(welcome(s, "scram", authextra)[0], Joined)


# --- choosing the method ------------------------------------------------------------------------


def test_the_challenge_picks_the_method_client() -> None:
    s = Scripted(authid="alice", ticket="t", secret="s3cret", private_key=PRIVATE)
    details = hello_of(s)
    assert details["authmethods"] == ["cryptosign", "wampcra", "ticket"]
    answer(s, WampCraVerifier("s3cret", **vkw("alice")))  # the router chose wampcra
    assert isinstance(welcome(s, "wampcra")[0], Joined)


def test_a_challenge_for_a_method_not_offered_aborts() -> None:
    s = Scripted(authid="alice", ticket="t")
    hello_of(s)
    s.send(Challenge(method="wampcra", extra={"challenge": "{}"}))
    ev = refused_locally(s, "wamp.error.no_matching_auth_method")
    assert ev.message and "wampcra" in ev.message and "ticket" in ev.message


def test_the_responder_still_answers_other_methods() -> None:
    seen: list[str] = []

    def responder(ch: Challenge) -> Authenticate:
        seen.append(ch.method)
        return Authenticate(signature="123456", extra={})

    s = Scripted(authid="alice", ticket="t", authmethods=["ticket", "totp"], responder=responder)
    hello_of(s)
    answer(s, TicketVerifier("t", **vkw("alice")))  # ticket by the credentials
    s.send(Challenge(method="totp", extra={}))  # a second factor, by the responder
    s.events()
    assert s.sent() == [[AUTHENTICATE, "123456", {}]]
    assert seen == ["totp"]
    assert isinstance(welcome(s, "ticket")[0], Joined)


def test_an_unanswerable_challenge_aborts_authentication_failed() -> None:
    s = Scripted(private_key=PRIVATE)
    hello_of(s)
    s.send(Challenge(method="cryptosign", extra={"challenge": "not hex"}))
    refused_locally(s, "wamp.error.authentication_failed")


def test_auth_objects_are_offered_first() -> None:
    client = CryptosignClient(PRIVATE)
    s = Scripted(authid="alice", ticket="t", auth=[client])
    details = hello_of(s)
    assert details["authmethods"] == ["cryptosign", "ticket"]
    answer(s, CryptosignVerifier([PUBLIC], details["authextra"], **vkw("alice")))


# --- both client APIs, against a scripted server ------------------------------------------------


class ScriptedServer:
    """A RawSocket server on its own thread that authenticates with one verifier per HELLO."""

    def __init__(self, make_verifier: Callable[[Hello], Verifier | None]) -> None:
        self.make_verifier = make_verifier
        self.hellos: list[dict[str, Any]] = []
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert self.ready.wait(10)
        self.url = f"rs://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self.server = server
        self.ready.set()
        self.loop.run_forever()
        server.close()
        self.loop.run_until_complete(server.wait_closed())
        self.loop.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        framing, ser, verifier = RawSocketServer(), None, None
        try:
            while data := await reader.read(65536):
                framing.receive_data(data)
                while (ev := framing.next_event()) is not None:
                    if isinstance(ev, Ready):
                        ser = ev.serializer
                    elif isinstance(ev, Payload):
                        assert ser is not None
                        for wire in ser.decode(ev.data):
                            msg = from_wire(wire)
                            reply = self._reply(msg, verifier)
                            if isinstance(msg, Hello):
                                verifier = reply[1]
                            if reply[0] is not None:
                                framing.send(ser.encode(reply[0].to_wire()))
                writer.write(framing.data_to_send())
                await writer.drain()
        finally:
            writer.close()

    def _reply(self, msg: Any, verifier: Verifier | None) -> tuple[Any, Verifier | None]:
        if isinstance(msg, Hello):
            self.hellos.append(msg.details)
            verifier = self.make_verifier(msg)
            if verifier is None:
                return Abort(details={}, reason="wamp.error.no_matching_auth_method"), None
            return Challenge(method=verifier.method, extra=verifier.challenge_extra()), verifier
        if isinstance(msg, Authenticate):
            assert verifier is not None
            try:
                authextra = verifier.verify(msg)
            except AuthFailed as exc:
                return Abort(details={"message": str(exc)}, reason=AuthFailed.uri), None
            details = {"roles": ROUTER_ROLES, "authid": "alice", "authmethod": verifier.method}
            details.update(authrole="user", authprovider="static", authextra=authextra)
            return Welcome(session_id=99, details=details), None
        if isinstance(msg, Goodbye):
            return Goodbye(details={}, reason="wamp.close.goodbye_and_out"), None
        return None, verifier

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def _make_verifier(hello: Hello) -> Verifier | None:
    d = hello.details
    methods, authid = d.get("authmethods") or [], d.get("authid")
    if "scram" in methods:
        return ScramVerifier(SCRAM, d.get("authextra"), **vkw(authid))
    if "cryptosign" in methods:
        return CryptosignVerifier([PUBLIC], d.get("authextra"), **vkw(authid))
    if "ticket" in methods:
        return TicketVerifier("good-ticket", **vkw(authid))
    return None


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    s = ScriptedServer(_make_verifier)
    try:
        yield s
    finally:
        s.close()


def test_asyncio_connect_passes_the_credentials(server: ScriptedServer) -> None:
    async def go() -> None:
        async with wa.connect(server.url, "realm1", authid="alice", password="pw") as session:
            assert session.details.authmethod == "scram"
        async with wa.connect(server.url, "realm1", private_key=PRIVATE) as session:
            assert session.details.authmethod == "cryptosign"
        with pytest.raises(wa.SessionAborted) as caught:
            await wa.connect(server.url, "realm1", authid="alice", ticket="bad-ticket")
        assert caught.value.reason == "wamp.error.authentication_failed"
        with pytest.raises(wa.SessionAborted) as caught:
            await wa.connect(server.url, "realm1", authid="alice", secret="s")
        assert caught.value.reason == "wamp.error.no_matching_auth_method"

    asyncio.run(asyncio.wait_for(go(), 30))
    assert server.hellos[0]["authmethods"] == ["scram"]
    assert server.hellos[1]["authextra"] == {"pubkey": PUBLIC}


def test_threads_connect_passes_the_credentials(server: ScriptedServer) -> None:
    with threads.connect(server.url, "realm1", authid="alice", ticket="good-ticket") as session:
        assert session.session_id == 99
    with pytest.raises(threads.SessionAborted) as caught:
        threads.connect(server.url, "realm1", authid="alice", ticket="bad", authrole="user")
    assert caught.value.reason == "wamp.error.authentication_failed"
    assert server.hellos[-1]["authrole"] == "user"
