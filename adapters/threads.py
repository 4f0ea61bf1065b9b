"""Threads adapter: a blocking client, and a threaded router server.

Client: :func:`connect` gives a :class:`Session` whose methods block and may be called from any
number of threads. It drives the asyncio client (same behaviour, same exceptions) on one private
event-loop thread; handlers run on a thread pool, never on that loop, so a slow handler
delays nobody else. Generator handlers yield progressive results. The handles it returns
(:class:`Subscription`, :class:`Registration`) and its :class:`EventIterator` block too; the
object API (``procedure``/``topic``, ``register_object``, ``proxy``, ``events``) and streaming
calls (``progress_args``, ``receive_progress``) are the asyncio ones made blocking
(docs/client-api.md). The loop thread closes its own loop when it stops, whoever stops it.

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
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
)
from typing import Any, TypeVar, cast

from . import asyncio_client as aio
from . import client_api as api
from .client_api import (
    CallResult,
    ConnectionFailed,
    ConnectionLost,
    ConnectionRefused,
    Event,
    EventOverflow,
    HandshakeFailed,
    Overflow,
    Proxy,
    ProxyMethod,
    Reconnect,
    RouterUnreachable,
    SessionAborted,
    TLSFailed,
    check_events_options,
    decorated_members,
    procedure,
    proxy_plan,
    topic,
)
from .threads_server import ThreadedRouterServer

__all__ = [
    "CallResult",
    "ConnectionFailed",
    "ConnectionLost",
    "ConnectionRefused",
    "Event",
    "EventIterator",
    "EventOverflow",
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
    "procedure",
    "topic",
]

_T = TypeVar("_T")


class _LoopThread:
    """The private event loop of one blocking session, on its own thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.pool = concurrent.futures.ThreadPoolExecutor(thread_name_prefix="wampcore-handler")
        self.loop.set_default_executor(self.pool)
        self.thread = threading.Thread(target=self._main, name="wampcore-client", daemon=True)
        self.stopped = False
        self.thread.start()

    def _main(self) -> None:
        try:
            self.loop.run_forever()
        finally:
            # Here, not in stop(): whoever stopped the loop (another thread, a handler on the
            # loop, a stop() that gave up waiting), the loop is wound down and closed.
            try:
                self.loop.run_until_complete(_wind_down())
            finally:
                self.loop.close()
                self.pool.shutdown(wait=False)

    @property
    def on_loop(self) -> bool:
        return threading.current_thread() is self.thread

    def run(self, aw: Awaitable[_T]) -> _T:
        if self.on_loop:
            if inspect.iscoroutine(aw):
                aw.close()
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
        """Stop the loop thread; it closes the loop (and so its self-pipe). Idempotent; from
        the loop thread itself it returns at once and the loop stops after this callback."""
        if self.stopped:
            return
        self.stopped = True
        with contextlib.suppress(RuntimeError):  # already closed
            self.loop.call_soon_threadsafe(self.loop.stop)
        if not self.on_loop:
            self.thread.join(timeout=10)


async def _wind_down() -> None:
    """On the loop, after it stopped: cancel what is still running (handler tasks, a
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


async def _next(iterator: AsyncIterator[Any]) -> tuple[bool, Any]:
    """One step of an async iterator as (more, item): StopAsyncIteration does not cross threads
    well as an exception."""
    try:
        return True, await anext(iterator)
    except StopAsyncIteration:
        return False, None


class _BlockingParts:
    """What a ``receive_progress`` handler gets in the threads API: the parts as a plain
    iterator; each ``next`` waits (on the handler's pool thread) for the next part."""

    def __init__(self, runner: _LoopThread, parts: AsyncIterator[Any]) -> None:
        self._runner = runner
        self._parts = parts

    def __iter__(self) -> _BlockingParts:
        return self

    def __next__(self) -> Any:
        more, item = self._runner.run(_next(self._parts))
        if not more:
            raise StopIteration
        return item


async def _pulled(items: Iterable[Any]) -> AsyncIterator[Any]:
    """A plain iterable of parts as an async iterator; each ``next`` runs on the pool, so a
    blocking source does not stall the loop."""
    loop = asyncio.get_running_loop()
    iterator = iter(items)
    done = object()
    try:
        while (item := await loop.run_in_executor(None, next, iterator, done)) is not done:
            yield item
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            with contextlib.suppress(Exception):  # e.g. still running on the pool
                close()


def _parts_arg(progress_args: Any) -> Any:
    """``progress_args`` for the asyncio layer: a plain iterable is read on the pool; anything
    else goes as it is (the asyncio layer refuses what is not a source of parts)."""
    if isinstance(progress_args, Iterable) and not isinstance(
        progress_args, str | bytes | bytearray | Mapping
    ):
        return _pulled(progress_args)
    return progress_args


def _in_pool(
    runner: _LoopThread, handler: Callable[..., Any], receive_progress: bool = False
) -> Callable[..., Any]:
    """Wrap a blocking handler so the asyncio layer runs it on the thread pool (a
    ``receive_progress`` one gets its parts as a plain iterator)."""
    if inspect.iscoroutinefunction(handler) or inspect.isasyncgenfunction(handler):
        return handler

    def arguments(args: tuple[Any, ...]) -> tuple[Any, ...]:
        if receive_progress and args:
            return (_BlockingParts(runner, args[0]), *args[1:])
        return args

    if inspect.isgeneratorfunction(handler):

        async def stream(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
            loop = asyncio.get_running_loop()
            items = iter(handler(*arguments(args), **kwargs))
            done = object()
            while (item := await loop.run_in_executor(None, next, items, done)) is not done:
                yield item

        wrapped: Callable[..., Any] = stream
    else:

        async def call(*args: Any, **kwargs: Any) -> Any:
            loop = asyncio.get_running_loop()
            bound = functools.partial(handler, *arguments(args), **kwargs)
            return await loop.run_in_executor(None, bound)

        wrapped = call
    wrapped.__signature__ = inspect.signature(handler)  # type: ignore[attr-defined]
    return wrapped


# --- blocking handles -------------------------------------------------------------------------


class Subscription:
    """A subscription of a blocking session; :meth:`unsubscribe` blocks until it is done.
    ``id`` changes when a reconnection restores it."""

    def __init__(self, session: Session, handle: api.Subscription, handler: Any) -> None:
        self.session = session
        #: The asyncio layer's handle this one drives.
        self.handle = handle
        #: The handler as given to ``subscribe`` (it runs on the handler pool).
        self.handler = handler

    @property
    def topic(self) -> str:
        return self.handle.topic

    @property
    def match(self) -> str | None:
        return self.handle.match

    @property
    def id(self) -> int | None:
        return self.handle.id

    @property
    def get_retained(self) -> bool | None:
        return self.handle.get_retained

    def unsubscribe(self) -> None:
        self.session.unsubscribe(self)

    def __repr__(self) -> str:
        return f"<Subscription {self.topic!r} id={self.id} match={self.match}>"


class Registration:
    """A registration of a blocking session; :meth:`unregister` blocks until it is done.
    ``id`` changes when a reconnection restores it."""

    def __init__(self, session: Session, handle: api.Registration, handler: Any) -> None:
        self.session = session
        #: The asyncio layer's handle this one drives.
        self.handle = handle
        #: The handler as given to ``register`` (it runs on the handler pool).
        self.handler = handler

    @property
    def procedure(self) -> str:
        return self.handle.procedure

    @property
    def match(self) -> str | None:
        return self.handle.match

    @property
    def invoke(self) -> str | None:
        return self.handle.invoke

    @property
    def receive_progress(self) -> bool:
        return self.handle.receive_progress

    @property
    def id(self) -> int | None:
        return self.handle.id

    def unregister(self) -> None:
        self.session.unregister(self)

    def __repr__(self) -> str:
        return f"<Registration {self.procedure!r} id={self.id} match={self.match}>"


class EventIterator:
    """``session.events(topic)`` in the threads API: a plain iterator of :class:`Event`,
    already subscribed when ``events`` returns. :meth:`close` (or leaving its ``with`` block)
    unsubscribes and ends the iteration; ``break`` alone does not, close it then. ``next``
    blocks until an event comes; :meth:`get` takes a timeout. Buffering and its ``overflow``
    policy, and how the iteration ends, as for the asyncio :class:`~.asyncio.EventStream`."""

    def __init__(self, runner: _LoopThread, stream: aio.EventStream) -> None:
        self._runner = runner
        self._stream = stream

    @property
    def topic(self) -> str:
        return self._stream.topic

    @property
    def dropped(self) -> int:
        """Events dropped because the buffer was full."""
        return self._stream.dropped

    @property
    def closed(self) -> bool:
        return self._stream.closed or self._runner.stopped

    def __iter__(self) -> EventIterator:
        return self

    def __next__(self) -> Event:
        if self.closed:
            raise StopIteration
        more, item = self._runner.run(_next(self._stream))
        if not more:
            raise StopIteration
        event: Event = item
        return event

    def get(self, timeout: float | None = None) -> Event | None:
        """The next event, or None once the iteration is over; TimeoutError if none comes
        within ``timeout`` seconds (no event is lost then)."""
        if self.closed:
            return None
        return self._runner.run(self._stream.get(timeout))

    def close(self) -> None:
        """Unsubscribe (idempotent; nothing to do once the session is closed)."""
        if not self.closed:
            with contextlib.suppress(ConnectionLost):
                self._runner.run(self._stream.aclose())

    def __enter__(self) -> EventIterator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


# --- the session ------------------------------------------------------------------------------


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
        progress_args: Iterable[Any] | AsyncIterable[Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Call ``procedure`` and wait for its result (see the asyncio Session: ``ppt`` are
        payload passthru options, and a result carrying some is a ``CallResult``).

        ``progress_args``: an iterable of parts to stream as the call's arguments (progressive
        call invocations; each part as the asyncio ``call`` sends it). It is read on the
        handler pool, so a generator that blocks between parts is fine."""
        return self._runner.run(
            self._session._call(procedure, args, kwargs, timeout, ppt, _parts_arg(progress_args))
        )

    def call_progressive(
        self,
        procedure: str,
        *args: Any,
        timeout: float | None = None,
        ppt: Mapping[str, Any] | None = None,
        progress_args: Iterable[Any] | AsyncIterable[Any] | None = None,
        **kwargs: Any,
    ) -> Iterator[Any]:
        """Iterate over the progressive results, then the final one (like the asyncio API);
        with ``progress_args`` the parts stream while the results come."""
        stream = self._session.call_progressive(
            procedure,
            *args,
            timeout=timeout,
            ppt=ppt,
            progress_args=_parts_arg(progress_args),
            **kwargs,
        )
        try:
            while True:
                more, item = self._runner.run(_next(stream))
                if not more:
                    return
                yield item
        finally:
            if not self._runner.stopped:  # else the loop's shutdown finalized the stream
                with contextlib.suppress(ConnectionLost):
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
        handle = self._runner.run(
            self._session.subscribe(
                topic, _in_pool(self._runner, handler), match=match, get_retained=get_retained
            )
        )
        return Subscription(self, handle, handler)

    def unsubscribe(self, subscription: Subscription | api.Subscription) -> None:
        """Remove this handler (the last one for a subscription sends UNSUBSCRIBE); no event
        reaches it once this returns."""
        handle = subscription.handle if isinstance(subscription, Subscription) else subscription
        self._runner.run(self._session.unsubscribe(handle))

    def register(
        self,
        procedure: str,
        handler: Callable[..., Any],
        *,
        match: str | None = None,
        invoke: str | None = None,
        receive_progress: bool = False,
    ) -> Registration:
        """Register ``handler``; it runs on the thread pool (a generator: progressive results).
        ``receive_progress=True``: it is called with the call's parts as a plain iterator (see
        the asyncio Session's ``register``)."""
        wrapped = _in_pool(self._runner, handler, receive_progress)
        handle = self._runner.run(
            self._session.register(
                procedure, wrapped, match=match, invoke=invoke, receive_progress=receive_progress
            )
        )
        return Registration(self, handle, handler)

    def unregister(self, registration: Registration | api.Registration) -> None:
        """Unregister; blocks until the router confirmed it."""
        handle = registration.handle if isinstance(registration, Registration) else registration
        self._runner.run(self._session.unregister(handle))

    # --- the object API -----------------------------------------------------------------------

    def register_object(self, obj: object) -> list[Registration | Subscription]:
        """Register every ``@procedure`` method of ``obj`` and subscribe every ``@topic`` one
        (they run on the handler pool); returns the blocking handles, in definition order. On
        a failure those already made are undone and the error is raised."""
        handles: list[Registration | Subscription] = []
        try:
            for mark, method in decorated_members(obj):
                if mark.kind == "procedure":
                    handles.append(self.register(mark.uri, method, **mark.options))
                else:
                    handles.append(self.subscribe(mark.uri, method, **mark.options))
        except BaseException:
            for handle in reversed(handles):
                with contextlib.suppress(Exception):
                    if isinstance(handle, Registration):
                        handle.unregister()
                    else:
                        handle.unsubscribe()
            raise
        return handles

    def proxy(
        self, cls: type[_T], *, prefix: str | None = None, timeout: float | None = None
    ) -> _T:
        """A blocking caller typed as ``cls``, whose methods are plain ``def``: the rules of the
        asyncio Session's ``proxy`` (docs/client-api.md), each call returning its result."""
        methods, skipped = proxy_plan(cls, prefix, coroutines=False)

        def invoke(method: ProxyMethod, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
            if method.streaming:
                (parts,) = args or tuple(kwargs.values())
                return self.call(method.uri, timeout=timeout, progress_args=parts)
            return self._runner.run(self._session._call(method.uri, args, kwargs, timeout))

        return cast(_T, Proxy(cls, methods, skipped, invoke))

    def events(
        self,
        topic: str,
        *,
        maxsize: int = 256,
        overflow: Overflow = "drop_oldest",
        **subscribe_options: Any,
    ) -> EventIterator:
        """Subscribe and return the events of ``topic`` as a plain iterator (an
        :class:`EventIterator`); closing it unsubscribes. Options as for the asyncio one."""
        check_events_options(topic, maxsize, overflow, subscribe_options)
        stream = aio.EventStream(self._session, topic, maxsize, overflow, subscribe_options)
        self._runner.run(stream.start())
        return EventIterator(self._runner, stream)

    # --- the end ------------------------------------------------------------------------------

    def leave(self, reason: str = "wamp.close.close_realm", message: str | None = None) -> None:
        """Say GOODBYE and close; the session's thread stops. From an async handler (on the
        session's own loop) it cannot wait: the session leaves right after that handler."""
        runner = self._runner
        if runner.stopped:
            return
        if runner.on_loop:
            task = runner.loop.create_task(self._session.leave(reason, message))
            task.add_done_callback(lambda _: runner.stop())
            return
        try:
            runner.run(self._session.leave(reason, message))
        finally:
            runner.stop()

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
