"""The cluster protocol (wampcore.cluster, issue 13 "Bad input"), without I/O: every malformed
message is refused with a reason, subjects never carry URI text, claims decide one winner."""

from __future__ import annotations

import msgpack
import pytest

from wampcore.cluster import (
    BROADCAST_SUBJECT,
    PROTOCOL_VERSION,
    BadMessage,
    Claims,
    claim_key,
    decode,
    encode,
    node_subject,
    scoped_id,
)


def test_round_trip_and_header() -> None:
    msg = decode(encode("leave", "n1", 7, realm="realm1", s=5, reason="wamp.close.normal"))
    assert (msg.t, msg.node, msg.epoch, msg.version) == ("leave", "n1", 7, PROTOCOL_VERSION)
    assert msg["s"] == 5


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\xc1garbage", "undecodable"),
        (b"", "undecodable"),
        (msgpack.packb([1, 2, 3]), "not_a_map"),
        (msgpack.packb({"v": PROTOCOL_VERSION, "t": "hb", "n": "a.b", "e": 1}), "bad_header"),
        (msgpack.packb({"v": PROTOCOL_VERSION, "t": "hb", "n": "a*", "e": 1}), "bad_header"),
        (msgpack.packb({"v": "1", "t": "hb", "n": "a", "e": 1}), "bad_header"),
        (msgpack.packb({"v": PROTOCOL_VERSION, "t": "nope", "n": "a", "e": 1}), "unknown_type"),
        (
            msgpack.packb(
                {"v": PROTOCOL_VERSION, "t": "leave", "n": "a", "e": 1, "realm": "r", "s": 0}
            ),
            "bad_leave_s",
        ),
        (
            msgpack.packb(
                {
                    "v": PROTOCOL_VERSION,
                    "t": "sub",
                    "n": "a",
                    "e": 1,
                    "realm": "r",
                    "s": 1,
                    "uri": "x",
                    "match": "regex",
                }
            ),
            "bad_sub_match",
        ),
        (
            msgpack.packb(
                {
                    "v": PROTOCOL_VERSION,
                    "t": "cancel",
                    "n": "a",
                    "e": 1,
                    "realm": "r",
                    "k": 1,
                    "mode": "maybe",
                }
            ),
            "bad_cancel_mode",
        ),
        (
            msgpack.packb(
                {"v": PROTOCOL_VERSION, "t": "call", "n": "a", "e": 1, "realm": "r", "k": True}
            ),
            "bad_call_k",
        ),
    ],
)
def test_garbage_is_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(BadMessage) as info:
        decode(data)
    assert info.value.reason == reason


def test_other_version_keeps_only_the_header() -> None:
    msg = decode(
        msgpack.packb({"v": 99, "t": "hb", "n": "future", "e": 1, "junk": object.__name__})
    )
    assert msg.version == 99 and msg.node == "future" and msg.fields == {}


@pytest.mark.parametrize("name", ["a.b", "*", ">", "a b", "", "x" * 65, "é"])
def test_subjects_only_from_valid_node_names(name: str) -> None:
    with pytest.raises(ValueError):
        node_subject(name)


def test_uris_never_reach_subjects_or_keys() -> None:
    """Claim keys are digests: `*`, `>`, spaces and dots in a URI cannot inject tokens."""
    for uri in ("com.*.>", "com. x", "a.b.c", "com.>"):
        key = claim_key("realm1", uri, "exact")
        assert key.isalnum() and len(key) == 41
    assert node_subject("node-1") == "wampcore.cluster.node.node-1"
    assert "*" not in BROADCAST_SUBJECT and ">" not in BROADCAST_SUBJECT


def test_scoped_ids_agree_and_avoid_ids_in_use() -> None:
    first = scoped_id("sub", "realm1", "com.t", "exact")
    assert first == scoped_id("sub", "realm1", "com.t", "exact")
    assert first != scoped_id("reg", "realm1", "com.t", "exact")
    assert 1 <= first <= 2**53
    assert scoped_id("sub", "realm1", "com.t", "exact", {first}) != first


def test_claims_single_has_one_winner() -> None:
    """Compare-and-set on these values gives one winner however claims interleave."""
    value, ok = Claims.claim(None, "a", 1, [10], "single")
    assert ok and value == {"invoke": "single", "callees": [["a", 1, 10]]}
    again, ok = Claims.claim(value, "b", 1, [20], "single")
    assert not ok and again is None
    shared, ok = Claims.claim(None, "a", 1, [10], "roundrobin")
    shared, ok = Claims.claim(shared, "b", 1, [20], "roundrobin")
    assert ok and shared is not None and [c[0] for c in shared["callees"]] == ["a", "b"]
    _, ok = Claims.claim(shared, "c", 1, [30], "first")
    assert not ok  # another policy is refused


def test_claims_release_purge_and_stale_epochs() -> None:
    value, _ = Claims.claim(None, "a", 1, [10, 11], "roundrobin")
    value, _ = Claims.claim(value, "b", 5, [20], "roundrobin")
    released, changed = Claims.release(value, "a", [10])
    assert changed and released is not None and len(released["callees"]) == 2
    purged, changed = Claims.release(released, "a", None, 1)
    assert changed and purged == {"invoke": "roundrobin", "callees": [["b", 5, 20]]}
    gone, changed = Claims.release(purged, "b", [20])
    assert changed and gone is None
    # A node back with a newer epoch drops its own stale entries and may take the URI.
    single, _ = Claims.claim(None, "a", 1, [10], "single")
    retaken, ok = Claims.claim(single, "a", 2, [10], "single")
    assert ok and retaken == {"invoke": "single", "callees": [["a", 2, 10]]}
    assert Claims.load(b"\xc1") is None
    assert Claims.load(Claims.dump(retaken)) == retaken
