"""Headless Chromium for tests that use a page as a person does: the system's browser (Debian's
`chromium` package, installed by .ci/run), driven by Playwright; never a downloaded one."""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from testsupport.paths import REPO

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
"""Headless in a container, and quiet: no update checks or sync calls out of the machine."""
SCREENSHOTS_ENV = "MEDTOOLS_SCREENSHOTS"
"""Set to a folder (e.g. artifacts/screenshots) to keep the tests' screenshots there too."""


def chromium_path() -> str:
    """The system Chromium (MEDTOOLS_CHROMIUM overrides); missing is a failure with the fix."""
    path = os.environ.get("MEDTOOLS_CHROMIUM") or shutil.which("chromium")
    if not path:
        raise RuntimeError("no chromium on PATH: apt-get install -y chromium (as .ci/run does)")
    return path


@contextmanager
def chromium() -> Iterator[Any]:
    """A Playwright browser on the system Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def screenshot(page: Any, folder: Path, name: str) -> Path:
    """A full-page PNG in `folder` (and in $MEDTOOLS_SCREENSHOTS when set); prints its path."""
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    kept = os.environ.get(SCREENSHOTS_ENV)
    if kept:
        target = Path(kept) if Path(kept).is_absolute() else REPO / kept
        target.mkdir(parents=True, exist_ok=True)
        path = Path(shutil.copy(path, target / path.name))
    print(f"screenshot: {path}")
    return path


class ChatServer:
    """A `medeval chat` process serving a page: its URL, then (after Ctrl-C) its exit."""

    def __init__(self, url: str):
        self.url = url
        """Where the page is, as the command printed it."""
        self.output = ""
        """Everything the command printed, once it has exited."""
        self.returncode: int | None = None
        """Its exit code after Ctrl-C (0: it stopped cleanly)."""


@contextmanager
def chat_server(command: list[str], start_timeout: float = 600) -> Iterator[ChatServer]:
    """Run `command` (a `medeval chat ... --port 0`) until it prints its URL; Ctrl-C it after."""
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO
    )
    assert process.stdout is not None
    lines: list[str] = []
    try:
        deadline = time.monotonic() + start_timeout
        while not lines or "chat page:" not in lines[-1]:
            ready, _, _ = select.select(
                [process.stdout], [], [], max(0, deadline - time.monotonic())
            )
            line = process.stdout.readline() if ready else ""
            if not line:
                raise AssertionError(f"`{' '.join(command)}` did not serve:\n{''.join(lines)}")
            lines.append(line)
        server = ChatServer(lines[-1].split("chat page:")[1].split()[0])
        yield server
        process.send_signal(signal.SIGINT)
        server.output = "".join(lines) + process.communicate(timeout=60)[0]
        server.returncode = process.returncode
    finally:
        process.kill()
        process.wait()
