"""Fuzz harness for the router: arbitrary input from one peer after a valid join.

Run with atheris: ``python fuzz/fuzz_router.py [corpus_dir]``. The same ``TestOneInput`` runs
under hypothesis in ``tests/test_router_fuzz.py`` so it cannot rot.

Input layout: octet 0 picks the configuration -- bits 0-1 the serializer (json, msgpack, cbor),
bit 2 the transport (RawSocket byte stream, or the identity framing whose input is a sequence
of messages, each one length octet and that many bytes), bit 3 strict request ids off, bit 4 a
small outbound budget. The rest is what the peer sends once it has joined ``realm1``.

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

from wampcore.config import Limits, RouterConfig
from wampcore.messages import Event, Message, Published, Result, from_wire
from wampcore.router import InternalError, Router
from wampcore.serializers import Serializer, get_serializer
from wampcore.transports import MessageFraming, Payload, RawSocketClient, RawSocketServer

SERIALIZERS = ("json", "msgpack", "cbor", "json")
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


class _Side:
    """One client connection to the router, decoding (and validating) everything it gets."""

    def __init__(self, router: Router, serializer: str, message: bool) -> None:
        self.router = router
        self.message = message
        self.serializer: Serializer = get_serializer(serializer)
        self.received: list[Message] = []
        self.client: RawSocketClient | None
        if message:
            self.client = None
            self.peer = router.accept(MessageFraming(self.serializer))
        else:
            self.client = RawSocketClient(serializer)
            self.peer = router.accept(RawSocketServer())
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


def _router(config: int) -> Router:
    limits = Limits(outbound_queue_bytes=2048) if config & 16 else Limits()
    cfg = RouterConfig(limits=limits, strict_request_ids=not config & 8)
    return Router(cfg, rng=random.Random(0))


def _payloads(data: bytes) -> list[bytes]:
    """Length-prefixed messages for the identity framing (a zero length ends the input)."""
    out: list[bytes] = []
    pos = 0
    while pos < len(data):
        n = data[pos]
        pos += 1
        if n == 0:
            break
        out.append(data[pos : pos + n])
        pos += n
    return out


def TestOneInput(data: bytes) -> None:
    if not data:
        return
    config, rest = data[0], data[1:]
    serializer = SERIALIZERS[config & 3]
    message = bool(config & 4)
    router = _router(config)

    bystander = _Side(router, serializer, message=True)
    bystander.send([1, "realm1", {"roles": ROLES}])
    bystander.send([32, 1, {}, "com.t"])
    bystander.send([64, 2, {}, "com.p"])
    bystander.drain()

    fuzzed = _Side(router, serializer, message)
    fuzzed.send([1, "realm1", {"roles": ROLES}])
    fuzzed.drain()

    if message:
        for payload in _payloads(rest):
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


def main() -> None:
    import atheris

    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
