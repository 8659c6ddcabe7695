"""The build config: sources, chat families and dataset variants, declared in YAML as data.

`meddata build --config FILE` reads one; without it, the shipped `default.yaml` (the three
embedded sources and the 16 variants). The file is checked whole before any data is read: types,
unknown keys (the closest known key suggested), names, and references between its sections, each
error naming the file, the line, the key and the fix.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from meddata import typedyaml
from meddata.errors import ConfigError, InputError
from meddata.formats import FORMATS

DEFAULT_CONFIG = Path(__file__).with_name("default.yaml")
"""The shipped config: what `meddata build` builds without `--config`."""

INSTRUCTION = "Answer the question truthfully, you are a medical professional."
"""The system message of every row unless a config says otherwise (the one upstream used)."""

METADATA = ("collection", "focus", "qtype", "url")
"""The variants' metadata columns (docs/schemas.md §2) a source's columns can fill."""

Reader = Literal["csv", "json", "jsonl", "parquet", "medquad-xml"]

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
"""Source, family and variant names: they become ids, folder names and Hub repo names."""


@dataclass(frozen=True, kw_only=True)
class Columns:
    """Which of a source's columns hold the question, the answer, the row id and metadata."""

    question: str
    """Column (or JSON key) holding the question: the user turn."""
    answer: str
    """Column (or JSON key) holding the reference answer: the assistant turn."""
    id: str | None = None
    """Column holding a stable row id (text or integer); default: the row number, from 0."""
    metadata: dict[str, str] = field(default_factory=dict)
    """Columns kept as the variants' metadata: `collection`, `focus`, `qtype` or `url` mapped to a
    column of the source."""

    def required(self) -> tuple[str, ...]:
        """Question, answer and id columns: a record must have each of them."""
        return tuple(dict.fromkeys(c for c in (self.question, self.answer, self.id) if c))

    def wanted(self) -> tuple[str, ...]:
        """Every column named, once each: what a reader keeps of its input."""
        return tuple(dict.fromkeys((*self.required(), *self.metadata.values())))


@dataclass(frozen=True, kw_only=True)
class Source:
    """One input the datasets are built from: where it is, how it is read, how it is licensed."""

    name: str
    """Its name in `--input NAME=...`, in the rows' `source` column and in the statistics."""
    reader: Reader | None = None
    """How `path` is parsed: csv, json (a list of objects, or one per line), jsonl, parquet, or
    medquad-xml (MedQuAD's XML archive or folder, or its Kaggle CSV)."""
    path: str | None = None
    """The file or folder, relative to `--raw` (checked against its SHA256SUMS if listed there)."""
    hub: str | None = None
    """A Hugging Face Hub dataset id: read when there is no `path`, or with `--input NAME=hub`."""
    columns: Columns
    """Which of its columns are the question, the answer, the row id and metadata to keep."""
    instruction: str | None = None
    """System message of its rows; default: the config's `instruction`."""
    license: str
    """License of its text, as a Hub dataset card writes it (`cc-by-4.0`)."""
    citation: str
    """What to cite when publishing data built from it (shown in every dataset card using it)."""
    url: str
    """Where the source is published."""
    corpus: str | None = None
    """Sources of one corpus are sampled and sharded together in a variant; default: its name."""


@dataclass(frozen=True, kw_only=True)
class Family:
    """How a chat family renders a conversation: a built-in format or a chat template."""

    format: str | None = None
    """A built-in chat format: `mistral`, `llama` (Llama-2-chat), `llama3` or `gemma`."""
    template: str | None = None
    """Or a chat template rendered as transformers does: a `.jinja` file (special tokens from its
    `<stem>.special_tokens.json`), a `tokenizer_config.json` or a tokenizer folder (relative)."""
    variables: dict[str, str] = field(default_factory=dict)
    """Extra variables for the template (e.g. a fixed `date_string` instead of today's)."""


@dataclass(frozen=True, kw_only=True)
class VariantSet:
    """Rows from some sources, built once per chat family as one variant each."""

    name: str
    """Variant name; `{family}` becomes each family's name (quote it: "{family}_x")."""
    sources: tuple[str, ...]
    """The sources whose clean rows it holds; one parquet shard per corpus, in this order."""
    families: tuple[str, ...] | None = None
    """The families it is built in; default: every family of the config."""
    sample: int | None = None
    """Take a seeded sample of this many rows from each corpus; default: all rows."""
    seed: int | None = None
    """Seed of the sample; default: the build's `--seed`."""
    set: str | None = None
    """Short name shared by its variants (build_info.json `set`); default: `name` less
    `{family}`."""
    description: str | None = None
    """What it holds, in one line (the dataset card's first line); default: its sources."""

    @property
    def key(self) -> str:
        return self.set or self.name.replace("{family}", "").strip("_-.") or self.name

    @property
    def title(self) -> str:
        return self.description or "Rows of " + ", ".join(self.sources)


@dataclass(frozen=True, kw_only=True)
class DataConfig:
    """A build config file: what to read, how to render it, which datasets to write."""

    instruction: str = INSTRUCTION
    """The system message of every row (a source's own `instruction` wins)."""
    sources: tuple[Source, ...]
    """The inputs; all are read and cleaned together (duplicates are judged across them)."""
    families: dict[str, Family] = field(
        default_factory=lambda: {name: Family(format=name) for name in FORMATS}
    )
    """Chat families by name; default: the built-in formats, each under its own name."""
    variants: tuple[VariantSet, ...]
    """The dataset variants, each built once per family."""

    def source(self, name: str) -> Source:
        return next(s for s in self.sources if s.name == name)


def load_config(path: Path | str | None = None) -> DataConfig:
    """Read and check a config file (the shipped default when `path` is None)."""
    file = DEFAULT_CONFIG if path is None else Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(file, "config file not found", "Check the path of --config") from None
    except (OSError, UnicodeDecodeError) as exc:
        problem = f"cannot read the config ({exc})"
        raise InputError(file, problem, "Pass a UTF-8 YAML file") from None
    config, lines = typedyaml.load(DataConfig, text, str(file))
    config = _templates_beside(config, file.parent)
    _Checks(str(file), lines).run(config)
    return config


def _templates_beside(config: DataConfig, folder: Path) -> DataConfig:
    """Template paths resolved against the config file's folder."""
    families = {
        name: f if f.template is None else replace(f, template=str(folder / f.template))
        for name, f in config.families.items()
    }
    return replace(config, families=families)


class _Checks:
    """What types cannot say: names, references between sections, variant names that collide."""

    def __init__(self, path: str, lines: typedyaml.Lines) -> None:
        self.path = path
        self.lines = lines

    def fail(self, key: str, problem: str, fix: str) -> ConfigError:
        line = self.lines.get(key) or self.lines.get(key.rsplit(".", 1)[0])
        return ConfigError(self.path, line, key, problem, fix)

    def run(self, config: DataConfig) -> None:
        if not config.sources:
            raise self.fail("sources", "no sources", "Declare at least one source")
        if not config.variants:
            raise self.fail("variants", "no variants", "Declare at least one variant")
        self.unique("sources", [s.name for s in config.sources])
        for i, source in enumerate(config.sources):
            self.source(f"sources[{i}]", source)
        for name, family in config.families.items():
            self.family(f"families.{name}", name, family)
        names: dict[str, str] = {}
        for i, variant in enumerate(config.variants):
            self.variant(f"variants[{i}]", variant, config, names)
        self.unique("variants", [v.key for v in config.variants], ".set")

    def family(self, key: str, name: str, family: Family) -> None:
        self.name(key, name)
        if (family.format is None) == (family.template is None):
            fix = "Give `format: mistral` (a built-in) or `template: path/to/template.jinja`"
            raise self.fail(key, "needs exactly one of `format` and `template`", fix)
        if family.format is not None and family.format not in FORMATS:
            problem, fix = f"unknown format {family.format!r}", _one_of(family.format)
            raise self.fail(f"{key}.format", problem, fix)
        if family.template is not None and not Path(family.template).exists():
            fix = "Point it at a .jinja file, a tokenizer_config.json or a tokenizer folder"
            raise self.fail(f"{key}.template", f"no such file {family.template}", fix)
        if family.variables and family.template is None:
            raise self.fail(f"{key}.variables", "only a template has variables", "Remove them")

    def name(self, key: str, name: str) -> None:
        if not NAME.match(name):
            fix = "Use letters, digits, `_`, `-` and `.` only, starting with a letter or digit"
            raise self.fail(key, f"{name!r} is not a valid name", fix)

    def unique(self, key: str, names: list[str], attribute: str = ".name") -> None:
        for i, name in enumerate(names):
            if name in names[:i]:
                first = self.lines.get(f"{key}[{names.index(name)}]{attribute}")
                raise self.fail(
                    f"{key}[{i}]{attribute}",
                    f"{name!r} is declared twice (first on line {first})",
                    "Give each one its own name",
                )

    def source(self, key: str, source: Source) -> None:
        self.name(f"{key}.name", source.name)
        if source.path is None and source.hub is None:
            raise self.fail(key, "neither `path` nor `hub`", "Add `path:` (a file) or `hub:`")
        if source.path is not None and source.reader is None:
            fix = "Add `reader:` (csv, json, jsonl, parquet or medquad-xml)"
            raise self.fail(f"{key}.path", "a path needs a `reader`", fix)
        if source.path is None and source.reader is not None:
            fix = "Remove `reader` (a Hub dataset needs none) or add `path`"
            raise self.fail(f"{key}.reader", "a reader without a `path`", fix)
        for target in source.columns.metadata:
            if target not in METADATA:
                problem = f"{target!r} is not a metadata column"
                fix = typedyaml.suggest(target, METADATA)
                raise self.fail(f"{key}.columns.metadata.{target}", problem, fix)

    def variant(
        self, key: str, variant: VariantSet, config: DataConfig, names: dict[str, str]
    ) -> None:
        declared = [s.name for s in config.sources]
        for i, name in enumerate(variant.sources):
            if name not in declared:
                fix = typedyaml.suggest(name, declared)
                raise self.fail(f"{key}.sources[{i}]", f"no source {name!r}", fix)
        self.unique(f"{key}.sources", list(variant.sources), "")
        families = variant.families if variant.families is not None else tuple(config.families)
        for i, family in enumerate(families):
            if family not in config.families:
                fix = typedyaml.suggest(family, config.families)
                raise self.fail(f"{key}.families[{i}]", f"no family {family!r}", fix)
        if variant.sample is not None and variant.sample < 1:
            problem = f"{variant.sample} rows"
            raise self.fail(f"{key}.sample", problem, "Use a count > 0, or leave it out for all")
        self.pattern(f"{key}.name", variant.name, families)
        for family in families:
            name = variant.name.format(family=family)
            self.name(f"{key}.name", name)
            if name in names:
                problem = f"gives {name!r}, as {names[name]} does"
                raise self.fail(f"{key}.name", problem, "Give each variant its own name")
            names[name] = f"line {self.lines.get(f'{key}.name')}"

    def pattern(self, key: str, pattern: str, families: tuple[str, ...]) -> None:
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(pattern) if f is not None]
        except ValueError as exc:
            raise self.fail(key, f"{pattern!r}: {exc}", "Write `{family}` where it goes") from None
        if any(f != "family" for f in fields):
            raise self.fail(key, f"{pattern!r} has a placeholder other than {{family}}", _FAMILY)
        if len(families) > 1 and not fields:
            raise self.fail(key, f"{pattern!r} has no {{family}}", _FAMILY)


_FAMILY = 'Name each family\'s variant with `{family}`, e.g. "{family}_my_dataset"'


def _one_of(value: str) -> str:
    return typedyaml.suggest(value, FORMATS)


def reference(*sections: str) -> str:
    """The keys of the named sections (`top`, `sources`, `families`, `variants`) as Markdown
    tables, from the field docstrings: `--help` of `meddata sources`/`variants` and the docs."""
    tables: dict[str, list[tuple[type, str]]] = {
        "top": [(DataConfig, "top level")],
        "sources": [(Source, "sources[]"), (Columns, "sources[].columns")],
        "families": [(Family, "families.NAME")],
        "variants": [(VariantSet, "variants[]")],
    }
    chosen = sections or tuple(tables)
    return "\n\n".join(
        "\n".join(typedyaml.reference(cls, title)) for s in chosen for cls, title in tables[s]
    )
