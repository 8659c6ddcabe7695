"""Several processes on the CPU over gloo: DDP and DeepSpeed ZeRO-3 through `accelerate launch`
with the shipped configs, and FSDP2 sharding (4-bit base included) through torch's
`fully_shard`, since accelerate's FSDP plugin refuses the CPU."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from testsupport.paths import REPO
from testsupport.recipes import STEPS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_two_process_gloo_run(recipe_file: Path, finished_run: Path, tmp_path: Path) -> None:
    run = tmp_path / "ddp"
    cmd = [
        sys.executable, "-m", "accelerate.commands.launch",
        "--config_file", str(REPO / "configs" / "accelerate" / "cpu_2proc.yaml"),
        "--main_process_port", str(free_port()), "--num_cpu_threads_per_process", "1",
        "-m", "medtrain", "train", str(recipe_file), "--run-dir", str(run),
    ]  # fmt: skip
    got = subprocess.run(
        cmd, capture_output=True, text=True, check=False, env={**os.environ}, timeout=600
    )
    assert got.returncode == 0, got.stderr[-3000:]
    stats = json.loads((run / "trainer_stats.json").read_text())
    single = json.loads((finished_run / "trainer_stats.json").read_text())
    assert stats["world_size"] == 2
    assert stats["global_step"] == STEPS
    assert stats["tokens_seen"] > single["tokens_seen"] * 1.5  # both ranks' batches were counted
    assert (run / "adapter" / "adapter_model.safetensors").is_file()
    # Every rank scores the same held-out rows; the base model's scores match a single process.
    ddp_base, single_base = (
        [json.loads(x)["base"] for x in (r / "answer_loss.jsonl").read_text().splitlines()]
        for r in (run, finished_run)
    )
    assert ddp_base == pytest.approx(single_base, rel=1e-5)


def launch(config: str, recipe_file: Path, run: Path, *extra: str) -> subprocess.CompletedProcess:
    cmd = [
        sys.executable, "-m", "accelerate.commands.launch",
        "--config_file", str(REPO / "configs" / "accelerate" / config), *extra,
        "--main_process_port", str(free_port()), "--num_cpu_threads_per_process", "1",
        "-m", "medtrain", "train", str(recipe_file), "--run-dir", str(run),
    ]  # fmt: skip
    env = {**os.environ, "DS_ACCELERATOR": "cpu"}
    return subprocess.run(cmd, capture_output=True, text=True, check=False, env=env, timeout=600)


def test_deepspeed_zero3_two_cpu_processes(
    recipe_file: Path, finished_run: Path, tmp_path: Path
) -> None:
    run = tmp_path / "zero3"
    got = launch("deepspeed_zero3.yaml", recipe_file, run, "--mixed_precision", "no")
    assert got.returncode == 0, got.stderr[-3000:]
    stats = json.loads((run / "trainer_stats.json").read_text())
    assert (stats["world_size"], stats["global_step"]) == (2, STEPS)
    single = json.loads((finished_run / "trainer_stats.json").read_text())
    # scored at the start of train(), once the DeepSpeed engine exists: the same base
    assert stats["eval_answer_loss_before"] == pytest.approx(
        single["eval_answer_loss_before"], rel=1e-3
    )
    rows, single_rows = (
        [json.loads(x) for x in (r / "answer_loss.jsonl").read_text().splitlines()]
        for r in (run, finished_run)
    )
    assert [r["base"] for r in rows] == pytest.approx([r["base"] for r in single_rows], rel=1e-3)
    assert all(r["finetuned"] > 0 for r in rows)
    from safetensors.torch import load_file

    gathered = load_file(run / "adapter" / "adapter_model.safetensors")
    single = load_file(finished_run / "adapter" / "adapter_model.safetensors")
    assert {k: v.shape for k, v in gathered.items()} == {k: v.shape for k, v in single.items()}


def fsdp_losses(recipe_file: Path, out: Path, processes: int, *extra: str) -> dict:
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(processes),
        "--master_port", str(free_port()), "-m", "testsupport.fsdp_worker",
        str(recipe_file), str(out), *extra,
    ]  # fmt: skip
    got = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=600)
    assert got.returncode == 0, got.stderr[-3000:]
    return dict(json.loads(out.read_text()))


@pytest.mark.parametrize("four_bit", [False, True], ids=["fp32-lora", "nf4-base"])
def test_fsdp2_shards_and_matches_one_process(
    recipe_file: Path, tmp_path: Path, four_bit: bool
) -> None:
    extra = ["--four-bit"] if four_bit else []
    one = fsdp_losses(recipe_file, tmp_path / "one.json", 1, *extra)
    two = fsdp_losses(recipe_file, tmp_path / "two.json", 2, *extra)
    assert two["world_size"] == 2
    assert two["sharded_trainable"] == two["trainable"] and two["local_fraction"] == 0.5
    assert two["sharded_frozen"] == two["frozen"] and two["frozen_local_fraction"] == 0.5
    assert two["losses"] == pytest.approx(one["losses"], rel=1e-5)
    assert two["quant_storage"] == (["torch.float32"] if four_bit else [])
    assert two["losses"][-1] < two["losses"][0]
