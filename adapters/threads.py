"""Threads adapter: a blocking client, and a threaded router server.

Client: :func:`connect` gives a :class:`Session` whose methods block and may be called from any
number of threads. It drives the asyncio client (same behaviour, same exceptions) on one private
event-loop thread; handlers run on a thread pool, never on that loop, so a slow handler
delays nobody else. Generator handlers yield progressive results.

Server: :class:`ThreadedRouterServer` — one routing thread owns the
:class:`~wampcore.router.Router`; one thread per connection only reads bytes, and one only
writes them. A writer takes new bytes from the router only when it has written the previous ones,
so the router's outbound budget sees a slow reader as it is.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import inspect
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from typing import Any, TypeVar

from . import asyncio_client as aio
from .client_api import (
    CallResult,
    ConnectionFailed,
    ConnectionLost,
    ConnectionRefused,
    HandshakeFailed,
    Reconnect,
    Registration,
    RouterUnreachable,
    SessionAborted,
    Subscription,
    TLSFailed,
)
from .threads_server import ThreadedRouterServer

__all__ = [
    "CallResult",
    "ConnectionFailed",
    "ConnectionLost",
    "ConnectionRefused",
    "HandshakeFailed",
    "LocalSession",
    "Reconnect",
    "Registration",
    "RouterUnreachable",
    "Session",
    "SessionAborted",
    "Subscription",
    "TLSFailed",
    "ThreadedRouterServer",
    "connect",
]

_T = TypeVar("_T")


class _LoopThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.pool = concurrent.futures.ThreadPoolExecutor(thread_name_prefix="wampcore-handler")
        self.loop.set_default_executor(self.pool)
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="wampcore-client", daemon=True
        )
        self.stopped = False
        self.thread.start()

    def run(self, aw: Awaitable[_T]) -> _T:
        if threading.current_thread() is self.thread:
            raise RuntimeError("blocking wampcore call from inside the client's event loop")
        if self.stopped:
            if inspect.iscoroutine(aw):
                aw.close()
            raise ConnectionLost("the session is closed")
        future = asyncio.run_coroutine_threadsafe(_awaited(aw), self.loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()  # e.g. KeyboardInterrupt: the task's cancellation sends CANCEL
            raise

    def stop(self) -> None:
        """Stop the loop thread and close the loop (and so its self-pipe); idempotent."""
        if self.stopped:
            return
        self.stopped = True
        if threading.current_thread() is not self.thread and self.thread.is_alive():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(_wind_down(), self.loop).result(timeout=5)
            with contextlib.suppress(RuntimeError):
                self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=5)
        if not self.thread.is_alive():
            self.loop.close()  # only once stopped: closing a running loop raises
        self.pool.shutdown(wait=False)


async def _wind_down() -> None:
    """On the loop, before it stops: cancel what is still running (handler tasks, a
    reconnector), let aborted transports' ``connection_lost`` close their sockets, and finalize
    async generators."""
    me = asyncio.current_task()
    tasks = [task for task in asyncio.all_tasks() if task is not me]
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=2)
    for _ in range(3):
        await asyncio.sleep(0)  # transport.abort() closes its socket in a later callback
    await asyncio.get_running_loop().shutdown_asyncgens()


async def _awaited(aw: Awaitable[_T]) -> _T:
    return await aw


def _in_pool(handler: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a blocking handler so the asyncio layer runs it on the thread pool."""
    if inspect.iscoroutinefunction(handler) or inspect.isasyncgenfunction(handler):
        return handler
    if inspect.isgeneratorfunction(handler):

        async def stream(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
            loop = asyncio.get_running_loop()
            items = iter(handler(*args, **kwargs))
            done = object()
            while (item := await loop.run_in_executor(None, next, items, done)) is not done:
                yield item

        wrapped: Callable[..., Any] = stream
    else:

        async def call(*args: Any, **kwargs: Any) -> Any:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(None, functools.partial(handler, *args, **kwargs))

        wrapped = call
    wrapped.__signature__ = inspect.signature(handler)  # type: ignore[attr-defined]
    return wrapped


class Session:
    """A blocking WAMP session; the same verbs as the asyncio :class:`~.asyncio.Session`."""

    def __init__(self, url: str, realm: str, **options: Any) -> None:
        self._runner = _LoopThread()
        try:
            self._session: aio.Session = self._runner.run(self._open(url, realm, options))
        except BaseException:
            self._runner.stop()
            raise

    @staticmethod
    async def _open(url: str, realm: str, options: dict[str, Any]) -> aio.Session:
        return await aio.connect(url, realm, **options)

    @property
    def session_id(self) -> int | None:
        return self._session.session_id

    @property
    def details(self) -> Any:
        """The WELCOME as a :class:`wampcore.client.Joined` event (authid, authrole, authmethod,
        authprovider, authextra, the router's roles), as in the asyncio Session."""
        return self._session.details

    def call(
        self,
        procedure: str,
        *args: Any,
        timeout: float | None = None,
        ppt: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Call ``procedure`` and wait for its result (see the asyncio Session: ``ppt`` are
        payload passthru options, and a result carrying some is a ``CallResult``)."""
        return self._runner.run(
            self._session.call(procedure, *args, timeout=timeout, ppt=ppt, **kwargs)
        )

    def call_progressive(
        self,
        procedure: str,
        *args: Any,
        timeout: float | None = None,
        ppt: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Iterator[Any]:
        """Iterate over the progressive results, then the final one (like the asyncio API)."""
        stream = self._session.call_progressive(
            procedure, *args, timeout=timeout, ppt=ppt, **kwargs
        )
        try:
            while True:
                try:
                    yield self._runner.run(stream.__anext__())
                except StopAsyncIteration:
                    return
        finally:
            self._runner.run(stream.aclose())  # type: ignore[attr-defined]

    def publish(
        self,
        topic: str,
        *args: Any,
        acknowledge: bool = False,
        exclude_me: bool | None = None,
        retain: bool | None = None,
        ppt: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> int | None:
        """Publish; with ``acknowledge`` wait for PUBLISHED and return its id (see the asyncio
        Session: ``retain`` for event retention, ``ppt`` payload passthru options)."""
        return self._runner.run(
            self._session.publish(
                topic,
                *args,
                acknowledge=acknowledge,
                exclude_me=exclude_me,
                retain=retain,
                ppt=ppt,
                options=options,
                **kwargs,
            )
        )

    def subscribe(
        self,
        topic: str,
        handler: Callable[..., Any],
        *,
        match: str | None = None,
        get_retained: bool | None = None,
    ) -> Subscription:
        """Subscribe ``handler``; it runs on the handler thread pool. ``get_retained=True``
        delivers the retained event, if any, to this handler at once (``details.retained``);
        ``details`` and raw payloads as for the asyncio Session."""
        return self._runner.run(
            self._session.subscribe(
                topic, _in_pool(handler), match=match, get_retained=get_retained
            )
        )

    def unsubscribe(self, subscription: Subscription) -> None:
        self._runner.run(self._session.unsubscribe(subscription))

    def register(
        self,
        procedure: str,
        handler: Callable[..., Any],
        *,
        match: str | None = None,
        invoke: str | None = None,
    ) -> Registration:
        """Register ``handler``; it runs on the thread pool (a generator: progressive results)."""
        wrapped = _in_pool(handler)
        return self._runner.run(
            self._session.register(procedure, wrapped, match=match, invoke=invoke)
        )

    def unregister(self, registration: Registration) -> None:
        self._runner.run(self._session.unregister(registration))

    def leave(self, reason: str = "wamp.close.close_realm", message: str | None = None) -> None:
        """Say GOODBYE and close; the session's thread stops."""
        try:
            self._runner.run(self._session.leave(reason, message))
        finally:
            self._runner.stop()

    close = leave

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.leave()


class LocalSession(Session):
    """A blocking embedded session; open it with ``ThreadedRouterServer.local_session``."""

    def __init__(self, host: Any, realm: str, **identity: Any) -> None:
        self._runner = _LoopThread()
        try:
            self._session = self._runner.run(self._open_local(host, realm, identity))
        except BaseException:
            self._runner.stop()
            raise

    @staticmethod
    async def _open_local(host: Any, realm: str, identity: dict[str, Any]) -> aio.Session:
        from .local import LocalSession as AsyncLocalSession

        session = AsyncLocalSession(host, realm, **identity)
        await session._open()
        return session


def connect(url: str, realm: str, **options: Any) -> Session:
    """Connect and join; blocking. Options as for :func:`wampcore.adapters.asyncio.connect`,
    authentication included (``authid``, ``authmethods``, ``ticket``, ``secret``,
    ``private_key``, ``password``, ``authrole``, ``authextra``, ``credentials``); a refused join
    raises :class:`SessionAborted` with the router's ``reason``."""
    return Session(url, realm, **options)
