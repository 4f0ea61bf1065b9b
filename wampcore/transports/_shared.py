"""The serializer a server-role framing hands over in ``Ready``, shared between connections.

A server framing only names the serializer it negotiated; it never encodes with it. Building a
fresh one per connection made every idle connection carry an encoder of its own (a MessagePack
``Packer`` allocates a 256 KiB buffer), so server framings with the same negotiated format and
limit share one instance per process. The router encodes with instances of its own, one per
router (a router is driven by one thread), so this sharing never puts one encoder in two threads
on the router's behalf; a host that encodes with ``framing.serializer`` itself, from several
threads, should build its own serializer per thread.
"""

from __future__ import annotations

from ..serializers import Serializer, serializer_for_rawsocket_id, serializer_for_subprotocol

__all__ = ["for_rawsocket_id", "for_subprotocol"]

_BY_ID: dict[tuple[int, int], Serializer | None] = {}
_BY_SUBPROTOCOL: dict[tuple[str, int], Serializer | None] = {}


def for_rawsocket_id(serializer_id: int, max_size: int) -> Serializer | None:
    """The shared serializer for a RawSocket serializer id and receive limit (None: unknown)."""
    key = (serializer_id, max_size)
    try:
        return _BY_ID[key]
    except KeyError:
        found = serializer_for_rawsocket_id(serializer_id, max_size=max_size)
        # Unknown ids are not cached: a peer choosing ids must not grow the table.
        if found is not None:
            _BY_ID[key] = found
        return found


def for_subprotocol(subprotocol: str, max_size: int) -> Serializer | None:
    """The shared serializer for a WebSocket subprotocol and message limit (None: unknown)."""
    key = (subprotocol, max_size)
    try:
        return _BY_SUBPROTOCOL[key]
    except KeyError:
        found = serializer_for_subprotocol(subprotocol, max_size=max_size)
        if found is not None:
            _BY_SUBPROTOCOL[key] = found
        return found
