"""The run folder's name and config.yaml (docs/schemas.md §3, schemas/config.schema.json)."""

from __future__ import annotations

import dataclasses
import time
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml

from medtrain.config import RecipeConfig, from_dict
from medtrain.recipes import load_recipe, recipe_names
from medtrain.runs import new_run_dir, read_config, run_name, stored, write_config
from testsupport.paths import REPO
from testsupport.schemas import schema, validate

UTC_NOON = time.struct_time((2026, 1, 2, 12, 0, 0, 4, 2, 0))
LOCAL_EVENING = time.struct_time((2026, 1, 2, 21, 0, 0, 4, 2, 0))


def tiny_recipe(root: Path, **model: Any) -> RecipeConfig:
    data = {
        "name": "tiny",
        "model": {"base": "org/model", **model},
        "data": {"dataset": "org/data"},
        "output": {"root": str(root)},
    }
    return from_dict(RecipeConfig, data)


def test_run_folders_are_named_in_utc(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(time, "gmtime", lambda *_: UTC_NOON)
    monkeypatch.setattr(time, "localtime", lambda *_: LOCAL_EVENING)
    assert run_name("smollm2-cpu") == "smollm2-cpu-20260102-120000"
    recipe = tiny_recipe(tmp_path)
    assert new_run_dir(recipe).name == "tiny-20260102-120000"
    assert new_run_dir(recipe).name == "tiny-20260102-120000-2"


def test_the_pipeline_names_its_run_with_the_same_function() -> None:
    session = (REPO / "noxfile.py").read_text().split("def pipeline", 1)[1]
    assert "from medtrain.runs import run_name" in session and "strftime" not in session


def test_config_keeps_no_path_relative_to_the_working_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "work/data/v").mkdir(parents=True)
    (tmp_path / "work/models/base").mkdir(parents=True)
    (tmp_path / "work/chat.jinja").write_text("{{ messages }}")
    monkeypatch.chdir(tmp_path / "work")
    recipe = tiny_recipe(Path("runs"), base="models/base", chat_template="chat.jinja")
    recipe.data.dataset = "data/v"
    config = stored(recipe)
    validate("config.schema.json", config)
    assert config["model"]["base"] == str(tmp_path / "work/models/base")
    assert config["model"]["chat_template"] == str(tmp_path / "work/chat.jinja")
    assert config["data"]["dataset"] == str(tmp_path / "work/data/v")
    assert config["output"]["root"] == str(tmp_path / "work/runs")
    hub = stored(tiny_recipe(Path("runs"), chat_template="mistral"))
    assert (hub["model"]["base"], hub["model"]["chat_template"]) == ("org/model", "mistral")
    assert hub["data"]["dataset"] == "org/data"


def test_config_paths_relative_to_the_run_folder_are_read_as_such(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    run = tmp_path / "runs/tiny-1"
    (run / "variant").mkdir(parents=True)
    write_config(run, tiny_recipe(tmp_path))
    config = yaml.safe_load((run / "config.yaml").read_text())
    config["data"]["dataset"] = "variant"
    (run / "config.yaml").write_text(yaml.safe_dump(config))
    monkeypatch.chdir(tmp_path)
    recipe = read_config(run)
    assert recipe.data.dataset == str(run / "variant")
    assert recipe.model.base == "org/model"


def _dataclass_of(hint: Any) -> Any:
    return next((a for a in (hint, *typing.get_args(hint)) if dataclasses.is_dataclass(a)), None)


def test_config_schema_mirrors_the_recipe_dataclasses() -> None:
    """A field added to or removed from RecipeConfig without the schema fails here."""
    config_schema = schema("config.schema.json")

    def check(cls: Any, node: dict[str, Any]) -> None:
        fields = {f.name: f for f in dataclasses.fields(cls)}
        assert set(node["properties"]) == set(fields), cls.__name__
        required = {
            name
            for name, f in fields.items()
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        }
        assert set(node["required"]) == required, cls.__name__
        assert node["additionalProperties"] is False
        hints = typing.get_type_hints(cls)
        for name in fields:
            if (inner := _dataclass_of(hints[name])) is not None:
                ref = node["properties"][name]["$ref"].split("/")[-1]
                check(inner, config_schema["$defs"][ref])

    check(RecipeConfig, config_schema)


@pytest.mark.parametrize("name", recipe_names())
def test_every_shipped_recipe_stores_a_valid_config(name: str) -> None:
    validate("config.schema.json", stored(load_recipe(name)), name)
