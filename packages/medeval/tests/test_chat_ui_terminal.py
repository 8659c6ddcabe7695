"""`medeval chat RUN --cli`: the side-by-side chat in a terminal, driven through its stdin."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from medeval.chat_ui_run import summarize
from medeval.chat_ui_session import Answer
from medeval.chat_ui_terminal import chat_in_terminal
from medeval.cli import app
from medeval.generation import GenerationSettings
from medeval.runs import load_run
from medeval.testset import load_examples

runner = CliRunner()


def test_terminal_chat_answers_side_by_side(tiny_run: Path) -> None:
    lines = ["What is asthma?", "", "/example 2", "/bogus", "/example 9", "And then?", "/reset"]
    lines.append("/help")
    result = runner.invoke(
        app,
        ["chat", str(tiny_run), "--cli", "--max-new-tokens", "8"],
        input="\n".join([*lines, "/quit"]) + "\n",
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Not medical advice" in out
    words = " ".join(out.split())  # the console wraps lines at its width
    assert "above 1/2; no 3 tokens of an answer repeated" in words  # the CLI's decoding defaults
    assert "Low iron, blood loss or marrow disease." in out  # examples with their references
    assert out.count("base: ") == 3  # three questions, each answered by both sides
    assert out.count("fine-tuned (this run)") == 3
    assert out.count("Answered in") == 3
    run = load_run(tiny_run)
    second = load_examples(run.dataset, run.test_split, 2)[1]  # the held-out order
    assert f"asking: {second.question}" in out
    assert "reference answer (held-out split)" in out
    assert "Type a question first" in out
    assert "unknown command /bogus" in out
    assert "/example takes a number from 1 to 6" in out
    assert "New chat: both models forgot" in out
    assert out.count("Commands:") == 3  # the help: at the start, after /bogus, on /help
    assert "Traceback" not in out


class Interrupted:
    """Stands in for the model: the first answer is interrupted by Ctrl-C after one token."""

    def __init__(self) -> None:
        self.calls: list[Mapping[str, list[dict[str, str]]]] = []

    def stream(
        self,
        histories: Mapping[str, list[dict[str, str]]],
        settings: GenerationSettings,
        should_stop: Callable[[], bool],
    ) -> Iterator[dict[str, Answer]]:
        self.calls.append(histories)
        yield {side: Answer(f"{side} so far", 1) for side in histories}
        if len(self.calls) == 1:
            raise KeyboardInterrupt
        yield {side: Answer(f"{side} done", 2, True) for side in histories}


def test_ctrl_c_stops_the_answer_and_the_chat_goes_on(tiny_run: Path) -> None:
    summary = summarize(load_run(tiny_run), 0)
    console = Console(record=True, width=120)
    typed = iter(["long question", "follow-up"])
    model = Interrupted()

    def read(prompt: str) -> str:
        line = next(typed, None)
        if line is None:  # Ctrl-D
            raise EOFError
        return line

    chat_in_terminal(summary, model, GenerationSettings(8), console, read)
    out = console.export_text()
    assert "(stopped)" in out
    assert "Stopped in" in out
    assert "finetuned done" in out  # wide terminal: side by side, then the follow-up's answer
    follow_up = model.calls[1]["finetuned"]
    assert follow_up[-2] == {"role": "assistant", "content": "finetuned so far"}
