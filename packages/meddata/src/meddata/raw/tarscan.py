"""A fast walk over the regular files of an in-memory tar, for archives of many small members.

`tarfile` builds a TarInfo per member through several Python calls, which dominates reading an
archive of thousands of small files. This walk reads only the name, size and type of each
ustar/GNU header. Anything it does not handle exactly as `tarfile` does (long-name or pax
headers, sparse files, base-256 sizes, a bad checksum, data running past the end) makes it
return None, so the caller can hand the archive to `tarfile` and get its results and errors.
"""

from __future__ import annotations

import tarfile

BLOCK = 512
EMPTY_BLOCK = bytes(BLOCK)
FILE_TYPES = frozenset({b"0", b"\0", b"7"})
"""`tarfile`'s regular-file types, whose data follows the header."""
OTHER_TYPES = frozenset({b"1", b"2", b"3", b"4", b"5", b"6"})
"""Links, devices, folders and fifos: no data blocks, nothing to read."""
KNOWN_TYPES = FILE_TYPES | OTHER_TYPES


def tar_files(data: bytes) -> list[tuple[str, bytes]] | None:
    """`(name, contents)` of every regular file in archive order, or None to defer to tarfile."""
    files: list[tuple[str, bytes]] = []
    view = memoryview(data)
    end = len(data)
    offset = 0
    while offset + BLOCK <= end:
        header = data[offset : offset + BLOCK]
        if header == EMPTY_BLOCK:
            return files if offset else None
        kind = header[156:157]
        size = _octal(header[124:136])
        if size is None or not _checksum_ok(header) or kind not in KNOWN_TYPES:
            return None
        name = _text(header[0:100])
        if kind == b"\0" and name.endswith("/"):
            kind = b"5"
        if kind == b"5":
            name = name.rstrip("/")
        prefix = _text(header[345:500])
        if prefix:
            name = f"{prefix}/{name}"
        offset += BLOCK
        if kind in FILE_TYPES:
            padded = -(-size // BLOCK) * BLOCK
            if offset + padded > end:
                return None
            files.append((name, bytes(view[offset : offset + size])))
            offset += padded
    return files if offset and offset == end else None


def _octal(field: bytes) -> int | None:
    """A header number as `tarfile` reads it; None for base-256 or unreadable values."""
    if field[:1] in (b"\x80", b"\xff"):
        return None
    digits = field.split(b"\0", 1)[0].strip()
    try:
        return int(digits or b"0", 8)
    except ValueError:
        return None


def _checksum_ok(header: bytes) -> bool:
    stored = _octal(header[148:156])
    return stored == sum(header[:148]) + 8 * 32 + sum(header[156:])


def _text(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode(tarfile.ENCODING, "surrogateescape")
