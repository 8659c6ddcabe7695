"""Find and load recipes: shipped ones by name, or any YAML file by path."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from medtrain.config import RecipeConfig, apply_overrides, from_dict
from medtrain.errors import ConfigError, UserError


def recipe_names() -> list[str]:
    folder = resources.files("medtrain") / "recipes"
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


def recipe_path(name_or_path: str) -> Path:
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml"):
        if not path.is_file():
            raise UserError(f"recipe file {path} does not exist")
        return path
    if name_or_path not in recipe_names():
        import difflib

        close = difflib.get_close_matches(name_or_path, recipe_names(), n=1)
        hint = f"did you mean '{close[0]}'?" if close else "see `medtrain recipes`"
        raise UserError(f"no recipe named '{name_or_path}'; {hint}")
    return Path(str(resources.files("medtrain") / "recipes" / f"{name_or_path}.yaml"))


def load_raw(name_or_path: str) -> dict[str, Any]:
    path = recipe_path(name_or_path)
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a recipe must be a YAML mapping")
    return data


def load_recipe(name_or_path: str, overrides: list[str] | None = None) -> RecipeConfig:
    """Load a recipe, apply `--set` overrides, validate; errors name the recipe file."""
    path = recipe_path(name_or_path)
    try:
        data = apply_overrides(load_raw(name_or_path), overrides or [])
        return from_dict(RecipeConfig, data)
    except ConfigError as err:
        raise ConfigError(f"{path.name}: {err}") from None
