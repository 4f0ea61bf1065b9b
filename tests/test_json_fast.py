"""The orjson backend (``wampcore._json_fast``, the ``[speed]`` extra) against the standard
library's JSON steps: the same verdict on every input, the same value for what is accepted
(wamp-spec.md §5.2 JSON and its binary convention; issue 11).

Runs where orjson is installed (``pip install 'wampcore[speed]'``); the standard-library path
itself is what every other test exercises when the serializer is not hooked.
"""

from __future__ import annotations

import json
import math
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wampcore import _json_fast
from wampcore.errors import LocalProtocolError, RemoteProtocolError
from wampcore.serializers import JSONSerializer

pytestmark = pytest.mark.skipif(not _json_fast.available, reason="orjson is not installed")


# The standard-library steps, also once serializers.py has installed the backend.
_STANDARD_DUMPS = getattr(JSONSerializer, "standard_dumps", JSONSerializer._dumps)
_STANDARD_DECODE = getattr(JSONSerializer, "standard_decode_one", JSONSerializer._decode_one)


class _Standard(JSONSerializer):
    __slots__ = ()
    _dumps = _STANDARD_DUMPS
    _decode_one = _STANDARD_DECODE


class _Fast(JSONSerializer):
    __slots__ = ()
    _dumps = _json_fast.fast_encoder(_STANDARD_DUMPS)
    _decode_one = _json_fast.fast_decoder(_STANDARD_DECODE)


STANDARD = (_Standard(), _Standard(batched=True))
FAST = (_Fast(), _Fast(batched=True))

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
    st.binary(max_size=40),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(st.text(max_size=8), inner, max_size=5),
        st.dictionaries(st.integers(0, 3), inner, max_size=2),  # non-str keys
    ),
    max_leaves=20,
)


def _same(a: Any, b: Any) -> bool:
    """Equal values of equal types (a float is compared by its repr: -0.0 is not 0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, float):
        return repr(a) == repr(b)
    return bool(a == b)


def _outcome(call: Any, *args: Any) -> tuple[str, Any]:
    try:
        return "ok", call(*args)
    except (LocalProtocolError, RemoteProtocolError) as exc:
        return type(exc).__name__, (exc.reason, exc.message)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_values, max_size=6))
def test_encoding_gives_the_standard_verdict_and_value_spec_5_2(message: list[Any]) -> None:
    for standard, fast in zip(STANDARD, FAST, strict=True):
        expected = _outcome(standard.encode, message)
        got = _outcome(fast.encode, message)
        assert got[0] == expected[0], (message, expected, got)
        if expected[0] == "ok":
            # Same JSON value (the spelling of a float may differ); read as plain JSON, since a
            # text that starts with NUL is valid to send but not binary when read back.
            plain = [json.loads(r[1].removesuffix(b"\x1e")) for r in (got, expected)]
            assert _same(*plain)
        else:
            assert got == expected


def _mutations(data: bytes) -> st.SearchStrategy[bytes]:
    n = max(1, len(data))
    return st.one_of(
        st.just(data),
        st.tuples(st.integers(0, n - 1), st.integers(0, 255)).map(
            lambda p: data[: p[0]] + bytes([p[1]]) + data[p[0] + 1 :]
        ),
        st.integers(0, n).map(lambda i: data[:i]),
        st.tuples(st.integers(0, n), st.binary(min_size=1, max_size=4)).map(
            lambda p: data[: p[0]] + p[1] + data[p[0] :]
        ),
    )


_payloads = st.one_of(
    st.binary(max_size=60),
    st.lists(_values, max_size=6)
    .map(lambda m: _try_encode(m))
    .flatmap(lambda d: _mutations(d) if d is not None else st.binary(max_size=10)),
    st.sampled_from(
        [
            b"[1e400]",
            b"[123456789012345678901234567890]",
            b'["\\ud800"]',
            b'["\\u0000AQI="]',
            b"\xef\xbb\xbf[1]",
            b"[NaN]",
            b"[Infinity]",
            b'{"a": 1}',
            b"[1] x",
            b'["a\x01"]',
            b"[" * 2000 + b"]" * 2000,
            b'[1,{"a":1,"a":2}]',
            b"[-0, -0.0, 1E5, 1e-7]",
            b'["\xed\xa0\x80"]',
        ]
    ),
)


def _try_encode(message: list[Any]) -> bytes | None:
    try:
        return STANDARD[0].encode(message)
    except LocalProtocolError:
        return None


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(_payloads)
def test_decoding_gives_the_standard_verdict_and_value_spec_5_2(data: bytes) -> None:
    for standard, fast in zip(STANDARD, FAST, strict=True):
        payload = data + b"\x1e" if standard.batched else data
        expected = _outcome(standard.decode, payload)
        got = _outcome(fast.decode, payload)
        assert got[0] == expected[0], (payload, expected, got)
        if expected[0] == "ok":
            assert _same(got[1], expected[1]), (payload, expected, got)
        else:
            assert got == expected  # the standard step raised it: the same reason and text


def test_the_fast_path_is_taken_for_common_payloads() -> None:
    """orjson really does the work (a fast path that is never used would prove nothing)."""
    calls = []

    def standard(self: Any, data: Any) -> Any:
        calls.append(data)
        return _STANDARD_DECODE(self, data)

    decode = _json_fast.fast_decoder(standard)
    encode = _json_fast.fast_encoder(lambda self, m: calls.append(m) or b"")
    message = [36, 1, 2, {}, ["tick", 42, 1.5, {"k": [True, "x"]}], {"s": "é"}]
    data = STANDARD[0].encode(message)
    assert _same(decode(None, data), STANDARD[0].decode(data)[0])
    assert encode(None, message) == data
    binary = [16, 1, {}, "t", [b"\x01\x02"]]
    assert encode(None, binary) == STANDARD[0].encode(binary)  # the convention, by orjson
    assert calls == []
    # NaN (orjson writes null), big ints and escapes go the standard way.
    assert encode(None, [math.nan]) == b""
    decode(None, b'["\\u0000AQI="]')
    assert len(calls) == 2


def test_install_wraps_once_and_keeps_the_standard_steps() -> None:
    class Probe(JSONSerializer):
        __slots__ = ()

    _json_fast.install(Probe)
    fast_dumps = Probe._dumps
    _json_fast.install(Probe)  # idempotent
    assert Probe._dumps is fast_dumps
    assert Probe.standard_dumps is _STANDARD_DUMPS  # type: ignore[attr-defined]
    assert Probe().decode(b'[1, "x"]') == [[1, "x"]]


def test_known_difference_a_uuid_is_written_by_orjson_only() -> None:
    """Documented in the module: orjson knows uuid.UUID, the standard library does not."""
    value = uuid.UUID(int=1)
    with pytest.raises(LocalProtocolError):
        STANDARD[0].encode([value])
    assert FAST[0].encode([value]) == b'["00000000-0000-0000-0000-000000000001"]'
