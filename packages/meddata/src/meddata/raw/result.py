"""What a raw reader hands to the cleaner."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from meddata.schema import empty_quarantine


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
    """Unreadable parts (QUARANTINE_SCHEMA), e.g. one malformed XML document."""
