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


@pytest.fixture(scope="session")
def real_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every variant built once from the embedded raw data; returns the folder holding
    `processed/` and `clean/`."""
    from meddata.build import BuildConfig, build
    from meddata.variants import expand

    root = tmp_path_factory.mktemp("build")
    config = BuildConfig(
        raw_dir=REPO / "data" / "raw", out_dir=root / "processed", clean_dir=root / "clean"
    )
    build(list(expand(config.data).values()), config)
    return root
