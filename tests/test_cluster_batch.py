"""Batch frames of the cluster protocol (docs/cluster.md "Protocol", issue 13 "Bad input"):
what a node sends to one subject in one loop iteration is one NATS message; a bad frame is
dropped whole, a bad item inside a good frame alone (the good items around it are handled, in
order); version checks apply to frames. In-process: a real router core (tests/netharness.py)
joined to a cluster whose other node is played by the test, no NATS."""

from __future__ import annotations

from typing import Any

import msgpack
import pytest
from netharness import Network

from wampcore.cluster import (
    FRAME_OVERHEAD,
    MAX_ITEMS,
    PROTOCOL_VERSION,
    BadMessage,
    Message,
    Writer,
    decode,
    decode_frame,
    encode,
    node_subject,
)
from wampcore.messages import Event, Published, Subscribed
from wampcore.router.remote import Cluster

IDENTITY = {"id": 77, "authid": "alice", "authrole": "user"}
SESSION = {
    **IDENTITY,
    "authmethod": "anonymous",
    "authprovider": "static",
    "authextra": {},
    "transport": {},
    "features": [True, True, True, True],
}


def pub(writer: Writer, n: int, topic: str = "com.batch") -> bytes:
    return writer.item(
        "pub",
        realm="realm1",
        p=IDENTITY,
        topic=topic,
        pid=1000 + n,
        opts={},
        dis=False,
        args=[n],
        kwargs=None,
        payload=None,
    )


def junk_item(**fields: Any) -> bytes:
    data: bytes = msgpack.packb(fields, use_bin_type=True)
    return data


def frame(
    node: str, epoch: int, items: list[bytes], version: int = PROTOCOL_VERSION, q: Any = 1
) -> bytes:
    """A batch frame built by hand (the version and sequence are the test's to choose)."""
    header = {"v": version, "t": "batch", "n": node, "e": epoch, "q": q, "m": []}
    head: bytes = msgpack.packb(header)
    # The empty array header (0x90) is the last byte: replace it by one for the items.
    return head[:-1] + msgpack.Packer().pack_array_header(len(items)) + b"".join(items)


# -- the frame format ----------------------------------------------------------------------------


def test_frames_keep_order_and_carry_the_header_docs_cluster_protocol() -> None:
    writer = Writer("a", 5)
    items = [pub(writer, n) for n in range(10)]
    (data,) = writer.frames(items, 1 << 20)
    decoded = decode_frame(data).items
    assert [m["args"] for m in decoded if isinstance(m, Message)] == [[n] for n in range(10)]
    assert all(isinstance(m, Message) and (m.node, m.epoch) == ("a", 5) for m in decoded)
    assert all(isinstance(m, Message) and m.version == PROTOCOL_VERSION for m in decoded)


def test_frames_are_split_to_fit_max_payload_in_order() -> None:
    writer = Writer("a", 1)
    items = [pub(writer, n) for n in range(100)]
    limit = FRAME_OVERHEAD + 10 * len(items[0])
    frames = writer.frames(items, limit)
    assert len(frames) == 10 and all(len(f) <= limit for f in frames)
    got = [m["args"][0] for f in frames for m in decode_frame(f).items if isinstance(m, Message)]
    assert got == list(range(100))


def test_a_single_message_is_a_frame_of_one() -> None:
    data = encode("hb", "a", 3)
    (msg,) = decode_frame(data).items
    assert isinstance(msg, Message) and msg.t == "hb" and msg.node == "a"


@pytest.mark.parametrize(
    ("m", "reason"),
    [([], "bad_batch_m"), ("items", "bad_batch_m"), (None, "bad_batch_m")],
)
def test_a_frame_without_items_is_dropped_whole(m: Any, reason: str) -> None:
    data = msgpack.packb({"v": PROTOCOL_VERSION, "t": "batch", "n": "a", "e": 1, "q": 1, "m": m})
    with pytest.raises(BadMessage) as info:
        decode_frame(data)
    assert info.value.reason == reason


def test_too_many_items_is_refused() -> None:
    data = frame("a", 1, [junk_item(t="hb")] * (MAX_ITEMS + 1))
    with pytest.raises(BadMessage) as info:
        decode_frame(data)
    assert info.value.reason == "bad_batch_m"


@pytest.mark.parametrize(
    "data",
    [
        b"\x85garbage",
        frame("a", 1, [junk_item(t="hb")], q=0),
        frame("a", 1, [junk_item(t="hb")], q="1"),
        frame("a", 1, [junk_item(t="hb")], q=2**63),
        msgpack.packb({"v": PROTOCOL_VERSION, "t": "batch", "n": "a.b", "e": 1, "m": []}),
        msgpack.packb({"v": PROTOCOL_VERSION, "t": "batch", "n": "a", "e": "1", "m": []}),
    ],
)
def test_a_frame_with_a_bad_header_is_dropped_whole(data: bytes) -> None:
    with pytest.raises(BadMessage):
        decode_frame(data)


def test_bad_items_are_refused_alone_with_their_reason() -> None:
    writer = Writer("a", 1)
    items = [
        pub(writer, 1),
        b"\xc1",  # not MessagePack at all: the whole frame cannot be unpacked
    ]
    with pytest.raises(BadMessage) as info:
        decode_frame(frame("a", 1, items))
    assert info.value.reason == "undecodable"
    items = [
        pub(writer, 1),
        junk_item(t="pub", realm="realm1"),  # fields missing
        msgpack.packb([1, 2]),  # not a map
        junk_item(t="batch", m=[]),  # no batch inside a batch
        junk_item(t="nope"),
        pub(writer, 2),
    ]
    decoded = decode_frame(frame("a", 1, items)).items
    reasons = [m.reason if isinstance(m, BadMessage) else m.t for m in decoded]
    assert reasons == ["pub", "bad_pub_p", "not_a_map", "unknown_type", "unknown_type", "pub"]


def test_an_item_cannot_speak_for_another_node() -> None:
    """The frame's header names the sender; ``n``/``e``/``v`` inside an item are ignored."""
    item = junk_item(t="hb", n="ghost", e=99, v=1)
    (msg,) = decode_frame(frame("a", 4, [item])).items
    assert isinstance(msg, Message) and (msg.node, msg.epoch, msg.version) == ("a", 4, 2)


def test_frames_are_numbered_per_node_on_every_subject() -> None:
    writer = Writer("a", 1)
    first, second = (writer.frames([writer.item("hb")], 1 << 20)[0] for _ in range(2))
    assert (decode_frame(first).sequence, decode_frame(second).sequence) == (1, 2)


def test_a_frame_of_another_version_keeps_only_its_header() -> None:
    (msg,) = decode_frame(frame("old", 1, [junk_item(t="hb")], version=1)).items
    assert isinstance(msg, Message) and msg.version == 1 and msg.fields == {}
    assert decode(encode("hb", "a", 1)).version == PROTOCOL_VERSION == 2


# -- a node handling frames (in process) ---------------------------------------------------------


class Node:
    """The router core of node "b" joined to a cluster; the test plays node "a"."""

    def __init__(self) -> None:
        self.net = Network()
        self.cluster = Cluster(self.net.router, "b", 10)
        self.cluster.start(0.0)
        self.cluster.outgoing()
        self.cluster.kv_ops()  # the purge of older incarnations' claims
        self.a = Writer("a", 1)

    def feed(self, *frames: bytes) -> None:
        self.cluster.receive_all(list(frames), self.net.now)
        self.net.pump()

    def meet(self) -> None:
        """Node a says hello and announces session 77 (it holds nothing yet)."""
        hello = self.a.item("hello", hb=1.0, reply=False)
        join = self.a.item("join", realm="realm1", s=SESSION)
        self.feed(self.a.frames([hello, join], 1 << 20)[0])
        assert self.cluster.links["a"].sessions.keys() == {77}

    def dropped(self) -> dict[str, int]:
        return {k: v for k, v in self.cluster.counters.items() if k.startswith("dropped.") and v}


def test_one_frame_is_one_router_step_and_keeps_order() -> None:
    node = Node()
    node.meet()
    sub = node.net.join("rawsocket", "msgpack")
    sub.subscribe("com.batch")
    node.net.pump()
    assert sub.take(Subscribed)
    node.feed(node.a.frames([pub(node.a, n) for n in range(50)], 1 << 20)[0])
    events = sub.all(Event)
    assert [e.args for e in events] == [[n] for n in range(50)]
    assert [e.publication_id for e in events] == [1000 + n for n in range(50)]
    assert node.cluster.counters["received.pub"] == 50


def test_bad_items_are_dropped_and_counted_good_ones_delivered() -> None:
    """Choice (docs/cluster.md): a bad item does not cost the good items of its frame."""
    node = Node()
    node.meet()
    sub = node.net.join("rawsocket", "msgpack")
    sub.subscribe("com.batch")
    node.net.pump()
    items = [
        pub(node.a, 1),
        junk_item(t="pub", realm="realm1", topic="com.batch"),
        pub(node.a, 2),
        node.a.item(  # well-formed, but a URI the broker refuses
            "pub",
            realm="realm1",
            p=IDENTITY,
            topic="com..batch",
            pid=5,
            opts={},
            dis=False,
            args=["bad uri"],
            kwargs=None,
            payload=None,
        ),
        node.a.item(  # well-formed, but a realm this node does not have
            "pub",
            realm="nowhere",
            p=IDENTITY,
            topic="com.batch",
            pid=6,
            opts={},
            dis=False,
            args=["no realm"],
            kwargs=None,
            payload=None,
        ),
        pub(node.a, 3),
    ]
    node.feed(node.a.frames(items, 1 << 20)[0], b"\x00junk frame")
    assert [e.args for e in sub.all(Event)] == [[1], [2], [3]]
    dropped = node.dropped()
    assert dropped["dropped.bad_pub_p"] == 1
    assert dropped["dropped.unknown_realm"] == 1
    assert dropped["dropped.undecodable"] == 1
    assert dropped["dropped.rejected"] == 1  # the invalid URI, caught for that item alone
    assert sub.gone is False


def test_items_from_an_unknown_node_or_epoch_are_dropped() -> None:
    node = Node()
    node.meet()
    sub = node.net.join("rawsocket", "msgpack")
    sub.subscribe("com.batch")
    node.net.pump()
    stranger = Writer("ghost", 1)
    old = Writer("a", 0)
    node.feed(
        stranger.frames([pub(stranger, 1)], 1 << 20)[0], old.frames([pub(old, 2)], 1 << 20)[0]
    )
    assert sub.all(Event) == []
    assert node.dropped() == {"dropped.unknown_node": 2}


def test_a_frame_of_another_version_refuses_its_node() -> None:
    node = Node()
    node.meet()
    node.feed(frame("a", 1, [junk_item(t="hb")], version=PROTOCOL_VERSION + 1))
    assert "a" in node.cluster.refused and "a" not in node.cluster.links
    assert any("protocol version 3" in line for line in node.cluster.notices)
    node.feed(node.a.frames([node.a.item("hb")], 1 << 20)[0])
    assert node.dropped()["dropped.refused_node"] == 1


def test_what_one_step_sends_is_one_frame_per_subject_encoded_once() -> None:
    """Issue 13: a publication crosses once per interested node; within one step everything
    for one subject is one NATS message (one frame), each item packed once for all nodes."""
    node = Node()
    node.meet()
    c = Writer("c", 1)
    node.feed(
        c.frames(
            [
                c.item("hello", hb=1.0, reply=False),
                c.item("join", realm="realm1", s={**SESSION, "id": 88}),
            ],
            1 << 20,
        )[0]
    )
    for writer, s in ((node.a, 77), (c, 88)):
        item = writer.item("sub", realm="realm1", s=s, uri="com.batch", match="exact")
        node.feed(writer.frames([item], 1 << 20)[0])
    node.cluster.outgoing()
    publisher = node.net.join("rawsocket", "msgpack")
    node.cluster.outgoing()  # the join announcement
    for n in range(30):
        publisher.publish("com.batch", [n], acknowledge=True)
    node.net.pump()
    assert len(publisher.all(Published)) == 30
    out = node.cluster.outgoing()
    assert sorted(subject for subject, _ in out) == [node_subject("a"), node_subject("c")]
    per_subject = {}
    for subject, data in out:
        items = decode_frame(data).items
        assert all(isinstance(m, Message) and m.node == "b" and m.epoch == 10 for m in items)
        per_subject[subject] = [m["args"][0] for m in items if isinstance(m, Message)]
    assert per_subject[node_subject("a")] == per_subject[node_subject("c")] == list(range(30))
    assert node.cluster.outgoing() == []


# -- the inline checks of the frequent types equal their SCHEMA entry -----------------------------

VALID: dict[str, dict[str, Any]] = {
    "pub": {
        "realm": "realm1",
        "p": dict(IDENTITY),
        "topic": "com.t",
        "pid": 5,
        "opts": {"acknowledge": True},
        "dis": False,
        "args": [1],
        "kwargs": {"a": 1},
        "payload": None,
    },
    "call": {
        "realm": "realm1",
        "k": 3,
        "callee": 9,
        "caller": dict(IDENTITY),
        "uri": "com.p",
        "match": "prefix",
        "proc": "com.p.x",
        "opts": {},
        "dis": True,
        "args": None,
        "kwargs": None,
        "payload": b"\x00enc",
    },
    "res": {
        "realm": "realm1",
        "k": 3,
        "prog": True,
        "details": {},
        "args": [],
        "kwargs": None,
        "payload": "text",
    },
    "err": {
        "realm": "realm1",
        "k": 3,
        "error": "com.error",
        "details": {"x": 1},
        "args": ["why"],
        "kwargs": {},
        "payload": None,
    },
}
BAD_VALUES: list[Any] = [
    None,
    0,
    -1,
    2**53 + 1,
    True,
    1.5,
    "",
    "x" * 4097,
    "s",
    b"b",
    [],
    [1],
    {},
    {1: "non-str key"},
    {"id": 1, "authid": "a", "authrole": "r"},
    {"id": 0, "authid": "a", "authrole": "r"},
    {"id": 1, "authid": 1, "authrole": "r"},
    {"id": 1, "authid": "a"},
    "exact",
]


def _variants(body: dict[str, Any]) -> list[dict[str, Any]]:
    out = [body]
    for name in body:
        out.append({k: v for k, v in body.items() if k != name})
        out += [{**body, name: bad} for bad in BAD_VALUES]
    return out


@pytest.mark.parametrize("t", sorted(VALID))
def test_fast_checks_agree_with_the_schema(t: str) -> None:
    from wampcore.cluster import _FAST, SCHEMA

    fast = _FAST[t]
    for body in _variants(VALID[t]):
        by_schema = all(check(body.get(name)) for name, check in SCHEMA[t].items())
        assert fast(body) == by_schema, (t, body)
    assert fast(VALID[t])


def test_calls_and_results_cross_in_frames_in_order() -> None:
    """Issue 13 "RPC across nodes", batched: the calls of one frame reach the callee in order
    and its answers go back to the caller's node in one frame, in order."""
    from wampcore.messages import Invocation, Registered

    node = Node()
    node.meet()
    callee = node.net.join("rawsocket", "msgpack")
    callee.register("com.echo")
    node.net.pump()
    (op,) = node.cluster.kv_ops()  # the cluster-wide claim: granted
    node.cluster.claim_done(op.token, "ok", 1, node.net.now)
    node.net.pump()
    assert callee.take(Registered)
    node.cluster.outgoing()
    calls = [
        node.a.item(
            "call",
            realm="realm1",
            k=k,
            callee=callee.session_id,
            caller=IDENTITY,
            uri="com.echo",
            match="exact",
            proc="com.echo",
            opts={},
            dis=False,
            args=[k],
            kwargs=None,
            payload=None,
        )
        for k in range(1, 21)
    ]
    calls.insert(5, junk_item(t="call", realm="realm1", k=True))
    node.feed(node.a.frames(calls, 1 << 20)[0])
    invocations = callee.all(Invocation)
    assert [i.args for i in invocations] == [[k] for k in range(1, 21)]
    assert node.cluster.counters["dropped.bad_call_k"] == 1
    for inv in invocations:
        callee.yield_(inv.request_id, [inv.args[0] * 10])
    node.net.pump()
    out = node.cluster.outgoing()
    assert [subject for subject, _ in out] == [node_subject("a")]
    answers = [m for m in decode_frame(out[0][1]).items if isinstance(m, Message)]
    assert [(m.t, m["k"], m["args"]) for m in answers] == [
        ("res", k, [k * 10]) for k in range(1, 21)
    ]


def test_mirrors_are_subscribers_but_never_event_receivers() -> None:
    """A publication crosses to a mirror's node once; the local fan-out skips mirrors (their
    cost per publication is nil) while the meta API still counts them as subscribers."""
    node = Node()
    node.meet()
    local = node.net.join("rawsocket", "msgpack")
    local.subscribe("com.batch")
    node.net.pump()
    item = node.a.item("sub", realm="realm1", s=77, uri="com.batch", match="exact")
    node.feed(node.a.frames([item], 1 << 20)[0])
    realm = node.net.router.realm("realm1")
    assert realm is not None
    sub = realm.broker.lookup("com.batch")
    assert sub is not None
    assert set(sub.subscribers) == {local.session_id, 77}
    assert set(sub.receivers) == {local.session_id}


def test_frames_out_of_order_are_handled_in_the_senders_order() -> None:
    """The NATS client has one queue per subscription: a burst on the broadcast subject and
    the node's own may be handed over out of order; the frame numbers restore it."""
    node = Node()
    node.meet()
    sub = node.net.join("rawsocket", "msgpack")
    sub.subscribe("com.batch")
    node.net.pump()
    first = node.a.frames([pub(node.a, 1)], 1 << 20)[0]
    unsub = node.a.item("unsub", realm="realm1", s=77, uri="com.batch", match="exact")
    second = node.a.frames([pub(node.a, 2), unsub], 1 << 20)[0]
    node.feed(second, first)
    assert [e.args for e in sub.all(Event)] == [[1], [2]]


def test_runs_keep_broadcasts_and_direct_items_in_order() -> None:
    """A node hears the broadcast subject and its own: what it is sent on both keeps the
    order it was sent in (a broadcast between two direct items splits them)."""
    node = Node()
    node.meet()
    cluster = node.cluster
    cluster._direct("a", "kill", realm="realm1", s=1, reason="r1", message=None, quiet=False)
    cluster._broadcast("leave", realm="realm1", s=2, reason="r2")
    cluster._direct("a", "kill", realm="realm1", s=3, reason="r3", message=None, quiet=False)
    cluster._direct("a", "kill", realm="realm1", s=4, reason="r4", message=None, quiet=False)
    out = cluster.outgoing()
    assert [subject for subject, _ in out] == [
        node_subject("a"),
        "wampcore.cluster.all",
        node_subject("a"),
    ]
    order = [
        (decode_frame(data).sequence, [m["reason"] for m in decode_frame(data).items])
        for _, data in out
    ]
    assert [reasons for _, reasons in order] == [["r1"], ["r2"], ["r3", "r4"]]
    assert [q for q, _ in order] == sorted(q for q, _ in order)


def test_the_benchs_in_process_crossing_measurement_runs() -> None:
    """bench/bench_cluster.py --only crossing (no timing asserted): every path it times works
    (it raises if the callee's results do not all cross back)."""
    import sys
    from pathlib import Path

    bench = Path(__file__).resolve().parent.parent / "bench"
    sys.path.insert(0, str(bench))
    try:
        import bench_cluster
    finally:
        sys.path.remove(str(bench))
    figures = bench_cluster.crossing(rounds=1)
    assert set(figures) == {
        "send_pub_0_nodes",
        "send_pub_1_nodes",
        "send_pub_2_nodes",
        "receive_pub_0_subscribers",
        "receive_pub_6_subscribers",
        "callee_node_per_call",
    }
    assert all(v > 0 for v in figures.values())
