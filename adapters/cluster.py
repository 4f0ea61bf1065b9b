"""The NATS backplane: one asyncio router server joined to a cluster (docs/cluster.md).

Owns the NATS connection (nats-py, the optional extra ``wampcore[cluster]``), its
subscriptions, the JetStream key/value bucket of registration claims and the heartbeat timer;
nothing else. Every decision is the core's (:class:`wampcore.router.remote.Cluster`): this
module hands it what arrives on the cluster subjects, publishes what it queued, performs its
KV operations with compare-and-set, and tells it when NATS goes away and comes back.

Traffic is batched both ways, because nats-py's per-message work (a callback task step, a
publish coroutine, a flush) cost more than routing a publication: the subscription callbacks
append to one inbox, drained into :meth:`Cluster.receive_all` (one router step for everything
that arrived, in arrival order) as soon as no subscription has a message queued behind;
the publish pump runs once per loop iteration and sends what the core queued, one batch frame
per destination subject (and per run of broadcast or direct items: see ``Cluster._push``).

Use: ``backplane = await Backplane.connect(config.cluster)`` (raises
:class:`ClusterUnavailable` with one readable line when NATS cannot be reached), then
``await backplane.attach(server)`` once the :class:`~.asyncio_server.RouterServer` runs, and
``await backplane.close()`` before closing the server. ``wampcore.cluster.stats.<node>``
answers a NATS request with the node's counters (JSON).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import ssl
import time
from typing import TYPE_CHECKING, Any

from wampcore.cluster import (
    BROADCAST_SUBJECT,
    KV_BUCKET,
    SUBJECT_PREFIX,
    Claims,
    node_subject,
    valid_node_name,
)
from wampcore.config import ClusterConfig
from wampcore.router.remote import Cluster, KvOp

if TYPE_CHECKING:
    from .asyncio_server import RouterServer

__all__ = ["Backplane", "ClusterUnavailable", "default_node_name"]

log = logging.getLogger("wampcore.adapters.cluster")
_CAS_ATTEMPTS = 64


class ClusterUnavailable(OSError):
    """NATS (or its JetStream) could not be reached or used; the message is one line."""


def default_node_name() -> str:
    """``<host>-<pid>``, reduced to the characters a node name may hold."""
    host = "".join(c if c.isalnum() or c in "-_" else "-" for c in socket.gethostname())
    return f"{host[:40] or 'node'}-{os.getpid()}"


class Backplane:
    """A NATS connection carrying one node's cluster traffic (see the module docstring)."""

    def __init__(self, config: ClusterConfig, node: str, nc: Any, kv: Any, epoch: int) -> None:
        self.config = config
        self.node = node
        self._nc = nc
        self._kv = kv
        self.epoch = epoch
        self.cluster: Cluster | None = None
        self._server: RouterServer | None = None
        self._loop = asyncio.get_running_loop()
        self._wanted = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._locks: dict[str, asyncio.Lock] = {}
        self._closing = False
        #: Cluster messages received and not handled yet, in arrival order.
        self._inbox: list[bytes] = []
        self._subscriptions: list[Any] = []

    @classmethod
    async def connect(cls, config: ClusterConfig, node: str | None = None) -> Backplane:
        """Connect to NATS and bind the claims bucket; fail fast with one clear line."""
        try:
            from nats.aio.client import Client
        except ImportError:
            raise ClusterUnavailable(
                "the cluster needs nats-py: pip install 'wampcore[cluster]'"
            ) from None
        name = node or config.node or default_node_name()
        if not valid_node_name(name):
            raise ClusterUnavailable(f"invalid cluster node name {name!r:.80}")
        holder: dict[str, Backplane] = {}

        async def disconnected() -> None:
            if "b" in holder:
                holder["b"]._disconnected()

        async def reconnected() -> None:
            if "b" in holder:
                holder["b"]._reconnected()

        async def error(exc: Exception) -> None:
            log.debug("NATS: %s", exc)

        options: dict[str, Any] = {
            "servers": [u.strip() for u in config.url.split(",")],
            "name": f"wampcore-{name}",
            "connect_timeout": config.request_timeout,
            "allow_reconnect": True,
            "max_reconnect_attempts": -1,
            "reconnect_time_wait": 0.25,
            "ping_interval": max(1, int(config.failure_timeout)),
            "max_outstanding_pings": 2,
            "no_echo": True,
            "disconnected_cb": disconnected,
            "reconnected_cb": reconnected,
            "error_cb": error,
        }
        if config.user is not None:
            options["user"] = config.user
            options["password"] = config.password
        if config.token is not None:
            options["token"] = config.token
        if config.creds is not None:
            options["user_credentials"] = config.creds
        if config.tls_ca is not None or config.tls_cert is not None:
            context = ssl.create_default_context(cafile=config.tls_ca)
            if config.tls_cert is not None:
                context.load_cert_chain(config.tls_cert, config.tls_key)
            options["tls"] = context
        nc = Client()
        try:
            # nats-py retries the first connection forever when reconnects are allowed: the
            # first attempt is bounded here so an unreachable NATS fails at once.
            await asyncio.wait_for(
                nc.connect(**{**options, "allow_reconnect": False}), config.request_timeout * 2
            )
        except Exception as exc:
            with contextlib.suppress(Exception):
                await nc.close()
            reason = str(exc) or type(exc).__name__
            raise ClusterUnavailable(f"cannot reach NATS at {config.url}: {reason}") from None
        # Reconnects from now on (the first connection is made; nats-py reads the option
        # when the connection drops).
        nc.options["allow_reconnect"] = True
        try:
            kv = await asyncio.wait_for(_bucket(nc), config.request_timeout * 2)
        except Exception as exc:
            await nc.close()
            reason = str(exc) or type(exc).__name__
            raise ClusterUnavailable(
                f"NATS at {config.url} has no usable JetStream (start nats-server with -js): "
                f"{reason}"
            ) from None
        backplane = cls(config, name, nc, kv, int(time.time() * 1000))
        holder["b"] = backplane
        return backplane

    async def attach(self, server: RouterServer) -> Cluster:
        """Join ``server``'s router to the cluster and start the traffic."""
        self._server = server
        cluster = Cluster(
            server.router,
            self.node,
            self.epoch,
            heartbeat_interval=self.config.heartbeat_interval,
            failure_timeout=self.config.failure_timeout,
            max_payload=int(getattr(self._nc, "max_payload", 1024 * 1024) or 1024 * 1024),
        )
        cluster.wake = self._wanted.set
        self.cluster = cluster
        for subject in (BROADCAST_SUBJECT, node_subject(self.node)):
            self._subscriptions.append(await self._nc.subscribe(subject, cb=self._on_message))
        await self._nc.subscribe(f"{SUBJECT_PREFIX}.stats.{self.node}", cb=self._on_stats)
        await self._nc.flush()
        self._spawn(self._pump())
        self._spawn(self._ticker())
        cluster.start(self._loop.time())
        self._after()
        return cluster

    async def close(self) -> None:
        """Say bye, flush, and close the NATS connection."""
        self._closing = True
        if self.cluster is not None:
            self.cluster.close()
            await self._publish_all()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._nc.flush(), 1.0)
        with contextlib.suppress(Exception):
            await self._nc.close()

    # -- input -----------------------------------------------------------------------------------

    async def _on_message(self, msg: Any) -> None:
        self._inbox.append(msg.data)
        # The burst is over when no subscription has more queued: the last callback of a
        # burst hands it all to the core at once (no extra loop iteration of latency).
        for sub in self._subscriptions:
            if sub.pending_msgs:
                return
        frames, self._inbox = self._inbox, []
        cluster = self.cluster
        if cluster is None:
            return
        cluster.receive_all(frames, self._loop.time())
        self._after()

    async def _on_stats(self, msg: Any) -> None:
        if self.cluster is not None and msg.reply:
            await self._nc.publish(msg.reply, json.dumps(self.cluster.stats()).encode())

    def _disconnected(self) -> None:
        if self.cluster is not None and not self._closing:
            log.warning("cluster: lost NATS; local routing continues, reconnecting")
            self.cluster.disconnected(self._loop.time())

    def _reconnected(self) -> None:
        if self.cluster is not None and not self._closing:
            log.warning("cluster: NATS is back; re-claiming and re-announcing this node")
            self.cluster.reconnected(self._loop.time(), int(time.time() * 1000))
            self._after()

    def _after(self) -> None:
        """What a cluster step leaves behind: client output, notices, the publish pump."""
        cluster = self.cluster
        if cluster is None:
            return
        if self._server is not None:
            self._server.local_output()
        for line in cluster.notices:
            log.warning("cluster: %s", line)
        cluster.notices.clear()
        self._wanted.set()

    # -- output ----------------------------------------------------------------------------------

    async def _pump(self) -> None:
        while True:
            await self._wanted.wait()
            self._wanted.clear()
            await self._publish_all()

    async def _publish_all(self) -> None:
        cluster = self.cluster
        if cluster is None:
            return
        for op in cluster.kv_ops():
            self._spawn(self._kv_op(op))
        for subject, data in cluster.outgoing():
            try:
                await self._nc.publish(subject, data)
            except Exception as exc:  # disconnected: the cluster resyncs on reconnect
                cluster.counters["publish_failed"] += 1
                log.debug("cluster: publish failed: %s", exc)

    async def _ticker(self) -> None:
        period = self.config.heartbeat_interval / 2
        while True:
            await asyncio.sleep(period)
            if self.cluster is not None:
                self.cluster.tick(self._loop.time())
                self._after()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- registration claims ---------------------------------------------------------------------

    async def _kv_op(self, op: KvOp) -> None:
        cluster = self.cluster
        assert cluster is not None
        try:
            if op.key is None:
                await asyncio.wait_for(self._purge(op), self.config.request_timeout * 4)
                return
            async with self._lock(op.key):
                outcome, stamp = await asyncio.wait_for(
                    self._cas(op, op.key), self.config.request_timeout
                )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("cluster: registration claim %s failed: %s", op.kind, exc or type(exc))
            outcome, stamp = "unavailable", 0
        if op.kind == "claim":
            cluster.claim_done(op.token, outcome, stamp, self._loop.time())
            self._after()

    def _lock(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock

    async def _cas(self, op: KvOp, key: str) -> tuple[str, int]:
        """Read, decide (wampcore.cluster.Claims), write-if-unchanged; again if it changed."""
        from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError

        kv = self._kv
        for _ in range(_CAS_ATTEMPTS):
            revision: int | None = None
            current = None
            try:
                entry = await kv.get(key)
                revision = entry.revision
                current = Claims.load(entry.value)
            except KeyNotFoundError as exc:
                # A deleted key still has a revision to compare against.
                entry = getattr(exc, "entry", None)
                revision = getattr(entry, "revision", None)
            if op.kind == "claim":
                new, ok = Claims.claim(current, op.node, op.epoch, op.sessions, op.invoke)
                if not ok:
                    return "taken", 0
                if new is None:
                    return "ok", revision or 0
            else:
                sessions = op.sessions if op.kind == "release" else None
                new, changed = Claims.release(current, op.node, sessions, op.epoch)
                if not changed:
                    return "ok", 0
            try:
                if new is None:
                    await kv.delete(key, last=revision)
                    return "ok", 0
                data = Claims.dump(new)
                if revision is None:
                    return "ok", await kv.create(key, data)
                return "ok", await kv.update(key, data, last=revision)
            except KeyWrongLastSequenceError:
                continue  # another node wrote first: decide again on what it wrote
            except Exception as exc:
                if "wrong last sequence" in str(exc):
                    continue
                raise
        return "unavailable", 0

    async def _purge(self, op: KvOp) -> None:
        from nats.js.errors import NoKeysError

        try:
            keys = await self._kv.keys()
        except NoKeysError:
            return
        for key in keys:
            async with self._lock(key):
                await self._cas(op, key)


async def _bucket(nc: Any) -> Any:
    from nats.js.errors import BucketNotFoundError

    js = nc.jetstream()
    for _ in range(5):
        try:
            return await js.key_value(KV_BUCKET)
        except BucketNotFoundError:
            pass
        try:
            return await js.create_key_value(bucket=KV_BUCKET, history=1)
        except Exception as exc:  # another node created it meanwhile: bind to it
            last = exc
    raise last
