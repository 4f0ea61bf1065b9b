"""Router configuration: defaults, and ``validate()`` naming the offending field.

Includes the realm's authentication and authorization settings (wamp-spec §4.28): auth methods,
roles and their permission rules, principals and their credentials, which never appear in an
error message or a repr.
"""

from __future__ import annotations

from typing import Any

import pytest

from wampcore import ConfigError, LocalProtocolError
from wampcore.config import (
    AUTH_METHODS,
    HistoryConfig,
    Limits,
    PermissionConfig,
    PrincipalConfig,
    RealmConfig,
    RoleConfig,
    RouterConfig,
    ScramConfig,
)
from wampcore.router import Router


def test_defaults_serve_realm1_and_validate() -> None:
    config = RouterConfig()
    config.validate()
    assert [r.name for r in config.realms] == ["realm1"]
    assert config.outbound_policy == "drop"
    assert config.strict_request_ids and not config.strict_uris and not config.auto_create_realms
    limits = config.limits
    assert limits.max_message_size == 16 * 1024 * 1024
    assert limits.handshake_timeout == 10.0
    assert limits.outbound_queue_bytes > 0 and limits.max_sessions_per_realm > 0
    assert limits.max_pending_calls_per_session > 0
    assert Router().realms == ["realm1"]


def test_default_instances_are_not_shared() -> None:
    a, b = RouterConfig(), RouterConfig()
    a.realms.append(RealmConfig("other"))
    a.limits.handshake_timeout = 1.0
    assert [r.name for r in b.realms] == ["realm1"] and b.limits.handshake_timeout == 10.0


BAD: list[tuple[dict[str, Any], str]] = [
    ({"realms": "realm1"}, "realms"),
    ({"realms": ["realm1"]}, "realms[0]"),
    ({"realms": [RealmConfig("bad realm")]}, "realms[0].name"),
    ({"realms": [RealmConfig("a"), RealmConfig("b"), RealmConfig("a")]}, "realms[2].name"),
    ({"realms": [RealmConfig("a", allow_anonymous="yes")]}, "realms[0].allow_anonymous"),  # type: ignore[arg-type]
    ({"realms": [RealmConfig("com.Upper")], "strict_uris": True}, "realms[0].name"),
    ({"auto_create_realms": 1}, "auto_create_realms"),
    ({"limits": {}}, "limits"),
    ({"limits": Limits(max_message_size=0)}, "limits.max_message_size"),
    ({"limits": Limits(max_sessions_per_realm=-1)}, "limits.max_sessions_per_realm"),
    (
        {"limits": Limits(max_pending_calls_per_session=True)},
        "limits.max_pending_calls_per_session",
    ),
    ({"limits": Limits(handshake_timeout=0)}, "limits.handshake_timeout"),
    ({"limits": Limits(handshake_timeout=float("nan"))}, "limits.handshake_timeout"),
    ({"limits": Limits(handshake_timeout=float("inf"))}, "limits.handshake_timeout"),
    ({"limits": Limits(outbound_queue_bytes=1.5)}, "limits.outbound_queue_bytes"),  # type: ignore[arg-type]
    ({"outbound_policy": "block"}, "outbound_policy"),
    ({"strict_request_ids": "no"}, "strict_request_ids"),
    ({"strict_uris": None}, "strict_uris"),
    # Realm event history and embedded sessions.
    ({"realms": [RealmConfig("a", history=HistoryConfig("t"))]}, "realms[0].history"),  # type: ignore[arg-type]
    ({"realms": [RealmConfig("a", history=["t"])]}, "realms[0].history[0]"),  # type: ignore[list-item]
    (
        {"realms": [RealmConfig("a"), RealmConfig("b", history=[HistoryConfig(5)])]},  # type: ignore[arg-type]
        "realms[1].history[0].uri",
    ),
    ({"realms": [RealmConfig("a", history=[HistoryConfig("a b")])]}, "realms[0].history[0].uri"),
    ({"realms": [RealmConfig("a", history=[HistoryConfig("a..b")])]}, "realms[0].history[0].uri"),
    ({"realms": [RealmConfig("a", history=[HistoryConfig("")])]}, "realms[0].history[0].uri"),
    (
        {"realms": [RealmConfig("a", history=[HistoryConfig("wamp.session.on_join")])]},
        "realms[0].history[0].uri",
    ),
    ({"realms": [RealmConfig("a", history=[HistoryConfig("wamp")])]}, "realms[0].history[0].uri"),
    (
        {"realms": [RealmConfig("a", history=[HistoryConfig("wa", match="prefix")])]},
        "realms[0].history[0].uri",
    ),
    (
        {"realms": [RealmConfig("a", history=[HistoryConfig("com.x", match="wildcard")])]},  # type: ignore[arg-type]
        "realms[0].history[0].match",
    ),
    (
        {"realms": [RealmConfig("a", history=[HistoryConfig("com.x", match=None)])]},  # type: ignore[arg-type]
        "realms[0].history[0].match",
    ),
    (
        {"realms": [RealmConfig("a", history=[HistoryConfig("com.x", limit=0)])]},
        "realms[0].history[0].limit",
    ),
    (
        {"realms": [RealmConfig("a", history=[HistoryConfig("com.x", limit=-1)])]},
        "realms[0].history[0].limit",
    ),
    (
        {"realms": [RealmConfig("a", history=[HistoryConfig("com.x", limit=True)])]},
        "realms[0].history[0].limit",
    ),
    (
        {"realms": [RealmConfig("a", history=[HistoryConfig("com.x", limit=2.0)])]},  # type: ignore[arg-type]
        "realms[0].history[0].limit",
    ),
    (
        {"realms": [RealmConfig("a", history=[HistoryConfig("com.x", limit=100_001)])]},
        "realms[0].history[0].limit",
    ),
    (
        {
            "realms": [
                RealmConfig(
                    "a",
                    history=[
                        HistoryConfig("com.x"),
                        HistoryConfig("com.x", match="prefix"),
                        HistoryConfig("com.x", limit=5),
                    ],
                )
            ]
        },
        "realms[0].history[2].uri",
    ),
    (
        {"realms": [RealmConfig("a", history=[HistoryConfig("com.X")])], "strict_uris": True},
        "realms[0].history[0].uri",
    ),
    ({"realms": [RealmConfig("a", embedded_authrole="")]}, "realms[0].embedded_authrole"),
    ({"realms": [RealmConfig("a", embedded_authrole=None)]}, "realms[0].embedded_authrole"),  # type: ignore[arg-type]
    ({"realms": [RealmConfig("a", embedded_authrole="a b")]}, "realms[0].embedded_authrole"),
]


@pytest.mark.parametrize(("fields", "name"), BAD, ids=[name for _, name in BAD])
def test_validate_names_the_field(fields: dict[str, Any], name: str) -> None:
    config = RouterConfig(**fields)
    with pytest.raises(ConfigError) as info:
        config.validate()
    assert info.value.field == name
    assert str(info.value).startswith(name)
    # The router refuses it too, with the same typed error (a LocalProtocolError).
    with pytest.raises(LocalProtocolError):
        Router(config)


def test_realm_history_and_embedded_authrole() -> None:
    realm = RealmConfig("realm1")
    assert realm.history == [] and realm.embedded_authrole == "trusted"
    assert RealmConfig("a").history is not RealmConfig("b").history
    entry = HistoryConfig("com.example.news")
    assert (entry.match, entry.limit) == ("exact", 100)
    good = RealmConfig(
        "realm1",
        history=[
            entry,
            HistoryConfig("com.example.news", match="prefix", limit=100_000),  # other match
            HistoryConfig("com.example.", match="prefix", limit=1),  # empty component: a prefix
            HistoryConfig("com.wamp.x"),
            HistoryConfig("wampcore.x", match="prefix"),
        ],
        embedded_authrole="com.example.backend",
    )
    RouterConfig(realms=[good], strict_uris=True).validate()
    Router(RouterConfig(realms=[good]))


def test_history_limit_error_says_what_is_allowed() -> None:
    with pytest.raises(ConfigError, match="at most 100000"):
        HistoryConfig("com.x", limit=100_001).validate()
    with pytest.raises(ConfigError, match=r"^history\.limit: must be a positive integer"):
        HistoryConfig("com.x", limit=0).validate()
    with pytest.raises(ConfigError, match="valid URI"):
        HistoryConfig("com..x").validate("h")


# --- Authentication and authorization configuration (wamp-spec §4.28) --------------------------

KEY = "ab" * 32  # 32 bytes hex
TICKET = "tick-SECRET-value"
CRA = "cra-SECRET-value"
STORED = "5a" * 32
SERVER = "6b" * 32


def scram(**fields: Any) -> ScramConfig:
    values: dict[str, Any] = {
        "kdf": "argon2id13",
        "salt": "0011",
        "iterations": 2,
        "memory": 64,
        "stored_key": STORED,
        "server_key": SERVER,
    }
    values.update(fields)
    return ScramConfig(**values)


def principal(authid: str = "joe", role: str = "user", **fields: Any) -> PrincipalConfig:
    if not {"ticket", "secret", "cryptosign_keys", "scram"} & fields.keys():
        fields["ticket"] = TICKET
    return PrincipalConfig(authid, role, **fields)


def realm(**fields: Any) -> RealmConfig:
    fields.setdefault("roles", [RoleConfig("user", [PermissionConfig("", "prefix", call=True)])])
    fields.setdefault("principals", [principal()])
    fields.setdefault("allow_anonymous", False)
    return RealmConfig("authrealm", **fields)


def test_auth_defaults_keep_the_realm_open() -> None:
    open_realm = RealmConfig("realm1")
    assert open_realm.auth_methods == [] and open_realm.roles == []
    assert open_realm.principals == [] and open_realm.anonymous_role == "anonymous"
    assert (open_realm.authenticator, open_realm.authenticator_realm) == (None, None)
    assert open_realm.authorizer is None and open_realm.auth_events is False
    assert open_realm.effective_auth_methods == ["anonymous"]
    assert RealmConfig("x", allow_anonymous=False).effective_auth_methods == []
    assert RealmConfig("a").roles is not RealmConfig("b").roles
    assert RouterConfig().realms[0].effective_auth_methods == ["anonymous"]
    assert set(AUTH_METHODS) == {"anonymous", "ticket", "wampcra", "scram", "cryptosign"}


def test_derived_auth_methods_follow_the_principals_strongest_first() -> None:
    principals = [
        principal("t", ticket=TICKET),
        principal("c", secret=CRA),
        principal("k", cryptosign_keys=[KEY]),
        principal("s", scram=scram()),
    ]
    config = realm(principals=principals)
    config.validate()
    assert config.effective_auth_methods == ["cryptosign", "scram", "wampcra", "ticket"]
    with_anonymous = realm(principals=principals[:1], allow_anonymous=True, roles=[])
    assert with_anonymous.effective_auth_methods == ["ticket", "anonymous"]
    dynamic = RealmConfig("r", principals=[], authenticator="com.example.authenticate")
    assert dynamic.effective_auth_methods == [*AUTH_METHODS]
    explicit = realm(auth_methods=["ticket"])
    explicit.validate()
    assert explicit.effective_auth_methods == ["ticket"]
    assert explicit.effective_auth_methods is not explicit.auth_methods


def test_a_full_auth_realm_validates() -> None:
    config = RealmConfig(
        "authrealm",
        allow_anonymous=True,
        auth_methods=["cryptosign", "anonymous", "wampcra", "ticket", "scram"],
        roles=[
            RoleConfig("frontend", [PermissionConfig("", "prefix", call=True, publish=True)]),
            RoleConfig(
                "reader",
                [
                    PermissionConfig("com.example.public.", "prefix", call=True, subscribe=True),
                    PermissionConfig("com.example.public.admin", "exact"),
                    PermissionConfig("com..news", "wildcard", subscribe=True),
                    PermissionConfig(".", "wildcard", subscribe=True),
                ],
            ),
            RoleConfig("anonymous"),
        ],
        principals=[
            principal("ticketuser", "frontend", ticket=TICKET),
            principal("crasalted", "frontend", secret=CRA, salt="s", iterations=1, keylen=32),
            principal("csuser", "reader", cryptosign_keys=[KEY.upper(), "cd" * 32]),
            principal("scramuser", "frontend", scram=scram(kdf="pbkdf2", memory=None)),
        ],
        authenticator="com.example.authenticate",
        authenticator_realm="authrealm",
        authorizer="com.example.authorize",
    )
    RouterConfig(realms=[config], strict_uris=True).validate()
    assert config.principals[2].cryptosign_keys == [KEY, "cd" * 32]  # kept lowercase
    assert config.principals[2].methods() == ["cryptosign"]
    Router(RouterConfig(realms=[config]))


def test_scram_kdf_spellings_are_normalised() -> None:
    assert scram(kdf="argon2id-13").kdf == "argon2id13"
    assert scram(kdf="argon2id-13") == scram()
    assert scram(kdf="pbkdf2", memory=None).kdf == "pbkdf2"


def test_secrets_never_appear_in_reprs() -> None:
    p = principal(secret=CRA, ticket=TICKET, scram=scram())
    text = repr(RouterConfig(realms=[realm(principals=[p])]))
    for secret in (TICKET, CRA, STORED, SERVER):
        assert secret not in text
    assert "joe" in text and "argon2id13" in text  # the rest is still shown


def with_realm(**fields: Any) -> dict[str, Any]:
    return {"realms": [realm(**fields)]}


ROLE = RoleConfig("user")
P = "realms[0]"

AUTH_BAD: list[tuple[dict[str, Any], str]] = [
    # auth_methods
    (with_realm(auth_methods="ticket"), f"{P}.auth_methods"),
    (with_realm(auth_methods=["password"]), f"{P}.auth_methods[0]"),
    (with_realm(auth_methods=["wamp-scram"]), f"{P}.auth_methods[0]"),
    (with_realm(auth_methods=["ticket", "ticket"]), f"{P}.auth_methods[1]"),
    (with_realm(auth_methods=["ticket", "anonymous"]), f"{P}.auth_methods[1]"),
    (with_realm(auth_methods=["ticket"], allow_anonymous=True), f"{P}.auth_methods"),
    (with_realm(auth_methods=["ticket", "wampcra"]), f"{P}.auth_methods[1]"),
    (with_realm(auth_methods=["cryptosign"]), f"{P}.auth_methods[0]"),
    (with_realm(auth_methods=[5]), f"{P}.auth_methods[0]"),
    # roles and permissions
    (with_realm(roles=ROLE), f"{P}.roles"),
    (with_realm(roles=["user"]), f"{P}.roles[0]"),
    (with_realm(roles=[RoleConfig("")]), f"{P}.roles[0].name"),
    (with_realm(roles=[RoleConfig("a b")]), f"{P}.roles[0].name"),
    (with_realm(roles=[ROLE, RoleConfig("x"), RoleConfig("user")]), f"{P}.roles[2].name"),
    (with_realm(roles=[RoleConfig("user", PermissionConfig("x"))]), f"{P}.roles[0].permissions"),
    (with_realm(roles=[RoleConfig("user", [{"uri": "x"}])]), f"{P}.roles[0].permissions[0]"),
    (
        with_realm(roles=[RoleConfig("user", [PermissionConfig("x", "regex")])]),
        f"{P}.roles[0].permissions[0].match",
    ),
    (
        with_realm(roles=[RoleConfig("user", [PermissionConfig("")])]),
        f"{P}.roles[0].permissions[0].uri",
    ),
    (
        with_realm(roles=[RoleConfig("user", [PermissionConfig("", "wildcard")])]),
        f"{P}.roles[0].permissions[0].uri",
    ),
    (
        with_realm(roles=[RoleConfig("user", [PermissionConfig("a..b")])]),
        f"{P}.roles[0].permissions[0].uri",
    ),
    (
        with_realm(roles=[RoleConfig("user", [PermissionConfig("a b", "prefix")])]),
        f"{P}.roles[0].permissions[0].uri",
    ),
    (
        with_realm(roles=[RoleConfig("user", [PermissionConfig(5, "prefix")])]),
        f"{P}.roles[0].permissions[0].uri",
    ),
    (
        with_realm(roles=[RoleConfig("user", [PermissionConfig("a", call=1)])]),
        f"{P}.roles[0].permissions[0].call",
    ),
    (
        with_realm(roles=[RoleConfig("user", [PermissionConfig("a", disclose_publisher="y")])]),
        f"{P}.roles[0].permissions[0].disclose_publisher",
    ),
    (
        with_realm(
            roles=[
                RoleConfig(
                    "user",
                    [
                        PermissionConfig("a"),
                        PermissionConfig("a", "prefix"),
                        PermissionConfig("a", call=True),
                    ],
                )
            ]
        ),
        f"{P}.roles[0].permissions[2].uri",
    ),
    (
        {
            "realms": [realm(roles=[RoleConfig("user", [PermissionConfig("com.X", "prefix")])])],
            "strict_uris": True,
        },
        f"{P}.roles[0].permissions[0].uri",
    ),
    # principals
    (with_realm(principals=principal()), f"{P}.principals"),
    (with_realm(principals=[{"authid": "joe", "ticket": TICKET}]), f"{P}.principals[0]"),
    (with_realm(principals=[principal("")]), f"{P}.principals[0].authid"),
    (with_realm(principals=[principal(" joe")]), f"{P}.principals[0].authid"),
    (with_realm(principals=[principal(5)]), f"{P}.principals[0].authid"),
    (with_realm(principals=[principal(role="")]), f"{P}.principals[0].role"),
    (with_realm(principals=[principal(role="admin")]), f"{P}.principals[0].role"),
    (
        with_realm(principals=[principal(), principal("x"), principal()]),
        f"{P}.principals[2].authid",
    ),
    (with_realm(principals=[PrincipalConfig("joe", "user")]), f"{P}.principals[0]"),
    (with_realm(principals=[principal(ticket="")]), f"{P}.principals[0].ticket"),
    (with_realm(principals=[principal(ticket=1234)]), f"{P}.principals[0].ticket"),
    (with_realm(principals=[principal(secret="")]), f"{P}.principals[0].secret"),
    (with_realm(principals=[principal(secret=CRA, salt="s")]), f"{P}.principals[0].iterations"),
    (
        with_realm(principals=[principal(secret=CRA, salt="s", iterations=10)]),
        f"{P}.principals[0].keylen",
    ),
    (
        with_realm(principals=[principal(secret=CRA, iterations=10, keylen=32)]),
        f"{P}.principals[0].salt",
    ),
    (
        with_realm(principals=[principal(ticket=TICKET, salt="s", iterations=1, keylen=32)]),
        f"{P}.principals[0].salt",
    ),
    (
        with_realm(principals=[principal(secret=CRA, salt="", iterations=1, keylen=32)]),
        f"{P}.principals[0].salt",
    ),
    (
        with_realm(principals=[principal(secret=CRA, salt="s", iterations=0, keylen=32)]),
        f"{P}.principals[0].iterations",
    ),
    (
        with_realm(principals=[principal(secret=CRA, salt="s", iterations=1, keylen=True)]),
        f"{P}.principals[0].keylen",
    ),
    (with_realm(principals=[principal(cryptosign_keys=KEY)]), f"{P}.principals[0].cryptosign_keys"),
    (
        with_realm(principals=[principal(cryptosign_keys=[KEY[:-2]])]),
        f"{P}.principals[0].cryptosign_keys[0]",
    ),
    (
        with_realm(principals=[principal(cryptosign_keys=[KEY, "zz" * 32])]),
        f"{P}.principals[0].cryptosign_keys[1]",
    ),
    (
        with_realm(principals=[principal(cryptosign_keys=[KEY, KEY.upper()])]),
        f"{P}.principals[0].cryptosign_keys[1]",
    ),
    (
        with_realm(
            principals=[
                principal("a", cryptosign_keys=[KEY]),
                principal("b", cryptosign_keys=["cd" * 32, KEY]),
            ]
        ),
        f"{P}.principals[1].cryptosign_keys[1]",
    ),
    (with_realm(principals=[principal(authextra=[])]), f"{P}.principals[0].authextra"),
    (with_realm(principals=[principal(authextra={1: 2})]), f"{P}.principals[0].authextra"),
    # SCRAM verifiers
    (with_realm(principals=[principal(scram={"kdf": "pbkdf2"})]), f"{P}.principals[0].scram"),
    (with_realm(principals=[principal(scram=scram(kdf="bcrypt"))]), f"{P}.principals[0].scram.kdf"),
    (with_realm(principals=[principal(scram=scram(salt=""))]), f"{P}.principals[0].scram.salt"),
    (with_realm(principals=[principal(scram=scram(salt="abc"))]), f"{P}.principals[0].scram.salt"),
    (with_realm(principals=[principal(scram=scram(salt="0g"))]), f"{P}.principals[0].scram.salt"),
    (
        with_realm(principals=[principal(scram=scram(iterations=0))]),
        f"{P}.principals[0].scram.iterations",
    ),
    (
        with_realm(principals=[principal(scram=scram(memory=None))]),
        f"{P}.principals[0].scram.memory",
    ),
    (with_realm(principals=[principal(scram=scram(memory=4))]), f"{P}.principals[0].scram.memory"),
    (
        with_realm(principals=[principal(scram=scram(kdf="pbkdf2"))]),
        f"{P}.principals[0].scram.memory",
    ),
    (
        with_realm(principals=[principal(scram=scram(stored_key="ab"))]),
        f"{P}.principals[0].scram.stored_key",
    ),
    (
        with_realm(principals=[principal(scram=scram(server_key="x" * 64))]),
        f"{P}.principals[0].scram.server_key",
    ),
    # authenticator, authorizer, anonymous role
    (with_realm(authenticator="bad uri"), f"{P}.authenticator"),
    (with_realm(authenticator=""), f"{P}.authenticator"),
    (with_realm(authorizer="a..b"), f"{P}.authorizer"),
    (with_realm(auth_events="yes"), f"{P}.auth_events"),
    (with_realm(authenticator_realm="authrealm"), f"{P}.authenticator_realm"),
    (
        with_realm(authenticator="com.x.auth", authenticator_realm="a b"),
        f"{P}.authenticator_realm",
    ),
    (
        with_realm(authenticator="com.x.auth", authenticator_realm="com.example.other"),
        f"{P}.authenticator_realm",
    ),
    ({**with_realm(authenticator="com.X.auth"), "strict_uris": True}, f"{P}.authenticator"),
    (with_realm(anonymous_role=""), f"{P}.anonymous_role"),
    (with_realm(allow_anonymous=True), f"{P}.anonymous_role"),
    (with_realm(allow_anonymous=True, anonymous_role="guest"), f"{P}.anonymous_role"),
]


@pytest.mark.parametrize(("fields", "name"), AUTH_BAD, ids=[n for _, n in AUTH_BAD])
def test_auth_validation_names_the_field(fields: dict[str, Any], name: str) -> None:
    test_validate_names_the_field(fields, name)


@pytest.mark.parametrize(("fields", "name"), AUTH_BAD, ids=[n for _, n in AUTH_BAD])
def test_auth_errors_never_quote_a_secret(fields: dict[str, Any], name: str) -> None:
    with pytest.raises(ConfigError) as info:
        RouterConfig(**fields).validate()
    for secret in (TICKET, CRA, STORED, SERVER, "1234"):
        assert secret not in str(info.value)


def test_auth_realms_that_are_fine() -> None:
    # Anonymous admitted with roles declared: its role must be (and here is) declared.
    roles = [RoleConfig("user"), RoleConfig("guest")]
    realm(roles=roles, allow_anonymous=True, anonymous_role="guest").validate()
    # No roles declared: any role name is fine (everything is allowed).
    realm(roles=[], principals=[principal(role="whatever")]).validate()
    # An authenticator makes any challenge method usable without principals.
    realm(principals=[], auth_methods=["scram"], authenticator="com.x.auth").validate()
    # So does an application that decides joins itself.
    events = realm(principals=[], auth_methods=["wampcra"], auth_events=True)
    events.validate()
    assert RealmConfig("r", auth_events=True).effective_auth_methods == [*AUTH_METHODS]
    # Credentials for a method the realm does not offer: allowed (the method is switched off).
    realm(principals=[principal(ticket=TICKET, secret=CRA)], auth_methods=["ticket"]).validate()
    # The authenticator realm may be created on demand.
    RouterConfig(
        realms=[realm(authenticator="com.x.auth", authenticator_realm="com.example.auth")],
        auto_create_realms=True,
    ).validate()
    # A role with no permissions: valid (it may do nothing).
    realm(roles=[RoleConfig("user", [])]).validate()
