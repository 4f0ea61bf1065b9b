"""Interop: autobahn-js (npm ``autobahn``, pinned in tests/js/package-lock.json) against
``wampcore router``, and autobahn-js sessions facing wampcore asyncio clients through it.

The router runs as a subprocess on ephemeral loopback ports. Each scenario group is one Node.js
process (tests/js/suite.js, tests/js/peer.js) that reports what it observed as JSON lines; the
assertions are made here. ``npm ci --prefix tests/js`` (a step of .ci/run) installs the
clients; without Node.js, npm or that step these tests skip and say which.

What autobahn-js 26.3.1 can and cannot do, as found here:

* WebSocket with json, msgpack and cbor; RawSocket only in Node, only with JSON (its RawSocket
  protocol object knows no other serializer), configured as ``{type: 'rawsocket', host, port}``.
* It uses the global ``WebSocket`` of Node.js 22+; on Node 20 (10+) that needs
  ``--experimental-websocket``, which is passed then (same undici implementation).
* Binary values travel with msgpack (``bin``) and cbor (byte strings; a ``Uint8Array`` goes out
  as RFC 8746 tag 64, which wampcore reads as bytes). Its JSON serializer has no ``\\0``+base64
  convention (wamp-spec §5.2), so a JS ``Buffer`` cannot be sent as binary over JSON.
* A procedure that returns nothing answers ``YIELD [undefined]``: JSON makes that null, cbor
  encodes ``undefined`` (wampcore reads it as null), msgpack5 refuses to: the YIELD is never
  sent and the unhandled rejection ends the Node process (xfail test below).
* Progressive results reach the caller as notifications of its when.js promise (``when`` is an
  optional dependency of autobahn, pinned here explicitly).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import re
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from adapterkit import Router
from wampcore.adapters.asyncio import CallResult, connect

from wampcore.errors import ApplicationError

pytestmark = pytest.mark.timeout(120)

JS = Path(__file__).resolve().parent / "js"
NODE_TIMEOUT = 30.0  # hard limit for one node process (it has its own 20 s deadline)
BYTES = bytes([0, 1, 2, 254, 255])


@functools.cache
def node_command() -> list[str] | str:
    """``node`` plus the flags autobahn-js needs, or why the tests cannot run."""
    node = shutil.which("node")
    if node is None:
        return "Node.js is not installed (no `node` on PATH); autobahn-js tests need Node 20.10+"
    if not (JS / "node_modules" / "autobahn").is_dir():
        why = "npm is not installed" if shutil.which("npm") is None else "it was not run"
        return f"autobahn-js is not installed: `npm ci --prefix tests/js` ({why}; .ci/run does it)"
    version = subprocess.run(
        [node, "--version"], capture_output=True, text=True, timeout=10
    ).stdout.strip()
    match = re.match(r"v(\d+)\.", version)
    major = int(match.group(1)) if match else 0
    # autobahn-js uses the global WebSocket: built in from Node 22, behind a flag in 20.10+.
    command = [node] if major >= 22 else [node, "--experimental-websocket"]
    probe = subprocess.run(
        [*command, "-e", "process.exit(typeof WebSocket === 'function' ? 0 : 1)"],
        capture_output=True,
        timeout=10,
    )
    if probe.returncode != 0:
        return f"Node.js {version} has no WebSocket client (autobahn-js needs Node 20.10+)"
    return command


@pytest.fixture(scope="module")
def node() -> list[str]:
    command = node_command()
    if isinstance(command, str):
        pytest.skip(command)
    return command


@pytest.fixture(scope="module")
def router() -> Iterator[Router]:
    with Router() as r:
        yield r


def js_config(router: Router, transport: str, serializer: str, **extra: Any) -> dict[str, Any]:
    if transport == "rawsocket":
        parts = urlsplit(router.urls["rs"])
        where: dict[str, Any] = {"host": parts.hostname, "port": parts.port}
    else:
        where = {"url": router.urls["ws"]}
    return {"transport": transport, "serializer": serializer, **where, **extra}


def parse(stdout: str) -> dict[str, Any]:
    """The script's reports by key (suite.js reports each key once)."""
    records: dict[str, Any] = {}
    for line in stdout.splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            records[record["k"]] = record["v"]
    return records


def run_js(node: list[str], script: str, config: dict[str, Any]) -> dict[str, Any]:
    """Run a script to completion with a hard timeout; its reports, asserting it finished."""
    try:
        done = subprocess.run(
            [*node, str(JS / script), json.dumps(config)],
            capture_output=True,
            text=True,
            timeout=NODE_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:  # subprocess.run has killed it
        raise AssertionError(f"{script} timed out: out={exc.stdout!r} err={exc.stderr!r}") from None
    records = parse(done.stdout)
    assert done.returncode == 0 and records.get("done") is True, (
        f"{script} failed ({done.returncode}): out={done.stdout} err={done.stderr[-3000:]}"
    )
    return records


def b(value: bytes) -> dict[str, str]:
    """How the scripts show a Buffer (common.js ``show``)."""
    return {"$bytes": value.hex()}


def result(args: list[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    return {"$result": {"args": args, "kwargs": kwargs}}


def error(uri: str, args: list[Any], kwargs: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"$error": {"error": uri, "args": args, "kwargs": kwargs or {}}}


# --- autobahn-js against the router -----------------------------------------------------------

SUITES = [
    pytest.param("websocket", "json", id="ws-json"),
    pytest.param("websocket", "msgpack", id="ws-msgpack"),
    pytest.param("websocket", "cbor", id="ws-cbor"),
    pytest.param("rawsocket", "json", id="rs-json"),
]


@pytest.mark.interop(
    peer="autobahn-js-node",
    transport="{transport}",
    serializer="{serializer}",
    features=[
        "join",
        "rpc",
        "errors",
        "progressive",
        "disclosure",
        "pattern",
        "pubsub",
        "exclusion",
    ],
)
@pytest.mark.interop(
    peer="autobahn-js-node",
    transport="{transport}",
    serializer="{serializer}",
    features=["binary"],
    unless="{serializer} == json",
)
@pytest.mark.parametrize(("transport", "serializer"), SUITES)
def test_autobahn_js_sessions_through_wampcore_router(
    node: list[str], router: Router, transport: str, serializer: str
) -> None:
    """Two autobahn-js sessions: wamp-spec §3.1 join, §3.4 RPC and errors, §4.2 progressive
    results, §4.6 caller identification, §4.8 pattern registration, §3.3 pub/sub, §4.14
    publisher exclusion, §4.15 publisher identification, §4.17 pattern subscription, §3.2
    GOODBYE."""
    prefix = f"com.example.js.{transport}.{serializer}"
    got = run_js(node, "suite.js", js_config(router, transport, serializer, prefix=prefix))
    binary = serializer != "json"

    # §3.1: WELCOME with a session id and the anonymous role; both sessions distinct.
    a, b_ = got["a.join"], got["b.join"]
    assert isinstance(a["id"], int) and isinstance(b_["id"], int) and a["id"] != b_["id"]
    assert 1 <= a["id"] <= 2**53
    for joined in (a, b_):
        details = joined["details"]
        assert details["realm"] == "realm1"
        assert details["authrole"] == "anonymous"
        assert isinstance(details["authid"], str) and details["authid"]
        assert {"broker", "dealer"} <= set(details["roles"])
        assert details["roles"]["dealer"]["features"]["progressive_call_results"] is True
        assert details["transport"]["protocol"] == f"wamp.2.{serializer}"

    # §3.4: results, args and kwargs both ways, errors with args and kwargs.
    assert got["call.add"] == 5
    assert got["call.echo"] == result([1, "two", None, 2.5], {"k": {"n": [1]}})
    assert got["call.kwonly"] == result([], {"only": True})
    assert got["call.noargs"] is None
    if binary:
        assert got["call.binary"] == result([b(b"\x00\x01\x02\xff")], {"b": b(b"\x00\x01\x02\xff")})
    else:
        assert "call.binary" not in got
    assert got["call.fail"] == error("com.example.failed", [7, "x"], {"why": "test"})
    assert got["call.missing"]["$error"]["error"] == "wamp.error.no_such_procedure"
    assert got["call.temp"] == "here"
    assert got["call.temp.after"]["$error"]["error"] == "wamp.error.no_such_procedure"

    # §4.6: the caller is disclosed only when it asks (disclose_me); absent otherwise.
    plain = got["call.details.plain"]
    assert plain["procedure"] == f"{prefix}.details" and plain["receive_progress"] is False
    assert plain.get("caller") is None and plain.get("caller_authrole") is None
    disclosed = got["call.details.disclosed"]
    assert disclosed["caller"] == b_["id"] and disclosed["caller_authrole"] == "anonymous"

    # §4.2: an autobahn-js callee streams with details.progress(); the caller gets each chunk
    # (args and kwargs) before the final result. Without receive_progress, only the result.
    assert got["call.progressive"] == {
        "progress": [result([i], {"chunk": i}) for i in range(3)],
        "final": "done",
    }
    assert got["call.progressive.unrequested"] == "done"

    # §4.8: pattern registrations see the concrete procedure in details.procedure.
    assert got["call.prefix"] == f"{prefix}.pfx.one.two"
    assert got["call.wildcard"] == f"{prefix}.any.wild"

    # §3.3 / §4.14: "a" gets all five in order; the publisher "b" only the exclude_me=false one.
    events = got["a.events"]
    first = ["one"], ["two"], ["three"], ["four"], [b(b"\x09\x08\x00")] if binary else ["five"]
    assert [e["args"] for e in events] == list(first)
    assert events[0]["kwargs"] == {"n": 1}
    assert events[0]["publication"] == got["publish.ack"]["id"]
    assert all(e["topic"] == f"{prefix}.topic" for e in events)
    assert len({e["publication"] for e in events}) == 5
    assert [e["args"] for e in got["b.events"]] == [["three"]]
    assert got["b.events"][0]["publication"] == got["publish.both.id"] == events[2]["publication"]
    # §4.15: the publisher is disclosed only on the publication with disclose_me.
    assert [e["publisher"] for e in events] == [None, None, None, b_["id"], None]
    assert events[3]["publisher_authrole"] == "anonymous"

    # §4.17: prefix and wildcard subscriptions get the concrete topic in details.topic.
    assert [(e["args"], e["topic"]) for e in got["pattern.events"]] == [
        (["goal"], f"{prefix}.news.sport.results"),
        (["storm"], f"{prefix}.eu.alerts"),
    ]
    # Unsubscribed: the later publication reaches "b" only.
    assert [e["args"] for e in got["unsubscribe"]["b"]] == [["after"]]
    assert got["unsubscribe"]["a"] == []

    # §3.2: Connection.close() sends GOODBYE; the router answers goodbye_and_out, cleanly.
    for closed in (got["a.closed"], got["b.closed"]):
        assert closed == {
            "reason": "closed",
            "details": {"reason": "wamp.close.goodbye_and_out", "message": ""},
        }


# --- autobahn-js and wampcore asyncio clients through the router ------------------------------

# (autobahn-js transport, autobahn-js serializer, wampcore URL scheme, wampcore serializer)
MIXED = [
    pytest.param("websocket", "cbor", "rs", "json", id="js-ws-cbor/py-rs-json"),
    pytest.param("websocket", "msgpack", "ws", "cbor", id="js-ws-msgpack/py-ws-cbor"),
    pytest.param("websocket", "cbor", "ws", "msgpack", id="js-ws-cbor/py-ws-msgpack"),
    pytest.param("rawsocket", "json", "ws", "msgpack", id="js-rs-json/py-ws-msgpack"),
]


class NodeProcess:
    """A node script running alongside asyncio code: its reports are read as they come."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.records: dict[str, Any] = {}
        self.lines: list[str] = []
        self.err: list[str] = []
        self._stderr = asyncio.ensure_future(self._drain_stderr())

    @classmethod
    @contextlib.asynccontextmanager
    async def start(
        cls, node: list[str], script: str, config: dict[str, Any]
    ) -> AsyncIterator[NodeProcess]:
        proc = await asyncio.create_subprocess_exec(
            *node,
            str(JS / script),
            json.dumps(config),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        self = cls(proc)
        try:
            yield self
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
            await self._stderr

    async def _drain_stderr(self) -> None:
        assert self.proc.stderr is not None
        async for line in self.proc.stderr:
            self.err.append(line.decode(errors="replace").rstrip())

    def _why(self) -> str:
        return f"out={self.lines} err={self.err[-30:]}"

    async def next(self, key: str, timeout: float = 20.0) -> Any:
        """Read reports until ``key`` comes; its value."""
        assert self.proc.stdout is not None
        try:
            async with asyncio.timeout(timeout):
                while key not in self.records:
                    line = (await self.proc.stdout.readline()).decode()
                    if not line:
                        raise AssertionError(f"node exited before {key!r}: {self._why()}")
                    self.lines.append(line.rstrip())
                    if line.startswith("{"):
                        record = json.loads(line)
                        if record["k"] in ("failed", "timeout"):
                            raise AssertionError(f"node {record}: {self._why()}")
                        self.records.setdefault(record["k"], []).append(record["v"])
        except TimeoutError:
            raise AssertionError(
                f"no {key!r} from node within {timeout} s: {self._why()}"
            ) from None
        return self.records[key][-1]

    async def finish(self) -> None:
        await self.next("done")
        async with asyncio.timeout(10):
            assert await self.proc.wait() == 0, self._why()


def run_async(coro: Any) -> None:
    async def bounded() -> None:
        async with asyncio.timeout(60):
            await coro

    asyncio.run(bounded())


@pytest.mark.interop(
    peer="autobahn-js-node",
    transport="{js_transport}",
    serializer="{js_ser}",
    features=["rpc", "errors", "progressive", "pubsub"],
)
@pytest.mark.interop(
    peer="autobahn-js-node",
    transport="{js_transport}",
    serializer="{js_ser}",
    features=["binary"],
    unless="{js_ser} == json",
)
@pytest.mark.interop(
    peer="wampcore",
    transport="{py_scheme}",
    serializer="{py_ser}",
    features=["rpc", "errors", "progressive", "pubsub"],
)
@pytest.mark.interop(
    peer="wampcore",
    transport="{py_scheme}",
    serializer="{py_ser}",
    features=["binary"],
    unless="{js_ser} == json",
)
@pytest.mark.parametrize(("js_transport", "js_ser", "py_scheme", "py_ser"), MIXED)
def test_autobahn_js_callee_wampcore_caller(
    node: list[str], router: Router, js_transport: str, js_ser: str, py_scheme: str, py_ser: str
) -> None:
    """An autobahn-js callee and subscriber, a wampcore asyncio caller and publisher, on
    different serializers: wamp-spec §3.4, §4.2, §3.3 and §5.1 (binary values)."""
    prefix = f"com.example.mixed.jscallee.{js_ser}.{py_ser}"
    binary = js_ser != "json"
    config = js_config(router, js_transport, js_ser, mode="serve", prefix=prefix, binary=binary)

    async def test() -> None:
        async with NodeProcess.start(node, "peer.js", config) as js:
            joined = await js.next("join")
            assert joined["authrole"] == "anonymous"
            await js.next("ready")
            async with connect(router.urls[py_scheme], "realm1", serializers=[py_ser]) as py:
                sent = [1, "two", 2.5, None, *([BYTES] if binary else [])]
                assert await py.call(f"{prefix}.echo", *sent, k={"n": [1]}) == CallResult(
                    sent, {"k": {"n": [1]}}
                )
                seen = await js.next("invocation.echo")
                if binary:  # bytes from Python arrive in JS as a Buffer
                    assert seen["kinds"][-1] == "Buffer" and seen["args"][-1] == b(BYTES)

                # A JS procedure returning nothing sends YIELD [undefined]; cbor carries it
                # (wampcore reads it as null), JSON makes it null; msgpack5 cannot: xfail below.
                if js_ser != "msgpack":
                    assert await py.call(f"{prefix}.nothing") is None

                with pytest.raises(ApplicationError) as info:
                    await py.call(f"{prefix}.fail", 7)
                assert info.value.error == "com.example.js.failed"
                assert info.value.args_list == ([7, BYTES] if binary else [7])
                assert info.value.kwargs == {"why": "js"}

                parts = [x async for x in py.call_progressive(f"{prefix}.stream", 3)]
                assert parts == [0, 1, 2, "done"]
                assert (await js.next("invocation.stream"))["receive_progress"] is True

                if binary:  # a Uint8Array result: cbor tag 64 over cbor, bin over msgpack
                    assert await py.call(f"{prefix}.u8") == BYTES

                payload = ["news", *([BYTES] if binary else [])]
                assert isinstance(
                    await py.publish(f"{prefix}.news", *payload, acknowledge=True), int
                )
                await py.publish(f"{prefix}.quit", acknowledge=True)
            event = await js.next("event")
            assert event["args"] == ["news", *([b(BYTES)] if binary else [])]
            assert event["topic"] == f"{prefix}.news" and event["publisher"] is None
            if binary:
                assert event["kinds"] == ["string", "Buffer"]
            await js.finish()
            assert js.records["closed"][-1]["details"]["reason"] == "wamp.close.goodbye_and_out"

    run_async(test())


@pytest.mark.interop(
    peer="autobahn-js-node",
    transport="{js_transport}",
    serializer="{js_ser}",
    features=["rpc", "errors", "progressive", "disclosure", "pubsub"],
)
@pytest.mark.interop(
    peer="autobahn-js-node",
    transport="{js_transport}",
    serializer="{js_ser}",
    features=["binary"],
    unless="{js_ser} == json",
)
@pytest.mark.interop(
    peer="wampcore",
    transport="{py_scheme}",
    serializer="{py_ser}",
    features=["rpc", "errors", "progressive", "disclosure", "pubsub"],
)
@pytest.mark.interop(
    peer="wampcore",
    transport="{py_scheme}",
    serializer="{py_ser}",
    features=["binary"],
    unless="{js_ser} == json",
)
@pytest.mark.parametrize(("js_transport", "js_ser", "py_scheme", "py_ser"), MIXED)
def test_wampcore_callee_autobahn_js_caller(
    node: list[str], router: Router, js_transport: str, js_ser: str, py_scheme: str, py_ser: str
) -> None:
    """A wampcore asyncio callee and subscriber, an autobahn-js caller and publisher, on
    different serializers: wamp-spec §3.4, §4.2, §4.6, §3.3, §4.15 and §5.1."""
    prefix = f"com.example.mixed.pycallee.{js_ser}.{py_ser}"
    binary = js_ser != "json"
    config = js_config(router, js_transport, js_ser, mode="call", prefix=prefix, binary=binary)

    async def test() -> None:
        async with connect(router.urls[py_scheme], "realm1", serializers=[py_ser]) as py:
            echoed: list[tuple[Any, ...]] = []

            def echo(*args: Any, **kwargs: Any) -> CallResult:
                echoed.append((args, kwargs))
                return CallResult(list(args), kwargs)

            def fail(x: int) -> None:
                raise ApplicationError(
                    "com.example.py.failed", x, *([BYTES] if binary else []), kwargs={"why": "py"}
                )

            async def count(n: int) -> AsyncIterator[int]:
                for i in range(n):
                    yield i

            def details(details: Any) -> dict[str, Any]:
                return {"caller": details.caller, "authrole": details.caller_authrole}

            events: asyncio.Queue[Any] = asyncio.Queue()
            await py.register(f"{prefix}.echo", echo)
            await py.register(f"{prefix}.fail", fail)
            await py.register(f"{prefix}.count", count)
            await py.register(f"{prefix}.details", details)

            def on_event(*args: Any, details: Any, **kwargs: Any) -> None:
                events.put_nowait((args, kwargs, details.publisher))

            await py.subscribe(f"{prefix}.news", on_event)

            async with NodeProcess.start(node, "peer.js", config) as js:
                js_id = (await js.next("join"))["id"]
                await js.finish()
            got = {key: values[-1] for key, values in js.records.items()}

            # JS Buffer and Uint8Array both arrive in Python as bytes, and go back as Buffers.
            binary_args = [BYTES, BYTES] if binary else []
            assert echoed == [
                ((1, "two", 2.5, None, *binary_args), {"k": "v", "b": BYTES if binary else "no"})
            ]
            shown = [b(BYTES), b(BYTES)] if binary else []
            assert got["call.echo"] == result(
                [1, "two", 2.5, None, *shown], {"k": "v", "b": b(BYTES) if binary else "no"}
            )
            assert got["call.fail"] == error(
                "com.example.py.failed", [7, *shown[:1]], {"why": "py"}
            )
            assert got["call.missing"]["$error"]["error"] == "wamp.error.no_such_procedure"
            # §4.2: the async-generator callee streams; autobahn-js sees three notifications
            # and then the final result (the generator's last value, which is not repeated).
            assert got["call.progressive"] == {"progress": [0, 1, 2], "final": None}
            # §4.6: disclose_me from autobahn-js reaches the wampcore callee.
            assert got["call.details"] == {"caller": js_id, "authrole": "anonymous"}

            assert isinstance(got["published"], int)
            args, kwargs, publisher = await asyncio.wait_for(events.get(), 10)
            assert (args, kwargs) == (("hello", *binary_args), {"n": 1})
            assert publisher == js_id  # §4.15: disclose_me on the publication

    run_async(test())


@pytest.mark.interop(
    peer="autobahn-js-node",
    transport="websocket",
    serializer="msgpack",
    features=["rpc"],
)
@pytest.mark.xfail(
    strict=True,
    raises=ApplicationError,
    reason="autobahn-js deviation: a procedure returning nothing answers YIELD [undefined], "
    "which msgpack5 refuses to encode; the YIELD is never sent and the rejected promise is "
    "unhandled, which ends a Node process (the caller gets wamp.error.canceled)",
)
def test_autobahn_js_msgpack_callee_returning_nothing(node: list[str], router: Router) -> None:
    """wamp-spec §3.4: every INVOCATION is answered by YIELD or ERROR."""
    prefix = "com.example.mixed.nothing.msgpack"
    config = js_config(router, "websocket", "msgpack", mode="serve", prefix=prefix, binary=True)

    async def test() -> None:
        async with NodeProcess.start(node, "peer.js", config) as js:
            await js.next("ready")
            async with connect(router.urls["ws"], "realm1", serializers=["json"]) as py:
                # A timeout (wamp-spec §4.4) in case a future autobahn-js hangs instead.
                assert await py.call(f"{prefix}.nothing", timeout=5.0) is None
                await py.publish(f"{prefix}.quit", acknowledge=True)
            await js.finish()

    run_async(test())


def test_node_skip_reason_names_the_missing_piece(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without node the tests skip saying so (they never fail for a missing toolchain)."""
    node_command.cache_clear()
    monkeypatch.setenv("PATH", os.devnull)
    try:
        assert isinstance(node_command(), str) and "Node.js is not installed" in node_command()
    finally:
        node_command.cache_clear()
