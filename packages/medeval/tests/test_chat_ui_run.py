"""What the chat shows about a run, read from its files and its held-out split."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from medeval.chat_ui_run import losses_markdown, summarize
from medeval.errors import EvalInputError
from medeval.runs import load_run
from testsupport.templates import SYSTEM
from testsupport.variants import QA


@pytest.fixture
def run_copy(tiny_run: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "run"
    shutil.copytree(tiny_run, folder, ignore=shutil.ignore_patterns("adapter"))
    return folder


def test_facts_system_and_examples_come_from_the_run(run_copy: Path) -> None:
    stats = json.loads((run_copy / "trainer_stats.json").read_text())
    stats |= {"global_step": 60, "eval_answer_loss_before": 2.5, "eval_answer_loss_after": 2.0}
    stats["eval_answer_rows"] = 50
    (run_copy / "trainer_stats.json").write_text(json.dumps(stats))
    summary = summarize(load_run(run_copy), 3)
    facts = dict(summary.facts)
    assert facts["Run"] == "run"
    assert facts["Steps"] == "60"
    assert facts["Dataset"] == "variant (held-out split: test)"
    assert summary.losses == [("held-out, 50 rows", 2.5, 2.0)]  # one answer loss, not two
    table = losses_markdown(summary.losses).splitlines()
    assert table[0] == "| held-out answer loss | base → fine-tuned |"
    assert table[2:] == ["| held-out, 50 rows | 2.500 → 2.000 (-20.0%) |"]
    assert summary.system == SYSTEM
    assert len(summary.examples) == 3
    assert {(e.question, e.reference) for e in summary.examples} <= set(QA)


def test_a_run_without_stats_says_what_is_missing(run_copy: Path) -> None:
    (run_copy / "trainer_stats.json").unlink()
    config = yaml.safe_load((run_copy / "config.yaml").read_text())
    config["training"] = {"max_steps": 20}
    (run_copy / "config.yaml").write_text(yaml.safe_dump(config))
    summary = summarize(load_run(run_copy), 0)
    facts = dict(summary.facts)
    assert facts["Steps"] == "20 planned (no trainer_stats.json)"
    assert summary.losses == []
    assert "not measured yet" in losses_markdown(summary.losses)


def test_without_the_held_out_split_the_system_must_be_given(run_copy: Path) -> None:
    config = yaml.safe_load((run_copy / "config.yaml").read_text())
    config["data"]["dataset"] = str(run_copy / "gone")
    (run_copy / "config.yaml").write_text(yaml.safe_dump(config))
    with pytest.raises(EvalInputError, match="pass --system TEXT"):
        summarize(load_run(run_copy), 3)
    summary = summarize(load_run(run_copy), 3, system="Be careful.")
    assert summary.system == "Be careful."
    assert summary.examples == []
    assert summary.examples_note.startswith("No example questions:")


def test_a_broken_stats_file_is_named(run_copy: Path) -> None:
    (run_copy / "trainer_stats.json").write_text("{not json")
    with pytest.raises(EvalInputError, match=r"trainer_stats\.json: not valid JSON"):
        summarize(load_run(run_copy), 0)
