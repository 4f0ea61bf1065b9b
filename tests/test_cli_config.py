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
