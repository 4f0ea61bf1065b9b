"""Transport URLs, shared by every adapter and the CLI: parsing, and the framing each one needs.

=============================  ==============================================================
URL                            transport
=============================  ==============================================================
``ws://host:port/path``        WebSocket over TCP (server: only ``/path`` is upgraded; with no
                               path, any path is)
``wss://host:port/path``       WebSocket over TLS
``rs://host:port``             RawSocket over TCP (``tcp://`` is an alias)
``rss://host:port``            RawSocket over TLS
``rs+unix:///path/to/socket``  RawSocket over a Unix socket
``ws+unix:///path/to/socket``  WebSocket over a Unix socket (any HTTP path)
=============================  ==============================================================

Serializer preference: a client offers ``serializers`` in order over WebSocket (the router picks
the first it supports); RawSocket can name only one, so the first is used.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import ssl
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from wampcore.errors import LocalProtocolError
from wampcore.transports import RawSocketClient, RawSocketServer, WebSocketClient, WebSocketServer

__all__ = [
    "DEFAULT_SERIALIZERS",
    "Endpoint",
    "EndpointError",
    "channel_id",
    "parse_url",
    "remove_stale_socket",
]

#: The serializers offered or accepted when none are named, in preference order.
DEFAULT_SERIALIZERS: tuple[str, ...] = ("json", "msgpack", "cbor")

_SCHEMES: dict[str, tuple[str, bool, bool]] = {
    # scheme: (transport, tls, unix)
    "ws": ("websocket", False, False),
    "wss": ("websocket", True, False),
    "rs": ("rawsocket", False, False),
    "tcp": ("rawsocket", False, False),
    "rss": ("rawsocket", True, False),
    "rs+unix": ("rawsocket", False, True),
    "ws+unix": ("websocket", False, True),
}
_DEFAULT_PORTS = {"ws": 80, "wss": 443}


class EndpointError(LocalProtocolError):
    """A transport URL that cannot be used (unknown scheme, missing port, bad serializer)."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One parsed transport URL."""

    url: str
    transport: str  # "websocket" or "rawsocket"
    tls: bool
    host: str = ""
    port: int = 0
    #: The HTTP path for WebSocket ("" = any path on a server, "/" on a client).
    path: str = ""
    #: The socket file for ``+unix`` schemes.
    unix_path: str | None = None

    @property
    def websocket(self) -> bool:
        return self.transport == "websocket"

    def url_with_port(self, port: int) -> str:
        """This endpoint's URL with another port (to report what an ephemeral listener got)."""
        if self.unix_path is not None:
            return self.url
        scheme = self.url.split("://", 1)[0].lower()
        return f"{scheme}://{_host(self.host)}:{port}{self.path}"

    def client_framing(
        self, serializers: Sequence[str] = DEFAULT_SERIALIZERS, *, max_message_size: int
    ) -> RawSocketClient | WebSocketClient:
        """A fresh client framing for this endpoint, offering ``serializers`` in order."""
        names = _check_serializers(serializers)
        if not self.websocket:
            return RawSocketClient(names[0], max_message_size=max_message_size)
        host = _host(self.host) if self.unix_path is None else "localhost"
        if self.port and self.port != _DEFAULT_PORTS["wss" if self.tls else "ws"]:
            host = f"{host}:{self.port}"
        return WebSocketClient(
            host,
            self.path or "/",
            subprotocols=[f"wamp.2.{name}" for name in names],
            max_message_size=max_message_size,
        )

    def server_framing(
        self,
        serializers: Sequence[str] = DEFAULT_SERIALIZERS,
        *,
        max_message_size: int,
        http: bool = False,
    ) -> RawSocketServer | WebSocketServer:
        """A fresh server framing for one accepted connection on this endpoint; ``http``: a
        WebSocket with a path surfaces plain HTTP requests for other paths (adapters/http.py)."""
        names = _check_serializers(serializers)
        if not self.websocket:
            return RawSocketServer(names, max_message_size=max_message_size)
        return WebSocketServer(
            [f"wamp.2.{name}" for name in names],
            path=self.path or None,
            max_message_size=max_message_size,
            # Autobahn clients that name no subprotocol mean JSON.
            fallback_subprotocol="wamp.2.json",
            http=http,
        )


def _host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _check_serializers(serializers: Sequence[str]) -> list[str]:
    names = [s.strip().lower() for s in serializers]
    unknown = [s for s in names if s not in DEFAULT_SERIALIZERS]
    if unknown or not names:
        raise EndpointError(
            f"unknown serializer {', '.join(unknown) or '(none given)'}: "
            f"use {', '.join(DEFAULT_SERIALIZERS)}"
        )
    return names


def parse_url(url: str) -> Endpoint:
    """Parse a transport URL (see the module docstring); raises :class:`EndpointError`."""
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        transport, tls, unix = _SCHEMES[scheme]
    except (ValueError, KeyError):
        schemes = ", ".join(f"{s}://" for s in _SCHEMES)
        raise EndpointError(f"unsupported URL {url!r}: use one of {schemes}") from None
    if unix:
        path = (parts.netloc + parts.path) if parts.netloc else parts.path
        if not path:
            raise EndpointError(f"{url!r} names no socket file (write {scheme}:///path/to/sock)")
        return Endpoint(url, transport, tls, unix_path=path)
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise EndpointError(f"{url!r} has an invalid port") from None
    if not host:
        raise EndpointError(f"{url!r} names no host")
    if port is None:
        port = _DEFAULT_PORTS.get(scheme)
        if port is None:
            raise EndpointError(f"{url!r} names no port (RawSocket has no default port)")
    path = parts.path
    if not transport == "websocket" and path not in ("", "/"):
        raise EndpointError(f"{url!r}: a RawSocket URL has no path")
    return Endpoint(url, transport, tls, host=host, port=port, path=path)


def remove_stale_socket(path: str) -> None:
    """Remove a Unix socket file left by an earlier server; any other file at ``path`` stays."""
    with contextlib.suppress(FileNotFoundError):
        if stat.S_ISSOCK(os.stat(path).st_mode):
            os.unlink(path)


def channel_id(transport: Any) -> bytes | None:
    """SHA-256 of the TLS ``tls-unique`` channel binding of an asyncio transport, as Autobahn
    computes its channel id (cryptosign channel binding, wamp-spec §4.28); None without TLS or
    where the TLS version defines none (TLS 1.3)."""
    ssl_object = transport.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    try:
        binding = ssl_object.get_channel_binding("tls-unique")
    except (ValueError, ssl.SSLError):
        return None
    return hashlib.sha256(binding).digest() if binding else None
