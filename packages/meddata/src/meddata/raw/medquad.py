"""MedQuAD (reader `medquad-xml`): the XML corpus (archive or unpacked folder), or its Kaggle
flattening `medquad.csv`.

Every question/answer pair is kept, empty answers included (the authors removed the answers of
the three MedlinePlus A.D.A.M., Drugs and Herbs folders): the cleaner drops and counts them.
Its columns are named after the XML: `qid`, `question`, `answer`, the document's `source`
(its collection), `focus`, `qtype` and `url`; a source's `columns` pick from them.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import tarfile
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import polars as pl

from meddata.config import Columns
from meddata.errors import InputError
from meddata.raw.delimited import read_csv
from meddata.raw.files import brief, require_file
from meddata.raw.result import RECORD, Rejects, Table
from meddata.raw.tarscan import tar_files

ARCHIVES = (".tar", ".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.bz2", ".tbz2", ".zip")
FIELDS = ("qid", "question", "answer", "source", "focus", "qtype", "url")
"""The reader's columns, in order."""
KAGGLE = Columns(
    question="question", answer="answer", metadata={"collection": "source", "focus": "focus_area"}
)
"""The Kaggle CSV's columns."""
XML_FIX = "Fix or remove the XML document"

# Tags are compared lower-cased: 4 NINDS files spell them `doc`, `pair`, `question`, `answer`,
# `doctitle-focus`, with the collection in `corpus` instead of `source`.
PAIR_TAGS = frozenset({"qapair", "pair"})
FOCUS_TAGS = frozenset({"focus", "doctitle-focus"})
COLLECTION_ATTRIBUTES = ("source", "corpus")

_CORRUPT = (tarfile.TarError, zipfile.BadZipFile, lzma.LZMAError, zlib.error, EOFError, OSError)

Row = tuple[str | None, ...]
Document = tuple[str, bytes]

DECOMPRESSORS: dict[bytes, Callable[[bytes], bytes]] = {
    b"\xfd7zXZ\x00": lzma.decompress,
    b"\x1f\x8b": gzip.decompress,
    b"BZh": bz2.decompress,
}
"""Whole-file decompression by magic number: far faster than streaming through `tarfile`."""


def read_medquad(path: Path | str, strict: bool = False) -> Table:
    """Read MedQuAD from `MedQuAD.tar.xz` (or any tar/zip of it), its unpacked folder, or a CSV.

    A malformed XML document is quarantined (reason `malformed_xml`) and the rest still read
    (with `strict`, it stops the read); a corrupt archive or a bad CSV stops with an InputError.
    """
    path = Path(path)
    if path.is_dir():
        return _read_documents(path, _folder_documents(path), strict)
    require_file(path)
    name = path.name.lower()
    if name.endswith(".csv"):
        return _read_kaggle_csv(path, strict)
    if name.endswith(ARCHIVES):
        return _read_documents(path, _archive_documents(path), strict)
    raise InputError(
        path,
        f"unsupported file type {''.join(path.suffixes) or '(none)'}",
        "Pass MedQuAD.tar.xz (or a .tar/.tar.gz/.zip of it), the unpacked folder, or medquad.csv",
    )


def _folder_documents(folder: Path) -> list[Document]:
    return [
        (file.relative_to(folder).as_posix(), file.read_bytes())
        for file in folder.rglob("*.xml")
        if file.is_file()
    ]


def _archive_documents(archive: Path) -> list[Document]:
    """The XML members, read straight from the archive (nothing is extracted to disk)."""
    documents: list[Document] = []
    try:
        if archive.name.lower().endswith(".zip"):
            with zipfile.ZipFile(archive) as zipped:
                for info in zipped.infolist():
                    if not info.is_dir() and info.filename.lower().endswith(".xml"):
                        documents.append((info.filename, zipped.read(info)))
        else:
            members = _fast_tar_files(archive)
            if members is None:
                members = _tarfile_files(archive)
            documents = [
                (name.removeprefix("./"), data)
                for name, data in members
                if name.lower().endswith(".xml")
            ]
    except _CORRUPT as exc:
        raise InputError(
            archive,
            f"archive is truncated or corrupt ({brief(exc)})",
            "Restore it from git or download it again",
        ) from exc
    return documents


def _fast_tar_files(archive: Path) -> list[Document] | None:
    """The regular files, or None where only `tarfile` can say what the archive holds."""
    raw = archive.read_bytes()
    decompress = next((d for magic, d in DECOMPRESSORS.items() if raw.startswith(magic)), None)
    try:
        return tar_files(raw if decompress is None else decompress(raw))
    except (*_CORRUPT, ValueError):
        return None


def _tarfile_files(archive: Path) -> list[Document]:
    with tarfile.open(archive, "r:*") as tar:
        return [
            (member.name, handle.read())
            for member in tar
            if member.isfile() and (handle := tar.extractfile(member)) is not None
        ]


def _read_documents(path: Path, documents: list[Document], strict: bool) -> Table:
    """Parse documents in path order, so an archive and its unpacked folder give the same rows."""
    if not documents:
        raise InputError(
            path,
            "no MedQuAD XML documents found",
            "Pass MedQuAD.tar.xz, the unpacked MedQuAD folder, or medquad.csv",
        )
    rejects = Rejects(str(path), strict)
    rows: list[Row] = []
    for name, data in sorted(documents, key=lambda document: document[0]):
        _parse_document(name, data, rows, rejects)
    return rejects.table(_frame(rows), files=len(documents))


def _frame(rows: list[Row]) -> pl.DataFrame:
    """Built column by column: polars converts a list of str far faster than rows of tuples."""
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(FIELDS)
    schema = dict.fromkeys(FIELDS, pl.String)
    frame = pl.DataFrame(dict(zip(FIELDS, columns, strict=True)), schema=schema)
    return frame.with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias(RECORD))


def _parse_document(name: str, data: bytes, rows: list[Row], rejects: Rejects) -> None:
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        rejects.add(name, name, "malformed_xml", str(exc), XML_FIX)
        return
    lower = _LOWER
    collection = next((root.get(a) for a in COLLECTION_ATTRIBUTES if root.get(a)), None)
    focus = next((_text(child) for child in root if lower[child.tag] in FOCUS_TAGS), None)
    url = root.get("url")
    for pair in root.iter():
        if lower[pair.tag] not in PAIR_TAGS:
            continue
        question, answer = _question_and_answer(pair)
        output = "" if answer is None else _text(answer)
        pair_id = f"{name}#{pair.get('pid')}"
        if question is None:
            problem = f"<{pair.tag} pid={pair.get('pid')}> has no question element"
            rejects.add(pair_id, name, "malformed_xml", problem, XML_FIX, (None, output))
            continue
        qid = question.get("qid") or pair_id
        rows.append((qid, _text(question), output, collection, focus, question.get("qtype"), url))


class _LowerCase(dict[str, str]):
    """Tags lower-cased once each: a corpus has a handful of spellings but 400k elements."""

    def __missing__(self, tag: str) -> str:
        self[tag] = lowered = tag.lower()
        return lowered


_LOWER = _LowerCase()


def _question_and_answer(pair: ET.Element) -> tuple[ET.Element | None, ET.Element | None]:
    """The first `question` and first `answer` child, in one pass over the children."""
    question = answer = None
    for child in pair:
        tag = _LOWER[child.tag]
        if tag == "question" and question is None:
            question = child
        elif tag == "answer" and answer is None:
            answer = child
    return question, answer


def _text(element: ET.Element) -> str:
    """All the text inside, as `itertext` gives it (a leaf's own text needs no generator)."""
    return "".join(element.itertext()) if len(element) else (element.text or "")


def _read_kaggle_csv(path: Path, strict: bool) -> Table:
    """The Kaggle flattening has no ids: a row's `qid` is `csv:<row number>`, counting from 0."""
    table = read_csv(path, KAGGLE, strict)
    rows = table.rows.select(
        qid=pl.format("csv:{}", RECORD),
        question="question",
        answer="answer",
        source="source",
        focus="focus_area",
        qtype=pl.lit(None, pl.String),
        url=pl.lit(None, pl.String),
        **{RECORD: pl.col(RECORD)},
    )
    return Table(rows=rows, path=table.path, rejects=table.rejects)
