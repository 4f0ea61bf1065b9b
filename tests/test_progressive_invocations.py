"""Progressive call invocations in both client APIs (wamp-spec.md §4.3, issue 12).

A caller streams its arguments with ``call(..., progress_args=parts)``; a callee registered with
``receive_progress=True`` reads them as an (async) iterator. Caller and callee are wampcore
sessions talking through the real ``wampcore router`` command (subprocess, ephemeral ports).
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from adapterkit import Router
from clientkit import joined
from wampcore.adapters import asyncio_client, threads
from wampcore.adapters.asyncio import CallResult, connect, procedure

from wampcore.errors import ApplicationError, LocalProtocolError
from wampcore.messages import Invocation, Registered

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def router() -> Iterator[Router]:
    with Router() as r:  # its __exit__ reaps it and closes its pipes
        yield r


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 60))


async def paced(items: list[Any], delay: float = 0.005) -> AsyncIterator[Any]:
    for item in items:
        await asyncio.sleep(delay)
        yield item


# --- asyncio ----------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["ws", "rs"])
def test_asyncio_streams_parts_to_a_receive_progress_callee_spec_4_3(
    router: Router, scheme: str
) -> None:
    """Each part is one CALL; the callee reads them in order, then answers once."""
    url = router.urls[scheme]

    async def main() -> None:
        seen: list[Any] = []
        chunks: list[tuple[bool, bool]] = []

        async def collect(parts: AsyncIterator[Any], details: Any) -> Any:
            chunks.append((details.progress, details.continuation))
            async for part in parts:
                seen.append(part)
            return len(seen)

        async with connect(url, "realm1") as callee, connect(url, "realm1") as caller:
            await callee.register("com.example.collect", collect, receive_progress=True)
            parts = [1, "two", CallResult([3, 4], {"k": 5}), None, {"six": 6}]
            assert await caller.call("com.example.collect", progress_args=paced(parts)) == 5
            assert seen == parts
            # The handler sees the first INVOCATION as details: a progressive one.
            assert chunks == [(True, False)]

    run(main())


def test_asyncio_empty_and_plain_calls_to_a_streaming_callee_spec_4_3(router: Router) -> None:
    """No parts: one plain CALL, no parts read; a plain call with arguments is one part."""

    async def main() -> None:
        async def collect(parts: AsyncIterator[Any]) -> list[Any]:
            return [part async for part in parts]

        async with connect(router.urls["ws"], "realm1") as s:
            await s.register("com.example.collect0", collect, receive_progress=True)
            assert await s.call("com.example.collect0", progress_args=[]) == []
            assert await s.call("com.example.collect0", progress_args=paced([])) == []
            assert await s.call("com.example.collect0", 7) == [7]
            assert await s.call("com.example.collect0") == []
            # A plain (sync) iterable is a source of parts too.
            assert await s.call("com.example.collect0", progress_args=iter([1, 2])) == [1, 2]

    run(main())


def test_asyncio_two_way_streaming_spec_4_2_and_4_3(router: Router) -> None:
    """``call_progressive`` with ``progress_args``: results stream back while parts go out."""

    async def main() -> None:
        async def doubler(parts: AsyncIterator[int]) -> AsyncIterator[int]:
            async for part in parts:
                yield part * 2

        async with connect(router.urls["rs"], "realm1") as s:
            await s.register("com.example.doubler", doubler, receive_progress=True)
            gate: asyncio.Queue[int] = asyncio.Queue()

            async def parts() -> AsyncIterator[int]:
                for i in range(4):
                    yield i
                    await gate.get()  # the next part only once its result came back

            got = []
            async for value in s.call_progressive("com.example.doubler", progress_args=parts()):
                got.append(value)
                gate.put_nowait(0)
            # Results interleave with parts (each came before the next part was sent); every
            # yield was a progressive result, the final one is empty.
            assert got == [0, 2, 4, 6]

    run(main())


def test_asyncio_failing_source_cancels_the_call_spec_4_3_and_4_5(router: Router) -> None:
    """The source's exception is what ``call`` raises; the callee is interrupted."""

    async def main() -> None:
        interrupted = asyncio.Event()

        async def slow(parts: AsyncIterator[Any]) -> None:
            try:
                async for _ in parts:
                    pass
            except asyncio.CancelledError:
                interrupted.set()
                raise

        async def broken() -> AsyncIterator[int]:
            yield 1
            await asyncio.sleep(0.1)
            raise ValueError("the source broke")

        async with connect(router.urls["ws"], "realm1") as callee:
            await callee.register("com.example.slow", slow, receive_progress=True)
            async with connect(router.urls["ws"], "realm1") as caller:
                with pytest.raises(ValueError, match="the source broke"):
                    await caller.call("com.example.slow", progress_args=broken())
                await asyncio.wait_for(interrupted.wait(), 10)
                # The session is fine afterwards.
                assert await caller.call("wamp.session.count") == 2

    run(main())


def test_asyncio_callee_answering_early_ends_the_stream_spec_4_3(router: Router) -> None:
    """A callee may answer before the last part: the caller gets the result at once, its
    source is closed, and late chunks in flight do not start a new invocation."""

    async def main() -> None:
        calls = 0

        async def first_two(parts: AsyncIterator[int]) -> list[int]:
            nonlocal calls
            calls += 1
            got = []
            async for part in parts:
                got.append(part)
                if len(got) == 2:
                    break
            return got

        closed = asyncio.Event()

        async def endless() -> AsyncIterator[int]:
            try:
                i = 0
                while True:
                    yield i
                    i += 1
                    await asyncio.sleep(0)  # parts in flight when the answer comes
            finally:
                closed.set()

        async with connect(router.urls["ws"], "realm1") as callee:
            await callee.register("com.example.first_two", first_two, receive_progress=True)
            async with connect(router.urls["rs"], "realm1") as caller:
                assert await caller.call("com.example.first_two", progress_args=endless()) == [0, 1]
                await asyncio.wait_for(closed.wait(), 10)
                await asyncio.sleep(0.2)  # let any late chunk arrive
                assert calls == 1
                assert await caller.call("com.example.first_two", progress_args=[5, 6, 7]) == [5, 6]
                assert calls == 2

    run(main())


def test_asyncio_streaming_call_to_a_plain_callee_is_refused_spec_4_3(router: Router) -> None:
    """A handler not registered with receive_progress would see only the first part: the
    callee refuses the stream instead (as a callee lacking the feature would be refused)."""

    async def main() -> None:
        async with connect(router.urls["ws"], "realm1") as s:
            await s.register("com.example.plain", lambda *a: len(a))
            with pytest.raises(ApplicationError) as info:
                await s.call("com.example.plain", progress_args=[1, 2, 3])
            assert info.value.error == "wamp.error.feature_not_supported"
            assert await s.call("com.example.plain", 1, 2) == 2

    run(main())


def test_asyncio_bad_progress_args_are_refused_before_sending(router: Router) -> None:
    async def main() -> None:
        async with connect(router.urls["ws"], "realm1") as s:
            with pytest.raises(TypeError, match="no positional or keyword"):
                await s.call("com.example.x", 1, progress_args=[2])
            for bad in ("abc", b"abc", {"a": 1}, 42):
                with pytest.raises(TypeError, match="progress_args"):
                    await s.call("com.example.x", progress_args=bad)
            with pytest.raises(TypeError):
                await s.register("com.example.x", print, receive_progress="yes")  # type: ignore[arg-type]
            # A part that cannot be serialized fails the call with a clear error.
            await s.register("com.example.sink", _drain, receive_progress=True)
            with pytest.raises(LocalProtocolError, match="cannot serialize"):
                await s.call("com.example.sink", progress_args=[1, object()])
            assert await s.call("com.example.sink", progress_args=[1]) == 1

    run(main())


async def _drain(parts: AsyncIterator[Any]) -> int:
    return len([p async for p in parts])


def test_asyncio_parts_buffer_is_bounded_spec_4_3(
    router: Router, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A handler that does not read its parts cannot make the callee buffer without bound."""
    monkeypatch.setattr(asyncio_client, "PARTS_BUFFER", 3)

    async def main() -> None:
        async def lazy(parts: AsyncIterator[Any]) -> str:
            await asyncio.sleep(30)
            return "never"

        async with connect(router.urls["ws"], "realm1") as s:
            await s.register("com.example.lazy", lazy, receive_progress=True)
            with pytest.raises(ApplicationError) as info:
                await s.call("com.example.lazy", progress_args=list(range(10)))
            assert info.value.error == "wampcore.error.too_many_parts"

    run(main())


def test_asyncio_proxy_of_a_receive_progress_procedure_streams_spec_4_3(router: Router) -> None:
    class Uploads:
        @procedure("com.example.upload", receive_progress=True)
        async def upload(self, parts: AsyncIterator[bytes]) -> int:
            return sum([len(p) async for p in parts])

    async def main() -> None:
        async with connect(router.urls["ws"], "realm1") as s:
            await s.register_object(Uploads())
            remote = s.proxy(Uploads)
            assert await remote.upload(paced([b"ab", b"cde", b""])) == 5

    run(main())


# --- threads ----------------------------------------------------------------------------------


def test_threads_streams_parts_to_a_plain_iterator_callee_spec_4_3(router: Router) -> None:
    handler_threads: set[str] = set()

    def collect(parts: Iterator[Any]) -> list[Any]:
        handler_threads.add(threading.current_thread().name)
        return [p.kwargs if isinstance(p, CallResult) else p for p in parts]

    def source() -> Iterator[Any]:
        yield from range(5)
        yield CallResult([], {"last": True})

    with threads.connect(router.urls["ws"], "realm1") as callee:
        callee.register("com.example.tcollect", collect, receive_progress=True)
        with threads.connect(router.urls["rs"], "realm1") as caller:
            got = caller.call("com.example.tcollect", progress_args=source())
            assert got == [0, 1, 2, 3, 4, {"last": True}]
            assert caller.call("com.example.tcollect", progress_args=[]) == []
    assert handler_threads and "wampcore-client" not in handler_threads


def test_threads_two_way_streaming_with_generators_spec_4_3(router: Router) -> None:
    def running_total(parts: Iterator[int]) -> Iterator[int]:
        total = 0
        for part in parts:
            total += part
            yield total

    with threads.connect(router.urls["rs"], "realm1") as s:
        s.register("com.example.total", running_total, receive_progress=True)
        results = list(s.call_progressive("com.example.total", progress_args=iter([1, 2, 3])))
        assert results == [1, 3, 6]


def test_threads_blocking_source_is_read_off_the_loop_spec_4_3(router: Router) -> None:
    """A source that blocks between parts (here: on a queue fed by another thread)."""
    feed: queue.Queue[int | None] = queue.Queue()

    def source() -> Iterator[int]:
        while (item := feed.get(timeout=10)) is not None:
            yield item

    def feeder() -> None:
        for i in range(3):
            feed.put(i)
        feed.put(None)

    with threads.connect(router.urls["ws"], "realm1") as s:
        s.register("com.example.tsum", lambda parts: sum(parts), receive_progress=True)
        t = threading.Timer(0.2, feeder)
        t.start()
        try:
            # The session still serves other calls while the stream waits for its source.
            assert s.call("com.example.tsum", progress_args=source()) == 3
        finally:
            t.join()


def test_threads_failing_source_raises_its_error_spec_4_3(router: Router) -> None:
    def broken() -> Iterator[int]:
        yield 1
        raise KeyError("gone")

    with threads.connect(router.urls["ws"], "realm1") as s:
        s.register("com.example.tsink", lambda parts: len(list(parts)), receive_progress=True)
        with pytest.raises(KeyError, match="gone"):
            s.call("com.example.tsink", progress_args=broken())
        assert s.call("com.example.tsink", progress_args=[1, 2]) == 2


# --- the core: late chunks of an invocation answered early --------------------------------------


def test_late_chunks_after_an_early_answer_are_dropped_with_lenient_ids_spec_4_3() -> None:
    """wamp-spec.md §4.3: the callee discards INVOCATIONs for invocations it already finished.
    With lenient request ids (the adapters' default, for Crossbar.io) the state table cannot
    tell such a chunk from a new INVOCATION; the client peer remembers the early answers."""
    s = joined(strict_request_ids=False)
    rid = s.peer.register("com.p")
    s.sent()
    s.send(Registered(request_id=rid, registration_id=9))
    s.events()
    s.send(Invocation(request_id=5, registration_id=9, details={"progress": True}, args=[1]))
    assert len(s.events()) == 1
    s.peer.yield_result(5, ["early"])
    s.sent()
    s.send(
        Invocation(request_id=5, registration_id=9, details={"progress": True}, args=[2]),
        Invocation(request_id=5, registration_id=9, args=[3]),
    )
    assert s.events() == []
    # Once the final chunk came, the id is forgotten: a new INVOCATION with it is new.
    s.send(Invocation(request_id=5, registration_id=9, args=["new"]))
    (ev,) = s.events()
    assert ev.args == ["new"] and not ev.continuation  # type: ignore[union-attr]
