"""Batched answer generation: left padding, greedy by default, stops at the end-of-turn token."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from transformers import LogitsProcessorList

from medeval.chat import stop_token_ids
from medeval.cpu_linear import onednn_linears
from medeval.ending import EndOnlyWhenLikely
from medeval.errors import EvalInputError
from medeval.kv_cache import reserved_cache_kwargs
from medeval.repeats import NoRepeatInAnswer

NO_REPEAT_NGRAM = 3
"""The CLI's default answer n-gram ban (medeval/repeats.py; measured in the README, issue 10)."""


@dataclass(frozen=True)
class GenerationSettings:
    """How answers are decoded."""

    max_new_tokens: int = 128
    """Upper bound on answer length in tokens."""
    temperature: float = 0.0
    """0 means greedy decoding; above 0 samples."""
    top_p: float = 1.0
    """Nucleus sampling mass (only used when temperature > 0)."""
    batch_size: int = 8
    """Prompts decoded together (left-padded)."""
    seed: int = 0
    """Sampling seed (only used when temperature > 0)."""
    no_repeat_ngram: int = 0
    """Never repeat an n-gram of the answer's own tokens (0: off; the prompt's are allowed)."""
    end_when_likely: bool = False
    """Greedy only: end an answer only where ending has probability above 1/2 (ending.py)."""

    def __post_init__(self) -> None:
        problems = {
            "--max-new-tokens must be at least 1": self.max_new_tokens < 1,
            "--batch-size must be at least 1": self.batch_size < 1,
            "--no-repeat-ngram must be 0 (off) or at least 1": self.no_repeat_ngram < 0,
            "--temperature must be 0 (greedy) or above": self.temperature < 0,
            "--top-p must be above 0 and at most 1": not 0 < self.top_p <= 1,
        }
        if wrong := [message for message, failed in problems.items() if failed]:
            raise EvalInputError("; ".join(wrong))


def rule_phrases(end_when_likely: bool, no_repeat_ngram: int) -> list[str]:
    """The decoding rules in force, in the words the report and the chat both use."""
    phrases = []
    if end_when_likely:
        phrases.append("ending only where the model gives it probability above 1/2")
    if no_repeat_ngram:
        phrases.append(f"no {no_repeat_ngram} tokens of an answer repeated")
    return phrases


def describe(settings: dict[str, Any]) -> str:
    """How answers were decoded, in words (from eval/generation.json)."""
    greedy = settings["temperature"] == 0
    if greedy:
        how = "greedy"
    else:
        how = f"sampled at temperature {settings['temperature']}, top-p {settings['top_p']}"
    rules = rule_phrases(greedy and settings["end_when_likely"], settings["no_repeat_ngram"])
    return ", ".join([how, f"at most {settings['max_new_tokens']} new tokens", *rules])


def rules_note(settings: GenerationSettings) -> str:
    """The decoding rules both models answer under, for the chat page and terminal."""
    rules = rule_phrases(settings.end_when_likely, settings.no_repeat_ngram)
    if not rules:
        return "Both models: plain decoding, no extra rules."
    return (
        f"Both models: {'; '.join(rules)} (the ending rule when greedy; `--end-greedy`, "
        "`--no-repeat-ngram 0` turn them off)."
    )


@dataclass(frozen=True)
class Generated:
    """One decoded answer."""

    text: str
    """The answer without the prompt and special tokens."""
    n_tokens: int
    """Tokens generated, the end-of-turn token included."""


def decoding_kwargs(
    settings: GenerationSettings, prompt_width: int, stops: Sequence[int]
) -> dict[str, Any]:
    """`generate()` arguments for greedy decoding or sampling with temperature and top-p, the
    greedy ending rule (`stops`: the end-of-turn ids) and the answer's n-gram ban (prompts
    left-padded to `prompt_width` tokens)."""
    kwargs: dict[str, Any]
    rules: list[Any] = []
    if settings.temperature > 0:
        kwargs = {"do_sample": True, "temperature": settings.temperature, "top_p": settings.top_p}
    else:
        kwargs = {"do_sample": False, "temperature": None, "top_p": None, "top_k": None}
        if settings.end_when_likely:
            rules.append(EndOnlyWhenLikely(stops))  # on the model's own probabilities: first
    if settings.no_repeat_ngram:
        rules.append(NoRepeatInAnswer(settings.no_repeat_ngram, prompt_width))
    if rules:
        kwargs["logits_processor"] = LogitsProcessorList(rules)
    return kwargs


def left_pad(encoded: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Prompts as one batch (ids, attention mask), padded on the left so answers start together."""
    width = max(len(ids) for ids in encoded)
    ids = torch.full((len(encoded), width), pad_id, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for row, prompt in enumerate(encoded):
        ids[row, width - len(prompt) :] = torch.tensor(prompt, dtype=torch.long)
        mask[row, width - len(prompt) :] = 1
    return ids, mask


@torch.inference_mode()
def generate(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[str],
    settings: GenerationSettings,
    on_batch: Callable[[int], None] | None = None,
) -> list[Generated]:
    """Answer rendered prompts; prompts of similar length share a batch, results in input order.
    On a CPU the linear layers run through oneDNN (`cpu_linear`: about 2x faster decoding); the
    cache reserves the answers' room once (`kv_cache`: 12-22% faster on the pipeline's answers)."""
    stops = stop_token_ids(tokenizer, getattr(model, "generation_config", None))
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else stops[0]
    device = next(model.parameters()).device
    encoded = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
    order = sorted(range(len(prompts)), key=lambda i: len(encoded[i]))
    results: dict[int, Generated] = {}
    if settings.temperature > 0:
        torch.manual_seed(settings.seed)
    with onednn_linears(model):
        for start in range(0, len(order), settings.batch_size):
            chunk = order[start : start + settings.batch_size]
            ids, mask = left_pad([encoded[i] for i in chunk], pad_id)
            width = ids.shape[1]
            out = model.generate(
                input_ids=ids.to(device),
                attention_mask=mask.to(device),
                max_new_tokens=settings.max_new_tokens,
                eos_token_id=stops,
                pad_token_id=pad_id,
                **reserved_cache_kwargs(model, settings.max_new_tokens),
                **decoding_kwargs(settings, width, stops),
            )
            for row, i in enumerate(chunk):
                new = out[row, width:].tolist()
                ends = [k for k, token in enumerate(new) if token in stops]
                answer = new[: ends[0]] if ends else new
                text = tokenizer.decode(answer, skip_special_tokens=True).strip()
                results[i] = Generated(text=text, n_tokens=len(answer) + bool(ends))
            if on_batch is not None:
                on_batch(len(chunk))
    return [results[i] for i in range(len(prompts))]
