"""The command line as a user meets it: exit codes, one-line errors, help."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def meddata(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from meddata.cli import main; main()", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )


def test_help_explains_the_build(tmp_path: Path) -> None:
    result = meddata("build", "--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "--variants" in result.stdout and "quarantine" in result.stdout


@pytest.mark.parametrize(
    ("option", "content", "expected"),
    [
        ("--wikidoc", b"input,output\nq,\xff\xfe bad\n", "not valid UTF-8"),
        ("--wikidoc", b"", "empty"),
        ("--wikidoc", b"question,reply\nq,a\n", "input"),
        ("--medquad", b"not an archive", "truncated or corrupt"),
    ],
)
def test_bad_input_is_one_line_exit_2(
    tmp_path: Path, raw_dir: Path, option: str, content: bytes, expected: str
) -> None:
    bad = tmp_path / ("bad.csv" if option == "--wikidoc" else "bad.tar.xz")
    bad.write_bytes(content)
    result = meddata(
        "build", "--raw", str(raw_dir), option, str(bad), "--out", str(tmp_path / "o"), cwd=tmp_path
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    message = result.stderr.strip()
    assert str(bad) in message and expected in message
    assert not (tmp_path / "o").exists()


def test_missing_raw_folder_names_the_file(tmp_path: Path) -> None:
    result = meddata("build", "--raw", str(tmp_path / "nowhere"), cwd=tmp_path)
    assert result.returncode == 2
    assert "nowhere" in result.stderr and "Traceback" not in result.stderr


def test_unknown_variant_suggests(tmp_path: Path) -> None:
    result = meddata("build", "--variants", "medical_mistral_instruct_dataset_shrt", cwd=tmp_path)
    assert result.returncode == 2
    assert "did you mean 'medical_mistral_instruct_dataset_short'" in result.stderr


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


def test_stats_without_a_build_says_what_to_do(tmp_path: Path) -> None:
    result = meddata("stats", "--clean-dir", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 2 and "meddata build" in result.stderr
