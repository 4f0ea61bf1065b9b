"""The ``wampcore`` command: run a router, or talk to any router as a client.

``wampcore router`` serves realm ``realm1`` on ``ws://127.0.0.1:8080/ws`` and
``rs://127.0.0.1:8081`` unless told otherwise; ``call``, ``publish``, ``subscribe`` and
``register`` are one-shot clients (authenticating with ``--authid``, ``--ticket``, ``--secret``,
``--private-key``, ``--password`` or the ``WAMPCORE_*`` environment variables); ``keygen`` makes
credentials. Failures print one line on stderr and exit non-zero (exit 1: the router answered
with an ERROR; 2: bad usage or configuration; 3: the connection failed, or the router refused
the join); a traceback only with ``--log-level debug``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import ssl
import sys
import time
from collections.abc import Sequence
from typing import Any

from wampcore.auth.base import AuthError
from wampcore.config import ListenerConfig, RealmConfig, RouterConfig, read_config_file
from wampcore.errors import ApplicationError, ConfigError, LocalProtocolError
from wampcore.router import EventsDropped, InternalError, Router

from .asyncio_client import CallResult, ConnectionFailed, ConnectionLost, Session, connect
from .asyncio_server import Listener, ListenError, run, serve

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
    router.add_argument(
        "--cluster",
        metavar="URL",
        help="join a cluster of routers over NATS, e.g. nats://127.0.0.1:4222 (docs/cluster.md)",
    )
    router.add_argument(
        "--node", metavar="NAME", help="this node's name in the cluster (default: host-pid)"
    )

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
        _auth_arguments(p)
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
    _keygen_parser(sub, common)
    return parser


#: Where the client verbs look for credentials not given as options (so that no secret need be
#: on the command line, where other users of the machine can see it).
AUTH_ENV = {
    "authid": "WAMPCORE_AUTHID",
    "ticket": "WAMPCORE_TICKET",
    "secret": "WAMPCORE_SECRET",
    "password": "WAMPCORE_PASSWORD",
    "private_key": "WAMPCORE_PRIVATE_KEY",
}
_AUTH_METHOD_CHOICES = ("cryptosign", "scram", "wampcra", "ticket", "anonymous")
_AUTH_EPILOG = (
    "authentication: each credential enables one method, offered strongest first "
    "(cryptosign, scram, wampcra, ticket) unless --authmethod names the list; without any, the "
    "session joins as anonymous. Instead of an option, each credential may come from the "
    "environment (the option wins): WAMPCORE_AUTHID, WAMPCORE_TICKET, WAMPCORE_SECRET, "
    "WAMPCORE_PASSWORD, and WAMPCORE_PRIVATE_KEY (the 64 hex digits themselves, not a file). "
    "Prefer those, or --private-key FILE, to secrets on the command line, which other users "
    "of the machine can see."
)


def _auth_arguments(p: argparse.ArgumentParser) -> None:
    p.epilog = _AUTH_EPILOG
    g = p.add_argument_group("authentication (wamp-spec §4.28)")
    g.add_argument("--authid", metavar="ID", help="the authid (env WAMPCORE_AUTHID)")
    g.add_argument(
        "--authmethod",
        action="append",
        choices=_AUTH_METHOD_CHOICES,
        metavar="METHOD",
        help="a method to offer, in order (repeatable): cryptosign, scram, wampcra, ticket or "
        "anonymous; default: every method a credential is given for",
    )
    g.add_argument("--authrole", metavar="ROLE", help="the authrole to ask for")
    g.add_argument("--ticket", metavar="TICKET", help="ticket (env WAMPCORE_TICKET)")
    g.add_argument(
        "--secret", metavar="SECRET", help="WAMP-CRA secret, plain or salted (env WAMPCORE_SECRET)"
    )
    g.add_argument(
        "--private-key",
        metavar="FILE",
        help="cryptosign: a file holding the Ed25519 private key seed as 64 hex digits "
        "(surrounding whitespace ignored; what 'wampcore keygen cryptosign --out' writes) or "
        "as exactly 32 raw bytes (env WAMPCORE_PRIVATE_KEY: the hex itself)",
    )
    g.add_argument("--password", metavar="PASSWORD", help="SCRAM password (env WAMPCORE_PASSWORD)")


def _keygen_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    keygen = sub.add_parser(
        "keygen",
        parents=[common],
        help="make credentials: a key pair, or a principal's stored form of a password",
    )
    kinds = keygen.add_subparsers(dest="kind", required=True, metavar="METHOD")
    p = kinds.add_parser(
        "cryptosign",
        parents=[common],
        help="a new Ed25519 key pair, as TOML lines",
        description="Print a new Ed25519 key pair: private_key (the client's --private-key) "
        "and cryptosign_keys (for the principal in [[realms.principals]]).",
    )
    p.add_argument(
        "--out",
        metavar="FILE",
        help="write the private key (64 hex digits) to FILE, created with mode 0600 (it must "
        "not exist), and print only the public key",
    )
    p = kinds.add_parser(
        "scram",
        parents=[common],
        help="the stored SCRAM record of a password, as a TOML line",
        description="Print the scram record for the principal in [[realms.principals]]; the "
        "password itself is not stored. The password comes from --password, else "
        "WAMPCORE_PASSWORD, else a prompt.",
    )
    p.add_argument("--password", metavar="PASSWORD", help="the password (env WAMPCORE_PASSWORD)")
    p.add_argument("--kdf", choices=("argon2id13", "pbkdf2"), default="argon2id13")
    p.add_argument(
        "--iterations",
        type=int,
        metavar="N",
        help="argon2id time cost (default 4096) or PBKDF2 iterations (default 600000)",
    )
    p.add_argument(
        "--memory", type=int, metavar="KIB", help="argon2id memory cost in KiB (default 512)"
    )
    p.add_argument("--salt", metavar="HEX", help="the salt as hex (default: 16 random bytes)")
    p = kinds.add_parser(
        "wampcra",
        parents=[common],
        help="the salted WAMP-CRA fields of a secret, as TOML lines",
        description="Print the salted WAMP-CRA principal fields (secret, a fresh salt, "
        "iterations, keylen), read as Crossbar reads them: the router derives the key from the "
        "secret as the client does. The secret comes from --secret, else WAMPCORE_SECRET, else a "
        "prompt.",
    )
    p.add_argument("--secret", metavar="SECRET", help="the secret (env WAMPCORE_SECRET)")
    p.add_argument("--salt", metavar="TEXT", help="the salt (default: 16 random bytes as hex)")
    p.add_argument("--iterations", type=int, default=1000, metavar="N", help="default 1000")
    p.add_argument("--keylen", type=int, default=32, metavar="N", help="default 32")


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
        "keygen": _keygen,
    }[args.command]
    try:
        return run(runner(args))
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
    except AuthError as exc:  # e.g. MissingExtra: "... pip install 'wampcore[crypto]'"
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
        static_dir = item.static_dir
        if static_dir is not None and args.config:
            # Relative to the configuration file, so the file works from any directory.
            static_dir = os.path.join(os.path.dirname(os.path.abspath(args.config)), static_dir)
        out.append(
            Listener(
                item.url,
                context,
                item.serializers,
                item.max_message_size,
                status_page=item.status_page,
                health=item.health,
                metrics=item.metrics,
                static_dir=static_dir,
                status_authrole=item.status_authrole,
            )
        )
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
    backplane = await _backplane(args, config)
    router, events = Router(config), _EventLog()
    try:
        server = await serve(
            router, listeners, max_message_size=config.limits.max_message_size, on_event=events
        )
    except BaseException:
        if backplane is not None:
            await backplane.close()
        raise
    if backplane is not None:
        await backplane.attach(server)
        print(f"cluster node {backplane.node} on {backplane.config.url}", flush=True)
    names = ", ".join(realm.name for realm in config.realms)
    print(f"wampcore router: realm{'s' if len(config.realms) > 1 else ''} {names}", flush=True)
    for url in server.urls:
        print(f"listening on {url}", flush=True)
    try:
        await _until_signalled()
    finally:
        print("shutting down", file=sys.stderr, flush=True)
        await server.close()
        if backplane is not None:
            await backplane.close()
        events.flush()
    return 0


async def _backplane(args: argparse.Namespace, config: RouterConfig) -> Any:
    """The NATS backplane if ``--cluster`` or a ``[cluster]`` table asks for one."""
    if args.cluster is None and args.node is None and config.cluster is None:
        return None
    import dataclasses

    from wampcore.config import ClusterConfig

    cluster = config.cluster or ClusterConfig()
    if args.cluster is not None:
        cluster = dataclasses.replace(cluster, url=args.cluster)
    if args.node is not None:
        cluster = dataclasses.replace(cluster, node=args.node)
    elif args.cluster is None and config.cluster is None:
        raise _Fail("--node needs --cluster (or a [cluster] table)", EXIT_USAGE)
    cluster.validate()
    from .cluster import Backplane, ClusterUnavailable

    try:
        return await Backplane.connect(cluster)
    except ClusterUnavailable as exc:
        raise _Fail(str(exc), EXIT_CONNECTION) from None


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
        **_auth_options(args),
    )


def _from_env(args: argparse.Namespace, name: str) -> Any:
    value = getattr(args, name, None)
    if value is None:
        value = os.environ.get(AUTH_ENV[name]) or None
    return value


def _auth_options(args: argparse.Namespace) -> dict[str, Any]:
    """The ClientPeer's authentication options from the command line and the environment."""
    opts: dict[str, Any] = {}
    for name in ("authid", "ticket", "secret", "password"):
        value = _from_env(args, name)
        if value is not None:
            opts[name] = value
    if args.private_key is not None:
        opts["private_key"] = _read_private_key(args.private_key)
    elif os.environ.get(AUTH_ENV["private_key"]):
        opts["private_key"] = os.environ[AUTH_ENV["private_key"]].strip()
    if args.authrole is not None:
        opts["authrole"] = args.authrole
    needs = {"cryptosign": "private_key", "scram": "password", "wampcra": "secret"}
    needs["ticket"] = "ticket"
    flags = {"private_key": "--private-key FILE", "password": "--password", "secret": "--secret"}
    flags["ticket"] = "--ticket"
    if args.authmethod:
        for method in args.authmethod:
            key = needs.get(method)
            if key is not None and key not in opts:
                env = AUTH_ENV[key]
                raise _Fail(f"--authmethod {method} needs {flags[key]} (or {env})", EXIT_USAGE)
        opts["authmethods"] = list(dict.fromkeys(args.authmethod))
    offered = args.authmethod or list(needs)
    given = [m for m in offered if m in ("scram", "wampcra", "ticket") and needs[m] in opts]
    if given and "authid" not in opts:
        raise _Fail(
            f"{given[0]} authentication needs --authid (or {AUTH_ENV['authid']})", EXIT_USAGE
        )
    return opts


def _read_private_key(path: str) -> str | bytes:
    """A cryptosign private key file: 64 hex digits (whitespace around ignored) or 32 bytes."""
    try:
        with open(path, "rb") as f:
            data = f.read(4097)
    except OSError as exc:
        raise _Fail(
            f"cannot read the private key {path}: {exc.strerror or exc}", EXIT_USAGE
        ) from None
    if len(data) == 32:
        return data
    try:
        text = data.decode("ascii").strip()
    except UnicodeDecodeError:
        text = ""
    if len(text) != 64 or any(c not in "0123456789abcdefABCDEF" for c in text):
        raise _Fail(
            f"{path}: not a cryptosign private key (64 hex digits, or 32 raw bytes)", EXIT_USAGE
        )
    return text


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
        try:
            out, err = await proc.communicate(request.encode())
        except BaseException:  # cancelled (INTERRUPT, shutdown): do not leave it running
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()  # reaps it; its pipe transports close
            raise
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


# --- wampcore keygen --------------------------------------------------------------------------


def _toml_str(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def _secret_input(given: str | None, env: str, prompt: str) -> str:
    """A secret from its option, else the environment, else a prompt on a terminal."""
    if given is None:
        given = os.environ.get(env) or None
    if given is None:
        if not sys.stdin.isatty():
            raise _Fail(f"give {prompt} with its option or {env}", EXIT_USAGE)
        import getpass

        given = getpass.getpass(f"{prompt}: ")
    if not given:
        raise _Fail(f"the {prompt} is empty", EXIT_USAGE)
    return given


async def _keygen(args: argparse.Namespace) -> int:
    from wampcore.auth import base as auth_base
    from wampcore.ids import default_random

    rng = default_random()
    if args.kind == "cryptosign":
        missing = auth_base.extra_needed("cryptosign")
        if missing is not None:
            raise auth_base.MissingExtra("cryptosign", missing)
        from wampcore.auth.cryptosign import generate_cryptosign_keypair

        private, public = generate_cryptosign_keypair(rng)
        if args.out:
            _write_private(args.out, private)
        print("# wampcore keygen cryptosign: an Ed25519 key pair")
        if args.out:
            print(f"# the private key is in {args.out} (for --private-key {args.out})")
        else:
            print("# the client's secret (--private-key FILE holding it, or WAMPCORE_PRIVATE_KEY):")
            print(f"private_key = {_toml_str(private)}")
        print("# for the principal in [[realms.principals]]:")
        print(f"cryptosign_keys = [{_toml_str(public)}]", flush=True)
        return 0
    if args.kind == "scram":
        password = _secret_input(args.password, AUTH_ENV["password"], "password")
        if args.kdf == "argon2id13":
            missing = auth_base.extra_needed("scram")
            if missing is not None:
                raise auth_base.MissingExtra("scram", missing)
        from wampcore.auth.scram import derive_scram_credential

        salt = None
        if args.salt is not None:
            try:
                salt = bytes.fromhex(args.salt)
            except ValueError:
                raise _Fail("--salt must be hex", EXIT_USAGE) from None
        argon = args.kdf == "argon2id13"
        if not argon and args.memory is not None:
            raise _Fail("--memory applies to --kdf argon2id13 only", EXIT_USAGE)
        iterations = args.iterations if args.iterations is not None else (4096 if argon else 600000)
        memory = args.memory if args.memory is not None else 512
        record = derive_scram_credential(
            password, salt, kdf=args.kdf, iterations=iterations, memory=memory, rng=rng
        )
        fields = [f'kdf = "{args.kdf}"', f"salt = {_toml_str(record['salt'])}"]
        fields.append(f"iterations = {record['iterations']}")
        if argon:
            fields.append(f"memory = {record['memory']}")
        fields.append(f"stored_key = {_toml_str(record['stored_key'])}")
        fields.append(f"server_key = {_toml_str(record['server_key'])}")
        print("# for the principal in [[realms.principals]] (the client uses --password):")
        print(f"scram = {{ {', '.join(fields)} }}", flush=True)
        return 0
    from wampcore.auth.base import random_bytes
    from wampcore.auth.wampcra import derive_cra_key

    secret = _secret_input(args.secret, AUTH_ENV["secret"], "secret")
    salt_text = args.salt if args.salt is not None else random_bytes(rng, 16).hex()
    if not salt_text:
        raise _Fail("--salt must not be empty", EXIT_USAGE)
    for name in ("iterations", "keylen"):
        if getattr(args, name) < 1:
            raise _Fail(f"--{name} must be a positive integer", EXIT_USAGE)
    derive_cra_key(secret, salt_text, args.iterations, args.keylen)  # checks the inputs
    print("# salted WAMP-CRA, for the principal in [[realms.principals]];")
    print("# the client authenticates with the same secret (--secret or WAMPCORE_SECRET):")
    print(f"secret = {_toml_str(secret)}")
    print(f"salt = {_toml_str(salt_text)}")
    print(f"iterations = {args.iterations}")
    print(f"keylen = {args.keylen}", flush=True)
    return 0


def _write_private(path: str, private_hex: str) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise _Fail(f"{path} exists: not overwriting a key", EXIT_USAGE) from None
    except OSError as exc:
        raise _Fail(f"cannot create {path}: {exc.strerror or exc}", EXIT_USAGE) from None
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(private_hex + "\n")
