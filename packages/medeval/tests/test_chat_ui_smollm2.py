"""The chat page of a real SmolLM2 run (`medtrain train smollm2-cpu`, 2 steps), served by the
`medeval chat` command itself and used in headless Chromium."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from testsupport.browser import chat_server, chromium, screenshot

BIN = Path(sys.executable).parent


@pytest.mark.slow
def test_chat_page_of_a_trained_smollm2_run(smollm2_run: Path, tmp_path: Path) -> None:
    command = [str(BIN / "medeval"), "chat", str(smollm2_run), "--port", "0"]
    with chat_server([*command, "--max-new-tokens", "48"]) as server, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(server.url)
        assert "Not medical advice" in page.locator("#disclaimer").inner_text()
        run_panel = page.locator("#run").inner_text()
        assert "HuggingFaceTB/SmolLM2-135M-Instruct" in run_panel
        assert "Steps: 2" in run_panel
        assert "held-out, " in run_panel  # the held-out answer loss table
        page.get_by_role("button", name="What is asthma?").click()
        page.locator("#send").click()
        page.locator("#status", has_text="Answered").wait_for(timeout=300_000)
        answers = {
            side: page.locator(f'#chat-{side} [data-testid="bot"]').inner_text().strip()
            for side in ("base", "finetuned")
        }
        screenshot(page, tmp_path, "chat-smollm2")
    assert all(answers.values()), answers
    assert answers["base"] != answers["finetuned"]
    assert server.returncode == 0, server.output
