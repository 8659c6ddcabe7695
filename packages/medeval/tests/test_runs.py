from pathlib import Path

import pytest
import yaml

from medeval.errors import EvalInputError
from medeval.runs import load_run
from medeval.testset import load_examples


def test_reads_config(tiny_run: Path) -> None:
    run = load_run(tiny_run)
    assert run.name == tiny_run.name
    assert run.base_model == "tiny/llama"
    assert Path(run.model_path).is_dir()  # model.resolved_path wins over model.base
    assert run.test_split == "test"


def test_relative_paths_resolve_against_the_repo_root(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "data" / "processed" / "v").mkdir(parents=True)
    run_dir = repo / "artifacts" / "runs" / "r-1"
    run_dir.mkdir(parents=True)
    config = {"model": {"base": "org/model"}, "data": {"dataset": "data/processed/v"}}
    (run_dir / "config.yaml").write_text(yaml.safe_dump(config))
    run = load_run(run_dir)
    assert run.dataset == str(repo / "data" / "processed" / "v")
    assert run.model_path == "org/model"  # not a path: a Hub id
    assert run.test_split == "test"


def test_missing_key_names_it(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({"model": {"base": "x"}}))
    with pytest.raises(EvalInputError, match=r"data\.dataset"):
        load_run(tmp_path)
    with pytest.raises(EvalInputError, match=r"no config\.yaml"):
        load_run(tmp_path / "nope")


def test_examples_sample_is_seeded(tiny_run: Path) -> None:
    run = load_run(tiny_run)
    every = load_examples(run.dataset, run.test_split)
    assert len(every) == 6
    assert every[0].question == "What is asthma?"
    assert every[0].reference == "A chronic disease of the airways."
    assert [m["role"] for m in every[0].prompt_messages] == ["system", "user"]
    some = load_examples(run.dataset, run.test_split, limit=3, seed=1)
    assert len(some) == 3
    assert [e.id for e in some] == [e.id for e in load_examples(run.dataset, "test", 3, seed=1)]
    with pytest.raises(EvalInputError, match="validation"):
        load_examples(run.dataset, "validation")
