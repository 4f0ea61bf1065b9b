"""RPC: register a procedure and call it (run `wampcore router` first).

python examples/rpc.py [URL]        # default ws://127.0.0.1:8080/ws
"""

import asyncio
import sys

from wampcore.adapters.asyncio import connect

from wampcore.errors import ApplicationError


async def main(url: str) -> None:
    async with connect(url, "realm1") as session:

        def add(a: int, b: int) -> int:
            return a + b

        async def divide(a: float, b: float) -> float:
            if b == 0:
                raise ApplicationError("com.example.division_by_zero", a)
            return a / b

        await session.register("com.example.add", add)
        await session.register("com.example.divide", divide)
        print("2 + 3 =", await session.call("com.example.add", 2, 3))
        try:
            await session.call("com.example.divide", 1, 0)
        except ApplicationError as error:
            print("1 / 0 ->", error.error)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "ws://127.0.0.1:8080/ws"))
