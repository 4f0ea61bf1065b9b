"""Random and structured input into the client peer: only documented events, nothing raises,
every request ends exactly once (wamp-spec.md §3.6). Runs ``fuzz/fuzz_client.py``'s target."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import msgpack
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from strategies import junk_wire, wire_lists

FUZZ = Path(__file__).resolve().parent.parent / "fuzz" / "fuzz_client.py"
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_client", FUZZ)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fuzz_client = _load()


@SETTINGS
@given(st.binary(max_size=400))
@example(b"\x00" + b"[50,3,{}]")
@example(b"\x00" + b'[36,1,7,{}]\xff\xfe[68,1,1,{"receive_progress":true}]')
@example(b"\x01" + b"\x00\x00\x00\x09[50,3,{}]")
def test_random_bytes_spec_3_6(data: bytes) -> None:
    fuzz_client.TestOneInput(data)


def _router_ish(draw: st.DrawFn) -> Any:
    """A message list aimed at the prepared state: small ids, mostly router message types."""
    kind = draw(st.sampled_from(["valid", "valid", "junk", "targeted"]))
    if kind == "valid":
        return draw(wire_lists())
    if kind == "junk":
        return draw(junk_wire())
    small = st.integers(min_value=0, max_value=6)
    details = st.sampled_from(
        [{}, {"progress": True}, {"receive_progress": True}, {"mode": "killnowait"}]
    )
    return draw(
        st.one_of(
            st.tuples(st.just(50), small, details).map(list),
            st.tuples(st.just(36), small, small, details).map(list),
            st.tuples(st.just(68), small, small, details).map(list),
            st.tuples(st.just(69), small, details).map(list),
            st.tuples(
                st.just(8),
                st.sampled_from([16, 32, 48, 64, 68]),
                small,
                st.just({}),
                st.just("wamp.error.x"),
            ).map(list),
            st.tuples(st.sampled_from([17, 33, 35, 65, 67]), small, small).map(list),
            st.tuples(
                st.sampled_from([35, 67]),
                st.just(0),
                st.fixed_dictionaries({"subscription": small, "registration": small}),
            ).map(list),
            st.tuples(st.just(6), st.just({}), st.just("wamp.close.killed")).map(list),
            st.tuples(st.just(3), st.just({}), st.just("wamp.close.killed")).map(list),
        )
    )


@SETTINGS
@given(
    serializer=st.sampled_from(fuzz_client.SERIALIZERS),
    wires=st.lists(st.composite(lambda draw: _router_ish(draw))(), max_size=12),
)
def test_structured_router_messages_spec_3_6(serializer: str, wires: list[Any]) -> None:
    fuzz_client.run_messages(serializer, wires)


def test_msgpack_mode_reaches_the_session() -> None:
    body = b"".join(msgpack.packb(w) for w in ([50, 3, {"progress": True}], [50, 3, {}]))
    fuzz_client.TestOneInput(b"\x02" + body)
