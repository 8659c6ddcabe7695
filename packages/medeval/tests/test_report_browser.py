"""report.html in a real browser (the system's headless Chromium): the verdict is on the first
screen, nothing is wider than a phone, and the configuration stays collapsed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from medeval.runs import Run
from testsupport.browser import chromium, screenshot
from testsupport.evaluated import evaluated_run

SIZES = {"desktop": (1280, 900), "phone": (390, 844)}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as opened:
        yield opened


@pytest.fixture(scope="module")
def page(tiny_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    return evaluated_run(tiny_run, tmp_path_factory.mktemp("browser"))


@pytest.mark.parametrize("size", list(SIZES))
def test_layout(browser: Any, page: Run, size: str, tmp_path: Path) -> None:
    width, height = SIZES[size]
    tab = browser.new_page(viewport={"width": width, "height": height})
    tab.goto((page.path / "report.html").resolve().as_uri())
    inner = tab.evaluate("window.innerWidth")
    assert tab.evaluate("document.documentElement.scrollWidth") <= inner
    verdict_top = tab.evaluate(
        "[...document.querySelectorAll('h2')]"
        ".find(h => h.textContent.startsWith('Verdict')).getBoundingClientRect().top"
    )
    assert verdict_top < height / 2
    wider = tab.evaluate(
        "[...document.querySelectorAll('table, img, section')]"
        ".filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).length"
    )
    assert wider == 0
    config = tab.evaluate(
        "(() => { const d = [...document.querySelectorAll('details')].at(-1);"
        "return [d.open, d.querySelector('table').checkVisibility()]; })()"
    )
    assert config == [False, False]
    screenshot(tab, tmp_path, f"report-{size}")
    tab.close()
