"""Fuzz harness for the router: arbitrary input from one peer, beside a bystander session.

Run with atheris: ``python fuzz/fuzz_router.py [corpus_dir]`` (see fuzz/README.md; the seed
corpus is ``fuzz/corpus/router/``, written by ``fuzz/make_router_corpus.py``). The same
``TestOneInput`` runs under hypothesis, and on every seed, in ``tests/test_router_fuzz.py`` so it
cannot rot. atheris is imported, and the code instrumented for coverage, only when this file runs
as a script.

Input layout: octet 0 picks the configuration, the rest is what the fuzzed peer sends:

* bits 0-1: the serializer (json, msgpack, cbor, json);
* bit 2: the identity framing (``MessageFraming``): the rest is a sequence of messages, each one
  length octet and that many bytes (length 255: two more octets give the length, big-endian;
  length 0 ends the input);
* bit 6 (bit 2 clear): WebSocket: the harness has done the upgrade (subprotocol
  ``wamp.2.<serializer>``) and the rest is the client's frame stream (masked frames);
  bits 2 and 6 clear: RawSocket: the handshake is done and the rest is the frame stream;
* bit 3: strict request ids off; bit 4: a small outbound budget;
* bit 5: the peer has not joined yet, so the rest starts with its HELLO (``realm1`` offers
  ticket authentication to authid ``joe``, ticket ``joe-ticket``, and admits anonymous clients);
  clear: the harness has joined it to ``realm1`` as an anonymous client.

A bystander session (subscribed to ``com.t``, callee of ``com.p``, over its own connection)
shares the realm. The target checks that

* ``receive_data`` never raises, whatever the input;
* every byte the router sends either peer decodes and validates as WAMP;
* the router reports no ``InternalError``;
* the bystander is undisturbed: it can still publish to itself and call its own procedure;
* once the fuzzed peer's connection is gone, nothing of it is left in the router: no session,
  subscription, registration or pending call.
"""

from __future__ import annotations

import random
import sys
from typing import Any

from wampcore.config import Limits, PrincipalConfig, RealmConfig, RouterConfig
from wampcore.messages import Event, Message, Published, Result, from_wire
from wampcore.router import InternalError, Router, RouterEvent
from wampcore.serializers import Serializer, get_serializer
from wampcore.transports import (
    MessageFraming,
    Payload,
    RawSocketClient,
    RawSocketServer,
    WebSocketClient,
    WebSocketServer,
)

SERIALIZERS = ("json", "msgpack", "cbor", "json")
IDENTITY = 4
RELAXED_IDS = 8
SMALL_BUDGET = 16
NOT_JOINED = 32
WEBSOCKET = 64
#: The principal a ``NOT_JOINED`` input may authenticate as (ticket authentication).
AUTHID = "joe"
TICKET = "joe-ticket"
ROLES: dict[str, Any] = {
    "publisher": {"features": {"publisher_exclusion": True}},
    "subscriber": {"features": {"pattern_based_subscription": True}},
    "caller": {"features": {"progressive_call_invocations": True, "call_canceling": True}},
    "callee": {
        "features": {
            "call_canceling": True,
            "progressive_call_results": True,
            "progressive_call_invocations": True,
        }
    },
}


def transport(config: int) -> str:
    """The fuzzed peer's transport for a configuration octet: message, websocket or rawsocket."""
    if config & IDENTITY:
        return "message"
    return "websocket" if config & WEBSOCKET else "rawsocket"


class _Side:
    """One client connection to the router, decoding (and validating) everything it gets."""

    def __init__(self, router: Router, serializer: str, kind: str) -> None:
        self.router = router
        self.serializer: Serializer = get_serializer(serializer)
        self.received: list[Message] = []
        self.client: RawSocketClient | WebSocketClient | None
        if kind == "message":
            self.client = None
            self.peer = router.accept(MessageFraming(self.serializer))
        else:
            if kind == "websocket":
                self.client = WebSocketClient("fuzz", subprotocols=[f"wamp.2.{serializer}"])
                server: RawSocketServer | WebSocketServer = WebSocketServer()
            else:
                self.client = RawSocketClient(serializer)
                server = RawSocketServer()
            self.peer = router.accept(server)
            router.receive_data(self.peer, self.client.data_to_send())
        self.drain()

    def send(self, wire: list[Any]) -> None:
        payload = self.serializer.encode(wire)
        if self.client is None:
            self.router.receive_data(self.peer, payload)
        else:
            self.client.send(payload)
            self.router.receive_data(self.peer, self.client.data_to_send())

    def drain(self) -> None:
        if self.client is None:
            payloads = self.router.payloads_to_send(self.peer)
        else:
            self.client.receive_data(self.router.data_to_send(self.peer))
            payloads = []
            while (event := self.client.next_event()) is not None:
                if isinstance(event, Payload):
                    payloads.append(event.data)
        for payload in payloads:
            for wire in self.serializer.decode(payload):  # raises if the router sent junk
                self.received.append(from_wire(wire))


def router_config(config: int) -> RouterConfig:
    limits = Limits(outbound_queue_bytes=2048) if config & SMALL_BUDGET else Limits()
    realm = RealmConfig("realm1", principals=[PrincipalConfig(AUTHID, "user", ticket=TICKET)])
    return RouterConfig(realms=[realm], limits=limits, strict_request_ids=not config & RELAXED_IDS)


def setup(config: int) -> tuple[Router, _Side]:
    """The router and the joined bystander, as every input starts (also used by the corpus)."""
    router = Router(router_config(config), rng=random.Random(0))
    bystander = _Side(router, SERIALIZERS[config & 3], "message")
    bystander.send([1, "realm1", {"roles": ROLES}])
    bystander.send([32, 1, {}, "com.t"])
    bystander.send([64, 2, {}, "com.p"])
    bystander.drain()
    return router, bystander


def identity_payloads(data: bytes) -> list[bytes]:
    """The messages of an identity-framing input (see the module docstring)."""
    out: list[bytes] = []
    pos = 0
    while pos < len(data):
        n = data[pos]
        pos += 1
        if n == 255:
            n = int.from_bytes(data[pos : pos + 2], "big")
            pos += 2
        if n == 0:
            break
        out.append(data[pos : pos + n])
        pos += n
    return out


def identity_input(payloads: list[bytes]) -> bytes:
    """The inverse of :func:`identity_payloads` (for corpus files and tests)."""
    out = bytearray()
    for p in payloads:
        assert 0 < len(p) < 1 << 16, len(p)
        out += bytes((len(p),)) if len(p) < 255 else b"\xff" + len(p).to_bytes(2, "big")
        out += p
    return bytes(out)


class Outcome:
    """What one input did: what the fuzzed peer received, and the router's events."""

    def __init__(self, received: list[Message], events: list[RouterEvent]) -> None:
        self.received = received
        self.events = events


def run(data: bytes) -> Outcome | None:
    """The target; returns what happened so that tests can check the seeds go deep."""
    if not data:
        return None
    config, rest = data[0], data[1:]
    kind = transport(config)
    router, bystander = setup(config)

    fuzzed = _Side(router, SERIALIZERS[config & 3], kind)
    if not config & NOT_JOINED:
        fuzzed.send([1, "realm1", {"roles": ROLES}])
        fuzzed.drain()

    if kind == "message":
        for payload in identity_payloads(rest):
            router.receive_data(fuzzed.peer, payload)
    else:
        half = len(rest) // 2
        router.receive_data(fuzzed.peer, rest[:half])
        router.receive_data(fuzzed.peer, rest[half:])
    fuzzed.drain()
    bystander.drain()
    router.handle_timeout(3600.0)  # every deadline passes
    fuzzed.drain()
    bystander.drain()

    router.connection_lost(fuzzed.peer)
    bystander.drain()
    events = []
    while (event := router.next_event()) is not None:
        events.append(event)
    assert not [e for e in events if isinstance(e, InternalError)], events

    # Nothing of the fuzzed peer is left, and nothing of the bystander is lost.
    assert router.session_count() == 1
    realm = router.realm("realm1")
    assert realm is not None
    assert [(s.uri, list(s.subscribers)) for s in realm.broker.subscriptions()] == [
        ("com.t", [s.id for s in router.sessions.sessions.values() if not s.hidden])
    ]
    assert [(r.uri, [c.id for c in r.callees]) for r in realm.dealer.registrations()] == [
        ("com.p", [s.id for s in router.sessions.sessions.values() if not s.hidden])
    ]
    for session in router.sessions.sessions.values():
        assert session.open_calls() == [] and session.open_invocations() == []

    # The bystander still works: it publishes to itself and calls its own procedure.
    bystander.received.clear()
    bystander.send([16, 3, {"acknowledge": True, "exclude_me": False}, "com.t", ["self"]])
    bystander.send([48, 4, {}, "com.p", ["mine"]])
    bystander.drain()
    invocation = next(m for m in bystander.received if m.TYPE == 68)
    bystander.send([70, invocation.request_id, {}, ["ok"]])  # type: ignore[attr-defined]
    bystander.drain()
    assert any(isinstance(m, Published) and m.request_id == 3 for m in bystander.received)
    assert any(isinstance(m, Event) and m.args == ["self"] for m in bystander.received)
    assert any(isinstance(m, Result) and m.request_id == 4 for m in bystander.received)
    return Outcome(fuzzed.received, events)


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
