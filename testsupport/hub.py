"""The Hub stand-in as fixtures, and how a publishing CLI is run against it (or against no Hub).

Registered by the root conftest.py. In-process client calls use the `hub` fixture (a fresh
stand-in, the client switched online to it for the test); CLIs run in subprocesses with
`client_env`, so HF_ENDPOINT is read before huggingface_hub is imported.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from testsupport.hubstandin import HubStandIn

TOKEN = "standin-token"
"""The one token the stand-in accepts."""

CLIS = {
    "meddata": [sys.executable, "-c", "from meddata.cli import main; main()"],
    "medtrain": [sys.executable, "-c", "from medtrain.cli import main; main()"],
}
"""The packages' CLIs, run the way their console scripts run them."""


@pytest.fixture
def hub_client(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process client calls go online for this test (to a stand-in's endpoint passed
    explicitly), without Xet or telemetry."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_TELEMETRY", True)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)  # fixtures.py sets it for all tests


@pytest.fixture
def hub(hub_client: None) -> Iterator[HubStandIn]:
    """A fresh stand-in, with the in-process client online to it (`hub_client`)."""
    with HubStandIn(tokens=frozenset({TOKEN})) as standin:
        yield standin


@pytest.fixture(scope="module")
def hub_server() -> Iterator[HubStandIn]:
    """One stand-in for a test module whose CLIs run in subprocesses (see `client_env`)."""
    with HubStandIn(tokens=frozenset({TOKEN})) as standin:
        yield standin


def closed_port_url() -> str:
    """An endpoint on 127.0.0.1 where nothing listens: every connection is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def client_env(
    endpoint: str, home: Path, token: str | None = TOKEN, offline: bool = False
) -> dict[str, str]:
    """The environment of a CLI subprocess: no Hub settings of this machine leak in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    env.update(
        HF_ENDPOINT=endpoint,
        HF_HUB_DISABLE_XET="1",
        HF_HUB_DISABLE_TELEMETRY="1",
        HF_HOME=str(home),
        NO_PROXY="127.0.0.1",
    )
    if offline:
        env["HF_HUB_OFFLINE"] = "1"
    if token is not None:
        env["HF_TOKEN"] = token
    return env


def run_cli(package: str, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`<package> <args>` in a subprocess; asserts the token is never printed."""
    result = subprocess.run(
        [*CLIS[package], *args], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert TOKEN not in result.stdout + result.stderr
    return result
