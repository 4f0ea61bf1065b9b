"""wampcore/schema.py against the spec's own tables (wamp-spec §1.2 message table, §1.4 known
keys).

The codec (generated from the schema), the spec tests' position tables, the hypothesis
strategies and the router all read the schema, so a mistake there would pass every other test.
These tests read ../shared/reference/wamp-spec.md itself and compare: codes, names, element
kinds and names in wire order, where the payload starts, the Len column, the legal ERROR
request types, and that every known Options/Details key is one the spec (or Autobahn, as the
spec records) defines.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from wampcore import messages as m
from wampcore import schema

SPEC = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "wamp-spec.md"

#: Spec element type -> the schema field kinds it may be.
KINDS = {
    "uri": {"uri"},
    "id": {"id"},
    "dict": {"options", "extra"},
    "string": {"str"},
    "int": {"type"},
}


def _section(title: str) -> str:
    if not SPEC.is_file():
        pytest.skip(f"the spec reference is not at {SPEC}")
    text = SPEC.read_text(encoding="utf-8")
    start = text.index(f"### {title}")
    end = text.index("\n### ", start + 1)
    return text[start:end]


def _rows(section: str) -> list[list[str]]:
    rows = []
    for line in section.splitlines():
        if line.startswith("| ") and not line.startswith("| Code") and "---" not in line:
            cells = re.split(r"(?<!\\)\|", line.strip().strip("|"))
            rows.append([c.strip().replace("\\|", "|") for c in cells])
    return rows


def _message_rows() -> dict[int, tuple[str, list[str], str]]:
    """Code -> (name, wire forms, Len) from §1.2."""
    out = {}
    for code_cell, name, form, length, _profile in _rows(_section("1.2 Complete message table")):
        code = int(re.findall(r"\d+", code_cell)[-1])
        out[code] = (name, re.findall(r"`(\[[^`]*\])`", form), length)
    return out


def _elements(form: str) -> list[tuple[str, str, bool]]:
    """(name, type, optional) for each element after the code of one wire form."""
    inner = form[1:-1]
    out = []
    for i, raw in enumerate(inner.split(",")):
        if i == 0:
            continue
        optional = "(" in raw
        element = raw.strip().strip("()").strip()
        name, _, kind = element.partition("|")
        out.append((name, kind, optional))
    return out


def test_s1_2_schema_has_exactly_the_spec_messages() -> None:
    """wamp-spec §1.2: every message of the table, with its code and name, and no other."""
    rows = _message_rows()
    assert {s.code: s.name for s in schema.MESSAGES} == {c: r[0] for c, r in rows.items()}
    assert sorted(m.MESSAGE_CLASSES) == sorted(rows)


@pytest.mark.parametrize("spec", schema.MESSAGES, ids=lambda s: s.name)
def test_s1_2_schema_fields_follow_the_wire_form(spec: schema.MessageSpec) -> None:
    """wamp-spec §1.2: element kinds and names in wire order, then the optional payload."""
    _name, forms, _length = _message_rows()[spec.code]
    elements = _elements(forms[0])
    fixed = [e for e in elements if not e[0].split(".")[-1].startswith("Arguments")]
    payload = [e for e in elements if e[0].split(".")[-1].startswith("Arguments")]
    if "revocable" in spec.hooks:
        # The plain reply names only the request; the revocation form adds Details.
        assert len(forms) == 2 and forms[1] == f"[{spec.code}, 0, Details|dict]"
        fixed.append(("Details", "dict", True))
    assert len(fixed) == len(spec.fields)
    for (wire_name, kind, _opt), f in zip(fixed, spec.fields, strict=True):
        assert f.kind in KINDS[kind], (spec.name, wire_name, f)
        assert wire_name.endswith(f.wire), (spec.name, wire_name, f.wire)
    if payload:
        assert [e[2] for e in payload] == [True, True]
        assert spec.payload_at == len(fixed) + 1
    else:
        assert spec.payload_at is None


@pytest.mark.parametrize("spec", schema.MESSAGES, ids=lambda s: s.name)
def test_s1_2_schema_lengths_match_the_len_column(spec: schema.MessageSpec) -> None:
    """wamp-spec §1.2, "Len (incl. code)": 3, 3-5, or 2 (3) for the revocable replies."""
    length = _message_rows()[spec.code][2]
    numbers = [int(n) for n in re.findall(r"\d+", length)]
    assert (spec.min_len, spec.max_len) == (min(numbers), max(numbers))


def test_s1_2_error_request_types_match_the_notes() -> None:
    """wamp-spec §1.2 notes: the only valid ERROR.REQUEST.Type values."""
    notes = _section("1.2 Complete message table")
    sentence = notes[notes.index("the only valid values are") :].split("Autobahn")[0]
    listed = {int(n) for n in re.findall(r"\b(\d+) [A-Z]+", sentence)}
    assert listed == set(schema.ERROR_REQUEST_TYPES) == set(m.ERROR_REQUEST_TYPES)


#: Known keys the schema takes from Autobahn's shared payload-transparency group although §1.4
#: does not list them for that field.
AUTOBAHN_GROUP = {"transaction_hash", "forward_for"}


def _known_rows() -> dict[str, str]:
    """'HELLO.Details' -> the text of its §1.4 row (``ABORT / GOODBYE.Details`` split up)."""
    out = {}
    for label, keys in _rows(_section("1.4 Known Options/Details keys by message")):
        names, _, suffix = label.rpartition(".")
        for name in names.split(" / "):
            out[f"{name.strip()}.{suffix}"] = keys
    return out


def test_s1_4_schema_known_keys_are_defined_keys() -> None:
    """wamp-spec §1.4: every Options/Details key the codec types is one the spec lists for
    that field (``ppt_*``/``enc_*``/``callee*`` as written there)."""
    rows = _known_rows()
    checked = 0
    for spec in schema.MESSAGES:
        for f in spec.fields:
            if f.kind != "options" or "revocable" in spec.hooks:
                continue
            assert f.known is not None
            row = rows[f"{spec.name}.{f.wire}"]
            listed = set(re.findall(r"`([a-z_]+)\*?`", row))
            prefixes = tuple(p for p in re.findall(r"`([a-z_]+)\*`", row))
            for key in schema.KNOWN_KEYS[f.known]:
                ok = key in listed or key.startswith(prefixes) or key in AUTOBAHN_GROUP
                assert ok, f"{spec.name}.{f.wire}.{key} is not in wamp-spec §1.4"
            checked += 1
    assert checked == 15  # every Options/Details field but the revocation Details


def test_s1_2_revocation_details_keys_are_the_notes_keys() -> None:
    """wamp-spec §1.2 notes: revocation Details carry ``registration``/``subscription`` (an id,
    not the spec's mistyped bool) and an optional ``reason`` string."""
    notes = _section("1.2 Complete message table")
    for key, kind in schema.KNOWN_KEYS["revocation"].items():
        assert f"`Details.{key}" in notes
        assert kind == ("str" if key == "reason" else "id")
    revokes = {s.revokes for s in schema.MESSAGES if "revocable" in s.hooks}
    assert revokes == {"registration", "subscription"}
