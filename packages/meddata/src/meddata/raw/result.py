"""What the readers hand on: the rows they read, and every row they could not read, with why."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from meddata.errors import InputError
from meddata.raw.files import require_rows
from meddata.schema import QUARANTINE_SCHEMA, empty_quarantine

RECORD = "__record__"
"""A reader's column holding each row's number in its input (from 0, counting unreadable rows)."""

READ_REASONS = ("malformed_xml", "malformed_record", "invalid_utf8")
"""Quarantine reasons of the readers: an XML document or pair that cannot be parsed; a record
that is not an object, lacks a key, holds a non-text value, has the wrong number of CSV fields or
is not valid JSON; a record with bytes that are not UTF-8."""

REJECT_SCHEMA = {name: QUARANTINE_SCHEMA[name] for name in QUARANTINE_SCHEMA if name != "source"}


@dataclass
class Rejects:
    """Rows a reader could not read: quarantined, or with `strict` the first one stops the build."""

    path: str
    """The input, as error messages name it."""
    strict: bool = False
    """Raise an InputError at the first bad row instead of keeping it."""
    rows: list[tuple[str | None, ...]] = field(default_factory=list)
    """(source_id, input, output, reason, detail) of each unreadable row."""
    first_fix: str = ""
    """What fixes the first bad row (for the error when no row at all is readable)."""

    def add(
        self,
        record: str,
        where: str,
        reason: str,
        problem: str,
        fix: str,
        text: tuple[str | None, str | None] = (None, None),
    ) -> None:
        """One bad row: `record` becomes its source_id, `where` (a line) starts its detail."""
        if self.strict:
            raise InputError(f"{self.path}, {where}", problem, f"{fix} (or drop --strict)")
        self.first_fix = self.first_fix or fix
        self.rows.append((record, *text, reason, f"{where}: {problem}"))

    def table(self, rows: pl.DataFrame, files: int = 1) -> Table:
        """The reader's result; an input none of whose rows could be read is an error instead."""
        if rows.height == 0 and self.rows:
            first = self.rows[0][-1]
            problem = f"no readable rows ({len(self.rows):,} unreadable; the first at {first})"
            raise InputError(self.path, problem, self.first_fix)
        require_rows(self.path, rows.height)
        columns = list(zip(*self.rows, strict=True)) if self.rows else [()] * len(REJECT_SCHEMA)
        rejects = pl.DataFrame(dict(zip(REJECT_SCHEMA, columns, strict=True)), schema=REJECT_SCHEMA)
        return Table(rows=rows, path=self.path, rejects=rejects, files=files)


@dataclass(frozen=True)
class Table:
    """What a reader parsed from one input, before the source's `columns` are applied."""

    rows: pl.DataFrame
    """The input's columns as text, plus RECORD."""
    path: str
    """What was read: a file or folder path, or `hub:<dataset id>`."""
    rejects: pl.DataFrame
    """The rows it could not read (REJECT_SCHEMA: the quarantine less `source`)."""
    files: int = 1
    """How many files were read (XML documents for a MedQuAD archive or folder)."""


@dataclass(frozen=True)
class RawRead:
    """The rows read from one source, plus whatever could not be read, so nothing goes missing."""

    rows: pl.DataFrame
    """One row per question/answer pair (RAW_SCHEMA), empty answers included."""
    path: str
    """What was read: a file or folder path, or `hub:<dataset id>`."""
    files: int = 1
    """How many files were read (XML documents for a MedQuAD archive or folder)."""
    quarantine: pl.DataFrame = field(default_factory=empty_quarantine)
    """Unreadable rows (QUARANTINE_SCHEMA), e.g. one malformed XML document or JSON record."""
