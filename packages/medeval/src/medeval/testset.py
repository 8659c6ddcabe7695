"""The run's held-out questions (docs/schemas.md §2), from a variant folder or the Hub."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from medeval.errors import EvalInputError
from medeval.runs import locate


@dataclass(frozen=True)
class Example:
    """One held-out question with its reference answer."""

    id: str
    """The row id (`<source>:<source_id>`)."""
    messages: list[dict[str, str]]
    """`[system, user, assistant]` as in the dataset."""

    @property
    def prompt_messages(self) -> list[dict[str, str]]:
        """The conversation up to (not including) the assistant's answer."""
        return [m for m in self.messages if m["role"] != "assistant"]

    @property
    def question(self) -> str:
        """The last user turn."""
        return next(m["content"] for m in reversed(self.messages) if m["role"] == "user")

    @property
    def reference(self) -> str:
        """The reference answer (the assistant turn)."""
        return next(m["content"] for m in reversed(self.messages) if m["role"] == "assistant")


def _rows(dataset: str, split: str) -> list[dict[str, Any]]:
    folder = locate(dataset)
    if isinstance(folder, Path):
        files = sorted((folder / "data").glob(f"{split}-*.parquet"))
        if not files:
            raise EvalInputError(
                f"{folder}/data: no {split}-*.parquet; build the variant with meddata"
            )
        return pl.concat([pl.read_parquet(f, columns=["id", "messages"]) for f in files]).to_dicts()
    try:
        from datasets import load_dataset
    except ImportError as err:
        raise EvalInputError(
            f"{dataset}: not a folder; install medeval[hub] to load it from the Hub"
        ) from err
    try:
        rows = load_dataset(dataset, split=split).select_columns(["id", "messages"])
    except Exception as err:  # the Hub client raises many types (offline, missing, gated)
        raise EvalInputError(
            f"{dataset}: cannot load split {split!r} from the Hub ({err})"
        ) from err
    return [dict(row) for row in rows]


def load_examples(dataset: str, split: str, limit: int | None = None) -> list[Example]:
    """All rows of the split, or the first `limit` in held-out order (sha256 of the row id).

    That is the order medtrain takes its answer-loss rows in (docs/schemas.md §3), so the
    questions answered for the report are the first of the rows the answer loss scores.
    """
    rows = _rows(dataset, split)
    order = sorted(
        range(len(rows)), key=lambda i: hashlib.sha256(str(rows[i]["id"]).encode()).hexdigest()
    )
    rows = [rows[i] for i in order[:limit]]
    return [
        Example(
            id=str(r["id"]),
            messages=[{"role": m["role"], "content": m["content"]} for m in r["messages"]],
        )
        for r in rows
    ]
