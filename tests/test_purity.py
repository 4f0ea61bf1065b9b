"""The core is pure (DESIGN §1.1): nothing under wampcore/ imports socket, asyncio, threading,
selectors, time or the module-level random -- checked on the source of every module (AST,
including dynamic imports by name), and at run time for what importing the core pulls in."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[1] / "wampcore"
FORBIDDEN = {"socket", "asyncio", "threading", "selectors", "time", "random"}
#: `python -m wampcore` is a program, not part of the core: it runs the CLI from the adapters,
#: and nothing imports it.
PROGRAM = CORE / "__main__.py"


def _core_files() -> list[Path]:
    files = sorted(CORE.rglob("*.py"))
    assert len(files) > 5
    return files


def _imports(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, top-level module) for every import, static or by name."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            if name in ("import_module", "__import__") and isinstance(first, ast.Constant):
                found.append((node.lineno, str(first.value).split(".")[0]))
    return found


@pytest.mark.parametrize("path", _core_files(), ids=lambda p: str(p.relative_to(CORE)))
def test_core_module_imports_nothing_impure(path: Path) -> None:
    """DESIGN §1.1: no sockets, event loops, threads, selectors, clocks or global randomness."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    bad = [(line, mod) for line, mod in _imports(tree) if mod in FORBIDDEN]
    assert bad == [], f"{path.relative_to(CORE.parent)} imports {bad}"


@pytest.mark.parametrize("path", _core_files(), ids=lambda p: str(p.relative_to(CORE)))
def test_core_module_does_not_reach_into_adapters(path: Path) -> None:
    """DESIGN §2: adapters sit on top of the core; the core never imports them."""
    if path == PROGRAM:
        pytest.skip("wampcore/__main__.py is the CLI program itself")
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            parts = (node.module or "").split(".")
            assert "adapters" not in parts, f"{path}: imports {node.module}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                assert not alias.name.startswith("wampcore.adapters"), f"{path}: {alias.name}"
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            target = str(node.args[0].value)
            assert not target.startswith("wampcore.adapters"), f"{path}: loads {target}"


def test_the_checker_catches_what_it_should() -> None:
    """The AST check itself can fail (so the tests above mean something)."""
    src = (
        "import time\nfrom asyncio import sleep\nimport os.path\n"
        "import importlib\nimportlib.import_module('socket.x')\n__import__('random')\n"
        "from . import uri\n"
    )
    assert [m for _, m in _imports(ast.parse(src))] == [
        "time",
        "asyncio",
        "os",
        "importlib",
        "socket",
        "random",
    ]


def test_importing_the_core_loads_no_io_module() -> None:
    """DESIGN §1.1 at run time: importing every core module (in a fresh interpreter) loads no
    socket, asyncio, threading or selectors. (time is loaded by the interpreter itself at
    start-up and random by the standard library's secrets, so those two are checked on the
    source only, above.)"""
    code = (
        "import importlib, pkgutil, sys\n"
        "import wampcore\n"
        "for m in pkgutil.walk_packages(wampcore.__path__, 'wampcore.'):\n"
        "    if not m.name.endswith('__main__'):\n"
        "        importlib.import_module(m.name)\n"
        "print(','.join(sorted(n for n in ('socket', 'asyncio', 'threading', 'selectors')"
        " if n in sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == ""
