"""`benchmarks/eval_parity.py` (nox -s eval_parity) runs end to end on SmolLM2, on two items,
`benchmarks/parity/table.py` renders its result as the READMEs' table, and
`benchmarks/parity/ceiling.py` takes the attention out of a forward and nothing else."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.parity.ceiling import attention_free, fractions
from benchmarks.parity.table import table
from testsupport.paths import REPO
from testsupport.tiny import tiny_causal_lm


def test_attention_free_skips_only_the_attention_kernel_and_restores_it() -> None:
    import torch

    model = tiny_causal_lm("llama").eval()
    calls = []
    kernel = torch.nn.functional.scaled_dot_product_attention
    tokens = torch.tensor([[1, 5, 9, 13, 17]])
    with torch.no_grad():
        before = model(tokens).logits
        with attention_free():
            free = model(tokens).logits
            for block in model.model.layers:
                block.mlp.register_forward_hook(lambda *_: calls.append(1))
            model(tokens)
        after = model(tokens).logits
    assert torch.nn.functional.scaled_dot_product_attention is kernel
    assert free.shape == before.shape and not torch.allclose(free, before)
    assert torch.equal(after, before)
    assert len(calls) == 2 * len(model.model.layers)  # the rest of each block still runs


def test_attention_free_refuses_a_model_whose_attention_it_cannot_take_out() -> None:
    import torch

    model = tiny_causal_lm("llama", attn_implementation="eager").eval()
    refused = pytest.raises(RuntimeError, match='attn_implementation="sdpa"')
    with refused, torch.no_grad(), attention_free():
        model(torch.tensor([[1, 5, 9]]))


def test_fractions_of_the_bound_without_and_with_the_attention_at_the_peak() -> None:
    got = fractions(work=200e9, free_seconds=1.0, attention_work=20e9, peak=100e9)
    assert got["fraction_if_attention_free"] == pytest.approx(2.0)
    assert got["fraction_if_attention_at_peak"] == pytest.approx(2.0 / 1.2)
    assert got["attention_gflop"] == pytest.approx(20.0)


@pytest.mark.slow
def test_eval_parity_writes_both_tools_numbers(tmp_path: Path) -> None:
    out = tmp_path / "eval_parity.json"
    command = [sys.executable, "-m", "benchmarks.eval_parity", "--limit", "2", "--task", "medqa"]
    command += ["--harness-batch-size", "1", "--repeats", "2"]
    command += ["--data", str(tmp_path), "--out", str(out)]
    subprocess.run(command, cwd=REPO, check=True, timeout=900)
    result = json.loads(out.read_text())
    medqa = result["tasks"]["medqa"]
    assert medqa["items"] == 2
    assert medqa["same_pick"] == 1.0
    assert medqa["harness"]["acc"] == medqa["medeval"]["acc"]
    for tool in ("harness", "medeval"):
        assert len(medqa[tool]["all_seconds"]) == 2
        assert medqa[tool]["seconds"] == min(medqa[tool]["all_seconds"]) > 0
    assert 0 < medqa["fraction_of_peak"] < 2
    assert set(medqa["met"]) == {"same_pick", "acc_diff_points", "speedup", "fraction_of_peak"}
    ceiling = medqa["ceiling"]
    assert ceiling["attention_free_seconds"] > 0 and ceiling["attention_gflop"] > 0
    assert 0 < ceiling["fraction_if_attention_at_peak"] < ceiling["fraction_if_attention_free"]
    assert result["total"]["ceiling"]["attention_gflop"] == ceiling["attention_gflop"]
    assert 0 < result["medeval_profile"]["matmul_share"] <= 1
    assert "2 P n" in result["flops_formula"]
    rendered = table(result).splitlines()
    assert len(rendered) == 4  # header, alignment, medqa, all
    assert rendered[2].startswith("| medqa | 2 | ") and rendered[3].startswith("| **all** | 2 | ")
    assert all(line.count("|") == rendered[0].count("|") for line in rendered)
