"""Progressive call results: an async-generator callee streams, the caller iterates.

python examples/progressive.py [URL]    # default ws://127.0.0.1:8080/ws
"""

import asyncio
import sys
from collections.abc import AsyncIterator

from wampcore.adapters.asyncio import connect


async def countdown(n: int) -> AsyncIterator[int]:
    for i in range(n, 0, -1):
        await asyncio.sleep(0.01)
        yield i


async def main(url: str) -> None:
    async with connect(url, "realm1", serializers=["msgpack", "json"]) as session:
        await session.register("com.example.countdown", countdown)
        async for value in session.call_progressive("com.example.countdown", 3):
            print("progress:", value)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "ws://127.0.0.1:8080/ws"))
