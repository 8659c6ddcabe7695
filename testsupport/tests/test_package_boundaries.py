"""The three packages install and import alone: no package depends on or imports another, the
Hub code they share is one file shipped twice, and dependency floors are versions whose API the
code calls."""

from __future__ import annotations

import ast
import email
import re

import pytest

from testsupport.paths import REPO

PACKAGES = ("meddata", "medtrain", "medeval")
SHARED_HUB_FILES = ("hubplan.py", "hubsync.py")
"""Shipped byte for byte in meddata and medtrain (each stands alone)."""
HUB_FLOOR = "2.0"
"""huggingface_hub's floor: `huggingface_hub.utils.httpx` (hubsync) exists from 2.0 on."""


@pytest.fixture(scope="module")
def requirements(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """Per package, the Requires-Dist of its built metadata (what `pip install
    packages/<package>` reads), extras included."""
    from setuptools import build_meta

    found = {}
    for package in PACKAGES:
        out = tmp_path_factory.mktemp(f"{package}-metadata")
        with pytest.MonkeyPatch.context() as patch:
            patch.chdir(REPO / "packages" / package)
            info = build_meta.prepare_metadata_for_build_wheel(str(out))
        metadata = email.message_from_string((out / info / "METADATA").read_text())
        found[package] = metadata.get_all("Requires-Dist") or []
    return found


def name_of(requirement: str) -> str:
    return re.split(r"[<>=!~\[;\s]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def imported(package: str) -> dict[str, set[str]]:
    """Top-level modules each source file of the package imports."""
    found = {}
    for path in sorted((REPO / "packages" / package / "src").rglob("*.py")):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        found[path.relative_to(REPO).as_posix()] = names
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_no_package_depends_on_or_imports_another(
    package: str, requirements: dict[str, list[str]]
) -> None:
    others = set(PACKAGES) - {package}
    assert requirements[package]
    assert not {name_of(r) for r in requirements[package]} & others
    for path, names in imported(package).items():
        assert not names & others, f"{path} imports {names & others}"


def test_meddata_needs_no_torch(requirements: dict[str, list[str]]) -> None:
    heavy = {"torch", "transformers", "bitsandbytes", "peft", "trl"}
    assert not {name_of(r) for r in requirements["meddata"]} & heavy
    for path, names in imported("meddata").items():
        assert not names & heavy, path


@pytest.mark.parametrize("name", SHARED_HUB_FILES)
def test_the_hub_code_is_one_file_shipped_twice(name: str) -> None:
    meddata, medtrain = (REPO / "packages" / p / "src" / p / name for p in ("meddata", "medtrain"))
    assert meddata.read_bytes() == medtrain.read_bytes(), f"edit both copies of {name} alike"


def test_no_module_imports_the_hub_clients_http_library_directly() -> None:
    """httpx2 comes with huggingface_hub 2.x only; the code reaches it as huggingface_hub.utils."""
    for package in PACKAGES:
        for path, names in imported(package).items():
            assert not names & {"httpx", "httpx2", "requests"}, path


def test_huggingface_hub_floor_is_the_version_the_code_needs(
    requirements: dict[str, list[str]],
) -> None:
    import importlib.metadata

    from packaging.version import Version

    floors = {
        f"{package}: {r}": r
        for package in PACKAGES
        for r in requirements[package]
        if name_of(r) == "huggingface-hub"
    }
    assert floors, "huggingface_hub is required somewhere"
    for where, requirement in floors.items():
        assert re.search(rf">={re.escape(HUB_FLOOR)}(,|;|$)", requirement), where
    assert Version(importlib.metadata.version("huggingface_hub")) >= Version(HUB_FLOOR)
