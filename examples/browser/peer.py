"""The Python side of the browser demo: a wampcore asyncio session that the page in this folder
talks to (app.js), and the record of what it saw from the browser.

It registers ``<prefix>.python.add``, ``.fail``, ``.count`` (progressive) and ``.slow`` (for the
page to cancel), subscribes to ``<prefix>.from_browser``, and when the page publishes
``<prefix>.browser_ready`` it calls the page's ``<prefix>.browser.greet``, publishes three
events to ``<prefix>.to_browser`` and a summary of what it saw to ``<prefix>.python_done``.

Run it next to ``wampcore router --config examples/browser/router.toml`` (see README.md here):

    .venv/bin/python examples/browser/peer.py ws://127.0.0.1:8080/ws
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from wampcore.adapters.asyncio import Session, connect

from wampcore.errors import ApplicationError

EVENTS_TO_BROWSER = 3  # app.js waits for exactly this many


@dataclass
class DemoPeer:
    """What the Python peer does for one page (one URI prefix) and what it observed."""

    prefix: str = "com.example.demo"
    #: Events the page published to ``<prefix>.from_browser``: (args, kwargs).
    from_browser: list[tuple[list[Any], dict[str, Any]]] = field(default_factory=list)
    #: What the page's ``<prefix>.browser.greet`` answered.
    greeted: list[Any] = field(default_factory=list)
    #: Set when the page's CANCEL reached the slow procedure (its task was cancelled).
    slow_cancelled: asyncio.Event = field(default_factory=asyncio.Event)
    #: Set once the page has been called and published to, and the summary sent.
    done: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def attach(self, session: Session) -> None:
        """Register and subscribe everything the page uses on ``session``."""
        p = self.prefix

        def add(a: int, b: int) -> int:
            return a + b

        def fail(x: int) -> None:
            raise ApplicationError(f"{p}.failed", x, kwargs={"why": "python says no"})

        async def count(n: int) -> AsyncIterator[int]:
            for i in range(n):
                yield i

        async def slow() -> str:
            try:
                # The page cancels as soon as it sees this event, which may be before our
                # PUBLISHED arrives: the cancellation can land in either await.
                await session.publish(f"{p}.slow.started", acknowledge=True)
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                self.slow_cancelled.set()
                raise
            return "not cancelled"

        def from_browser(*args: Any, **kwargs: Any) -> None:
            self.from_browser.append((list(args), kwargs))

        def ready(browser_session: int) -> None:
            task = asyncio.ensure_future(self._answer(session))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        await session.register(f"{p}.python.add", add)
        await session.register(f"{p}.python.fail", fail)
        await session.register(f"{p}.python.count", count)
        await session.register(f"{p}.python.slow", slow)
        await session.subscribe(f"{p}.from_browser", from_browser)
        await session.subscribe(f"{p}.browser_ready", ready)

    async def _answer(self, session: Session) -> None:
        p = self.prefix
        self.greeted.append(await session.call(f"{p}.browser.greet", "python"))
        for i in range(EVENTS_TO_BROWSER):
            await session.publish(f"{p}.to_browser", f"event {i}", i=i, acknowledge=True)
        await session.publish(
            f"{p}.python_done",
            greeted=self.greeted,
            from_browser=[args for args, _ in self.from_browser],
            acknowledge=True,
        )
        self.done.set()


async def main(url: str, realm: str = "realm1") -> None:
    async with connect(url, realm) as session:
        for prefix in ("com.example.demo", *(f"com.example.demo.{s}" for s in SERIALIZERS)):
            await DemoPeer(prefix).attach(session)
        print(f"demo peer joined {realm} at {url} as session {session.session_id}", flush=True)
        await session.wait_closed()


SERIALIZERS = ("json", "msgpack", "cbor")

if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:3]))
