"""Chat templates as transformers renders them, with jinja2 alone (no torch, no transformers).

The environment matches transformers' `apply_chat_template` (utils/chat_template_utils.py):
an `ImmutableSandboxedEnvironment` with `trim_blocks` and `lstrip_blocks`, the `loopcontrols`
extension and a `{% generation %}` block tag, `tojson` with its options and no HTML escaping,
`raise_exception`, `strftime_now`, and `dict`/`namespace` that refuse underscore names. The
template sees `messages` (keys whose value is None dropped), `tools=None`, `documents=None`,
`add_generation_prompt`, the tokenizer's named special tokens and any extra variables.
tests/test_chat_template.py compares it with transformers itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import jinja2.ext
from jinja2 import nodes
from jinja2.parser import Parser
from jinja2.sandbox import ImmutableSandboxedEnvironment

from meddata.errors import InputError

SPECIAL_TOKENS = (
    "bos_token",
    "eos_token",
    "unk_token",
    "sep_token",
    "pad_token",
    "cls_token",
    "mask_token",
)
"""The named special tokens transformers passes to every template (`special_tokens_map`)."""


class GenerationBlock(jinja2.ext.Extension):
    """`{% generation %}...{% endgeneration %}`: marks the assistant's text for training masks;
    rendering outputs the body unchanged, as transformers does."""

    tags = {"generation"}  # noqa: RUF012 (jinja2's own class attribute)

    def parse(self, parser: Parser) -> nodes.Node:
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return nodes.CallBlock(self.call_method("_body"), [], [], body).set_lineno(lineno)

    def _body(self, caller: Any) -> str:
        return str(caller())


class SafeNamespace(jinja2.utils.Namespace):
    """`namespace(...)` that refuses underscore-prefixed attributes."""

    def __init__(*args: Any, **kwargs: Any) -> None:
        self, rest = args[0], args[1:]
        attrs = dict(*rest, **kwargs)
        for name in attrs:
            SafeNamespace._check(name)
        jinja2.utils.Namespace.__init__(self, attrs)

    def __setitem__(self, name: str, value: Any) -> None:
        SafeNamespace._check(name)
        jinja2.utils.Namespace.__setitem__(self, name, value)

    @staticmethod
    def _check(name: object) -> None:
        if isinstance(name, str) and name.startswith("_"):
            raise jinja2.exceptions.SecurityError(f"namespace attribute {name!r} is not allowed")


def _raise_exception(message: str) -> None:
    raise jinja2.exceptions.TemplateError(message)


def _tojson(
    value: Any,
    ensure_ascii: bool = False,
    indent: int | None = None,
    separators: tuple[str, str] | None = None,
    sort_keys: bool = False,
) -> str:
    return json.dumps(
        value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys
    )


def _strftime_now(format: str) -> str:
    return datetime.now().strftime(format)


class _Dict:
    """`dict(...)` and `dict.fromkeys(...)`, without the type's other attributes."""

    def __call__(self, *args: Any, **kwargs: Any) -> dict[Any, Any]:
        return dict(*args, **kwargs)

    def fromkeys(self, *args: Any) -> dict[Any, Any]:
        return dict.fromkeys(*args)


@lru_cache(maxsize=32)
def compile_template(text: str) -> jinja2.Template:
    """The template compiled once per text, in transformers' environment."""
    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[GenerationBlock, jinja2.ext.loopcontrols]
    )
    env.filters["tojson"] = _tojson
    env.globals.update(
        raise_exception=_raise_exception,
        strftime_now=_strftime_now,
        dict=_Dict(),
        namespace=SafeNamespace,
    )
    return env.from_string(text)


@dataclass(frozen=True)
class ChatTemplate:
    """A chat template and what it is rendered with."""

    text: str
    """The Jinja source."""
    source: str
    """Where it was read from (shown in cards and errors)."""
    special_tokens: Mapping[str, str] = field(default_factory=dict)
    """`bos_token`, `eos_token`, ...: the tokenizer's named special tokens."""
    variables: Mapping[str, Any] = field(default_factory=dict)
    """Extra template variables (e.g. Llama-3.2's `date_string`, so a build is reproducible)."""

    def render(self, messages: Sequence[Mapping[str, Any]], add_generation_prompt: bool) -> str:
        """The conversation as `apply_chat_template(messages, tokenize=False, ...)` renders it."""
        chat = [{k: v for k, v in m.items() if v is not None} for m in messages]
        return compile_template(self.text).render(
            messages=chat,
            tools=None,
            documents=None,
            add_generation_prompt=add_generation_prompt,
            **{**self.special_tokens, **self.variables},
        )

    def refuses_system(self) -> bool:
        """Whether the template raises on a leading system message (e.g. Gemma's); a template
        that does not compile raises its TemplateSyntaxError."""
        compile_template(self.text)
        probe = [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}]
        try:
            self.render(probe, add_generation_prompt=True)
        except jinja2.exceptions.TemplateError:
            return True
        return False


def load_template(path: Path | str, variables: Mapping[str, Any] | None = None) -> ChatTemplate:
    """A template from a `.jinja` file (special tokens from `<stem>.special_tokens.json` beside
    it, if any), a `tokenizer_config.json`, or a tokenizer folder (its `chat_template.jinja`
    or config's template, and the config's special tokens)."""
    path = Path(path)
    if path.is_dir():
        config_file = path / "tokenizer_config.json"
        config = _read_json(config_file) if config_file.is_file() else {}
        jinja = path / "chat_template.jinja"
        text = _read_text(jinja) if jinja.is_file() else _config_template(config, config_file)
        return ChatTemplate(text, str(path), _special_tokens(config), dict(variables or {}))
    if path.suffix == ".json":
        config = _read_json(path)
        text = _config_template(config, path)
        return ChatTemplate(text, str(path), _special_tokens(config), dict(variables or {}))
    beside = path.with_name(f"{path.stem}.special_tokens.json")
    tokens = _special_tokens(_read_json(beside)) if beside.is_file() else {}
    return ChatTemplate(_read_text(path), str(path), tokens, dict(variables or {}))


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise InputError(
            path, "no such file", "Pass a .jinja file, tokenizer_config.json or folder"
        )
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not UTF-8 ({exc.reason})", "Save the template as UTF-8") from None


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise InputError(path, f"not valid JSON ({exc.msg})", "Fix the file", exc.lineno) from None
    if not isinstance(data, dict):
        raise InputError(path, "not a JSON object", "Pass a tokenizer_config.json")
    return data


def _config_template(config: Mapping[str, Any], path: Path) -> str:
    """`chat_template` as a string, or the `default` of a list of named templates."""
    template = config.get("chat_template")
    if isinstance(template, list):
        named = {t.get("name"): t.get("template") for t in template if isinstance(t, dict)}
        template = named.get("default")
    if not isinstance(template, str):
        raise InputError(
            path,
            "no `chat_template` string (nor a `default` among named templates)",
            "Use a tokenizer_config.json that holds the model's chat template, or a .jinja file",
        )
    return template


def _special_tokens(config: Mapping[str, Any]) -> dict[str, str]:
    """Named special tokens, whether written as strings or as AddedToken objects."""
    tokens = {}
    for name in SPECIAL_TOKENS:
        value = config.get(name)
        if isinstance(value, dict):
            value = value.get("content")
        if isinstance(value, str):
            tokens[name] = value
    return tokens
