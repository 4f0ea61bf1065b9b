"""The router's authentication and authorization, end to end in memory (wamp-spec.md §4.28, §10).

Scripted peers over real framings (tests/netharness.py) join realms with static principals,
a dynamic authenticator procedure and application decisions (router events); the wampcore.auth
client halves compute the answers. Then the authorization of each action, disclosure, the meta
API, a dynamic authorizer and the embedder's hook.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from netharness import Network, TestPeer

from wampcore.auth.cryptosign import CryptosignClient, generate_cryptosign_keypair
from wampcore.auth.scram import ScramClient, derive_scram_credential
from wampcore.auth.ticket import TicketClient
from wampcore.auth.wampcra import WampCraClient
from wampcore.client import InvocationReceived, RegistrationCreated
from wampcore.config import (
    Limits,
    PermissionConfig,
    PrincipalConfig,
    RealmConfig,
    RoleConfig,
    RouterConfig,
    ScramConfig,
)
from wampcore.errors import ConfigError
from wampcore.messages import (
    Abort,
    Authenticate,
    Challenge,
    Error,
    Event,
    Invocation,
    Published,
    Registered,
    Result,
    Subscribed,
    Welcome,
)
from wampcore.router import Router
from wampcore.router.authorization import Decision
from wampcore.router.events import AuthenticateReceived, AuthenticationRequested

RNG = random.Random(7)
PRIVATE, PUBLIC = generate_cryptosign_keypair(RNG)
SCRAM = derive_scram_credential("s3cret-pw", salt=b"0123456789abcdef", iterations=2, memory=64)

EVERYTHING = PermissionConfig(
    uri="",
    match="prefix",
    call=True,
    register=True,
    publish=True,
    subscribe=True,
    disclose_caller=True,
    disclose_publisher=True,
)
READER = RoleConfig(
    name="reader",
    permissions=[
        PermissionConfig(uri="com.example.public.", match="prefix", call=True, subscribe=True),
        PermissionConfig(uri="com.example.public.admin", match="exact"),
        PermissionConfig(uri="com.example..echo", match="wildcard", call=True),
    ],
)


def principals() -> list[PrincipalConfig]:
    return [
        PrincipalConfig(authid="ticketuser", role="frontend", ticket="tick-et"),
        PrincipalConfig(authid="crauser", role="frontend", secret="cra-secret"),
        PrincipalConfig(
            authid="crasalted",
            role="frontend",
            secret="salted-secret",  # the router derives the key, as Crossbar does
            salt="salt123",
            iterations=100,
            keylen=32,
        ),
        PrincipalConfig(authid="csuser", role="frontend", cryptosign_keys=[PUBLIC]),
        PrincipalConfig(
            authid="scramuser",
            role="frontend",
            scram=ScramConfig(
                kdf=SCRAM["kdf"],
                salt=SCRAM["salt"],
                iterations=SCRAM["iterations"],
                memory=SCRAM["memory"],
                stored_key=SCRAM["stored_key"],
                server_key=SCRAM["server_key"],
            ),
        ),
        PrincipalConfig(authid="readeruser", role="reader", ticket="read-only"),
    ]


def auth_realm(**more: Any) -> RealmConfig:
    return RealmConfig(
        name="authrealm",
        allow_anonymous=False,
        roles=[RoleConfig(name="frontend", permissions=[EVERYTHING]), READER],
        principals=principals(),
        **more,
    )


def network(*realms: RealmConfig, **config: Any) -> Network:
    return Network(RouterConfig(realms=[RealmConfig("realm1"), *realms], **config))


def hello(peer: TestPeer, authid: str | None, methods: list[str], **extra: Any) -> None:
    details: dict[str, Any] = {"authmethods": methods}
    if authid is not None:
        details["authid"] = authid
    if extra:
        details["authextra"] = extra
    if peer.serializer is None:
        peer.net.pump()
    peer.hello("authrealm", **details)
    peer.net.pump()


def answer(peer: TestPeer, client: Any) -> None:
    """Answer the CHALLENGE received with the wampcore.auth client half."""
    challenge = peer.last(Challenge)
    peer.send(client.respond(challenge))
    peer.net.pump()


def login(net: Network, authid: str, client: Any) -> TestPeer:
    peer = net.connect()
    hello(peer, authid, [client.method], **client.authextra())
    assert peer.last(Challenge).method == client.method
    answer(peer, client)
    welcome = peer.last(Welcome)
    peer.session_id = welcome.session_id
    return peer


# -- methods ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("authid", "make"),
    [
        ("ticketuser", lambda: TicketClient("tick-et")),
        ("crauser", lambda: WampCraClient("cra-secret")),
        ("crasalted", lambda: WampCraClient("salted-secret")),
        ("csuser", lambda: CryptosignClient(PRIVATE)),
        ("scramuser", lambda: ScramClient("scramuser", "s3cret-pw", random.Random(3))),
    ],
)
def test_every_method_admits_its_principal_wamp_spec_4_28(authid: str, make: Any) -> None:
    net = network(auth_realm())
    client = make()
    peer = login(net, authid, client)
    details = peer.last(Welcome).details
    assert (details["authid"], details["authrole"]) == (authid, "frontend")
    assert (details["authmethod"], details["authprovider"]) == (client.method, "static")
    client.check_welcome(details.get("authextra", {}))  # SCRAM: the router proved itself
    net.check()


@pytest.mark.parametrize(
    ("authid", "make"),
    [
        ("ticketuser", lambda: TicketClient("wrong")),
        ("crauser", lambda: WampCraClient("wrong")),
        ("crasalted", lambda: WampCraClient("wrong")),
        ("csuser", lambda: CryptosignClient(generate_cryptosign_keypair(RNG)[0])),
        ("scramuser", lambda: ScramClient("scramuser", "wrong", random.Random(3))),
        ("nobody", lambda: TicketClient("tick-et")),  # unknown authid: the same answer
        ("nobody", lambda: WampCraClient("cra-secret")),
    ],
)
def test_each_failure_is_one_generic_abort_wamp_spec_4_28(authid: str, make: Any) -> None:
    net = network(auth_realm())
    client = make()
    peer = net.connect()
    hello(peer, authid, [client.method], **client.authextra())
    if client.method == "cryptosign" and authid == "csuser":
        # A key the principal does not have: refused at once (the key is public).
        abort = peer.last(Abort)
    else:
        answer(peer, client)
        abort = peer.last(Abort)
    assert abort.reason == "wamp.error.authentication_failed"
    assert abort.details == {"message": "authentication failed"}  # nothing about which part
    assert peer.take(Welcome) == []
    net.check()


def test_no_matching_method_and_anonymous_refused_wamp_spec_4_28() -> None:
    net = network(auth_realm())
    peer = net.connect()
    hello(peer, "ticketuser", ["anonymous"])
    assert peer.last(Abort).reason == "wamp.error.no_matching_auth_method"
    other = net.connect()
    if other.serializer is None:
        net.pump()
    other.hello("authrealm")  # no authmethods at all: anonymous, which the realm refuses
    net.pump()
    assert other.last(Abort).reason == "wamp.error.no_matching_auth_method"


def test_the_realm_preference_order_picks_the_method_wamp_spec_4_28() -> None:
    net = network(auth_realm(auth_methods=["wampcra", "ticket"]))
    peer = net.connect()
    hello(peer, "crauser", ["ticket", "wampcra"])
    assert peer.last(Challenge).method == "wampcra"


def test_authenticate_out_of_turn_is_a_violation_wamp_spec_3_6() -> None:
    net = network(auth_realm())
    peer = net.connect()
    net.pump()
    peer.send_wire([5, "x", {}])
    net.pump()
    assert peer.last(Abort).reason == "wamp.error.protocol_violation"
    again = net.connect()
    hello(again, "ticketuser", ["ticket"])
    answer(again, TicketClient("tick-et"))
    assert again.last(Welcome)
    again.send_wire([5, "tick-et", {}])  # twice: not in CHALLENGING
    net.pump()
    assert again.last(Abort).reason == "wamp.error.protocol_violation"


def test_a_cryptosign_signature_is_bound_to_its_challenge_wamp_spec_4_28() -> None:
    """No replay: an AUTHENTICATE captured on one connection fails on another."""
    net = network(auth_realm())
    client = CryptosignClient(PRIVATE)
    first = net.connect()
    hello(first, "csuser", ["cryptosign"], **client.authextra())
    captured = client.respond(first.last(Challenge))
    second = net.connect()
    hello(second, "csuser", ["cryptosign"], **client.authextra())
    second.send(captured)
    net.pump()
    assert second.last(Abort).reason == "wamp.error.authentication_failed"
    first.send(captured)
    net.pump()
    assert first.last(Welcome)


def test_repeated_failures_from_one_address_are_slowed_down_wamp_spec_4_28() -> None:
    net = network(auth_realm())
    delays = []
    for _ in range(3):
        peer = net.connect(transport_info={"peer": "tcp4:10.0.0.9:4000"})
        hello(peer, "ticketuser", ["ticket"])
        started = net.now
        answer(peer, TicketClient("wrong"))
        while not peer.take(Abort):
            assert net.router.next_deadline() is not None
            net.advance(0.05)
        delays.append(net.now - started)
    assert delays[0] < delays[1] < delays[2]
    # another address is not slowed down, and success is immediate
    fresh = net.connect(transport_info={"peer": "tcp4:10.0.0.10:4000"})
    hello(fresh, "ticketuser", ["ticket"])
    answer(fresh, TicketClient("tick-et"))
    assert fresh.last(Welcome)


def test_missing_crypto_extra_fails_at_startup_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import wampcore.router.router as router_module

    monkeypatch.setattr(router_module, "extra_needed", lambda method: "wampcore[crypto]")
    with pytest.raises(ConfigError) as raised:
        Router(RouterConfig(realms=[auth_realm()]))
    assert "pip install 'wampcore[crypto]'" in str(raised.value)
    assert "\n" not in str(raised.value)


# -- dynamic authentication ---------------------------------------------------------------------


def authenticator_network(answers: dict[str, Any]) -> tuple[Network, Any, list[Any]]:
    realm = RealmConfig(
        name="authrealm",
        allow_anonymous=False,
        roles=[RoleConfig(name="frontend", permissions=[EVERYTHING])],
        authenticator="com.example.authenticate",
        authenticator_realm="realm1",
    )
    net = network(realm)
    calls: list[Any] = []
    local = net.router.open_local_session("realm1")
    local.next_event()  # Joined
    local.register("com.example.authenticate")
    assert isinstance(local.next_event(), RegistrationCreated)

    def serve() -> None:
        while (ev := local.next_event()) is not None:
            if isinstance(ev, InvocationReceived):
                calls.append(ev.args)
                _realm, authid, details = ev.args or []
                verdict = answers.get(authid)
                if verdict is None:
                    local.yield_error(ev.request_id, "wamp.error.not_authorized", ["no"])
                elif verdict == "junk":
                    local.yield_result(ev.request_id, [42])
                elif callable(verdict):
                    local.yield_result(ev.request_id, [verdict(details)])
                else:
                    local.yield_result(ev.request_id, [verdict])

    return net, serve, calls


def test_dynamic_authenticator_ticket_wamp_spec_4_28() -> None:
    """Called as Crossbar calls it: (realm, authid, details) with the ticket in details."""
    net, serve, calls = authenticator_network(
        {"dyn": lambda d: "frontend" if d.get("ticket") == "t0k3n" else None}
    )
    peer = net.connect()
    hello(peer, "dyn", ["ticket"])
    assert peer.last(Challenge).method == "ticket"
    peer.send(Authenticate(signature="t0k3n"))
    net.pump()
    serve()
    net.pump()
    details = peer.last(Welcome).details
    assert (details["authrole"], details["authprovider"]) == ("frontend", "dynamic")
    assert calls[0][0] == "authrealm" and calls[0][1] == "dyn"
    assert calls[0][2]["authmethod"] == "ticket" and calls[0][2]["ticket"] == "t0k3n"


def test_dynamic_authenticator_wampcra_secret_and_denial_wamp_spec_4_28() -> None:
    net, serve, _ = authenticator_network({"cra": {"role": "frontend", "secret": "dyn-secret"}})
    peer = net.connect()
    hello(peer, "cra", ["wampcra"])
    serve()
    net.pump()
    answer(peer, WampCraClient("dyn-secret"))
    assert peer.last(Welcome).details["authmethod"] == "wampcra"
    denied = net.connect()
    hello(denied, "stranger", ["wampcra"])
    serve()
    net.pump()
    assert denied.last(Abort).reason == "wamp.error.not_authorized"
    net2, serve2, _ = authenticator_network({"j": "junk"})
    junk = net2.connect()
    hello(junk, "j", ["wampcra"])
    serve2()
    net2.pump()
    assert junk.last(Abort).reason == "wamp.error.authentication_failed"


def test_dynamic_authenticator_missing_times_out_or_fails_cleanly_wamp_spec_4_28() -> None:
    realm = RealmConfig(
        name="authrealm",
        allow_anonymous=False,
        authenticator="com.example.nobody",
        authenticator_realm="realm1",
    )
    net = network(realm)
    peer = net.connect()
    hello(peer, "x", ["wampcra"])
    assert peer.last(Abort).reason == "wamp.error.authentication_failed"
    net.check()


def test_application_decides_through_router_events_wamp_spec_4_28() -> None:
    realm = RealmConfig(
        name="authrealm",
        allow_anonymous=False,
        roles=[RoleConfig(name="frontend", permissions=[EVERYTHING])],
        auth_events=True,
    )
    net = network(realm)
    peer = net.connect()
    hello(peer, "app", ["ticket"])
    requested = net.events_of(AuthenticationRequested)[-1]
    assert (requested.peer, requested.authid, requested.authmethod) == (peer.id, "app", "ticket")
    assert net.router.auth_challenge(peer.id, "ticket", {})
    net.pump()
    peer.send(Authenticate(signature="secret-ticket"))
    net.pump()
    received = net.events_of(AuthenticateReceived)[-1]
    assert received.signature == "secret-ticket" and "secret-ticket" not in repr(received)
    assert net.router.auth_welcome(peer.id, "frontend", authextra={"x": 1})
    net.pump()
    details = peer.last(Welcome).details
    assert (details["authrole"], details["authextra"]) == ("frontend", {"x": 1})
    # deny, and a peer that leaves while its decision is pending leaves nothing behind
    other = net.connect()
    hello(other, "app2", ["ticket"])
    assert net.router.auth_deny(other.id, "wamp.error.not_authorized", "go away")
    net.pump()
    assert other.last(Abort).reason == "wamp.error.not_authorized"
    gone = net.connect()
    hello(gone, "app3", ["ticket"])
    gone.vanish()
    net.pump()
    assert not net.router.auth_welcome(gone.id, "frontend")
    assert net.router.sessions.auth.promised == set()  # nothing of the three attempts is left
    net.check()


# -- authorization -------------------------------------------------------------------------------


def test_authorization_matrix_reader_role_wamp_spec_10() -> None:
    net = network(auth_realm())
    admin = login(net, "ticketuser", TicketClient("tick-et"))
    reader = login(net, "readeruser", TicketClient("read-only"))
    for uri in ("com.example.public.x", "com.example.public.admin", "com.example.a.echo"):
        admin.register(uri)
    net.pump()
    assert len(admin.all(Registered)) == 3

    reader.call("com.example.public.x")  # prefix rule: call allowed
    net.pump()
    inv = admin.one(Invocation)
    assert inv.details.get("caller") is None  # the reader's rule does not disclose
    admin.yield_(inv.request_id, [1])
    net.pump()
    assert reader.last(Result).args == [1]

    reader.call("com.example.public.admin")  # the exact rule (all false) beats the prefix
    net.pump()
    assert reader.last(Error).error == "wamp.error.not_authorized"
    reader.call("com.example.a.echo")  # wildcard rule
    net.pump()
    assert admin.take(Invocation)
    reader.register("com.example.public.mine")  # no register right anywhere
    net.pump()
    assert reader.last(Error).error == "wamp.error.not_authorized"
    reader.publish("com.example.public.news", acknowledge=True)
    net.pump()
    assert reader.last(Error).error == "wamp.error.not_authorized"
    reader.subscribe("com.example.public.news")
    net.pump()
    assert reader.last(Subscribed)
    reader.call("wamp.session.count")  # the meta API is authorized like any URI: no rule
    net.pump()
    assert reader.last(Error).error == "wamp.error.not_authorized"
    net.check()


def test_disclosure_by_rule_wamp_spec_10() -> None:
    net = network(auth_realm())
    callee = login(net, "crauser", WampCraClient("cra-secret"))
    caller = login(net, "ticketuser", TicketClient("tick-et"))
    callee.register("com.example.p")
    callee.subscribe("com.example.t")
    net.pump()
    caller.call("com.example.p")
    caller.publish("com.example.t", acknowledge=True)
    net.pump()
    inv = callee.one(Invocation)
    assert inv.details["caller"] == caller.session_id
    assert inv.details["caller_authid"] == "ticketuser"
    event = callee.last(Event)
    assert event.details["publisher"] == caller.session_id
    assert caller.last(Published)
    frontend_meta = caller
    frontend_meta.call("wamp.session.count")
    net.pump()
    assert frontend_meta.last(Result).args == [2]


def test_embedder_hook_decides_first_wamp_spec_10() -> None:
    net = network(auth_realm())
    seen: list[tuple[Any, ...]] = []

    def hook(details: Any, uri: str, action: str, options: Any) -> Any:
        seen.append((details["authid"], uri, action))
        if uri == "com.example.forbidden":
            return False
        if uri == "com.example.open":
            return Decision(True, disclose=False)
        return None

    net.router.set_authorization_hook(hook)
    peer = login(net, "ticketuser", TicketClient("tick-et"))
    peer.publish("com.example.forbidden", acknowledge=True)
    peer.publish("com.example.open", acknowledge=True)
    peer.publish("com.example.other", acknowledge=True)
    net.pump()
    assert peer.all(Error)[-1].error == "wamp.error.not_authorized"
    assert len(peer.all(Published)) == 2
    assert ("ticketuser", "com.example.forbidden", "publish") in seen


def test_dynamic_authorizer_keeps_order_and_caches_wamp_spec_10() -> None:
    realm = RealmConfig(name="realm2", authorizer="com.example.authorize")
    net = network(realm)
    local = net.router.open_local_session("realm2")
    local.next_event()
    local.register("com.example.authorize")
    assert isinstance(local.next_event(), RegistrationCreated)
    asked: list[Any] = []
    peer = net.connect()
    peer.join("realm2")
    peer.publish("com.example.no", acknowledge=True)
    peer.publish("com.example.yes", acknowledge=True)
    peer.publish("com.example.yes", acknowledge=True)
    net.pump()
    assert peer.take(Published) == [] and peer.take(Error) == []  # waiting for the authorizer
    answered = True
    while answered:  # play the authorizer until it is asked nothing more
        answered = False
        while (ev := local.next_event()) is not None:
            if isinstance(ev, InvocationReceived):
                _session, uri, action, _options = ev.args or []
                asked.append((uri, action))
                verdict = {"allow": uri == "com.example.yes", "cache": True}
                local.yield_result(ev.request_id, [verdict])
                answered = True
        net.pump()
    replies = peer.take_matching(Published, Error)
    assert [type(r).__name__ for r in replies] == ["Error", "Published", "Published"]
    assert asked == [("com.example.no", "publish"), ("com.example.yes", "publish")]  # cached
    net.check()


def test_open_realms_stay_open_by_default() -> None:
    net = Network(RouterConfig())
    peer = net.join()
    peer.call("wamp.session.count")
    peer.register("com.example.anything")
    net.pump()
    assert peer.last(Result).args == [1] and peer.last(Registered)


# -- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authextra",
    [
        {"pubkey": "ab" * 31},  # too short
        {"pubkey": "zz" * 32},  # not hex
        {"pubkey": 12345},
        {"pubkey": PUBLIC, "channel_binding": "tls-unique"},  # no channel id on this transport
        {"pubkey": PUBLIC, "channel_binding": 7},
    ],
)
def test_junk_cryptosign_authextra_is_refused_cleanly_wamp_spec_4_28(authextra: Any) -> None:
    net = network(auth_realm())
    bystander = login(net, "ticketuser", TicketClient("tick-et"))
    peer = net.connect()
    hello(peer, "csuser", ["cryptosign"], **authextra)
    assert peer.last(Abort).reason == "wamp.error.authentication_failed"
    assert peer.take(Challenge) == []
    bystander.call("wamp.session.count")
    net.pump()
    assert bystander.last(Result).args == [1]  # nothing else was disturbed
    net.check()


@pytest.mark.parametrize(
    "details",
    [
        {"authmethods": "ticket"},
        {"authmethods": [1, 2]},
        {"authmethods": ["ticket"], "authid": 5},
        {"authmethods": ["scram"], "authid": "scramuser", "authextra": {"nonce": 5}},
        {"authmethods": ["scram"], "authid": "scramuser", "authextra": {"nonce": "%%%"}},
    ],
)
def test_junk_hello_details_end_in_an_abort_wamp_spec_4_28(details: dict[str, Any]) -> None:
    net = network(auth_realm())
    peer = net.connect()
    net.pump()
    peer.send_wire([1, "authrealm", {"roles": {"caller": {}}, **details}])
    net.pump()
    abort = peer.last(Abort)
    assert abort.reason in (
        "wamp.error.authentication_failed",
        "wamp.error.no_matching_auth_method",
        "wamp.error.protocol_violation",
    )
    assert peer.take(Welcome) == []


def test_a_role_without_permissions_joins_but_may_do_nothing_wamp_spec_10() -> None:
    realm = auth_realm()
    realm.roles.append(RoleConfig(name="nothing"))
    realm.principals.append(PrincipalConfig(authid="idle", role="nothing", ticket="idle-t"))
    net = network(realm)
    peer = login(net, "idle", TicketClient("idle-t"))
    for rid_of in (
        lambda: peer.call("com.example.x"),
        lambda: peer.register("com.example.x"),
        lambda: peer.subscribe("com.example.x"),
        lambda: peer.publish("com.example.x", acknowledge=True),
    ):
        rid_of()
        net.pump()
        assert peer.last(Error).error == "wamp.error.not_authorized"
    net.check()


def test_an_authenticator_that_never_answers_ends_within_the_deadline_wamp_spec_4_28() -> None:
    realm = RealmConfig(
        name="authrealm",
        allow_anonymous=False,
        authenticator="com.example.slow",
        authenticator_realm="realm1",
    )
    net = network(realm, limits=Limits(handshake_timeout=2.0))
    local = net.router.open_local_session("realm1")
    local.next_event()
    local.register("com.example.slow")
    assert isinstance(local.next_event(), RegistrationCreated)
    peer = net.connect()
    hello(peer, "x", ["wampcra"])
    assert isinstance(local.next_event(), InvocationReceived)  # asked, never answers
    net.advance(2.5)
    assert peer.gone
    assert peer.take(Welcome) == []
    assert net.router.sessions.auth.promised == set()


def test_a_known_principal_falls_through_to_a_method_it_has_wamp_spec_4_28() -> None:
    """ticketuser offers wampcra first: it has no WAMP-CRA secret, so ticket is used."""
    net = network(auth_realm(auth_methods=["wampcra", "ticket"]))
    peer = net.connect()
    hello(peer, "ticketuser", ["wampcra", "ticket"])
    assert peer.last(Challenge).method == "ticket"
    answer(peer, TicketClient("tick-et"))
    assert peer.last(Welcome).details["authmethod"] == "ticket"
