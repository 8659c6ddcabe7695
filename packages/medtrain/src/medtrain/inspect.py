"""`medtrain inspect`: a recipe's examples as training sees them, the trained tokens marked.

Rendering and label mask are the trainer's own (`medtrain.data.tokenize`), so what is shown is
what the loss covers: check it before paying for a GPU hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text

from medtrain.config import RecipeConfig
from medtrain.data import IGNORE, example_text, tokenize
from medtrain.errors import UserError
from medtrain.plan_data import not_built, plan_tokenizer, read_rows, split_files

OPEN, CLOSE = "[[", "]]"
"""Marks around trained tokens where there is no colour (not a terminal)."""
TRAINED_STYLE = "bold black on green"
"""Style of trained tokens in a terminal."""


@dataclass(frozen=True)
class Example:
    """One tokenized row: each token's text, id and whether the loss covers it."""

    pieces: list[tuple[str, int, bool]]

    @property
    def trained(self) -> int:
        return sum(1 for _, _, t in self.pieces if t)


def pieces(tokenizer: Any, prompt: str, completion: str) -> Example:
    """Token texts by character offsets (spaces a tokenizer folds into a token stay with it);
    a BOS the tokenizer adds has no text and shows as its token string."""
    enc = tokenize(tokenizer, prompt, completion)
    text = prompt + completion
    offsets = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)[
        "offset_mapping"
    ]
    extra = len(enc["input_ids"]) - len(offsets)  # the BOS tokenize() put in front
    out, end = [], 0
    for k, (tid, label) in enumerate(zip(enc["input_ids"], enc["labels"], strict=True)):
        if k < extra:
            out.append((str(tokenizer.convert_ids_to_tokens(tid)), tid, label != IGNORE))
            continue
        start, stop = offsets[k - extra]
        out.append((text[min(end, start) : stop], tid, label != IGNORE))
        end = max(end, stop)
    return Example(out)


def render(example: Example, colour: bool) -> Text:
    """The example's text, trained runs in colour or between [[ ]]."""
    result, run_trained = Text(), False
    for piece, _, trained in example.pieces:
        if not colour and trained != run_trained:
            result.append(OPEN if trained else CLOSE)
        result.append(piece, style=TRAINED_STYLE if colour and trained else "")
        run_trained = trained
    if not colour and run_trained:
        result.append(CLOSE)
    return result


def render_ids(example: Example) -> str:
    """Token ids, trained runs between [[ ]] (so the closing eos/end-of-turn id is visible)."""
    out, run_trained = [], False
    for _, tid, trained in example.pieces:
        if trained != run_trained:
            out.append(OPEN if trained else CLOSE)
        out.append(str(tid))
        run_trained = trained
    return " ".join([*out, CLOSE] if run_trained else out)


def special_ids(tokenizer: Any) -> str:
    names = ("bos", "eos", "pad")
    parts = [
        f"{n.upper()} {getattr(tokenizer, f'{n}_token_id')} ({getattr(tokenizer, f'{n}_token')!r})"
        for n in names
    ]
    return ", ".join(parts)


def inspect_recipe(recipe: RecipeConfig, n: int, split: str, colour: bool) -> list[Text | str]:
    """Lines to print: special ids, n examples, and the share of tokens trained on."""
    data = recipe.data
    if not split_files(data.dataset, split):
        raise UserError(not_built(recipe))
    tokenizer = plan_tokenizer(recipe)
    if tokenizer is None:
        raise UserError(
            f"the tokenizer of {recipe.model.base} needs the Hub, which is unreachable; "
            "point model.base at a local model folder"
        )
    examples = [
        pieces(tokenizer, *example_text(tokenizer, row, data.text_field))
        for row in read_rows(data.dataset, split)
    ]
    kept = [e for e in examples if len(e.pieces) <= recipe.model.max_seq_length]
    total, trained = sum(len(e.pieces) for e in kept), sum(e.trained for e in kept)
    lines: list[Text | str] = [f"{recipe.name}: {data.dataset} ({split}); {special_ids(tokenizer)}"]
    for i, example in enumerate(kept[:n]):
        lines += [
            f"--- example {i + 1}: {len(example.pieces)} tokens, {example.trained} trained",
            render(example, colour),
            "ids: " + render_ids(example),
        ]
    lines.append(
        f"trained on {trained:,} of {total:,} tokens ({trained / max(total, 1):.1%}) in "
        f"{len(kept):,} rows; {len(examples) - len(kept)} rows over max_seq_length "
        f"{recipe.model.max_seq_length} are dropped"
    )
    return lines
