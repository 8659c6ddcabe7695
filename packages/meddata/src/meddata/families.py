"""Chat families: the four hand-written formats, or any chat template given as a file.

A template family renders each row with its template exactly as transformers would; where the
template refuses a system message (it raises, like Gemma's), the system text is put before the
first user message with a blank line between, the same convention the hand-written formats follow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import polars as pl

from meddata.chat_template import ChatTemplate, load_template
from meddata.config import Family
from meddata.errors import InputError
from meddata.formats import ChatFormat, get_format, render_expr

ROLES = (["user"], ["system", "user"], ["user", "assistant"], ["system", "user", "assistant"])
"""The conversation shapes a row can have: one exchange, system message optional."""


@dataclass(frozen=True)
class TemplateFormat:
    """A family whose format is a chat template."""

    family: str
    """Its name in variant names (`{family}`)."""
    template: ChatTemplate
    """The template and its special tokens."""
    model: str
    """The template's file (or folder) name, for the dataset card (no local path in a card)."""
    fold_system: bool
    """Whether the template refuses a system message (it is folded into the user turn)."""

    def render(self, messages: Sequence[Mapping[str, str]]) -> str:
        """`[system?, user, assistant?]` as the template renders it (generation prompt when the
        answer is missing)."""
        roles = [m["role"] for m in messages]
        if roles not in ROLES:
            raise ValueError(
                f"expected one exchange [system?, user, assistant?], got roles {roles}"
            )
        chat = [dict(m) for m in messages]
        if self.fold_system and roles[0] == "system":
            system, user, *rest = chat
            chat = [{"role": "user", "content": f"{system['content']}\n\n{user['content']}"}, *rest]
        return self.template.render(chat, add_generation_prompt=roles[-1] == "user")

    def render_rows(self, rows: pl.DataFrame) -> pl.Series:
        """One prompt per row of `instruction`, `input`, `output` (a null turn is left out)."""
        prompts = []
        columns = rows.select("instruction", "input", "output").iter_rows()
        for number, (system, user, answer) in enumerate(columns):
            turns = (("system", system), ("user", user), ("assistant", answer))
            try:
                prompts.append(
                    self.render([{"role": r, "content": c} for r, c in turns if c is not None])
                )
            except jinja2.exceptions.TemplateError as exc:
                raise InputError(
                    self.template.source,
                    f"the template fails on row {number} ({exc})",
                    "Check the template renders a system/user/assistant exchange",
                ) from None
        return pl.Series(f"prompt_{self.family}", prompts, dtype=pl.String)


AnyFormat = ChatFormat | TemplateFormat
"""Either kind of format: both have `family`, `model` and a way to render rows."""


def template_format(
    family: str, path: Path | str, variables: Mapping[str, Any] | None = None
) -> TemplateFormat:
    """The family `family` rendered with the template at `path` (see `load_template`)."""
    template = load_template(path, variables)
    try:
        fold = template.refuses_system()
    except jinja2.exceptions.TemplateSyntaxError as exc:
        problem = f"not a valid Jinja template (line {exc.lineno}: {exc.message})"
        raise InputError(path, problem, "Fix the template") from None
    return TemplateFormat(family, template, model=Path(path).name, fold_system=fold)


def family_format(name: str, family: Family) -> AnyFormat:
    """A config family's format: its template's, or the built-in one it names."""
    if family.template is not None:
        return template_format(name, family.template, family.variables)
    return get_format(str(family.format))


def render_column(family: AnyFormat, rows: pl.DataFrame) -> pl.Series:
    """The `prompt` of every row in `family`'s format."""
    if isinstance(family, ChatFormat):
        return rows.select(render_expr(family).alias(f"prompt_{family.family}")).to_series()
    return family.render_rows(rows)
