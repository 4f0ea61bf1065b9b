"""The object API of the asyncio client (issue 12): ``procedure``/``topic`` decorators,
``register_object``, ``proxy`` (typed for mypy), ``events`` iterators, over the real
``wampcore router`` command and over embedded sessions. What the router holds is checked through
its meta API (wamp-spec.md §4.26, §4.27).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from adapterkit import Router
from wampcore.adapters.asyncio import (
    CallResult,
    ConnectionLost,
    Event,
    EventOverflow,
    Registration,
    Subscription,
    connect,
    procedure,
    serve,
    topic,
)

from wampcore.errors import ApplicationError
from wampcore.router import Router as CoreRouter

pytestmark = pytest.mark.timeout(120)
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def router() -> Iterator[Router]:
    with Router() as r:  # its __exit__ reaps it and closes its pipes
        yield r


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 60))


class Calculator:
    """A service object: two procedures, a pattern one, and a topic."""

    def __init__(self) -> None:
        self.news: asyncio.Queue[Any] = asyncio.Queue()

    @procedure("com.calc.add")
    async def add(self, a: int, b: int) -> int:
        return a + b

    @procedure("com.calc.echo")
    def echo(self, *args: Any, **kwargs: Any) -> CallResult:
        return CallResult(list(args), kwargs)

    @procedure("com.calc.any.", match="prefix")
    def anything(self, details: Any) -> str:
        return str(details.procedure)

    @topic("com.calc.news")
    def on_news(self, item: Any) -> None:
        self.news.put_nowait(item)

    def not_exposed(self) -> None:
        raise AssertionError("undecorated methods are not registered")


class CalculatorApi:
    """The caller's view: the same URIs, declared as async methods."""

    @procedure("com.calc.add")
    async def add(self, a: int, b: int) -> int: ...

    @procedure("com.calc.echo")
    async def echo(self, *args: Any, **kwargs: Any) -> Any: ...

    async def mul(self, a: int, b: int) -> int: ...


async def _lookup(s: Any, uri: str, match: str = "exact") -> Any:
    return await s.call("wamp.registration.lookup", uri, {"match": match})


async def _subscribers(s: Any, topic_uri: str, match: str = "exact") -> list[int]:
    sub_id = await s.call("wamp.subscription.lookup", topic_uri, {"match": match})
    if sub_id is None:
        return []
    result: list[int] = await s.call("wamp.subscription.list_subscribers", sub_id)
    return result


def test_register_object_registers_and_subscribes_decorated_methods_spec_4_26(
    router: Router,
) -> None:
    async def main() -> None:
        calc = Calculator()
        async with (
            connect(router.urls["ws"], "realm1") as s,
            connect(router.urls["rs"], "realm1") as other,
        ):
            handles = await s.register_object(calc)
            assert [type(h) for h in handles] == [Registration] * 3 + [Subscription]
            assert [
                getattr(h, "procedure", None) or getattr(h, "topic", None) for h in handles
            ] == [
                "com.calc.add",
                "com.calc.echo",
                "com.calc.any.",
                "com.calc.news",
            ]
            assert await other.call("com.calc.add", 2, 3) == 5
            assert await other.call("com.calc.any.thing") == "com.calc.any.thing"
            reg = await other.call("wamp.registration.get", handles[2].id)
            assert reg["match"] == "prefix"
            await other.publish("com.calc.news", "hi", acknowledge=True)
            assert await asyncio.wait_for(calc.news.get(), 10) == "hi"
            assert await _subscribers(other, "com.calc.news") == [s.session_id]

            # The handles really undo what they did.
            for handle in handles:
                if isinstance(handle, Registration):
                    await handle.unregister()
                else:
                    await handle.unsubscribe()
            assert await _lookup(other, "com.calc.add") is None
            assert await _lookup(other, "com.calc.any.", "prefix") is None
            assert await _subscribers(other, "com.calc.news") == []
            with pytest.raises(ApplicationError) as info:
                await other.call("com.calc.add", 1, 1)
            assert info.value.error == "wamp.error.no_such_procedure"

    run(main())


def test_register_object_undoes_everything_when_one_fails_spec_4_8(router: Router) -> None:
    """``com.calc.echo`` is taken by another session: nothing of the object stays registered."""

    async def main() -> None:
        async with (
            connect(router.urls["ws"], "realm1") as s,
            connect(router.urls["ws"], "realm1") as holder,
        ):
            await holder.register("com.calc.echo", lambda: "taken")
            with pytest.raises(ApplicationError) as info:
                await s.register_object(Calculator())
            assert info.value.error == "wamp.error.procedure_already_exists"
            assert await _lookup(s, "com.calc.add") is None
            assert await _subscribers(s, "com.calc.news") == []
            assert await s.call("com.calc.echo") == "taken"

    run(main())


def test_decorators_refuse_bad_input_at_once() -> None:
    with pytest.raises(TypeError, match="unknown option"):
        procedure("com.x", mach="prefix")
    with pytest.raises(TypeError, match="unknown option"):
        topic("com.x", invoke="roundrobin")
    with pytest.raises(ValueError, match="not a valid URI"):
        procedure("com..x")
    with pytest.raises(ValueError, match="not a valid URI"):
        topic(42)  # type: ignore[arg-type]
    procedure("com..x", match="wildcard")  # empty components are wildcards there

    def f() -> None: ...

    procedure("com.a")(f)
    with pytest.raises(TypeError, match="already decorated"):
        topic("com.b")(f)

    async def main() -> None:
        server = await serve(CoreRouter(), ["ws://127.0.0.1:0/ws"])
        try:
            async with server.local_session("realm1") as s:
                with pytest.raises(TypeError, match="no methods decorated"):
                    await s.register_object(object())
        finally:
            await server.close()

    run(main())


def test_proxy_of_a_decorated_class_calls_with_the_same_arguments(router: Router) -> None:
    """Positional arguments become args, keyword ones kwargs; results as ``call`` returns them."""

    async def main() -> None:
        async with connect(router.urls["ws"], "realm1") as s:
            await s.register_object(Calculator())
            calc = s.proxy(CalculatorApi, prefix="com.calc.")
            assert await calc.add(2, 3) == 5
            assert await calc.add(a=2, b=5) == 7  # keyword arguments go as kwargs
            assert await calc.echo(1, 2, x=3) == CallResult([1, 2], {"x": 3})
            assert await calc.echo("one") == "one"
            assert await calc.echo() is None
            # mul has no @procedure: the prefix names it; nobody registered it.
            with pytest.raises(ApplicationError) as info:
                await calc.mul(2, 3)
            assert info.value.error == "wamp.error.no_such_procedure"
            await s.register("com.calc.mul", lambda a, b: a * b)
            assert await calc.mul(2, 3) == 6
            # Arguments that do not fit the signature: TypeError, nothing sent.
            with pytest.raises(TypeError, match=r"CalculatorApi\.add"):
                await calc.add(1)  # type: ignore[call-arg]
            with pytest.raises(TypeError):
                await calc.add(1, 2, c=3)  # type: ignore[call-arg]

    run(main())


def test_proxy_uri_rule_prefix_and_what_is_not_proxied(router: Router) -> None:
    class Api:
        async def ping(self) -> str: ...

        @procedure("com.other.exact")
        async def pinned(self) -> str: ...

        @procedure("com.any.", match="prefix")
        async def pattern(self) -> str: ...

        @topic("com.t")
        async def news(self, x: int) -> None: ...

        async def _private(self) -> None: ...

    async def main() -> None:
        async with connect(router.urls["ws"], "realm1") as s:
            await s.register("com.prefixed.ping", lambda: "pong")
            await s.register("com.other.exact", lambda: "pinned")
            api = s.proxy(Api, prefix="com.prefixed.")
            assert await api.ping() == "pong"
            assert await api.pinned() == "pinned"  # a decorated URI ignores the prefix
            assert dir(api) == ["ping", "pinned"]
            with pytest.raises(AttributeError, match="pattern"):
                api.pattern  # noqa: B018
            with pytest.raises(AttributeError, match="@topic"):
                api.news  # noqa: B018
            with pytest.raises(AttributeError):
                api._private  # noqa: B018
            bare = s.proxy(Api)  # no prefix: only decorated methods
            assert await bare.pinned() == "pinned"
            with pytest.raises(AttributeError, match="no prefix"):
                bare.ping  # noqa: B018

            class Plain:
                def add(self, a: int) -> int: ...

            with pytest.raises(TypeError, match="async def"):
                s.proxy(Plain, prefix="com.p.")
            with pytest.raises(TypeError, match="no methods to proxy"):
                s.proxy(Plain)
            with pytest.raises(ValueError, match="not a valid URI"):
                s.proxy(Api, prefix="com..")

    run(main())


def test_proxy_and_register_object_are_typed_for_mypy(tmp_path: Path) -> None:
    """mypy sees the proxied class's signatures: a good snippet checks clean, a bad one fails
    on exactly the lines that misuse it (both APIs)."""
    snippet = tmp_path / "typed_proxy.py"
    snippet.write_text(
        textwrap.dedent(
            """
            from wampcore.adapters import asyncio as aio, threads
            from wampcore.adapters.asyncio import procedure

            class Calc:
                @procedure("com.calc.add")
                async def add(self, a: int, b: int) -> int: ...

            class BlockingCalc:
                @procedure("com.calc.add")
                def add(self, a: int, b: int) -> int: ...

            async def use(s: aio.Session, t: threads.Session) -> None:
                total: int = await s.proxy(Calc).add(1, 2)
                same: int = t.proxy(BlockingCalc, prefix="com.calc.").add(1, 2)
                handles = await s.register_object(Calc())
                ids = [h.id for h in handles] + [h.id for h in t.register_object(Calc())]
                async for ev in s.events("com.t"):
                    print(ev.args, ev.kwargs, total, same, ids)
                for tev in t.events("com.t"):
                    print(tev.topic)
                bad: str = await s.proxy(Calc).add(1, 2)  # line 21: int is not str
                await s.proxy(Calc).add("x", 2)  # line 22: str is not int
                t.proxy(BlockingCalc).add(1)  # line 23: missing argument
            """
        ).lstrip()
    )
    # wampcore.adapters lives in adapters/ (a package-dir mapping mypy cannot follow): give mypy
    # the installed layout, as symlinks.
    layout = tmp_path / "layout" / "wampcore"
    layout.mkdir(parents=True)
    for entry in (ROOT / "wampcore").iterdir():
        if entry.name != "adapters" and not entry.name.startswith("__pycache__"):
            (layout / entry.name).symlink_to(entry)
    (layout / "adapters").symlink_to(ROOT / "adapters")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--disable-error-code=empty-body",  # the caller's classes declare, with ... bodies
            "--no-incremental",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--follow-imports=silent",
            str(snippet),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
        env={**os.environ, "MYPYPATH": str(layout.parent)},
        stdin=subprocess.DEVNULL,
    )
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert sorted({int(line.split(":")[1]) for line in errors}) == [21, 22, 23], result.stdout


def test_events_iterator_and_unsubscribe_on_close_spec_4_27(router: Router) -> None:
    """``async with`` / ``async for`` / ``await``: subscribed while open, unsubscribed after."""

    async def main() -> None:
        async with (
            connect(router.urls["ws"], "realm1") as s,
            connect(router.urls["rs"], "realm1") as pub,
        ):
            async with s.events("com.ev.a") as events:
                assert await _subscribers(pub, "com.ev.a") == [s.session_id]
                await pub.publish("com.ev.a", 1, 2, k="v", acknowledge=True)
                ev = await events.get(10)
                assert isinstance(ev, Event)
                assert (ev.args, ev.kwargs, ev.topic) == ([1, 2], {"k": "v"}, "com.ev.a")
                assert ev.details.publication_id == ev.publication_id
            assert events.closed
            assert await _subscribers(pub, "com.ev.a") == []
            assert await events.get(1) is None

            # async for with break, then aclose.
            stream = s.events("com.ev.b", match="prefix")
            got: list[Any] = []

            async def publish_when_subscribed() -> None:
                while not await _subscribers(pub, "com.ev.b", "prefix"):
                    await asyncio.sleep(0.02)
                for i in range(5):
                    await pub.publish(f"com.ev.b.{i}", i, acknowledge=True)

            task = asyncio.create_task(publish_when_subscribed())
            async for ev in stream:
                got.append((ev.topic, ev.args[0]))
                if len(got) == 3:
                    break
            await task
            await stream.aclose()
            assert got == [("com.ev.b.0", 0), ("com.ev.b.1", 1), ("com.ev.b.2", 2)]
            assert await pub.call("wamp.subscription.list") == {
                "exact": [],
                "prefix": [],
                "wildcard": [],
            }
            # No more events reach a closed stream.
            await pub.publish("com.ev.b.9", 9, acknowledge=True)
            assert await stream.get(0.2) is None

            # await form: subscribed once awaited; closing twice is fine.
            stream = await s.events("com.ev.c")
            assert await _subscribers(pub, "com.ev.c") == [s.session_id]
            await stream.aclose()
            await stream.aclose()
            assert await _subscribers(pub, "com.ev.c") == []
            with pytest.raises(TimeoutError):
                async with s.events("com.ev.d") as quiet:
                    await quiet.get(0.05)

    run(main())


@pytest.mark.parametrize("overflow", ["drop_oldest", "drop_newest", "raise"])
def test_events_buffer_is_bounded_with_a_policy(router: Router, overflow: Any) -> None:
    async def main() -> None:
        async with connect(router.urls["ws"], "realm1") as s:
            seen = asyncio.Event()

            def last(n: int) -> None:  # same subscription: sees each event as the stream does
                if n == 9:
                    seen.set()

            async with s.events("com.ev.flood", maxsize=3, overflow=overflow) as stream:
                await s.subscribe("com.ev.flood", last)
                for i in range(10):
                    await s.publish("com.ev.flood", i, exclude_me=False)
                await asyncio.wait_for(seen.wait(), 10)
                if overflow == "raise":
                    got = []
                    with pytest.raises(EventOverflow):
                        async for ev in stream:
                            got.append(ev.args[0])
                    assert got == [0, 1, 2]  # what was buffered is read first
                    assert stream.closed
                    assert await _subscribers(s, "com.ev.flood") == [s.session_id]  # `last`
                    return
                got = []
                for _ in range(3):
                    ev = await stream.get(1)
                    assert ev is not None
                    got.append(ev.args[0])
                assert got == ([7, 8, 9] if overflow == "drop_oldest" else [0, 1, 2])
                assert stream.dropped == 7
                with pytest.raises(TimeoutError):
                    await stream.get(0.05)

    run(main())


def test_events_options_are_checked() -> None:
    async def main() -> None:
        server = await serve(CoreRouter(), ["ws://127.0.0.1:0/ws"])
        try:
            async with server.local_session("realm1") as s:
                with pytest.raises(TypeError, match="unknown option"):
                    s.events("com.t", invoke="single")
                with pytest.raises(ValueError, match="maxsize"):
                    s.events("com.t", maxsize=0)
                with pytest.raises(ValueError, match="overflow"):
                    s.events("com.t", overflow="block")  # type: ignore[arg-type]
        finally:
            await server.close()

    run(main())


def test_events_end_with_the_session(router: Router) -> None:
    """Left: the iteration ends; killed (lost for good): it raises ConnectionLost."""

    async def main() -> None:
        async with connect(router.urls["ws"], "realm1") as admin:
            s = await connect(router.urls["ws"], "realm1")
            stream = await s.events("com.ev.end")
            await s.leave()
            assert [ev async for ev in stream] == []

            s = await connect(router.urls["ws"], "realm1")
            stream = await s.events("com.ev.end")
            await admin.publish("com.ev.end", "before", acknowledge=True)
            await admin.call("wamp.session.kill", s.session_id)
            got = []
            with pytest.raises(ConnectionLost):
                async for ev in stream:
                    got.append(ev.args[0])
            assert got == ["before"]
            await s.leave()

    run(main())


def test_events_of_a_revoked_subscription_end_spec_4_27(router: Router) -> None:
    async def main() -> None:
        async with (
            connect(router.urls["ws"], "realm1") as s,
            connect(router.urls["ws"], "realm1") as admin,
        ):
            stream = await s.events("com.ev.revoked")
            assert stream.subscription is not None
            await admin.call(
                "wamp.subscription.remove_subscriber", stream.subscription.id, s.session_id
            )
            assert await asyncio.wait_for(stream.get(), 10) is None

    run(main())


def test_object_api_on_an_embedded_session() -> None:
    """RouterServer.local_session: register_object, proxy and events, no socket."""

    async def main() -> None:
        server = await serve(CoreRouter(), ["ws://127.0.0.1:0/ws"])
        try:
            calc = Calculator()
            async with (
                server.local_session("realm1") as embedded,
                connect(server.urls[0], "realm1") as client,
            ):
                handles = await embedded.register_object(calc)
                api = client.proxy(CalculatorApi)
                assert await api.add(20, 22) == 42
                local_api = embedded.proxy(CalculatorApi)
                assert await local_api.echo(1, k=2) == CallResult([1], {"k": 2})
                async with embedded.events("com.calc.news") as events:
                    await client.publish("com.calc.news", "from the network", acknowledge=True)
                    ev = await events.get(10)
                    assert ev is not None and ev.args == ["from the network"]
                assert await asyncio.wait_for(calc.news.get(), 10) == "from the network"
                assert await _subscribers(client, "com.calc.news") == [embedded.session_id]
                for handle in handles:
                    if isinstance(handle, Registration):
                        await handle.unregister()
                    else:
                        await handle.unsubscribe()
                assert await _lookup(client, "com.calc.add") is None
                assert await _subscribers(client, "com.calc.news") == []
        finally:
            await server.close()

    run(main())


def test_object_api_example_runs(router: Router) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "object_api.py"), router.urls["ws"]],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "add: 5",
        "news: wampcore ships",
        "uploaded: 11 bytes",
    ]
