"""Streamed base and fine-tuned answers from one tiny model load: the same answers as medeval's
batch generation with the adapter switched off and on, token by token."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import torch

from medeval.chat import render_prompt
from medeval.chat_ui_session import SIDES, Answer
from medeval.chat_ui_stream import PairChat
from medeval.compared import as_model
from medeval.errors import EvalInputError
from medeval.generation import GenerationSettings, generate
from medeval.models import load_model, load_tokenizer
from medeval.runs import load_run
from testsupport.switched import switched, switched_at_each_head_call

SYSTEM = {"role": "system", "content": "Answer briefly."}
HISTORIES = {  # different lengths: the two rows of the batch are padded differently
    "base": [SYSTEM, {"role": "user", "content": "What is asthma?"}],
    "finetuned": [
        SYSTEM,
        {"role": "user", "content": "What is asthma?"},
        {"role": "assistant", "content": "A disease of the airways."},
        {"role": "user", "content": "How is it treated?"},
    ],
}
SETTINGS = GenerationSettings(max_new_tokens=24)


@pytest.fixture(scope="module")
def pair(tiny_run: Path) -> PairChat:
    run = load_run(tiny_run)
    return PairChat(load_model(run), load_tokenizer(run))


@pytest.fixture(scope="module")
def dora_pair(tiny_run: Path, tmp_path_factory: pytest.TempPathFactory) -> PairChat:
    """The tiny run with a DoRA adapter (which peft cannot mix in one batch)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    folder = tmp_path_factory.mktemp("dora") / "run"
    shutil.copytree(tiny_run, folder)
    run = load_run(folder)
    torch.manual_seed(2)
    config = LoraConfig(
        r=4, target_modules=["q_proj", "v_proj"], use_dora=True, init_lora_weights=False
    )
    get_peft_model(AutoModelForCausalLM.from_pretrained(run.model_path), config).save_pretrained(
        run.adapter_dir
    )
    return PairChat(load_model(run), load_tokenizer(run))


def reference_answers(pair: PairChat, settings: GenerationSettings) -> dict[str, Any]:
    """medeval.generation's answers, one side at a time under compared.as_model."""
    answers = {}
    for side in SIDES:
        with as_model(pair.model, side):
            prompt = render_prompt(pair.tokenizer, HISTORIES[side])
            answers[side] = generate(pair.model, pair.tokenizer, [prompt], settings)[0]
    return answers


@pytest.mark.parametrize("name", ["pair", "dora_pair"])
def test_streamed_answers_are_the_generated_ones(name: str, request: pytest.FixtureRequest) -> None:
    pair = request.getfixturevalue(name)
    assert pair.mixed_batch == (name == "pair")
    updates = list(pair.stream(HISTORIES, SETTINGS))
    final = updates[-1]
    expected = reference_answers(pair, SETTINGS)
    for side in SIDES:
        assert final[side].text == expected[side].text
        assert final[side].n_tokens == expected[side].n_tokens
    assert final["base"].text != final["finetuned"].text
    assert len(updates) > 5  # token by token, not all at the end
    for side in SIDES:
        counts = [u[side].n_tokens for u in updates]
        assert counts == sorted(counts)
        assert counts[0] < counts[-1]


def test_sampling_is_seeded(pair: PairChat) -> None:
    sampled = GenerationSettings(max_new_tokens=12, temperature=1.0, top_p=0.9, seed=3)
    first = list(pair.stream(HISTORIES, sampled))[-1]
    assert list(pair.stream(HISTORIES, sampled))[-1] == first


def test_stop_ends_both_answers_early(pair: PairChat) -> None:
    stop = {"now": False}
    updates = []
    for update in pair.stream(HISTORIES, SETTINGS, lambda: stop["now"]):
        updates.append(update)
        stop["now"] = update["base"].n_tokens >= 3
    final = updates[-1]
    assert all(not final[s].finished and final[s].n_tokens < 24 for s in SIDES)
    assert final["base"].n_tokens >= 3


def test_a_closed_stream_frees_the_model(pair: PairChat) -> None:
    stream = pair.stream(HISTORIES, SETTINGS)
    next(stream)
    stream.close()  # a page closed mid-answer: the worker ends, the next question runs
    assert (
        list(pair.stream(HISTORIES, GenerationSettings(max_new_tokens=2)))[-1]["base"] != Answer()
    )


def test_a_conversation_past_the_context_is_an_input_error(pair: PairChat) -> None:
    with pytest.raises(EvalInputError, match="passes the model's context of 512"):
        next(pair.stream(HISTORIES, GenerationSettings(max_new_tokens=500)))


def test_a_generation_error_reaches_the_reader(
    pair: PairChat, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**kwargs: Any) -> None:
        raise RuntimeError("device lost")

    monkeypatch.setattr(pair.model, "generate", broken)
    with pytest.raises(RuntimeError, match="device lost"):
        list(pair.stream(HISTORIES, SETTINGS))


def test_both_sides_decode_through_onednn_and_the_layers_come_back(pair: PairChat) -> None:
    model = pair.model
    with switched_at_each_head_call(model) as seen:
        list(pair.stream(HISTORIES, GenerationSettings(max_new_tokens=3)))
    linears = sum(type(m) is torch.nn.Linear for m in model.modules())
    adapted = sum(hasattr(m, "lora_A") for m in model.modules())  # q and v, merged
    mlps = model.config.num_hidden_layers  # not adapted: each fused
    assert adapted == 2 * mlps
    assert seen and set(seen) == {linears + adapted + mlps}
    assert switched(model) == 0
