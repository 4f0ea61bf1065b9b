"""Publish and subscribe across two sessions (run `wampcore router` first).

python examples/pubsub.py [URL]     # default rs://127.0.0.1:8081 (RawSocket)
"""

import asyncio
import sys

from wampcore.adapters.asyncio import connect


async def main(url: str) -> None:
    received: asyncio.Queue[str] = asyncio.Queue()

    def on_news(headline: str, **kwargs: object) -> None:
        received.put_nowait(headline)

    async with connect(url, "realm1") as subscriber, connect(url, "realm1") as publisher:
        await subscriber.subscribe("com.example.news", on_news)
        await publisher.publish("com.example.news", "wampcore ships", acknowledge=True)
        print("received:", await received.get())


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "rs://127.0.0.1:8081"))
