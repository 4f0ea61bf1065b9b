"""The interop matrix machinery (issue 12): the ``interop`` marker and results file of
tests/conftest.py, and tools/interop_matrix.py, which renders docs/interop.md and checks it.

The plugin is exercised in a pytest subprocess on a scratch test file (hard timeout); the tool
on hand-made results, so every cell kind is seen at least once.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import interop_matrix  # noqa: E402

PLUGIN = ROOT / "tests" / "conftest.py"


def run_plugin(
    tmp_path: Path, tests: str, *, whole: bool = False
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """pytest on ``tests`` with the interop plugin, on its path or (``whole``) on its
    ``testpaths``; the run, and the results file the plugin must have chosen."""
    results, partial = tmp_path / "results.json", tmp_path / "partial.json"
    (tmp_path / "pytest.ini").write_text("[pytest]\ntestpaths = .\n")
    (tmp_path / "conftest.py").write_text(
        textwrap.dedent(
            f"""
            import importlib.util
            import sys
            from pathlib import Path

            spec = importlib.util.spec_from_file_location("interop_plugin", {str(PLUGIN)!r})
            plugin = sys.modules["interop_plugin"] = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(plugin)
            plugin.RESULTS = Path({str(results)!r})
            plugin.PARTIAL_RESULTS = Path({str(partial)!r})
            pytest_configure = plugin.pytest_configure
            pytest_collection_modifyitems = plugin.pytest_collection_modifyitems
            pytest_runtest_logreport = plugin.pytest_runtest_logreport
            pytest_sessionfinish = plugin.pytest_sessionfinish
            """
        )
    )
    (tmp_path / "test_scratch.py").write_text(textwrap.dedent(tests))
    where = [] if whole else [str(tmp_path)]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *where],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
    )
    assert not (results if not whole else partial).exists(), "the wrong results file"
    return done, results if whole else partial


def test_the_plugin_records_each_marked_tests_cells_and_outcome(tmp_path: Path) -> None:
    """Placeholders take the parameters' values, ws/rs are spelled out, several markers give
    several cells, and passed / failed / xfailed / skipped come with the reasons that matter."""
    done, results = run_plugin(
        tmp_path,
        whole=True,
        tests="""
        import pytest

        @pytest.mark.interop(peer="autobahn-python", transport="{scheme}",
                             serializer="{ser}", features=["rpc", "auth-{method}"])
        @pytest.mark.parametrize("scheme", ["ws", "rs"])
        @pytest.mark.parametrize(("ser", "method"), [("json", "ticket")])
        def test_param(scheme, ser, method):
            assert scheme != "rs"

        @pytest.mark.interop(peer="wampcore", transport="rs", serializer="cbor",
                             features="pubsub")
        @pytest.mark.interop(peer="autobahn-js-node", transport="websocket",
                             serializer="msgpack", features=["rpc"])
        @pytest.mark.xfail(strict=True, reason="the peer cannot")
        def test_two_peers_xfail():
            raise RuntimeError

        @pytest.mark.interop(peer="crossbar", transport="ws", serializer="json",
                             features=["history"])
        def test_skipped():
            pytest.skip("no crossbar here")

        def test_unmarked():
            pass
        """,
    )
    assert done.returncode == 1, done.stdout  # the rs case fails
    got = json.loads(results.read_text())["results"]
    keys = ("peer", "transport", "serializer", "features", "outcome", "reason")
    brief = [(r["test"].split("::")[1], *(r[k] for k in keys)) for r in got]
    assert brief == [
        (
            "test_param[json-ticket-rs]",
            "autobahn-python",
            "rawsocket",
            "json",
            ["rpc", "auth-ticket"],
            "failed",
            "",
        ),
        (
            "test_param[json-ticket-ws]",
            "autobahn-python",
            "websocket",
            "json",
            ["rpc", "auth-ticket"],
            "passed",
            "",
        ),
        (
            "test_skipped",
            "crossbar",
            "websocket",
            "json",
            ["history"],
            "skipped",
            "no crossbar here",
        ),
        (
            "test_two_peers_xfail",
            "wampcore",
            "rawsocket",
            "cbor",
            ["pubsub"],
            "xfailed",
            "the peer cannot",
        ),
        (
            "test_two_peers_xfail",
            "autobahn-js-node",
            "websocket",
            "msgpack",
            ["rpc"],
            "xfailed",
            "the peer cannot",
        ),
    ]


@pytest.mark.parametrize(
    ("marker", "complaint"),
    [
        ('peer="nobody", transport="ws", serializer="json", features=["rpc"]', "unknown peer"),
        ('peer="wampcore", transport="ws", serializer="yaml", features=["rpc"]', "serializer"),
        ('peer="wampcore", transport="ws", serializer="json", features=["rcp"]', "feature"),
        ('peer="wampcore", transport="{nope}", serializer="json", features=["rpc"]', "nope"),
        ('peer="wampcore", transport="ws", serializer="json"', "exactly those four"),
    ],
)
def test_a_marker_outside_the_vocabulary_fails_the_collection(
    tmp_path: Path, marker: str, complaint: str
) -> None:
    """A misspelt peer or feature must not become a silently missing cell."""
    done, results = run_plugin(
        tmp_path, f"import pytest\n\n@pytest.mark.interop({marker})\ndef test_x():\n    pass\n"
    )
    assert done.returncode != 0 and complaint in done.stdout + done.stderr
    assert not results.exists()


def result(peer: str, transport: str, serializer: str, features: list[str], outcome: str,
           reason: str = "", test: str = "tests/test_x.py::test_y") -> dict[str, Any]:  # fmt: skip
    return {
        "test": test,
        "peer": peer,
        "transport": transport,
        "serializer": serializer,
        "features": features,
        "outcome": outcome,
        "reason": reason,
    }


RESULTS = [
    result("autobahn-python", "websocket", "json", ["rpc"], "passed"),
    result("autobahn-python", "websocket", "json", ["rpc"], "passed", test="tests/a.py::t"),
    result("autobahn-python", "rawsocket", "cbor", ["rpc"], "failed"),
    result("autobahn-js-node", "websocket", "msgpack", ["rpc"], "xfailed", "msgpack5 refuses"),
    result("autobahn-js-node", "websocket", "msgpack", ["rpc"], "passed"),
    result("crossbar", "websocket", "json", ["history"], "skipped", "Crossbar.io is missing"),
    result("autobahn-js-chromium", "websocket", "json", ["pubsub"], "passed"),
]


def test_cells_say_what_their_tests_did_and_gaps_say_why() -> None:
    """Each cell: pass (n), FAILED n of m, gap [note] (a seen xfail, or a declared gap where no
    test can run), skipped [note], or — where nothing covers it; the notes hold the reasons."""
    text = interop_matrix.render(RESULTS)
    lines = text.splitlines()

    def row(section: str, meaning: str) -> list[str]:
        start = lines.index(f"## {section}")
        line = next(x for x in lines[start:] if x.startswith(f"| {meaning} |"))
        return [cell.strip() for cell in line.strip("|").split("|")][1:]

    rpc = interop_matrix.FEATURES["rpc"]
    assert row("Autobahn|Python", rpc) == ["pass (2)", "—", "—", "—", "—", "**FAILED** 1 of 1"]
    js = row("autobahn-js in Node.js", rpc)
    assert js[1].startswith("pass (1), gap [") and js[4].startswith("gap [")  # RawSocket msgpack
    chromium = row("autobahn-js in Chromium", interop_matrix.FEATURES["pubsub"])
    assert chromium[0] == "pass (1)" and chromium[3:] == [chromium[3]] * 3
    assert chromium[3].startswith("gap [")
    assert row("Crossbar.io as router", interop_matrix.FEATURES["history"])[0].startswith(
        "skipped ["
    )
    notes = text[text.index("## Notes") :]
    for reason in ("msgpack5 refuses", "Crossbar.io is missing", "a browser has no raw TCP"):
        assert reason in notes
    assert "Tests: `tests/a.py`, `tests/test_x.py`." in text


def test_the_document_is_deterministic() -> None:
    """No timestamps or timings: the same results in any order give the same bytes."""
    assert interop_matrix.render(RESULTS) == interop_matrix.render(list(reversed(RESULTS)))


def test_check_passes_when_current_and_fails_with_one_line_and_a_diff(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results, doc = tmp_path / "results.json", tmp_path / "interop.md"
    results.write_text(json.dumps({"results": RESULTS}))
    files = ["--results", str(results), "--output", str(doc)]
    assert interop_matrix.main(files) == 0 and doc.read_text() == interop_matrix.render(RESULTS)
    assert interop_matrix.main(["--check", *files]) == 0
    doc.write_text(doc.read_text().replace("pass (2)", "pass (3)"))
    capsys.readouterr()
    assert interop_matrix.main(["--check", *files]) == 1
    err = capsys.readouterr().err.splitlines()
    assert "is stale" in err[0] and "tools/interop_matrix.py" in err[0]
    assert any(line.startswith("-") and "pass (3)" in line for line in err)
    assert any(line.startswith("+") and "pass (2)" in line for line in err)
    # No results at all: one line saying what to run.
    assert interop_matrix.main(["--check", "--results", str(tmp_path / "none.json")]) == 1
    assert "run the test suite first" in capsys.readouterr().err


def test_the_committed_matrix_is_well_formed() -> None:
    """docs/interop.md is the tool's output (its header), with a section for every peer."""
    text = (ROOT / "docs" / "interop.md").read_text()
    assert text.startswith("# Interop matrix\n")
    for title, _ in interop_matrix.PEERS.values():
        assert f"\n## {title}\n" in text


def test_a_narrower_run_writes_the_partial_results_file(tmp_path: Path) -> None:
    """Running one file (as a developer does) must not replace the whole suite's results."""
    done, partial = run_plugin(
        tmp_path,
        """
        import pytest

        @pytest.mark.interop(peer="wampcore", transport="ws", serializer="json", features="rpc")
        def test_one():
            pass
        """,
    )
    assert done.returncode == 0, done.stdout
    assert [r["outcome"] for r in json.loads(partial.read_text())["results"]] == ["passed"]
