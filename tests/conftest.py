"""Shared pytest plumbing for tests/: the ``interop`` marker and the results file it feeds.

An interop test declares which cells of the interop matrix (docs/interop.md) it exercises:

    @pytest.mark.interop(peer="autobahn-python", transport="{scheme}", serializer="{serializer}",
                         features=["rpc", "pubsub"])

``{name}`` is replaced by the test's parameter ``name`` (so one decoration covers every
parametrized case); ``ws``/``rs`` mean WebSocket/RawSocket. ``unless="{serializer} == json"``
drops the marker for the cases where the two sides are equal (a feature only some parameter
combinations exercise, such as binary values). A test may carry several such
markers (a test with two foreign peers fills cells of both). At the end of a session that ran
any marked test, every marked test's outcome is written to build/interop-results.json, which
tools/interop_matrix.py turns into docs/interop.md -- when the session ran the whole suite (no
paths, ``-k``, ``-m``, ``--deselect``, ``--lf`` or ``-x``); a narrower run writes
build/interop-results.partial.json instead, so it never replaces a whole run's results. The
vocabulary (peers, features) is the tool's: an unknown name fails the collection, so the
document cannot silently miss a cell.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "build" / "interop-results.json"
PARTIAL_RESULTS = ROOT / "build" / "interop-results.partial.json"
TRANSPORTS = {"ws": "websocket", "rs": "rawsocket", "websocket": "websocket"}
TRANSPORTS["rawsocket"] = "rawsocket"


def _matrix() -> ModuleType:
    """tools/interop_matrix.py, which owns the names a marker may use."""
    name = "interop_matrix"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / "interop_matrix.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@dataclass
class _Cells:
    """The matrix cells one test covers, and what became of it."""

    cells: list[dict[str, Any]]
    reason: str = ""
    phases: dict[str, str] = field(default_factory=dict)


_COLLECTED: dict[str, _Cells] = {}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "interop(peer, transport, serializer, features): the interop-matrix cells this test "
        "covers (docs/interop.md; tools/interop_matrix.py); {param} takes a parameter's value",
    )


def _resolve(item: pytest.Item, marker: pytest.Mark) -> dict[str, Any] | None:
    params = getattr(getattr(item, "callspec", None), "params", {})

    def fill(value: str) -> str:
        try:
            return value.format(**params)
        except (KeyError, IndexError) as exc:
            raise pytest.UsageError(
                f"{item.nodeid}: interop marker names {exc} that is no parameter of the test"
            ) from None

    kwargs = dict(marker.kwargs)
    required = {"peer", "transport", "serializer", "features"}
    if marker.args or set(kwargs) - {*required, "unless"} or not required <= set(kwargs):
        raise pytest.UsageError(
            f"{item.nodeid}: interop(peer=, transport=, serializer=, features=[...]) takes "
            f"exactly those four keywords and optionally unless= (got args={marker.args}, "
            f"keywords={sorted(kwargs)})"
        )
    if "unless" in kwargs:
        left, equals, right = fill(kwargs["unless"]).partition("==")
        if not equals:
            raise pytest.UsageError(f"{item.nodeid}: interop unless= must read 'A == B'")
        if left.strip() == right.strip():
            return None
    features = kwargs["features"]
    features = [features] if isinstance(features, str) else list(features)
    cell = {
        "peer": fill(kwargs["peer"]),
        "transport": TRANSPORTS.get(fill(kwargs["transport"]), fill(kwargs["transport"])),
        "serializer": fill(kwargs["serializer"]),
        "features": [fill(f) for f in features],
    }
    problem = _matrix().check_cell(cell)
    if problem:
        raise pytest.UsageError(f"{item.nodeid}: interop marker: {problem}")
    return cell


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    _COLLECTED.clear()
    for item in items:
        cells = [_resolve(item, m) for m in reversed(list(item.iter_markers("interop")))]
        if any(cells):
            _COLLECTED[item.nodeid] = _Cells([cell for cell in cells if cell is not None])


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    record = _COLLECTED.get(report.nodeid)
    if record is None:
        return
    if hasattr(report, "wasxfail"):
        # An expected failure that happened: the peer's own gap, stated by the xfail reason.
        outcome = "xfailed" if report.skipped else "failed"
        record.reason = str(report.wasxfail).removeprefix("reason: ")
    elif report.skipped:
        outcome = "skipped"
        longrepr = report.longrepr
        record.reason = str(longrepr[2] if isinstance(longrepr, tuple) else longrepr)
        record.reason = record.reason.removeprefix("Skipped: ")
    else:
        outcome = report.outcome
    record.phases[report.when] = outcome


def _outcome(phases: dict[str, str]) -> str:
    values = phases.values()
    if "failed" in values:
        return "failed"
    for outcome in ("skipped", "xfailed"):
        if outcome in values:
            return outcome
    return "passed" if phases.get("call") == "passed" else "not run"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    ran = {nodeid: r for nodeid, r in _COLLECTED.items() if r.phases}
    if not ran or session.config.option.collectonly:
        return
    results = []
    for nodeid in sorted(ran):
        record = ran[nodeid]
        outcome = _outcome(record.phases)
        for cell in record.cells:
            results.append(
                {
                    "test": nodeid,
                    **cell,
                    "outcome": outcome,
                    "reason": record.reason if outcome in ("skipped", "xfailed") else "",
                }
            )
    path = RESULTS if _whole_suite(session.config) else PARTIAL_RESULTS
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"results": results}, indent=1, sort_keys=True) + "\n")


def _whole_suite(config: pytest.Config) -> bool:
    """Whether this session ran everything ``testpaths`` holds (what .ci/test runs)."""
    narrowed = (
        config.option.keyword
        or config.option.markexpr
        or config.getoption("deselect", None)
        or config.getoption("lf", False)
        or config.getoption("exitfirst", False)
    )
    return config.args_source == pytest.Config.ArgsSource.TESTPATHS and not narrowed
