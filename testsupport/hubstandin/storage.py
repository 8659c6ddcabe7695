"""What the stand-in Hub remembers: repositories as chains of immutable commits, and LFS objects.

Git object ids are computed as git computes them (`blob <size>\\0<content>`), and LFS files are
stored as their pointer in the tree, so a client comparing hashes sees what the real Hub shows.
"""

from __future__ import annotations

import fnmatch
import hashlib
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone

_LFS_PATTERNS = """
    *.7z *.arrow *.bin *.bz2 *.ckpt *.ftz *.gz *.h5 *.joblib *.lfs *.mlmodel *.model *.msgpack
    *.npy *.npz *.onnx *.ot *.parquet *.pb *.pickle *.pkl *.pt *.pth *.rar *.safetensors
    saved_model/**/* *.tar.* *.tar *.tflite *.tgz *.wasm *.xz *.zip *.zst *tfevents* *.jpg
    *.jpeg *.png *.webp *.mp3 *.ogg *.wav
"""
DEFAULT_GITATTRIBUTES = "".join(
    f"{p} filter=lfs diff=lfs merge=lfs -text\n" for p in _LFS_PATTERNS.split()
)
"""The `.gitattributes` of the initial commit: which paths are stored with LFS."""

LFS_SIZE_THRESHOLD = 10 * 1024 * 1024
"""Files at least this large go to LFS whatever their name, as on the Hub."""


def git_blob_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    return (
        f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()
    )


@dataclass(frozen=True)
class Blob:
    """One file of a commit: its bytes, git oid (of the pointer for LFS files) and LFS sha256."""

    data: bytes
    lfs_sha256: str | None = None

    @property
    def oid(self) -> str:
        if self.lfs_sha256 is None:
            return git_blob_oid(self.data)
        return git_blob_oid(self.pointer)

    @property
    def pointer(self) -> bytes:
        return lfs_pointer(self.lfs_sha256 or "", len(self.data))


@dataclass(frozen=True)
class Commit:
    """A snapshot of the whole tree, with who it follows and what it says."""

    oid: str
    parent: str | None
    title: str
    message: str
    date: datetime
    files: dict[str, Blob]


@dataclass
class Repo:
    """A repository with one branch, `main`."""

    repo_type: str
    repo_id: str
    private: bool
    created: datetime
    commits: list[Commit] = field(default_factory=list)

    @property
    def head(self) -> Commit:
        return self.commits[-1]

    def find_commit(self, revision: str) -> Commit | None:
        if revision == "main":
            return self.head
        return next((c for c in self.commits if c.oid == revision), None)

    def lfs_patterns(self) -> list[str]:
        attributes = self.head.files.get(".gitattributes")
        text = attributes.data.decode() if attributes else ""
        return [line.split()[0] for line in text.splitlines() if "filter=lfs" in line]

    def is_lfs(self, path: str, size: int) -> bool:
        name = path.rsplit("/", 1)[-1]
        matches = any(
            fnmatch.fnmatch(name, p) or fnmatch.fnmatch(path, p) for p in self.lfs_patterns()
        )
        return matches or size >= LFS_SIZE_THRESHOLD


def now() -> datetime:
    return datetime.now(timezone.utc)


class Store:
    """All repositories and LFS objects; every method is safe to call from many request threads."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.repos: dict[tuple[str, str], Repo] = {}
        self.lfs_objects: dict[str, bytes] = {}

    def get(self, repo_type: str, repo_id: str) -> Repo | None:
        with self.lock:
            return self.repos.get((repo_type, repo_id))

    def create(self, repo_type: str, repo_id: str, private: bool) -> tuple[Repo, bool]:
        """The repository, and whether it was created now (False: it already existed)."""
        with self.lock:
            existing = self.repos.get((repo_type, repo_id))
            if existing is not None:
                return existing, False
            repo = Repo(repo_type, repo_id, private, now())
            initial = {".gitattributes": Blob(DEFAULT_GITATTRIBUTES.encode())}
            repo.commits.append(self._commit(None, "initial commit", "", initial))
            self.repos[(repo_type, repo_id)] = repo
            return repo, True

    def commit(
        self, repo: Repo, parent: str | None, title: str, message: str, files: dict[str, Blob]
    ) -> Commit | None:
        """Append a commit; None when `parent` is given and is no longer the head."""
        with self.lock:
            if parent is not None and parent != repo.head.oid:
                return None
            new = self._commit(repo.head.oid, title, message, files)
            repo.commits.append(new)
            return new

    def _commit(
        self, parent: str | None, title: str, message: str, files: dict[str, Blob]
    ) -> Commit:
        stamp = now()
        digest = hashlib.sha1()
        for part in (parent or "", title, message, stamp.isoformat()):
            digest.update(part.encode() + b"\0")
        for path in sorted(files):
            digest.update(path.encode() + b"\0" + files[path].oid.encode())
        return Commit(digest.hexdigest(), parent, title, message, stamp, dict(files))

    def put_lfs(self, sha256: str, data: bytes) -> bool:
        """Keep an uploaded object; False when the bytes do not hash to `sha256`."""
        if hashlib.sha256(data).hexdigest() != sha256:
            return False
        with self.lock:
            self.lfs_objects[sha256] = data
        return True

    def has_lfs(self, sha256: str, size: int | None = None) -> bool:
        with self.lock:
            data = self.lfs_objects.get(sha256)
        return data is not None and (size is None or len(data) == size)

    def lfs_data(self, sha256: str) -> bytes:
        with self.lock:
            return self.lfs_objects[sha256]
