import hashlib
from pathlib import Path

import pytest
import yaml

from medeval.errors import EvalInputError
from medeval.runs import load_run, locate
from medeval.testset import load_examples
from testsupport.runs import BASE_ID
from testsupport.schemas import validate_run_folder


def test_reads_config(tiny_run: Path) -> None:
    validate_run_folder(tiny_run)  # the fixture medeval reads is what schemas/ says medtrain writes
    run = load_run(tiny_run)
    assert run.name == tiny_run.name
    assert run.base_model == BASE_ID
    assert Path(run.model_path).is_dir()  # model.resolved_path wins over model.base
    assert run.test_split == "test"


def test_relative_paths_are_relative_to_the_run_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = tmp_path / "artifacts" / "runs" / "r-1"
    (run_dir / "data" / "v").mkdir(parents=True)
    (tmp_path / "data" / "processed" / "v").mkdir(parents=True)
    config = {"model": {"base": "org/model"}, "data": {"dataset": "data/v"}}
    (run_dir / "config.yaml").write_text(yaml.safe_dump(config))
    monkeypatch.chdir(tmp_path)
    run = load_run(run_dir)
    assert run.dataset == str(run_dir / "data" / "v")
    assert run.model_path == "org/model"  # not a path: a Hub id
    assert run.test_split == "test"
    config["data"]["dataset"] = "data/processed/v"  # relative to the cwd: no guessing
    (run_dir / "config.yaml").write_text(yaml.safe_dump(config))
    with pytest.raises(
        EvalInputError, match=r"data/processed/v: no such file.*relative to the run"
    ):
        load_examples(load_run(run_dir).dataset, "test")


def test_locate_tells_local_paths_from_hub_ids(tmp_path: Path) -> None:
    assert locate(str(tmp_path)) == tmp_path
    assert locate("org/data") == "org/data"
    for bad in (str(tmp_path / "missing"), "./org/data", "a/b/c", "."):
        with pytest.raises(EvalInputError, match="no such file or folder"):
            locate(bad)


def test_missing_key_names_it(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({"model": {"base": "x"}}))
    with pytest.raises(EvalInputError, match=r"data\.dataset"):
        load_run(tmp_path)
    with pytest.raises(EvalInputError, match=r"no config\.yaml"):
        load_run(tmp_path / "nope")


def test_examples_come_in_held_out_order(tiny_run: Path) -> None:
    """sha256 of the row id, the order medtrain scores its answer-loss rows in."""
    run = load_run(tiny_run)
    every = load_examples(run.dataset, run.test_split)
    assert len(every) == 6
    assert [e.id for e in every] == sorted(
        (e.id for e in every), key=lambda i: hashlib.sha256(i.encode()).hexdigest()
    )
    asthma = next(e for e in every if e.question == "What is asthma?")
    assert asthma.reference == "A chronic disease of the airways."
    assert [m["role"] for m in asthma.prompt_messages] == ["system", "user"]
    some = load_examples(run.dataset, run.test_split, limit=3)
    assert [e.id for e in some] == [e.id for e in every[:3]]
    with pytest.raises(EvalInputError, match="validation"):
        load_examples(run.dataset, "validation")
