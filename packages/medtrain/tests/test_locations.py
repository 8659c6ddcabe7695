"""medtrain's one local-folder-or-Hub-id check."""

from __future__ import annotations

from pathlib import Path

import pytest

from medtrain.errors import UserError
from medtrain.locations import absolute, is_hub_id, local_path


def test_an_existing_path_is_local_and_a_hub_id_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "org/model").mkdir(parents=True)
    assert local_path("org/model", "fix") == Path("org/model")  # a folder wins over the Hub
    assert not is_hub_id("org/model") and absolute("org/model") == str(tmp_path / "org/model")
    assert local_path("org/data", "fix") is None and is_hub_id("org/data")
    assert absolute("org/data") == "org/data"


@pytest.mark.parametrize("ref", ["data/processed/v", "./v", "/no/such/folder", "v"])
def test_a_missing_path_is_an_error_never_a_hub_lookup(ref: str) -> None:
    with pytest.raises(UserError, match=rf"{ref} does not exist .*; build it first"):
        local_path(ref, "build it first")
