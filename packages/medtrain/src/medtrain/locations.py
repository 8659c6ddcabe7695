"""The one answer, for medtrain, to "is this a local file or folder, or a Hub id?"."""

from __future__ import annotations

import re
from pathlib import Path

from medtrain.errors import UserError

HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+\Z")
"""NAMESPACE/NAME, as the Hub spells repo ids."""


def is_hub_id(ref: str) -> bool:
    """`ref` has the form of a Hub id and names nothing on this machine."""
    return bool(HUB_ID.match(ref)) and not Path(ref).exists()


def local_path(ref: str, fix: str) -> Path | None:
    """The local file or folder `ref` names; None when it is a Hub id; else a UserError that
    names `ref` and says `fix` (a path-like ref that does not exist is never sent to the Hub)."""
    path = Path(ref)
    if path.exists():
        return path
    if is_hub_id(ref):
        return None
    raise UserError(f"{ref} does not exist and is not a Hub id (NAMESPACE/NAME); {fix}")


def absolute(ref: str) -> str:
    """`ref` as a run folder stores it: an existing local path made absolute, a Hub id as is."""
    path = Path(ref)
    return str(path.resolve()) if path.exists() else ref
