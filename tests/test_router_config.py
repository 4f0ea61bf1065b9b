"""Router configuration: defaults, and ``validate()`` naming the offending field."""

from __future__ import annotations

from typing import Any

import pytest

from wampcore import ConfigError, LocalProtocolError
from wampcore.config import Limits, RealmConfig, RouterConfig
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
