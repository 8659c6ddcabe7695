"""`medeval chat RUN`: the real command serving the tiny run, and its bad input (a run without an
adapter, a port in use, Gradio missing) as one line and exit code 2, never a traceback."""

from __future__ import annotations

import json
import shutil
import socket
import sys
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from medeval.chat_ui_page import launch, loopback
from medeval.cli import app
from medeval.errors import EvalInputError
from testsupport.browser import chat_server

runner = CliRunner()
BIN = Path(sys.executable).parent


def test_chat_serves_on_localhost_until_ctrl_c(tiny_run: Path) -> None:
    command = [str(BIN / "medeval"), "--threads", "1", "chat", str(tiny_run), "--port", "0"]
    with chat_server(command) as server:
        assert server.url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(f"{server.url}config", timeout=30) as response:
            config = json.load(response)
        assert "Not medical advice" in json.dumps(config)
    assert server.returncode == 0, server.output
    assert "Traceback" not in server.output


def test_a_run_without_adapter_is_named(tiny_run: Path, tmp_path: Path) -> None:
    run = tmp_path / "unfinished"
    shutil.copytree(tiny_run, run, ignore=shutil.ignore_patterns("adapter"))
    for mode in ([], ["--cli"]):
        result = runner.invoke(app, ["chat", str(run), "--port", "0", *mode])
        assert result.exit_code == 2
        assert "no adapter_config.json; the run did not finish saving" in result.output
        assert "Traceback" not in result.output


def test_a_port_in_use_is_named(tiny_run: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(app, ["chat", str(tiny_run), "--port", str(port)])
    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
    assert "pass --port with a free port" in result.output


def test_without_gradio_the_fix_is_named(tiny_run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gradio", None)  # as if medeval[chat] were not installed
    result = runner.invoke(app, ["chat", str(tiny_run), "--port", "0"])
    assert result.exit_code == 2
    assert "pip install 'medeval[chat]'" in result.output
    assert "medeval chat RUN --cli" in result.output


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--max-new-tokens", "0"], "--max-new-tokens must be at least 1"),
        (["--top-p", "0"], "--top-p must be above 0 and at most 1"),
    ],
)
def test_bad_settings_are_refused_before_loading(
    tiny_run: Path, option: list[str], message: str
) -> None:
    result = runner.invoke(app, ["chat", str(tiny_run), "--cli", *option])
    assert result.exit_code == 2
    assert message in result.output
    assert "--batch-size" not in result.output  # chat has no such flag: name only the wrong one


@pytest.mark.parametrize(
    ("host", "local"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("192.168.1.20", False),
        ("::", False),
        ("my-box.lan", False),
    ],
)
def test_only_loopback_hosts_go_unwarned(host: str, local: bool) -> None:
    assert loopback(host) is local


class _TakenMeanwhile:
    """A page whose server finds its port taken after the free-port check passed."""

    def launch(self, **_: object) -> None:
        raise OSError(98, "Address already in use")


def test_a_port_taken_between_check_and_start_is_named() -> None:
    with pytest.raises(
        EvalInputError, match=r"cannot start the page on 127\.0\.0\.1:.*pass --port"
    ):
        launch(_TakenMeanwhile(), "127.0.0.1", 0)
