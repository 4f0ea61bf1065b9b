"""Fuzz targets under hypothesis, so the harnesses in fuzz/ cannot rot (DESIGN §6.6).

``fuzz/fuzz_codec.py`` (bytes -> serializer -> from_wire -> to_wire -> encode) runs here on its
whole seed corpus, on random bytes, and on valid payloads of every message type with random
damage. Other harnesses may add their targets to this file or keep their own test file. Every
harness is checked to be coverage-guided under atheris, and atheris-free when imported.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import messages

from wampcore import messages as m

FUZZ = Path(__file__).resolve().parent.parent / "fuzz"
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, FUZZ / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HARNESSES = sorted(FUZZ.glob("fuzz_*.py"))


@pytest.mark.parametrize("path", HARNESSES, ids=lambda p: p.name)
def test_harness_is_coverage_guided_and_atheris_free_on_import(path: Path) -> None:
    """The ``__main__`` path instruments the code before ``atheris.Fuzz()`` (without it libFuzzer
    sees no coverage and the corpus never grows past one input); atheris is imported only
    there, so importing a harness (as the tests do) stays cheap and needs no atheris."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top_imports = [
        alias.name
        for node in tree.body
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    ] + [node.module for node in tree.body if isinstance(node, ast.ImportFrom) and node.module]
    assert "atheris" not in top_imports
    calls = [
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "atheris"
    ]
    instrumented = [c for c in calls if c in ("instrument_all", "instrument_imports")]
    assert instrumented and "Fuzz" in calls, calls
    assert calls.index(instrumented[0]) < calls.index("Fuzz"), calls


fuzz_codec = load("fuzz_codec")
CORPUS = sorted((FUZZ / "corpus" / "codec").iterdir())


def test_codec_corpus_is_there() -> None:
    """fuzz/make_corpus.py writes seeds for all three serializers, plain and batched."""
    names = {p.name.split("-")[0] for p in CORPUS}
    assert names == {"json", "json.batched", "msgpack", "msgpack.batched", "cbor", "cbor.batched"}


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_codec_target_on_its_seed_corpus(path: Path) -> None:
    """Every seed (valid vectors and validation near misses) runs clean."""
    fuzz_codec.TestOneInput(path.read_bytes())


@SETTINGS
@given(data=st.binary(max_size=300))
def test_codec_target_on_random_bytes(data: bytes) -> None:
    fuzz_codec.TestOneInput(data)


@SETTINGS
@given(
    msg=messages(),
    variant=st.sampled_from(fuzz_codec.VARIANTS),
    strict=st.booleans(),
    damage=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=3),
    cut=st.one_of(st.none(), st.integers(0, 10_000)),
)
def test_codec_target_on_damaged_valid_payloads(
    msg: m.Message,
    variant: tuple[str, bool],
    strict: bool,
    damage: list[tuple[int, int]],
    cut: int | None,
) -> None:
    name, batched = variant
    payload = bytearray(
        fuzz_codec.SERIALIZERS[fuzz_codec.VARIANTS.index(variant)].encode(msg.to_wire())
    )
    for at, value in damage:
        if payload:
            payload[at % len(payload)] = value
    if cut is not None and payload:
        del payload[cut % len(payload) :]
    fuzz_codec.TestOneInput(fuzz_codec.selector(name, batched, strict=strict) + bytes(payload))


def test_codec_target_catches_a_broken_codec(monkeypatch: pytest.MonkeyPatch) -> None:
    """The target can fail: a decoder that leaks a bare exception is reported."""

    class Broken:
        def decode(self, data: bytes) -> list[list[object]]:
            raise ValueError("boom")

    serializers = [Broken(), *fuzz_codec.SERIALIZERS[1:]]
    monkeypatch.setattr(fuzz_codec, "SERIALIZERS", serializers)
    with pytest.raises(ValueError):
        fuzz_codec.TestOneInput(b"\x00[17,1,2]")
