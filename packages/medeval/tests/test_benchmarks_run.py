import json
from pathlib import Path
from typing import Any

import pytest
import torch

from medeval.benchmarks_run import load_tasks, run_tasks, write_benchmarks
from medeval.compared import MODELS
from medeval.models import load_model, open_tokenizer
from medeval.runs import load_run
from medeval.tasks import AVERAGE, resolve, suite
from testsupport.paths import EVAL_DATA
from testsupport.schemas import validate_json, validate_jsonl


@pytest.fixture(scope="module")
def peft_model(tiny_run: Path) -> tuple[Any, Any]:
    run = load_run(tiny_run)
    return load_model(run), open_tokenizer(run.model_path, run.adapter_dir)


@pytest.fixture(scope="module")
def written(peft_model: tuple[Any, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bench")
    tasks = load_tasks(EVAL_DATA, resolve(None), limit=4, seed=0)
    write_benchmarks(out, tasks, run_tasks(*peft_model, tasks, MODELS, batch_size=8))
    return out


def test_benchmarks_json_has_every_task_and_the_leaderboard_average(written: Path) -> None:
    table = validate_json("benchmarks.schema.json", written / "benchmarks.json")
    assert list(table) == [*suite(), AVERAGE]
    for which in MODELS:
        accs = [table[name][which]["acc"] for name in suite()]
        assert table[AVERAGE][which]["acc"] == pytest.approx(sum(accs) / 9)
        errors = [table[name][which]["stderr"] ** 2 for name in suite()]
        assert table[AVERAGE][which]["stderr"] == pytest.approx(sum(errors) ** 0.5 / 9)
        assert (table[AVERAGE][which]["tasks"], table[AVERAGE][which]["n"]) == (9, 36)
        assert table["medqa"][which]["n"] == 4


def test_per_item_files_give_each_models_logprobs(written: Path) -> None:
    for name in suite():
        path = written / "benchmarks" / f"{name}.jsonl"
        lines = validate_jsonl("benchmark_item.schema.json", path)
        assert len(lines) == 4
        for line in lines:
            assert set(line) == {"id", "gold", *MODELS}
            for which in MODELS:
                scores = line[which]
                assert len(scores["logprobs"]) == (3 if name == "pubmedqa" else 4)
                assert scores["pred"] == scores["logprobs"].index(max(scores["logprobs"]))
    medqa = [json.loads(x) for x in (written / "benchmarks" / "medqa.jsonl").open()]
    assert medqa[0]["base"]["logprobs"] != medqa[0]["finetuned"]["logprobs"]  # the adapter acts
    ids = {json.loads(line)["realidx"] for line in (EVAL_DATA / "medqa" / "test.jsonl").open()}
    assert {int(line["id"]) for line in medqa} <= ids


def test_no_average_without_the_whole_suite(peft_model: tuple[Any, Any], tmp_path: Path) -> None:
    tasks = load_tasks(EVAL_DATA, resolve(["medqa"]), limit=2, seed=0)
    write_benchmarks(tmp_path, tasks, run_tasks(*peft_model, tasks, ("base",), batch_size=8))
    table = validate_json("benchmarks.schema.json", tmp_path / "benchmarks.json")
    validate_jsonl("benchmark_item.schema.json", tmp_path / "benchmarks" / "medqa.jsonl")
    assert list(table) == ["medqa"]
    assert list(table["medqa"]) == ["base"]


def test_the_weights_are_packed_for_onednn_once_for_every_task_and_model(
    peft_model: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    packed: list[torch.Size] = []
    reorder = torch.ops.mkldnn._reorder_linear_weight

    def counting(weight: torch.Tensor, rows: int) -> torch.Tensor:
        packed.append(weight.shape)
        return reorder(weight, rows)

    monkeypatch.setattr(torch.ops.mkldnn, "_reorder_linear_weight", counting)
    tasks = load_tasks(EVAL_DATA, resolve(["medqa", "medmcqa"]), limit=2, seed=0)
    run_tasks(*peft_model, tasks, MODELS, batch_size=8)
    model = peft_model[0]
    linears = sum(type(m) is torch.nn.Linear for m in model.modules())
    adapted = sum(hasattr(m, "lora_A") for m in model.modules())  # their merged weights
    assert adapted > 0
    assert len(packed) == linears + adapted + 1  # each once, and the probe
