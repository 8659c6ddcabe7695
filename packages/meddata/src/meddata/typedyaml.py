"""Typed YAML: a file's mapping turned into frozen dataclasses, every mistake reported on its line.

PyYAML's composed node tree keeps the line of every key and value, so a wrong type, an unknown
key (the closest known one suggested, by difflib), a duplicate or a missing key is reported as
`FILE, line N: KEY: problem. Fix` before any work starts. What each key means comes from the
dataclass's one-line field docstrings, read from its source: the same text is the fix for a
missing key, the `--help` of the commands and the reference in docs/schemas.md.
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import functools
import inspect
import itertools
import textwrap
import types
import typing
from typing import Any, Literal, TypeVar

import yaml

from meddata.errors import ConfigError

T = TypeVar("T")

Lines = dict[str, int]
"""The line of every key path read (`sources[0].columns.question`), for later checks' errors."""


def load(cls: type[T], text: str, path: str) -> tuple[T, Lines]:
    """Parse `text` (the contents of `path`) into `cls`; returns it with the line of every key."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        problem = f"not valid YAML ({exc.problem or exc.context})"
        raise ConfigError(path, line, "", problem, _yaml_fix(text, line)) from None
    except yaml.YAMLError as exc:
        raise ConfigError(path, None, "", f"not valid YAML ({exc})", "Fix the syntax") from None
    if node is None:
        raise ConfigError(path, None, "", "is empty", "Declare at least `sources` and `variants`")
    reader = _Reader(path, loader)
    return reader.value(node, cls, ""), reader.lines


def _yaml_fix(text: str, line: int | None) -> str:
    lines = text.splitlines()
    if line is not None and 0 < line <= len(lines) and "{" in lines[line - 1]:
        return 'Quote a value that starts with "{", e.g. name: "{family}_medquad"'
    return "Fix the syntax (indentation, a missing colon or quote)"


def key_path(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key


@functools.cache
def field_docs(cls: type) -> dict[str, str]:
    """Each field's docstring (the string literal right under it), joined into one line."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0].body  # type: ignore[attr-defined]
    docs: dict[str, str] = {}
    for field, after in itertools.pairwise(body):
        if (
            isinstance(field, ast.AnnAssign)
            and isinstance(field.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            docs[field.target.id] = " ".join(after.value.value.split())
    return docs


def required(field: dataclasses.Field[Any]) -> bool:
    return field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING


def suggest(value: str, known: typing.Iterable[str]) -> str:
    """`Did you mean `x`?` for a close match, else the list of what is allowed."""
    known = list(known)
    close = difflib.get_close_matches(value, known, n=1)
    return f"Did you mean `{close[0]}`?" if close else f"Use one of: {', '.join(known)}"


class _Reader:
    """Walks the node tree against the type hints, recording the line of every key path."""

    def __init__(self, path: str, loader: yaml.SafeLoader) -> None:
        self.path = path
        self.loader = loader
        self.lines: Lines = {}

    def fail(self, node: yaml.Node, key: str, problem: str, fix: str) -> ConfigError:
        return ConfigError(self.path, node.start_mark.line + 1, key, problem, fix)

    def value(self, node: yaml.Node, hint: Any, key: str) -> Any:
        self.lines[key] = node.start_mark.line + 1
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if origin in (typing.Union, types.UnionType):
            if self._is_null(node) and type(None) in args:
                return None
            (inner,) = [a for a in args if a is not type(None)]
            return self.value(node, inner, key)
        if dataclasses.is_dataclass(hint):
            return self.dataclass(node, typing.cast(type, hint), key)
        if origin is tuple:
            if not isinstance(node, yaml.SequenceNode):
                raise self.fail(node, key, f"expected a list, got {self._kind(node)}", _LIST_FIX)
            return tuple(
                self.value(item, args[0], key_path(key, i)) for i, item in enumerate(node.value)
            )
        if origin is dict:
            return {
                name: self.value(value, args[1], key_path(key, name))
                for name, (_, value) in self.pairs(node, key).items()
            }
        return self.scalar(node, hint, key)

    def dataclass(self, node: yaml.Node, cls: type, key: str) -> Any:
        pairs = self.pairs(node, key)
        fields = {f.name: f for f in dataclasses.fields(cls)}
        for name, (key_node, _) in pairs.items():
            if name not in fields:
                raise self.fail(key_node, key_path(key, name), "unknown key", suggest(name, fields))
        hints = typing.get_type_hints(cls)
        values = {}
        for name, field in fields.items():
            if name in pairs:
                values[name] = self.value(pairs[name][1], hints[name], key_path(key, name))
            elif required(field):
                doc = field_docs(cls).get(name, "")
                problem = f"missing key `{name}`"
                raise self.fail(node, key or "(top level)", problem, f"Add `{name}:` — {doc}")
        return cls(**values)

    def pairs(self, node: yaml.Node, key: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """A mapping's entries by key; duplicate and non-text keys are errors."""
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, key, f"expected a mapping, got {self._kind(node)}", _MAP_FIX)
        self.loader.flatten_mapping(node)  # `<<: *anchor` merges
        pairs: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            name = self.loader.construct_object(key_node, deep=True)
            if not isinstance(name, str):
                raise self.fail(key_node, key, f"key {name!r} is not text", "Quote the key")
            if name in pairs:
                first = pairs[name][0].start_mark.line + 1
                raise self.fail(
                    key_node, key_path(key, name), f"duplicate key (first on line {first})",
                    "Keep one of them",
                )  # fmt: skip
            pairs[name] = (key_node, value_node)
        return pairs

    def scalar(self, node: yaml.Node, hint: Any, key: str) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            fix = 'Quote it: name: "{family}_..."' if self._braced(node) else "Give a single value"
            raise self.fail(node, key, f"expected {_describe(hint)}, got {self._kind(node)}", fix)
        value = self.loader.construct_object(node, deep=True)
        if typing.get_origin(hint) is Literal:
            choices = [str(c) for c in typing.get_args(hint)]
            if value not in choices:
                problem = f"{value!r} is not allowed"
                raise self.fail(node, key, problem, suggest(str(value), choices))
            return value
        if hint is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise self.fail(node, key, f"expected an integer, got {value!r}", "Write a number")
        if hint is str and not isinstance(value, str):
            raise self.fail(node, key, f"expected text, got {value!r}", f'Quote it: "{value}"')
        return value

    def _is_null(self, node: yaml.Node) -> bool:
        return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"

    def _braced(self, node: yaml.Node) -> bool:
        """YAML reads an unquoted `{family}_x` as a mapping: the likeliest reason for one here."""
        return isinstance(node, yaml.MappingNode) and node.flow_style is True

    def _kind(self, node: yaml.Node) -> str:
        if isinstance(node, yaml.MappingNode):
            return "a mapping"
        if isinstance(node, yaml.SequenceNode):
            return "a list"
        return repr(self.loader.construct_object(node, deep=True))


_LIST_FIX = "Write a list, e.g. [a, b] or one `- item` per line"
_MAP_FIX = "Write `key: value` pairs, indented under the key"


def _describe(hint: Any) -> str:
    """A type as the reference and the errors name it."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in args if a is not type(None))
    if origin is Literal:
        return ", ".join(f"`{a}`" for a in args)
    if origin is tuple:
        return f"list of {_describe(args[0])}"
    if origin is dict:
        return f"mapping of {_describe(args[0])} to {_describe(args[1])}"
    if dataclasses.is_dataclass(hint):
        return f"mapping ({typing.cast(type, hint).__name__})"
    return {str: "text", int: "integer"}.get(hint, getattr(hint, "__name__", str(hint)))


def reference(cls: type, title: str) -> list[str]:
    """A Markdown table of a dataclass's keys: type, default and the field docstring."""
    hints = typing.get_type_hints(cls)
    docs = field_docs(cls)
    lines = [f"`{title}`:", "", "| key | type | default | what |", "| --- | --- | --- | --- |"]
    for field in dataclasses.fields(cls):
        if required(field):
            default = "required"
        else:
            default = _default_text(
                field.default if field.default_factory is dataclasses.MISSING
                else field.default_factory()
            )  # fmt: skip
        kind = _describe(hints[field.name])
        lines.append(f"| `{field.name}` | {kind} | {default} | {docs.get(field.name, '')} |")
    return lines


def _default_text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict):
        return ", ".join(f"`{k}`" for k in value) or "none"
    return f"`{value}`"
