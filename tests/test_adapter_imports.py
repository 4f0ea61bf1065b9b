"""Packaging and layering of the adapters (DESIGN §2): installed as ``wampcore.adapters``, no
top-level ``adapters`` package, and adapters use only wampcore's public names."""

from __future__ import annotations

import ast
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ADAPTER_FILES = sorted((ROOT / "adapters").glob("*.py"))


def wampcore_imports(path: Path) -> list[tuple[str, str]]:
    """(module, name) for every import of wampcore in ``path``."""
    found: list[tuple[str, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] == "wampcore":
                found += [(node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(a.name, "") for a in node.names if a.name.split(".")[0] == "wampcore"]
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module":
            found += [(str(getattr(node.args[0], "value", "")), "")]
    return found


@pytest.mark.parametrize("path", ADAPTER_FILES, ids=lambda p: p.name)
def test_adapters_import_only_public_wampcore_names(path: Path) -> None:
    for module, name in wampcore_imports(path):
        private = [part for part in (*module.split("."), name) if part.startswith("_")]
        assert not private, f"{path.name} imports {module}.{name}: private names are off limits"


def test_the_checker_catches_a_private_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from wampcore._state import SessionTracker\nfrom wampcore.ids import _x\n")
    assert wampcore_imports(bad) == [("wampcore._state", "SessionTracker"), ("wampcore.ids", "_x")]


def test_installed_as_wampcore_adapters_with_no_top_level_adapters(tmp_path: Path) -> None:
    """From a directory outside the checkout: wampcore.adapters imports, ``adapters`` does not."""
    code = (
        "import importlib.util, wampcore.adapters.asyncio, wampcore.adapters.threads;"
        "print(importlib.util.find_spec('adapters'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "None"


@pytest.mark.timeout(300)
def test_the_wheel_puts_adapters_under_wampcore(tmp_path: Path) -> None:
    """A non-editable install gets exactly what the wheel holds: everything under wampcore/."""
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = tmp_path.glob("wampcore-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"wampcore"}
    assert "wampcore/adapters/asyncio.py" in names and "wampcore/adapters/cli.py" in names
