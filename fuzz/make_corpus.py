"""Write the codec fuzzer's seed corpus, fuzz/corpus/codec/, from the WAMP test vectors.

Every json/msgpack/cbor byte variant of every serialization sample becomes one seed (plain, and
framed for the batched variant), and every validation sample (``wmsg``) is encoded with each
serializer -- so the fuzzer starts from valid messages of every type and from the known near
misses. Each file is the selector octet of fuzz_codec.py followed by the payload.

    .venv/bin/python fuzz/make_corpus.py            # vectors from ../shared/wamp-testsuite
    WAMP_TESTSUITE=/path/to/testsuite .venv/bin/python fuzz/make_corpus.py

The old seeds are removed first, so the corpus always matches the vectors.
"""

from __future__ import annotations

import base64
import json
import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from fuzz_codec import selector  # noqa: E402

from wampcore import get_serializer  # noqa: E402

OUT = HERE / "corpus" / "codec"
DEFAULT_SUITE = HERE.parent.parent / "shared" / "wamp-testsuite"


def _variant_bytes(variant: dict[str, Any]) -> bytes:
    if "bytes_hex" in variant:
        return bytes.fromhex(variant["bytes_hex"])
    if "bytes_base64" in variant:
        return base64.b64decode(variant["bytes_base64"])
    return str(variant["bytes"]).encode("utf-8")


def seeds(suite: Path) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for path in sorted((suite / "singlemessage").rglob("*.json")):
        stem = path.stem
        doc = json.loads(path.read_text(encoding="utf-8"))
        for i, sample in enumerate(doc["samples"], start=1):
            if "wmsg" in sample:
                for name in ("json", "msgpack", "cbor"):
                    data = get_serializer(name).encode(sample["wmsg"])
                    out[f"{name}-{stem}-{i}-wmsg"] = selector(name, False) + data
                continue
            for name, variants in sample["serializers"].items():
                if name not in ("json", "msgpack", "cbor"):
                    continue
                for j, variant in enumerate(variants):
                    data = _variant_bytes(variant)
                    batched = (
                        (data + b"\x1e") if name == "json" else len(data).to_bytes(4, "big") + data
                    )
                    out[f"{name}-{stem}-{i}-{j}"] = selector(name, False) + data
                    out[f"{name}.batched-{stem}-{i}-{j}"] = selector(name, True) + batched
    return out


def main() -> int:
    suite = Path(os.environ.get("WAMP_TESTSUITE") or DEFAULT_SUITE)
    if not suite.is_dir():
        print(f"no test vectors at {suite} (set WAMP_TESTSUITE)", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.iterdir():
        old.unlink()
    found = seeds(suite)
    for name, data in found.items():
        (OUT / name).write_bytes(data)
    print(f"wrote {len(found)} seeds to {OUT.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
