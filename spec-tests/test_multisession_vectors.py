"""The spec's multi-session vectors (wamp-spec §7.5) driven through the wampcore router.

Each vector names sessions and an ordered sequence of steps: a client sends a message to the
router, or the router must send a message to a client. The sessions here are scripted peers of
the in-memory network harness (tests/netharness.py) over real framings, so every message the
router sends is also decoded, validated and checked against the client's state table.

Identifiers the vector only uses as placeholders are bound on first sight:

* ids the router assigns (subscription, registration, publication: "may vary", the vector's
  notes say) are matched by consistency -- the same placeholder must always map to the same
  actual id;
* request ids are the client's. The vectors use arbitrary ones (123, 789), which a router
  that checks sequential ids (wamp-spec §3.6) must refuse, so each vector runs twice: with the
  client's ids renumbered 1, 2, 3 ... under the default strict router, and verbatim under
  ``strict_request_ids=False``.

Where the vectors are absent (``WAMP_TESTSUITE`` unset and no ``../shared/wamp-testsuite``),
the tests are skipped with the reason.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from vectorsuite import FIELD_NAMES, missing_reason, suite_dir

from wampcore.config import RouterConfig
from wampcore.messages import MESSAGE_CLASSES, Event, Message

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from netharness import Network, TestPeer

_ROOT = suite_dir()
FILES = sorted((_ROOT / "multisession").rglob("*.json")) if _ROOT is not None else []
CLASSES = {cls.NAME: cls for cls in MESSAGE_CLASSES.values()}
#: Fields whose values the router chooses (bound on first sight, then checked for consistency).
ROUTER_IDS = ("subscription_id", "registration_id", "publication_id")
CONNECTIONS = [("rawsocket", "json"), ("websocket", "msgpack"), ("message", "cbor")]


def _fields(message: dict[str, Any]) -> dict[str, Any]:
    return {FIELD_NAMES.get(k, k): v for k, v in message.items() if k != "type"}


class _Binder:
    """Placeholder -> actual values, consistent for the whole vector."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, Any], Any] = {}

    def bind(self, kind: str, placeholder: Any, actual: Any) -> None:
        key = (kind, placeholder)
        bound = self.values.setdefault(key, actual)
        assert bound == actual, f"{kind} {placeholder} was {bound}, now {actual}"

    def get(self, kind: str, placeholder: Any) -> Any:
        return self.values.get((kind, placeholder), placeholder)


def _run(path: Path, *, renumber: bool, connection: tuple[str, str]) -> None:
    vector = json.loads(path.read_text(encoding="utf-8"))
    net = Network(RouterConfig(strict_request_ids=renumber, auto_create_realms=True))
    peers: dict[str, TestPeer] = {}
    for spec in vector["sessions"]:
        peer = net.connect(*connection)
        roles = {role: {} for role in spec["roles"]}
        assert peer.join(spec.get("realm", "realm1"), roles) is not None
        peer.take()
        peers[spec["session_id"]] = peer
    binder = _Binder()

    for step in vector["sequence"]:
        message = step["message"]
        cls = CLASSES[message["type"]]
        fields = _fields(message)
        if step["from"] != "router":
            peer = peers[step["from"]]
            if "request_id" in fields and renumber:
                actual = peer.next_id()
                binder.bind("request", fields["request_id"], actual)
                fields["request_id"] = actual
            for name in ROUTER_IDS:
                if name in fields:
                    fields[name] = binder.get(name, fields[name])
            msg: Message = cls(**fields)
            if renumber:
                peer.send(msg)
            else:
                peer.send_wire(msg.to_wire())  # verbatim ids: outside the client's own table
            net.pump()
            continue

        peer = peers[step["to"]]
        received = peer.take_matching(cls)
        assert received, f"step {step['step']}: {step['to']} got no {cls.NAME}: {step}"
        got = received[0]
        for name, expected in fields.items():
            actual = getattr(got, name)
            if name in ROUTER_IDS:
                binder.bind(name, expected, actual)
            elif name == "request_id" and renumber:
                assert actual == binder.get("request", expected), (step["step"], name)
            else:
                assert actual == expected, (step["step"], name, actual, expected)

    outcome = vector.get("expected_outcome", {})
    if "event_recipients" in outcome or "event_count" in outcome:
        counts = {name: len(peer.all(Event)) for name, peer in peers.items()}
        recipients = sorted(name for name, n in counts.items() if n)
        if "event_recipients" in outcome:
            assert recipients == sorted(outcome["event_recipients"])
        if "event_count" in outcome:
            assert sum(counts.values()) == outcome["event_count"]
    net.check()


if FILES:
    _IDS = [p.relative_to(p.parents[1]).as_posix() for p in FILES]

    @pytest.mark.parametrize("connection", CONNECTIONS, ids=["-".join(c) for c in CONNECTIONS])
    @pytest.mark.parametrize("renumber", [True, False], ids=["sequential-ids", "vector-ids"])
    @pytest.mark.parametrize("path", FILES, ids=_IDS)
    def test_multisession_vector_through_the_router_wamp_spec_7_5(
        path: Path, renumber: bool, connection: tuple[str, str]
    ) -> None:
        _run(path, renumber=renumber, connection=connection)

else:

    def test_multisession_vector_through_the_router_wamp_spec_7_5() -> None:
        pytest.skip(missing_reason())
