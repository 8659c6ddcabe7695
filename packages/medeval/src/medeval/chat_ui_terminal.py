"""`medeval chat RUN --cli`: the chat page's side-by-side in a terminal, streamed with rich."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.markdown import Markdown
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from medeval.chat_ui_page import DISCLAIMER
from medeval.chat_ui_run import RunSummary, losses_markdown
from medeval.chat_ui_session import (
    SIDES,
    Answerer,
    Conversation,
    Turn,
    answer_next,
    shown_answer,
    status_line,
)
from medeval.errors import EvalInputError
from medeval.generation import GenerationSettings, rules_note

HELP = (
    "Type a question and press Enter; follow-up questions go to each model with its own history. "
    "Commands: /example N asks held-out question N, /reset starts a new chat, /quit (or Ctrl-D) "
    "leaves; Ctrl-C stops an answer."
)
NARROW = 90
"""Below this many columns the two answers are shown one above the other."""


def _header(summary: RunSummary) -> RenderableType:
    facts = Table.grid(padding=(0, 2))
    for label, value in summary.facts:
        facts.add_row(Text(label, style="bold"), Text(value))
    facts.add_row(Text("System instruction", style="bold"), Text(summary.system or "(none)"))
    parts: list[RenderableType] = [
        Panel(Markdown(DISCLAIMER), title="⚠ medical-use disclaimer", border_style="yellow"),
        facts,
        Markdown(losses_markdown(summary.losses)),
    ]
    if summary.examples:
        examples = Table("#", "held-out question", "reference answer", show_lines=True)
        for number, example in enumerate(summary.examples, 1):
            examples.add_row(str(number), Text(example.question), Text(example.reference))
        parts.append(examples)
    else:
        parts.append(Text(summary.examples_note, style="yellow"))
    return Group(*parts, Text(HELP, style="dim"))


def _answers(conversation: Conversation, turn: Turn, base_model: str, width: int) -> Table:
    """The two answers to `turn`, side by side (stacked on a narrow terminal)."""
    titles = {"base": f"base: {base_model}", "finetuned": "fine-tuned (this run)"}
    panels = [
        Panel(
            Markdown(shown_answer(turn, side)),
            title=titles[side],
            border_style="blue" if side == "base" else "green",
        )
        for side in SIDES
    ]
    grid = Table.grid(expand=True)
    if width < NARROW:
        grid.add_column()
        for panel in panels:
            grid.add_row(panel)
    else:
        grid.add_column(ratio=1)
        grid.add_column(ratio=1)
        grid.add_row(*panels)
    grid.add_row(Text(status_line(conversation), style="dim"))
    return grid


def _question(line: str, summary: RunSummary) -> str:
    """The question a line asks (`/example N` picks a held-out one)."""
    if not line.startswith("/"):
        return line
    if not line.startswith("/example"):
        raise EvalInputError(f"unknown command {line.split()[0]}. {HELP}")
    number = line.removeprefix("/example").strip()
    if not number.isdigit() or not 1 <= int(number) <= len(summary.examples):
        raise EvalInputError(f"/example takes a number from 1 to {len(summary.examples)}")
    return summary.examples[int(number) - 1].question


def chat_in_terminal(
    summary: RunSummary,
    answerer: Answerer,
    settings: GenerationSettings,
    console: Console,
    read: Callable[[str], str] | None = None,
) -> None:
    """Ask, answer side by side, repeat, until /quit or end of input."""
    read = read or console.input
    references = {e.question: e.reference for e in summary.examples}
    conversation = Conversation(summary.system, references)
    console.print(_header(summary))
    console.print(Text(rules_note(settings), style="dim"))
    while True:
        try:
            line = read("[bold cyan]you ›[/] ").strip()
        except (EOFError, KeyboardInterrupt):
            break
        if line in ("/quit", "/exit"):
            break
        if line == "/reset":
            conversation.reset()
            console.print("[green]New chat: both models forgot the earlier questions.[/]")
            continue
        if line == "/help":
            console.print(Text(HELP))
            continue
        try:
            turn = conversation.ask(_question(line, summary))
        except EvalInputError as err:
            console.print(Text(str(err), style="yellow"))
            continue
        if turn.question != line:
            console.print(Text.assemble(("asking: ", "dim"), turn.question))
        _answer(conversation, turn, answerer, settings, summary, console)


def _answer(
    conversation: Conversation,
    turn: Turn,
    answerer: Answerer,
    settings: GenerationSettings,
    summary: RunSummary,
    console: Console,
) -> None:
    """Stream one turn's answers; Ctrl-C stops them and keeps what was written."""
    base_model = summary.run.base_model
    with Live(
        _answers(conversation, turn, base_model, console.width),
        console=console,
        refresh_per_second=12,
    ) as live:
        try:
            for _ in answer_next(conversation, answerer, settings):
                live.update(_answers(conversation, turn, base_model, console.width))
        except KeyboardInterrupt:
            turn.state = "stopped"
            live.update(_answers(conversation, turn, base_model, console.width))
    if not console.is_terminal:  # rich ends the live display with a newline on terminals only
        console.line()
    if turn.reference:
        reference = Text(turn.reference)
        console.print(Panel(reference, title="reference answer (held-out split)", style="dim"))
