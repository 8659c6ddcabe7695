from __future__ import annotations

import io
import tarfile
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from meddata.config import load_config
from meddata.errors import InputError
from meddata.raw import RawRead, Table, read_medquad, read_source
from meddata.raw.medquad import FIELDS
from meddata.raw.result import RECORD, REJECT_SCHEMA
from meddata.schema import RAW_SCHEMA

FIXTURES = Path(__file__).parent / "fixtures"

COLLECTIONS = {
    "ADAM",
    "CDC",
    "CancerGov",
    "GARD",
    "GHR",
    "MPlusDrugs",
    "MPlusHealthTopics",
    "MPlusHerbsSupplements",
    "NHLBI",
    "NIDDK",
    "NIHSeniorHealth",
    "NINDS",
}


def by_id(read: Table) -> dict[str, dict[str, str | None]]:
    return {row["qid"]: row for row in read.rows.iter_rows(named=True)}


def test_folder_rows_keep_text_metadata_and_empty_answers(medquad_mini: Path) -> None:
    read = read_medquad(medquad_mini)
    rows = by_id(read)

    assert read.rows.columns == [*FIELDS, RECORD]
    assert read.files == 4
    assert read.rejects.height == 0
    assert len(rows) == 6
    first = rows["0000001_1-1"]
    assert first["source"] == "CancerGov"
    assert first["focus"] == "Example Tumor"
    assert first["qtype"] == "information"
    assert first["url"] == "https://example.org/cancer/a"
    assert first["answer"] == (
        "Key points\n                    - An example tumor is a made-up disease used in tests.\n"
        "                    - It doesn't exist & never did."
    )
    assert rows["0000397-1"]["answer"] == "First paragraph.\n\nSecond paragraph."
    assert rows["0000001-1"]["answer"] == ""
    assert rows["0000001-2"]["answer"] == ""


def test_lowercase_ninds_document_and_diseasefile_root(medquad_mini: Path) -> None:
    rows = by_id(read_medquad(medquad_mini))

    ninds = rows["0000007-1"]
    assert ninds["source"] == "NINDS"
    assert ninds["focus"] == "Lowercase Syndrome"
    assert ninds["question"] == "what is lowercase syndrome ?"
    assert ninds["answer"] == "A made-up condition whose tags are all lowercase. "
    cdc = rows["0000397-1"]
    assert (cdc["source"], cdc["focus"]) == ("CDC", "Parasites - Example")


def test_archive_zip_and_folder_give_identical_frames(
    medquad_mini: Path, mini_documents: dict[str, bytes], make_tar, make_zip
) -> None:
    folder = read_medquad(medquad_mini).rows

    assert_frame_equal(read_medquad(make_tar("MedQuAD.tar.xz", mini_documents)).rows, folder)
    assert_frame_equal(read_medquad(make_zip("MedQuAD.zip", mini_documents)).rows, folder)


def test_malformed_document_is_quarantined_and_the_rest_read(
    mini_documents: dict[str, bytes], make_tar
) -> None:
    members = {**mini_documents, "5_NIDDK_QA/0000002.xml": b"<Document><QAPairs></Document>"}

    read = read_medquad(make_tar("MedQuAD.tar.xz", members))

    assert read.rows.height == 6
    assert read.files == 5
    assert read.rejects.schema == pl.Schema(REJECT_SCHEMA)
    [row] = read.rejects.iter_rows(named=True)
    assert row["source_id"] == "5_NIDDK_QA/0000002.xml"
    assert row["reason"] == "malformed_xml"
    assert row["detail"].startswith("5_NIDDK_QA/0000002.xml: mismatched tag")


def test_strict_stops_at_a_malformed_document(mini_documents: dict[str, bytes], make_tar) -> None:
    members = {**mini_documents, "5_NIDDK_QA/0000002.xml": b"<Document><QAPairs></Document>"}
    archive = make_tar("MedQuAD.tar.xz", members)

    with pytest.raises(InputError, match=r"0000002\.xml: mismatched tag.*drop --strict") as caught:
        read_medquad(archive, strict=True)
    assert caught.value.path == f"{archive}, 5_NIDDK_QA/0000002.xml"


def test_pair_without_question_is_quarantined(tmp_path: Path) -> None:
    (tmp_path / "doc.xml").write_text(
        '<Document source="GHR"><QAPairs><QAPair pid="3"><Answer>A.</Answer></QAPair>'
        '<QAPair pid="4"><Question qid="9-4">Q?</Question><Answer>B.</Answer></QAPair>'
        "</QAPairs></Document>"
    )

    read = read_medquad(tmp_path)

    assert read.rows["qid"].to_list() == ["9-4"]
    assert read.rejects.select("source_id", "output", "reason").row(0) == (
        "doc.xml#3",
        "A.",
        "malformed_xml",
    )


def test_truncated_archive_is_an_input_error(
    tmp_path: Path, mini_documents: dict[str, bytes], make_tar
) -> None:
    archive = make_tar("MedQuAD.tar.xz", mini_documents)
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])

    with pytest.raises(InputError, match="truncated or corrupt") as caught:
        read_medquad(archive)
    assert caught.value.path == str(archive)


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("MedQuAD.tar.xz", b"", "file is empty"),
        ("MedQuAD.tar.xz", b"not an archive at all", "truncated or corrupt"),
        ("MedQuAD.zip", b"PK\x03\x04 broken", "truncated or corrupt"),
        ("medquad.txt", b"question,answer", "unsupported file type .txt"),
    ],
)
def test_unreadable_file_is_an_input_error(
    tmp_path: Path, name: str, content: bytes, problem: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)

    with pytest.raises(InputError, match=problem) as caught:
        read_medquad(path)
    assert caught.value.path == str(path)


def test_missing_path_and_archive_without_documents(tmp_path: Path, make_tar) -> None:
    with pytest.raises(InputError, match="file not found"):
        read_medquad(tmp_path / "nowhere.tar.xz")
    with pytest.raises(InputError, match="no MedQuAD XML documents"):
        read_medquad(make_tar("other.tar.xz", {"readme.txt": b"hello"}))
    with pytest.raises(InputError, match="no MedQuAD XML documents"):
        read_medquad(tmp_path)


def test_kaggle_csv() -> None:
    read = read_medquad(FIXTURES / "medquad_kaggle.csv")

    assert read.rows.columns == [*FIELDS, RECORD]
    assert read.rows.drop(RECORD).rows() == [
        (
            "csv:0",
            "What is (are) Example Tumor ?",
            "Line one.\nLine two.",
            "CancerGov",
            "Example Tumor",
            None,
            None,
        ),
        ("csv:1", "Who is at risk for Example ?", "", "GHR", "Example", None, None),
        ("csv:2", 'What does "quoted" mean?', "An answer.", "NIDDK", "Quoting", None, None),
    ]


def test_kaggle_csv_with_wrong_columns_names_found_and_expected(tmp_path: Path) -> None:
    path = tmp_path / "medquad.csv"
    path.write_text("input,output\nq,a\n")

    with pytest.raises(InputError) as caught:
        read_medquad(path)
    message = str(caught.value)
    assert message.startswith(str(path))
    assert "found [input, output]" in message
    assert "expected [question, answer, source, focus_area]" in message


def test_kaggle_csv_not_utf8_row_is_quarantined_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "medquad.csv"
    path.write_bytes(b"question,answer,source,focus_area\nq,caf\xe9,GHR,f\nq2,fine,GHR,f\n")

    read = read_medquad(path)

    assert read.rows["qid"].to_list() == ["csv:1"]
    assert read.rejects.select("source_id", "output", "reason", "detail").row(0) == (
        "0",
        "caf\ufffd",
        "invalid_utf8",
        "line 2 (record 0): not valid UTF-8 (byte 0xe9)",
    )


def test_kaggle_csv_header_only(tmp_path: Path) -> None:
    path = tmp_path / "medquad.csv"
    path.write_text("question,answer,source,focus_area\n")

    with pytest.raises(InputError, match="has no rows"):
        read_medquad(path)


@pytest.mark.slow
def test_real_archive_counts_and_collections(real_medquad: RawRead) -> None:
    rows = real_medquad.rows

    assert rows.schema == pl.Schema(RAW_SCHEMA)
    assert real_medquad.files == 11274
    assert real_medquad.quarantine.height == 0
    assert rows.height == 47457
    assert (rows["output"] != "").sum() == 16423
    assert rows["output"].null_count() == 0
    assert set(rows["collection"]) == COLLECTIONS


@pytest.mark.slow
def test_real_archive_quirky_files(real_medquad: RawRead) -> None:
    ninds = real_medquad.rows.filter(
        pl.col("collection") == "NINDS", pl.col("source_id").str.starts_with("0000007-")
    )
    assert ninds["focus"].unique().to_list() == ["Holmes-Adie"]
    assert ninds["input"][0] == "what is holmes-adie syndrome ?"
    assert (ninds["output"] != "").all()
    cdc = real_medquad.rows.filter(
        pl.col("collection") == "CDC", pl.col("source_id").str.starts_with("0000397-")
    )
    assert cdc.height > 0
    assert cdc["focus"].unique().to_list() == ["Parasites - Taeniasis"]


@pytest.mark.slow
def test_real_archive_matches_upstream_ghr_rows(real_medquad: RawRead, repo_raw: Path) -> None:
    """The upstream short dataset's 1,000 GHR pairs are reproduced character for character."""
    reference = repo_raw.parent / "reference"
    upstream = pl.read_csv(reference / "upstream_short_sample.csv", infer_schema=False)[1000:]
    qids = (reference / "upstream_short_medquad_qids.txt").read_text().split()
    ghr = real_medquad.rows.filter(pl.col("collection") == "GHR")
    ours = pl.DataFrame({"source_id": qids}).join(ghr, on="source_id", how="left")

    assert ours["input"].to_list() == upstream["input"].to_list()
    assert ours["output"].to_list() == upstream["output"].to_list()


@pytest.mark.slow
def test_real_archive_and_its_unpacked_folders_are_identical(
    real_medquad: RawRead, repo_raw: Path, tmp_path: Path
) -> None:
    """Two folders (the quirky ones), to keep the test fast: the mini corpus covers the rest."""
    folders = {"6_NINDS_QA": "NINDS", "9_CDC_QA": "CDC"}
    with tarfile.open(repo_raw / "medquad" / "MedQuAD.tar.xz") as tar:
        members = [m for m in tar if m.name.removeprefix("./").split("/")[0] in folders]
        tar.extractall(tmp_path, members=members, filter="data")

    expected = real_medquad.rows.filter(pl.col("collection").is_in(list(folders.values())))
    medquad = load_config().source("medquad")
    assert_frame_equal(read_source(medquad, repo_raw, tmp_path).rows, expected)


def test_archive_the_fast_reader_declines_is_read_by_tarfile(
    medquad_mini: Path, mini_documents: dict[str, bytes], tmp_path: Path
) -> None:
    """A GNU long-name member sends the whole archive through `tarfile`, with the same rows."""
    deep = "d" * 120
    archive = tmp_path / "MedQuAD.tar.gz"
    with tarfile.open(archive, "w:gz", format=tarfile.GNU_FORMAT) as tar:
        for member, data in {**mini_documents, f"{deep}/x.txt": b"not xml"}.items():
            info = tarfile.TarInfo(f"./{member}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))

    read = read_medquad(archive)

    assert read.files == 4
    assert_frame_equal(read.rows, read_medquad(medquad_mini).rows)
