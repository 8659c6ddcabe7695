"""medeval asks each task exactly as lm-evaluation-harness does, and scores it the same.

The harness's own task objects are built from the local task files of benchmarks/parity/tasks
(its prompt functions and templates, over medeval's items in the Hub datasets' fields); its `hf`
model class scores them. `nox -s eval_parity` does the same on SmolLM2 with 100 items per task.
"""

from pathlib import Path
from typing import Any

import pytest

from benchmarks.parity.harness_docs import TASKS_DIR, harness_task, task_items, write_data
from medeval.benchmarks import encode_question, score_questions, stratified_subset
from medeval.tasks import Question, TaskSpec, load_questions, suite
from testsupport.paths import EVAL_DATA
from testsupport.tiny import tiny_causal_lm
from testsupport.tokenizers import vocab_tokenizer

PROMPT_FIELDS = (
    "output_type", "doc_to_text", "doc_to_target", "doc_to_choice", "description",
    "target_delimiter", "fewshot_delimiter", "num_fewshot",
)  # fmt: skip
"""What decides the text and the continuations the harness scores."""


def official_config(harness_name: str) -> dict[str, Any]:
    """The installed harness's own task YAML (includes and !function resolved)."""
    import lm_eval.tasks
    from lm_eval.tasks._yaml_loader import load_yaml

    mmlu = harness_name.startswith("mmlu_")
    folder = "mmlu/default" if mmlu else harness_name.split("_")[0]
    path = Path(lm_eval.tasks.__file__).parent / folder / f"{harness_name if mmlu else folder}.yaml"
    return load_yaml(path)


def comparable(value: Any) -> Any:
    """A prompt function by its module and name (one module can be loaded twice)."""
    return (value.__module__, value.__qualname__) if callable(value) else value


def asked(spec: TaskSpec, n: int, folder: Path) -> tuple[list[Question], Any]:
    """n label-stratified items as medeval asks them, and the harness task over the same items."""
    questions = stratified_subset(load_questions(spec, EVAL_DATA), n)
    items = task_items(spec, EVAL_DATA, [q.id for q in questions])
    task = harness_task(spec, write_data(spec, items, folder))
    task.build_all_requests(limit=None, rank=0, world_size=1)
    return questions, task


@pytest.mark.parametrize("name", list(suite()))
def test_local_task_files_keep_the_official_prompts(name: str) -> None:
    from lm_eval.tasks._yaml_loader import load_yaml

    official = official_config(suite()[name].harness or "")
    local = load_yaml(TASKS_DIR / f"parity_{name}.yaml")
    for field in PROMPT_FIELDS:
        assert comparable(local.get(field)) == comparable(official.get(field)), field


@pytest.mark.parametrize("name", list(suite()))
def test_contexts_and_continuations_are_the_harness_requests(name: str, tmp_path: Path) -> None:
    questions, task = asked(suite()[name], 8, tmp_path)
    requests: dict[int, list[tuple[str, str]]] = {}
    for instance in task.instances:
        requests.setdefault(instance.doc_id, []).append(instance.args)
    assert len(requests) == len(questions)
    for i, question in enumerate(questions):
        assert requests[i] == [(question.context, choice) for choice in question.choices]
        doc = task.eval_docs[i]
        target = task.doc_to_target(doc)
        gold = task.doc_to_choice(doc).index(target) if isinstance(target, str) else target
        assert gold == question.gold


@pytest.fixture(scope="module", params=["llama", "qwen2"])
def harness_lm(request: pytest.FixtureRequest) -> Any:
    """The harness's `hf` model over a tiny random Llama, with a real tokenizer: Llama-2's (adds
    a BOS) or Qwen2's byte-level BPE (none, as SmolLM2's)."""
    from lm_eval.models.huggingface import HFLM

    tokenizer = vocab_tokenizer(request.param)
    model = tiny_causal_lm("llama", len(tokenizer), seed=3).eval()
    return HFLM(pretrained=model, tokenizer=tokenizer, batch_size=4, device="cpu")


def test_token_ids_are_the_harness_encoding(harness_lm: Any, tmp_path: Path) -> None:
    for name in ("pubmedqa", "medmcqa", "mmlu_anatomy"):
        questions, _ = asked(suite()[name], 3, tmp_path)
        for question in questions:
            expected = [harness_lm._encode_pair(question.context, c) for c in question.choices]
            assert encode_question(harness_lm.tokenizer, question) == expected


@pytest.mark.parametrize("name", ["pubmedqa", "medqa", "mmlu_college_biology"])
def test_scores_are_the_harness_loglikelihoods(name: str, harness_lm: Any, tmp_path: Path) -> None:
    questions, task = asked(suite()[name], 4, tmp_path)
    theirs = harness_lm.loglikelihood(task.instances, disable_tqdm=True)
    ours = score_questions(harness_lm.model, harness_lm.tokenizer, questions, name)
    flat = [lp for result in ours for lp in result.logprobs]
    assert flat == pytest.approx([lp for lp, _ in theirs], abs=1e-4)
    picks = [max(range(len(q.choices)), key=lambda c, i=i: theirs[i * len(q.choices) + c][0])
             for i, q in enumerate(questions)]  # fmt: skip
    assert [r.pred for r in ours] == picks
