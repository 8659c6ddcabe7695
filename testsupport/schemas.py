"""Validation against schemas/*.schema.json, the one contract of every file the packages exchange.

Writers' tests validate what they write, readers' tests the fixtures they read (the builders in
testsupport validate what they build), all against the same files (docs/schemas.md).
"""

from __future__ import annotations

import csv
import fnmatch
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from testsupport.paths import REPO

SCHEMAS = REPO / "schemas"
HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+\Z")


@cache
def schema(name: str) -> dict[str, Any]:
    """`schemas/<name>` (checked against its metaschema once)."""
    from jsonschema import Draft202012Validator

    loaded: dict[str, Any] = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(loaded)
    return loaded


def validate(name: str, instance: Any, where: str = "") -> None:
    """Raise AssertionError naming `where`, the failing field and the rule, if `instance` does
    not match `schemas/<name>`."""
    from jsonschema import Draft202012Validator

    errors = sorted(
        Draft202012Validator(schema(name)).iter_errors(instance), key=lambda e: list(e.path)
    )
    if errors:
        first = errors[0]
        field = "/".join(map(str, first.absolute_path)) or "(top level)"
        raise AssertionError(f"{where or name}: {field}: {first.message} ({len(errors)} errors)")


def validate_json(name: str, path: Path) -> Any:
    data = json.loads(path.read_text(encoding="utf-8"))
    validate(name, data, str(path))
    return data


def validate_jsonl(name: str, path: Path) -> list[Any]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    for number, row in enumerate(rows, start=1):
        validate(name, row, f"{path}:{number}")
    return rows


def _cell(text: str) -> int | float | None:
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        return float(text)


def validate_csv(name: str, path: Path) -> list[dict[str, Any]]:
    """A CSV whose header is the schema's `x-csv-columns` and whose rows (numbers parsed, empty
    cells null) match it."""
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header = list(reader.fieldnames or [])
        rows = [{k: _cell(v) for k, v in row.items()} for row in reader]
    assert header == schema(name)["x-csv-columns"], f"{path}: header {header}"
    for number, row in enumerate(rows, start=2):
        validate(name, row, f"{path}:{number}")
    return rows


def validate_yaml(name: str, path: Path) -> Any:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    validate(name, data, str(path))
    return data


def validate_file(name: str, path: Path) -> Any:
    """Any exchanged file, read the way its suffix says."""
    readers = {".json": validate_json, ".jsonl": validate_jsonl, ".csv": validate_csv}
    return readers.get(path.suffix, validate_yaml)(name, path)


def validate_run_folder(run: Path) -> None:
    """The run folder's file list (schemas/run_folder.schema.json), then each file that has a
    schema of its own (a path or a glob pattern); config.yaml's local paths must be absolute or
    inside the run."""
    files = {p.relative_to(run).as_posix(): p.stat().st_size for p in run.rglob("*") if p.is_file()}
    validate("run_folder.schema.json", files, str(run))
    for pattern, name in schema("run_folder.schema.json")["x-file-schemas"].items():
        for relative in fnmatch.filter(files, pattern):
            validate_file(name, run / relative)
    config = yaml.safe_load((run / "config.yaml").read_text(encoding="utf-8"))
    model, data = config["model"], config["data"]
    for ref in (model["base"], model.get("resolved_path"), data["dataset"]):
        local = ref is not None and (Path(ref).is_absolute() or (run / ref).exists())
        if ref is not None and not local and not HUB_ID.match(ref):
            raise AssertionError(
                f"{run}/config.yaml: {ref!r} is neither absolute, nor in the run, nor a Hub id"
            )


def validate_variant(folder: Path, limit: int | None = None) -> None:
    """Every shard's rows (the first `limit` of each when given) and build_info.json if any."""
    import polars as pl

    shards = sorted((folder / "data").glob("*.parquet"))
    assert shards, f"{folder}/data: no shards"
    for shard in shards:
        for number, row in enumerate(pl.read_parquet(shard, n_rows=limit).iter_rows(named=True)):
            validate("variant_row.schema.json", row, f"{shard}, row {number}")
    if (folder / "build_info.json").is_file():
        validate_json("build_info.schema.json", folder / "build_info.json")
