"""The framework-embedding example (examples/aiohttp_embedding.py): an Autobahn|Python client
talks to a Router mounted on an aiohttp WebSocket endpoint through the identity framing."""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

pytest.importorskip("aiohttp")
pytest.importorskip("autobahn")

from aiohttp import web
from test_interop_autobahn import join
from wampcore.adapters.asyncio import connect

pytestmark = pytest.mark.timeout(60)
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "aiohttp_embedding.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("aiohttp_embedding", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("serializer", ["json", "msgpack", "cbor"])
def test_autobahn_client_through_the_aiohttp_embedding(serializer: str) -> None:
    """wamp-spec §5.4: one WAMP message per WebSocket message, subprotocol negotiated by aiohttp."""
    example = load_example()

    async def test() -> None:
        runner = web.AppRunner(example.make_app())
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        url = f"ws://127.0.0.1:{port}/ws"
        try:
            ab = await join(url, "realm1", serializer)
            await ab.register(lambda a, b: a + b, "com.example.add")
            events: asyncio.Queue[Any] = asyncio.Queue()
            await ab.subscribe(lambda x: events.put_nowait(x), "com.example.news")
            async with connect(url, "realm1", serializers=[serializer]) as ours:
                assert await ours.call("com.example.add", 20, 22) == 42
                await ours.publish("com.example.news", "hello", acknowledge=True)
                assert await events.get() == "hello"
            assert await ab.call("com.example.add", 1, 1) == 2
            ab.leave()
        finally:
            await runner.cleanup()

    async def bounded() -> None:
        async with asyncio.timeout(30):
            await test()

    asyncio.run(bounded())
