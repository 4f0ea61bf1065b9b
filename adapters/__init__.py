"""Thin I/O shells over the sans-I/O core, installed as ``wampcore.adapters``.

* :mod:`wampcore.adapters.asyncio`: asyncio client (``connect``) and router server (``serve``).
* :mod:`wampcore.adapters.threads`: the same client API, blocking; a threaded router server.
* :mod:`wampcore.adapters.rawsocket_tcp`: the smallest complete router server (selectors,
  RawSocket), the worked example of wiring a custom adapter.
* :mod:`wampcore.adapters.cli`: the ``wampcore`` command.

Adapters move bytes, own sockets, threads and clocks, and import only wampcore's public names.
"""
