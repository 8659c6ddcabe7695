"""Atomic output: a build writes into a staging folder and swaps it in only when complete.

An interrupted build (Ctrl-C, a crash, a full disk) leaves the previous output as it was; the
only leftovers are `.staging-*` folders, which the next build removes.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

STAGING_PREFIX = ".staging-"
PREVIOUS_PREFIX = ".previous-"


def recover(parent: Path) -> None:
    """Undo a swap that was cut off between its two renames, and drop abandoned staging."""
    for previous in parent.glob(f"{PREVIOUS_PREFIX}*"):
        target = parent / previous.name.removeprefix(PREVIOUS_PREFIX)
        if target.exists():
            shutil.rmtree(previous, ignore_errors=True)
        else:
            previous.rename(target)
    for stale in parent.glob(f"{STAGING_PREFIX}*"):
        shutil.rmtree(stale, ignore_errors=True)


@contextmanager
def staged_dir(parent: Path) -> Iterator[Path]:
    """A fresh folder inside `parent` (same filesystem, so renames are atomic); removed after."""
    parent.mkdir(parents=True, exist_ok=True)
    recover(parent)
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=parent))
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def swap_in(staged: Path, target: Path) -> None:
    """Replace `target` by `staged` with renames only: either the old or the new one is there."""
    previous = target.with_name(f"{PREVIOUS_PREFIX}{target.name}")
    if target.exists():
        target.rename(previous)
    staged.rename(target)
    shutil.rmtree(previous, ignore_errors=True)
