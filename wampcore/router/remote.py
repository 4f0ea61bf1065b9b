"""The cluster, as one node's router core sees it: other nodes' sessions as realm members.

Owns this node's view of the other nodes of a cluster (docs/cluster.md): who is alive (hello,
heartbeats, failure detection), a *mirror* of every session of another node
(:class:`RemoteSession`, the third kind of realm member) holding that session's subscriptions
and registrations in this node's broker and dealer, and the calls in flight between nodes. It
turns what the broker, dealer and meta API send to a mirror into cluster messages, and cluster
messages into broker/dealer operations -- so routing rules stay in one place: the broker and
dealer route to mirrors as to any member. Pure: no sockets, no clock, no NATS. The adapter
(:mod:`wampcore.adapters.cluster`) feeds :meth:`Cluster.receive`, :meth:`Cluster.tick` and the
answers to registration claims, and publishes :meth:`Cluster.outgoing`.

**Batching.** What this node sends between two calls of :meth:`Cluster.outgoing` (one event
loop iteration of the adapter) is queued per destination subject and leaves as one batch frame
per subject and run (:class:`wampcore.cluster.Writer`); each item is encoded once, however many
nodes it goes to. What arrives in one burst (:meth:`Cluster.receive_all`) is put back in each
sender's frame order and handled as one router step, item after item, so the router drains its
peers once for all. Each node thus handles another node's items in the order they were sent.

Semantics in brief (the details are in docs/cluster.md):

* **Publications** are routed locally, then cross *once* to each other node that has a mirror
  subscriber eligible for them (black/white lists are checked here already); that node routes
  them to its own subscribers with the same publication id and the publisher's identity.
  Retained publications and those of topics with configured history go to every node.
* **Calls** are decided where the caller is: the dealer there picks a callee among all the
  cluster's callees (the invoke policy spans nodes); a remote callee's node gets the call for
  that very session and its dealer runs it with a mirror of the caller. Results, errors,
  progress, cancels and interrupts follow the same path back.
* **Registrations** are claimed cluster-wide first (JetStream KV compare-and-set, see
  :class:`wampcore.cluster.Claims`): the claim's revision orders the callees alike on every
  node, so ``first``/``last`` name the same callee everywhere.
* **A failed node** (no heartbeat for ``failure_timeout``): its mirrors leave; on one node (the
  survivor with the smallest name) they leave *loudly* -- meta events and the sessions'
  testaments are published there, once for the cluster.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from ..cluster import (
    BROADCAST_SUBJECT,
    FRAME_OVERHEAD,
    PROTOCOL_VERSION,
    SCHEMA,
    BadMessage,
    Frame,
    Message,
    Writer,
    claim_key,
    decode_frame,
    node_subject,
    scoped_id,
)
from ..errors import (
    CANCELED,
    INVALID_ARGUMENT,
    NO_SUCH_PROCEDURE,
    PAYLOAD_SIZE_EXCEEDED,
    PROCEDURE_ALREADY_EXISTS,
)
from ..messages import (
    CALL,
    ERROR,
    EVENT,
    INTERRUPT,
    INVOCATION,
    RESULT,
    UNREGISTERED,
    UNSUBSCRIBED,
    Call,
    Cancel,
    Error,
    Invocation,
    Publish,
    Register,
    Subscribe,
    Unregister,
    Unsubscribe,
    Yield,
)
from ..messages import (
    Message as WampMessage,
)
from ..uri import pattern_matches
from .broker import _FILTER_KEYS, PASS_THROUGH, _filters
from .hooks import Lifecycle
from .member import Kind, Outcome
from .session import Session
from .store import eligible
from .testament import Testament

if TYPE_CHECKING:
    from .broker import Subscription
    from .dealer import CallRecord, Registration
    from .member import Member
    from .realm import Realm
    from .router import Router

__all__ = ["CLUSTER_UNAVAILABLE", "REGISTRATION_CONFLICT", "Cluster", "KvOp", "RemoteSession"]

#: ERROR for a REGISTER whose cluster-wide claim could not be decided (NATS did not answer).
CLUSTER_UNAVAILABLE = "wampcore.error.cluster_unavailable"
#: Revocation reason when a node that was cut off finds its registration claimed elsewhere.
REGISTRATION_CONFLICT = "wampcore.cluster.registration_conflict"
#: on_leave reason of the sessions of a failed node.
NODE_FAILED = "wampcore.cluster.node_failed"
#: Stamps of callees registered while cut off from NATS sort after every claimed one.
_UNCLAIMED = 2**62
_OPTION_KEYS = ("receive_progress", "progress", "timeout", *PASS_THROUGH)
_FILTER_NAMES = frozenset(key for key, _, _ in _FILTER_KEYS)
_SEND_FAILURE = {Outcome.UNENCODABLE: INVALID_ARGUMENT, Outcome.TOO_LARGE: PAYLOAD_SIZE_EXCEEDED}


@dataclass(slots=True)
class KvOp:
    """A registration-claim operation for the adapter to perform on the KV bucket.

    ``claim`` (admit ``sessions`` of ``node`` at ``epoch`` with ``invoke``; answered through
    :meth:`Cluster.claim_done` with ``token``), ``release`` (remove ``sessions``) or ``purge``
    (remove every entry of ``node`` up to ``epoch``, in every key: ``key`` is None).
    """

    kind: str
    key: str | None
    node: str
    epoch: int
    sessions: list[int] = field(default_factory=list)
    invoke: str = "single"
    token: int = 0


class RemoteSession:
    """A session of another node, mirrored here (a :class:`~.member.Member`)."""

    __slots__ = (
        "_pending",
        "authextra",
        "authid",
        "authmethod",
        "authprovider",
        "authrole",
        "calls",
        "can_cancel",
        "can_progress_invocations",
        "can_progress_results",
        "can_timeout",
        "gone",
        "hidden",
        "id",
        "joined",
        "link",
        "realm",
        "registrations",
        "subscriptions",
        "testaments",
        "transport_info",
    )

    #: Judged by its own node already (it may hold ``wamp.*`` subscriptions, publish meta
    #: events): this node does not judge it again.
    internal = True
    #: Never an EVENT recipient here (the broker keeps it out of ``Subscription.receivers``).
    mirror = True

    def __init__(self, link: NodeLink, realm: Realm, info: dict[str, Any]) -> None:
        self.link = link
        self.realm = realm
        self.id: int = info["id"]
        self.gone = False
        #: Mirrors are quiet (no meta events here: their own node publishes those), except
        #: while the survivor in charge removes the mirrors of a failed node.
        self.hidden = True
        self.subscriptions: dict[int, Subscription] = {}
        self.registrations: dict[int, Registration] = {}
        #: Calls this session made that this node's dealer runs: request id (key) -> record.
        self.calls: dict[int, CallRecord] = {}
        self.testaments: dict[str, list[Testament]] = {}
        self._pending: Invocation | None = None
        self.update(info)

    def update(self, info: dict[str, Any]) -> None:
        self.authid = info["authid"]
        self.authrole = info["authrole"]
        self.authmethod: str = info.get("authmethod", "")
        self.authprovider: str = info.get("authprovider", "")
        self.authextra: dict[str, Any] = info.get("authextra") or {}
        self.transport_info: dict[str, Any] = info.get("transport") or {}
        joined = info.get("joined")
        self.joined: str = joined if type(joined) is str else ""
        features = info.get("features") or [True, True, True, True]
        (
            self.can_cancel,
            self.can_progress_results,
            self.can_progress_invocations,
            self.can_timeout,
        ) = features

    # -- Member ----------------------------------------------------------------------------------

    def client_feature(self, role: str, feature: str) -> bool:
        # Its own node checked what the session announced; revocations are passed on to it
        # and judged there.
        return True

    def send(self, msg: WampMessage, kind: Kind) -> Outcome:
        if self.gone:
            return Outcome.GONE
        m: Any = msg  # the message type is checked by its code
        mtype = m.TYPE
        if mtype == EVENT:
            return Outcome.IGNORED  # the publication crossed once, to its node
        cluster = self.link.cluster
        if mtype == INVOCATION:
            return cluster.invocation(self, m)
        if mtype == INTERRUPT:
            cluster.interrupt(self, m.request_id, m.options.get("mode", "kill"))
            return Outcome.SENT
        if mtype == RESULT or (mtype == ERROR and m.request_type == CALL):
            return cluster.answer(self, m)
        if mtype in (UNREGISTERED, UNSUBSCRIBED) and m.request_id == 0:
            cluster.revoked(self, m)
            return Outcome.SENT
        return Outcome.IGNORED  # SUBSCRIBED, REGISTERED ...: answers to mirror operations

    def next_invocation_id(self) -> int:
        return next(self.link.keys)

    def attach_call(self, request_id: int, record: CallRecord) -> None:
        self.calls[request_id] = record

    def call_record(self, request_id: int) -> CallRecord | None:
        return self.calls.get(request_id)

    def calls_in_flight(self) -> int:
        return 1  # the caller's own node enforces its limit

    def open_calls(self) -> list[CallRecord]:
        return list(self.calls.values())

    def attach_invocation(self, invocation_id: int, record: CallRecord) -> None:
        self.link.invocations[invocation_id] = record
        pending, self._pending = self._pending, None
        if pending is not None and pending.request_id == invocation_id:
            self.link.cluster.send_call(self, pending, record)

    def invocation_record(self, invocation_id: int) -> CallRecord | None:
        record = self.link.invocations.get(invocation_id)
        return record if record is not None and record.callee is self else None

    def open_invocations(self) -> list[CallRecord]:
        return [r for r in self.link.invocations.values() if r.callee is self]

    def end_invocation(self, invocation_id: int) -> None:
        record = self.link.invocations.get(invocation_id)
        if record is not None and record.callee is self:
            del self.link.invocations[invocation_id]

    def end_remotely(self, reason: str, message: str | None) -> None:
        """The meta API's kill: the session's own node ends it."""
        self.link.cluster.kill(self, reason, message)

    def __repr__(self) -> str:
        return f"<RemoteSession {self.id} node={self.link.name!r}>"


class NodeLink:
    """Another node as this one knows it: its epoch, liveness, mirrors and calls in flight."""

    __slots__ = (
        "callers",
        "cluster",
        "epoch",
        "invocations",
        "keys",
        "last_seen",
        "name",
        "sessions",
    )

    def __init__(self, cluster: Cluster, name: str, epoch: int, now: float) -> None:
        self.cluster = cluster
        self.name = name
        self.epoch = epoch
        self.last_seen = now
        #: Its sessions mirrored here, by session id.
        self.sessions: dict[int, RemoteSession] = {}
        #: Calls this node sent to its callees, by key (the INVOCATION id here).
        self.invocations: dict[int, CallRecord] = {}
        #: Calls it sent to callees here: key -> the caller's mirror.
        self.callers: dict[int, RemoteSession] = {}
        self.keys = itertools.count(1)


class Cluster(Lifecycle):
    """This node's side of the cluster (see the module docstring)."""

    def __init__(
        self,
        router: Router,
        node: str,
        epoch: int,
        *,
        heartbeat_interval: float = 1.0,
        failure_timeout: float = 4.0,
        max_payload: int = 1024 * 1024,
    ) -> None:
        self.router = router
        self.node = node
        self.epoch = epoch
        self.heartbeat_interval = heartbeat_interval
        self.failure_timeout = failure_timeout
        #: Largest message NATS carries (the server's max_payload).
        self.max_payload = max_payload
        self.subject = node_subject(node)
        self.links: dict[str, NodeLink] = {}
        #: Every mirrored session, by id (the session layer never draws these ids).
        self.directory: dict[int, RemoteSession] = {}
        #: Nodes refused for speaking another protocol version: name -> reason.
        self.refused: dict[str, str] = {}
        #: What happened: ``sent.<type>``, ``received.<type>``, ``dropped.<reason>`` ...
        self.counters: Counter[str] = Counter()
        #: Lines the adapter should log (refused nodes, failures).
        self.notices: list[str] = []
        #: Called when output or KV work is waiting (the adapter schedules a flush).
        self.wake: Callable[[], None] | None = None
        self.connected = False
        self._writer = Writer(node, epoch)
        #: Items waiting for the next :meth:`outgoing`: runs of broadcast or of direct items,
        #: in the order they were sent; in each run, items by subject.
        self._out: list[tuple[bool, dict[str, list[bytes]]]] = []
        self._subjects: dict[str, str] = {}
        self._handlers: dict[str, Callable[[NodeLink, Message], None]] = {
            t: getattr(self, f"_on_{t}") for t in SCHEMA if t not in ("hello", "hb")
        }
        self._kv: list[KvOp] = []
        self._tokens = itertools.count(1)
        self._claims: dict[int, tuple[Session, Register | _ReclaimEntry]] = {}
        #: Registration order of each callee: (realm, uri, match, session id) -> stamp.
        self._stamps: dict[tuple[str, str, str, int], int] = {}
        #: Mirror subscribers of each subscription, by node.
        self._interest: dict[Subscription, dict[str, dict[int, RemoteSession]]] = {}
        self._reclaiming = 0
        self._last_heartbeat = float("-inf")
        self._unclaimed = itertools.count(_UNCLAIMED)
        layer = router.sessions
        layer.elsewhere = self.directory
        layer.meta.cluster = self
        router.add_lifecycle_hook(self)
        for name in router.realms:
            realm = router.realm(name)
            if realm is not None:
                self._attach(realm)

    # == the adapter's surface ====================================================================

    def outgoing(self) -> list[tuple[str, bytes]]:
        """(subject, frame) to publish: what was sent to each subject since the last call, as
        few batch frames as fit NATS' max_payload, in order per subject."""
        if not self._out:
            return []
        out, self._out = self._out, []
        frames = [
            (subject, frame)
            for _, run in out
            for subject, items in run.items()
            for frame in self._writer.frames(items, self.max_payload)
        ]
        self.counters["sent.frames"] += len(frames)
        return frames

    def kv_ops(self) -> list[KvOp]:
        ops, self._kv = self._kv, []
        return ops

    def start(self, now: float) -> None:
        """NATS is (again) reachable: re-claim what this node holds, then announce it."""
        self.connected = True
        self._last_heartbeat = now
        self.router.run_step(self._reconcile, now=now)

    def disconnected(self, now: float) -> None:
        """NATS went away: local routing goes on; other nodes are dropped, quietly, once they
        are overdue (see :meth:`tick`)."""
        self.connected = False

    def reconnected(self, now: float, epoch: int) -> None:
        """NATS is back (a new ``epoch``): what others knew of this node is stale, and what
        this node knew of them may be: forget them, re-claim, re-announce, ask for theirs."""
        self.epoch = max(epoch, self.epoch + 1)
        # Unsent items belong to the old incarnation; the new one announces its state anew.
        self._out.clear()
        self._writer.epoch = self.epoch
        self.router.run_step(lambda: self._drop_all(quiet=True), now=now)
        self.start(now)

    def tick(self, now: float) -> None:
        """Heartbeats out, failure detection in (call at least every heartbeat_interval/2)."""
        if self.connected and now - self._last_heartbeat >= self.heartbeat_interval:
            self._last_heartbeat = now
            self._broadcast("hb")
        overdue = [n for n in self.links.values() if now - n.last_seen > self.failure_timeout]
        for link in overdue:
            self.router.run_step(partial(self._node_failed, link, loud=self.connected), now=now)

    def close(self) -> None:
        """Leaving the cluster on purpose: tell the others at once."""
        if self.connected:
            self._broadcast("bye")

    def receive(self, data: bytes, now: float) -> None:
        """One NATS message from a cluster subject (see :meth:`receive_all`)."""
        self.receive_all([data], now)

    def receive_all(self, frames: list[bytes], now: float) -> None:
        """NATS messages from the cluster subjects (batch frames or single messages), in
        arrival order, handled as one router step. A frame that does not decode, or whose
        header is bad, is dropped whole; a bad item inside a good frame is dropped alone and
        the items around it are handled. Anything that is not a valid message from a known
        node is dropped and counted; nothing of it reaches a client."""
        counters = self.counters
        decoded: list[Frame] = []
        for data in frames:
            try:
                decoded.append(decode_frame(data))
            except BadMessage as exc:
                counters[f"dropped.{exc.reason}"] += 1
        counters["received.frames"] += len(decoded)
        if len(decoded) > 1:
            # The broadcast and the node subject have a queue each in the NATS client: a
            # burst on both may come out of order; the senders' frame numbers restore it.
            decoded.sort(key=_frame_order)
        messages: list[Message] = []
        for frame in decoded:
            for item in frame.items:
                if isinstance(item, BadMessage):
                    counters[f"dropped.{item.reason}"] += 1
                else:
                    messages.append(item)
        if messages:
            self.router.run_step(partial(self._handle_all, messages, now), now=now)

    def _handle_all(self, messages: list[Message], now: float) -> None:
        counters = self.counters
        links = self.links
        handlers = self._handlers
        for msg in messages:
            if msg.node == self.node:
                counters["dropped.own"] += 1
                continue
            if msg.version != PROTOCOL_VERSION:
                self._refuse(msg)
                continue
            if msg.node in self.refused:
                counters["dropped.refused_node"] += 1
                continue
            t = msg.t
            counters[f"received.{t}"] += 1
            if t == "hello" or t == "hb":
                self._contained(self._membership, msg, now)
                continue
            link = links.get(msg.node)
            if link is None or link.epoch != msg.epoch:
                counters["dropped.unknown_node"] += 1
                continue
            link.last_seen = now
            self._contained(handlers[t], link, msg)

    def claim_done(self, token: int, outcome: str, stamp: int, now: float) -> None:
        """A claim was decided: ``outcome`` "ok", "taken" or "unavailable"."""
        self.router.run_step(partial(self._claimed, token, outcome, stamp), now=now)

    def stats(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "epoch": self.epoch,
            "connected": self.connected,
            "nodes": sorted(self.links),
            "refused": dict(self.refused),
            "remote_sessions": len(self.directory),
            "counters": dict(self.counters),
        }

    # -- the meta API's view ---------------------------------------------------------------------

    def sessions(self, realm: Realm) -> list[RemoteSession]:
        return [m for m in self.directory.values() if m.realm is realm]

    def session(self, realm: Realm, session_id: int) -> RemoteSession | None:
        found = self.directory.get(session_id)
        return found if found is not None and found.realm is realm else None

    # == output ===================================================================================

    def _push(self, subject: str, data: bytes, t: str) -> None:
        """Queue an item. A node hears two subjects, the broadcast one and its own: items to
        different nodes' subjects share a run (their order matters to no one), a switch
        between broadcast and direct starts a new run, so each node gets everything in the
        order it was sent."""
        self.counters[f"sent.{t}"] += 1
        out = self._out
        broadcast = subject == BROADCAST_SUBJECT
        if not out:
            if not self._kv and self.wake is not None:
                self.wake()
        elif out[-1][0] is broadcast:
            run = out[-1][1]
            queued = run.get(subject)
            if queued is None:
                run[subject] = [data]
            else:
                queued.append(data)
            return
        out.append((broadcast, {subject: [data]}))

    def _subject(self, node: str) -> str:
        subject = self._subjects.get(node)
        if subject is None:
            subject = self._subjects[node] = node_subject(node)
        return subject

    def _item(self, t: str, fields: dict[str, Any]) -> bytes | Outcome:
        """An item, or UNENCODABLE / TOO_LARGE (it would not fit a NATS message)."""
        try:
            data = self._writer.pack(t, fields)
        except (TypeError, ValueError, OverflowError):
            self.counters["unencodable"] += 1
            return Outcome.UNENCODABLE
        if len(data) > self.max_payload - FRAME_OVERHEAD:
            self.counters["too_large"] += 1
            return Outcome.TOO_LARGE
        return data

    def _broadcast(self, t: str, **fields: Any) -> None:
        if self.connected:
            data = self._item(t, fields)
            if not isinstance(data, Outcome):
                self._push(BROADCAST_SUBJECT, data, t)

    def _direct(self, node: str, t: str, **fields: Any) -> Outcome:
        """Send to one node: SENT, GONE (NATS is away), UNENCODABLE or TOO_LARGE (for NATS)."""
        if not self.connected:
            return Outcome.GONE
        data = self._item(t, fields)
        if isinstance(data, Outcome):
            return data
        self._push(self._subject(node), data, t)
        return Outcome.SENT

    def _kv_op(self, op: KvOp) -> None:
        if not self._out and not self._kv and self.wake is not None:
            self.wake()
        self._kv.append(op)

    # == membership ===============================================================================

    def _refuse(self, msg: Message) -> None:
        self.counters["dropped.version"] += 1
        if msg.node not in self.refused:
            reason = (
                f"refusing cluster node {msg.node!r}: it speaks cluster protocol version "
                f"{msg.version}, this node speaks {PROTOCOL_VERSION}"
            )
            self.refused[msg.node] = reason
            self.notices.append(reason)
            link = self.links.get(msg.node)
            if link is not None:
                self.router.run_step(lambda: self._forget(link, loud=False))

    def _membership(self, msg: Message, now: float) -> None:
        link = self.links.get(msg.node)
        if link is not None and msg.epoch < link.epoch:
            self.counters["dropped.stale_epoch"] += 1
            return
        if link is not None and msg.epoch == link.epoch:
            link.last_seen = now
            if msg.t == "hello" and msg["reply"]:
                self._send_state(msg.node, reply=False)
            return
        if link is not None:
            # A new incarnation (restarted, or reconnected to NATS): the old one's mirrors go
            # quietly -- its sessions may well be alive and announced again right after.
            self._forget(link, loud=False)
        self.links[msg.node] = NodeLink(self, msg.node, msg.epoch, now)
        if msg.t == "hello":
            if msg["reply"]:
                self._send_state(msg.node, reply=False)
        else:
            # A heartbeat from a node never said hello to us (we missed it): introduce
            # ourselves and ask for its state.
            self._send_state(msg.node, reply=True)

    def _send_state(self, node: str, *, reply: bool) -> None:
        """Everything this node holds, as the announcements that built it, to ``node``."""
        self._direct(node, "hello", hb=self.heartbeat_interval, reply=reply)
        self._state(partial(self._direct, node))

    def _announce_all(self) -> None:
        self._broadcast("hello", hb=self.heartbeat_interval, reply=True)
        self._state(self._broadcast)

    def _state(self, send: Callable[..., object]) -> None:
        for name in self.router.realms:
            realm = self.router.realm(name)
            if realm is None:
                continue
            for session in self.router.sessions.visible_sessions(realm):
                send("join", realm=name, s=_session_info(session))
                for testaments in session.testaments.values():
                    for t in testaments:
                        send("testament", **_testament_fields(name, session, t))
                for sub in session.subscriptions.values():
                    send("sub", realm=name, s=session.id, uri=sub.uri, match=sub.match)
                for reg in session.registrations.values():
                    if not reg.uri.startswith("wamp."):
                        send("reg", **self._reg_fields(realm, session, reg))

    def _reconcile(self) -> None:
        """Re-claim every registration this node holds (conflicts are revoked here), purge
        this node's older claims, then announce everything."""
        groups: dict[tuple[str, str, str], tuple[Realm, Registration, list[Session]]] = {}
        for name in self.router.realms:
            realm = self.router.realm(name)
            if realm is None:
                continue
            for reg in realm.dealer.registrations():
                local = [c for c in reg.callees if type(c) is Session]
                if local:
                    groups[(name, reg.uri, reg.match)] = (realm, reg, local)
        self._reclaiming = len(groups)
        for (name, uri, match), (_realm, reg, local) in groups.items():
            token = next(self._tokens)
            self._claims[token] = (local[0], _ReclaimEntry(reg, name, local))
            self._kv_op(
                KvOp(
                    "claim",
                    claim_key(name, uri, match),
                    self.node,
                    self.epoch,
                    [s.id for s in local],
                    reg.invoke,
                    token,
                )
            )
        self._kv_op(KvOp("purge", None, self.node, self.epoch - 1))
        if not groups:
            self._announce_all()

    def _node_failed(self, link: NodeLink, *, loud: bool) -> None:
        if self.links.get(link.name) is not link:
            return
        self.notices.append(
            f"cluster node {link.name!r} failed (no heartbeat for {self.failure_timeout:g} s)"
            if loud
            else f"cluster node {link.name!r} is out of reach"
        )
        in_charge = loud and self.node == min(
            [self.node, *(n for n in self.links if n != link.name)]
        )
        self._forget(link, loud=in_charge)
        if in_charge:
            self._kv_op(KvOp("purge", None, link.name, link.epoch))

    def _drop_all(self, *, quiet: bool) -> None:
        for link in list(self.links.values()):
            self._forget(link, loud=not quiet)

    def _forget(self, link: NodeLink, *, loud: bool) -> None:
        """Drop a node: its mirrors leave (loudly: meta events and testaments here), calls in
        flight to it end with ERROR ``wamp.error.canceled``."""
        if self.links.get(link.name) is link:
            del self.links[link.name]
        for mirror in list(link.sessions.values()):
            self._drop_mirror(mirror, NODE_FAILED, loud=loud)
        for key, record in list(link.invocations.items()):  # to callees never mirrored
            del link.invocations[key]
            callee: Any = record.callee
            if not record.done:
                callee.realm.dealer.error(
                    callee,
                    Error(
                        request_type=INVOCATION,
                        request_id=record.invocation_id,
                        error=CANCELED,
                        args=["the callee's router node is gone"],
                    ),
                )

    # == mirrors ==================================================================================

    def _mirror(
        self, link: NodeLink, realm_name: str, info: dict[str, Any]
    ) -> RemoteSession | None:
        realm = self.router.realm(realm_name)
        if realm is None:
            self.counters["dropped.unknown_realm"] += 1
            return None
        mirror = link.sessions.get(info["id"])
        if mirror is not None:
            mirror.update(info)
            return mirror
        if info["id"] in self.directory or info["id"] in self.router.sessions.sessions:
            self.counters["dropped.duplicate_session"] += 1
            return None
        mirror = RemoteSession(link, realm, info)
        link.sessions[mirror.id] = mirror
        self.directory[mirror.id] = mirror
        return mirror

    def _drop_mirror(self, mirror: RemoteSession, reason: str, *, loud: bool) -> None:
        link = mirror.link
        link.sessions.pop(mirror.id, None)
        self.directory.pop(mirror.id, None)
        if mirror.gone:
            return
        realm = mirror.realm
        mirror.hidden = not loud
        mirror.gone = True
        realm.remove(mirror)
        for key in [k for k, m in link.callers.items() if m is mirror]:
            del link.callers[key]
        if loud:
            layer = self.router.sessions
            for scope in ("detached", "destroyed"):
                for testament in mirror.testaments.get(scope, ()):
                    layer.defer(partial(layer.meta.publish_testament, realm, testament))
            layer.hooks.session_left(realm, mirror, reason)
        mirror.testaments = {}

    def _own(self, link: NodeLink, msg: Message) -> RemoteSession | None:
        mirror = link.sessions.get(msg["s"])
        if mirror is None or mirror.realm.name != msg["realm"]:
            self.counters["dropped.unknown_session"] += 1
            return None
        return mirror

    def _on_join(self, link: NodeLink, msg: Message) -> None:
        self._mirror(link, msg["realm"], msg["s"])

    def _on_leave(self, link: NodeLink, msg: Message) -> None:
        mirror = self._own(link, msg)
        if mirror is not None:
            self._drop_mirror(mirror, msg["reason"], loud=False)

    def _on_bye(self, link: NodeLink, msg: Message) -> None:
        self._forget(link, loud=False)

    def _on_sub(self, link: NodeLink, msg: Message) -> None:
        mirror = self._own(link, msg)
        if mirror is not None:
            request = Subscribe(request_id=1, options={"match": msg["match"]}, topic=msg["uri"])
            mirror.realm.broker.subscribe(mirror, request)

    def _on_unsub(self, link: NodeLink, msg: Message) -> None:
        mirror = self._own(link, msg)
        if mirror is None:
            return
        sub = mirror.realm.broker.lookup(msg["uri"], msg["match"])
        if sub is not None and sub.id in mirror.subscriptions:
            mirror.realm.broker.unsubscribe(
                mirror, Unsubscribe(request_id=1, subscription_id=sub.id)
            )

    def _on_reg(self, link: NodeLink, msg: Message) -> None:
        mirror = self._own(link, msg)
        if mirror is None:
            return
        realm = mirror.realm
        self._stamps[(realm.name, msg["uri"], msg["match"], mirror.id)] = msg["stamp"]
        options = {"match": msg["match"], "invoke": msg["invoke"]}
        if msg["dc"]:
            options["disclose_caller"] = True
        if msg["ft"]:
            options["forward_timeout"] = True
        request = Register(request_id=1, options=options, procedure=msg["uri"])
        realm.dealer.register(mirror, request, claimed=True)
        reg = realm.dealer.lookup(msg["uri"], msg["match"])
        if reg is None or mirror.id not in reg.callee_options:
            self.counters["conflict.registration"] += 1

    def _on_unreg(self, link: NodeLink, msg: Message) -> None:
        mirror = self._own(link, msg)
        if mirror is None:
            return
        reg = mirror.realm.dealer.lookup(msg["uri"], msg["match"])
        if reg is not None and reg.id in mirror.registrations:
            mirror.realm.dealer.unregister(mirror, Unregister(request_id=1, registration_id=reg.id))

    def _on_testament(self, link: NodeLink, msg: Message) -> None:
        mirror = self._own(link, msg)
        if mirror is not None:
            testament = Testament(
                topic=msg["topic"],
                args=msg["args"],
                kwargs=msg["kwargs"],
                options=msg["options"],
                scope=msg["scope"],
            )
            mirror.testaments.setdefault(testament.scope, []).append(testament)

    def _on_flush(self, link: NodeLink, msg: Message) -> None:
        mirror = self._own(link, msg)
        if mirror is not None:
            mirror.testaments.pop(msg["scope"], None)

    def _on_kill(self, link: NodeLink, msg: Message) -> None:
        session = self.router.sessions.sessions.get(msg["s"])
        if session is None or session.hidden or session.realm.name != msg["realm"]:
            self.counters["dropped.unknown_session"] += 1
            return
        if msg["quiet"]:
            self.router.sessions.quiet.add(session.id)
        self.router.end_session(session, msg["reason"], msg["message"])

    def _on_revoke(self, link: NodeLink, msg: Message) -> None:
        session = self.router.sessions.sessions.get(msg["s"])
        if session is None or session.realm.name != msg["realm"]:
            self.counters["dropped.unknown_session"] += 1
            return
        realm = session.realm
        if msg["kind"] == "reg":
            reg = realm.dealer.lookup(msg["uri"], msg["match"])
            if reg is not None and reg.id in session.registrations:
                realm.dealer.remove_callee(reg, session, msg["reason"])
        else:
            sub = realm.broker.lookup(msg["uri"], msg["match"])
            if sub is not None and sub.id in session.subscriptions:
                realm.broker.remove_subscriber(sub, session, msg["reason"])

    # == what the broker, dealer and meta API send to mirrors =====================================

    def kill(self, mirror: RemoteSession, reason: str, message: str | None) -> None:
        quiet = mirror.id in self.router.sessions.quiet
        self.router.sessions.quiet.discard(mirror.id)
        self._direct(
            mirror.link.name,
            "kill",
            realm=mirror.realm.name,
            s=mirror.id,
            reason=reason,
            message=message,
            quiet=quiet,
        )

    def revoked(self, mirror: RemoteSession, msg: WampMessage) -> None:
        details: dict[str, Any] = msg.details  # type: ignore[attr-defined]
        reason = details.get("reason")
        if msg.TYPE == UNREGISTERED:
            holding: Any = mirror.realm.dealer.registration(details.get("registration", 0))
            kind = "reg"
        else:
            holding = mirror.realm.broker.subscription(details.get("subscription", 0))
            kind = "sub"
        if holding is not None:
            self._direct(
                mirror.link.name,
                "revoke",
                realm=mirror.realm.name,
                s=mirror.id,
                uri=holding.uri,
                match=holding.match,
                kind=kind,
                reason=reason if type(reason) is str else None,
            )

    def invocation(self, callee: RemoteSession, inv: Invocation) -> Outcome:
        """An INVOCATION for a remote callee: sent once the dealer attached its record."""
        if not self.connected:
            return Outcome.NO_ROOM  # the dealer tries the next callee
        record = callee.link.invocations.get(inv.request_id)
        if record is not None:
            self.send_call(callee, inv, record)  # a progressive continuation
        else:
            callee._pending = inv
        return Outcome.SENT

    def send_call(self, callee: RemoteSession, inv: Invocation, record: CallRecord) -> None:
        details = inv.details
        caller = record.caller
        reg = record.registration
        sent = self._direct(
            callee.link.name,
            "call",
            realm=callee.realm.name,
            k=inv.request_id,
            callee=callee.id,
            caller={"id": caller.id, "authid": caller.authid, "authrole": caller.authrole},
            uri=reg.uri,
            match=reg.match,
            proc=record.procedure,
            opts={k: details[k] for k in _OPTION_KEYS if k in details},
            dis="caller" in details,
            args=inv.args,
            kwargs=inv.kwargs,
            payload=inv.payload,
        )
        if sent is not Outcome.SENT:
            error = _SEND_FAILURE.get(sent, CANCELED)
            answer = Error(
                request_type=INVOCATION,
                request_id=inv.request_id,
                error=error,
                args=["the call could not be passed to the callee's router node"],
            )
            dealer = callee.realm.dealer
            self.router.sessions.defer(partial(dealer.error, callee, answer))

    def interrupt(self, callee: RemoteSession, key: int, mode: str) -> None:
        self._direct(callee.link.name, "cancel", realm=callee.realm.name, k=key, mode=mode)

    def answer(self, caller: RemoteSession, msg: WampMessage) -> Outcome:
        """A RESULT/ERROR for a remote caller: back to its node."""
        link = caller.link
        key: int = msg.request_id  # type: ignore[attr-defined]
        if msg.TYPE == RESULT:
            details: dict[str, Any] = msg.details  # type: ignore[attr-defined]
            progress = details.get("progress") is True
            fields = {
                "k": key,
                "prog": progress,
                "details": {k: v for k, v in details.items() if k in PASS_THROUGH},
            }
            t = "res"
        else:
            progress = False
            fields = {"k": key, "error": msg.error, "details": dict(msg.details)}  # type: ignore[attr-defined]
            t = "err"
        sent = self._direct(
            link.name,
            t,
            realm=caller.realm.name,
            args=msg.args,  # type: ignore[attr-defined]
            kwargs=msg.kwargs,  # type: ignore[attr-defined]
            payload=msg.payload,  # type: ignore[attr-defined]
            **fields,
        )
        if not progress:
            caller.calls.pop(key, None)
            link.callers.pop(key, None)
        return Outcome.SENT if sent is Outcome.GONE else sent

    # == routing input from other nodes ===========================================================

    def _on_pub(self, link: NodeLink, msg: Message) -> None:
        f = msg.fields  # unpacked for this message alone: used as it is, not copied
        realm = self.router.realm(f["realm"])
        if realm is None:
            self.counters["dropped.unknown_realm"] += 1
            return
        identity = f["p"]
        publisher = link.sessions.get(identity["id"]) or RemoteSession(link, realm, identity)
        options = f["opts"]
        options.pop("acknowledge", None)  # PUBLISHED came from the publisher's node
        request = Publish(
            request_id=1,
            options=options,
            topic=f["topic"],
            args=f.get("args"),
            kwargs=f.get("kwargs"),
            payload=f.get("payload"),
        )
        realm.broker.publish(publisher, request, disclose=f["dis"], publication_id=f["pid"])

    def _on_call(self, link: NodeLink, msg: Message) -> None:
        realm = self.router.realm(msg["realm"])
        if realm is None:
            self.counters["dropped.unknown_realm"] += 1
            return
        identity = msg["caller"]
        caller = link.sessions.get(identity["id"])
        if caller is None:
            # Its join announcement is still on the way: mirror it from what the call says.
            caller = self._mirror(link, realm.name, identity)
            if caller is None:
                return
        key = msg["k"]
        request = Call(
            request_id=key,
            options=dict(msg["opts"]),
            procedure=msg["proc"],
            args=msg.fields.get("args"),
            kwargs=msg.fields.get("kwargs"),
            payload=msg.fields.get("payload"),
        )
        now = self.router.now
        if caller.call_record(key) is not None:
            realm.dealer.call(caller, request, now)
            return
        reg = realm.dealer.lookup(msg["uri"], msg["match"])
        callee = self.router.sessions.sessions.get(msg["callee"])
        if reg is None or callee is None or callee.gone or callee not in reg.callees:
            realm.dealer.refuse(
                caller, request, NO_SUCH_PROCEDURE, f"no callee for {msg['proc']!r:.200} here"
            )
            return
        link.callers[key] = caller
        realm.dealer.call(caller, request, now, disclose=msg["dis"], to=(reg, callee))

    def _settling(self, link: NodeLink, key: int) -> CallRecord | None:
        record = link.invocations.get(key)
        if record is None or record.done:
            self.counters["dropped.late_answer"] += 1
            return None
        return record

    def _on_res(self, link: NodeLink, msg: Message) -> None:
        record = self._settling(link, msg["k"])
        if record is None:
            return
        options = dict(msg["details"])
        if msg["prog"]:
            options["progress"] = True
        answer = Yield(
            request_id=msg["k"],
            options=options,
            args=msg.fields.get("args"),
            kwargs=msg.fields.get("kwargs"),
            payload=msg.fields.get("payload"),
        )
        callee: Any = record.callee
        callee.realm.dealer.yield_(callee, answer, self.router.now)

    def _on_err(self, link: NodeLink, msg: Message) -> None:
        record = self._settling(link, msg["k"])
        if record is None:
            return
        answer = Error(
            request_type=INVOCATION,
            request_id=msg["k"],
            details=msg["details"],
            error=msg["error"],
            args=msg.fields.get("args"),
            kwargs=msg.fields.get("kwargs"),
            payload=msg.fields.get("payload"),
        )
        callee: Any = record.callee
        callee.realm.dealer.error(callee, answer)

    def _on_cancel(self, link: NodeLink, msg: Message) -> None:
        caller = link.callers.get(msg["k"])
        if caller is None:
            self.counters["dropped.late_cancel"] += 1
            return
        caller.realm.dealer.cancel(
            caller, Cancel(request_id=msg["k"], options={"mode": msg["mode"]})
        )

    def _on_hello(self, link: NodeLink, msg: Message) -> None:  # pragma: no cover - routed above
        pass

    def _on_hb(self, link: NodeLink, msg: Message) -> None:  # pragma: no cover - routed above
        pass

    def _contained(self, handler: Callable[..., object], *args: Any) -> None:
        try:
            handler(*args)
        except Exception as exc:  # valid framing, but content the core refuses (a bad URI ...)
            self.counters["dropped.rejected"] += 1
            self.counters[f"dropped.rejected.{type(exc).__name__}"] += 1

    # == the core's hooks =========================================================================

    def _attach(self, realm: Realm) -> None:
        if realm.broker.relay is not None:
            return
        name = realm.name
        realm.broker.relay = partial(self._relay, realm)
        realm.broker.id_for = lambda uri, match, used: scoped_id("sub", name, uri, match, used)
        realm.dealer.claims = self._claim
        realm.dealer.id_for = lambda uri, match, used: scoped_id("reg", name, uri, match, used)

    def _relay(
        self,
        realm: Realm,
        publisher: Member,
        msg: Publish,
        publication_id: int,
        matches: list[Subscription],
        disclose: bool,
    ) -> None:
        """After a local PUBLISH: once to each other node that wants it."""
        if type(publisher) is RemoteSession or not self.links or not self.connected:
            return
        options = msg.options
        nodes: set[str] = set()
        if options.get("retain") is True or (
            realm.config.history and _keeps_history(realm, msg.topic)
        ):
            nodes.update(self.links)
        else:
            # Most publications name no black/white list: skip building the filters then.
            listed = options and not _FILTER_NAMES.isdisjoint(options)
            filters = _filters(options) if listed else ()
            for sub in matches:
                interest = self._interest.get(sub)
                if not interest:
                    continue
                for node, members in interest.items():
                    if node in nodes:
                        continue
                    if not filters or any(eligible(filters, m) for m in members.values()):
                        nodes.add(node)
        if not nodes:
            return
        data = self._item(
            "pub",
            {
                "realm": realm.name,
                "p": {
                    "id": publisher.id,
                    "authid": publisher.authid,
                    "authrole": publisher.authrole,
                },
                "topic": msg.topic,
                "pid": publication_id,
                "opts": options,
                "dis": disclose,
                "args": msg.args,
                "kwargs": msg.kwargs,
                "payload": msg.payload,
            },
        )
        if isinstance(data, Outcome):
            return
        for node in sorted(nodes) if len(nodes) > 1 else nodes:
            self._push(self._subject(node), data, "pub")  # encoded once for every node

    def _claim(self, member: Member, msg: Register) -> bool:
        """The dealer asks before admitting a local REGISTER: False while the KV decides."""
        if type(member) is not Session or msg.procedure.startswith("wamp."):
            return True
        realm = member.realm
        if not self.connected:
            # Cut off from NATS: registered here now, re-claimed when NATS is back.
            key = (realm.name, msg.procedure, msg.match, member.id)
            self._stamps[key] = next(self._unclaimed)
            return True
        token = next(self._tokens)
        self._claims[token] = (member, msg)
        self._kv_op(
            KvOp(
                "claim",
                claim_key(realm.name, msg.procedure, msg.match),
                self.node,
                self.epoch,
                [member.id],
                msg.invoke,
                token,
            )
        )
        return False

    def _claimed(self, token: int, outcome: str, stamp: int) -> None:
        entry = self._claims.pop(token, None)
        if entry is None:
            return
        session, msg = entry
        if isinstance(msg, _ReclaimEntry):
            self._reclaimed(msg, outcome, stamp)
            return
        realm = session.realm
        key = claim_key(realm.name, msg.procedure, msg.match)
        if session.gone:
            if outcome == "ok":
                self._kv_op(KvOp("release", key, self.node, self.epoch, [session.id]))
            return
        if outcome == "ok":
            self._stamps[(realm.name, msg.procedure, msg.match, session.id)] = stamp
            realm.dealer.register(session, msg, claimed=True)
            reg = realm.dealer.lookup(msg.procedure, msg.match)
            if reg is None or session.id not in reg.callee_options:
                self._kv_op(KvOp("release", key, self.node, self.epoch, [session.id]))
        elif outcome == "taken":
            realm.dealer.refuse(
                session,
                msg,
                PROCEDURE_ALREADY_EXISTS,
                f"{msg.procedure!r} is registered on another node of the cluster",
            )
        else:
            realm.dealer.refuse(
                session,
                msg,
                CLUSTER_UNAVAILABLE,
                "the cluster could not decide the registration (NATS did not answer)",
            )

    def _reclaimed(self, marker: _ReclaimEntry, outcome: str, stamp: int) -> None:
        reg = marker.reg
        realm_name = marker.realm
        if outcome == "ok":
            for session in marker.sessions:
                self._stamps[(realm_name, reg.uri, reg.match, session.id)] = stamp
            if len(reg.callees) > 1:
                self._sort(realm_name, reg)
        elif outcome == "taken":
            for session in marker.sessions:
                if reg.id in session.registrations:
                    self.notices.append(
                        f"registration {reg.uri!r} was claimed elsewhere while this node was "
                        f"cut off: revoked for session {session.id}"
                    )
                    session.realm.dealer.remove_callee(reg, session, REGISTRATION_CONFLICT)
        self._reclaiming -= 1
        if self._reclaiming <= 0:
            self._announce_all()

    def _sort(self, realm_name: str, reg: Registration) -> None:
        stamps = self._stamps
        reg.callees.sort(
            key=lambda m: stamps.get((realm_name, reg.uri, reg.match, m.id), _UNCLAIMED)
        )

    def _reg_fields(self, realm: Realm, session: Member, reg: Registration) -> dict[str, Any]:
        dc, ft = reg.callee_options.get(session.id, (False, False))
        stamp = self._stamps.get((realm.name, reg.uri, reg.match, session.id), _UNCLAIMED)
        return {
            "realm": realm.name,
            "s": session.id,
            "uri": reg.uri,
            "match": reg.match,
            "invoke": reg.invoke,
            "dc": dc,
            "ft": ft,
            "stamp": stamp,
        }

    # -- lifecycle hooks: what local sessions do, announced ------------------------------------

    @staticmethod
    def _local(session: Member) -> bool:
        return type(session) is Session and not session.hidden

    def session_joined(self, realm: Realm, session: Member) -> None:
        self._attach(realm)
        if self._local(session):
            self._broadcast("join", realm=realm.name, s=_session_info(session))  # type: ignore[arg-type]

    def session_left(self, realm: Realm, session: Member, reason: str) -> None:
        if self._local(session):
            self._broadcast("leave", realm=realm.name, s=session.id, reason=reason)
            stamps = self._stamps
            for key in [k for k in stamps if k[3] == session.id]:
                del stamps[key]

    def subscribed(self, realm: Realm, session: Member, sub: Subscription) -> None:
        if type(session) is RemoteSession:
            nodes = self._interest.setdefault(sub, {})
            nodes.setdefault(session.link.name, {})[session.id] = session
        elif self._local(session):
            self._broadcast("sub", realm=realm.name, s=session.id, uri=sub.uri, match=sub.match)

    def unsubscribed(self, realm: Realm, session: Member, sub: Subscription) -> None:
        if type(session) is RemoteSession:
            nodes = self._interest.get(sub)
            if nodes is not None:
                members = nodes.get(session.link.name)
                if members is not None:
                    members.pop(session.id, None)
                    if not members:
                        del nodes[session.link.name]
                if not nodes:
                    del self._interest[sub]
        elif self._local(session) and not session.gone:
            self._broadcast("unsub", realm=realm.name, s=session.id, uri=sub.uri, match=sub.match)

    def subscription_deleted(self, realm: Realm, session: Member, sub: Subscription) -> None:
        self._interest.pop(sub, None)

    def registered(self, realm: Realm, session: Member, reg: Registration) -> None:
        if reg.uri.startswith("wamp."):
            return
        if len(reg.callees) > 1:
            self._sort(realm.name, reg)
        if self._local(session):
            self._broadcast("reg", **self._reg_fields(realm, session, reg))

    def unregistered(self, realm: Realm, session: Member, reg: Registration) -> None:
        if reg.uri.startswith("wamp.") or type(session) is not Session:
            if type(session) is RemoteSession:
                self._stamps.pop((realm.name, reg.uri, reg.match, session.id), None)
            return
        if not session.gone:
            self._broadcast("unreg", realm=realm.name, s=session.id, uri=reg.uri, match=reg.match)
        self._stamps.pop((realm.name, reg.uri, reg.match, session.id), None)
        if self.connected:
            key = claim_key(realm.name, reg.uri, reg.match)
            self._kv_op(KvOp("release", key, self.node, self.epoch, [session.id]))

    def testament_added(self, realm: Realm, session: Member, testament: Testament) -> None:
        if self._local(session):
            self._broadcast("testament", **_testament_fields(realm.name, session, testament))

    def testaments_flushed(self, realm: Realm, session: Member, scope: str) -> None:
        if self._local(session):
            self._broadcast("flush", realm=realm.name, s=session.id, scope=scope)


class _ReclaimEntry:
    """A re-claim in the pending-claims table: one registration's local callees."""

    __slots__ = ("realm", "reg", "sessions")

    def __init__(self, reg: Registration, realm: str, sessions: list[Session]) -> None:
        self.reg = reg
        self.realm = realm
        self.sessions = sessions


def _session_info(session: Session) -> dict[str, Any]:
    return {
        "id": session.id,
        "authid": session.authid,
        "authrole": session.authrole,
        "authmethod": session.authmethod,
        "authprovider": session.authprovider,
        "authextra": dict(session.authextra),
        "transport": {k: v for k, v in session.transport_info.items() if k != "channel_id"},
        "joined": getattr(session, "joined", ""),
        "features": [
            session.can_cancel,
            session.can_progress_results,
            session.can_progress_invocations,
            session.can_timeout,
        ],
    }


def _testament_fields(realm: str, session: Member, testament: Testament) -> dict[str, Any]:
    return {
        "realm": realm,
        "s": session.id,
        "scope": testament.scope,
        "topic": testament.topic,
        "args": list(testament.args),
        "kwargs": dict(testament.kwargs),
        "options": dict(testament.options),
    }


def _frame_order(frame: Frame) -> tuple[str, int, int]:
    return frame.node, frame.epoch, frame.sequence


def _keeps_history(realm: Realm, topic: str) -> bool:
    return any(pattern_matches(h.uri, h.match, topic) for h in realm.config.history)
