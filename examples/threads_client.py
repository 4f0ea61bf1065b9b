"""The blocking client: the same calls, no asyncio, safe to share between threads.

python examples/threads_client.py [URL]     # default rs://127.0.0.1:8081
"""

import sys
from concurrent.futures import ThreadPoolExecutor

from wampcore.adapters.threads import connect


def square(x: int) -> int:
    return x * x  # runs on the session's handler thread pool


def main(url: str) -> None:
    with connect(url, "realm1") as session:
        session.register("com.example.square", square)
        with ThreadPoolExecutor(4) as pool:
            squares = list(pool.map(lambda i: session.call("com.example.square", i), range(5)))
        print("squares:", squares)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "rs://127.0.0.1:8081")
