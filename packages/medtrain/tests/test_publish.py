"""`medtrain publish` end to end: a tiny real adapter, the real CLI and client, the Hub stand-in."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from huggingface_hub import ModelCard, snapshot_download

from medtrain.config import RecipeConfig, from_dict
from medtrain.hubsync import HubError, Publisher, RetryPolicy
from medtrain.publish import card_facts, repo_files
from medtrain.runs import read_config
from testsupport.hub import TOKEN, client_env, run_cli
from testsupport.hubstandin import HubStandIn
from testsupport.runs import BASE_ID, write_eval
from testsupport.schemas import validate

REPO_ID = "medqa/smollm2-medical-lora"


@pytest.fixture(scope="module")
def run_dir(tiny_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shared tiny run, evaluated (docs/schemas.md §3 and §4)."""
    run = tmp_path_factory.mktemp("runs") / tiny_run.name
    shutil.copytree(tiny_run, run)
    return write_eval(run)


def cli(hub: HubStandIn, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("medtrain", ["publish", *args], client_env(hub.url, home))


@pytest.fixture(scope="module")
def published(
    hub_server: HubStandIn, run_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> subprocess.CompletedProcess[str]:
    result = cli(hub_server, tmp_path_factory.mktemp("home"), str(run_dir), "--repo", REPO_ID)
    assert result.returncode == 0, result.stderr
    return result


def recipe(**model: str) -> RecipeConfig:
    data = {"name": "smollm2-cpu", "model": {"base": BASE_ID, **model}, "data": {"dataset": "x/y"}}
    return from_dict(RecipeConfig, data)


@pytest.mark.slow
def test_adapter_downloads_back_byte_for_byte(
    published: subprocess.CompletedProcess[str],
    hub_server: HubStandIn,
    run_dir: Path,
    tmp_path: Path,
    hub_client: None,
) -> None:
    from peft import PeftConfig

    local = snapshot_download(
        REPO_ID, endpoint=hub_server.url, token=TOKEN, cache_dir=tmp_path / "cache"
    )
    downloaded = Path(local)
    adapter_files = [p for p in (run_dir / "adapter").iterdir() if p.name != "README.md"]
    assert {p.name for p in adapter_files} >= {"adapter_model.safetensors", "adapter_config.json"}
    for path in adapter_files:
        assert (downloaded / path.name).read_bytes() == path.read_bytes(), path.name
    for name, source in [
        ("training/trainer_stats.json", "trainer_stats.json"),
        ("training/loss.csv", "loss.csv"),
        ("loss.png", "eval/loss.png"),
        ("eval/metrics.json", "eval/metrics.json"),
        ("eval/benchmarks.json", "eval/benchmarks.json"),
    ]:
        assert (downloaded / name).read_bytes() == (run_dir / source).read_bytes()
    assert PeftConfig.from_pretrained(str(downloaded)).r == 4


@pytest.mark.slow
def test_published_config_holds_no_local_path_and_loads_as_a_recipe(
    published: subprocess.CompletedProcess[str], hub_server: HubStandIn, run_dir: Path
) -> None:
    repo = hub_server.store.get("model", REPO_ID)
    assert repo is not None
    text = repo.head.files["training/config.yaml"].data.decode()
    config = yaml.safe_load(text)
    validate("config.schema.json", config, "training/config.yaml")
    assert str(run_dir.parent.parent) not in text and "/base" not in text
    assert config["model"]["base"] == BASE_ID and config["model"]["resolved_path"] is None
    assert config["data"]["dataset"] == "medqa/variant"
    assert config["output"]["root"] == "artifacts/runs"
    assert from_dict(RecipeConfig, config).training.max_steps == 20


@pytest.mark.slow
def test_model_card_says_what_the_hub_needs(
    published: subprocess.CompletedProcess[str], hub_server: HubStandIn
) -> None:
    repo = hub_server.store.get("model", REPO_ID)
    assert repo is not None
    card = repo.head.files["README.md"].data.decode()
    meta = ModelCard(card).data
    assert meta.base_model == BASE_ID and meta.datasets == ["medqa/variant"]
    assert meta.library_name == "peft" and meta.license == "apache-2.0"
    assert "max_steps: 20" in card and "| train_loss | 2.346 |" in card
    assert "![Training loss](loss.png)" in card and "| rouge_l | 0.12 | 0.21 |" in card
    assert "0.560 ± 0.050 (n=100)" in card and "Not for medical use" in card


@pytest.mark.slow
def test_republishing_unchanged_makes_no_commit(
    published: subprocess.CompletedProcess[str],
    hub_server: HubStandIn,
    run_dir: Path,
    tmp_path: Path,
) -> None:
    repo = hub_server.store.get("model", REPO_ID)
    assert repo is not None
    before = len(repo.commits)
    result = cli(hub_server, tmp_path, str(run_dir), "--repo", REPO_ID)
    assert result.returncode == 0, result.stderr
    assert f"{REPO_ID}: up to date, no commit" in result.stdout
    assert len(repo.commits) == before


def test_changed_stats_make_one_commit(hub: HubStandIn, run_dir: Path, tmp_path: Path) -> None:
    run = tmp_path / run_dir.name
    shutil.copytree(run_dir, run)
    publisher = Publisher(TOKEN, endpoint=hub.url, retry=RetryPolicy(2, 0.01))
    config = read_config(run)
    facts = card_facts(run, "medqa/changes", config, None, None, None)
    publisher.publish("medqa/changes", "model", repo_files(run, config, facts), private=False)
    stats = json.loads((run / "trainer_stats.json").read_text())
    (run / "trainer_stats.json").write_text(json.dumps({**stats, "train_loss": 1.5}))
    result = publisher.publish("medqa/changes", "model", repo_files(run, config, facts), False)
    repo = hub.store.get("model", "medqa/changes")
    assert repo is not None and len(repo.commits) == 3
    assert repo.head.title == "Update README.md, training/trainer_stats.json"
    assert result.changes.changed == ["README.md", "training/trainer_stats.json"]


def test_run_folder_card_and_published_card_come_from_one_renderer(run_dir: Path) -> None:
    from medtrain.runs import write_model_card

    run = read_config(run_dir)
    published = repo_files(run_dir, run, card_facts(run_dir, REPO_ID, run, None, None, None))
    stats = json.loads((run_dir / "trainer_stats.json").read_text())
    write_model_card(run_dir, run, stats)
    local = (run_dir / "README.md").read_text()
    card = published["README.md"]
    assert isinstance(card, bytes)
    remote = card.decode()
    local_headings, remote_headings = (
        [line for line in text.splitlines() if line.startswith("## ")] for text in (local, remote)
    )
    assert local_headings == remote_headings
    assert ModelCard(local).data.license == ModelCard(remote).data.license == "apache-2.0"
    assert "![Training loss](eval/loss.png)" in local and "eval/loss.png" not in remote


def test_a_config_that_is_not_a_recipe_is_a_one_line_error(
    hub_server: HubStandIn, run_dir: Path, tmp_path: Path
) -> None:
    run = tmp_path / "bad"
    shutil.copytree(run_dir, run)
    (run / "config.yaml").write_text(yaml.safe_dump({"name": "x", "modle": {}}))
    result = cli(hub_server, tmp_path, str(run), "--repo", REPO_ID)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "unknown key 'modle'" in result.stderr and str(run) in result.stderr


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("unsloth/llama-3-8b-Instruct-bnb-4bit", "llama3"),
        ("meta-llama/Llama-3.1-8B-Instruct", "llama3.1"),
        ("unsloth/gemma-7b-it-bnb-4bit", "gemma"),
        ("unsloth/mistral-7b-instruct-v0.3-bnb-4bit", "apache-2.0"),
        ("NousResearch/Llama-2-7b-chat-hf", "llama2"),
    ],
)
def test_license_is_inherited_from_the_base_model(base: str, expected: str, tmp_path: Path) -> None:
    assert card_facts(tmp_path, "ns/x", recipe(base=base), None, None, None).license == expected


def test_base_model_must_be_a_hub_id(tmp_path: Path) -> None:
    local = recipe(base=str(tmp_path))
    with pytest.raises(HubError, match="--base-model") as err:
        card_facts(tmp_path, "ns/x", local, None, None, None)
    assert err.value.exit_code == 2
    with pytest.raises(HubError, match="--license"):
        card_facts(tmp_path, "ns/x", local, "org/base", None, None)
    facts = card_facts(tmp_path, "ns/x", local, "org/base", "org/data", "mit")
    assert (facts.base_model, facts.dataset, facts.license) == ("org/base", "org/data", "mit")
    assert yaml.safe_load(facts.config_yaml)["model"]["base"] == "org/base"
