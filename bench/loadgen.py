"""The lean WAMP load generator of bench_compare.py: one OS process per client role.

    python bench/loadgen.py ROLE URL SERIALIZER [options]

URL is ``rs://127.0.0.1:PORT`` or ``ws://127.0.0.1:PORT/PATH``; SERIALIZER ``json`` or
``msgpack``. Roles:

``callee``      joins, registers ``bench.echo``, answers every INVOCATION with a pre-encoded
                YIELD (``--size`` bytes of args) into which only the request id is patched.
``caller``      joins, keeps ``--window`` CALLs in flight (pre-encoded, request id patched in);
                of each RESULT it parses only the message type and request id.
``subscriber``  joins, subscribes to ``bench.topic``, counts message frames without decoding.
``publisher``   joins, keeps ``--window`` acknowledged PUBLISHes in flight, reads only the
                type and request id of each PUBLISHED.
``idle``        joins ``--sessions`` sessions (one process holds them all) and keeps them open.

Protocol with the parent, one line each way on stdin/stdout: the role prints ``ready`` once
joined (and, for caller and publisher, once the load runs); on ``start`` it zeroes its
counters, on ``stop`` it prints one JSON line of results (callers: count, elapsed, p50/p99 in
seconds; subscribers: count and elapsed) and goes on draining until stdin closes. Every process
has a hard deadline (``--deadline`` seconds, SIGALRM, whose default action terminates) and dies
with its parent (PR_SET_PDEATHSIG). Traffic goes to 127.0.0.1 only.

Everything is hand-built on blocking sockets and ``selectors``: the RawSocket handshake and
4-byte frame headers; the WebSocket upgrade and client frames masked with a fresh key per frame
(RFC 6455 §5.3). Only the stdlib and ``msgpack`` are imported, never wampcore.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import selectors
import signal
import socket
import struct
import sys
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

HELLO_ROLES = {"caller": {}, "callee": {}, "publisher": {}, "subscriber": {}}
RS_SERIALIZER = {"json": 1, "msgpack": 2}
WS_SUBPROTOCOL = {"json": "wamp.2.json", "msgpack": "wamp.2.msgpack"}
SENTINEL = 3_987_654_321  # a request id whose encoding cannot occur elsewhere in a template

# WAMP message types used here (wamp-spec §6.5)
WELCOME, ABORT, ERROR, PUBLISHED, SUBSCRIBED, RESULT, REGISTERED, INVOCATION = (
    2,
    3,
    8,
    17,
    33,
    50,
    65,
    68,
)


class Closed(Exception):
    """The router closed the connection."""


def hard_deadline(seconds: float) -> None:
    """Die at the deadline whatever happens (SIGALRM's default action), and with the parent."""
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    signal.alarm(max(1, int(seconds + 0.999)))
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() == 1:  # the parent died before prctl took effect
        sys.exit(1)


# --- serializers: templates built once, ids patched in --------------------------------------------


class Codec:
    """Encoding of whole messages (setup only) and of a request id (per message)."""

    def __init__(self, name: str) -> None:
        self.name = name
        if name == "json":
            self.dumps: Callable[[Any], bytes] = lambda obj: json.dumps(
                obj, separators=(",", ":")
            ).encode()
            self.loads: Callable[[bytes], Any] = json.loads
            self.enc_id: Callable[[int], bytes] = lambda rid: b"%d" % rid
        else:
            import msgpack

            self.dumps = msgpack.packb
            self.loads = lambda data: msgpack.unpackb(data, raw=False)
            self.enc_id = msgpack.packb

    def template(self, message: list[Any]) -> Callable[[int], bytes]:
        """``message`` with SENTINEL as its request id -> a function rid -> encoded bytes."""
        encoded = self.dumps(message)
        marker = self.enc_id(SENTINEL)
        assert encoded.count(marker) == 1, "template sentinel not unique"
        prefix, suffix = encoded.split(marker)
        enc_id = self.enc_id
        return lambda rid: prefix + enc_id(rid) + suffix

    def parse_head(self) -> Callable[[bytes], tuple[int, int]]:
        """A function payload -> (message type, second element as an int): all a caller reads."""
        if self.name == "json":

            def head(data: bytes) -> tuple[int, int]:
                i = data.index(b",")
                j = data.index(b",", i + 1)
                return int(data[1:i]), int(data[i + 1 : j])

            return head

        def head_msgpack(data: bytes) -> tuple[int, int]:
            typ, t = data[1], data[2]  # data[0]: fixarray header; the type is a positive fixint
            if t < 0x80:
                return typ, t
            if t == 0xCC:
                return typ, data[3]
            if t == 0xCD:
                return typ, int.from_bytes(data[3:5], "big")
            if t == 0xCE:
                return typ, int.from_bytes(data[3:7], "big")
            if t == 0xCF:
                return typ, int.from_bytes(data[3:11], "big")
            raise ValueError(f"unexpected msgpack id marker {t:#x} in {data[:16]!r}")

        return head_msgpack


# --- transports ---------------------------------------------------------------------------------


class Conn:
    """One WAMP transport connection to 127.0.0.1, RawSocket or WebSocket, blocking socket."""

    def __init__(self, url: str, codec: Codec) -> None:
        parts = urlsplit(url)
        if parts.hostname != "127.0.0.1":
            raise SystemExit(f"loadgen talks to 127.0.0.1 only, not {parts.hostname}")
        self.ws = parts.scheme == "ws"
        self.path = parts.path or "/"
        self.codec = codec
        self.sock = socket.create_connection(("127.0.0.1", parts.port or 80), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self._keys = os.urandom(4096)
        self._ki = 0
        self.opcode = 0x1 if codec.name == "json" else 0x2

    # handshake in two halves so that many connections can handshake at once (the idle role)
    def start_handshake(self) -> None:
        if self.ws:
            key = base64.b64encode(os.urandom(16)).decode()
            port = self.sock.getpeername()[1]
            request = (
                f"GET {self.path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                f"Sec-WebSocket-Protocol: {WS_SUBPROTOCOL[self.codec.name]}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            )
            self.sock.sendall(request.encode())
        else:
            self.sock.sendall(bytes((0x7F, 0xF0 | RS_SERIALIZER[self.codec.name], 0, 0)))

    def finish_handshake(self) -> None:
        if self.ws:
            while b"\r\n\r\n" not in self.buf:
                self._fill()
            end = self.buf.index(b"\r\n\r\n") + 4
            head = bytes(self.buf[:end]).decode("latin-1")
            del self.buf[:end]
            if not head.startswith("HTTP/1.1 101"):
                raise SystemExit(f"WebSocket upgrade refused: {head.splitlines()[0]}")
        else:
            while len(self.buf) < 4:
                self._fill()
            reply = bytes(self.buf[:4])
            del self.buf[:4]
            if reply[0] != 0x7F or reply[1] & 0x0F != RS_SERIALIZER[self.codec.name]:
                raise SystemExit(f"RawSocket handshake refused: {reply.hex()}")

    def _fill(self) -> None:
        data = self.sock.recv(262144)
        if not data:
            raise Closed("connection closed by the router")
        self.buf += data

    def frame(self, payload: bytes) -> bytes:
        """The bytes that carry one message (a masked client frame on WebSocket)."""
        n = len(payload)
        if not self.ws:
            return struct.pack(">I", n) + payload
        return self._ws_frame(payload, self.opcode)

    def _ws_frame(self, payload: bytes, opcode: int) -> bytes:
        n = len(payload)
        if self._ki >= 4096:
            self._keys, self._ki = os.urandom(4096), 0
        key = self._keys[self._ki : self._ki + 4]
        self._ki += 4
        if n < 126:
            head = bytes((0x80 | opcode, 0x80 | n))
        elif n < 65536:
            head = struct.pack(">BBH", 0x80 | opcode, 0xFE, n)
        else:
            head = struct.pack(">BBQ", 0x80 | opcode, 0xFF, n)
        mask = (key * (n // 4 + 1))[:n]
        masked = (int.from_bytes(payload, "little") ^ int.from_bytes(mask, "little")).to_bytes(
            n, "little"
        )
        return head + key + masked

    def send(self, payload: bytes) -> None:
        self.sock.sendall(self.frame(payload))

    def _control(self, kind: int, payload: bytes) -> None:
        """A control frame from the router: answer pings, stop on close."""
        if self.ws:
            if kind == 0x9:
                self.sock.sendall(self._ws_frame(payload, 0xA))
            elif kind == 0x8:
                raise Closed("WebSocket close from the router")
        elif kind == 1:  # RawSocket ping -> pong with the same payload
            self.sock.sendall(struct.pack(">I", (2 << 24) | len(payload)) + payload)

    def _scan(self, keep: bool) -> tuple[list[bytes], int]:
        """Complete frames in the buffer: their payloads (if ``keep``) and how many."""
        buf, off, size, out, count = self.buf, 0, len(self.buf), [], 0
        ws = self.ws
        while True:
            if ws:
                if size - off < 2:
                    break
                b0, b1 = buf[off], buf[off + 1] & 0x7F
                start = off + 2
                if b1 == 126:
                    if size - off < 4:
                        break
                    b1, start = int.from_bytes(buf[off + 2 : off + 4], "big"), off + 4
                elif b1 == 127:
                    if size - off < 10:
                        break
                    b1, start = int.from_bytes(buf[off + 2 : off + 10], "big"), off + 10
                end = start + b1
                if end > size:
                    break
                op = b0 & 0x0F
                if op >= 0x8:
                    self._control(op, bytes(buf[start:end]))
                elif b0 & 0x80:  # FIN: a whole message (routers here do not fragment)
                    count += 1
                    if keep:
                        out.append(bytes(buf[start:end]))
            else:
                if size - off < 4:
                    break
                kind, start = buf[off], off + 4
                end = start + int.from_bytes(buf[off + 1 : off + 4], "big")
                if end > size:
                    break
                if kind == 0:
                    count += 1
                    if keep:
                        out.append(bytes(buf[start:end]))
                else:
                    self._control(kind, bytes(buf[start:end]))
            off = end
        if off:
            del buf[:off]
        return out, count

    def recv_messages(self) -> list[bytes]:
        """Read once (blocking) and return the payloads of the complete messages."""
        self._fill()
        return self._scan(True)[0]

    def recv_count(self) -> int:
        """Read once (blocking) and return how many complete messages arrived (not decoded)."""
        self._fill()
        return self._scan(False)[1]

    def expect(self, *types: int) -> list[Any]:
        """Block for the next message and decode it (setup only); it must be one of ``types``."""
        while True:
            payloads = self._scan(True)[0]
            if payloads:
                break
            self._fill()
        assert len(payloads) == 1, "unexpected pipelined messages during setup"
        msg = self.codec.loads(payloads[0])
        if msg[0] not in types:
            raise SystemExit(f"expected message type {types}, got {msg!r}")
        return list(msg)

    def join(self, realm: str = "realm1") -> None:
        self.start_handshake()
        self.finish_handshake()
        self.send_hello(realm)
        self.expect(WELCOME)

    def send_hello(self, realm: str = "realm1") -> None:
        self.send(self.codec.dumps([1, realm, {"roles": HELLO_ROLES}]))

    def close(self, abort: bool = False) -> None:
        if abort:  # RST, no TIME_WAIT (thousands of idle sessions)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()


# --- the parent's control channel ---------------------------------------------------------------


def emit(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class Control:
    """Lines from the parent on stdin, read without blocking the load loop."""

    def __init__(self) -> None:
        self.pending = b""
        self.eof = False

    def lines(self) -> list[str]:
        data = os.read(0, 4096)
        if not data:
            self.eof = True
            return []
        self.pending += data
        *done, self.pending = self.pending.split(b"\n")
        return [line.decode().strip() for line in done]


def quantile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def loop(conn: Conn, on_data: Callable[[], None], on_line: Callable[[str], bool]) -> None:
    """Serve the socket and the control channel until ``on_line`` returns False or stdin ends."""
    conn.sock.settimeout(None)
    control = Control()
    sel = selectors.DefaultSelector()
    sel.register(conn.sock, selectors.EVENT_READ, "sock")
    sel.register(0, selectors.EVENT_READ, "ctl")
    try:
        while True:
            for key, _ in sel.select():
                if key.data == "sock":
                    on_data()
                else:
                    for line in control.lines():
                        if not on_line(line):
                            return
                    if control.eof:
                        return
    finally:
        sel.close()


# --- roles --------------------------------------------------------------------------------------


def role_callee(conn: Conn, size: int, window: int) -> None:
    codec = conn.codec
    conn.join()
    conn.send(codec.dumps([64, 1, {}, "bench.echo"]))
    conn.expect(REGISTERED)
    yield_ = codec.template([70, SENTINEL, {}, ["x" * size]])
    head, frame, sock = codec.parse_head(), conn.frame, conn.sock
    emit("ready")

    def on_data() -> None:
        out = []
        for payload in conn.recv_messages():
            typ, rid = head(payload)
            if typ == INVOCATION:
                out.append(frame(yield_(rid)))
        if out:
            sock.sendall(b"".join(out))

    loop(conn, on_data, lambda line: line != "quit")


def _windowed(conn: Conn, request: Callable[[int], bytes], answer: int, window: int) -> None:
    """Keep ``window`` requests in flight; on ``start`` measure, on ``stop`` report."""
    head, frame, sock = conn.codec.parse_head(), conn.frame, conn.sock
    clock = time.perf_counter
    sent: dict[int, float] = {}
    latencies: list[float] = []
    state = {"on": False, "count": 0, "t0": 0.0, "next": 1}

    def send(n: int) -> None:
        rid, now, out = state["next"], clock(), []
        for r in range(rid, rid + n):
            sent[r] = now
            out.append(frame(request(r)))
        state["next"] = rid + n
        sock.sendall(b"".join(out))

    send(window)
    emit("ready")

    def on_data() -> None:
        payloads = conn.recv_messages()
        now = clock()
        done = 0
        for payload in payloads:
            typ, rid = head(payload)
            if typ != answer:
                raise SystemExit(f"expected type {answer}, got {conn.codec.loads(payload)!r}")
            t = sent.pop(rid)
            if state["on"]:
                latencies.append(now - t)
            done += 1
        if done:
            if state["on"]:
                state["count"] += done
            send(done)

    def on_line(line: str) -> bool:
        if line == "start":
            latencies.clear()
            state.update(on=True, count=0, t0=clock())
        elif line == "stop":
            elapsed = clock() - state["t0"]
            state["on"] = False
            lat = sorted(latencies)
            emit(
                {
                    "count": state["count"],
                    "elapsed": elapsed,
                    "p50": quantile(lat, 0.50),
                    "p99": quantile(lat, 0.99),
                }
            )
        return line != "quit"

    loop(conn, on_data, on_line)


def role_caller(conn: Conn, size: int, window: int) -> None:
    conn.join()
    call = conn.codec.template([48, SENTINEL, {}, "bench.echo", ["x" * size]])
    _windowed(conn, call, RESULT, window)


def role_publisher(conn: Conn, size: int, window: int) -> None:
    conn.join()
    publish = conn.codec.template(
        [16, SENTINEL, {"acknowledge": True}, "bench.topic", ["x" * size]]
    )
    _windowed(conn, publish, PUBLISHED, window)


def role_subscriber(conn: Conn, size: int, window: int) -> None:
    conn.join()
    conn.send(conn.codec.dumps([32, 1, {}, "bench.topic"]))
    conn.expect(SUBSCRIBED)
    clock = time.perf_counter
    state = {"count": 0, "t0": clock()}
    emit("ready")

    def on_data() -> None:
        state["count"] += conn.recv_count()

    def on_line(line: str) -> bool:
        if line == "start":
            state.update(count=0, t0=clock())
        elif line == "stop":
            emit({"count": state["count"], "elapsed": clock() - state["t0"]})
        return line != "quit"

    loop(conn, on_data, on_line)


def role_idle(url: str, codec: Codec, sessions: int, batch: int = 100) -> None:
    """``sessions`` joined sessions, handshaking ``batch`` at a time, held until stdin closes."""
    conns: list[Conn] = []
    try:
        while len(conns) < sessions:
            group = [Conn(url, codec) for _ in range(min(batch, sessions - len(conns)))]
            conns += group
            for c in group:
                c.start_handshake()
            for c in group:
                c.finish_handshake()
                c.send_hello()
            for c in group:
                c.expect(WELCOME)
        emit("ready")
        while os.read(0, 4096):
            pass
    finally:
        for c in conns:
            c.close(abort=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="lean WAMP load generator (one role)")
    parser.add_argument("role", choices=("callee", "caller", "subscriber", "publisher", "idle"))
    parser.add_argument("url")
    parser.add_argument("serializer", choices=("json", "msgpack"))
    parser.add_argument("--size", type=int, default=16, help="args payload bytes")
    parser.add_argument("--window", type=int, default=100, help="requests in flight")
    parser.add_argument("--sessions", type=int, default=1000, help="idle role: sessions")
    parser.add_argument("--deadline", type=float, default=120.0, help="hard deadline, seconds")
    args = parser.parse_args(argv)
    hard_deadline(args.deadline)
    codec = Codec(args.serializer)
    try:
        if args.role == "idle":
            role_idle(args.url, codec, args.sessions)
            return 0
        conn = Conn(args.url, codec)
        try:
            role = {
                "callee": role_callee,
                "caller": role_caller,
                "subscriber": role_subscriber,
                "publisher": role_publisher,
            }[args.role]
            role(conn, args.size, args.window)
        finally:
            conn.close()
    except (Closed, BrokenPipeError, ConnectionResetError) as exc:
        print(f"loadgen {args.role}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
