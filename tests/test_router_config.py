"""Router configuration: defaults, and ``validate()`` naming the offending field."""

from __future__ import annotations

from typing import Any

import pytest

from wampcore import ConfigError, LocalProtocolError
from wampcore.config import HistoryConfig, Limits, RealmConfig, RouterConfig
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
