"""`medtrain publish` end to end: a tiny real adapter, the real CLI and client, the Hub stand-in."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from huggingface_hub import constants, snapshot_download

from meddata.hub import HubError, Publisher, RetryPolicy, card_metadata
from medtrain.publish import card_facts, repo_files
from testsupport.hubstandin import HubStandIn

TOKEN = "standin-token"
REPO_ID = "medqa/smollm2-medical-lora"
CLI = [sys.executable, "-c", "from medtrain.cli import main; main()"]
CONFIG = {
    "name": "smollm2-cpu",
    "model": {"base": "HuggingFaceTB/SmolLM2-135M-Instruct", "chat_template": "smollm2"},
    "data": {
        "dataset": "data/processed/medical_llama3_instruct_dataset_short",
        "test_split": "test",
    },
    "training": {"max_steps": 2, "learning_rate": 0.0002},
}


def tiny_base() -> object:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=32,
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
    )
    return LlamaForCausalLM(config)


def write_adapter(folder: Path) -> None:
    """A real (random) LoRA adapter of a tiny llama, with a word-level tokenizer."""
    from peft import LoraConfig, get_peft_model
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    lora = LoraConfig(
        r=2, lora_alpha=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False
    )
    get_peft_model(tiny_base(), lora).save_pretrained(folder)  # type: ignore[arg-type]
    vocab = {t: i for i, t in enumerate(["<unk>", "<s>", "</s>", *(f"w{i}" for i in range(29))])}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>", unk_token="<unk>"
    )
    fast.save_pretrained(folder)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run folder as medtrain and medeval write it (docs/schemas.md §3 and §4)."""
    run = tmp_path_factory.mktemp("runs") / "smollm2-cpu-20260101-000000"
    write_adapter(run / "adapter")
    (run / "config.yaml").write_text(yaml.safe_dump(CONFIG, sort_keys=False))
    stats = {"runtime_s": 12.5, "train_loss": 2.3456, "global_step": 2, "tokens_seen": 4096}
    (run / "trainer_stats.json").write_text(json.dumps(stats))
    (run / "loss.csv").write_text(
        "step,loss,lr,grad_norm,tokens\n1,2.5,0.0002,1.0,2048\n2,2.2,0.0001,0.9,4096\n"
    )
    (run / "eval").mkdir()
    (run / "eval/loss.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    metrics = {"base": {"rouge_l": 0.12, "n": 50}, "finetuned": {"rouge_l": 0.21, "n": 50}}
    (run / "eval/metrics.json").write_text(json.dumps(metrics))
    bench = {
        "pubmedqa": {
            "base": {"acc": 0.5, "stderr": 0.05, "n": 100},
            "finetuned": {"acc": 0.56, "stderr": 0.05, "n": 100},
        }
    }
    (run / "eval/benchmarks.json").write_text(json.dumps(bench))
    (run / "report.md").write_text("# Report\n")
    return run


@pytest.fixture(scope="module")
def hub() -> Iterator[HubStandIn]:
    with HubStandIn(tokens=frozenset({TOKEN})) as hub:
        yield hub


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process client calls: online (to the stand-in only), no Xet, no registry fetch."""
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_TELEMETRY", True)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)  # other suites set it for themselves


def cli(
    hub: HubStandIn, home: Path, *args: str, token: str | None = TOKEN
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    env.update(
        HF_ENDPOINT=hub.url, HF_HUB_DISABLE_XET="1", HF_HUB_DISABLE_TELEMETRY="1", HF_HOME=str(home)
    )
    if token is not None:
        env["HF_TOKEN"] = token
    result = subprocess.run(
        [*CLI, "publish", *args], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert TOKEN not in result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def published(
    hub: HubStandIn, run_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> subprocess.CompletedProcess[str]:
    result = cli(hub, tmp_path_factory.mktemp("home"), str(run_dir), "--repo", REPO_ID)
    assert result.returncode == 0, result.stderr
    return result


@pytest.mark.slow
def test_adapter_downloads_back_byte_for_byte(
    published: subprocess.CompletedProcess[str],
    hub: HubStandIn,
    run_dir: Path,
    tmp_path: Path,
    client: None,
) -> None:
    from peft import PeftModel

    local = snapshot_download(REPO_ID, endpoint=hub.url, token=TOKEN, cache_dir=tmp_path / "cache")
    downloaded = Path(local)
    adapter_files = [p for p in (run_dir / "adapter").iterdir() if p.name != "README.md"]
    assert {p.name for p in adapter_files} >= {
        "adapter_model.safetensors",
        "adapter_config.json",
        "tokenizer.json",
    }
    for path in adapter_files:
        assert (downloaded / path.name).read_bytes() == path.read_bytes(), path.name
    for name, source in [
        ("training/config.yaml", "config.yaml"),
        ("loss.png", "eval/loss.png"),
        ("eval/metrics.json", "eval/metrics.json"),
    ]:
        assert (downloaded / name).read_bytes() == (run_dir / source).read_bytes()
    PeftModel.from_pretrained(tiny_base(), str(downloaded))  # type: ignore[arg-type]


@pytest.mark.slow
def test_model_card_says_what_the_hub_needs(
    published: subprocess.CompletedProcess[str], hub: HubStandIn
) -> None:
    repo = hub.store.get("model", REPO_ID)
    assert repo is not None
    card = repo.head.files["README.md"].data.decode()
    meta = card_metadata(card)
    assert meta["base_model"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert meta["datasets"] == ["medqa/medical_llama3_instruct_dataset_short"]
    assert meta["library_name"] == "peft" and meta["license"] == "apache-2.0"
    assert "learning_rate: 0.0002" in card and "| train_loss | 2.346 |" in card
    assert "![Training loss](loss.png)" in card and "| rouge_l | 0.12 | 0.21 |" in card
    assert "0.560 ± 0.050 (n=100)" in card and "Not for medical use" in card


@pytest.mark.slow
def test_republishing_unchanged_makes_no_commit(
    published: subprocess.CompletedProcess[str], hub: HubStandIn, run_dir: Path, tmp_path: Path
) -> None:
    repo = hub.store.get("model", REPO_ID)
    assert repo is not None
    before = len(repo.commits)
    result = cli(hub, tmp_path, str(run_dir), "--repo", REPO_ID)
    assert result.returncode == 0, result.stderr
    assert f"{REPO_ID}: up to date, no commit" in result.stdout
    assert len(repo.commits) == before


def test_changed_stats_make_one_commit(
    hub: HubStandIn, run_dir: Path, tmp_path: Path, client: None
) -> None:
    run = tmp_path / run_dir.name
    shutil.copytree(run_dir, run)
    publisher = Publisher(TOKEN, endpoint=hub.url, retry=RetryPolicy(2, 0.01))
    facts = card_facts(
        run, "medqa/changes", yaml.safe_load((run / "config.yaml").read_text()), None, None, None
    )
    publisher.publish("medqa/changes", "model", repo_files(run, facts))
    (run / "trainer_stats.json").write_text(json.dumps({"train_loss": 1.5}))
    result = publisher.publish("medqa/changes", "model", repo_files(run, facts))
    repo = hub.store.get("model", "medqa/changes")
    assert repo is not None and len(repo.commits) == 3
    assert repo.head.title == "Update README.md, training/trainer_stats.json"
    assert result.changes.changed == ["README.md", "training/trainer_stats.json"]


def test_no_token_is_one_line_before_any_work(
    hub: HubStandIn, run_dir: Path, tmp_path: Path
) -> None:
    before = len(hub.requests)
    result = cli(
        hub,
        tmp_path / "empty",
        str(run_dir),
        "--repo",
        REPO_ID,
        "--dry-run",
        "--dry-run-dir",
        str(tmp_path / "out"),
        token=None,
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "hf auth login" in result.stderr
    assert len(hub.requests) == before and not (tmp_path / "out").exists()


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
    config = {**CONFIG, "model": {"base": base}}
    assert card_facts(tmp_path, "ns/x", config, None, None, None).license == expected


def test_base_model_must_be_a_hub_id(tmp_path: Path) -> None:
    config = {**CONFIG, "model": {"base": "/models/smollm2"}}
    with pytest.raises(HubError, match="--base-model") as err:
        card_facts(tmp_path, "ns/x", config, None, None, None)
    assert err.value.exit_code == 2
    with pytest.raises(HubError, match="--license"):
        card_facts(tmp_path, "ns/x", config, "org/base", None, None)
    facts = card_facts(tmp_path, "ns/x", config, "org/base", "org/data", "mit")
    assert (facts.base_model, facts.dataset, facts.license) == ("org/base", "org/data", "mit")
