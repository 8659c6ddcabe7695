"""File checks shared by the readers: each failure is an InputError naming the file and the fix."""

from __future__ import annotations

import codecs
from collections.abc import Iterable
from pathlib import Path

import polars as pl

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


def read_utf8(path: Path) -> str:
    """The file's text; a byte that is not UTF-8 is reported with its offset and line."""
    require_file(path)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        offset = exc.start + (len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0)
        line = data.count(b"\n", 0, offset) + 1
        raise InputError(
            path,
            f"not valid UTF-8 (byte 0x{data[offset]:02x} at offset {offset}, line {line})",
            "Re-save the file with UTF-8 encoding",
        ) from exc
    if not text.strip():
        raise InputError(path, "file is empty", "Restore or re-download it")
    return text


def require_columns(
    path: Path | str, found: Iterable[str], expected: Iterable[str], row: int | None = None
) -> None:
    """Name both what is there and what should be, so a swapped file is obvious."""
    found_list, expected_list = list(found), list(expected)
    missing = [c for c in expected_list if c not in found_list]
    if missing:
        raise InputError(
            path,
            f"missing column(s) {', '.join(missing)}: found [{', '.join(found_list)}], "
            f"expected [{', '.join(expected_list)}]",
            "Pass a file with those columns (or rename them)",
            row,
        )


def require_rows(path: Path | str, rows: int) -> None:
    if rows == 0:
        raise InputError(path, "has no rows", "Pass a file with at least one question/answer pair")


def read_csv(path: Path) -> pl.DataFrame:
    """Every column as text (nothing inferred), empty fields as empty strings."""
    text = read_utf8(path)
    try:
        return pl.read_csv(text.encode(), infer_schema=False, empty_string_is_null=False)
    except pl.exceptions.PolarsError as exc:
        raise InputError(
            path, f"not a valid CSV file ({brief(exc)})", "Fix or re-export it"
        ) from exc


def unsupported(path: Path, accepted: Iterable[str]) -> InputError:
    suffix = "".join(path.suffixes) or "(none)"
    return InputError(path, f"unsupported file type {suffix}", f"Use one of: {', '.join(accepted)}")


def brief(exc: BaseException) -> str:
    """A library's (often multi-line) message cut to its first line, for a one-line error."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    first = lines[0] if lines else type(exc).__name__
    return first if len(first) <= 160 else first[:157] + "..."
