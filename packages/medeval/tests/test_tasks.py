import json
from collections import Counter
from pathlib import Path

import pytest

from medeval.errors import EvalInputError
from medeval.tasks import AVERAGE, load_questions, resolve, suite
from testsupport.paths import EVAL_DATA

SIZES = {
    "pubmedqa": 500,
    "medqa": 1273,
    "medmcqa": 2816,
    "mmlu_anatomy": 135,
    "mmlu_clinical_knowledge": 265,
    "mmlu_college_biology": 144,
    "mmlu_college_medicine": 173,
    "mmlu_medical_genetics": 100,
    "mmlu_professional_medicine": 272,
}


def test_the_suite_is_the_leaderboards_nine_tasks() -> None:
    tasks = suite()
    assert list(tasks) == list(SIZES)
    assert tasks["medqa"].harness == "medqa_4options"
    assert all(spec.harness == name for name, spec in tasks.items() if name != "medqa")


@pytest.mark.parametrize("name", list(SIZES))
def test_every_item_of_every_task_loads(name: str) -> None:
    questions = load_questions(suite()[name], EVAL_DATA)
    assert len(questions) == SIZES[name]
    assert len({q.id for q in questions}) == len(questions)
    assert all(q.context.endswith("\nAnswer:") for q in questions)
    expected = [" yes", " no", " maybe"] if name == "pubmedqa" else [" A", " B", " C", " D"]
    assert all(q.choices == expected for q in questions)
    assert len(Counter(q.gold for q in questions)) == len(expected)


def test_prompts_follow_each_harness_task() -> None:
    tasks = suite()
    medqa = load_questions(tasks["medqa"], EVAL_DATA)[0]
    assert medqa.context.startswith("Question: A junior orthopaedic")
    assert "\nA. Disclose the error to the patient" in medqa.context
    assert medqa.gold == 1
    medmcqa = load_questions(tasks["medmcqa"], EVAL_DATA)[1]
    assert medmcqa.context == (
        "Question: Concentration of tropicamide:\nChoices:\nA. 0.01\nB. 0.02\nC. 0.03\nD. 0.04\n"
        "Answer:"
    )
    anatomy = load_questions(tasks["mmlu_anatomy"], EVAL_DATA)[0]
    assert anatomy.context.startswith(
        "The following are multiple choice questions (with answers) about anatomy.\n\n"
        "A lesion causing compression of the facial nerve"
    )
    genetics = load_questions(tasks["mmlu_medical_genetics"], EVAL_DATA)[0]
    assert genetics.context.startswith(
        "The following are multiple choice questions (with answers) about medical genetics.\n\n"
    )
    pubmedqa = load_questions(tasks["pubmedqa"], EVAL_DATA)[0]
    assert pubmedqa.context.startswith("Abstract: ")
    assert "\nQuestion: " in pubmedqa.context


def test_resolve_names_groups_and_files(tmp_path: Path) -> None:
    assert [t.name for t in resolve(None)] == list(SIZES)
    assert [t.name for t in resolve(["mmlu", "medqa"])] == [n for n in SIZES if "mmlu" in n] + [
        "medqa"
    ]
    mine = tmp_path / "cardiology.jsonl"
    row = {"question": "Q?", "options": {"A": "x", "B": "y", "C": "z", "D": "w", "E": "v"}}
    mine.write_text(json.dumps({**row, "answer_idx": "E"}) + "\n")
    (spec,) = resolve([str(mine)])
    assert (spec.name, spec.harness) == ("cardiology", None)
    (question,) = load_questions(spec, EVAL_DATA)
    assert question.choices == [" A", " B", " C", " D", " E"]
    assert question.gold == 4
    assert question.context == "Question: Q?\nA. x\nB. y\nC. z\nD. w\nE. v\nAnswer:"


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["mmlu_virology"], "unknown task 'mmlu_virology'"),
        (["missing.jsonl"], "or give an existing .jsonl file"),
        (["{tmp}/medqa.jsonl", "medqa"], "two tasks named 'medqa'"),
        ([f"{{tmp}}/{AVERAGE}.jsonl"], "reserved"),
    ],
)
def test_resolve_errors(tmp_path: Path, names: list[str], message: str) -> None:
    for name in ("medqa", AVERAGE):
        (tmp_path / f"{name}.jsonl").write_text("")
    with pytest.raises(EvalInputError, match=message):
        resolve([n.format(tmp=tmp_path) for n in names])
