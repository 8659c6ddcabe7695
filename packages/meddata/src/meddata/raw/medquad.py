"""MedQuAD: the XML corpus (archive or unpacked folder), or its Kaggle flattening `medquad.csv`.

Every question/answer pair is kept, empty answers included (the authors removed the answers of
the three MedlinePlus A.D.A.M., Drugs and Herbs folders): the cleaner drops and counts them.
"""

from __future__ import annotations

import lzma
import tarfile
import xml.etree.ElementTree as ET
import zipfile
import zlib
from pathlib import Path

import polars as pl

from meddata.errors import InputError
from meddata.raw.files import brief, read_csv, require_columns, require_file, require_rows
from meddata.raw.result import RawRead
from meddata.schema import QUARANTINE_SCHEMA, RAW_SCHEMA

SOURCE = "medquad"
ARCHIVES = (".tar", ".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.bz2", ".tbz2", ".zip")
KAGGLE_COLUMNS = ("question", "answer", "source", "focus_area")

# Tags are compared lower-cased: 4 NINDS files spell them `doc`, `pair`, `question`, `answer`,
# `doctitle-focus`, with the collection in `corpus` instead of `source`.
PAIR_TAGS = frozenset({"qapair", "pair"})
FOCUS_TAGS = frozenset({"focus", "doctitle-focus"})
COLLECTION_ATTRIBUTES = ("source", "corpus")

_CORRUPT = (tarfile.TarError, zipfile.BadZipFile, lzma.LZMAError, zlib.error, EOFError, OSError)

Row = tuple[str | None, ...]


def read_medquad(path: Path | str) -> RawRead:
    """Read MedQuAD from `MedQuAD.tar.xz` (or any tar/zip of it), its unpacked folder, or a CSV.

    A malformed XML document is quarantined (reason `malformed_xml`) and the rest still read;
    a corrupt archive or a bad CSV stops with an InputError.
    """
    path = Path(path)
    if path.is_dir():
        return _read_documents(path, _folder_documents(path))
    require_file(path)
    name = path.name.lower()
    if name.endswith(".csv"):
        return _read_kaggle_csv(path)
    if name.endswith(ARCHIVES):
        return _read_documents(path, _archive_documents(path))
    raise InputError(
        path,
        f"unsupported file type {''.join(path.suffixes) or '(none)'}",
        "Pass MedQuAD.tar.xz (or a .tar/.tar.gz/.zip of it), the unpacked folder, or medquad.csv",
    )


def _folder_documents(folder: Path) -> list[tuple[str, bytes]]:
    return [
        (file.relative_to(folder).as_posix(), file.read_bytes())
        for file in folder.rglob("*.xml")
        if file.is_file()
    ]


def _archive_documents(archive: Path) -> list[tuple[str, bytes]]:
    """The XML members, read straight from the archive (nothing is extracted to disk)."""
    documents: list[tuple[str, bytes]] = []
    try:
        if archive.name.lower().endswith(".zip"):
            with zipfile.ZipFile(archive) as zipped:
                for info in zipped.infolist():
                    if not info.is_dir() and info.filename.lower().endswith(".xml"):
                        documents.append((info.filename, zipped.read(info)))
        else:
            with tarfile.open(archive, "r:*") as tar:
                for member in tar:
                    handle = tar.extractfile(member) if member.isfile() else None
                    if handle is not None and member.name.lower().endswith(".xml"):
                        documents.append((member.name.removeprefix("./"), handle.read()))
    except _CORRUPT as exc:
        raise InputError(
            archive,
            f"archive is truncated or corrupt ({brief(exc)})",
            "Restore it from git or download it again",
        ) from exc
    return documents


def _read_documents(path: Path, documents: list[tuple[str, bytes]]) -> RawRead:
    """Parse documents in path order, so an archive and its unpacked folder give the same rows."""
    if not documents:
        raise InputError(
            path,
            "no MedQuAD XML documents found",
            "Pass MedQuAD.tar.xz, the unpacked MedQuAD folder, or medquad.csv",
        )
    rows: list[Row] = []
    quarantine: list[Row] = []
    for name, data in sorted(documents, key=lambda document: document[0]):
        _parse_document(name, data, rows, quarantine)
    return RawRead(
        rows=pl.DataFrame(rows, schema=RAW_SCHEMA, orient="row"),
        quarantine=pl.DataFrame(quarantine, schema=QUARANTINE_SCHEMA, orient="row"),
        path=str(path),
        files=len(documents),
    )


def _parse_document(name: str, data: bytes, rows: list[Row], quarantine: list[Row]) -> None:
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        quarantine.append((SOURCE, name, None, None, "malformed_xml", str(exc)))
        return
    collection = next((root.get(a) for a in COLLECTION_ATTRIBUTES if root.get(a)), None)
    focus = next((_text(child) for child in root if child.tag.lower() in FOCUS_TAGS), None)
    url = root.get("url")
    for pair in root.iter():
        if pair.tag.lower() not in PAIR_TAGS:
            continue
        question, answer = _child(pair, "question"), _child(pair, "answer")
        output = "" if answer is None else _text(answer)
        pair_id = f"{name}#{pair.get('pid')}"
        if question is None:
            detail = f"<{pair.tag} pid={pair.get('pid')}> has no question element"
            quarantine.append((SOURCE, pair_id, None, output, "malformed_xml", detail))
            continue
        qid = question.get("qid") or pair_id
        rows.append(
            (SOURCE, qid, _text(question), output, collection, focus, question.get("qtype"), url)
        )


def _child(element: ET.Element, tag: str) -> ET.Element | None:
    return next((child for child in element if child.tag.lower() == tag), None)


def _text(element: ET.Element) -> str:
    return "".join(element.itertext())


def _read_kaggle_csv(path: Path) -> RawRead:
    """The Kaggle flattening has no ids: a row is `csv:<row number>`, counting from 0."""
    frame = read_csv(path)
    require_columns(path, frame.columns, KAGGLE_COLUMNS)
    require_rows(path, frame.height)
    rows = frame.select(
        source=pl.lit(SOURCE, pl.String),
        source_id=pl.format("csv:{}", pl.int_range(pl.len())),
        input=pl.col("question"),
        output=pl.col("answer"),
        collection=pl.col("source"),
        focus=pl.col("focus_area"),
        qtype=pl.lit(None, pl.String),
        url=pl.lit(None, pl.String),
    )
    return RawRead(rows=rows, path=str(path))
