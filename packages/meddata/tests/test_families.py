"""Template families: the official templates reproduce the hand-written formats on every row, and
any other template (ChatML: Qwen2.5) builds its own variants."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import polars as pl
import pytest

from meddata.build import BuildConfig, build
from meddata.config import load_config
from meddata.errors import ConfigError, InputError
from meddata.families import template_format
from meddata.formats import get_format, render_expr
from meddata.variants import expand
from testsupport.paths import TEMPLATES
from testsupport.templates import REFERENCE

QWEN = TEMPLATES / "Qwen_Qwen2.5-7B-Instruct.jinja"


@pytest.mark.slow
@pytest.mark.parametrize("family", sorted(REFERENCE))
def test_official_template_equals_the_hand_written_format_on_every_row(
    family: str, real_build: Path
) -> None:
    rows = pl.read_parquet(real_build / "clean" / "rows.parquet")
    rows = pl.concat([rows, rows.head(200).with_columns(output=None)])  # generation prompts too
    template = template_format(f"{family}_template", TEMPLATES / f"{REFERENCE[family]}.jinja")
    rendered = template.render_rows(rows)
    expected = rows.select(render_expr(get_format(family))).to_series()
    assert rendered.to_list() == expected.to_list()
    assert template.fold_system == (family == "gemma")


def test_a_folded_system_message_goes_before_the_question() -> None:
    gemma2 = template_format("gemma2", TEMPLATES / "google_gemma-2-2b-it.jinja")
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What is flu?"},
        {"role": "assistant", "content": " A virus. "},
    ]
    assert gemma2.render(messages) == (
        "<bos><start_of_turn>user\nBe brief.\n\nWhat is flu?<end_of_turn>\n"
        "<start_of_turn>model\nA virus.<end_of_turn>\n"
    )
    assert gemma2.render(messages[1:2]).endswith("<start_of_turn>model\n")


QWEN_CONFIG = """\
sources:
  - name: medquad
    reader: medquad-xml
    path: medquad/MedQuAD.tar.xz
    columns: {question: question, answer: answer, id: qid, metadata: {collection: source}}
    license: cc-by-4.0
    citation: Ben Abacha A., Demner-Fushman D. (2019).
    url: https://github.com/abachaa/MedQuAD
families:
  qwen: {template: TEMPLATE}
  gemma: {format: gemma}
variants:
  - name: "{family}_medquad"
    sources: [medquad]
    sample: 300
"""


def test_a_chatml_family_builds_its_variants(
    tmp_path: Path, raw_dir: Path, repo_root: Path
) -> None:
    (tmp_path / "templates").mkdir()
    shutil.copy(QWEN, tmp_path / "templates" / "qwen.jinja")
    (tmp_path / "c.yaml").write_text(QWEN_CONFIG.replace("TEMPLATE", "templates/qwen.jinja"))
    config = BuildConfig(
        data=load_config(tmp_path / "c.yaml"),
        raw_dir=raw_dir,
        out_dir=tmp_path / "processed",
        clean_dir=tmp_path / "clean",
        eval_dir=repo_root / "data" / "eval",
    )
    variants = expand(config.data)
    assert sorted(variants) == ["gemma_medquad", "qwen_medquad"]
    build(list(variants.values()), config)
    folder = tmp_path / "processed" / "qwen_medquad"
    rows = pl.read_parquet(folder / "data" / "test-00000-of-00001.parquet")
    qwen = template_format("qwen", QWEN)
    assert not qwen.fold_system
    for messages, prompt in zip(rows["messages"].to_list(), rows["prompt"].to_list(), strict=True):
        assert prompt == qwen.render(messages)
        assert prompt.startswith("<|im_start|>system\nAnswer the question truthfully")
        assert prompt.endswith("<|im_end|>\n")
    card = (folder / "README.md").read_text()
    assert "with the chat template `qwen.jinja`;" in card and str(tmp_path) not in card
    assert json.loads((folder / "build_info.json").read_text())["family"] == "qwen"


@pytest.mark.parametrize(
    ("family", "problem"),
    [
        ("{format: gemma, template: t.jinja}", "needs exactly one of `format` and `template`"),
        ("{}", "needs exactly one of `format` and `template`"),
        ("{template: nowhere.jinja}", "families.qwen.template: no such file"),
        ("{format: gemma, variables: {x: y}}", "only a template has variables"),
    ],
)
def test_template_families_are_checked_with_the_config(
    tmp_path: Path, family: str, problem: str
) -> None:
    (tmp_path / "t.jinja").write_text("{{ messages[0]['content'] }}")
    text = QWEN_CONFIG.replace("{template: TEMPLATE}", family)
    (tmp_path / "c.yaml").write_text(text)
    with pytest.raises(ConfigError, match=re.escape(problem)):
        load_config(tmp_path / "c.yaml")


def test_a_broken_template_names_its_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.jinja"
    broken.write_text("{% for m in messages %}{{ m.content }}")
    with pytest.raises(InputError, match=r"broken.jinja: not a valid Jinja template \(line 1: "):
        template_format("broken", broken)


def test_a_template_failing_on_a_row_names_the_file_and_the_row(tmp_path: Path) -> None:
    picky = tmp_path / "picky.jinja"
    picky.write_text(
        "{% for m in messages %}{% if 'x' in m['content'] %}"
        "{{ raise_exception('no x') }}{% endif %}{{ m['content'] }}{% endfor %}"
    )
    family = template_format("picky", picky)
    rows = pl.DataFrame({"instruction": ["s", "s"], "input": ["q", "qx"], "output": ["a", "a"]})
    with pytest.raises(InputError, match=r"picky.jinja: the template fails on row 1 \(no x\)"):
        family.render_rows(rows)


def test_only_one_exchange_is_rendered() -> None:
    qwen = template_format("qwen", QWEN)
    two = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}] * 2
    with pytest.raises(ValueError, match="expected one exchange"):
        qwen.render(two)
