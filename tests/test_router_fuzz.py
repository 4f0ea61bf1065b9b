"""The router fuzz target (fuzz/fuzz_router.py) under hypothesis (wamp-spec §3.6: bad input).

Random bytes mostly die in the framing or the decoder; the structured strategy below writes
plausible client sessions -- mostly sequential request ids, known topics and procedures, the
occasional wrong id or junk message -- so the target also reaches the broker and dealer.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import junk_wire, wire_lists

from wampcore.serializers import get_serializer

FUZZ_DIR = Path(__file__).resolve().parent.parent / "fuzz"
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, FUZZ_DIR / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fuzz_router = _load("fuzz_router")

TOPICS = st.sampled_from(["com.t", "com.u", "com", "com..x", "wamp.x", "bad topic"])
PROCEDURES = st.sampled_from(["com.p", "com.q", "com", "com..q"])
MATCH = st.sampled_from([{}, {"match": "prefix"}, {"match": "wildcard"}])
ARGS = st.lists(st.one_of(st.integers(-5, 5), st.text(max_size=5), st.binary(max_size=5)))


@st.composite
def _session(draw: st.DrawFn) -> list[Any]:
    """A plausible stream of client messages with (mostly) sequential request ids."""
    messages: list[Any] = []
    next_id = 1
    for _ in range(draw(st.integers(0, 12))):
        rid = next_id if draw(st.integers(0, 9)) else draw(st.integers(0, 12))
        kind = draw(st.integers(0, 13))
        if kind == 0:
            msg: Any = [32, rid, draw(MATCH), draw(TOPICS)]
        elif kind == 1:
            options = draw(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "acknowledge": st.booleans(),
                        "exclude_me": st.booleans(),
                        "disclose_me": st.booleans(),
                    },
                )
            )
            msg = [16, rid, options, draw(TOPICS), draw(ARGS)]
        elif kind == 2:
            msg = [64, rid, draw(MATCH), draw(PROCEDURES)]
        elif kind == 3:
            options = draw(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "receive_progress": st.booleans(),
                        "progress": st.booleans(),
                        "timeout": st.integers(0, 2000),
                    },
                )
            )
            msg = [48, rid, options, draw(PROCEDURES), draw(ARGS)]
        elif kind == 4:
            mode = draw(st.sampled_from([{}, {"mode": "skip"}, {"mode": "kill"}]))
            msg = [49, draw(st.integers(1, 12)), mode]
        elif kind == 5:
            msg = [70, draw(st.integers(1, 4)), {"progress": draw(st.booleans())}]
        elif kind == 6:
            msg = [8, 68, draw(st.integers(1, 4)), {}, "com.error"]
        elif kind == 7:
            msg = [34, rid, draw(st.integers(1, 4))]
        elif kind == 8:
            msg = [66, rid, draw(st.integers(1, 4))]
        elif kind == 9:
            msg = [6, {}, "wamp.close.close_realm"]
        elif kind == 10:
            msg = [1, "realm1", {"roles": {"caller": {}, "callee": {}}}]
        elif kind == 11:
            msg = draw(junk_wire())
        elif kind == 12:
            msg = draw(wire_lists())
        else:
            msg = [3, {}, "wamp.close.system_shutdown"]
        if kind in (0, 1, 2, 3, 7, 8) and rid == next_id:
            next_id += 1
        messages.append(msg)
    return messages


def _rawsocket_frames(serializer: str, messages: list[Any]) -> bytes:
    s = get_serializer(serializer)
    out = bytearray()
    for wire in messages:
        try:
            payload = s.encode(wire)
        except Exception:
            continue  # a junk value this serializer cannot carry
        out += bytes((0,)) + len(payload).to_bytes(3, "big") + payload
    return bytes(out)


@SETTINGS
@given(st.binary(max_size=400))
def test_random_bytes_never_escape_the_router_wamp_spec_3_6(data: bytes) -> None:
    fuzz_router.TestOneInput(data)


@SETTINGS
@given(st.integers(0, 2), st.integers(0, 3), _session())
def test_plausible_sessions_never_disturb_the_router_wamp_spec_3_6(
    serializer_index: int, flags: int, messages: list[Any]
) -> None:
    serializer = ("json", "msgpack", "cbor")[serializer_index]
    # RawSocket transport (bit 2 clear), optional relaxed ids (bit 3) and small budget (bit 4).
    config = serializer_index | ((flags & 1) << 3) | ((flags & 2) << 3)
    fuzz_router.TestOneInput(bytes((config,)) + _rawsocket_frames(serializer, messages))


@SETTINGS
@given(st.integers(0, 2), st.lists(st.binary(min_size=1, max_size=60), max_size=6))
def test_random_messages_over_the_identity_framing_wamp_spec_3_6(
    serializer_index: int, payloads: list[bytes]
) -> None:
    config = serializer_index | 4
    body = b"".join(bytes((len(p),)) + p for p in payloads)
    fuzz_router.TestOneInput(bytes((config,)) + body)
