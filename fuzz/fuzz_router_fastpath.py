"""Fuzz harness for the router's fast paths: every input runs on two routers, one with the fast
paths and one without, and everything they do must be the same.

The fast paths (issue 11): RawSocket's shortcut for plain message frames
(``RawSocketServer.fast_path``), frames built once per fan-out and shared between peers
(``frame_kind`` / ``frame`` / ``send_framed``), and, for JSON where orjson is installed, the
orjson steps of ``wampcore._json_fast``. The plain router's peers use a RawSocket server with
``fast_path`` off and no ``frame_kind`` (so each message is framed by ``send`` for each peer);
both routers are seeded alike.

Run with atheris: ``python fuzz/fuzz_router_fastpath.py [corpus_dir]`` (the router seeds in
``fuzz/corpus/router/`` are good starting points). The same target runs under hypothesis in
``tests/test_fastpath_differential.py``.

Input layout: octet 0 picks the fuzzed peer's serializer (``% 3``: json, msgpack, cbor) and, with
bit 2, whether it joins first (else its input starts where a HELLO is due); octet 1 splits the
rest into two reads; the rest is the peer's RawSocket frame stream after the handshake. Beside it
sit three subscribers (one per serializer; ``com.t`` exact and ``com`` prefix) and a callee of
``com.p`` (msgpack) that answers each INVOCATION with a YIELD. The target checks that both routers
send every peer the same bytes and report the same events, and (for json) that the orjson and
standard-library JSON steps agree on every payload of the stream.
"""

from __future__ import annotations

import random
import sys
from typing import Any

from wampcore import _json_fast
from wampcore.errors import LocalProtocolError, RemoteProtocolError
from wampcore.router import Router
from wampcore.serializers import JSONSerializer, get_serializer
from wampcore.transports import Payload, RawSocketClient, RawSocketServer

SERIALIZERS = ("json", "msgpack", "cbor")
JOINED = 4
ROLES: dict[str, Any] = {
    "publisher": {"features": {"publisher_exclusion": True}},
    "subscriber": {"features": {"pattern_based_subscription": True}},
    "caller": {"features": {"progressive_call_invocations": True, "call_canceling": True}},
    "callee": {"features": {"call_canceling": True, "progressive_call_results": True}},
}


class PlainRawSocketServer(RawSocketServer):
    """A RawSocket server without the fast paths: every frame parsed, every message framed."""

    __slots__ = ()
    fast_path = False
    frame_kind = None


class _Peer:
    def __init__(self, router: Router, framing: RawSocketServer, serializer: str) -> None:
        self.router = router
        self.serializer = get_serializer(serializer)
        self.client = RawSocketClient(serializer)
        self.peer = router.accept(framing)
        self.wire: list[bytes] = []  # every byte string the router gave this peer
        self.invocations: list[int] = []
        router.receive_data(self.peer, self.client.data_to_send())
        self.drain()

    def send(self, wire: list[Any]) -> None:
        self.client.send(self.serializer.encode(wire))
        self.router.receive_data(self.peer, self.client.data_to_send())

    def drain(self) -> None:
        data = self.router.data_to_send(self.peer)
        self.wire.append(data)
        self.client.receive_data(data)
        while (event := self.client.next_event()) is not None:
            if isinstance(event, Payload):
                for wire in self.serializer.decode(event.data):
                    if wire[0] == 68:  # INVOCATION: the callee answers it
                        self.invocations.append(wire[1])


def _world(fast: bool, serializer: str, joined: bool) -> tuple[Router, list[_Peer], _Peer]:
    router = Router(rng=random.Random(0))
    cls = RawSocketServer if fast else PlainRawSocketServer

    def peer(name: str) -> _Peer:
        return _Peer(router, cls(), name)

    others = []
    for i, name in enumerate(SERIALIZERS):
        s = peer(name)
        s.send([1, "realm1", {"roles": ROLES}])
        s.send([32, 1, {}, "com.t"])
        s.send([32, 2, {"match": "prefix"}, "com"])
        others.append(s)
        if i == 1:
            s.send([64, 3, {}, "com.p"])
    fuzzed = peer(serializer)
    if joined:
        fuzzed.send([1, "realm1", {"roles": ROLES}])
    for p in [*others, fuzzed]:
        p.drain()
    return router, others, fuzzed


def _play(fast: bool, serializer: str, joined: bool, reads: list[bytes]) -> list[Any]:
    router, others, fuzzed = _world(fast, serializer, joined)
    callee = others[1]
    for data in reads:
        router.receive_data(fuzzed.peer, data)
        for p in [fuzzed, *others]:
            p.drain()
        for invocation_id in callee.invocations:
            callee.send([70, invocation_id, {}, ["ok"]])
        callee.invocations.clear()
        for p in [fuzzed, *others]:
            p.drain()
    router.handle_timeout(3600.0)
    router.connection_lost(fuzzed.peer)
    for p in others:
        p.drain()
    events = []
    while (event := router.next_event()) is not None:
        events.append(repr(event))
    return [[b"".join(p.wire) for p in [fuzzed, *others]], events]


def _frames(stream: bytes) -> list[bytes]:
    """The payloads of the plain message frames in a RawSocket stream (for the JSON check)."""
    out = []
    pos = 0
    while pos + 4 <= len(stream) and stream[pos] == 0:
        n = int.from_bytes(stream[pos + 1 : pos + 4], "big")
        out.append(stream[pos + 4 : pos + 4 + n])
        pos += 4 + n
    return out


_STANDARD_JSON = JSONSerializer()
_STANDARD_DECODE = getattr(JSONSerializer, "standard_decode_one", JSONSerializer._decode_one)
_FAST_DECODE = _json_fast.fast_decoder(_STANDARD_DECODE)


def _json_verdict(decode: Any, payload: bytes) -> Any:
    try:
        return ("ok", decode(_STANDARD_JSON, payload))
    except (LocalProtocolError, RemoteProtocolError) as exc:
        return (type(exc).__name__, exc.reason, exc.message)


def run(data: bytes) -> None:
    if len(data) < 2:
        return
    serializer = SERIALIZERS[data[0] % 3]
    joined = bool(data[0] & JOINED)
    split = data[1]
    rest = data[2:]
    reads = [rest[:split], rest[split:]]
    fast = _play(True, serializer, joined, reads)
    plain = _play(False, serializer, joined, reads)
    assert fast == plain, (fast, plain)
    if serializer == "json":
        for payload in _frames(rest):
            expected = _json_verdict(_STANDARD_DECODE, payload)
            assert _json_verdict(_FAST_DECODE, payload) == expected, payload


def TestOneInput(data: bytes) -> None:
    run(data)


def main() -> None:
    import atheris

    # Coverage guidance: without this, libFuzzer sees no new edges and the corpus never grows.
    atheris.instrument_all()
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
