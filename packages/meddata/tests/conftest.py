"""Shared fixtures: the repository's own data, so tests never need ../shared or the network."""

from __future__ import annotations

from pathlib import Path

import pytest

from testsupport.paths import REPO


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def templates_dir() -> Path:
    return REPO / "data" / "templates"


@pytest.fixture(scope="session")
def raw_dir() -> Path:
    return REPO / "data" / "raw"
