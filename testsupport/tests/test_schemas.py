"""The schema checks themselves: a file matched by a glob in run_folder's x-file-schemas is
checked, so a bad per-item benchmark line fails the run folder naming its file and line."""

import json
import shutil
from pathlib import Path

import pytest

from testsupport.runs import write_eval
from testsupport.schemas import SCHEMAS, schema, validate_run_folder


@pytest.mark.parametrize("path", sorted(SCHEMAS.glob("*.schema.json")), ids=lambda p: p.name)
def test_every_schema_is_valid_draft_2020_12(path: Path) -> None:
    assert schema(path.name)["$id"] == path.name


def test_a_bad_benchmark_item_line_fails_the_run_folder(tiny_run: Path, tmp_path: Path) -> None:
    run = write_eval(Path(shutil.copytree(tiny_run, tmp_path / tiny_run.name)))
    items = run / "eval/benchmarks/pubmedqa.jsonl"
    lines = items.read_text(encoding="utf-8").splitlines()
    bad = json.loads(lines[2])
    del bad["base"]["pred"]
    items.write_text("\n".join([*lines[:2], json.dumps(bad), *lines[3:]]) + "\n", encoding="utf-8")
    with pytest.raises(AssertionError, match=r"pubmedqa\.jsonl:3: base: 'pred' is a required"):
        validate_run_folder(run)
