"""`meddata publish` end to end: the real CLI and unmodified client libraries, in subprocesses
(so HF_ENDPOINT is set before they are imported), against the Hub stand-in on 127.0.0.1."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from meddata.build import BuildConfig, build
from meddata.config import load_config
from meddata.variants import expand
from testsupport.hub import client_env, run_cli
from testsupport.hubstandin import HubStandIn
from testsupport.paths import REPO

VARIANTS = expand(load_config())
NS = "medqa"

READ_BACK = """
import json, sys
from pathlib import Path
import datasets
datasets.disable_progress_bars()
ns, processed = sys.argv[1], Path(sys.argv[2])
report = {}
for folder in sorted(p for p in processed.iterdir() if p.is_dir()):
    remote = datasets.load_dataset(f"{ns}/{folder.name}")
    local = datasets.load_dataset(str(folder))
    report[folder.name] = {
        split: [local[split].num_rows, remote[split].to_list() == local[split].to_list()]
        for split in sorted(set(local) | set(remote))
        if split in local and split in remote
    }
print(json.dumps(report))
"""
"""Reads every published variant back with `datasets.load_dataset(repo_id)`, row for row."""


def small_raw(folder: Path) -> dict[str, str]:
    """Small inputs for every source: the end-to-end test needs all variants, not all rows."""
    folder.mkdir(parents=True)
    wikidoc_dir = REPO / "data/raw/medical_meadow_wikidoc"
    wikidoc = pl.read_csv(wikidoc_dir / "medical_meadow_wikidoc_sample.csv").head(40)
    wikidoc.write_csv(folder / "wikidoc.csv")
    patient = json.loads(
        (wikidoc_dir / "medical_meadow_wikidoc_patient_information.json").read_text()
    )
    (folder / "patient.json").write_text(json.dumps(patient[:40]))
    medquad = pl.DataFrame(
        {
            "question": [f"What are the treatments for condition {i} ?" for i in range(40)],
            "answer": [
                f"Condition {i} is treated with rest, fluids and follow-up visits."
                for i in range(40)
            ],
            "source": ["GARD"] * 40,
            "focus_area": [f"Condition {i}" for i in range(40)],
        }
    )
    medquad.write_csv(folder / "medquad.csv")
    return {
        "medquad": str(folder / "medquad.csv"),
        "medical_meadow_wikidoc": str(folder / "wikidoc.csv"),
        "medical_meadow_wikidoc_patient_information": str(folder / "patient.json"),
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every variant, built once for the module from small inputs."""
    root = tmp_path_factory.mktemp("build")
    inputs = small_raw(root / "raw")
    build(
        list(VARIANTS.values()),
        BuildConfig(
            out_dir=root / "processed", clean_dir=root / "clean", inputs=inputs, eval_dir=None
        ),
    )
    return root / "processed"


def publish(hub_server: HubStandIn, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("meddata", ["publish", *args], client_env(hub_server.url, home))


def heads(hub_server: HubStandIn) -> dict[str, int]:
    return {repo_id: len(repo.commits) for (_, repo_id), repo in hub_server.store.repos.items()}


@pytest.fixture(scope="module")
def published(
    hub_server: HubStandIn, built: Path, tmp_path_factory: pytest.TempPathFactory
) -> subprocess.CompletedProcess[str]:
    result = publish(
        hub_server, tmp_path_factory.mktemp("home"), "--namespace", NS, "--processed", str(built)
    )
    assert result.returncode == 0, result.stderr
    return result


@pytest.mark.slow
def test_every_variant_reads_back_row_for_row(
    published: subprocess.CompletedProcess[str], hub_server: HubStandIn, built: Path, tmp_path: Path
) -> None:
    assert sorted(heads(hub_server)) == sorted(f"{NS}/{name}" for name in VARIANTS)
    result = subprocess.run(
        [sys.executable, "-c", READ_BACK, NS, str(built)],
        env=client_env(hub_server.url, tmp_path),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert sorted(report) == sorted(VARIANTS)
    for name, splits in report.items():
        assert sorted(splits) == ["test", "train"], name
        assert splits["train"][0] > 0, name
        assert all(equal for _, equal in splits.values()), name


@pytest.mark.slow
def test_repos_hold_the_build_exactly_and_republishing_makes_no_commit(
    published: subprocess.CompletedProcess[str], hub_server: HubStandIn, built: Path, tmp_path: Path
) -> None:
    for name in VARIANTS:
        repo = hub_server.store.get("dataset", f"{NS}/{name}")
        assert repo is not None and not repo.private
        local = {
            p.relative_to(built / name).as_posix(): p.read_bytes()
            for p in (built / name).rglob("*")
            if p.is_file()
        }
        assert {p: b.data for p, b in repo.head.files.items() if p != ".gitattributes"} == local
    before = heads(hub_server)
    again = publish(hub_server, tmp_path, "--namespace", NS, "--processed", str(built))
    assert again.returncode == 0, again.stderr
    assert heads(hub_server) == before
    assert again.stdout.count("up to date, no commit") == len(VARIANTS)


@pytest.mark.slow
def test_changed_content_is_one_commit_saying_what_changed(
    hub_server: HubStandIn, built: Path, tmp_path: Path
) -> None:
    name = "medical_mistral_instruct_dataset_short"
    shutil.copytree(built / name, tmp_path / "processed" / name)
    args = (
        "--namespace",
        "changes",
        "--variants",
        name,
        "--processed",
        str(tmp_path / "processed"),
    )
    assert publish(hub_server, tmp_path, *args).returncode == 0
    folder = tmp_path / "processed" / name
    with (folder / "README.md").open("a") as card:
        card.write("\nA new paragraph.\n")
    (folder / "build_info.json").unlink()
    (folder / "NOTES.md").write_text("notes\n")
    result = publish(hub_server, tmp_path, *args)
    assert result.returncode == 0, result.stderr
    repo = hub_server.store.get("dataset", f"changes/{name}")
    assert repo is not None
    assert [c.title for c in repo.commits[2:]] == [
        "Add NOTES.md; Update README.md; Delete build_info.json"
    ]
    assert repo.head.message.splitlines() == [
        "added: NOTES.md",
        "changed: README.md",
        "deleted: build_info.json",
    ]
    assert "committed" in result.stdout and "Update README.md" in result.stdout


@pytest.mark.slow
def test_dry_run_writes_the_exact_repo_folders_and_pushes_nothing(
    hub_server: HubStandIn, built: Path, tmp_path: Path
) -> None:
    names = ["gemma_medquad_instruct_dataset", "llama3_medquad_instruct_dataset"]
    before = len(hub_server.requests)
    variants = [arg for name in names for arg in ("--variants", name)]
    args = [
        "--namespace",
        "dry",
        *variants,
        "--processed",
        str(built),
        "--dry-run",
        "--dry-run-dir",
        str(tmp_path / "out"),
    ]
    result = publish(hub_server, tmp_path, *args)
    assert result.returncode == 0, result.stderr
    for name in names:
        pushed = {
            p.relative_to(tmp_path / "out" / name).as_posix(): p.read_bytes()
            for p in (tmp_path / "out" / name).rglob("*")
            if p.is_file()
        }
        local = {
            p.relative_to(built / name).as_posix(): p.read_bytes()
            for p in (built / name).rglob("*")
            if p.is_file()
        }
        assert pushed == local
        assert f"dry/{name}: would commit Add README.md, build_info.json" in result.stdout
        assert hub_server.store.get("dataset", f"dry/{name}") is None
    assert all(r.method == "GET" for r in hub_server.requests[before:])


def test_bad_card_is_refused_before_upload(
    hub_server: HubStandIn, built: Path, tmp_path: Path
) -> None:
    name = "gemma_medquad_instruct_dataset"
    folder = tmp_path / "processed" / name
    shutil.copytree(built / name, folder)
    card = folder / "README.md"
    card.write_text(card.read_text().replace("cc-by-4.0", "cc-by-5.0", 1))
    before = len(hub_server.requests)
    result = publish(
        hub_server,
        tmp_path,
        "--namespace",
        "bad",
        "--variants",
        name,
        "--processed",
        str(folder.parent),
    )
    assert result.returncode == 2
    assert str(card) in result.stderr and "cc-by-5.0" in result.stderr
    assert len(hub_server.requests) == before
