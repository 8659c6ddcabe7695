"""File checks shared by the readers: each failure is an InputError naming the file and the fix."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from meddata.errors import InputError


def require_file(path: Path) -> None:
    """Fail early, with the path, on the mistakes a user makes most: wrong path, folder, empty."""
    if not path.exists():
        raise InputError(
            path, "file not found", "Check the path (the default data is in data/raw/)"
        )
    if path.is_dir():
        raise InputError(path, "is a folder, expected a file", "Pass the file itself")
    if path.stat().st_size == 0:
        raise InputError(path, "file is empty", "Restore or re-download it")


@dataclass(frozen=True)
class Text:
    """A text file's contents; bytes that are not UTF-8 are kept as lone surrogates (Python's
    `surrogateescape`), so a reader can quarantine the rows holding them and keep the rest."""

    text: str
    damage: InputError | None
    """The whole-file error naming the first bad byte (offset and line), if there is one."""

    def bad_byte(self, value: str) -> int | None:
        """The first non-UTF-8 byte in `value` (a field of this text), or None."""
        if self.damage is None:
            return None
        found = _SURROGATE.search(value)
        return None if found is None else ord(found.group()) - 0xDC00

    def dirty(self, *values: str) -> int | None:
        return next((b for v in values if (b := self.bad_byte(v)) is not None), None)


_SURROGATE = re.compile("[\udc80-\udcff]")


def repaired(value: str) -> str:
    """`value` with each non-UTF-8 byte as U+FFFD, so it can be stored (in the quarantine)."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def read_text(path: Path) -> Text:
    """The file's text; a byte that is not UTF-8 is kept for the reader to judge (see Text)."""
    require_file(path)
    data = path.read_bytes()
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        text, damage = data[bom:].decode("utf-8"), None
    except UnicodeDecodeError as exc:
        offset = exc.start + bom
        line = data.count(b"\n", 0, offset) + 1
        damage = InputError(
            path,
            f"not valid UTF-8 (byte 0x{data[offset]:02x} at offset {offset}, line {line})",
            "Re-save the file with UTF-8 encoding",
        )
        text = data[bom:].decode("utf-8", "surrogateescape")
    if not text.strip():
        raise InputError(path, "file is empty", "Restore or re-download it")
    return Text(text, damage)


def require_columns(
    path: Path | str,
    found: Iterable[str],
    expected: Iterable[str],
    fix: str = "Map `columns` in the config to the file's columns, or rename them in the file",
) -> None:
    """Name both what is there and what should be, so a swapped file is obvious."""
    found_list, expected_list = list(found), list(expected)
    missing = [c for c in expected_list if c not in found_list]
    if missing:
        raise InputError(
            path,
            f"missing column(s) {', '.join(missing)}: found [{', '.join(found_list)}], "
            f"expected [{', '.join(expected_list)}]",
            fix,
        )


def require_rows(path: Path | str, rows: int) -> None:
    if rows == 0:
        raise InputError(path, "has no rows", "Pass a file with at least one question/answer pair")


def brief(exc: BaseException) -> str:
    """A library's (often multi-line) message cut to its first line, for a one-line error."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    first = lines[0] if lines else type(exc).__name__
    return first if len(first) <= 160 else first[:157] + "..."
