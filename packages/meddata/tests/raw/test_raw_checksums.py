from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from meddata.errors import InputError
from meddata.raw.checksums import read_sums, verify_file


@pytest.fixture
def sums_dir(tmp_path: Path) -> Path:
    """A raw folder with one listed file (`sub/data.csv`) and one unlisted one."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "data.csv").write_bytes(b"input,output\nq,a\n")
    (tmp_path / "sub" / "mine.csv").write_bytes(b"input,output\n")
    digest = hashlib.sha256(b"input,output\nq,a\n").hexdigest()
    (tmp_path / "SHA256SUMS").write_text(f"{digest}  sub/data.csv\n\n")
    return tmp_path


def test_listed_file_is_verified(sums_dir: Path) -> None:
    assert verify_file(sums_dir, "sub/data.csv")


def test_unlisted_file_and_folder_without_sums_are_not_checked(sums_dir: Path) -> None:
    assert not verify_file(sums_dir, "sub/mine.csv")
    (sums_dir / "SHA256SUMS").unlink()
    assert not verify_file(sums_dir, "sub/data.csv")


def test_mismatch_names_file_both_digests_and_the_fix(sums_dir: Path) -> None:
    path = sums_dir / "sub" / "data.csv"
    expected = hashlib.sha256(path.read_bytes()).hexdigest()
    path.write_bytes(b"input,output\nq,changed\n")
    actual = hashlib.sha256(path.read_bytes()).hexdigest()

    with pytest.raises(InputError) as caught:
        verify_file(sums_dir, "sub/data.csv")
    message = str(caught.value)
    assert message.startswith(f"{path}: checksum mismatch")
    assert expected[:12] in message
    assert actual[:12] in message
    assert "Restore it from git, or pass --no-verify" in message


def test_listed_but_missing_file(sums_dir: Path) -> None:
    (sums_dir / "sub" / "data.csv").unlink()

    with pytest.raises(InputError, match="file not found"):
        verify_file(sums_dir, "sub/data.csv")


def test_sums_format(tmp_path: Path) -> None:
    sums = tmp_path / "SHA256SUMS"
    sums.write_text(f"{'A' * 64} *./bin/file.tar.xz\n{'b' * 64}  name with spaces.csv\n")
    assert read_sums(sums) == {"bin/file.tar.xz": "a" * 64, "name with spaces.csv": "b" * 64}

    sums.write_text(f"{'a' * 64}  ok.csv\nnot a checksum line\n")
    with pytest.raises(InputError, match="row 2: is not in sha256sum format"):
        read_sums(sums)


def test_shipped_sums_match_the_shipped_data(repo_raw: Path) -> None:
    for relative in read_sums(repo_raw / "SHA256SUMS"):
        assert verify_file(repo_raw, relative)
