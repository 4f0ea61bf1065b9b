"""The object API: a service object registered whole, a typed proxy calling it, events as an
async iterator, and a call that streams its arguments (progressive call invocations).

python examples/object_api.py [URL]    # default ws://127.0.0.1:8080/ws
"""

import asyncio
import sys
from collections.abc import AsyncIterator

from wampcore.adapters.asyncio import connect, procedure, topic


class Service:
    """What the callee offers: each decorated method is one registration or subscription."""

    @procedure("com.example.add")
    async def add(self, a: int, b: int) -> int:
        return a + b

    @procedure("com.example.upload", receive_progress=True)
    async def upload(self, chunks: AsyncIterator[bytes]) -> int:
        return sum([len(chunk) async for chunk in chunks])

    @topic("com.example.news")
    def on_news(self, text: str) -> None:
        pass  # a subscriber method: register_object subscribes it


class Api:
    """What the caller sees: the same URIs, typed; a proxy issues the calls."""

    async def add(self, a: int, b: int) -> int: ...

    @procedure("com.example.upload", receive_progress=True)
    async def upload(self, chunks: AsyncIterator[bytes]) -> int: ...


async def chunks() -> AsyncIterator[bytes]:
    for chunk in (b"hello", b" ", b"world"):
        yield chunk


async def main(url: str) -> None:
    async with connect(url, "realm1") as callee, connect(url, "realm1") as caller:
        await callee.register_object(Service())
        api = caller.proxy(Api, prefix="com.example.")  # add -> com.example.add
        print("add:", await api.add(2, 3))
        async with caller.events("com.example.news") as news:
            await callee.publish("com.example.news", "wampcore ships", acknowledge=True)
            async for event in news:
                print("news:", event.args[0])
                break
        print("uploaded:", await api.upload(chunks()), "bytes")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "ws://127.0.0.1:8080/ws"))
