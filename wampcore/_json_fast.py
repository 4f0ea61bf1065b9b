"""The orjson backend of the JSON serializer (the ``wampcore[speed]`` extra), with the standard
library's verdicts.

``install(JSONSerializer)`` wraps the serializer's two per-message steps, ``_dumps`` and
``_decode_one``, when orjson is importable (and does nothing otherwise). Each wrapper tries
orjson on the common case and hands everything else to the wrapped standard-library step, which
therefore still decides every error and every unusual value:

* **Decoding** goes to orjson only for payloads without a ``\\u`` escape (the only way to spell
  a lone surrogate or the ``\\u0000`` binary convention) and without a run of 19 or more digits
  (orjson reads integers beyond 64 bits as floats; the standard library keeps them exact); a
  result that is not a list, and every orjson failure (invalid UTF-8, syntax, NaN, numbers out
  of range, nesting), goes to the standard-library step, which raises its own error.
* **Encoding** keeps orjson's bytes unless they contain ``null`` (orjson writes NaN and the
  infinities as ``null``, which the standard library refuses) or orjson fails (integers beyond
  64 bits, non-string keys, a value neither knows): then the standard-library step encodes (or
  refuses) it. Bytes follow the WAMP binary convention through the same ``default``.

The two differ only in spelling, never in the JSON value: orjson writes some floats differently
(``1e-7`` where the standard library writes ``1e-07``). The one known difference in verdict is
for values no decoder produces from JSON or MessagePack: a ``uuid.UUID`` (what cbor2 makes of
CBOR tag 37) or an ``enum.Enum`` member is written by orjson as a string or its value, where
the standard library refuses it as unencodable. ``tests/test_json_fast.py`` checks all of this
against the standard-library steps on random and mutated payloads.

The hook in ``serializers.py`` is one line after ``class JSONSerializer``::

    _json_fast.install(JSONSerializer)
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

_orjson_dumps: Any
_orjson_loads: Any
try:
    import orjson

    _orjson_dumps, _orjson_loads = orjson.dumps, orjson.loads
except ImportError:  # the extra is not installed: the standard library does everything
    _orjson_dumps = _orjson_loads = None

__all__ = ["available", "fast_decoder", "fast_encoder", "install"]

#: Whether orjson is importable.
available = _orjson_dumps is not None

# A run of 19 digits, found by mapping every digit to "0" and everything else to a space: C speed
# over the whole payload (a regular expression costs about ten times more on digit-free text).
_DIGITS_TO_ZERO = bytes(0x30 if 0x30 <= i <= 0x39 else 0x20 for i in range(256))
_LONG_RUN = b"0" * 19
_ESCAPE = b"\\u"
_NULL = b"null"


def _default(obj: Any) -> Any:
    # Only bytes: every other value orjson does not know goes back to the standard library.
    if isinstance(obj, bytes | bytearray | memoryview):
        return "\x00" + base64.b64encode(bytes(obj)).decode("ascii")
    raise TypeError


def fast_encoder(
    standard: Callable[[Any, list[Any]], bytes],
) -> Callable[[Any, list[Any]], bytes]:
    """``_dumps(self, message)`` through orjson, falling back to ``standard`` (see above)."""
    if _orjson_dumps is None:
        return standard
    dumps = _orjson_dumps

    def _dumps(self: Any, message: list[Any]) -> bytes:
        try:
            data: bytes = dumps(message, default=_default)
        except Exception:
            return standard(self, message)
        if _NULL in data:
            return standard(self, message)
        return data

    return _dumps


def fast_decoder(
    standard: Callable[[Any, bytes], list[Any]],
) -> Callable[[Any, bytes], list[Any]]:
    """``_decode_one(self, data)`` through orjson, falling back to ``standard`` (see above)."""
    if _orjson_loads is None:
        return standard
    loads = _orjson_loads

    def _decode_one(self: Any, data: bytes) -> list[Any]:
        if _ESCAPE in data or _LONG_RUN in data.translate(_DIGITS_TO_ZERO):
            return standard(self, data)
        try:
            obj = loads(data)
        except Exception:
            return standard(self, data)
        if type(obj) is not list:
            return standard(self, data)
        return obj

    return _decode_one


def install(cls: Any) -> None:
    """Make ``cls`` (the JSON serializer) use orjson where it gives the same verdicts; a no-op
    without orjson or if already installed."""
    if not available or hasattr(cls, "standard_dumps"):
        return
    # The standard steps stay reachable: they are the fallbacks, and what tests compare with.
    cls.standard_dumps, cls.standard_decode_one = cls._dumps, cls._decode_one
    cls._dumps = fast_encoder(cls._dumps)
    cls._decode_one = fast_decoder(cls._decode_one)
