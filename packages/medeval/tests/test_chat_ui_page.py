"""The chat page in headless Chromium, used as a person does: the tiny run served on 127.0.0.1,
questions typed and sent, answers read off the page. Screenshots go to pytest's tmp folder (and
to $MEDTOOLS_SCREENSHOTS when set)."""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from medeval.chat_ui_page import build_page, launch
from medeval.chat_ui_run import summarize
from medeval.chat_ui_stream import PairChat
from medeval.generation import GenerationSettings
from medeval.models import load_model, load_tokenizer
from medeval.runs import load_run
from testsupport.browser import chromium, screenshot

WAIT_MS = 60_000
LOCAL = {"127.0.0.1", "localhost", "::1"}


class Served:
    """The page's address, its run's base model, and a switch that makes the model slow (to
    ask while it answers)."""

    def __init__(self, url: str, base_model: str, slow: threading.Event):
        self.url, self.base_model, self.slow = url, base_model, slow


@pytest.fixture(scope="module")
def served(tiny_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The tiny run (with medtrain's held-out losses in its stats) on 127.0.0.1, any free port."""
    folder = tmp_path_factory.mktemp("chat") / "tiny-cpu-20260101-000000"
    shutil.copytree(tiny_run, folder)
    stats = json.loads((folder / "trainer_stats.json").read_text())
    stats |= {"eval_answer_loss_before": 2.5, "eval_answer_loss_after": 2.1}
    (folder / "trainer_stats.json").write_text(json.dumps(stats))
    run = load_run(folder)
    model = load_model(run)
    slow = threading.Event()
    base = model.get_base_model()  # generate() steps call it directly
    base.register_forward_pre_hook(lambda *_: time.sleep(0.05) if slow.is_set() else None)
    reached: list[Any] = []  # every host the server process looks up or connects to
    with pytest.MonkeyPatch.context() as patch:
        for name in ("getaddrinfo", "create_connection"):
            real = getattr(socket, name)
            patch.setattr(socket, name, _recording(real, reached))
        page = build_page(
            summarize(run, 6),
            PairChat(model, load_tokenizer(run)),
            GenerationSettings(48, no_repeat_ngram=3, end_when_likely=True),
        )
        url = launch(page, "127.0.0.1", 0)
        yield Served(url, run.base_model, slow)
        page.close()
    assert {host for host in reached if host not in LOCAL} == set()  # no analytics, no checks


def _recording(real: Any, reached: list[Any]) -> Any:
    def call(address: Any, *args: Any, **kwargs: Any) -> Any:
        reached.append(address[0] if isinstance(address, tuple) else address)
        return real(address, *args, **kwargs)

    return call


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as opened:
        yield opened


@pytest.fixture
def open_page(served: Served, browser: Any) -> Iterator[Any]:
    """A fresh browser session on the page, loaded; the test fails on any request that leaves
    127.0.0.1 (no analytics, no fonts or scripts from the network)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlparse(request.url).hostname or ""))
    page.goto(served.url)
    page.locator("#disclaimer").wait_for()
    yield page
    context.close()
    assert hosts == {"127.0.0.1"}


def bot_texts(page: Any, side: str) -> list[str]:
    return [t.strip() for t in page.locator(f'#chat-{side} [data-testid="bot"]').all_inner_texts()]


def user_texts(page: Any, side: str) -> list[str]:
    return [t.strip() for t in page.locator(f'#chat-{side} [data-testid="user"]').all_inner_texts()]


def ask(page: Any, question: str) -> None:
    page.locator("#question textarea").fill(question)
    page.locator("#question textarea").press("Enter")


def wait_answered(page: Any, turns: int) -> None:
    """Until both sides show `turns` answers and the status says all are done."""
    page.wait_for_function(
        f"""() => ['base', 'finetuned'].every(side =>
            document.querySelectorAll(`#chat-${{side}} [data-testid="bot"]`).length === {turns})
            && /^Answered/.test(document.querySelector('#status').innerText.trim())""",
        timeout=WAIT_MS,
    )


def test_question_is_answered_by_both_models_side_by_side(
    open_page: Any, served: Served, tmp_path: Path
) -> None:
    page = open_page
    assert "Not medical advice" in page.locator("#disclaimer").inner_text()
    run_panel = page.locator("#run").inner_text()
    for fact in (f"Base model: {served.base_model}", "Steps: 20", "-16.0%"):
        assert fact in run_panel
    assert "Answer the question truthfully" in run_panel  # the system instruction of the split
    rules = page.locator("#rules").inner_text()  # both sides answer under the command line's rules
    assert "above 1/2" in rules and "no 3 tokens of an answer repeated" in rules
    screenshot(page, tmp_path, "chat-desktop-empty")
    page.get_by_role("button", name="What is asthma?").click()
    # a person presses Send once the question shows in the box; the example's values come back
    # from the server, and a Send before them asked an empty question (a CI run, 2026-12-01)
    page.wait_for_function(
        "() => document.querySelector('#question textarea').value === 'What is asthma?'",
        timeout=WAIT_MS,
    )
    page.locator("#send").click()
    wait_answered(page, 1)
    base, tuned = bot_texts(page, "base"), bot_texts(page, "finetuned")
    assert base[0] and tuned[0]
    assert base[0] != tuned[0]
    assert page.locator("#reference textarea").input_value() == "A chronic disease of the airways."
    ask(page, "And how is it treated?")  # a follow-up: each side answers from its own history
    wait_answered(page, 2)
    assert user_texts(page, "finetuned") == ["What is asthma?", "And how is it treated?"]
    assert not page.locator("#reference").is_visible()  # not a held-out question
    screenshot(page, tmp_path, "chat-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, tmp_path, "chat-phone")
    assert page.locator("#disclaimer").is_visible()


def test_bad_input_gets_a_message_on_the_page(open_page: Any) -> None:
    page = open_page
    page.locator("#send").click()
    page.locator("#status", has_text="Type a question first").wait_for(timeout=WAIT_MS)
    assert bot_texts(page, "base") == []
    max_new = page.get_by_label("number input for Max new tokens")
    max_new.fill("2048")  # the tiny model's context is 512 tokens
    max_new.press("Enter")
    ask(page, "What is asthma?")
    page.locator("#status", has_text="passes the model's context of 512").wait_for(timeout=WAIT_MS)
    assert "Start a new conversation or lower the max new tokens" in bot_texts(page, "base")[0]


def test_questions_asked_while_answering_wait_their_turn(
    open_page: Any, served: Served, browser: Any, tmp_path: Path
) -> None:
    page = open_page
    other = browser.new_page()  # a second person on the same page
    other.goto(served.url)
    other.locator("#disclaimer").wait_for()
    served.slow.set()
    try:
        ask(page, "What is a fever?")
        page.wait_for_function(  # streamed: text on the page while the answer goes on
            """() => /Answering/.test(document.querySelector('#status').innerText)
                && [...document.querySelectorAll('[data-testid="bot"]')]
                    .some(bot => !['', '…'].includes(bot.innerText.trim()))""",
            timeout=WAIT_MS,
        )
        ask(page, "Is it dangerous?")
        ask(other, "What does the liver do?")
        page.locator("#status", has_text="1 more question waiting").wait_for(timeout=WAIT_MS)
        screenshot(page, tmp_path, "chat-queued")
        wait_answered(page, 2)
        wait_answered(other, 1)
    finally:
        served.slow.clear()
    assert user_texts(page, "base") == ["What is a fever?", "Is it dangerous?"]
    assert all(bot_texts(page, side)[1] for side in ("base", "finetuned"))
    assert "waiting" not in bot_texts(page, "base")[1]
    assert user_texts(other, "base") == ["What does the liver do?"]
    other.close()


def test_stop_ends_the_answer_and_new_chat_forgets(open_page: Any, served: Served) -> None:
    page = open_page
    served.slow.set()
    try:
        ask(page, "What causes anemia?")
        page.locator("#status", has_text="Answering").wait_for(timeout=WAIT_MS)
        page.locator("#stop").click()
        page.locator("#status", has_text="Stopped").wait_for(timeout=WAIT_MS)
    finally:
        served.slow.clear()
    assert "(stopped" in bot_texts(page, "finetuned")[0]
    page.locator("#reset").click()
    page.get_by_text("The base model's answers appear here.").wait_for(timeout=WAIT_MS)
    assert user_texts(page, "base") == []
