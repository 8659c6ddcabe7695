"""The hf backend under `accelerate launch`: two CPU processes, DDP over gloo."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

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
