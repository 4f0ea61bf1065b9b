"""Fuzz target for the codec: bytes -> serializer -> from_wire -> to_wire -> encode.

``TestOneInput(data)``: the first octet picks one of the six serializer variants (json, msgpack,
cbor, each plain and batched; octet % 6) and, with its top bit, strict URIs; the rest is one
transport payload. The target checks that:

- decoding raises nothing but ``RemoteProtocolError`` (reason ``wamp.error.protocol_violation``,
  with a message), and otherwise yields a non-empty list of lists;
- ``from_wire`` raises nothing but that same error;
- a message that validates re-encodes, and its encoding is a fixed point: decoding it gives a
  message of the same type whose encoding is byte-for-byte the same.

Run with atheris (see fuzz/README.md); the same target runs under hypothesis in
tests/test_fuzz_targets.py. atheris is imported only when this file runs as a script.
"""

from __future__ import annotations

import sys

from wampcore import RemoteProtocolError, from_wire, get_serializer
from wampcore.errors import PROTOCOL_VIOLATION

VARIANTS: list[tuple[str, bool]] = [
    (name, batched) for name in ("json", "msgpack", "cbor") for batched in (False, True)
]
SERIALIZERS = [get_serializer(name, batched=batched) for name, batched in VARIANTS]
STRICT = 0x80


def selector(name: str, batched: bool, *, strict: bool = False) -> bytes:
    """The first input octet that picks this variant (for corpus files and tests)."""
    return bytes([VARIANTS.index((name, batched)) | (STRICT if strict else 0)])


def _violation(exc: RemoteProtocolError) -> None:
    assert exc.reason == PROTOCOL_VIOLATION, exc.reason
    assert exc.message, "a protocol violation must name the problem"


def TestOneInput(data: bytes) -> None:
    if not data:
        return
    ser = SERIALIZERS[data[0] % len(SERIALIZERS)]
    strict = bool(data[0] & STRICT)
    try:
        wires = ser.decode(data[1:])
    except RemoteProtocolError as exc:
        _violation(exc)
        return
    assert type(wires) is list and wires, wires
    for wire in wires:
        assert type(wire) is list, wire
        try:
            msg = from_wire(wire, strict_uris=strict)
        except RemoteProtocolError as exc:
            _violation(exc)
            continue
        first = ser.encode(msg.to_wire())
        (again_wire,) = ser.decode(first)
        again = from_wire(again_wire, strict_uris=strict)
        assert type(again) is type(msg), (msg, again)
        # Bytes, not objects, are compared: NaN in a payload never equals itself.
        assert ser.encode(again.to_wire()) == first, (msg, again)


def main() -> None:
    import atheris

    atheris.instrument_all()
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
