"""Benchmark items for the contamination check, read from any folder of JSON/JSONL files.

`data/eval/<benchmark>/` holds one benchmark per folder. Items are the JSON objects of its files:
each line of a `.jsonl`; each element of a `.json` list; each value of a `.json` object whose
values are all objects (PubMedQA's `ori_pqal.json`, keyed by PubMed id). Files of other shapes
(PubMedQA's `test_ground_truth.json`, id -> label) hold no items and are listed as ignored. An
item's question is its `question` field (any case); its texts are all its strings (question,
options, contexts, answers); its id is its key, else its `realidx`/`id`/`idx`/`qid`, else its line.
New benchmarks are picked up by adding a folder; nothing here names one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from meddata.errors import InputError

ID_FIELDS = ("realidx", "id", "idx", "qid")
"""Fields that name an item, tried in this order."""

ITEMS_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "item": pl.String,
    "question": pl.String,
    "texts": pl.List(pl.String),
}


@dataclass(frozen=True)
class Benchmark:
    """One benchmark folder's items."""

    name: str
    """The folder's name (`medqa`)."""
    files: tuple[str, ...]
    """Files that hold items."""
    ignored: tuple[str, ...]
    """JSON files of another shape (no items), listed so the report says what was skipped."""
    items: pl.DataFrame
    """`item` (`<file>:<id>`), `question` (or null), `texts` (every string of the item)."""


def load_benchmarks(eval_dir: Path | str) -> list[Benchmark]:
    """Every benchmark folder under `eval_dir`, in name order."""
    root = Path(eval_dir)
    if not root.is_dir():
        raise InputError(
            root,
            "no such folder of benchmarks",
            "Pass --eval-data DIR (one folder per benchmark with .json/.jsonl files, see "
            "data/eval/README.md)",
        )
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    benchmarks = [_load_folder(folder) for folder in folders]
    if not benchmarks:
        raise InputError(root, "no benchmark folders", "Put each benchmark in its own sub-folder")
    return benchmarks


def _load_folder(folder: Path) -> Benchmark:
    files, ignored, rows = [], [], []
    for path in sorted(folder.glob("*.json")) + sorted(folder.glob("*.jsonl")):
        items = list(_items(path))
        if items:
            files.append(path.name)
            rows.extend(items)
        else:
            ignored.append(path.name)
    if not rows:
        raise InputError(
            folder,
            "no benchmark items (JSON objects in .json/.jsonl files)",
            "Add the benchmark's test items, or remove the folder",
        )
    return Benchmark(
        folder.name,
        tuple(files),
        tuple(ignored),
        pl.DataFrame(rows, schema=ITEMS_SCHEMA, orient="row"),
    )


def _items(path: Path) -> Iterator[tuple[str, str | None, list[str]]]:
    if path.suffix == ".jsonl":
        for line_no, line in enumerate(_read(path).splitlines(), start=1):
            if line.strip():
                item = _parse(path, line, line_no)
                if not isinstance(item, dict):
                    raise InputError(path, "a line is not a JSON object", "Fix the line", line_no)
                yield _row(path, item, str(line_no))
        return
    data = _parse(path, _read(path), None)
    if isinstance(data, list) and data and all(isinstance(x, dict) for x in data):
        yield from (_row(path, item, str(n)) for n, item in enumerate(data, start=1))
    elif isinstance(data, dict) and data and all(isinstance(x, dict) for x in data.values()):
        yield from (_row(path, item, str(key), keyed=True) for key, item in data.items())


def _row(
    path: Path, item: dict[str, Any], fallback: str, keyed: bool = False
) -> tuple[str, str | None, list[str]]:
    ident = fallback if keyed else next((str(item[f]) for f in ID_FIELDS if f in item), fallback)
    question = next(
        (v for k, v in item.items() if k.lower() == "question" and isinstance(v, str)), None
    )
    return f"{path.name}:{ident}", question, list(_strings(item))


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not UTF-8 ({exc.reason})", "Save the file as UTF-8") from None


def _parse(path: Path, text: str, line_no: int | None) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            path, f"not valid JSON ({exc.msg})", "Fix or remove the file", line_no or exc.lineno
        ) from None
