"""Errors a user can fix: the CLI prints them on one line and exits with code 2, no traceback."""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """Bad input: names the file (and row when known), what is wrong, and what to do."""

    def __init__(self, path: Path | str, problem: str, fix: str, row: int | None = None) -> None:
        self.path = str(path)
        self.problem = problem
        self.fix = fix
        self.row = row
        where = self.path if row is None else f"{self.path}, row {row}"
        super().__init__(f"{where}: {problem}. {fix}")


class ConfigError(InputError):
    """A mistake in a config file: names the file, the line, the key, what is wrong and the fix."""

    def __init__(
        self, path: Path | str, line: int | None, key: str, problem: str, fix: str
    ) -> None:
        self.line = line
        self.key = key
        where = str(path) if line is None else f"{path}, line {line}"
        super().__init__(where, f"{key}: {problem}" if key else problem, fix)
        self.path = str(path)
