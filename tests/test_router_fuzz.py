"""The router fuzz target (fuzz/fuzz_router.py) under hypothesis (wamp-spec §3.6: bad input).

Every seed of fuzz/corpus/router/ (real sessions recorded by fuzz/make_router_corpus.py) runs
through the target, and must still do what it did when recorded. Random bytes mostly die in the
framing or the decoder; the structured strategy below writes plausible client sessions -- mostly
sequential request ids, known topics and procedures, the occasional wrong id or junk message --
over all three transports, so the target also reaches the broker and dealer.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
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
make_router_corpus = _load("make_router_corpus")
CORPUS_DIR = FUZZ_DIR / "corpus" / "router"
CORPUS = sorted(CORPUS_DIR.iterdir())

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


def _frames(config: int, messages: list[Any]) -> bytes:
    """The messages (those the serializer can carry) framed for the configuration's transport."""
    s = get_serializer(fuzz_router.SERIALIZERS[config & 3])
    payloads = []
    for wire in messages:
        try:
            payload = s.encode(wire)
        except Exception:
            continue  # a junk value this serializer cannot carry
        if len(payload) < 1 << 16:
            payloads.append(payload)
    return bytes(make_router_corpus.frame(config, payloads))


def test_router_corpus_is_there_and_up_to_date() -> None:
    """The seeds are what fuzz/make_router_corpus.py writes: every serializer and transport,
    whole sessions (from HELLO, with ticket authentication too) and already joined ones."""
    assert {p.name: p.read_bytes() for p in CORPUS} == make_router_corpus.seeds()
    parts = [p.name.split("-", 3) for p in CORPUS]
    assert {s for s, _, _, _ in parts} == {"json", "msgpack", "cbor"}
    assert {t for _, t, _, _ in parts} == {"rawsocket", "websocket", "message"}
    assert {m for _, _, m, _ in parts} == {"hello", "joined"}
    assert {n for _, _, _, n in parts} == set(make_router_corpus.SCENARIOS)
    assert 20 <= len(CORPUS) <= 60 and all(p.stat().st_size < 4096 for p in CORPUS)


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_router_target_on_its_seed_corpus(path: Path) -> None:
    """Every seed runs clean and goes deep: joined, then ended by GOODBYE (or refused)."""
    outcome = fuzz_router.run(path.read_bytes())
    assert outcome is not None
    types = [m.TYPE for m in outcome.received]
    if path.name.endswith("-ticket-denied"):
        assert types == [4, 3], types  # CHALLENGE, ABORT
        return
    if "-ticket" in path.name:
        assert types[0] == 4, types  # CHALLENGE (answered by the AUTHENTICATE in the seed)
        types = types[1:]
    # WELCOME, at least one answer, GOODBYE. (Not every answer: over a stream transport the
    # meta API answers a CALL read together with the GOODBYE after the session ended.)
    assert types[0] == 2 and types[-1] == 6 and len(types) >= 3, types


@SETTINGS
@given(st.binary(max_size=400))
def test_random_bytes_never_escape_the_router_wamp_spec_3_6(data: bytes) -> None:
    fuzz_router.TestOneInput(data)


@SETTINGS
@given(
    st.integers(0, 2),
    st.sampled_from([0, fuzz_router.WEBSOCKET, fuzz_router.IDENTITY]),
    st.integers(0, 3),
    st.booleans(),
    _session(),
)
def test_plausible_sessions_never_disturb_the_router_wamp_spec_3_6(
    serializer_index: int, transport: int, flags: int, hello: bool, messages: list[Any]
) -> None:
    # Optional relaxed ids (bit 3) and small budget (bit 4); with ``hello`` the peer has not
    # joined (bit 5) and its session starts with a HELLO, maybe with ticket authentication.
    config = serializer_index | transport | ((flags & 1) << 3) | ((flags & 2) << 3)
    if hello:
        config |= fuzz_router.NOT_JOINED
        details: dict[str, Any] = {"roles": fuzz_router.ROLES}
        if flags & 1:
            details.update(authid=fuzz_router.AUTHID, authmethods=["ticket"])
            messages = [[1, "realm1", details], [5, fuzz_router.TICKET, {}], *messages]
        else:
            messages = [[1, "realm1", details], *messages]
    fuzz_router.TestOneInput(bytes((config,)) + _frames(config, messages))


@SETTINGS
@given(st.integers(0, 2), st.lists(st.binary(min_size=1, max_size=60), max_size=6))
def test_random_messages_over_the_identity_framing_wamp_spec_3_6(
    serializer_index: int, payloads: list[bytes]
) -> None:
    config = serializer_index | fuzz_router.IDENTITY
    fuzz_router.TestOneInput(bytes((config,)) + fuzz_router.identity_input(payloads))
