"""Locating and loading the WAMP conformance vectors (wamp-spec §7).

The vectors live beside the project in ``../shared/wamp-testsuite`` (relative to the repository
root); the environment variable ``WAMP_TESTSUITE`` overrides that path. When the directory is
absent, ``suite_dir()`` returns None and the vector tests skip with ``MISSING_REASON``.

This module owns only the file format (wamp-spec §7.2): which samples exist, their bytes per
serializer variant, and the mapping from the vectors' neutral attribute names onto wampcore's
message fields. It makes no assertions.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DIR = REPO.parent / "shared" / "wamp-testsuite"

#: Serializers wampcore implements; the vectors' other serializers are skipped.
SUPPORTED = ("json", "msgpack", "cbor")
#: Why the other serializers in the vectors are skipped.
UNSUPPORTED_REASONS = {
    "ubjson": (
        "ubjson is not a wampcore serializer: the spec names it only as RawSocket id 4, and the "
        "vectors mix py-ubjson and BJData bytes (wamp-spec §5.1)"
    ),
    "flatbuffers": (
        "flatbuffers is out of scope for wampcore v1: the bytes follow Autobahn's own schema, "
        "not a spec-defined layout (wamp-spec §5.1)"
    ),
}

#: Vector attribute name -> wampcore field name, where they differ (EVENT uses the short ones).
FIELD_NAMES = {"subscription": "subscription_id", "publication": "publication_id"}


def suite_dir() -> Path | None:
    """The vector directory, or None if it does not exist."""
    env = os.environ.get("WAMP_TESTSUITE")
    path = Path(env) if env else DEFAULT_DIR
    return path if path.is_dir() else None


def missing_reason() -> str:
    env = os.environ.get("WAMP_TESTSUITE")
    where = env if env else str(DEFAULT_DIR)
    return (
        f"WAMP test vectors not found at {where} "
        "(set WAMP_TESTSUITE to the wamp-proto testsuite/ directory)"
    )


@dataclass(frozen=True)
class Variant:
    """One byte representation of a serialization sample."""

    file: str
    sample: int
    serializer: str
    index: int
    data: bytes
    note: str

    @property
    def id(self) -> str:
        return f"{self.file}#{self.sample}-{self.serializer}{self.index}"


@dataclass(frozen=True)
class SerializationSample:
    file: str
    sample: int
    description: str
    expected: dict[str, Any]
    variants: dict[str, list[Variant]]

    @property
    def id(self) -> str:
        return f"{self.file}#{self.sample}"


@dataclass(frozen=True)
class ValidationSample:
    file: str
    sample: int
    description: str
    wmsg: list[Any]
    #: The text the error must contain, or None if the message must be accepted.
    contains: str | None
    error_type: str | None

    @property
    def id(self) -> str:
        return f"{self.file}#{self.sample}"


def _variant_bytes(variant: dict[str, Any]) -> bytes:
    if "bytes_hex" in variant:
        return bytes.fromhex(variant["bytes_hex"])
    if "bytes_base64" in variant:
        import base64

        return base64.b64decode(variant["bytes_base64"])
    return str(variant["bytes"]).encode("utf-8")


def single_message_files(root: Path) -> list[Path]:
    return sorted((root / "singlemessage").rglob("*.json"))


def load(root: Path) -> tuple[list[SerializationSample], list[ValidationSample]]:
    """Every single-message sample under ``root``."""
    serialization: list[SerializationSample] = []
    validation: list[ValidationSample] = []
    for path in single_message_files(root):
        name = path.relative_to(root / "singlemessage").as_posix()
        doc = json.loads(path.read_text(encoding="utf-8"))
        for i, sample in enumerate(doc["samples"], start=1):
            if "wmsg" in sample:
                err = sample.get("expected_error")
                validation.append(
                    ValidationSample(
                        file=name,
                        sample=i,
                        description=sample["description"],
                        wmsg=sample["wmsg"],
                        contains=None if err is None else err.get("contains", ""),
                        error_type=None if err is None else err.get("type"),
                    )
                )
                continue
            variants = {
                ser: [
                    Variant(name, i, ser, j, _variant_bytes(v), v.get("note", ""))
                    for j, v in enumerate(vs)
                ]
                for ser, vs in sample["serializers"].items()
            }
            serialization.append(
                SerializationSample(
                    file=name,
                    sample=i,
                    description=sample["description"],
                    expected=sample["expected_attributes"],
                    variants=variants,
                )
            )
    return serialization, validation


def expected_fields(expected: dict[str, Any]) -> dict[str, Any]:
    """The vector's expected attributes as wampcore field names and values.

    ``message_type`` is left out (compare it with ``TYPE``), ``payload`` turns from hex into
    bytes, and ``roles`` stays a pseudo-field (it lives in ``details['roles']``).
    """
    out: dict[str, Any] = {}
    for key, value in expected.items():
        if key == "message_type":
            continue
        if key == "payload" and value is not None:
            value = bytes.fromhex(value)
        out[FIELD_NAMES.get(key, key)] = value
    return out
