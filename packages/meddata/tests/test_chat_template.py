"""Chat templates rendered without transformers, checked against transformers itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jinja2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meddata.chat_template import ChatTemplate, load_template
from meddata.errors import InputError
from testsupport.paths import TEMPLATES

OFFICIAL = sorted(p.stem for p in TEMPLATES.glob("*.jinja"))
"""Every official template in data/templates (Mistral, Llama-2/3/3.1, Gemma 1.1/2, Qwen2.5)."""

FEATURES = (
    "{%- set ns = namespace(count=0) -%}"
    "{%- for m in messages -%}"
    "{%- if loop.index > 2 %}{% break %}{% endif -%}"
    "{%- set ns.count = ns.count + 1 -%}"
    "{% generation %}[{{ m['role'] }}]{{ m['content'] | tojson }}{% endgeneration %}\n"
    "{%- endfor %}\n"
    "    {{ ns.count }} {{ {'b': '<é>', 'a': [1, 2]} | tojson(indent=2, sort_keys=True) }}\n"
    "{{ dict(x=1) | tojson(separators=(',', ':')) }} {{ tools is none }} {{ documents is none }}\n"
    "{{ bos_token }}|{{ eos_token }}|{{ pad_token is defined }}|{{ date_string | default('-') }}\n"
    "{% if add_generation_prompt %}GEN{% endif %}{{ strftime_now('%Y') | length }}"
)
"""Every option and helper transformers gives a template, in one."""


def transformers_render(
    template: str, tokens: dict[str, str], messages: list[dict[str, Any]], **kwargs: Any
) -> str:
    pytest.importorskip("transformers")  # not in the meddata-alone env (testsupport/skips.py)
    from testsupport.tokenizers import template_tokenizer

    tokenizer = template_tokenizer(template, tokens)
    return str(tokenizer.apply_chat_template(messages, tokenize=False, **kwargs))


def outcome(render: Any) -> tuple[str, str]:
    """("ok", text) or ("error", message), so failures can be compared too."""
    try:
        return "ok", render()
    except jinja2.exceptions.TemplateError as exc:
        return "error", str(exc)


text = st.text(
    alphabet=st.sampled_from([*"aZ .?!\n\t-'\"<>{}%", "\u00a0", "é", "\u2003"]), max_size=20
)
roles = st.sampled_from(
    [
        ("user",),
        ("system", "user"),
        ("user", "assistant"),
        ("system", "user", "assistant"),
        ("user", "assistant", "user"),
        ("assistant",),
        ("user", "user"),
    ]
)


@pytest.mark.parametrize("stem", OFFICIAL)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shape=roles, contents=st.lists(text, min_size=3, max_size=3), generation=st.booleans())
def test_official_templates_render_as_transformers_does(
    stem: str, shape: tuple[str, ...], contents: list[str], generation: bool
) -> None:
    template = load_template(TEMPLATES / f"{stem}.jinja")
    messages = [{"role": r, "content": c} for r, c in zip(shape, contents, strict=False)]
    tokens = dict(template.special_tokens)
    ours = outcome(lambda: template.render(messages, add_generation_prompt=generation))
    theirs = outcome(
        lambda: transformers_render(
            template.text, tokens, messages, add_generation_prompt=generation
        )
    )
    assert ours == theirs


def test_every_option_and_helper_matches_transformers() -> None:
    tokens = {"bos_token": "<s>", "eos_token": "</s>"}
    template = ChatTemplate(FEATURES, "features", tokens, {"date_string": "26 Jul 2024"})
    messages = [
        {"role": "system", "content": 'Say "hi" <b>'},
        {"role": "user", "content": "é\n"},
        {"role": "assistant", "content": "never rendered (loop breaks)"},
    ]
    ours = template.render(messages, add_generation_prompt=True)
    theirs = transformers_render(
        FEATURES, tokens, messages, add_generation_prompt=True, date_string="26 Jul 2024"
    )
    assert ours == theirs
    assert '[system]"Say \\"hi\\" <b>"' in ours and '"<é>"' in ours and "True True" in ours


def test_none_values_are_dropped_from_messages_as_transformers_does() -> None:
    template = ChatTemplate("{{ messages[0] | tojson }}", "t")
    message = {"role": "user", "content": "q", "name": None}
    assert template.render([message], False) == '{"role": "user", "content": "q"}'


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("{{ raise_exception('no system') }}", jinja2.exceptions.TemplateError),
        ("{% set ns = namespace(_x=1) %}", jinja2.exceptions.SecurityError),
        ("{{ messages.append(1) }}", jinja2.exceptions.SecurityError),
        ("{{ ''.__class__.__mro__ }}", jinja2.exceptions.SecurityError),
    ],
)
def test_templates_are_sandboxed(source: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        ChatTemplate(source, "t").render([{"role": "user", "content": "q"}], False)


def test_system_refusal_is_detected() -> None:
    refuse = {p: load_template(TEMPLATES / f"{p}.jinja").refuses_system() for p in OFFICIAL}
    assert {p for p, r in refuse.items() if r} == {
        "google_gemma-1.1-7b-it",
        "google_gemma-2-2b-it",
        "google_gemma-2-9b-it",
        "mistralai_Mistral-7B-Instruct-v0.2.v1-2023-12_original",
    }


def test_special_tokens_come_from_beside_the_jinja_file() -> None:
    template = load_template(TEMPLATES / "google_gemma-1.1-7b-it.jinja")
    assert template.special_tokens == {
        "bos_token": "<bos>",
        "eos_token": "<eos>",
        "unk_token": "<unk>",
        "pad_token": "<pad>",
    }


def test_tokenizer_config_and_folder_forms(tmp_path: Path) -> None:
    config = {
        "bos_token": {"__type": "AddedToken", "content": "<s>", "lstrip": False},
        "eos_token": "</s>",
        "pad_token": None,
        "chat_template": [
            {"name": "tool_use", "template": "TOOLS"},
            {"name": "default", "template": "{{ bos_token }}{{ messages[0]['content'] }}"},
        ],
    }
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(config))
    from_config = load_template(tmp_path / "tokenizer_config.json")
    assert from_config.special_tokens == {"bos_token": "<s>", "eos_token": "</s>"}
    assert from_config.render([{"role": "user", "content": "q"}], False) == "<s>q"
    (tmp_path / "chat_template.jinja").write_text("{{ eos_token }}")
    from_folder = load_template(tmp_path)
    assert from_folder.render([{"role": "user", "content": "q"}], False) == "</s>"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "not valid JSON"),
        ('["a list"]', "not a JSON object"),
        ('{"chat_template": [{"name": "tool_use", "template": "x"}]}', "no `chat_template`"),
        ('{"eos_token": "</s>"}', "no `chat_template`"),
    ],
)
def test_bad_tokenizer_configs_name_the_file(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "tokenizer_config.json"
    path.write_text(content)
    with pytest.raises(InputError, match=problem) as error:
        load_template(path)
    assert str(path) in str(error.value)


def test_a_template_that_is_not_utf8_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "t.jinja").write_bytes(b"{{ '\xe9' }}")
    with pytest.raises(InputError, match=r"t.jinja: not UTF-8 .*Save the template as UTF-8"):
        load_template(tmp_path / "t.jinja")


def test_a_missing_template_says_what_to_pass(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load_template(tmp_path / "nope.jinja")
