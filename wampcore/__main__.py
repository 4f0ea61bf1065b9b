"""``python -m wampcore``: the same as the ``wampcore`` command (see wampcore.adapters.cli)."""

from wampcore.adapters.cli import main

raise SystemExit(main())
