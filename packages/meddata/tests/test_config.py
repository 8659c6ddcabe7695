"""The build config: the shipped default, and every mistake named with its line, key and fix."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from meddata.config import (
    DEFAULT_CONFIG,
    Columns,
    DataConfig,
    Family,
    Source,
    VariantSet,
    load_config,
    reference,
)
from meddata.errors import ConfigError, InputError
from meddata.typedyaml import field_docs
from testsupport.paths import REPO

MINE = """\
sources:
  - name: mine
    reader: csv
    path: qa.csv
    columns: {question: q, answer: a}
    license: cc-by-4.0
    citation: Me (2025).
    url: https://example.org/qa
variants:
  - name: "{family}_mine"
    sources: [mine]
"""
"""A user's smallest config: one CSV source, one variant set in the four built-in families."""


def load(tmp_path: Path, text: str) -> DataConfig:
    path = tmp_path / "mine.yaml"
    path.write_text(text)
    return load_config(path)


def test_default_config_holds_the_three_sources() -> None:
    config = load_config()
    assert [s.name for s in config.sources] == [
        "medical_meadow_wikidoc",
        "medical_meadow_wikidoc_patient_information",
        "medquad",
    ]
    assert [s.reader for s in config.sources] == ["csv", "json", "medquad-xml"]
    assert config.source("medquad").columns.id == "qid"
    assert config.source("medquad").license == "cc-by-4.0"
    assert config.source("medquad").hub is None
    assert {s.corpus for s in config.sources[:2]} == {"medical_meadow_wikidoc"}
    assert list(config.families) == ["mistral", "llama", "llama3", "gemma"]
    assert [v.key for v in config.variants] == ["combined", "short", "medquad", "wikidoc"]
    assert config.instruction.startswith("Answer the question truthfully")


def test_smallest_user_config_gets_the_defaults(tmp_path: Path) -> None:
    config = load(tmp_path, MINE)
    assert config.sources[0].columns == Columns(question="q", answer="a")
    assert list(config.families) == ["mistral", "llama", "llama3", "gemma"]
    assert config.variants[0].key == "mine"
    assert config.variants[0].title == "Rows of mine"


def test_families_section_names_built_in_formats(tmp_path: Path) -> None:
    config = load(tmp_path, MINE + "families:\n  chat: {format: llama3}\n")
    assert config.families == {"chat": Family(format="llama3")}


def edit(old: str, new: str) -> str:
    assert old in MINE
    return MINE.replace(old, new)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            edit("reader:", "reeder:"),
            "line 3: sources[0].reeder: unknown key. Did you mean `reader`?",
        ),
        (
            edit("    license: cc-by-4.0\n", ""),
            "line 2: sources[0]: missing key `license`. Add `license:` — License of its text",
        ),
        (edit("reader: csv", "reader: xlsx"), "sources[0].reader: 'xlsx' is not allowed. Use one"),
        (edit("reader: csv", "reader: jsnol"), "'jsnol' is not allowed. Did you mean `jsonl`?"),
        (
            MINE + "    sample: many\n",
            "line 12: variants[0].sample: expected an integer, got 'many'",
        ),
        (MINE.replace("variants:", "variant:"), "line 9: variant: unknown key. Did you mean `vari"),
        (
            edit('"{family}_mine"', "{family}"),
            "line 10: variants[0].name: expected text, got a mapp",
        ),
        (edit('"{family}_mine"', "{family}_mine"), "line 10: not valid YAML (expected <block end>"),
        (
            edit("    url:", "    url: a\n    url:"),
            "line 9: sources[0].url: duplicate key (first on li",
        ),
        (
            edit("sources: [mine]", "sources: [mne]"),
            "line 11: variants[0].sources[0]: no source 'mne'",
        ),
        (edit("sources: [mine]", "sources: [mine, mine]"), "sources[1]: 'mine' is declared twice"),
        (
            MINE + "    families: [gema]\n",
            "variants[0].families[0]: no family 'gema'. Did you mean",
        ),
        (
            MINE + "families:\n  x: {format: mistrl}\n",
            "line 13: families.x.format: unknown format 'mistrl'. Did you mean `mistral`?",
        ),
        (edit('"{family}_mine"', "mine"), "variants[0].name: 'mine' has no {family}. Name each"),
        (edit('"{family}_mine"', '"{f}_mine"'), "has a placeholder other than {family}"),
        (
            MINE + '  - name: "{family}_mine"\n    sources: [mine]\n',
            "line 12: variants[1].name: gives",
        ),
        (
            edit("{question: q, answer: a}", "{question: q, answer: a, metadata: {topic: t}}"),
            "'topic' is not a metadata column. Use one of: collection",
        ),
        (edit("    reader: csv\n", ""), "line 3: sources[0].path: a path needs a `reader`"),
        (edit("    reader: csv\n    path: qa.csv\n", ""), "sources[0]: neither `path` nor `hub`"),
        (edit("name: mine", "name: my source"), "sources[0].name: 'my source' is not a valid name"),
        (
            edit("    columns: {question: q, answer: a}\n", "    columns: [q, a]\n"),
            "line 5: sources[0].columns: expected a mapping, got a list",
        ),
        ("sources: []\nvariants: []\n", "line 1: sources: no sources. Declare at least one"),
        ("# nothing\n", "is empty"),
        ("sources:\n\t- a\n", "line 2: not valid YAML (found character '\\t' that cannot st"),
    ],
)
def test_mistakes_name_the_line_key_and_fix(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    assert str(caught.value).startswith(str(tmp_path / "mine.yaml"))
    assert message in str(caught.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"config file not found\. Check the path of --config"):
        load_config(tmp_path / "absent.yaml")


def test_every_config_key_is_documented() -> None:
    for cls in (DataConfig, Source, Columns, Family, VariantSet):
        assert set(field_docs(cls)) == {f.name for f in dataclasses.fields(cls)}, cls.__name__
        assert all(doc and "\n" not in doc for doc in field_docs(cls).values())


def test_docs_hold_the_generated_reference() -> None:
    """docs/schemas.md §0 is `reference()` verbatim: regenerate it when a field changes."""
    docs = (REPO / "docs" / "schemas.md").read_text()
    assert reference() in docs


def test_reference_is_valid_markdown_tables() -> None:
    for line in reference().splitlines():
        if line.startswith("|"):
            assert len(re.findall(r"(?<!\\)\|", line)) == 5, line


def test_shipped_config_is_package_data() -> None:
    assert DEFAULT_CONFIG.is_file()
    pyproject = (REPO / "packages" / "meddata" / "pyproject.toml").read_text()
    assert '"default.yaml"' in pyproject


def test_the_docs_example_config_is_valid(tmp_path: Path) -> None:
    docs = (REPO / "docs" / "schemas.md").read_text()
    example = docs.split("```yaml\n", 1)[1].split("```", 1)[0]
    config = load(tmp_path, example)
    assert config.sources[0].columns.metadata == {"focus": "Topic"}
    assert list(config.families) == ["mistral", "llama3"]
