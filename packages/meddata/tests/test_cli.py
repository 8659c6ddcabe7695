"""The command line as a user meets it: exit codes, one-line errors, help, their own data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest


def meddata(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The CLI in a clean environment (the import path kept, so a checkout tests its own code)."""
    path = {k: v for k, v in os.environ.items() if k == "PYTHONPATH"}
    return subprocess.run(
        [sys.executable, "-c", "from meddata.cli import main; main()", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", **path},
    )


def test_help_explains_the_build(tmp_path: Path) -> None:
    result = meddata("build", "--help", cwd=tmp_path)
    assert result.returncode == 0
    for option in ("--variants", "--config", "--input", "--strict", "quarantine"):
        assert option in result.stdout
    for option in ("--eval-data", "--keep-contaminated", "--no-check-contamination"):
        assert option in result.stdout
    # help is Markdown: nothing in it may read as a tag and vanish
    assert "(NS/VARIANT)" in meddata("publish", "--help", cwd=tmp_path).stdout
    check = meddata("contamination", "--help", cwd=tmp_path).stdout
    assert "Writes contamination.json into --clean-dir" in check and "removes nothing" in check
    stats = " ".join(meddata("stats", "--help", cwd=tmp_path).stdout.split())
    assert "sample quarantined rows of each drop reason" in stats and "--samples" in stats


def test_sources_help_documents_every_key(tmp_path: Path) -> None:
    result = meddata("sources", "--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "medquad-xml" in result.stdout and "License of its text" in result.stdout
    variants = meddata("variants", "--help", cwd=tmp_path).stdout
    assert "Take a seeded sample of this many rows from each corpus" in variants


@pytest.mark.parametrize(
    ("source", "content", "expected"),
    [
        ("medical_meadow_wikidoc", b"input,output\nq,\xff\xfe bad\n", "not valid UTF-8"),
        ("medical_meadow_wikidoc", b"", "empty"),
        (
            "medical_meadow_wikidoc",
            b"question,reply\nq,a\n",
            "missing column(s) input, output: found [question, reply], expected [input, output]",
        ),
        ("medquad", b"not an archive", "truncated or corrupt"),
    ],
)
def test_bad_input_is_one_line_exit_2(
    tmp_path: Path, raw_dir: Path, source: str, content: bytes, expected: str
) -> None:
    bad = tmp_path / ("bad.csv" if source != "medquad" else "bad.tar.xz")
    bad.write_bytes(content)
    result = meddata(
        "build", "--raw", str(raw_dir), "--input", f"{source}={bad}", "--out", str(tmp_path / "o"),
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    message = result.stderr.strip()
    assert str(bad) in message and expected in message
    assert not (tmp_path / "o").exists()


def test_missing_raw_folder_names_the_file(tmp_path: Path) -> None:
    result = meddata("build", "--raw", str(tmp_path / "nowhere"), cwd=tmp_path)
    assert result.returncode == 2
    assert "nowhere" in result.stderr and "Traceback" not in result.stderr


def test_unknown_variant_and_input_suggest(tmp_path: Path) -> None:
    result = meddata("build", "--variants", "medical_mistral_instruct_dataset_shrt", cwd=tmp_path)
    assert result.returncode == 2
    assert "did you mean 'medical_mistral_instruct_dataset_short'" in result.stderr
    result = meddata("build", "--input", "medqad=x.csv", cwd=tmp_path)
    assert result.returncode == 2
    assert "--input medqad=...: no such source. Did you mean `medquad`?" in result.stderr


def test_stats_reads_a_build(real_build: Path) -> None:
    result = meddata(
        "stats",
        "--out",
        str(real_build / "processed"),
        "--clean-dir",
        str(real_build / "clean"),
        cwd=real_build,
    )
    assert result.returncode == 0, result.stderr
    assert "medical_gemma_instruct_dataset_short" in result.stdout
    assert "47,457" in result.stdout
    assert "could not read" not in result.stdout


def test_stats_without_a_build_says_what_to_do(tmp_path: Path) -> None:
    result = meddata("stats", "--clean-dir", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 2 and "meddata build" in result.stderr


def test_default_sources_and_variants_are_listed(tmp_path: Path) -> None:
    sources = meddata("sources", cwd=tmp_path)
    assert sources.returncode == 0
    assert "medquad/MedQuAD.tar.xz" in sources.stdout and "cc-by-sa-3.0" in sources.stdout
    variants = meddata("variants", cwd=tmp_path)
    assert variants.stdout.count("_instruct_dataset") == 16
    assert "1,000 per shard" in variants.stdout


CONFIG = """\
sources:
  - name: patients
    reader: json
    path: patients.json
    columns: {question: q, answer: a}
    license: cc-by-4.0
    citation: Our clinic (2025).
    url: https://example.org/patients
  - name: clinic
    reader: csv
    path: clinic.csv
    columns: {question: question, answer: answer, id: ref}
    instruction: You are a nurse.
    license: cc-by-4.0
    citation: Our clinic (2025).
    url: https://example.org/clinic
variants:
  - name: "{family}_clinic_qa"
    sources: [patients, clinic]
    families: [llama3, gemma]
"""


@pytest.fixture
def own_data(tmp_path: Path) -> Path:
    """A user's raw folder: a 6,000-record JSON list with one record missing a key and one item
    that is not an object; a CSV with a line that is not UTF-8 and a ragged row."""
    raw = tmp_path / "raw"
    raw.mkdir()
    records: list[object] = [
        {"q": f"What is condition {i}?", "a": f"Condition {i} is a disease of organ {i % 7}."}
        for i in range(6000)
    ]
    del records[4711]["a"]  # type: ignore[attr-defined]
    records[17] = "a stray string"
    (raw / "patients.json").write_text(json.dumps(records, indent=1))
    lines = [f"C{i},Why does symptom {i} happen?,Symptom {i} has many causes." for i in range(300)]
    lines[41] = "C41,Is caf\xe9 bad?,Coffee is fine in moderation."
    lines[99] = "C99,Ragged question?,An answer with a stray comma, here"
    data = "\n".join(["ref,question,answer", *lines]).encode().replace(b"\xc3\xa9", b"\xe9")
    (raw / "clinic.csv").write_bytes(data + b"\n")
    (tmp_path / "clinic.yaml").write_text(CONFIG)
    return tmp_path


def build_own(root: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return meddata(
        "build", "--config", "clinic.yaml", "--raw", "raw", "--out", "processed",
        "--clean-dir", "clean", *extra, cwd=root,
    )  # fmt: skip


def test_bad_rows_are_quarantined_and_everything_else_built(own_data: Path) -> None:
    result = build_own(own_data)

    assert result.returncode == 0, result.stderr
    assert "warning: 4 row(s) could not be read" in result.stderr
    quarantine = pl.read_parquet(own_data / "clean" / "quarantine.parquet")
    unread = quarantine.filter(pl.col("reason").is_in(["malformed_record", "invalid_utf8"]))
    assert unread.select("source", "source_id", "reason", "detail").rows() == [
        ("patients", "17", "malformed_record",
         "line 70 (record 17): a JSON str, expected an object"),
        ("patients", "4711", "malformed_record", "line 18843 (record 4711): no key a (it has: q)"),
        ("clinic", "41", "invalid_utf8", "line 43 (record 41): not valid UTF-8 (byte 0xe9)"),
        ("clinic", "99", "malformed_record", "line 101 (record 99): 4 fields, expected 3: "
         "['C99', 'Ragged question?', 'An answer with a stray comma', ' here']"),
    ]  # fmt: skip
    stats = json.loads((own_data / "clean" / "stats.json").read_text())["sources"]
    assert stats["patients"] == {
        "rows_in": 6000,
        "dropped": {"malformed_record": 2},
        "rows_out": 5998,
    }
    assert stats["clinic"]["rows_in"] == 300 and stats["clinic"]["rows_out"] == 298
    for s in stats.values():
        assert s["rows_in"] == sum(s["dropped"].values()) + s["rows_out"]
    info = json.loads((own_data / "processed" / "gemma_clinic_qa" / "build_info.json").read_text())
    assert sum(info["rows"].values()) == 5998 + 298
    assert info["instruction"] == {
        "patients": "Answer the question truthfully, you are a medical professional.",
        "clinic": "You are a nurse.",
    }
    assert sorted(p.name for p in (own_data / "processed").iterdir()) == [
        "gemma_clinic_qa",
        "llama3_clinic_qa",
    ]
    clinic = pl.read_parquet(own_data / "clean" / "rows.parquet").filter(source="clinic")
    assert clinic["id"][0] == "clinic:C0" and clinic["instruction"][0] == "You are a nurse."

    stats_out = meddata("stats", "--out", "processed", "--clean-dir", "clean", cwd=own_data)
    assert "rows the readers could not read (4)" in stats_out.stdout
    assert "line 18843 (record 4711): no key a" in stats_out.stdout


def test_strict_stops_at_the_first_bad_row_naming_file_line_and_fix(own_data: Path) -> None:
    result = build_own(own_data, "--strict")

    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: raw/patients.json, line 70 (record 17): a JSON str, expected an object. Give "
        "every record the keys `columns` names, with text values (or drop --strict)"
    )
    assert not (own_data / "processed").exists()


def test_own_sources_and_variants_are_listed(own_data: Path) -> None:
    sources = meddata("sources", "--config", "clinic.yaml", cwd=own_data)
    assert sources.returncode == 0, sources.stderr
    assert "clinic.csv" in sources.stdout and "id: ref" in sources.stdout
    variants = meddata("variants", "--config", "clinic.yaml", cwd=own_data)
    assert "llama3_clinic_qa" in variants.stdout and "gemma_clinic_qa" in variants.stdout
    assert "mistral" not in variants.stdout


def test_config_mistake_is_one_line_with_its_line(own_data: Path) -> None:
    config = own_data / "clinic.yaml"
    config.write_text(CONFIG.replace("    sources: [patients, clinic]", "    source: [patients]"))

    result = build_own(own_data)

    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: clinic.yaml, line 19: variants[0].source: unknown key. Did you mean `sources`?"
    )


def test_stats_shows_sample_rows_of_each_rule(real_build: Path) -> None:
    clean = str(real_build / "clean")
    result = meddata(
        "stats",
        "--out",
        str(real_build / "processed"),
        "--clean-dir",
        clean,
        "--samples",
        "2",
        cwd=real_build,
    )
    assert result.returncode == 0, result.stderr
    for reason in (
        "not_medical_qa",
        "markup_in_answer",
        "near_duplicate_question",
        "duplicate_exact",
    ):
        assert result.stdout.count(reason) >= 3  # the cleaning table and two sample rows


def test_contamination_checks_the_built_variants(real_build: Path, tmp_path: Path) -> None:
    rows = pl.read_parquet(real_build / "clean" / "rows.parquet")
    train = rows.filter((pl.col("split") == "train") & (pl.col("source") == "medquad"))
    (tmp_path / "eval" / "copied").mkdir(parents=True)
    item = {"question": train["input"][0]}
    (tmp_path / "eval" / "copied" / "test.jsonl").write_text(json.dumps(item) + "\n")
    result = meddata(
        "contamination",
        "--eval-data",
        str(tmp_path / "eval"),
        "--out",
        str(real_build / "processed"),
        "--clean-dir",
        str(tmp_path / "clean"),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "clean" / "contamination.json").read_text())
    hit = report["benchmarks"]["copied"]["hits"][0]
    assert hit["match"] == "question" and "llama_medquad_instruct_dataset" in hit["variants"]
    assert "copied" in result.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--skip-rule", "markup"], "unknown rule(s) ['markup']"),
        (["--eval-data", "nowhere"], "nowhere: no such folder of benchmarks"),
    ],
)
def test_bad_options_are_one_line_exit_2(tmp_path: Path, args: list[str], expected: str) -> None:
    result = meddata("build", *args, "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr and "Traceback" not in result.stderr
