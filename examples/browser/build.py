"""Vendors autobahn-js's browser bundle next to the demo page, so nothing is fetched at run time.

The bundle comes from npm (``autobahn-browser``, pinned in tests/js/package-lock.json and
installed by ``npm ci --prefix tests/js``, a step of .ci/test). It is a build product, not
committed (see .gitignore). ``build(target)`` also assembles the whole page in another directory,
which is what tests/test_browser.py serves.

    .venv/bin/python examples/browser/build.py [TARGET_DIR]
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BUNDLE = (
    HERE.parent.parent / "tests" / "js" / "node_modules" / "autobahn-browser" / "autobahn.min.js"
)
PAGE = ("index.html", "app.js")


class BundleMissing(RuntimeError):
    """The npm package is not installed: ``npm ci --prefix tests/js`` has not been run."""


def build(target: Path = HERE) -> Path:
    """Put the page and the bundle in ``target``; the directory to serve."""
    if not BUNDLE.is_file():
        raise BundleMissing(
            f"{BUNDLE} is missing: run `npm ci --prefix tests/js` (bash .ci/test does)"
        )
    target.mkdir(parents=True, exist_ok=True)
    if target.resolve() != HERE:
        for name in PAGE:
            shutil.copyfile(HERE / name, target / name)
    shutil.copyfile(BUNDLE, target / BUNDLE.name)
    return target


if __name__ == "__main__":
    try:
        where = build(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
    except BundleMissing as exc:
        print(f"build.py: {exc}", file=sys.stderr)
        sys.exit(1)
    print(f"demo page ready in {where}")
