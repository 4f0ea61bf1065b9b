"""Every snippet in README.md is executed (or, for excerpts, checked against its source file).

* ``python`` blocks run against a ``wampcore router`` on ephemeral ports (the README's 8080 and
  8081 are rewritten); a ``print(...)  # expected`` comment is the line that print must give.
* The ``sh`` block of CLI examples runs in bash; its stdout must equal the ``text`` block after it.
* ``toml`` blocks must load with ``read_config_file``.
* ``<!-- excerpt: PATH -->`` blocks must appear, line for line, in PATH.
* The router command (``<!-- router-command -->``) runs in a copy of the checkout with a fresh
  virtual environment; CI itself runs the test command (``<!-- test-command -->``).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from adapterkit import Router, port_is_free
from wampcore.adapters import threads

from wampcore.config import read_config_file

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
pytestmark = pytest.mark.timeout(300)


@dataclass
class Block:
    lang: str
    code: str
    marker: str  # the <!-- ... --> comment right before the block, if any
    line: int


def blocks() -> list[Block]:
    found: list[Block] = []
    marker = ""
    lines = README.read_text().splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("<!--"):
            marker = line.strip("<!-> ").strip()
        elif line.startswith("```") and len(line) > 3:
            start = i
            body: list[str] = []
            i += 1
            while not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            found.append(Block(line[3:].strip(), "\n".join(body) + "\n", marker, start + 1))
            marker = ""
        elif line.strip():
            marker = ""
        i += 1
    return found


BLOCKS = blocks()


def of(lang: str, marker: str | None = None) -> list[Block]:
    return [b for b in BLOCKS if b.lang == lang and (marker is None or b.marker.startswith(marker))]


@pytest.fixture(scope="module")
def router() -> Iterator[Router]:
    with Router() as r:
        yield r


def localise(text: str, router: Router) -> str:
    ws_port = router.urls["ws"].rsplit(":", 1)[1].split("/")[0]
    rs_port = router.urls["rs"].rsplit(":", 1)[1]
    return text.replace("127.0.0.1:8080", f"127.0.0.1:{ws_port}").replace(
        "127.0.0.1:8081", f"127.0.0.1:{rs_port}"
    )


def test_readme_has_the_snippets_this_test_expects() -> None:
    assert len(of("python", "")) >= 3
    assert len(of("sh", "router-command")) == 1 and len(of("sh", "test-command")) == 1
    assert len(of("python", "excerpt")) >= 4 and of("toml") and of("text")


@pytest.mark.parametrize(
    "block", [b for b in of("python") if not b.marker], ids=lambda b: f"line{b.line}"
)
def test_python_snippet_runs(router: Router, block: Block, tmp_path: Path) -> None:
    script = tmp_path / "snippet.py"
    script.write_text(localise(block.code, router))
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    expected = re.findall(r"^\s*print\(.*\)\s+# (.+)$", block.code, re.MULTILINE)
    if expected:
        assert result.stdout.splitlines() == expected
    else:
        assert result.stdout.strip()


@pytest.mark.parametrize("block", of("python", "excerpt"), ids=lambda b: f"line{b.line}")
def test_excerpt_matches_its_source(block: Block) -> None:
    source = ROOT / block.marker.split(":", 1)[1].strip()
    wanted = [line.strip() for line in block.code.splitlines() if line.strip()]
    have = [line.strip() for line in source.read_text().splitlines()]
    assert any(have[i : i + len(wanted)] == wanted for i in range(len(have))), (
        f"README line {block.line}: the excerpt no longer matches {source.name}"
    )


def test_cli_examples_print_what_the_readme_says(router: Router) -> None:
    (cli,) = [b for b in of("sh") if not b.marker]
    expected = BLOCKS[BLOCKS.index(cli) + 1]
    assert expected.lang == "text"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        ["bash", "-c", localise(cli.code, router)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.stdout == expected.code, result.stderr


def test_toml_example_is_a_valid_configuration(tmp_path: Path) -> None:
    for block in of("toml"):
        path = tmp_path / "router.toml"
        path.write_text(block.code)
        loaded = read_config_file(path)
        assert loaded.router.realms and loaded.listeners


@pytest.mark.timeout(600)
@pytest.mark.skipif(
    not (port_is_free(8080) and port_is_free(8081)), reason="ports 8080/8081 are in use here"
)
def test_router_command_in_a_fresh_virtual_environment(tmp_path: Path) -> None:
    """The newcomer's first command, verbatim, in a copy of the checkout."""
    (command,) = of("sh", "router-command")
    checkout = tmp_path / "wampcore"
    shutil.copytree(
        ROOT,
        checkout,
        ignore=shutil.ignore_patterns(
            ".venv",
            ".cbvenv",
            ".git",
            "build",
            "*.egg-info",
            "__pycache__",
            ".*_cache",
            ".hypothesis",
            "node_modules",
        ),
    )
    popen = subprocess.Popen(
        ["bash", "-c", command.code],
        cwd=tmp_path / "wampcore",
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        assert popen.stdout is not None
        seen: list[str] = []
        end = time.monotonic() + 540
        while sum("listening on" in s for s in seen) < 2:
            line = popen.stdout.readline()
            assert line and time.monotonic() < end, f"router did not start: {seen}"
            seen.append(line)
        assert any("ws://127.0.0.1:8080/ws" in s for s in seen)
        assert any("rs://127.0.0.1:8081" in s for s in seen)
        with threads.connect("ws://127.0.0.1:8080/ws", "realm1") as session:
            session.register("com.example.fresh", lambda: "fresh")
            assert session.call("com.example.fresh") == "fresh"
    finally:
        os.killpg(popen.pid, signal.SIGTERM)  # bash and the router: a terminal's Ctrl-C
        rest, _ = popen.communicate(timeout=30)
    # bash itself dies of the signal; the router shuts down gracefully, without a traceback.
    assert "shutting down" in rest and "Traceback" not in rest
