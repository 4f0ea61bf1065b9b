"""A browser client, tested for real (issue 12): the demo page in examples/browser/, with
autobahn-js's browser build, served by ``wampcore router`` from a static directory and run by
Debian's Chromium, headless, driven over the Chrome DevTools Protocol (CDP).

The router runs as a subprocess (config TOML with ``static_dir``, ephemeral loopback ports);
the Python peer is wampcore's asyncio client over RawSocket (examples/browser/peer.py); CDP is
spoken over the ``websockets`` package to the port Chromium writes into DevToolsActivePort.
The page reports into its DOM (rows with ``data-key``/``data-value``), which is what the tests
read. Screenshots go to build/screenshots/ and are checked not to be blank by decoding the PNG
(zlib + struct). Without Chromium or the npm bundle the tests skip and say which is missing;
``bash .ci/test`` installs both.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import importlib.util
import itertools
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from adapterkit import WAMPCORE, Proc
from wampcore.adapters.asyncio import Session, connect

pytestmark = pytest.mark.timeout(180)

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "examples" / "browser"
SCREENSHOTS = ROOT / "build" / "screenshots"
CHROMIUM_START = 30.0  # seconds for Chromium to write DevToolsActivePort
PAGE_DEADLINE = 30.0  # seconds for the demo page to finish


def load_example(name: str) -> ModuleType:
    """A module of examples/browser/ (not a package), imported by path."""
    spec = importlib.util.spec_from_file_location(f"browser_demo_{name}", DEMO / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


build = load_example("build")
demo_peer = load_example("peer")


def chromium_executable() -> str | None:
    """``WAMPCORE_CHROMIUM``, else Debian's ``chromium`` on PATH or in /usr/bin."""
    named = os.environ.get("WAMPCORE_CHROMIUM")
    if named:
        return named
    return shutil.which("chromium") or (
        "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None
    )


# --- PNG: enough of RFC 2083 to count colours ----------------------------------------------


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the unfiltered rows of an 8-bit RGB or RGBA, non-interlaced PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    pos, idat, header = 8, bytearray(), b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour, interlace)
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(bytes(idat))
    stride = width * bpp
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if kind == 1:  # Sub
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:  # Up
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous, strict=True))
        elif kind == 3:  # Average
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:  # Paeth
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = previous[i], previous[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        else:
            assert kind == 0, f"unknown PNG filter {kind}"
        rows.append(bytes(line))
        previous = line
    return width, height, rows


def distinct_colours(path: Path) -> int:
    """How many different RGB colours the PNG at ``path`` has."""
    width, _, rows = png_pixels(path.read_bytes())
    bpp = len(rows[0]) // width
    colours: set[bytes] = set()
    for row in rows:
        colours.update(row[i : i + 3] for i in range(0, len(row), bpp))
    return len(colours)


def assert_not_blank(path: Path) -> None:
    """A screenshot with real content: big enough, and many colours (text is antialiased)."""
    width, height, _ = png_pixels(path.read_bytes())
    assert width >= 400 and height >= 300, (width, height)
    colours = distinct_colours(path)
    assert colours >= 20, f"{path} looks blank: {colours} distinct colours"


def encode_png(width: int, rows: list[bytes]) -> bytes:
    """An RGB PNG of ``rows``, row y filtered with filter type y % 5 (the test's encoder)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    def paeth(a: int, b: int, c: int) -> int:
        p = a + b - c
        pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
        return a if pa <= pb and pa <= pc else (b if pb <= pc else c)

    out, previous = bytearray(), bytes(len(rows[0]))
    for y, row in enumerate(rows):
        kind = y % 5
        out.append(kind)
        for i, value in enumerate(row):
            a, b = (row[i - 3] if i >= 3 else 0), previous[i]
            c = previous[i - 3] if i >= 3 else 0
            pred = [0, a, b, (a + b) >> 1, paeth(a, b, c)][kind]
            out.append((value - pred) & 0xFF)
        previous = row
    header = struct.pack(">IIBBBBB", width, len(rows), 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(out)))
        + chunk(b"IEND", b"")
    )


def test_png_decoder_tells_blank_from_content(tmp_path: Path) -> None:
    """The blankness check itself (RFC 2083 §6, filter types 0-4): every filter decodes back
    to the pixels; a one-colour image is blank, one with a gradient is not."""
    width, height = 400, 300
    gradient = [
        bytes(v for x in range(width) for v in (x % 256, y % 256, (x * y) % 7))
        for y in range(height)
    ]
    (tmp_path / "gradient.png").write_bytes(encode_png(width, gradient))
    assert png_pixels((tmp_path / "gradient.png").read_bytes()) == (width, height, gradient)
    assert_not_blank(tmp_path / "gradient.png")
    flat = [b"\xfa\xfb\xfc" * width for _ in range(height)]
    (tmp_path / "flat.png").write_bytes(encode_png(width, flat))
    assert distinct_colours(tmp_path / "flat.png") == 1
    with pytest.raises(AssertionError, match="looks blank"):
        assert_not_blank(tmp_path / "flat.png")


# --- Chromium over the DevTools protocol ----------------------------------------------------


class Chromium:
    """A headless Chromium subprocess with remote debugging on an ephemeral port."""

    def __init__(self, executable: str, profile: Path) -> None:
        self.profile = profile
        self.log = open(profile.parent / "chromium.log", "wb")  # closed in close()
        self.proc = subprocess.Popen(
            [
                executable,
                "--headless=new",
                "--no-sandbox",
                "--remote-debugging-port=0",
                f"--user-data-dir={profile}",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-gpu",
                "--disable-extensions",
                "--disable-background-networking",
                "--window-size=1100,760",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its helpers share the group: close() ends them all
        )
        self.endpoint = self._endpoint()

    def _endpoint(self) -> str:
        """ws://127.0.0.1:PORT/devtools/browser/ID from DevToolsActivePort."""
        marker = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + CHROMIUM_START
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            with contextlib.suppress(FileNotFoundError):
                lines = marker.read_text().split()
                if len(lines) >= 2:
                    return f"ws://127.0.0.1:{int(lines[0])}{lines[1]}"
            time.sleep(0.1)
        self.close()
        log = (self.profile.parent / "chromium.log").read_text(errors="replace")[-3000:]
        raise AssertionError(f"Chromium wrote no DevToolsActivePort: {log}")

    def close(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        with contextlib.suppress(ProcessLookupError):  # helpers that outlived the browser
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


class CDP:
    """One DevTools connection (browser endpoint), with flattened sessions for pages."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.targets: list[str] = []  # the tabs this connection opened, closed with it
        self.reader = asyncio.ensure_future(self._read())

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, endpoint: str) -> AsyncIterator[CDP]:
        from websockets.asyncio.client import connect as ws_connect

        async with ws_connect(endpoint, max_size=64 * 1024 * 1024, open_timeout=10) as ws:
            cdp = cls(ws)
            try:
                yield cdp
            finally:
                for target in cdp.targets:  # their WAMP sessions leave with them
                    with contextlib.suppress(AssertionError, TimeoutError):
                        await cdp.send("Target.closeTarget", {"targetId": target})
                cdp.reader.cancel()
                # A reader that died of a closed connection has said so to the waiters.
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await cdp.reader

    async def _read(self) -> None:
        async for text in self.ws:
            message = json.loads(text)
            waiter = self.waiting.pop(message.get("id", -1), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(message)

    async def send(
        self, method: str, params: dict[str, Any] | None = None, *, session: str | None = None
    ) -> dict[str, Any]:
        request_id = next(self.ids)
        request: dict[str, Any] = {"id": request_id, "method": method, "params": params or {}}
        if session is not None:
            request["sessionId"] = session
        waiter = asyncio.get_running_loop().create_future()
        self.waiting[request_id] = waiter
        await self.ws.send(json.dumps(request))
        async with asyncio.timeout(20):
            reply = await waiter
        if "error" in reply:
            raise AssertionError(f"CDP {method}: {reply['error']}")
        result: dict[str, Any] = reply["result"]
        return result

    async def page(self, url: str) -> Page:
        target = await self.send("Target.createTarget", {"url": "about:blank"})
        self.targets.append(target["targetId"])
        attached = await self.send(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
        )
        page = Page(self, attached["sessionId"])
        await page.send("Page.enable")
        await page.send("Runtime.enable")
        await page.send("Page.navigate", {"url": url})
        return page


@dataclass
class Page:
    cdp: CDP
    session: str

    async def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self.cdp.send(method, params, session=self.session)

    async def evaluate(self, expression: str) -> Any:
        reply = await self.send(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}
        )
        if "exceptionDetails" in reply:
            raise AssertionError(f"{expression}: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    async def wait_for(self, expression: str, timeout: float, what: str) -> Any:
        """Poll ``expression`` until it is truthy; its value."""
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(AssertionError):  # e.g. while the page is loading
                value = await self.evaluate(expression)
                if value:
                    return value
            if time.monotonic() > deadline:
                text = await self.evaluate("document.body ? document.body.innerText : ''")
                raise AssertionError(f"page never showed {what} within {timeout} s: {text!r}")
            await asyncio.sleep(0.1)

    async def screenshot(self, path: Path) -> Path:
        shot = await self.send("Page.captureScreenshot", {"format": "png"})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path


#: The page's result rows, read from the DOM: {data-key: parsed data-value}.
READ_ROWS = (
    "JSON.stringify(Object.fromEntries(Array.from(document.querySelectorAll('tr[data-key]'))"
    ".map(row => [row.dataset.key, JSON.parse(row.dataset.value)])))"
)


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    executable = chromium_executable()
    if executable is None:
        pytest.skip(
            "Chromium is not installed: `apt-get install -y chromium` (bash .ci/test does it "
            "as root), or set WAMPCORE_CHROMIUM to a Chromium executable"
        )
    browser = Chromium(executable, tmp_path_factory.mktemp("chromium") / "profile")
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture(scope="module")
def static_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    try:
        return Path(build.build(tmp_path_factory.mktemp("static")))
    except build.BundleMissing as exc:
        pytest.skip(str(exc))


@dataclass
class DemoRouter:
    """``wampcore router`` serving the page (WebSocket + HTTP) and RawSocket for Python."""

    proc: Proc
    ws: str
    rs: str

    @property
    def http(self) -> str:
        parts = urlsplit(self.ws)
        return f"http://{parts.netloc}"


@pytest.fixture(scope="module")
def router(tmp_path_factory: pytest.TempPathFactory, static_dir: Path) -> Iterator[DemoRouter]:
    config = tmp_path_factory.mktemp("router") / "router.toml"
    config.write_text(
        "[[listeners]]\n"
        'url = "ws://127.0.0.1:0/ws"\n'
        f"static_dir = {json.dumps(str(static_dir))}\n"
        "\n[[listeners]]\n"
        'url = "rs://127.0.0.1:0"\n'
    )
    proc = Proc([*WAMPCORE, "router", "--config", str(config)])
    try:
        urls = [proc.expect("listening on").split("listening on ", 1)[1].strip() for _ in "ab"]
        by_scheme = {url.split("://", 1)[0]: url for url in urls}
        yield DemoRouter(proc, by_scheme["ws"], by_scheme["rs"])
    finally:
        proc.signal(signal.SIGTERM)
        try:
            proc.wait(15)
        finally:
            proc.close()


def run(coro: Any, timeout: float = 120.0) -> Any:
    async def bounded() -> Any:
        async with asyncio.timeout(timeout):
            return await coro

    return asyncio.run(bounded())


def page_url(router: DemoRouter, serializer: str, prefix: str) -> str:
    query = urlencode({"serializer": serializer, "prefix": prefix})
    return f"{router.http}/index.html?{query}"


async def run_demo(
    cdp: CDP, router: DemoRouter, serializer: str, prefix: str
) -> tuple[Page, dict[str, Any]]:
    """Open the demo page once; the page and the rows it reported (it must say done)."""
    page = await cdp.page(page_url(router, serializer, prefix))
    state = await page.wait_for(
        "window.demo && (window.demo.done ? 'done' : window.demo.failed)",
        PAGE_DEADLINE,
        "the end of the demo",
    )
    rows: dict[str, Any] = json.loads(await page.evaluate(READ_ROWS))
    assert state == "done", f"the page failed: {state}; rows: {rows}"
    return page, rows


# --- the demo page ---------------------------------------------------------------------------

FEATURES = ["join", "rpc", "errors", "progressive", "cancel", "pubsub"]


@pytest.mark.interop(
    peer="autobahn-js-chromium", transport="ws", serializer="{serializer}", features=FEATURES
)
@pytest.mark.interop(peer="wampcore", transport="rs", serializer="{serializer}", features=FEATURES)
@pytest.mark.parametrize("serializer", ["json", "msgpack", "cbor"])
def test_browser_page_does_rpc_and_pubsub_both_ways_with_a_python_peer(
    chromium: Chromium, router: DemoRouter, serializer: str
) -> None:
    """The page (autobahn-js in Chromium) joins over WebSocket with ``serializer`` (wamp-spec
    §3.1), calls the Python peer's procedures (§3.4; an ERROR with args and kwargs; §4.2
    progressive results; §4.5 cancel with mode kill, which interrupts the Python callee), is
    called back by it, and publishes to and receives from it (§3.3). The Python peer is
    wampcore's asyncio client over RawSocket with the same serializer."""
    prefix = f"com.example.demo.{serializer}"

    async def test() -> None:
        async with connect(router.rs, "realm1", serializers=[serializer]) as python:
            peer = demo_peer.DemoPeer(prefix)
            await peer.attach(python)
            async with CDP.open(chromium.endpoint) as cdp:
                page, rows = await run_demo(cdp, router, serializer, prefix)
                await page.screenshot(SCREENSHOTS / f"demo-{serializer}.png")
            async with asyncio.timeout(10):
                await peer.done.wait()

        join = rows["join"]
        assert join["serializer"] == serializer and join["authrole"] == "anonymous"
        assert isinstance(join["session"], int) and join["authid"]
        # Browser -> Python: RPC, an error, progressive results, a cancelled call.
        assert rows["call.add"] == 5
        assert rows["call.fail"] == {
            "error": f"{prefix}.failed",
            "args": [7],
            "kwargs": {"why": "python says no"},
        }
        assert rows["call.progressive"] == {"progress": [0, 1, 2], "final": None}
        assert rows["call.cancel"]["error"] == "wamp.error.canceled"
        assert peer.slow_cancelled.is_set(), "the CANCEL never reached the Python callee"
        # Python -> browser: the page's procedure answered the Python call.
        greeting = f"hello python, from the browser over {serializer}"
        assert peer.greeted == [greeting]
        assert rows["invoked.greet"] == {"args": ["python"], "kwargs": {}, "answer": greeting}
        # Pub/sub both ways: Python got the page's event, the page got Python's three, in order.
        assert peer.from_browser == [(["hi from the browser", serializer], {"n": 1})]
        assert rows["publish.from_browser"] == {"acknowledged": True}
        assert rows["events.to_browser"] == [
            {"args": [f"event {i}"], "kwargs": {"i": i}} for i in range(3)
        ]
        assert rows["python.saw"] == {
            "greeted": [greeting],
            "from_browser": [["hi from the browser", serializer]],
        }

    run(test())
    assert_not_blank(SCREENSHOTS / f"demo-{serializer}.png")


def test_an_unknown_serializer_is_reported_on_the_page(
    chromium: Chromium, router: DemoRouter
) -> None:
    """Bad input to the page (its query string) is a clear failure in the DOM, not a hang."""

    async def test() -> Any:
        async with CDP.open(chromium.endpoint) as cdp:
            page = await cdp.page(page_url(router, "yaml", "com.example.demo.bad"))
            return await page.wait_for("window.demo && window.demo.failed", 10, "a failure")

    assert run(test()) == "setup: unknown serializer yaml (json, msgpack or cbor)"


# --- the status page -------------------------------------------------------------------------

STATUS_PATH = "/status"  # where the status page is when the listener serves a static directory


async def load(router: DemoRouter, stop: asyncio.Event, sessions: int = 6) -> int:
    """Calls and publications from several Python sessions until ``stop``; how many."""
    done = 0

    async def one(session: Session, i: int) -> None:
        nonlocal done
        while not stop.is_set():
            await session.call("com.example.load.add", i, done)
            await session.publish("com.example.load.tick", i, acknowledge=True)
            done += 1

    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(connect(router.rs, "realm1", serializers=[ser]))
            for ser, _ in zip(itertools.cycle(["json", "msgpack", "cbor"]), range(sessions))
        ]
        await clients[0].register("com.example.load.add", lambda a, b: a + b)
        for client in clients:
            await client.subscribe("com.example.load.tick", lambda i: None)
        await asyncio.gather(*(one(c, i) for i, c in enumerate(clients)))
    return done


def test_status_page_shows_the_browser_session_under_load(
    chromium: Chromium, router: DemoRouter
) -> None:
    """The router's status page (itself a WAMP client of the meta API) lists the browser's
    session while six Python sessions keep calling and publishing; screenshots of both pages
    are saved and are not blank."""
    prefix = "com.example.demo.status"

    async def test() -> int:
        async with connect(router.rs, "realm1") as python:
            await demo_peer.DemoPeer(prefix).attach(python)
            stop = asyncio.Event()
            loader = asyncio.ensure_future(load(router, stop))
            try:
                async with CDP.open(chromium.endpoint) as cdp:
                    demo_page, rows = await run_demo(cdp, router, "json", prefix)
                    browser = rows["join"]
                    status = await cdp.page(router.http + STATUS_PATH)
                    await status.wait_for(
                        f"document.body && document.body.innerText.includes('{browser['authid']}')"
                        f" && document.body.innerText.includes('{browser['session']}')",
                        20,
                        f"the browser session {browser['session']} ({browser['authid']})",
                    )
                    await asyncio.sleep(1.5)  # let the live counters move under the load
                    await status.screenshot(SCREENSHOTS / "status-under-load.png")
                    await demo_page.screenshot(SCREENSHOTS / "demo-with-status.png")
            finally:
                stop.set()
                done = await loader
        return done

    assert run(test()) > 0
    assert_not_blank(SCREENSHOTS / "status-under-load.png")
    assert_not_blank(SCREENSHOTS / "demo-with-status.png")


def test_the_demo_router_configuration_is_valid() -> None:
    """examples/browser/router.toml (what its README runs) loads: WebSocket serving the demo
    directory (relative to the file), RawSocket for the Python peer."""
    from wampcore.config import read_config_file

    listeners = read_config_file(DEMO / "router.toml").listeners
    assert [(item.url, item.static_dir) for item in listeners] == [
        ("ws://127.0.0.1:8080/ws", "."),
        ("rs://127.0.0.1:8081", None),
    ]
