"""Hostile byte-level probes against ``wampcore router``: each gets the answer the spec
prescribes (or a dropped connection), and the router keeps serving everyone else."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from adapterkit import Router
from wampcore.adapters import threads

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def router(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Router]:
    config: Path = tmp_path_factory.mktemp("cfg") / "router.toml"
    config.write_text("[limits]\nhandshake_timeout = 1.0\nmax_message_size = 65536\n")
    with Router("--config", str(config)) as r:
        yield r


def address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


def exchange(url: str, data: bytes, *, linger: float = 5.0) -> bytes:
    """Send ``data``, then read until the router closes the connection (hard timeout)."""
    with socket.create_connection(address(url), timeout=linger) as sock:
        sock.sendall(data)
        chunks = []
        end = time.monotonic() + linger
        while time.monotonic() < end:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            except TimeoutError:
                raise AssertionError(f"the router kept the connection open; got {chunks}") from None
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def still_serving(router: Router) -> None:
    for url in router.urls.values():
        with threads.connect(url, "realm1", timeout=5) as s:
            s.register("com.example.alive", lambda: "yes")
            assert s.call("com.example.alive") == "yes"


@pytest.mark.parametrize(
    ("probe", "reply"),
    [
        # wamp-spec §6: octet 0 is not 0x7F -> the connection is simply dropped.
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b""),
        # Serializer 15 is reserved -> error 1 (serializer unsupported).
        (b"\x7f\xff\x00\x00", b"\x7f\x10\x00\x00"),
        # Reserved octets set -> error 3.
        (b"\x7f\xf1\x00\x01", b"\x7f\x30\x00\x00"),
        # A valid handshake, then a frame with reserved bits set -> dropped after the reply.
        (b"\x7f\xf1\x00\x00" + b"\xf0\x00\x00\x02[]", None),
        # A frame longer than the router's announced limit -> dropped.
        (b"\x7f\xf1\x00\x00" + b"\x00\xff\xff\xff", None),
        # A frame that is not a WAMP message -> ABORT protocol_violation, then dropped.
        (b"\x7f\xf1\x00\x00" + b"\x00\x00\x00\x04[1,2", None),
        # A half handshake, then EOF.
        (b"\x7f\xf1", b""),
    ],
)
def test_rawsocket_probes(router: Router, probe: bytes, reply: bytes | None) -> None:
    got = exchange(router.urls["rs"], probe)
    if reply is not None:
        assert got == reply
    else:
        assert got[:1] == b"\x7f" and got[1] & 0x0F == 1  # the handshake was answered first
    still_serving(router)


@pytest.mark.parametrize(
    ("probe", "status"),
    [
        (b"\x00\xff garbage \r\n\r\n", b"400"),
        (b"GET /ws HTTP/1.1\r\nHost: x\r\n\r\n", b"426"),
        (
            b"GET /elsewhere HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            b"Sec-WebSocket-Protocol: wamp.2.json\r\n\r\n",
            b"404",
        ),
        (
            b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            b"Sec-WebSocket-Protocol: mqtt\r\n\r\n",
            b"400",
        ),
    ],
)
def test_websocket_probes_get_an_http_answer(router: Router, probe: bytes, status: bytes) -> None:
    got = exchange(router.urls["ws"], probe)
    assert got.split(b" ", 2)[1] == status, got
    still_serving(router)


def test_a_silent_connection_is_closed_after_the_handshake_timeout(router: Router) -> None:
    """The router's handshake deadline (here 1 s) ends connections that never say HELLO."""
    for url in router.urls.values():
        assert exchange(url, b"", linger=15) == b""
    still_serving(router)


def test_many_abrupt_connections(router: Router) -> None:
    for _ in range(50):
        for url in router.urls.values():
            sock = socket.create_connection(address(url), timeout=5)
            sock.sendall(b"\x7f\xf1\x00\x00" if url.startswith("rs") else b"GET /ws HTTP/1.1\r\n")
            sock.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
            sock.close()  # RST
    still_serving(router)
