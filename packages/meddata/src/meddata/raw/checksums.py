"""Check the shipped raw files against the `SHA256SUMS` beside them (sha256sum format).

Only listed files are checked: a file a user passes in place of a default is theirs to vouch for.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from meddata.errors import InputError

SUMS_FILE = "SHA256SUMS"
_LINE = re.compile(r"(?P<digest>[0-9a-fA-F]{64}) [ *](?P<name>.+)")


def read_sums(sums: Path) -> dict[str, str]:
    """`{relative path: sha256}` from a sha256sum-style file."""
    listed: dict[str, str] = {}
    for number, line in enumerate(sums.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        match = _LINE.fullmatch(line.rstrip())
        if match is None:
            raise InputError(
                sums,
                "is not in sha256sum format ('<sha256>  <file>')",
                "Restore it from git",
                number,
            )
        listed[match["name"].removeprefix("./")] = match["digest"].lower()
    return listed


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_file(raw_dir: Path, relative: str) -> bool:
    """Stop on a modified or truncated file; True if checked, False if nothing lists it."""
    sums = raw_dir / SUMS_FILE
    if not sums.is_file():
        return False
    expected = read_sums(sums).get(relative)
    if expected is None:
        return False
    path = raw_dir / relative
    if not path.is_file():
        raise InputError(path, "file not found (it is listed in SHA256SUMS)", "Restore it from git")
    actual = sha256_of(path)
    if actual != expected:
        raise InputError(
            path,
            f"checksum mismatch (sha256 expected {expected[:12]}…, found {actual[:12]}…): "
            "the file was modified or truncated",
            "Restore it from git, or pass --no-verify to read it as it is",
        )
    return True
