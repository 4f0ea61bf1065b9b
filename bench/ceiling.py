"""The echo ceiling of bench_compare.py: the simplest asyncio server that answers the bench's
traffic, i.e. the most any asyncio router in Python could do with wampcore's serializers.

    python bench/ceiling.py [--listen rs://127.0.0.1:0] [--listen ws://127.0.0.1:0/ws]

It prints ``listening on URL`` per listener (as ``wampcore router`` does) and stops on SIGTERM or
SIGINT. Each connection is one ``asyncio.Protocol``: a hand-written RawSocket handshake and
framing, or a minimal WebSocket upgrade (any path, ``wamp.2.json``/``wamp.2.msgpack``) with
unmasking. Every message is fully decoded and every answer fully encoded with the project's
serializers (``wampcore.serializers``), but nothing is routed: HELLO gets WELCOME, REGISTER
REGISTERED, SUBSCRIBE SUBSCRIBED; a CALL is answered at once with a RESULT carrying its
arguments (no callee hop); a PUBLISH is encoded once per serializer as an EVENT and written to
every subscriber of its topic (PUBLISHED if acknowledged). What one read of a connection
produces is written with one write per connection. No validation, authorization, ids
bookkeeping, queues or flow control. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import itertools
import signal
import struct
import sys
from typing import Any
from urllib.parse import urlsplit

from wampcore.serializers import Serializer, get_serializer

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
RS_SERIALIZERS = {1: "json", 2: "msgpack"}
WS_SERIALIZERS = {"wamp.2.json": "json", "wamp.2.msgpack": "msgpack"}
WELCOME_DETAILS = {"roles": {"broker": {}, "dealer": {}}}


class Hub:
    """What connections share: topic -> subscribed connections, and id counters."""

    def __init__(self) -> None:
        self.subscribers: dict[str, dict[WampConn, int]] = {}
        self.ids = itertools.count(1)
        self.dirty: set[WampConn] = set()

    def flush(self) -> None:
        """Write what each connection has queued, one write per connection."""
        for conn in self.dirty:
            if conn.transport is not None and conn.out:
                conn.transport.write(b"".join(conn.out))
            conn.out.clear()
        self.dirty.clear()


class WampConn(asyncio.Protocol):
    def __init__(self, hub: Hub, websocket: bool) -> None:
        self.hub = hub
        self.ws = websocket
        self.buf = bytearray()
        self.open = False
        self.ser: Serializer | None = None
        self.transport: asyncio.Transport | None = None
        self.topics: list[str] = []
        self.out: list[bytes] = []

    # --- transport -----------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        for topic in self.topics:
            self.hub.subscribers.get(topic, {}).pop(self, None)
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if not self.open and not self._handshake():
            return
        if self.ws:
            self._ws_frames()
        else:
            self._rs_frames()
        self.hub.flush()  # what this read produced, coalesced per connection

    def _handshake(self) -> bool:
        assert self.transport is not None
        if not self.ws:
            if len(self.buf) < 4:
                return False
            name = RS_SERIALIZERS.get(self.buf[1] & 0x0F)
            if self.buf[0] != 0x7F or name is None:
                self.transport.close()
                return False
            self.ser = get_serializer(name)
            self.transport.write(bytes((0x7F, 0xF0 | (self.buf[1] & 0x0F), 0, 0)))
            del self.buf[:4]
        else:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return False
            lines = bytes(self.buf[:end]).decode("latin-1").split("\r\n")
            del self.buf[: end + 4]
            headers = {}
            for line in lines[1:]:
                key, _, value = line.partition(":")
                headers[key.strip().lower()] = value.strip()
            offered = [p.strip() for p in headers.get("sec-websocket-protocol", "").split(",")]
            chosen = next((p for p in offered if p in WS_SERIALIZERS), None)
            if chosen is None or "sec-websocket-key" not in headers:
                self.transport.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                self.transport.close()
                return False
            accept = base64.b64encode(
                hashlib.sha1(headers["sec-websocket-key"].encode() + WS_GUID).digest()
            ).decode()
            self.transport.write(
                (
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n"
                    f"Sec-WebSocket-Protocol: {chosen}\r\n\r\n"
                ).encode()
            )
            self.ser = get_serializer(WS_SERIALIZERS[chosen])
        self.open = True
        return True

    def frame(self, payload: bytes) -> bytes:
        n = len(payload)
        if not self.ws:
            return struct.pack(">I", n) + payload
        opcode = 0x81 if self.ser is not None and self.ser.name == "json" else 0x82
        if n < 126:
            return bytes((opcode, n)) + payload
        if n < 65536:
            return struct.pack(">BBH", opcode, 126, n) + payload
        return struct.pack(">BBQ", opcode, 127, n) + payload

    def _rs_frames(self) -> None:
        buf, off = self.buf, 0
        while len(buf) - off >= 4:
            kind = buf[off]
            end = off + 4 + int.from_bytes(buf[off + 1 : off + 4], "big")
            if end > len(buf):
                break
            payload = bytes(buf[off + 4 : end])
            off = end
            if kind == 0:
                self.on_payload(payload)
            elif kind == 1 and self.transport is not None:  # ping -> pong
                self.transport.write(struct.pack(">I", (2 << 24) | len(payload)) + payload)
        del buf[:off]

    def _ws_frames(self) -> None:
        buf, off = self.buf, 0
        while len(buf) - off >= 2:
            b0, n = buf[off], buf[off + 1] & 0x7F
            start = off + 2
            if n == 126:
                if len(buf) - off < 4:
                    break
                n, start = int.from_bytes(buf[off + 2 : off + 4], "big"), off + 4
            elif n == 127:
                if len(buf) - off < 10:
                    break
                n, start = int.from_bytes(buf[off + 2 : off + 10], "big"), off + 10
            masked = buf[off + 1] & 0x80
            end = start + (4 if masked else 0) + n
            if end > len(buf):
                break
            if masked:
                key = bytes(buf[start : start + 4])
                data = int.from_bytes(buf[start + 4 : end], "little")
                mask = int.from_bytes((key * (n // 4 + 1))[:n], "little")
                payload = (data ^ mask).to_bytes(n, "little")
            else:
                payload = bytes(buf[start:end])
            off = end
            opcode = b0 & 0x0F
            if opcode in (1, 2):
                self.on_payload(payload)
            elif opcode == 9 and self.transport is not None:
                self.transport.write(bytes((0x8A, len(payload))) + payload)
            elif opcode == 8 and self.transport is not None:
                self.transport.write(bytes((0x88, 0)))
                self.transport.close()
                break
        del buf[:off]

    # --- WAMP, answered rather than routed -----------------------------------------------------

    def send(self, message: list[Any]) -> None:
        assert self.ser is not None
        self.out.append(self.frame(self.ser.encode(message)))
        self.hub.dirty.add(self)

    def on_payload(self, payload: bytes) -> None:
        assert self.ser is not None
        for msg in self.ser.decode(payload):
            typ = msg[0]
            if typ == 48:  # CALL -> RESULT with the call's arguments
                self.send([50, msg[1], {}, *msg[4:6]])
            elif typ == 16:  # PUBLISH -> EVENT to every subscriber, PUBLISHED if asked
                self.publish(msg)
            elif typ == 1:  # HELLO
                self.send([2, next(self.hub.ids), WELCOME_DETAILS])
            elif typ == 32:  # SUBSCRIBE
                topic = msg[3]
                subs = self.hub.subscribers.setdefault(topic, {})
                sub_id = next(self.hub.ids)
                subs[self] = sub_id
                self.topics.append(topic)
                self.send([33, msg[1], sub_id])
            elif typ == 64:  # REGISTER
                self.send([65, msg[1], next(self.hub.ids)])
            elif typ == 6:  # GOODBYE
                self.send([6, {}, "wamp.close.goodbye_and_out"])

    def publish(self, msg: list[Any]) -> None:
        pub_id = next(self.hub.ids)
        encoded: dict[str, bytes] = {}
        for conn, sub_id in list(self.hub.subscribers.get(msg[3], {}).items()):
            if conn is self or conn.transport is None or conn.ser is None:
                continue
            key = f"{conn.ser.name}:{sub_id}"  # the subscription id is inside the EVENT
            data = encoded.get(key)
            if data is None:
                data = encoded[key] = conn.ser.encode([36, sub_id, pub_id, {}, *msg[4:6]])
            conn.out.append(conn.frame(data))
            self.hub.dirty.add(conn)
        if msg[2].get("acknowledge"):
            self.send([17, msg[1], pub_id])


async def serve(urls: list[str]) -> None:
    loop = asyncio.get_running_loop()
    hub = Hub()
    servers = []
    for url in urls:
        parts = urlsplit(url)
        if parts.hostname != "127.0.0.1":
            raise SystemExit("the ceiling listens on 127.0.0.1 only")
        websocket = parts.scheme == "ws"
        server = await loop.create_server(
            lambda websocket=websocket: WampConn(hub, websocket), "127.0.0.1", parts.port or 0
        )
        servers.append(server)
        port = server.sockets[0].getsockname()[1]
        path = (parts.path or "/ws") if websocket else ""
        print(f"listening on {parts.scheme}://127.0.0.1:{port}{path}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for server in servers:
        server.close()
        await server.wait_closed()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listen", action="append", metavar="URL")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.listen or ["rs://127.0.0.1:0", "ws://127.0.0.1:0/ws"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
