"""Codec benchmark: wampcore against Autobahn|Python, same messages, same machine, same run.

For every message type and every serializer (json, msgpack, cbor) it times two directions:

* **decode** -- bytes to a validated message object. wampcore:
  ``for w in serializer.decode(data): msg = from_wire(w)``; Autobahn:
  ``ISerializer.unserialize(data)`` (its parser validates too, via ``Message.parse``).
* **encode** -- message object to bytes. wampcore: ``serializer.encode(msg.to_wire())``;
  Autobahn: ``ISerializer.serialize(msg)`` after ``msg.uncache()`` (Autobahn caches the bytes on
  the message object; a message is normally sent once, so the cache is cleared every time).

Both sides decode the same bytes, and each side encodes the message it decoded from them. The
two are timed in alternating rounds and the best round of each is kept, which cancels most of
the noise of a shared machine (process CPU time is measured, not wall time). The ratio is
Autobahn's time over wampcore's: 2.0 means wampcore is twice as fast.

    .venv/bin/python bench/bench_codec.py            # full table (about a minute)
    .venv/bin/python bench/bench_codec.py --quick    # fewer rounds
    .venv/bin/python bench/bench_codec.py --serializer msgpack --message PUBLISH
    .venv/bin/python bench/bench_codec.py --components --serializer cbor   # where the time goes

Nothing here is a test: no timing is ever asserted.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import txaio

txaio.use_asyncio()  # Autobahn's serializers need a txaio framework selected

from autobahn.wamp import serializer as ab_serializer  # noqa: E402

from wampcore import get_serializer  # noqa: E402
from wampcore import messages as m  # noqa: E402

SERIALIZERS = ("json", "msgpack", "cbor")
AUTOBAHN = {
    "json": ab_serializer.JsonSerializer,
    "msgpack": ab_serializer.MsgPackSerializer,
    "cbor": ab_serializer.CBORSerializer,
}

_ARGS = ["Hello, world!", 42, 3.25, {"nested": [1, 2, 3]}]
_KWARGS = {"user": "alice", "count": 5, "active": True}

#: One realistic message per type; the payload-carrying ones carry args and kwargs.
MESSAGES: dict[str, list[Any]] = {
    "HELLO": [
        1,
        "com.example.realm",
        {
            "roles": {
                "caller": {"features": {"progressive_call_results": True}},
                "callee": {"features": {"call_canceling": True}},
                "publisher": {"features": {"publisher_exclusion": True}},
                "subscriber": {"features": {"pattern_based_subscription": True}},
            },
            "authmethods": ["anonymous"],
            "agent": "wampcore-bench",
        },
    ],
    "WELCOME": [
        2,
        9129137332,
        {
            "roles": {"broker": {"features": {}}, "dealer": {"features": {}}},
            "authid": "FWAL-XOHN",
            "authrole": "anonymous",
            "authmethod": "anonymous",
        },
    ],
    "ABORT": [3, {"message": "The realm does not exist."}, "wamp.error.no_such_realm"],
    "CHALLENGE": [4, "wampcra", {"challenge": '{"nonce": "LHRTC9zeOIrt_9U3"}'}],
    "AUTHENTICATE": [5, "gir1mSx+deCDUV7FgLvsQNTi6n3W/Z/WcZ/OT9RwdZY=", {}],
    "GOODBYE": [6, {}, "wamp.close.close_realm"],
    "ERROR": [8, 48, 7814135, {}, "com.myapp.error.object_write_protected", _ARGS, _KWARGS],
    "PUBLISH": [16, 239714735, {"acknowledge": True}, "com.myapp.mytopic1", _ARGS, _KWARGS],
    "PUBLISHED": [17, 239714735, 4429313566],
    "SUBSCRIBE": [32, 713845233, {"match": "prefix"}, "com.myapp.mytopic1"],
    "SUBSCRIBED": [33, 713845233, 5512315355],
    "UNSUBSCRIBE": [34, 85346237, 5512315355],
    "UNSUBSCRIBED": [35, 85346237],
    "EVENT": [36, 5512315355, 4429313566, {"publisher": 3335656}, _ARGS, _KWARGS],
    "EVENT_RECEIVED": [337, 4429313566],
    "CALL": [48, 7814135, {"timeout": 1000}, "com.myapp.echo", _ARGS, _KWARGS],
    "CANCEL": [49, 7814135, {"mode": "kill"}],
    "RESULT": [50, 7814135, {"progress": True}, _ARGS, _KWARGS],
    "REGISTER": [64, 25349185, {"invoke": "roundrobin"}, "com.myapp.myprocedure1"],
    "REGISTERED": [65, 25349185, 2103333224],
    "UNREGISTER": [66, 788923562, 2103333224],
    "UNREGISTERED": [67, 788923562],
    "INVOCATION": [68, 6131533, 9823526, {"caller": 3335656}, _ARGS, _KWARGS],
    "INTERRUPT": [69, 6131533, {"mode": "kill"}],
    "YIELD": [70, 6131533, {}, _ARGS, _KWARGS],
}


@dataclass
class Row:
    message: str
    serializer: str
    decode_ours: float
    decode_ab: float
    encode_ours: float
    encode_ab: float

    @property
    def decode_ratio(self) -> float:
        return self.decode_ab / self.decode_ours

    @property
    def encode_ratio(self) -> float:
        return self.encode_ab / self.encode_ours


def _time(fn: Callable[[], Any], number: int) -> float:
    # CPU time of this process: time spent descheduled on a busy machine does not count.
    start = time.process_time()
    for _ in range(number):
        fn()
    return (time.process_time() - start) / number


def _best_pair(
    ours: Callable[[], Any], theirs: Callable[[], Any], number: int, rounds: int
) -> tuple[float, float]:
    """Alternate the two, ``rounds`` times each; the best (least disturbed) round of each."""
    best_ours = best_theirs = float("inf")
    for _ in range(rounds):
        best_ours = min(best_ours, _time(ours, number))
        best_theirs = min(best_theirs, _time(theirs, number))
    return best_ours, best_theirs


def _calibrate(fn: Callable[[], Any], target: float) -> int:
    """Iterations for one round to take about ``target`` seconds."""
    number = 1
    while True:
        elapsed = _time(fn, number) * number
        if elapsed >= target / 10 or number >= 1 << 20:
            return max(1, int(number * target / max(elapsed, 1e-9)))
        number *= 10


def bench_one(name: str, serializer: str, rounds: int, target: float) -> Row:
    wire = MESSAGES[name]
    ours = get_serializer(serializer)
    theirs = AUTOBAHN[serializer]()
    data = ours.encode(wire)

    # Both sides must understand the bytes before anything is timed.
    (decoded,) = [m.from_wire(w) for w in ours.decode(data)]
    (ab_msg,) = theirs.unserialize(data)
    assert decoded.to_wire() == wire, (decoded.to_wire(), wire)
    assert ab_msg.MESSAGE_TYPE == wire[0]

    from_wire = m.from_wire
    decode = ours.decode
    encode = ours.encode
    unserialize = theirs.unserialize
    serialize = theirs.serialize

    def our_decode() -> Any:
        # What a session does with a transport payload (see client.py / router.py).
        for wire in decode(data):
            msg = from_wire(wire)
        return msg

    def ab_decode() -> Any:
        return unserialize(data)

    def our_encode() -> Any:
        return encode(decoded.to_wire())

    def ab_encode() -> Any:
        ab_msg.uncache()
        return serialize(ab_msg)

    number = _calibrate(ab_decode, target)
    dec_ours, dec_ab = _best_pair(our_decode, ab_decode, number, rounds)
    number = _calibrate(ab_encode, target)
    enc_ours, enc_ab = _best_pair(our_encode, ab_encode, number, rounds)
    return Row(name, serializer, dec_ours, dec_ab, enc_ours, enc_ab)


def _bare_calls(serializer: str, wire: list[Any], data: bytes) -> tuple[Any, Any, Any]:
    """The serializer library's cheapest calls on the message: decode with no options and no
    checks; "exact" decode, which also refuses trailing bytes and bombs as wampcore must
    (``cbor2.loads`` ignores trailing bytes: only a decoder on a file can tell, by its position
    afterwards; ``msgpack.unpackb`` and ``json.loads`` refuse them anyway); encode with a
    reused encoder. These are floors: no caller of the library can go below them."""
    if serializer == "cbor":
        import io

        import cbor2

        from wampcore.serializers import _CBOR_DECODERS, MAX_DEPTH

        encoder = cbor2.CBOREncoder(io.BytesIO())
        buffer = io.BytesIO()
        # The protections wampcore needs anyway: a depth bound, no stateful tags, string keys.
        decoder = cbor2.CBORDecoder(
            buffer,
            max_depth=MAX_DEPTH,
            semantic_decoders=_CBOR_DECODERS,
            strict_hashable_types=True,
        )
        reopen = io.BytesIO.__init__

        def exact() -> Any:
            reopen(buffer, data)
            obj = decoder.decode()
            if buffer.tell() != len(data):
                raise ValueError("trailing bytes")
            return obj

        return (lambda: cbor2.loads(data)), exact, (lambda: encoder.encode_to_bytes(wire))
    if serializer == "msgpack":
        import msgpack

        packer = msgpack.Packer(autoreset=True)
        bare = lambda: msgpack.unpackb(data)  # noqa: E731
        return bare, bare, (lambda: packer.pack(wire))
    import json

    text = data.decode("utf-8")
    return (lambda: json.loads(text)), (lambda: json.loads(text)), (lambda: json.dumps(wire))


def components(name: str, serializer: str, rounds: int, target: float) -> dict[str, float]:
    """Per message: the bare library call, ``from_wire`` alone, and the two sides' totals,
    all timed in the same alternating rounds (best round of each kept)."""
    wire = MESSAGES[name]
    ours = get_serializer(serializer)
    theirs = AUTOBAHN[serializer]()
    data = ours.encode(wire)
    (decoded_wire,) = ours.decode(data)
    decoded = m.from_wire(decoded_wire)
    (ab_msg,) = theirs.unserialize(data)
    bare_decode, exact_decode, bare_encode = _bare_calls(serializer, wire, data)
    decode, encode, from_wire = ours.decode, ours.encode, m.from_wire

    def our_decode() -> Any:
        for w in decode(data):
            msg = from_wire(w)
        return msg

    def ab_encode() -> Any:
        ab_msg.uncache()
        return theirs.serialize(ab_msg)

    fns: dict[str, Callable[[], Any]] = {
        "bare_decode": bare_decode,
        "exact_decode": exact_decode,
        "serializer_decode": lambda: decode(data),
        "from_wire": lambda: from_wire(decoded_wire),
        "decode": our_decode,
        "ab_decode": lambda: theirs.unserialize(data),
        "bare_encode": bare_encode,
        "encode": lambda: encode(decoded.to_wire()),
        "ab_encode": ab_encode,
    }
    number = _calibrate(fns["ab_decode"], target)
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(rounds):
        for key, fn in fns.items():
            best[key] = min(best[key], _time(fn, number))
    return best


def print_components(serializer: str, names: list[str], rounds: int, target: float) -> None:
    print(
        f"{serializer}: µs per message; 'bare' is the library call alone (no options, no checks),"
        " 'exact' the cheapest that also refuses trailing bytes; 'half' is half of Autobahn's"
        " time (the 2x budget)\n"
    )
    print(
        f"{'message':<15} | {'bare dec':>8} {'exact':>8} {'ser.dec':>8} {'from_w':>8} "
        f"{'decode':>8} {'ab half':>8} {'ratio':>6} | {'bare enc':>8} {'encode':>8} "
        f"{'ab half':>8} {'ratio':>6}"
    )
    for name in names:
        c = components(name, serializer, rounds, target)
        print(
            f"{name:<15} | {_us(c['bare_decode'])} {_us(c['exact_decode'])} "
            f"{_us(c['serializer_decode'])} "
            f"{_us(c['from_wire'])} {_us(c['decode'])} {_us(c['ab_decode'] / 2)} "
            f"{c['ab_decode'] / c['decode']:6.2f} | {_us(c['bare_encode'])} {_us(c['encode'])} "
            f"{_us(c['ab_encode'] / 2)} {c['ab_encode'] / c['encode']:6.2f}"
        )
    print()


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:8.2f}"


def print_table(rows: list[Row]) -> None:
    header = (
        f"{'message':<15} {'ser':<8} | {'decode µs':>9} {'autobahn':>9} {'ratio':>6} "
        f"| {'encode µs':>9} {'autobahn':>9} {'ratio':>6}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r.message:<15} {r.serializer:<8} | {_us(r.decode_ours)} {_us(r.decode_ab)} "
            f"{r.decode_ratio:6.2f} | {_us(r.encode_ours)} {_us(r.encode_ab)} "
            f"{r.encode_ratio:6.2f}"
        )
    print()
    heads = ("decode: min", "geomean", "encode: min", "geomean")
    print(f"{'serializer':<10} | {heads[0]:>11} {heads[1]:>8} | {heads[2]:>11} {heads[3]:>8}")
    for ser in SERIALIZERS:
        sel = [r for r in rows if r.serializer == ser]
        if not sel:
            continue
        dec = [r.decode_ratio for r in sel]
        enc = [r.encode_ratio for r in sel]
        print(
            f"{ser:<10} | {min(dec):11.2f} {statistics.geometric_mean(dec):8.2f} "
            f"| {min(enc):11.2f} {statistics.geometric_mean(enc):8.2f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--serializer", action="append", choices=SERIALIZERS)
    parser.add_argument("--message", action="append", choices=sorted(MESSAGES))
    parser.add_argument("--rounds", type=int, default=15, help="alternating rounds per side")
    parser.add_argument("--target", type=float, default=0.02, help="seconds per round")
    parser.add_argument("--quick", action="store_true", help="5 rounds of 10 ms")
    parser.add_argument(
        "--components",
        action="store_true",
        help="per message: bare library call, serializer decode, from_wire, both totals",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.target = 5, 0.01

    print(f"Python {sys.version.split()[0]}; Autobahn {_autobahn_version()}; ")
    print(f"{args.rounds} alternating rounds of ~{args.target * 1000:.0f} ms; best round kept")
    print("ratio = Autobahn time / wampcore time (higher is better for wampcore)\n")
    gc.disable()  # collections would land on whichever side happens to be running
    if args.components:
        try:
            for ser in args.serializer or SERIALIZERS:
                print_components(ser, args.message or list(MESSAGES), args.rounds, args.target)
        finally:
            gc.enable()
        return 0
    try:
        rows = [
            bench_one(name, ser, args.rounds, args.target)
            for ser in args.serializer or SERIALIZERS
            for name in args.message or MESSAGES
        ]
    finally:
        gc.enable()
    print_table(rows)
    return 0


def _autobahn_version() -> str:
    import autobahn

    return str(getattr(autobahn, "__version__", "?"))


if __name__ == "__main__":
    raise SystemExit(main())
