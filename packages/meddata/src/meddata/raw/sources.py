"""Reading a configured source: its file (checksum verified), an override, or its Hub dataset,
then its `columns` mapped onto the pipeline's raw rows (RAW_SCHEMA)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import polars as pl

from meddata.config import METADATA, Source
from meddata.errors import InputError
from meddata.raw.checksums import verify_file
from meddata.raw.delimited import read_csv
from meddata.raw.files import require_columns
from meddata.raw.jsonfile import read_json, read_jsonl
from meddata.raw.medquad import read_medquad
from meddata.raw.result import RECORD, REJECT_SCHEMA, RawRead, Table
from meddata.raw.tables import read_hub, read_parquet
from meddata.typedyaml import suggest

READERS: dict[str, Callable[[Path, Source, bool], Table]] = {
    "csv": lambda path, source, strict: read_csv(path, source.columns, strict),
    "json": lambda path, source, strict: read_json(path, source.columns, strict),
    "jsonl": lambda path, source, strict: read_jsonl(path, source.columns, strict),
    "parquet": lambda path, source, strict: read_parquet(path, source.columns, strict),
    "medquad-xml": lambda path, _, strict: read_medquad(path, strict),
}
"""Each config `reader`, reading a local file or folder."""

SUFFIXES = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".parquet": "parquet"}
"""A table file passed with `--input` is read by its own suffix, whatever the config's reader."""


def is_hub(spec: str | Path | None) -> bool:
    return isinstance(spec, str) and (spec == "hub" or spec.startswith("hub:"))


def where_from(source: Source, raw_dir: Path | str, override: str | Path | None = None) -> str:
    """What `read_source` reads: a path, or `hub:<id>`."""
    if override == "hub" and source.hub is None:
        fix = "Add `hub:` to the source in the config, or pass a file"
        raise InputError(f"--input {source.name}=hub", "the source declares no Hub dataset", fix)
    if is_hub(override):
        return f"hub:{source.hub}" if override == "hub" else str(override)
    if override is not None:
        return str(override)
    return str(Path(raw_dir) / source.path) if source.path else f"hub:{source.hub}"


def check_inputs(sources: tuple[Source, ...], raw_dir: Path, inputs: Mapping[str, str]) -> None:
    """Before reading anything: every `--input` names a source, every local input exists."""
    names = [s.name for s in sources]
    for name in inputs:
        if name not in names:
            raise InputError(f"--input {name}=...", "no such source", suggest(name, names))
    for source in sources:
        where = where_from(source, raw_dir, inputs.get(source.name))
        if not is_hub(where) and not Path(where).exists():
            fix = "Check the path (relative paths in a config are relative to --raw)"
            raise InputError(where, f"file not found (source {source.name})", fix)


def read_source(
    source: Source,
    raw_dir: Path | str,
    override: str | Path | None = None,
    *,
    verify: bool = True,
    strict: bool = False,
) -> RawRead:
    """Read a source from its configured file in `raw_dir` (checksum verified where listed in
    SHA256SUMS) or Hub dataset, or from `override`: a file or folder, `hub` (the source's `hub`)
    or `hub:<owner>/<name>` (any Hub dataset holding the source's columns)."""
    where = where_from(source, raw_dir, override)
    if is_hub(where):
        return to_raw(read_hub(where.removeprefix("hub:"), source.columns), source)
    reader: str | None = source.reader
    if override is not None and reader in (None, *SUFFIXES.values()):
        reader = SUFFIXES.get(Path(where).suffix.lower(), reader)
    if reader is None:
        fix = f"Pass a {', '.join(SUFFIXES)} file, or give the source a `reader`"
        raise InputError(where, "cannot tell how to read it", fix)
    if override is None and verify and source.path is not None:
        verify_file(Path(raw_dir), source.path)
    return to_raw(READERS[reader](Path(where), source, strict), source)


def to_raw(table: Table, source: Source) -> RawRead:
    """The source's columns as RAW_SCHEMA rows; its unreadable rows as quarantine rows."""
    columns = source.columns
    require_columns(table.path, table.rows.columns, columns.wanted())
    record = pl.col(RECORD).cast(pl.String)
    source_id = record if columns.id is None else pl.coalesce(pl.col(columns.id), record)
    metadata = {
        name: pl.col(columns.metadata[name]) if name in columns.metadata else pl.lit(None)
        for name in METADATA
    }
    rows = table.rows.select(
        source=pl.lit(source.name, pl.String),
        source_id=source_id.cast(pl.String),
        input=pl.col(columns.question).cast(pl.String).fill_null(""),
        output=pl.col(columns.answer).cast(pl.String).fill_null(""),
        **{name: expr.cast(pl.String) for name, expr in metadata.items()},
    )
    name = pl.lit(source.name, pl.String).alias("source")
    quarantine = table.rejects.select(name, *REJECT_SCHEMA)
    return RawRead(rows=rows, path=table.path, files=table.files, quarantine=quarantine)
