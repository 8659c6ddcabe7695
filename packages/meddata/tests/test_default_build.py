"""The shipped config builds exactly what it built when last pinned.

`fixtures/default_build.json` holds a digest of every file of the default build. It was taken
from the build of the last commit with hard-coded tables (ef26b71), so the config reproduced that
build byte for byte; then regenerated when issue 11 §3/§4 changed the output on purpose (the
content rules drop rows, and clean/contamination.json and a card section were added), and when
MedMCQA and MMLU joined data/eval (contamination.json and the cards' table). File
bytes, except that a parquet file counts by its schema and rows (its bytes name the polars
version that wrote it) and build_info.json by its fields other than the shard hashes. A
deliberate change of the output regenerates it with
`python packages/meddata/tests/test_default_build.py BUILD_ROOT` (BUILD_ROOT holds `processed/`
and `clean/` of a `meddata build`).
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import polars as pl

EXPECTED = Path(__file__).parent / "fixtures" / "default_build.json"


def digest(path: Path) -> str:
    if path.suffix == ".parquet":
        frame = pl.read_parquet(path)
        data = f"{frame.schema}\n{frame.write_ndjson()}".encode()
    elif path.name == "build_info.json":
        info = json.loads(path.read_text())
        info.pop("sha256")
        data = json.dumps(info, sort_keys=True).encode()
    else:
        data = path.read_bytes()
    return hashlib.sha256(data).hexdigest()


def digests(root: Path) -> dict[str, str]:
    """Every file under `root`, by its path relative to it."""
    files = sorted(p for p in root.rglob("*") if p.is_file())
    return {p.relative_to(root).as_posix(): digest(p) for p in files}


def test_default_build_equals_the_pinned_build(real_build: Path) -> None:
    expected = json.loads(EXPECTED.read_text())
    actual = digests(real_build)
    assert sorted(actual) == sorted(expected)
    assert [name for name in expected if actual[name] != expected[name]] == []
    assert len(expected) == 84


def test_build_info_is_pinned_too(real_build: Path) -> None:
    info = real_build / "processed" / "medical_mistral_instruct_dataset_short" / "build_info.json"
    fields = json.loads(info.read_text())
    assert list(fields) == [
        "variant", "family", "set", "sources", "rows", "seed", "test_fraction", "instruction",
        "meddata_version", "sha256",
    ]  # fmt: skip


if __name__ == "__main__":
    EXPECTED.write_text(json.dumps(digests(Path(sys.argv[1])), indent=1) + "\n")
