"""The inference dtype follows medtrain's precision rule: one shared table (testsupport)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
import yaml

from medeval.errors import EvalInputError
from medeval.models import inference_dtype, load_model, pick_device
from medeval.runs import load_run
from testsupport.precision import DEVICES, EXPECTED, simulated


@pytest.mark.parametrize("device", list(DEVICES))
def test_auto_dtype_follows_the_shared_table(device: str) -> None:
    with simulated(device):
        here = pick_device()
        assert here.type == ("cpu" if device == "cpu" else "cuda")
        assert inference_dtype(here) == getattr(torch, EXPECTED[device][0])


def test_explicit_dtype_wins_where_the_device_runs_it() -> None:
    with simulated("t4"):
        assert inference_dtype(pick_device(), "float32") == torch.float32
        with pytest.raises(EvalInputError, match=r"model\.dtype=bfloat16 cannot run"):
            inference_dtype(pick_device(), "bfloat16")
    with simulated("a100"):
        assert inference_dtype(pick_device(), "float16") == torch.float16
    with pytest.raises(EvalInputError, match=r"model\.dtype=float16 cannot run"):
        inference_dtype(torch.device("cpu"), "float16")


def test_run_dtype_reaches_the_loaded_base(tiny_run: Path, tmp_path: Path) -> None:
    run = shutil.copytree(tiny_run, tmp_path / tiny_run.name)
    config = yaml.safe_load((run / "config.yaml").read_text())
    assert load_model(load_run(run)).get_base_model().dtype == torch.float32
    config["model"]["dtype"] = "bfloat16"
    (run / "config.yaml").write_text(yaml.safe_dump(config))
    assert load_model(load_run(run)).get_base_model().dtype == torch.bfloat16
