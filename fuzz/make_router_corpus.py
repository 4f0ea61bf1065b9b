"""Write the router fuzzer's seed corpus, fuzz/corpus/router/, from recorded real sessions.

A real ``ClientPeer`` runs each scenario below against the very router and bystander that
``fuzz_router.py`` builds (``fuzz_router.setup``), and every payload it sends is recorded: its
HELLO (and, with ticket authentication, the AUTHENTICATE answering the CHALLENGE), SUBSCRIBE,
PUBLISH, CALL, REGISTER, YIELD and ERROR for its invocations, CANCEL, meta API calls
(``wamp.session.count``, ``wamp.session.get``, ...), UNSUBSCRIBE, UNREGISTER and GOODBYE. The
payloads are then framed as fuzz_router.py reads them -- RawSocket frames, masked WebSocket
frames (a zero masking key, so the payload stays readable to the fuzzer) or length-prefixed
messages for the identity framing -- after the configuration octet.

Each scenario is written in json, msgpack and cbor, over the three transports in turn, both as a
whole session (configuration bit ``NOT_JOINED``: the input starts with HELLO) and, except the
authentication scenarios, with the HELLO left out (the harness joins the peer itself). Every seed
is replayed through ``fuzz_router.run`` before it is written, and the fuzzed peer must receive
the messages it received while recorded (see ``_replays`` for the one exception), so the seeds
reach deep into the router.

    .venv/bin/python fuzz/make_router_corpus.py

The old seeds are removed first, so the corpus always matches the scenarios.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import fuzz_router  # noqa: E402

from wampcore.client import (  # noqa: E402
    Aborted,
    ClientEvent,
    ClientPeer,
    InterruptReceived,
    InvocationReceived,
    Joined,
    RegistrationCreated,
    SubscriptionCreated,
)
from wampcore.serializers import get_serializer  # noqa: E402
from wampcore.transports import MessageFraming  # noqa: E402

OUT = HERE / "corpus" / "router"
SERIALIZERS = ("json", "msgpack", "cbor")
TRANSPORTS = ("rawsocket", "websocket", "message")
AGENT = "wampcore-fuzz-corpus"


class Recorder:
    """A ClientPeer joined to the harness's router; records what it sends and receives."""

    def __init__(self, config: int, **client_kwargs: Any) -> None:
        serializer = fuzz_router.SERIALIZERS[config & 3]
        self.router, self.bystander = fuzz_router.setup(config)
        self.ser = get_serializer(serializer)
        self.peer = self.router.accept(MessageFraming(self.ser))
        self.client = ClientPeer("realm1", MessageFraming(self.ser), agent=AGENT, **client_kwargs)
        self.sent: list[bytes] = []
        self.received: list[int] = []
        self.events: list[ClientEvent] = []
        self.pump()

    def pump(self) -> None:
        moved = True
        while moved:
            moved = False
            for payload in self.client.payloads_to_send():
                moved = True
                self.sent.append(payload)
                self.router.receive_data(self.peer, payload)
            for payload in self.router.payloads_to_send(self.peer):
                moved = True
                self.received.extend(wire[0] for wire in self.ser.decode(payload))
                self.client.receive_data(payload)
            while (event := self.client.next_event()) is not None:
                self.events.append(event)
            self.bystander.drain()

    def take(self, kind: type[Any]) -> Any:
        """The first not yet taken event of this kind (pumping first)."""
        self.pump()
        for i, event in enumerate(self.events):
            if isinstance(event, kind):
                del self.events[i]
                return event
        raise AssertionError(f"no {kind.__name__} in {self.events}")


# -- scenarios: each drives one real session and ends it with GOODBYE (or is refused) -----------


def pubsub(r: Recorder) -> None:
    c = r.client
    r.take(Joined)
    c.subscribe("com.t")
    c.subscribe("com.", match="prefix")
    c.subscribe("com..x", match="wildcard")
    first = r.take(SubscriptionCreated)
    c.publish("com.t", ["hello"], {"n": 1}, acknowledge=True, exclude_me=False)
    c.publish("com.u", [1, 2.5, None, True], disclose_me=True)
    c.publish("com.a.x", [b"\x00\xff"], acknowledge=True)
    r.pump()
    c.unsubscribe(first.subscription_id)
    r.pump()
    c.leave()
    r.pump()


def rpc(r: Recorder) -> None:
    c = r.client
    r.take(Joined)
    c.register("com.q")
    registered = r.take(RegistrationCreated)
    c.call("com.q", [2, 3], {"op": "add"})
    c.yield_result(r.take(InvocationReceived).request_id, [5])
    c.call("com.q", ["boom"])
    c.yield_error(r.take(InvocationReceived).request_id, "com.error.bad", ["no"])
    c.call("com.missing", [])
    c.call("com.p", ["to the bystander"], timeout=500)  # never answered: open at GOODBYE
    r.pump()
    c.unregister(registered.registration_id)
    r.pump()
    c.leave()
    r.pump()


def progressive(r: Recorder) -> None:
    c = r.client
    r.take(Joined)
    c.register("com.q")
    c.register("com.r", match="prefix", invoke="roundrobin")
    r.pump()
    c.call("com.q", ["chunks"], receive_progress=True)
    invocation = r.take(InvocationReceived)
    c.yield_result(invocation.request_id, [1], progress=True)
    c.yield_result(invocation.request_id, [2], progress=True)
    c.yield_result(invocation.request_id, [3])
    rid = c.call("com.r.one", ["first"], progress=True)
    invocation = r.take(InvocationReceived)
    c.continue_call(rid, ["second"], progress=False)
    r.pump()
    c.yield_result(invocation.request_id, ["done"])
    rid = c.call("com.q", ["slow"])
    r.take(InvocationReceived)
    c.cancel(rid, "kill")
    interrupt = r.take(InterruptReceived)
    c.yield_error(interrupt.request_id, "wamp.error.canceled")
    r.pump()
    c.leave()
    r.pump()


def meta(r: Recorder) -> None:
    c = r.client
    joined = r.take(Joined)
    c.subscribe("wamp.session.on_leave")
    c.call("wamp.session.count", [])
    c.call("wamp.session.count", [["anonymous"]])
    c.call("wamp.session.list", [])
    c.call("wamp.session.get", [joined.session_id])
    c.call("wamp.subscription.lookup", ["com.t"])
    c.call("wamp.subscription.match", ["com.t"])
    c.call("wamp.registration.lookup", ["com.p"])
    c.call("wamp.registration.list", [])
    c.call("wamp.session.get", [1])  # no such session
    r.pump()
    c.leave("wamp.close.close_realm", "bye")
    r.pump()


def ticket(r: Recorder) -> None:
    c = r.client
    assert r.received[:2] == [4, 2], r.received  # CHALLENGE, then WELCOME
    r.take(Joined)
    c.call("wamp.session.count", [])
    c.publish("com.t", ["as joe"], acknowledge=True)
    r.pump()
    c.leave()
    r.pump()


def ticket_denied(r: Recorder) -> None:
    assert r.received[:2] == [4, 3], r.received  # CHALLENGE, then ABORT
    r.take(Aborted)


#: name -> (scenario, ClientPeer keywords, whether it is recorded with the HELLO left out too)
SCENARIOS: dict[str, tuple[Callable[[Recorder], None], dict[str, Any], bool]] = {
    "pubsub": (pubsub, {}, True),
    "rpc": (rpc, {}, True),
    "progressive": (progressive, {}, True),
    "meta": (meta, {}, True),
    "ticket": (ticket, {"authid": fuzz_router.AUTHID, "ticket": fuzz_router.TICKET}, False),
    "ticket-denied": (ticket_denied, {"authid": fuzz_router.AUTHID, "ticket": "wrong"}, False),
}


def _websocket_frame(payload: bytes, binary: bool) -> bytes:
    """One masked WebSocket frame (masking key 0: the payload is unchanged)."""
    head = bytearray((0x82 if binary else 0x81,))
    n = len(payload)
    if n < 126:
        head.append(0x80 | n)
    elif n < 1 << 16:
        head += bytes((0x80 | 126,)) + n.to_bytes(2, "big")
    else:
        head += bytes((0x80 | 127,)) + n.to_bytes(8, "big")
    return bytes(head) + b"\0\0\0\0" + payload


def frame(config: int, payloads: list[bytes]) -> bytes:
    """The fuzz_router.py input (after the configuration octet) that sends these payloads."""
    kind = fuzz_router.transport(config)
    if kind == "message":
        return fuzz_router.identity_input(payloads)
    if kind == "websocket":
        binary = get_serializer(fuzz_router.SERIALIZERS[config & 3]).binary
        return b"".join(_websocket_frame(p, binary) for p in payloads)
    return b"".join(b"\0" + len(p).to_bytes(3, "big") + p for p in payloads)


def seed(name: str, serializer: str, kind: str, with_hello: bool) -> bytes:
    scenario, kwargs, _ = SCENARIOS[name]
    config = SERIALIZERS.index(serializer)
    config |= {"rawsocket": 0, "websocket": fuzz_router.WEBSOCKET, "message": 4}[kind]
    if with_hello:
        config |= fuzz_router.NOT_JOINED
    recorder = Recorder(config, **kwargs)
    scenario(recorder)
    assert recorder.ser.decode(recorder.sent[0])[0][0] == 1  # HELLO
    sent = recorder.sent if with_hello else recorder.sent[1:]
    data = bytes((config,)) + frame(config, sent)
    # The seed must replay the recorded session exactly.
    outcome = fuzz_router.run(data)
    assert outcome is not None
    replayed = [m.TYPE for m in outcome.received]
    assert _replays(replayed, recorder.received), (name, kind, replayed, recorder.received)
    return data


def _replays(replayed: list[int], recorded: list[int]) -> bool:
    """Whether the replay received what the recording did, but for some RESULTs and ERRORs.

    A stream transport's input is fed in two reads, and the router answers the meta API
    after it has read everything in a read: a meta CALL that arrives in the same read as the
    GOODBYE after it is handled after the session ended, so its RESULT (or ERROR) is dropped.
    """
    rest = iter(replayed)
    expected = next(rest, None)
    for got in recorded:
        if got == expected:
            expected = next(rest, None)
        elif got not in (8, 50):
            return False
    return expected is None


def seeds() -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for i, (name, (_, _, joined_too)) in enumerate(SCENARIOS.items()):
        for j, serializer in enumerate(SERIALIZERS):
            for with_hello in (True, False) if joined_too else (True,):
                kind = TRANSPORTS[(i + j + (0 if with_hello else 1)) % len(TRANSPORTS)]
                mode = "hello" if with_hello else "joined"
                out[f"{serializer}-{kind}-{mode}-{name}"] = seed(name, serializer, kind, with_hello)
    return out


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.iterdir():
        old.unlink()
    found = seeds()
    for name, data in found.items():
        (OUT / name).write_bytes(data)
    total = sum(map(len, found.values()))
    print(f"wrote {len(found)} seeds ({total} bytes) to {OUT.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
