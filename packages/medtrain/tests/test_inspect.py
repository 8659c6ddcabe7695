"""`medtrain inspect`: the label mask made visible, on the tiny Mistral run and on SmolLM2's
real tokenizer (its GGUF vocabulary, no weights)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from medtrain.cli import app
from medtrain.inspect import TRAINED_STYLE, Example, render


def test_marks_answer_and_eos_on_the_tiny_recipe(recipe_file: Path) -> None:
    got = CliRunner().invoke(app, ["inspect", str(recipe_file), "--n", "1"])
    assert got.exit_code == 0, got.output
    lines = got.output.splitlines()
    assert "BOS 1 ('<s>'), EOS 2 ('</s>')" in lines[0]
    text = "\n".join(lines[1:-1])
    trained = text[text.index("[[") + 2 : text.index("]]")]
    assert trained.startswith(" The first-line treatment of condition")
    assert trained.endswith("</s>")
    assert "[INST]" in text[: text.index("[[")]
    ids = next(line for line in lines if line.startswith("ids: "))
    assert ids.startswith("ids: 1 ") and ids.endswith(" 2 ]]")  # BOS untrained, EOS trained
    assert lines[-1].startswith("trained on ") and "in 48 rows" in lines[-1]


def test_colour_replaces_brackets_in_a_terminal() -> None:
    example = Example([("Q ", 5, False), ("A", 6, True), ("</s>", 2, True)])
    coloured = render(example, colour=True)
    assert coloured.plain == "Q A</s>"
    assert [(s.start, s.end, s.style) for s in coloured.spans] == [
        (2, 3, TRAINED_STYLE),
        (3, 7, TRAINED_STYLE),
    ]
    assert render(example, colour=False).plain == "Q [[A</s>]]"


def test_smollm2_real_tokenizer_trains_only_the_assistant_turn(variant: Path) -> None:
    got = CliRunner().invoke(
        app, ["inspect", "smollm2-cpu", "--n", "2", "--set", f"data.dataset={variant}"]
    )
    assert got.exit_code == 0, got.output
    assert "BOS 1 ('<|im_start|>'), EOS 2 ('<|im_end|>')" in got.output
    for block in got.output.split("--- example")[1:]:
        before, trained = block.split("[[", 1)
        assert before.rstrip().endswith("<|im_start|>assistant")
        assert "<|im_end|>" in trained.split("]]")[0]
        assert "<|im_start|>" not in trained.split("]]")[0]
