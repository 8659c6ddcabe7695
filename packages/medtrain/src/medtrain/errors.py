"""Errors the user can fix: the CLI prints them on one line and exits with code 2."""

from __future__ import annotations


class UserError(Exception):
    """Bad input or an unsupported machine; the message names the problem and the fix."""


class ConfigError(UserError):
    """A recipe or an override that does not validate."""
