"""Fuzz harness for the RawSocket framing, both roles.

Run with atheris: ``python fuzz/fuzz_rawsocket.py [corpus_dir]``. The same ``TestOneInput`` runs
under hypothesis in ``tests/test_transport_fuzz.py`` so it cannot rot.

Input layout: octet 0 picks the configuration (role, a valid handshake prefix so the fuzzer
reaches the frame parser at once, a small limit, EOF at the end), octet 1 picks a chunk size,
the rest is the byte stream from the peer. The target checks that

* nothing raises, and only documented events come out, in the documented order;
* every ``Closed.error`` is a ``RemoteProtocolError`` (or None);
* the events and the bytes queued for the peer do not depend on how the stream is split
  (whole, one byte at a time, fixed-size chunks);
* the receive buffer never holds more than the limit plus one frame prefix once drained.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from wampcore.errors import RemoteProtocolError
from wampcore.transports import Closed, Payload, Pong, RawSocketClient, RawSocketServer, Ready

Framing = RawSocketClient | RawSocketServer


def _make(config: int) -> tuple[Callable[[], Framing], bytes]:
    small = bool(config & 4)
    limit = 512 if small else 1 << 24
    if config & 1:

        def make() -> Framing:
            return RawSocketClient("json", max_message_size=limit)

        prefix = b"\x7f\x01\x00\x00" if small else b"\x7f\xf1\x00\x00"
    else:

        def make() -> Framing:
            return RawSocketServer(
                ("json", "cbor"), max_message_size=limit, at_capacity=bool(config & 16)
            )

        prefix = b"\x7f\x03\x00\x00" if small else b"\x7f\xf1\x00\x00"
    return make, prefix if config & 2 else b""


def _run(framing: Framing, chunks: list[bytes], eof: bool) -> tuple[list[Any], bytes]:
    events: list[Any] = []
    out = [framing.data_to_send()]
    limit = framing.max_message_size
    chunks = [c for c in chunks if c]  # b"" would mean EOF
    for chunk in [*chunks, b""] if eof else chunks:
        framing.receive_data(chunk)
        while (event := framing.next_event()) is not None:
            if isinstance(event, Ready):
                assert not events, "Ready must come first"
                events.append(("Ready", event.serializer.name))
            elif isinstance(event, Payload | Pong):
                assert events and events[0][0] == "Ready", "data before Ready"
                assert len(event.data) <= limit
                events.append((type(event).__name__, event.data))
            else:
                assert isinstance(event, Closed), event
                assert event.error is None or isinstance(event.error, RemoteProtocolError)
                events.append(("Closed", event.reason, event.code, event.error is not None))
            assert not any(e[0] == "Closed" for e in events[:-1]), "event after Closed"
        # White-box: a drained framing holds at most one incomplete frame.
        assert framing._available() < limit + 4
        out.append(framing.data_to_send())
    if eof:
        assert events and events[-1][0] == "Closed", "EOF must end in Closed"
        assert framing.closed
    if framing.closed:
        assert framing.next_event() is None
    return events, b"".join(out)


def TestOneInput(data: bytes) -> None:
    if len(data) < 2:
        return
    config, size = data[0], data[1] + 1
    make, prefix = _make(config)
    stream = prefix + data[2:]
    eof = bool(config & 8)
    whole = _run(make(), [stream], eof)
    bytewise = _run(make(), [stream[i : i + 1] for i in range(len(stream))], eof)
    chunked = _run(make(), [stream[i : i + size] for i in range(0, len(stream), size)], eof)
    assert whole == bytewise == chunked, (whole, bytewise, chunked)


if __name__ == "__main__":
    import atheris

    atheris.instrument_all()
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
