"""Hostile plain HTTP against ``wampcore router`` (issue 12, "Bad input"): junk and oversize
headers, absurd paths, path traversal against the static directory (``..``, ``%2e%2e``, encoded
slashes, symlinks out of it), slowloris clients, a flood of /metrics. Each gets a proper HTTP
error or a close within the handshake deadline, and nothing outside the directory is served."""

from __future__ import annotations

import concurrent.futures
import socket
import time
from collections.abc import Iterator

import pytest
from httpkit import ConfiguredRouter, Response, address, exchange, get
from wampcore.adapters import threads

pytestmark = pytest.mark.timeout(120)

SECRET = b"TOP-SECRET-CONTENT"
DEADLINE = 1.0


@pytest.fixture(scope="module")
def router(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConfiguredRouter]:
    tmp = tmp_path_factory.mktemp("hostile")
    outside = tmp / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(SECRET)
    web = tmp / "web"
    (web / "sub").mkdir(parents=True)
    (web / "index.html").write_text("home")
    (web / "sub" / "ok.txt").write_text("fine")
    (web / ".hidden").write_bytes(SECRET)
    (web / "link-out").symlink_to(outside / "secret.txt")
    (web / "dir-out").symlink_to(outside)
    (web / "sub" / "index.html").symlink_to(outside / "secret.txt")
    listener = 'url = "ws://127.0.0.1:0/ws"\nstatic_dir = "web"'
    extra = f"[limits]\nhandshake_timeout = {DEADLINE}\n"
    with ConfiguredRouter(tmp, [listener], extra=extra) as r:
        yield r


def still_serving(router: ConfiguredRouter) -> None:
    url = router.urls[0]
    assert get(url, "/sub/ok.txt").body == b"fine"
    with threads.connect(url, "realm1", timeout=10) as s:
        s.register("com.example.alive", lambda: "yes")
        assert s.call("com.example.alive") == "yes"


def raw(router: ConfiguredRouter, data: bytes) -> bytes:
    return exchange(router.urls[0], data)


def status_of(reply: bytes) -> int:
    assert reply.startswith(b"HTTP/1.1 "), reply[:100]
    return int(reply.split(b" ", 2)[1])


@pytest.mark.parametrize(
    "path",
    [
        "/../outside/secret.txt",
        "/sub/../../outside/secret.txt",
        "/%2e%2e/outside/secret.txt",
        "/%2E%2E/outside/secret.txt",
        "/sub/%2e%2e/%2e%2e/outside/secret.txt",
        "/..%2foutside%2fsecret.txt",
        "/sub%2f..%2f..%2foutside%2fsecret.txt",
        "/..%5coutside%5csecret.txt",
        "/%252e%252e/outside/secret.txt",
        "/.hidden",
        "/%2ehidden",
        "/link-out",
        "/dir-out/secret.txt",
        "/sub/",  # its index.html is a symlink out of the directory
        "/sub/ok.txt%00.html",
        "/%ff%fe",
        "//outside/secret.txt",
        "/" + "a/" * 2000,
    ],
)
def test_traversal_never_serves_anything_outside_the_directory(
    router: ConfiguredRouter, path: str
) -> None:
    """issue 12 Bad input: ``..``, ``%2e%2e``, encoded slashes and backslashes, symlinks out."""
    reply = raw(router, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert SECRET not in reply
    assert status_of(reply) in (400, 404), reply[:200]


def test_probe_after_traversal_still_serving(router: ConfiguredRouter) -> None:
    still_serving(router)


@pytest.mark.parametrize(
    ("probe", "status"),
    [
        (b"\x00\xff garbage \r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n", 431),
        (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Many: 1\r\n" * 3000 + b"\r\n", 431),
        (b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 431),
        (b"GET http://evil.example/ HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi", 405),
        (b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", 400),
        (b"GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        (b"GET /health HTTP/1.0\r\n\r\n", 200),
        (b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n", 404),
    ],
)
def test_junk_and_oversize_requests_get_an_http_error(
    router: ConfiguredRouter, probe: bytes, status: int
) -> None:
    """issue 12 Bad input: each gets a proper HTTP answer, then the connection is closed."""
    reply = raw(router, probe)
    assert status_of(reply) == status, reply[:200]


def test_pipelined_requests_get_one_answer_and_a_close(router: ConfiguredRouter) -> None:
    """No keep-alive: a second request in the same read is not answered (nor buffered)."""
    request = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    reply = raw(router, request + request + b"x" * 100000)
    assert reply.count(b"HTTP/1.1 ") == 1 and status_of(reply) == 200


def test_a_half_closed_client_still_gets_its_answer(router: ConfiguredRouter) -> None:
    with socket.create_connection(address(router.urls[0]), timeout=10) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    assert Response(data).status == 200


def test_slowloris_is_closed_within_the_handshake_deadline(router: ConfiguredRouter) -> None:
    """issue 12 Bad input: a client that trickles its headers is closed at the deadline."""
    start = time.monotonic()
    with socket.create_connection(address(router.urls[0]), timeout=10) as sock:
        sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        closed = False
        while time.monotonic() - start < 8:
            try:
                sock.sendall(b"X")
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            sock.settimeout(0.2)
            try:
                if sock.recv(65536) == b"":
                    closed = True
                    break
            except TimeoutError:
                pass
            except ConnectionResetError:
                closed = True
                break
    elapsed = time.monotonic() - start
    assert closed, "the trickling client was never closed"
    assert elapsed < DEADLINE + 2.0, elapsed
    still_serving(router)


def test_a_flood_of_metrics_requests_is_answered_and_costs_nothing_lasting(
    router: ConfiguredRouter,
) -> None:
    """issue 12 Bad input: a flood of /metrics (sequential and concurrent): every one is 200,
    and the router keeps serving."""
    url = router.urls[0]
    for _ in range(100):
        assert get(url, "/metrics").status == 200
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(lambda _: get(url, "/metrics").status, range(200)))
    assert statuses == [200] * 200
    text = get(url, "/metrics").text
    # Every flood connection is gone: none lingers in the router.
    assert "wampcore_connections 1" in text
    still_serving(router)


def test_abrupt_http_clients_leave_nothing_behind(router: ConfiguredRouter) -> None:
    for _ in range(50):
        sock = socket.create_connection(address(router.urls[0]), timeout=5)
        sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()  # RST, possibly before the answer went out
    still_serving(router)
