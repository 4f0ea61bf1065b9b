"""The spec's single-message conformance vectors (wamp-spec §7.2, §7.3), for json, msgpack, cbor.

For every serialization sample and every supported serializer:

* each byte variant decodes to exactly the expected attributes (types included: a bool is not an
  int);
* the message built from the expected attributes encodes to bytes equal to at least one variant;
* decode(encode(msg)) == msg, and encoding again gives the same bytes.

For every validation sample (``wmsg``): a sample with ``expected_error`` fails with
``RemoteProtocolError`` (reason ``wamp.error.protocol_violation``) whose message contains the
``contains`` text; every other sample is accepted -- both as a decoded list and after a trip
through each serializer's bytes.

ubjson and flatbuffers variants are reported as skipped, with the reason.
"""

from __future__ import annotations

from typing import Any

import pytest
from vectorsuite import (
    SUPPORTED,
    UNSUPPORTED_REASONS,
    SerializationSample,
    ValidationSample,
    Variant,
    expected_fields,
    load,
    missing_reason,
    suite_dir,
)

from wampcore import RemoteProtocolError, get_serializer
from wampcore import messages as m
from wampcore.errors import PROTOCOL_VIOLATION

ROOT = suite_dir()
SERIALIZATION, VALIDATION = load(ROOT) if ROOT is not None else ([], [])
_MISSING = [pytest.param(None, marks=pytest.mark.skip(reason=missing_reason()), id="missing")]


def _params(items: list[Any]) -> list[Any]:
    return [pytest.param(item, id=item.id) for item in items] if items else _MISSING


VARIANTS = [v for s in SERIALIZATION for vs in s.variants.values() for v in vs]
SAMPLE_SERIALIZER = [
    pytest.param(s, ser, id=f"{s.id}-{ser}")
    for s in SERIALIZATION
    for ser in SUPPORTED
    if ser in s.variants
] or [pytest.param(None, None, marks=pytest.mark.skip(reason=missing_reason()), id="missing")]


def same(a: Any, b: Any) -> bool:
    """Deep equality that also requires equal types (True is not 1, b"" is not "")."""
    if type(a) is not type(b):
        return False
    if type(a) is list:
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is dict:
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


def build_expected(sample: SerializationSample) -> m.Message:
    """The message the vector describes, built from its attributes (not from its bytes)."""
    code = sample.expected["message_type"]
    cls = m.MESSAGE_CLASSES[code]
    fields = expected_fields(sample.expected)
    roles = fields.pop("roles", None)
    if roles is not None:
        fields["details"] = {"roles": roles}
    return cls(**fields)


def check_attributes(msg: m.Message, expected: dict[str, Any]) -> None:
    assert msg.TYPE == expected["message_type"]
    for name, value in expected_fields(expected).items():
        actual = msg.details["roles"] if name == "roles" else getattr(msg, name)  # type: ignore[attr-defined]
        assert same(actual, value), f"{msg.NAME}.{name}: {actual!r} != {value!r}"


@pytest.mark.parametrize("variant", _params(VARIANTS))
def test_vector_variant_decodes_to_expected_attributes(variant: Variant | None) -> None:
    """wamp-spec §7.2: each variant's bytes decode to exactly the expected attributes."""
    assert variant is not None
    if variant.serializer not in SUPPORTED:
        pytest.skip(UNSUPPORTED_REASONS.get(variant.serializer, "serializer not supported"))
    sample = next(s for s in SERIALIZATION if s.file == variant.file and s.sample == variant.sample)
    decoded = get_serializer(variant.serializer).decode(variant.data)
    assert len(decoded) == 1
    check_attributes(m.from_wire(decoded[0]), sample.expected)


@pytest.mark.parametrize(("sample", "serializer"), SAMPLE_SERIALIZER)
def test_vector_encoding_equals_a_variant(sample: SerializationSample, serializer: str) -> None:
    """wamp-spec §7.2 matching rule: serializing gives bytes equal to at least one variant.

    The message is the one decoded from the vector (the vectors' dict key order follows
    Autobahn's marshalling, and key order is not significant, wamp-spec §1.1), and it must equal
    the message built from the expected attributes alone.
    """
    ser = get_serializer(serializer)
    candidates = [v.data for v in sample.variants[serializer]]
    msg = m.from_wire(ser.decode(candidates[0])[0])
    assert msg == build_expected(sample)
    data = ser.encode(msg.to_wire())
    assert data in candidates, f"{data!r} matches none of {candidates!r}"


@pytest.mark.parametrize(("sample", "serializer"), SAMPLE_SERIALIZER)
def test_vector_round_trip(sample: SerializationSample, serializer: str) -> None:
    """wamp-spec §7.2: decode(encode(msg)) == msg; re-encoding is stable."""
    ser = get_serializer(serializer)
    first = m.from_wire(ser.decode(sample.variants[serializer][0].data)[0])
    data = ser.encode(first.to_wire())
    (wire,) = ser.decode(data)
    again = m.from_wire(wire)
    assert again == first
    check_attributes(again, sample.expected)
    assert ser.encode(again.to_wire()) == data


@pytest.mark.parametrize(("sample", "serializer"), SAMPLE_SERIALIZER)
def test_vector_batched_round_trip(sample: SerializationSample, serializer: str) -> None:
    """wamp-spec §5.3: the same message survives the batched variant of its serializer."""
    msg = build_expected(sample)
    ser = get_serializer(serializer, batched=True)
    decoded = ser.decode(ser.encode(msg.to_wire()) * 2)
    assert [m.from_wire(w) for w in decoded] == [msg, msg]


def _check_validation(sample: ValidationSample, wire: Any) -> None:
    if sample.contains is None:
        msg = m.from_wire(wire)
        assert msg.TYPE == sample.wmsg[0]
        return
    assert sample.error_type == "protocol_violation"
    with pytest.raises(RemoteProtocolError) as info:
        m.from_wire(wire)
    assert info.value.reason == PROTOCOL_VIOLATION
    assert sample.contains in info.value.message, info.value.message


@pytest.mark.parametrize("sample", _params(VALIDATION))
def test_vector_validation_sample(sample: ValidationSample | None) -> None:
    """wamp-spec §7.2/§3.6: known options with a wrong type are protocol violations naming the
    field; every other validation sample is accepted."""
    assert sample is not None
    _check_validation(sample, sample.wmsg)


@pytest.mark.parametrize("serializer", SUPPORTED)
@pytest.mark.parametrize("sample", _params(VALIDATION))
def test_vector_validation_sample_through_serializer(
    sample: ValidationSample | None, serializer: str
) -> None:
    """wamp-spec §7.2: the same verdict when the sample arrives as bytes of each serializer."""
    assert sample is not None
    ser = get_serializer(serializer)
    (wire,) = ser.decode(ser.encode(sample.wmsg))
    _check_validation(sample, wire)


def test_vector_inventory() -> None:
    """wamp-spec §7.1: the suite holds what the reference describes (guards a silent loss of
    vectors, e.g. a wrong WAMP_TESTSUITE path that still has a few files)."""
    if ROOT is None:
        pytest.skip(missing_reason())
    assert len(SERIALIZATION) == 35
    assert len(VALIDATION) == 67
    assert sum(s.contains is not None for s in VALIDATION) == 28
    counts = {ser: sum(len(s.variants.get(ser, [])) for s in SERIALIZATION) for ser in SUPPORTED}
    assert counts == {"json": 59, "msgpack": 35, "cbor": 35}
