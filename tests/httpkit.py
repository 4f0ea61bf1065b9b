"""Helpers for tests/test_http_*.py: raw HTTP over loopback sockets, and ``wampcore router``
started from a configuration file with HTTP beside WebSocket (issue 12)."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

from adapterkit import WAMPCORE, Proc

TIMEOUT = 10.0


def address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


def exchange(url: str, data: bytes, *, linger: float = TIMEOUT) -> bytes:
    """Send ``data``, then read until the server closes the connection (hard timeout)."""
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
                raise AssertionError(f"the server kept the connection open; got {chunks}") from None
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


class Response:
    def __init__(self, raw: bytes) -> None:
        head, sep, self.body = raw.partition(b"\r\n\r\n")
        assert sep, f"no complete response head in {raw[:200]!r}"
        lines = head.decode("latin-1").split("\r\n")
        version, status, *_ = lines[0].split(" ", 2)
        assert version == "HTTP/1.1", lines[0]
        self.status = int(status)
        self.headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def get(url: str, path: str, *, method: str = "GET", headers: str = "") -> Response:
    """One plain HTTP request to the listener of ``url`` (a ws:// URL); the whole response."""
    host, port = address(url)
    request = f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{headers}\r\n"
    return Response(exchange(url, request.encode("latin-1")))


class ConfiguredRouter:
    """``wampcore router --config FILE`` whose file declares ``listeners`` (TOML tables)."""

    def __init__(self, tmp: Path, listeners: list[str], extra: str = "") -> None:
        config = tmp / "router.toml"
        tables = "".join(f"[[listeners]]\n{body}\n" for body in listeners)
        config.write_text(extra + "\n" + tables)
        self.proc = Proc([*WAMPCORE, "router", "--config", str(config)])
        self.urls: list[str] = []
        try:
            for _ in listeners:
                line = self.proc.expect("listening on")
                self.urls.append(line.split("listening on ", 1)[1].strip())
        except BaseException:
            self.proc.close()
            raise

    def __enter__(self) -> ConfiguredRouter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.proc.signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        finally:
            self.proc.close()
