"""Shared inputs: the tiny hand-written MedQuAD corpus, archive builders, the shipped raw data."""

from __future__ import annotations

import io
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from meddata.config import load_config
from meddata.raw import RawRead, read_source

FIXTURES = Path(__file__).parent / "fixtures"

Archiver = Callable[[str, dict[str, bytes]], Path]
"""Writes `{member path: bytes}` to an archive of the given file name in a temporary folder."""


@pytest.fixture(scope="session")
def repo_raw() -> Path:
    return Path(__file__).parents[4] / "data" / "raw"


@pytest.fixture(scope="session")
def real_medquad(repo_raw: Path) -> RawRead:
    """The shipped archive, read once (checksum verified) for every test that needs it."""
    return read_source(load_config().source("medquad"), repo_raw)


@pytest.fixture
def medquad_mini() -> Path:
    """Four documents: the usual layout, the lowercase NINDS one, `DiseaseFile`, empty answers."""
    return FIXTURES / "medquad_mini"


@pytest.fixture
def mini_documents(medquad_mini: Path) -> dict[str, bytes]:
    return {
        file.relative_to(medquad_mini).as_posix(): file.read_bytes()
        for file in medquad_mini.rglob("*.xml")
    }


@pytest.fixture
def make_tar(tmp_path: Path) -> Archiver:
    """An xz-compressed tar with members stored as `./<path>`, as in MedQuAD.tar.xz."""

    def write(name: str, members: dict[str, bytes]) -> Path:
        path = tmp_path / name
        with tarfile.open(path, "w:xz") as tar:
            for member, data in members.items():
                info = tarfile.TarInfo(f"./{member}")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        return path

    return write


@pytest.fixture
def make_zip(tmp_path: Path) -> Archiver:
    def write(name: str, members: dict[str, bytes]) -> Path:
        path = tmp_path / name
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zipped:
            for member, data in members.items():
                zipped.writestr(member, data)
        return path

    return write
