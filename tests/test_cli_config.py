"""The TOML loader (wampcore.config.load_config / read_config_file) used by ``wampcore router``."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

import pytest
from wampcore.adapters.asyncio import SessionAborted, connect, serve

from wampcore.config import (
    ConfigError,
    ConfigFileError,
    HistoryConfig,
    Limits,
    ListenerConfig,
    RealmConfig,
    RouterConfig,
    load_config,
    read_config_file,
)
from wampcore.router import Router

pytestmark = pytest.mark.timeout(60)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "router.toml"
    path.write_text(textwrap.dedent(text))
    return path


def test_every_section_maps_onto_the_dataclasses(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        auto_create_realms = true
        outbound_policy = "disconnect"
        strict_uris = true

        [limits]
        max_message_size = 65536
        handshake_timeout = 3          # an integer is fine for a float field

        [[realms]]
        name = "com.example.one"
        allow_anonymous = false

        [[listeners]]
        url = "rs://127.0.0.1:9000"
        serializers = ["cbor"]
        max_message_size = 1024
        """,
    )
    loaded = read_config_file(path)
    assert loaded.router == RouterConfig(
        realms=[RealmConfig("com.example.one", allow_anonymous=False)],
        auto_create_realms=True,
        limits=Limits(max_message_size=65536, handshake_timeout=3.0),
        outbound_policy="disconnect",
        strict_uris=True,
    )
    assert loaded.listeners == (
        ListenerConfig(url="rs://127.0.0.1:9000", serializers=("cbor",), max_message_size=1024),
    )
    assert load_config(path) == loaded.router
    assert read_config_file(write(tmp_path, "")).router == RouterConfig()


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        ("[limits]\nhandshake_timeout = -1\n", 2, "limits.handshake_timeout"),
        ("strict_uris = 1\n", 1, "strict_uris"),
        ('[[realms]]\nname = "a"\n[[realms]]\nname = "b"\nextra = 1\n', 5, "realms[1].extra"),
        ('[[listeners]]\nurl = "rs://x:1"\nserializers = "json"\n', 3, "listeners[0].serializers"),
        ("realms = 5\n", 1, "realms"),
        ('[[realms]]\nname = "x"\n[[realms]]\nname = "x"\n', 4, "realms[1].name"),
        ("[[listeners]]\ntls_cert = 'c.pem'\n", 1, "listeners[0]"),
    ],
)
def test_errors_name_file_line_and_key(tmp_path: Path, text: str, line: int, field: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigFileError) as info:
        read_config_file(path)
    error = info.value
    assert isinstance(error, ConfigError)  # one family for every configuration problem
    assert (error.filename, error.line, error.field) == (str(path), line, field)
    assert str(error).startswith(f"{path}:{line}: {field}: ")


def test_realm_history_is_a_nested_array_of_tables(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [[realms]]
        name = "realm1"
        embedded_authrole = "backend"
        [[realms.history]]
        uri = "com.example.news"
        match = "exact"
        limit = 50
        [[realms.history]]
        uri = "com.example."
        match = "prefix"

        [[realms]]
        name = "realm2"
        [[realms.history]]
        uri = "com.example.news"
        """,
    )
    assert load_config(path).realms == [
        RealmConfig(
            "realm1",
            history=[
                HistoryConfig("com.example.news", match="exact", limit=50),
                HistoryConfig("com.example.", match="prefix"),
            ],
            embedded_authrole="backend",
        ),
        RealmConfig("realm2", history=[HistoryConfig("com.example.news")]),
    ]
    inline = write(tmp_path, '[[realms]]\nname = "a"\nhistory = [{ uri = "com.x", limit = 3 }]\n')
    expected = [RealmConfig("a", history=[HistoryConfig("com.x", limit=3)])]
    assert load_config(inline).realms == expected


HISTORY = '[[realms]]\nname = "a"\n[[realms.history]]\nuri = "com.x"\n'
TWO_REALMS = '[[realms]]\nname = "a"\n[[realms]]\nname = "b"\n[[realms.history]]\nuri = "com.y"\n'


@pytest.mark.parametrize(
    ("text", "line", "field", "problem"),
    [
        (HISTORY + "limits = 5\n", 5, "realms[0].history[0].limits", "unknown key"),
        (HISTORY + 'limit = "50"\n', 5, "realms[0].history[0].limit", "expected an integer"),
        (HISTORY + "limit = true\n", 5, "realms[0].history[0].limit", "expected an integer"),
        (HISTORY + "limit = 0\n", 5, "realms[0].history[0].limit", "positive integer"),
        (HISTORY + "limit = 100001\n", 5, "realms[0].history[0].limit", "at most 100000"),
        (HISTORY + 'match = "wildcard"\n', 5, "realms[0].history[0].match", "expected one of"),
        (HISTORY + "[[realms.history]]\n", 5, "realms[0].history[1]", "uri"),
        (
            HISTORY + '[[realms.history]]\nuri = "com.x"\n',
            6,
            "realms[0].history[1].uri",
            "duplicate",
        ),
        (TWO_REALMS + 'match = "any"\n', 7, "realms[1].history[0].match", "expected one of"),
        (
            TWO_REALMS + '[[realms.history]]\nuri = "wamp.session.on_join"\n',
            8,
            "realms[1].history[1].uri",
            "wamp.*",
        ),
        ('[[realms]]\nname = "a"\nhistory = 5\n', 3, "realms[0].history", "expected an array"),
        ('[[realms]]\nname = "a"\nembedded_authrole = ""\n', 3, "realms[0].embedded_authrole", ""),
    ],
)
def test_history_errors_name_file_line_and_key(
    tmp_path: Path, text: str, line: int, field: str, problem: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigFileError) as info:
        read_config_file(path)
    error = info.value
    assert (error.filename, error.line, error.field) == (str(path), line, field)
    assert str(error).startswith(f"{path}:{line}: {field}: ")
    assert problem in str(error)


def test_unreadable_and_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigFileError, match="cannot read"):
        read_config_file(tmp_path / "missing.toml")
    with pytest.raises(ConfigFileError) as info:
        read_config_file(write(tmp_path, 'a = 1\nb = "unterminated\n'))
    assert info.value.line == 2 and "invalid TOML" in str(info.value)
    (tmp_path / "binary.toml").write_bytes(b"a = 1\n\xff\xfe\n")
    with pytest.raises(ConfigFileError, match="UTF-8") as info:
        read_config_file(tmp_path / "binary.toml")
    assert info.value.line == 2


@pytest.mark.parametrize("auto", [False, True])
def test_realms_are_created_on_the_fly_only_when_the_config_says_so(
    tmp_path: Path, auto: bool
) -> None:
    """wamp-spec §3.1: an unknown realm gets ABORT no_such_realm unless auto-creation is on."""
    config = load_config(write(tmp_path, f"auto_create_realms = {str(auto).lower()}\n"))

    async def test() -> None:
        async with await serve(Router(config), ["rs://127.0.0.1:0"]) as server:
            if auto:
                async with connect(server.urls[0], "com.example.fresh") as s:
                    assert s.session_id is not None
            else:
                with pytest.raises(SessionAborted) as info:
                    await connect(server.urls[0], "com.example.fresh")
                assert info.value.reason == "wamp.error.no_such_realm"

    asyncio.run(asyncio.wait_for(test(), 20))
