"""JSON and JSON Lines files: records checked one by one, a bad one quarantined with its line.

A file is an error as a whole only when it cannot be parsed at all, holds no objects, or lacks a
named key in every record; otherwise a record that is not an object, lacks a key, holds a value of
the wrong type, is not valid JSON (JSONL) or holds bytes that are not UTF-8 goes to the quarantine.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import polars as pl

from meddata.config import Columns
from meddata.errors import InputError
from meddata.raw.files import Text, read_text, repaired, require_columns
from meddata.raw.result import RECORD, Rejects, Table

RECORD_FIX = "Give every record the keys `columns` names, with text values"
UTF8_FIX = "Re-save the file with UTF-8 encoding"
_SPACE = re.compile(r"[ \t\n\r]*")


def read_json(path: Path, columns: Columns, strict: bool = False) -> Table:
    """A JSON list of objects; a `.json` file holding one object per line is read as JSONL."""
    text = read_text(path)
    if text.text.lstrip().startswith("{"):
        return _read_lines(path, text, columns, strict)
    try:
        items = json.loads(text.text)
    except json.JSONDecodeError as exc:
        raise text.damage or _bad_json(path, exc) from exc
    if not isinstance(items, list):
        kind = type(items).__name__
        raise InputError(path, f"holds a JSON {kind}", "Pass a list of objects (or JSON Lines)")
    starts: list[int] = []

    def where(record: int) -> str:
        if not starts:
            starts.extend(_item_lines(text.text))
        return f"line {starts[record]} (record {record})"

    return _Records(path, text, columns, strict).check(list(enumerate(items)), where)


def read_jsonl(path: Path, columns: Columns, strict: bool = False) -> Table:
    """One JSON object per line; blank lines are skipped."""
    return _read_lines(path, read_text(path), columns, strict)


def _read_lines(path: Path, text: Text, columns: Columns, strict: bool) -> Table:
    records = _Records(path, text, columns, strict)
    items: list[tuple[int, object]] = []
    lines: list[int] = []
    for number, line in enumerate(text.text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            items.append((len(lines), json.loads(line)))
        except json.JSONDecodeError as exc:
            items.append((len(lines), _Unparsed(f"not valid JSON ({exc.msg}, column {exc.colno})")))
        lines.append(number)
    return records.check(items, lambda record: f"line {lines[record]} (record {record})")


class _Unparsed(str):
    """A JSON Lines line that is not JSON: the parser's message."""


class _Records:
    """Keeps the `columns` of each good record; quarantines the others."""

    def __init__(self, path: Path, text: Text, columns: Columns, strict: bool) -> None:
        self.path = path
        self.text = text
        self.columns = columns
        self.rejects = Rejects(str(path), strict)
        self.values: dict[str, list[str | None]] = {c: [] for c in columns.wanted()}
        self.records: list[int] = []

    def check(self, items: list[tuple[int, object]], where: Callable[[int], str]) -> Table:
        self.require_keys([item for _, item in items if not isinstance(item, _Unparsed)])
        for record, item in items:
            problem, reason = self.problem(item)
            if problem is None:
                for column, values in self.values.items():
                    value = item.get(column) if isinstance(item, dict) else None
                    values.append(None if value is None else str(value))
                self.records.append(record)
            else:
                fix = UTF8_FIX if reason == "invalid_utf8" else RECORD_FIX
                self.rejects.add(str(record), where(record), reason, problem, fix, self.kept(item))
        frame = pl.DataFrame(
            {**self.values, RECORD: self.records},
            schema={**dict.fromkeys(self.values, pl.String), RECORD: pl.Int64},
        )
        return self.rejects.table(frame)

    def require_keys(self, items: list[object]) -> None:
        """A key no record has is the file's (or the config's) mistake, not a record's."""
        objects = [item for item in items if isinstance(item, dict)]
        if not objects:
            if not items:
                return  # only unparseable lines: each is quarantined, then no readable rows
            kind = type(items[0]).__name__
            fix = "Pass a list of objects (or one object per line)"
            raise InputError(self.path, f"holds no JSON objects (the first is a {kind})", fix)
        if any(not any(c in item for item in objects) for c in self.values):
            found = dict.fromkeys(key for item in objects for key in item)
            require_columns(self.path, found, self.values)

    def problem(self, item: object) -> tuple[str | None, str]:
        """Why a record cannot be used (and the quarantine reason), or None."""
        if isinstance(item, _Unparsed):
            return str(item), "malformed_record"
        if not isinstance(item, dict):
            return f"a JSON {type(item).__name__}, expected an object", "malformed_record"
        missing = [key for key in self.columns.required() if key not in item]
        if missing:
            keys = ", ".join(item) or "none"
            return f"no key {', '.join(missing)} (it has: {keys})", "malformed_record"
        texts = (self.columns.question, self.columns.answer)
        for key in self.values:
            value = item.get(key)
            if value is None or isinstance(value, str):
                continue
            if key in texts or isinstance(value, bool) or not isinstance(value, int):
                kind = "text" if key in texts else "text or an integer"
                return f"{key} is not {kind}: {value!r:.40}", "malformed_record"
        if self.text.damage is not None:
            strings = [v for k in self.values if isinstance(v := item.get(k), str)]
            if (byte := self.text.dirty(*strings)) is not None:
                return f"not valid UTF-8 (byte 0x{byte:02x})", "invalid_utf8"
        return None, ""

    def kept(self, item: object) -> tuple[str | None, str | None]:
        """The question and answer of a bad record, where they are text."""
        if not isinstance(item, dict):
            return None, None
        found = (item.get(self.columns.question), item.get(self.columns.answer))
        return (
            repaired(found[0]) if isinstance(found[0], str) else None,
            repaired(found[1]) if isinstance(found[1], str) else None,
        )


def _item_lines(text: str) -> list[int]:
    """The line each item of a (valid) top-level JSON list starts on; only needed for errors."""
    decoder = json.JSONDecoder()
    starts: list[int] = []
    position = text.index("[") + 1
    while text[start := _SPACE.match(text, position).end()] != "]":  # type: ignore[union-attr]
        starts.append(start)
        _, end = decoder.raw_decode(text, start)
        position = _SPACE.match(text, end).end()  # type: ignore[union-attr]
        position += text[position] == ","
    lines, line, previous = [], 1, 0
    for start in starts:
        line += text.count("\n", previous, start)
        lines.append(line)
        previous = start
    return lines


def _bad_json(path: Path, exc: json.JSONDecodeError) -> InputError:
    at = f"line {exc.lineno}, column {exc.colno}"
    return InputError(path, f"not valid JSON ({exc.msg} at {at})", "Fix or re-export the file")
