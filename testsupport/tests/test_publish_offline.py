"""Both publishing CLIs, `meddata publish` and `medtrain publish`, without a token and without the
Hub: written once for both (the real CLIs in subprocesses, the Hub stand-in counting requests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from testsupport.hub import client_env, closed_port_url, run_cli
from testsupport.hubstandin import HubStandIn

VARIANT = "gemma_medquad_instruct_dataset"


@pytest.fixture(scope="module")
def inputs(real_build: Path, tiny_run: Path) -> dict[str, tuple[list[str], Path]]:
    """Per CLI: its publish arguments, and the folder whose files a dry run must write."""
    return {
        "meddata": (
            ["--namespace", "ns", "-v", VARIANT, "--processed", str(real_build / "processed")],
            real_build / "processed" / VARIANT,
        ),
        "medtrain": ([str(tiny_run), "--repo", "ns/adapter"], tiny_run / "adapter"),
    }


@pytest.mark.parametrize("package", ["meddata", "medtrain"])
def test_no_token_is_one_line_before_any_work(
    package: str, hub_server: HubStandIn, tmp_path: Path
) -> None:
    before = len(hub_server.requests)
    args = ["publish", "--dry-run-dir", str(tmp_path / "out")]
    args += ["--namespace", "ns"] if package == "meddata" else ["/no/run", "--repo", "ns/x"]
    result = run_cli(package, args, client_env(hub_server.url, tmp_path / "home", token=None))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "hf auth login" in result.stderr
    assert len(hub_server.requests) == before and not (tmp_path / "out").exists()


@pytest.mark.parametrize("package", ["meddata", "medtrain"])
@pytest.mark.parametrize("where", ["HF_HUB_OFFLINE=1", "closed port", "no token"])
def test_dry_run_without_the_hub_writes_the_repo_folder_and_lists_every_file(
    package: str,
    where: str,
    inputs: dict[str, tuple[list[str], Path]],
    hub_server: HubStandIn,
    tmp_path: Path,
) -> None:
    args, source = inputs[package]
    endpoint = closed_port_url() if where == "closed port" else hub_server.url
    env = client_env(
        endpoint,
        tmp_path / "home",
        token=None if where == "no token" else "standin-token",
        offline=where == "HF_HUB_OFFLINE=1",
    )
    before = len(hub_server.requests)
    out = tmp_path / "out"
    result = run_cli(package, ["publish", *args, "--dry-run", "--dry-run-dir", str(out)], env)
    assert result.returncode == 0, result.stderr
    head, *listed = result.stdout.strip().splitlines()
    assert "remote state could not be read" in head and "would push all" in head
    (folder,) = out.iterdir()
    written = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert listed == [f"  push: {path}" for path in written]
    for path in source.rglob("*"):
        if path.is_file() and path.name != "README.md":
            assert (folder / path.relative_to(source)).read_bytes() == path.read_bytes()
    assert len(hub_server.requests) == before  # nothing reached the Hub, nothing was retried
    assert "failed" not in result.stdout + result.stderr
