from __future__ import annotations

import io
import tarfile

import pytest

from meddata.raw.tarscan import tar_files

DEEP = "/".join(["folder"] * 20)
"""A 139-character path: ustar keeps it in the prefix field, GNU in a long-name header."""


def build(members: dict[str, bytes | None], tar_format: int = tarfile.USTAR_FORMAT) -> bytes:
    """An uncompressed tar; a None value makes a folder."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tar_format) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def with_tarfile(data: bytes) -> list[tuple[str, bytes]]:
    files = []
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar:
            handle = tar.extractfile(member) if member.isfile() else None
            if handle is not None:
                files.append((member.name, handle.read()))
    return files


@pytest.mark.parametrize("tar_format", [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT])
def test_files_match_tarfile(tar_format: int) -> None:
    data = build(
        {
            "./": None,
            "./a": None,
            "./a/one.xml": b"<a>1</a>",
            "./a/empty.xml": b"",
            "./a/block.bin": bytes(range(256)) * 2,
            f"{DEEP[:90]}/p.xml": b"<p/>",
        },
        tar_format,
    )

    files = tar_files(data)

    assert files == with_tarfile(data)
    assert [name for name, _ in files or []] == [
        "./a/one.xml",
        "./a/empty.xml",
        "./a/block.bin",
        f"{DEEP[:90]}/p.xml",
    ]


def test_ustar_prefix_is_joined_like_tarfile() -> None:
    data = build({f"{DEEP}/deep.xml": b"<d/>"})

    assert tar_files(data) == [(f"{DEEP}/deep.xml", b"<d/>")] == with_tarfile(data)


def test_links_are_skipped_without_reading_data() -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        link = tarfile.TarInfo("link.xml")
        link.type, link.linkname = tarfile.SYMTYPE, "real.xml"
        tar.addfile(link)
        real = tarfile.TarInfo("real.xml")
        real.size = 3
        tar.addfile(real, io.BytesIO(b"abc"))

    assert tar_files(buffer.getvalue()) == [("real.xml", b"abc")]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(build({f"{DEEP}x/long.xml": b"x"}, tarfile.GNU_FORMAT), id="gnu-long-name"),
        pytest.param(build({"é.xml": b"x"}, tarfile.PAX_FORMAT), id="pax-header"),
        pytest.param(build({"a.xml": b"x" * 600})[:1200], id="data-past-the-end"),
        pytest.param(build({"a.xml": b"x"})[:1124], id="truncated-header"),
        pytest.param(b"\0" * 1024, id="only-end-blocks"),
        pytest.param(b"not a tar at all", id="too-short"),
        pytest.param(b"x" * 512 + b"\0" * 1024, id="bad-checksum"),
    ],
)
def test_unusual_or_broken_archives_are_left_to_tarfile(data: bytes) -> None:
    assert tar_files(data) is None
