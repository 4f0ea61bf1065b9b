"""The object API of the threads client and its blocking handles (issue 12): ``procedure`` /
``topic``, ``register_object``, ``proxy``, ``events`` as a plain iterator; ``unsubscribe()`` and
``unregister()`` that really block and undo (they returned an un-awaited coroutine before); no
``ResourceWarning`` on leaving. Through the real ``wampcore router`` command and embedded
sessions; the router's side is checked through its meta API (wamp-spec.md §4.26, §4.27).
"""

from __future__ import annotations

import queue
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from adapterkit import Router
from wampcore.adapters.threads import (
    CallResult,
    ConnectionLost,
    Event,
    Registration,
    Session,
    Subscription,
    ThreadedRouterServer,
    connect,
    procedure,
    topic,
)

from wampcore.errors import ApplicationError
from wampcore.router import Router as CoreRouter

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def router() -> Iterator[Router]:
    with Router() as r:  # its __exit__ reaps it and closes its pipes
        yield r


class Greeter:
    def __init__(self) -> None:
        self.heard: queue.Queue[Any] = queue.Queue()
        self.threads: set[str] = set()

    @procedure("com.greet.hello")
    def hello(self, name: str, punctuation: str = "!") -> str:
        self.threads.add(threading.current_thread().name)
        return f"hello, {name}{punctuation}"

    @procedure("com.greet.both")
    def both(self, *args: Any, **kwargs: Any) -> CallResult:
        return CallResult(list(args), kwargs)

    @topic("com.greet.heard")
    def on_heard(self, what: str) -> None:
        self.heard.put(what)


class GreeterApi:
    def hello(self, name: str, punctuation: str = "!") -> str: ...

    def both(self, *args: Any, **kwargs: Any) -> Any: ...


def _subscribers(s: Session, uri: str) -> list[int]:
    sub_id = s.call("wamp.subscription.lookup", uri)
    return [] if sub_id is None else list(s.call("wamp.subscription.list_subscribers", sub_id))


def test_subscription_unsubscribe_blocks_and_stops_events_spec_4_9(router: Router) -> None:
    """The fix: ``Subscription.unsubscribe()`` returns None, and no event comes after it."""
    got: queue.Queue[Any] = queue.Queue()
    with connect(router.urls["ws"], "realm1") as s, connect(router.urls["rs"], "realm1") as pub:
        sub = s.subscribe("com.fix.topic", got.put)
        assert isinstance(sub, Subscription) and sub.id is not None
        pub.publish("com.fix.topic", 1, acknowledge=True)
        assert got.get(timeout=10) == 1
        assert _subscribers(pub, "com.fix.topic") == [s.session_id]
        assert sub.unsubscribe() is None  # type: ignore[func-returns-value]
        assert _subscribers(pub, "com.fix.topic") == []
        pub.publish("com.fix.topic", 2, acknowledge=True)
        s.call("wamp.session.count")  # a round trip after the publication
        with pytest.raises(queue.Empty):
            got.get(timeout=0.2)
        sub.unsubscribe()  # again: nothing to do


def test_registration_unregister_blocks_and_unregisters_spec_4_11(router: Router) -> None:
    with connect(router.urls["ws"], "realm1") as s:
        reg = s.register("com.fix.proc", lambda: "here")
        assert isinstance(reg, Registration) and reg.procedure == "com.fix.proc"
        assert s.call("com.fix.proc") == "here"
        assert reg.unregister() is None  # type: ignore[func-returns-value]
        assert s.call("wamp.registration.lookup", "com.fix.proc") is None
        with pytest.raises(ApplicationError) as info:
            s.call("com.fix.proc")
        assert info.value.error == "wamp.error.no_such_procedure"
        # The session's own unsubscribe/unregister take the blocking handles too.
        again = s.register("com.fix.proc", lambda: "back")
        s.unregister(again)
        assert s.call("wamp.registration.lookup", "com.fix.proc") is None


LEAVE_SCRIPT = textwrap.dedent(
    """
    import gc, sys, time
    from wampcore.adapters.threads import connect

    url = sys.argv[1]
    for _ in range(3):
        s = connect(url, "realm1")
        sub = s.subscribe("com.leave.t", print)
        reg = s.register("com.leave.p", lambda: 1)
        assert s.call("com.leave.p") == 1
        sub.unsubscribe()
        reg.unregister()
        events = s.events("com.leave.e")
        s.leave()
        events.close()
        assert s._runner.loop.is_closed()
    with connect(url, "realm1") as s:
        pass
    # Leaving from an async handler, on the session's own loop: it cannot block there.
    s = connect(url, "realm1")
    async def bye():
        s.leave()
        return "bye"
    s.register("com.leave.bye", bye)
    with connect(url, "realm1") as other:
        assert other.call("com.leave.bye") == "bye"
    for _ in range(100):
        if s._runner.loop.is_closed():
            break
        time.sleep(0.05)
    assert s._runner.loop.is_closed()
    del s, other, sub, reg, events
    gc.collect()
    print("clean")
    """
)


def test_leaving_a_threads_session_leaves_no_resource_warning(router: Router) -> None:
    """With every warning an error (-W error, -X dev), leaving closes the session's loop."""
    result = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error", "-c", LEAVE_SCRIPT, router.urls["ws"]],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["clean"], result.stdout
    assert "Warning" not in result.stderr, result.stderr


def test_register_object_and_proxy_blocking(router: Router) -> None:
    greeter = Greeter()
    with connect(router.urls["ws"], "realm1") as s, connect(router.urls["rs"], "realm1") as c:
        handles = s.register_object(greeter)
        assert [type(h) for h in handles] == [Registration, Registration, Subscription]
        api = c.proxy(GreeterApi, prefix="com.greet.")
        assert api.hello("you") == "hello, you!"
        assert api.hello("you", punctuation="?") == "hello, you?"
        assert api.both(1, x=2) == CallResult([1], {"x": 2})
        with pytest.raises(TypeError):
            api.hello()  # type: ignore[call-arg]
        c.publish("com.greet.heard", "a rumour", acknowledge=True)
        assert greeter.heard.get(timeout=10) == "a rumour"
        assert greeter.threads and "wampcore-client" not in greeter.threads
        for handle in handles:
            if isinstance(handle, Registration):
                handle.unregister()
            else:
                handle.unsubscribe()
        assert c.call("wamp.registration.lookup", "com.greet.hello") is None
        assert _subscribers(c, "com.greet.heard") == []

        class Async:
            async def hello(self) -> str: ...

        with pytest.raises(TypeError, match="plain def"):
            c.proxy(Async, prefix="com.greet.")


def test_register_object_undoes_everything_when_one_fails_spec_4_8(router: Router) -> None:
    with connect(router.urls["ws"], "realm1") as s, connect(router.urls["ws"], "realm1") as h:
        h.register("com.greet.both", lambda: "taken")
        with pytest.raises(ApplicationError, match="procedure_already_exists"):
            s.register_object(Greeter())
        assert s.call("wamp.registration.lookup", "com.greet.hello") is None
        assert _subscribers(s, "com.greet.heard") == []


def test_events_plain_iterator_and_unsubscribe_on_close_spec_4_27(router: Router) -> None:
    with connect(router.urls["ws"], "realm1") as s, connect(router.urls["rs"], "realm1") as pub:
        with s.events("com.tev.a") as events:
            # Subscribed as soon as events() returns.
            assert _subscribers(pub, "com.tev.a") == [s.session_id]
            for i in range(3):
                pub.publish("com.tev.a", i, n=i, acknowledge=True)
            got = []
            for ev in events:
                assert isinstance(ev, Event)
                got.append((ev.args, ev.kwargs))
                if len(got) == 3:
                    break
            assert got == [([i], {"n": i}) for i in range(3)]
            with pytest.raises(TimeoutError):
                events.get(timeout=0.05)
        assert events.closed
        assert _subscribers(pub, "com.tev.a") == []
        assert list(events) == []

        # close() from another thread ends a next() that is waiting.
        stream = s.events("com.tev.b")
        threading.Timer(0.2, stream.close).start()
        started = time.monotonic()
        assert list(stream) == []
        assert time.monotonic() - started < 10
        assert _subscribers(pub, "com.tev.b") == []

        # Bounded: drop_oldest keeps the newest maxsize events.
        with s.events("com.tev.c", maxsize=2) as small:
            for i in range(5):
                pub.publish("com.tev.c", i, acknowledge=True)
            s.call("wamp.session.count")
            deadline = time.monotonic() + 10
            while small.dropped < 3 and time.monotonic() < deadline:
                time.sleep(0.01)
            first, second = small.get(1), small.get(1)
            assert first is not None and second is not None
            assert (first.args, second.args, small.dropped) == ([3], [4], 3)


def test_events_end_when_the_session_is_killed(router: Router) -> None:
    with connect(router.urls["ws"], "realm1") as admin:
        s = connect(router.urls["ws"], "realm1")
        events = s.events("com.tev.kill")
        admin.call("wamp.session.kill", s.session_id)
        with pytest.raises(ConnectionLost):
            next(events)
        s.leave()
        assert list(events) == []  # the session is closed: the iteration is over


def test_object_api_on_a_threaded_embedded_session() -> None:
    """ThreadedRouterServer.local_session: the same object API, blocking, no socket."""
    greeter = Greeter()
    with ThreadedRouterServer(CoreRouter(), ["ws://127.0.0.1:0/ws"]) as server:
        with (
            server.local_session("realm1") as embedded,
            connect(server.urls[0], "realm1") as client,
        ):
            handles = embedded.register_object(greeter)
            assert client.proxy(GreeterApi, prefix="com.greet.").hello("net") == "hello, net!"
            assert embedded.proxy(GreeterApi, prefix="com.greet.").hello("me") == "hello, me!"
            with embedded.events("com.greet.heard") as events:
                client.publish("com.greet.heard", "psst", acknowledge=True)
                ev = events.get(10)
                assert ev is not None and ev.args == ["psst"]
            assert greeter.heard.get(timeout=10) == "psst"
            assert _subscribers(client, "com.greet.heard") == [embedded.session_id]
            for handle in handles:
                if isinstance(handle, Registration):
                    handle.unregister()
                else:
                    handle.unsubscribe()
            assert client.call("wamp.registration.lookup", "com.greet.hello") is None
            assert _subscribers(client, "com.greet.heard") == []
