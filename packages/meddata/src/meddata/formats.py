"""Chat formats of the target model families, as data.

Each family's format is written down once, as the strings its official chat template emits
around a single system/user/assistant exchange. The same description renders a whole column
at once (a polars expression, for the build) and one conversation (for callers and tests), so
the two can never drift apart. `tests/test_formats.py` checks every family against the official
Jinja templates in `data/templates/`, rendered the way transformers renders them.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import polars as pl

# Every character Python's str.strip() removes (the templates' `trim` / `.strip()`), so the
# vectorized rendering strips exactly what Jinja does, not Rust's narrower whitespace set.
PY_WHITESPACE = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())

SystemStyle = Literal["fold", "turn"]


@dataclass(frozen=True)
class ChatFormat:
    """The strings a family's official chat template puts around one exchange."""

    family: str
    """Short name used in variant names (`mistral`, `llama`, `llama3`, `gemma`)."""
    model: str
    """The model whose official template this reproduces."""
    bos: str
    """Begin-of-sequence text at the very start."""
    system_style: SystemStyle
    """`turn`: the system message has its own turn; `fold`: it is put before the user text."""
    system_open: str
    """Text before the system message (its turn header, or the `<<SYS>>` opener)."""
    system_close: str
    """Text after the system message (end of its turn, or the separator before the user text)."""
    user_open: str
    """Text before the user message."""
    user_close: str
    """Text after the user message."""
    assistant_open: str
    """Text before the assistant answer."""
    assistant_close: str
    """Text after the answer: its end-of-turn / eos, which the model must learn to emit."""
    generation_prompt: str
    """What `add_generation_prompt=True` appends when the answer is left to the model."""
    strip: bool
    """Whether the template strips the contents (Jinja `trim` / `.strip()`)."""
    stop: tuple[str, ...]
    """Strings that end the model's answer at generation time."""


FORMATS: dict[str, ChatFormat] = {
    f.family: f
    for f in (
        ChatFormat(
            family="mistral",
            model="mistralai/Mistral-7B-Instruct-v0.2",
            bos="<s>",
            system_style="fold",
            system_open="",
            system_close="\n\n",
            user_open=" [INST] ",
            user_close=" [/INST]",
            assistant_open=" ",
            assistant_close="</s>",
            generation_prompt="",
            strip=False,
            stop=("</s>",),
        ),
        ChatFormat(
            family="llama",
            model="meta-llama/Llama-2-7b-chat-hf",
            bos="<s>",
            system_style="fold",
            system_open="<<SYS>>\n",
            system_close="\n<</SYS>>\n\n",
            user_open="[INST] ",
            user_close=" [/INST]",
            assistant_open=" ",
            assistant_close=" </s>",
            generation_prompt="",
            strip=True,
            stop=("</s>",),
        ),
        ChatFormat(
            family="llama3",
            model="meta-llama/Meta-Llama-3-8B-Instruct",
            bos="<|begin_of_text|>",
            system_style="turn",
            system_open="<|start_header_id|>system<|end_header_id|>\n\n",
            system_close="<|eot_id|>",
            user_open="<|start_header_id|>user<|end_header_id|>\n\n",
            user_close="<|eot_id|>",
            assistant_open="<|start_header_id|>assistant<|end_header_id|>\n\n",
            assistant_close="<|eot_id|>",
            generation_prompt="<|start_header_id|>assistant<|end_header_id|>\n\n",
            strip=True,
            stop=("<|eot_id|>", "<|end_of_text|>"),
        ),
        ChatFormat(
            family="gemma",
            model="google/gemma-1.1-7b-it",
            bos="<bos>",
            system_style="fold",
            system_open="",
            system_close="\n\n",
            user_open="<start_of_turn>user\n",
            user_close="<end_of_turn>\n",
            assistant_open="<start_of_turn>model\n",
            assistant_close="<end_of_turn>\n",
            generation_prompt="<start_of_turn>model\n",
            strip=True,
            stop=("<end_of_turn>", "<eos>"),
        ),
    )
}
"""The families: `mistral`, `llama` (Llama-2-chat), `gemma` as upstream; `llama3` as an extra."""


def get_format(family: str) -> ChatFormat:
    """The format of `family`, or a ValueError that lists the known ones."""
    try:
        return FORMATS[family]
    except KeyError:
        raise ValueError(f"unknown chat format {family!r}; known: {', '.join(FORMATS)}") from None


def _content(fmt: ChatFormat, expr: pl.Expr) -> pl.Expr:
    return expr.str.strip_chars(PY_WHITESPACE) if fmt.strip else expr


def render_expr(
    fmt: ChatFormat,
    system: pl.Expr | None = None,
    user: pl.Expr | None = None,
    assistant: pl.Expr | None = None,
) -> pl.Expr:
    """Render one exchange per row; a null system is left out, a null answer leaves the
    generation prompt so the model continues from there."""
    system = pl.col("instruction") if system is None else system
    user = pl.col("input") if user is None else user
    assistant = pl.col("output") if assistant is None else assistant
    has_system = system.is_not_null()
    if fmt.system_style == "fold":
        folded = pl.concat_str([pl.lit(fmt.system_open), system, pl.lit(fmt.system_close), user])
        system_turn = pl.lit("")
        user_text = pl.when(has_system).then(folded).otherwise(user)
    else:
        system_turn = (
            pl.when(has_system)
            .then(
                pl.concat_str(
                    [pl.lit(fmt.system_open), _content(fmt, system), pl.lit(fmt.system_close)]
                )
            )
            .otherwise(pl.lit(""))
        )
        user_text = user
    answer = (
        pl.when(assistant.is_not_null())
        .then(
            pl.concat_str(
                [pl.lit(fmt.assistant_open), _content(fmt, assistant), pl.lit(fmt.assistant_close)]
            )
        )
        .otherwise(pl.lit(fmt.generation_prompt))
    )
    return pl.concat_str(
        [
            pl.lit(fmt.bos),
            system_turn,
            pl.lit(fmt.user_open),
            _content(fmt, user_text),
            pl.lit(fmt.user_close),
            answer,
        ]
    )


def messages_expr(
    system: pl.Expr | None = None,
    user: pl.Expr | None = None,
    assistant: pl.Expr | None = None,
) -> pl.Expr:
    """The `messages` column: `[system, user, assistant]` as role/content structs."""
    turns = (
        ("system", pl.col("instruction") if system is None else system),
        ("user", pl.col("input") if user is None else user),
        ("assistant", pl.col("output") if assistant is None else assistant),
    )
    return pl.concat_list(
        [pl.struct(role=pl.lit(role), content=content) for role, content in turns]
    )


def render(family: str, messages: Sequence[dict[str, str]]) -> str:
    """Render `[system?, user, assistant?]` as the family's official template does.

    Without an assistant turn the result ends with the generation prompt, ready for the model.
    """
    roles = [m["role"] for m in messages]
    if roles not in (
        ["user"],
        ["system", "user"],
        ["user", "assistant"],
        ["system", "user", "assistant"],
    ):
        raise ValueError(f"expected one exchange [system?, user, assistant?], got roles {roles}")
    by_role = {m["role"]: m["content"] for m in messages}
    frame = pl.DataFrame(
        {
            "instruction": [by_role.get("system")],
            "input": [by_role["user"]],
            "output": [by_role.get("assistant")],
        },
        schema={"instruction": pl.String, "input": pl.String, "output": pl.String},
    )
    return str(frame.select(render_expr(get_format(family))).item())
