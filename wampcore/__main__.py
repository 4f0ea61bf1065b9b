"""``python -m wampcore``: the same as the ``wampcore`` command (see wampcore.adapters.cli)."""

import importlib

# Imported by name: the adapters live in adapters/ (mapped to wampcore.adapters at install
# time), which a type check of the core alone cannot follow, and the core imports no adapter.
cli = importlib.import_module("wampcore.adapters.cli")
raise SystemExit(cli.main())
