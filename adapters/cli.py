"""The ``wampcore`` command: run a router, or talk to any router as a client.

``wampcore router`` serves realm ``realm1`` on ``ws://127.0.0.1:8080/ws`` and
``rs://127.0.0.1:8081`` unless told otherwise; ``call``, ``publish``, ``subscribe`` and
``register`` are one-shot clients. Failures print one line on stderr and exit non-zero (exit 1:
the router answered with an ERROR; 2: bad usage or configuration; 3: the connection failed); a
traceback only with ``--log-level debug``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import ssl
import sys
import time
from collections.abc import Sequence
from typing import Any

from wampcore.config import ListenerConfig, RealmConfig, RouterConfig, read_config_file
from wampcore.errors import ApplicationError, ConfigError, LocalProtocolError
from wampcore.router import EventsDropped, InternalError, Router

from .asyncio_client import CallResult, ConnectionFailed, ConnectionLost, Session, connect
from .asyncio_server import Listener, ListenError, serve

__all__ = ["main"]

DEFAULT_LISTENERS = ("ws://127.0.0.1:8080/ws", "rs://127.0.0.1:8081")
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_CONNECTION = 3

log = logging.getLogger("wampcore.cli")


class _Fail(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--log-level",
        default=argparse.SUPPRESS,
        choices=("debug", "info", "warning", "error"),
        help="logging on stderr (default: warning; debug also shows tracebacks)",
    )
    parser = argparse.ArgumentParser(
        prog="wampcore", description="WAMP router and client (wampcore).", parents=[common]
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    router = sub.add_parser("router", parents=[common], help="run a WAMP router")
    router.add_argument(
        "--listen",
        action="append",
        metavar="URL",
        help="ws://, wss://, rs://, rss://, rs+unix:///path or ws+unix:///path (repeatable; "
        f"default: {' and '.join(DEFAULT_LISTENERS)})",
    )
    router.add_argument(
        "--realm",
        action="append",
        metavar="NAME",
        help="realm to serve (repeatable; default realm1)",
    )
    router.add_argument("--config", metavar="FILE", help="TOML configuration file")
    router.add_argument("--tls-cert", metavar="PEM", help="certificate chain for wss:// and rss://")
    router.add_argument("--tls-key", metavar="PEM", help="private key for wss:// and rss://")

    def client(name: str, what: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[common], help=help_text)
        p.add_argument("url", help="router URL, e.g. ws://127.0.0.1:8080/ws or rs://host:port")
        p.add_argument("realm")
        p.add_argument(what)
        p.add_argument(
            "--serializer",
            action="append",
            metavar="NAME",
            help="json, msgpack or cbor (repeatable)",
        )
        p.add_argument(
            "--timeout",
            type=float,
            default=10.0,
            metavar="SECONDS",
            help="connect (and call) timeout; default 10",
        )
        p.add_argument(
            "--cafile", metavar="PEM", help="CA bundle to verify a wss:// or rss:// router"
        )
        return p

    for name, noun, text in (
        ("call", "procedure", "call a procedure, print the result as JSON"),
        ("publish", "topic", "publish one acknowledged event"),
    ):
        p = client(name, noun, text)
        p.add_argument(
            "args", nargs="*", metavar="ARG", help="JSON where valid JSON, else a string"
        )
        p.add_argument(
            "--kw", action="append", default=[], metavar="KEY=VALUE", help="keyword argument"
        )
    p = client("subscribe", "topic", "print each event as a JSON line until interrupted")
    p.add_argument("--match", choices=("exact", "prefix", "wildcard"), default=None)
    p = client("register", "procedure", "run COMMAND for every invocation")
    p.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- COMMAND ...")
    return parser


def parse_value(text: str) -> Any:
    """A command-line argument: its JSON value where it is valid JSON, else the string itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _kwargs(pairs: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise _Fail(f"--kw needs KEY=VALUE, got {pair!r}", EXIT_USAGE)
        out[key] = parse_value(value)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``wampcore`` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    level = getattr(args, "log_level", "warning")
    logging.basicConfig(
        level=level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    runner = {
        "router": _router,
        "call": _call,
        "publish": _publish,
        "subscribe": _subscribe,
        "register": _register,
    }[args.command]
    try:
        return asyncio.run(runner(args))
    except KeyboardInterrupt:
        return 130
    except _Fail as exc:
        return _report(exc, str(exc), exc.code, level)
    except ApplicationError as exc:
        detail = f"{exc.error} args={json.dumps(exc.args_list, default=repr)} "
        detail += f"kwargs={json.dumps(exc.kwargs, default=repr)}"
        return _report(exc, detail, EXIT_ERROR, level)
    except ConfigError as exc:
        return _report(exc, str(exc), EXIT_USAGE, level)
    except (ConnectionFailed, ListenError) as exc:
        return _report(exc, str(exc), EXIT_CONNECTION, level)
    except LocalProtocolError as exc:  # e.g. an invalid URI or URL on the command line
        return _report(exc, str(exc), EXIT_USAGE, level)
    except OSError as exc:
        return _report(exc, str(exc), EXIT_CONNECTION, level)


def _report(exc: BaseException, line: str, code: int, level: str) -> int:
    if level == "debug":
        log.debug("failure", exc_info=exc)
    print(f"wampcore: {line}", file=sys.stderr, flush=True)
    return code


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)


# --- wampcore router --------------------------------------------------------------------------


def _router_setup(args: argparse.Namespace) -> tuple[RouterConfig, list[Listener]]:
    config = RouterConfig()
    listeners: list[ListenerConfig] = []
    if args.config:
        loaded = read_config_file(args.config)
        config, listeners = loaded.router, list(loaded.listeners)
    if args.realm:
        config = _with_realms(config, args.realm)
    if args.listen:
        listeners = [ListenerConfig(url=url) for url in args.listen]
    if not listeners:
        listeners = [ListenerConfig(url=url) for url in DEFAULT_LISTENERS]
    out = []
    for item in listeners:
        cert = item.tls_cert or args.tls_cert
        key = item.tls_key or args.tls_key
        context = None
        if item.url.split("://", 1)[0].lower() in ("wss", "rss"):
            if not cert:
                raise _Fail(
                    f"{item.url}: TLS needs a certificate (--tls-cert/--tls-key)", EXIT_USAGE
                )
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            try:
                context.load_cert_chain(cert, key)
            except (OSError, ssl.SSLError) as exc:
                raise _Fail(f"cannot load TLS certificate {cert}: {exc}", EXIT_USAGE) from None
        out.append(Listener(item.url, context, item.serializers, item.max_message_size))
    return config, out


def _with_realms(config: RouterConfig, names: Sequence[str]) -> RouterConfig:
    import dataclasses

    known = {realm.name: realm for realm in config.realms}
    realms = [known.get(name) or RealmConfig(name) for name in names]
    config = dataclasses.replace(config, realms=realms)
    config.validate()
    return config


async def _router(args: argparse.Namespace) -> int:
    config, listeners = _router_setup(args)
    router, events = Router(config), _EventLog()
    server = await serve(
        router, listeners, max_message_size=config.limits.max_message_size, on_event=events
    )
    names = ", ".join(realm.name for realm in config.realms)
    print(f"wampcore router: realm{'s' if len(config.realms) > 1 else ''} {names}", flush=True)
    for url in server.urls:
        print(f"listening on {url}", flush=True)
    try:
        await _until_signalled()
    finally:
        print("shutting down", file=sys.stderr, flush=True)
        await server.close()
        events.flush()
    return 0


class _EventLog:
    """Router events to the log. Session lifecycle is routine (info). Dropped events need an
    operator's attention (warning) but come in bursts, one per slow peer per routed publish:
    they are summed and reported at most once per ``every`` seconds."""

    def __init__(self, every: float = 5.0) -> None:
        self.every = every
        self.dropped = 0
        self.sessions: set[int | None] = set()
        self.last = 0.0

    def __call__(self, event: Any) -> None:
        if isinstance(event, EventsDropped):
            self.dropped += event.count
            self.sessions.add(event.session_id)
            if time.monotonic() - self.last >= self.every:
                self.flush()
        elif isinstance(event, InternalError):
            log.error("%s", event)
        else:
            log.info("%s", event)

    def flush(self) -> None:
        if self.dropped:
            log.warning(
                "dropped %d events for %d slow session(s) whose outbound queue was full",
                self.dropped,
                len(self.sessions),
            )
        self.dropped, self.sessions, self.last = 0, set(), time.monotonic()


# --- client subcommands -----------------------------------------------------------------------


async def _session(args: argparse.Namespace) -> Session:
    context = None
    if args.cafile:
        context = ssl.create_default_context(cafile=args.cafile)
    return await connect(
        args.url,
        args.realm,
        serializers=args.serializer or None,
        ssl=context,
        timeout=args.timeout,
    )


def _print_json(value: Any) -> None:
    print(json.dumps(value, default=_jsonable), flush=True)


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    return repr(value)


async def _call(args: argparse.Namespace) -> int:
    values, kwargs = [parse_value(a) for a in args.args], _kwargs(args.kw)
    async with await _session(args) as session:
        result = await session.call(args.procedure, *values, timeout=args.timeout, **kwargs)
    if isinstance(result, CallResult):
        _print_json({"args": result.args, "kwargs": result.kwargs})
    else:
        _print_json(result)
    return 0


async def _publish(args: argparse.Namespace) -> int:
    values, kwargs = [parse_value(a) for a in args.args], _kwargs(args.kw)
    async with await _session(args) as session:
        await session.publish(args.topic, *values, acknowledge=True, **kwargs)
    return 0


async def _subscribe(args: argparse.Namespace) -> int:
    def on_event(*values: Any, **kwargs: Any) -> None:
        _print_json({"args": list(values), "kwargs": kwargs})

    async with await _session(args) as session:
        await session.subscribe(args.topic, on_event, match=args.match)
        print(f"subscribed to {args.topic}", file=sys.stderr, flush=True)
        await _serve_until_closed(session)
    return 0


async def _register(args: argparse.Namespace) -> int:
    command = list(args.cmd)
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        raise _Fail("register needs a command: wampcore register URL REALM PROCEDURE -- COMMAND", 2)

    async def handler(*values: Any, **kwargs: Any) -> Any:
        argv = [v if isinstance(v, str) else json.dumps(v) for v in values]
        proc = await asyncio.create_subprocess_exec(
            *command,
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        request = json.dumps({"args": list(values), "kwargs": kwargs}, default=_jsonable)
        out, err = await proc.communicate(request.encode())
        if proc.returncode != 0:
            raise ApplicationError(
                "wampcore.error.command_failed",
                proc.returncode,
                err.decode(errors="replace").strip(),
            )
        text = out.decode(errors="replace").strip()
        return parse_value(text) if text else None

    async with await _session(args) as session:
        await session.register(args.procedure, handler)
        print(f"registered {args.procedure}", file=sys.stderr, flush=True)
        await _serve_until_closed(session)
    return 0


async def _serve_until_closed(session: Session) -> None:
    """Wait for Ctrl-C/SIGTERM; if the session ends first, fail with its reason."""
    signalled = asyncio.ensure_future(_until_signalled())
    closed = asyncio.ensure_future(session.wait_closed())
    try:
        await asyncio.wait((signalled, closed), return_when=asyncio.FIRST_COMPLETED)
    finally:
        signalled.cancel()
        closed.cancel()
    if not signalled.done() or signalled.cancelled():
        raise ConnectionLost(f"connection to {session.url} lost: {session.close_reason}")
