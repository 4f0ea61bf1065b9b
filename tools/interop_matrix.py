"""The interop matrix: docs/interop.md from the interop tests' last results.

Interop tests carry ``@pytest.mark.interop(peer=, transport=, serializer=, features=)`` (see
tests/conftest.py); a test session writes every marked test's outcome to
build/interop-results.json. This tool owns the matrix's vocabulary (peers, transports,
serializers, features), the gaps that are a peer's own (stated with the reason, never
"failed"), and the rendering:

    .venv/bin/python tools/interop_matrix.py           # write docs/interop.md
    .venv/bin/python tools/interop_matrix.py --check   # exit 1 (and a diff) if it is stale

A run narrower than the whole suite writes build/interop-results.partial.json instead (pass it
with ``--results`` to render that).

The document holds no timestamps or timings, so the same results always give the same bytes.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "build" / "interop-results.json"
DOCUMENT = ROOT / "docs" / "interop.md"

#: Peer key -> (heading, who is on the other side).
PEERS: dict[str, tuple[str, str]] = {
    "autobahn-python": (
        "Autobahn|Python",
        "Autobahn|Python's asyncio clients (PyPI `autobahn`) join `wampcore router`.",
    ),
    "autobahn-js-node": (
        "autobahn-js in Node.js",
        "autobahn-js (npm `autobahn` 26.3.1) in Node.js joins `wampcore router`.",
    ),
    "autobahn-js-chromium": (
        "autobahn-js in Chromium",
        "autobahn-js's browser build (npm `autobahn-browser` 22.11.1) in Debian's Chromium, "
        "headless, runs the demo page (examples/browser/) that `wampcore router` serves, with a "
        "wampcore peer on the other side.",
    ),
    "crossbar": (
        "Crossbar.io as router",
        "wampcore's clients (the asyncio and threads APIs, the bare ClientPeer, the `wampcore` "
        "command) join Crossbar.io (PyPI `crossbar`).",
    ),
    "wampcore": (
        "wampcore with a foreign peer",
        "wampcore's asyncio client joins `wampcore router` and talks to one of the foreign "
        "peers above through it (autobahn-js in Node.js, or in Chromium).",
    ),
}
TRANSPORTS = ("websocket", "rawsocket")
SERIALIZERS = ("json", "msgpack", "cbor")
SHORT = {"websocket": "WebSocket", "rawsocket": "RawSocket"}

#: Feature key -> what the row means (with the wamp-spec section).
FEATURES: dict[str, str] = {
    "join": "join, leave, ABORT for an unknown realm (§3.1, §3.2)",
    "rpc": "RPC: call, register, results (§3.4)",
    "errors": "call errors with args and kwargs (§3.4)",
    "progressive": "progressive call results (§4.2)",
    "cancel": "call canceling (§4.5)",
    "disclosure": "caller / publisher identification (§4.6, §4.15)",
    "pattern": "pattern-based registration / subscription (§4.8, §4.17)",
    "pubsub": "publish / subscribe (§3.3)",
    "exclusion": "publisher exclusion (§4.14)",
    "binary": "binary values (§5.1, §5.2)",
    "auth-anonymous": "anonymous authentication (§4.28)",
    "auth-ticket": "ticket authentication (§4.28)",
    "auth-wampcra": "WAMP-CRA (§4.28)",
    "auth-wampcra-salted": "salted WAMP-CRA (§4.28)",
    "auth-scram": "WAMP-SCRAM, Argon2id (§4.28)",
    "auth-scram-pbkdf2": "WAMP-SCRAM, PBKDF2 (§4.28)",
    "auth-cryptosign": "WAMP-Cryptosign (§4.28)",
    "authorization": "authorization by role, refusals (§3.5)",
    "meta-session": "session meta API (§4.25)",
    "meta-registration": "registration meta API (§4.26)",
    "meta-subscription": "subscription meta API (§4.27)",
    "testament": "testaments (§4.23)",
    "retention": "event retention (§4.20)",
    "history": "event history (§4.19)",
}


@dataclass(frozen=True)
class Gap:
    """Something a peer itself cannot do: its cells say so (with ``reason``) unless a test ran.

    ``None`` in a field matches every value."""

    peer: str
    transport: str | None
    serializer: str | None
    feature: str | None
    reason: str


GAPS: tuple[Gap, ...] = (
    Gap(
        "autobahn-js-chromium",
        "rawsocket",
        None,
        None,
        "a browser has no raw TCP sockets: autobahn-js offers RawSocket only in Node.js",
    ),
    Gap(
        "autobahn-js-node",
        "rawsocket",
        "msgpack",
        None,
        "autobahn-js's RawSocket transport knows only the JSON serializer",
    ),
    Gap(
        "autobahn-js-node",
        "rawsocket",
        "cbor",
        None,
        "autobahn-js's RawSocket transport knows only the JSON serializer",
    ),
    Gap(
        "autobahn-js-node",
        None,
        "json",
        "binary",
        "autobahn-js's JSON serializer has no `\\0`+base64 convention for binary values "
        "(wamp-spec §5.2): a JS Buffer cannot travel as binary over JSON",
    ),
    *(
        Gap(peer, None, None, feature, "autobahn-js has no WAMP-SCRAM implementation")
        for peer in ("autobahn-js-node", "autobahn-js-chromium")
        for feature in ("auth-scram", "auth-scram-pbkdf2")
    ),
)

#: Gaps of a peer that have no cell in the grid.
NOTES: dict[str, tuple[str, ...]] = {
    "autobahn-python": (
        "Batched WebSocket (wamp-spec §5.3, `wamp.2.json.batched`): Autobahn|Python ends each "
        "batched JSON message with 0x18 where the spec says 0x1E, so the two cannot batch JSON "
        "together; wampcore follows the spec. Batched msgpack and cbor use the same 4-byte "
        "length prefix in both.",
    ),
    "autobahn-js-node": (
        "A procedure that returns nothing answers `YIELD [undefined]`, which msgpack5 cannot "
        "encode (see the msgpack gap under RPC).",
    ),
    "autobahn-js-chromium": (
        "The browser bundle has the same serializers as Node.js; the page chooses one with "
        "`?serializer=`.",
    ),
}


def check_cell(cell: Mapping[str, Any]) -> str | None:
    """Why a marker's (resolved) cell is not in the matrix's vocabulary; None if it is."""
    if cell["peer"] not in PEERS:
        return f"unknown peer {cell['peer']!r} (one of {', '.join(PEERS)})"
    if cell["transport"] not in TRANSPORTS:
        return f"unknown transport {cell['transport']!r} (one of {', '.join(TRANSPORTS)})"
    if cell["serializer"] not in SERIALIZERS:
        return f"unknown serializer {cell['serializer']!r} (one of {', '.join(SERIALIZERS)})"
    unknown = [f for f in cell["features"] if f not in FEATURES]
    if unknown:
        return f"unknown feature(s) {unknown} (one of {', '.join(FEATURES)})"
    if not cell["features"]:
        return "no features"
    return None


def gap_for(peer: str, transport: str, serializer: str, feature: str) -> Gap | None:
    for gap in GAPS:
        if (
            gap.peer == peer
            and gap.transport in (None, transport)
            and gap.serializer in (None, serializer)
            and gap.feature in (None, feature)
        ):
            return gap
    return None


class Notes:
    """Numbered footnotes, each text once, numbered in order of first use."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def ref(self, text: str) -> str:
        if text not in self.texts:
            self.texts.append(text)
        return f"[{self.texts.index(text) + 1}]"


def cell_text(outcomes: Sequence[tuple[str, str]], gap: Gap | None, notes: Notes) -> str:
    """One cell: what its tests did (outcome, reason), else the peer's gap, else not covered."""
    if not outcomes:
        return f"gap {notes.ref(gap.reason)}" if gap else "—"
    counts: dict[str, int] = {}
    for outcome, _ in outcomes:
        counts[outcome] = counts.get(outcome, 0) + 1
    parts = []
    if counts.get("failed"):
        parts.append(f"**FAILED** {counts['failed']} of {len(outcomes)}")
    if counts.get("passed"):
        parts.append(f"pass ({counts['passed']})")
    for outcome, label in (("xfailed", "gap"), ("skipped", "skipped"), ("not run", "not run")):
        reasons = sorted({reason for o, reason in outcomes if o == outcome})
        if reasons:
            parts.append(label + " " + "".join(notes.ref(r or "no reason given") for r in reasons))
    return ", ".join(parts)


def render(results: Iterable[Mapping[str, Any]]) -> str:
    """docs/interop.md for these results (deterministic: the same results, the same text)."""
    by_cell: dict[tuple[str, str, str, str], list[tuple[str, str]]] = {}
    tests: dict[str, set[str]] = {}
    for result in results:
        problem = check_cell(result)
        if problem:
            raise ValueError(f"{result.get('test')}: {problem}")
        for feature in result["features"]:
            key = (result["peer"], result["transport"], result["serializer"], feature)
            by_cell.setdefault(key, []).append((result["outcome"], result.get("reason", "")))
        tests.setdefault(result["peer"], set()).add(str(result["test"]).split("::")[0])

    notes = Notes()
    columns = [(t, s) for t in TRANSPORTS for s in SERIALIZERS]
    out = [
        "# Interop matrix",
        "",
        "<!-- Generated by tools/interop_matrix.py from build/interop-results.json; do not edit."
        " -->",
        "",
        "What wampcore was seen to do with each foreign peer, per transport, serializer and "
        "feature. Every cell is the outcome of the interop tests that cover it in the last full "
        "test run (`bash .ci/test`; the tests carry `@pytest.mark.interop`, see "
        "tests/conftest.py), not a claim: `pass (n)` means n tests covered the cell and passed; "
        "**FAILED** names how many did not; `gap [n]` is something the peer itself cannot do, "
        "for the reason in note n (an expected failure that was seen to fail, or a limitation "
        "stated in tools/interop_matrix.py where nothing can be run); `skipped [n]` a test that "
        "could not run here; `—` a combination no test covers. Regenerate with "
        "`.venv/bin/python tools/interop_matrix.py`; `.ci/test` checks it is current.",
        "",
    ]
    for peer, (title, who) in PEERS.items():
        out += [f"## {title}", "", who, ""]
        rows = []
        for feature, meaning in FEATURES.items():
            cells = []
            for transport, serializer in columns:
                outcomes = sorted(by_cell.get((peer, transport, serializer, feature), []))
                gap = gap_for(peer, transport, serializer, feature)
                cells.append((outcomes, gap))
            # A row for what some test covers, or for a gap of this very feature (a gap of
            # a whole transport alone, such as the browser's RawSocket, makes no row).
            if not any(outcomes or (gap and gap.feature) for outcomes, gap in cells):
                continue
            texts = [cell_text(o, g, notes) for o, g in cells]
            rows.append(f"| {meaning} | " + " | ".join(texts) + " |")
        if rows:
            header = " | ".join(f"{SHORT[t]} {s}" for t, s in columns)
            out += [f"| feature | {header} |", "|---" * (len(columns) + 1) + "|", *rows, ""]
        else:
            out += ["No test results for this peer.", ""]
        for note in NOTES.get(peer, ()):
            out.append(f"* {note}")
        if NOTES.get(peer):
            out.append("")
        if tests.get(peer):
            names = ", ".join(f"`{name}`" for name in sorted(tests[peer]))
            out += [f"Tests: {names}.", ""]
    if notes.texts:
        out += ["## Notes", ""]
        out += [f"{i}. {text}" for i, text in enumerate(notes.texts, 1)]
        out.append("")
    return "\n".join(out)


def load(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    results: list[dict[str, Any]] = data["results"]
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--output", type=Path, default=DOCUMENT)
    args = parser.parse_args(argv)
    if not args.results.is_file():
        print(
            f"interop_matrix: no {args.results}: run the test suite first (bash .ci/test)",
            file=sys.stderr,
        )
        return 1
    try:
        text = render(load(args.results))
    except (ValueError, KeyError, json.JSONDecodeError) as exc:
        print(f"interop_matrix: {args.results}: {exc}", file=sys.stderr)
        return 1
    if not args.check:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")
        return 0
    current = args.output.read_text(encoding="utf-8") if args.output.is_file() else ""
    if current == text:
        return 0
    print(
        f"interop_matrix: {args.output} is stale (it does not match the last test run's "
        f"results): regenerate it with `.venv/bin/python tools/interop_matrix.py`",
        file=sys.stderr,
    )
    diff = difflib.unified_diff(
        current.splitlines(keepends=True),
        text.splitlines(keepends=True),
        fromfile=f"{args.output} (committed)",
        tofile=f"{args.output} (from {args.results})",
    )
    sys.stderr.writelines(diff)
    return 1


if __name__ == "__main__":
    sys.exit(main())
