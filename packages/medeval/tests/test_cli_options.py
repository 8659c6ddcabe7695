"""The decoding flags, declared once for `samples`, `evaluate` and `chat`: every GenerationSettings
field has a flag, the flags reach the command as one settings object, and bad values exit 2."""

from __future__ import annotations

from dataclasses import fields

import typer
from typer.testing import CliRunner

from medeval.cli import app
from medeval.cli_options import DECODING, decoding_options
from medeval.generation import NO_REPEAT_NGRAM, GenerationSettings

runner = CliRunner()


def _probe(**kwargs: object) -> tuple[typer.Typer, list[object]]:
    """A one-command app that records what the decorated command receives."""
    seen: list[object] = []
    probe = typer.Typer()

    @probe.command()
    @decoding_options(**kwargs)  # type: ignore[arg-type]
    def answer(settings: GenerationSettings, name: str = "x") -> None:
        seen.append((settings, name))

    return probe, seen


def test_every_settings_field_has_a_flag() -> None:
    assert list(DECODING) == [f.name for f in fields(GenerationSettings)]


def test_flags_become_one_settings_object() -> None:
    probe, seen = _probe()
    args = ["--max-new-tokens", "5", "--temperature", "0.7", "--top-p", "0.9", "--batch-size", "2"]
    args += ["--seed", "3", "--no-repeat-ngram", "0", "--end-greedy", "--name", "y"]
    result = runner.invoke(probe, args)
    assert result.exit_code == 0, result.output
    assert seen == [(GenerationSettings(5, 0.7, 0.9, 2, 3, 0, False), "y")]


def test_defaults_are_the_cli_ones_and_can_be_overridden_or_omitted() -> None:
    probe, seen = _probe(omit=("batch_size",), max_new_tokens=256)
    assert runner.invoke(probe, []).exit_code == 0
    assert seen == [
        (
            GenerationSettings(
                max_new_tokens=256, no_repeat_ngram=NO_REPEAT_NGRAM, end_when_likely=True
            ),
            "x",
        )
    ]
    result = runner.invoke(probe, ["--batch-size", "2"])
    assert result.exit_code == 2
    assert "No such option: --batch-size" in result.output


def test_a_bad_value_is_a_usage_error_before_the_command_runs() -> None:
    probe, seen = _probe()
    result = runner.invoke(probe, ["--no-repeat-ngram", "-1"])
    assert result.exit_code == 2
    assert "--no-repeat-ngram must be 0 (off) or at least 1" in result.output
    assert seen == []


def test_the_three_commands_take_the_decoding_flags() -> None:
    for command, has_batch in (("samples", True), ("evaluate", True), ("chat", False)):
        text = runner.invoke(app, [command, "--help"], terminal_width=200).output
        assert "--no-repeat-ngram" in text and "--end-greedy" in text, command
        assert ("--batch-size" in text) is has_batch, command


def test_every_wrong_value_is_named_at_once_and_only_those() -> None:
    probe, seen = _probe()
    result = runner.invoke(probe, ["--temperature", "-1", "--top-p", "1.5"])
    assert result.exit_code == 2
    text = " ".join(result.output.replace("│", " ").split())  # the error box wraps lines
    assert "--temperature must be 0 (greedy) or above" in text
    assert "--top-p must be above 0 and at most 1" in text
    assert "--max-new-tokens" not in text and "--batch-size" not in text
    assert seen == []
