"""Fuzz harness for the client peer (wampcore.client.ClientPeer).

Run with atheris: ``python fuzz/fuzz_client.py [corpus_dir]``. The same ``TestOneInput`` runs
under hypothesis in ``tests/test_client_fuzz.py`` so it cannot rot.

The peer is first brought to a state where most router messages mean something: joined, with a
subscription (id 1), a registration (id 1), a progressive call (request 3), an acknowledged
publish (request 4) and an unanswered subscribe (request 5) pending. Then the input plays the
router.

Input layout: octet 0 picks the mode and serializer, the rest is the router's side:

* mode 0: the rest is split at ``0xFF 0xFE`` into whole payloads (identity framing);
* mode 1: the rest is a byte stream after a valid RawSocket handshake reply;
* mode 2: the rest is read as a stream of MessagePack values, each re-encoded with the chosen
  serializer as one payload, so that structured (often valid) messages reach the session logic.

The target checks that nothing raises, that only documented events come out, that after EOF
``TransportClosed`` is the last event and nothing follows it, and that every request the peer
issued ended exactly once (its reply, an error, or the end of its session). While it runs it
answers invocations, so the callee verbs are exercised on whatever state the input produced.
"""

from __future__ import annotations

import sys
from typing import Any

import msgpack

from wampcore.client import (
    Aborted,
    CallResult,
    ClientEvent,
    ClientPeer,
    InterruptReceived,
    InvocationReceived,
    Joined,
    Left,
    PongReceived,
    ProtocolViolation,
    PublicationReceived,
    PublishAcknowledged,
    RegistrationCreated,
    RegistrationEnded,
    RequestError,
    SubscriptionCreated,
    SubscriptionEnded,
    TransportClosed,
)
from wampcore.errors import LocalProtocolError
from wampcore.serializers import get_serializer
from wampcore.transports import MessageFraming, RawSocketClient

EVENT_TYPES = (
    Aborted,
    CallResult,
    InterruptReceived,
    InvocationReceived,
    Joined,
    Left,
    PongReceived,
    ProtocolViolation,
    PublicationReceived,
    PublishAcknowledged,
    RegistrationCreated,
    RegistrationEnded,
    RequestError,
    SubscriptionCreated,
    SubscriptionEnded,
    TransportClosed,
)

SERIALIZERS = ("json", "msgpack", "cbor")
SEPARATOR = b"\xff\xfe"
ROUTER_ROLES = {
    "broker": {"features": {"subscription_revocation": True}},
    "dealer": {
        "features": {
            "progressive_call_results": True,
            "progressive_call_invocations": True,
            "call_canceling": True,
            "registration_revocation": True,
        }
    },
}


class Ledger:
    """Checks that each request ends exactly once, from the events alone."""

    def __init__(self) -> None:
        self.open: set[int] = set()
        self.ended: set[int] = set()
        self.closed_seen = False

    def issued(self, request_id: int, expects_reply: bool = True) -> None:
        assert request_id not in self.open, f"request id {request_id} reused while open"
        if expects_reply:
            self.open.add(request_id)
            self.ended.discard(request_id)

    def end(self, request_id: int) -> None:
        assert request_id in self.open, f"request {request_id} ended twice or never opened"
        self.open.remove(request_id)
        self.ended.add(request_id)

    def see(self, ev: ClientEvent) -> None:
        assert not self.closed_seen, f"{ev} after TransportClosed"
        self.closed_seen = isinstance(ev, TransportClosed)
        if isinstance(ev, CallResult):
            if not ev.progress:
                self.end(ev.request_id)
            else:
                assert ev.request_id in self.open
        elif isinstance(
            ev,
            RequestError
            | PublishAcknowledged
            | SubscriptionCreated
            | RegistrationCreated
            | SubscriptionEnded
            | RegistrationEnded,
        ):
            rid = ev.request_id
            if rid is not None:
                self.end(rid)
        elif isinstance(ev, Joined | Aborted | Left | ProtocolViolation | TransportClosed):
            if not isinstance(ev, Joined):
                assert not self.open, f"session ended with requests still open: {self.open}"
            self.open.clear()


def prepare(serializer: str, rawsocket: bool) -> tuple[ClientPeer, Ledger, Any]:
    """A joined peer with some state (see the module docstring) and a way to feed it."""
    ser = get_serializer(serializer)
    framing: Any = (
        RawSocketClient(serializer=serializer) if rawsocket else MessageFraming(ser.subprotocol)
    )
    peer = ClientPeer("realm1", framing)
    ledger = Ledger()

    def feed(*wires: Any) -> None:
        for wire in wires:
            payload = ser.encode(wire)
            if rawsocket:
                peer.receive_data(len(payload).to_bytes(4, "big") + payload)
            else:
                peer.receive_data(payload)

    if rawsocket:
        peer.receive_data(bytes((0x7F, 0xF0 | ser.rawsocket_id, 0, 0)))
    drain(peer, ledger)
    feed([2, 4242, {"roles": ROUTER_ROLES}])
    drain(peer, ledger)
    for rid in (
        peer.subscribe("com.t"),
        peer.register("com.p"),
        peer.call("com.p", [1], receive_progress=True, progress=True),
        peer.publish("com.t", acknowledge=True),
    ):
        ledger.issued(rid)
    feed([33, 1, 1], [65, 2, 1])
    drain(peer, ledger)
    ledger.issued(peer.subscribe("com.u", match="prefix"))
    return peer, ledger, feed


def drain(peer: ClientPeer, ledger: Ledger) -> list[ClientEvent]:
    """Take every event, check it, and act like an application would."""
    events = []
    while (ev := peer.next_event()) is not None:
        assert isinstance(ev, EVENT_TYPES), ev
        ledger.see(ev)
        events.append(ev)
        if isinstance(ev, InvocationReceived) and not ev.progress:
            # Answer it (the peer may already have failed; then the verb says so, typed).
            try:
                if ev.receive_progress:
                    peer.yield_result(ev.request_id, ["chunk"], progress=True)
                peer.yield_result(ev.request_id, ["done"])
            except LocalProtocolError:
                pass
        elif isinstance(ev, InterruptReceived) and not ev.local:
            try:
                peer.yield_error(ev.request_id, "wamp.error.canceled")
            except LocalProtocolError:
                pass
    return events


def TestOneInput(data: bytes) -> None:
    if not data:
        return
    mode, serializer = data[0] % 3, SERIALIZERS[(data[0] // 3) % 3]
    body = data[1:]
    peer, ledger, feed = prepare(serializer, rawsocket=mode == 1)
    if mode == 0:
        for chunk in body.split(SEPARATOR):
            if chunk:
                peer.receive_data(chunk)
            drain(peer, ledger)
    elif mode == 1:
        peer.receive_data(body)
        drain(peer, ledger)
    else:
        unpacker = msgpack.Unpacker(max_buffer_size=1 << 16, strict_map_key=False)
        unpacker.feed(body)
        values: list[Any] = []
        try:
            values.extend(unpacker)
        except Exception:
            pass  # the input's own encoding is broken past this point: play what decoded
        play(peer, ledger, feed, values)
        return
    finish(peer, ledger)


def play(peer: ClientPeer, ledger: Ledger, feed: Any, values: list[Any]) -> None:
    """Send each value as one router message, then EOF, checking everything on the way."""
    for value in values:
        try:
            feed(value)
        except LocalProtocolError:
            continue  # not encodable with this serializer: skip it
        drain(peer, ledger)
    finish(peer, ledger)


def run_messages(serializer: str, values: list[Any]) -> None:
    """The structured entry point (mode 2 without the MessagePack step), for hypothesis."""
    peer, ledger, feed = prepare(serializer, rawsocket=False)
    play(peer, ledger, feed, values)


def finish(peer: ClientPeer, ledger: Ledger) -> None:
    peer.receive_data(b"")
    drain(peer, ledger)
    assert peer.closed and ledger.closed_seen, "EOF must end in TransportClosed"
    assert not ledger.open, ledger.open
    assert peer.next_event() is None


def main() -> None:
    import atheris  # type: ignore[import-not-found]

    atheris.instrument_all()
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
