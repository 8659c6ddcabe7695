"""What a publish changes in a Hub repo: local hashes against the repo's tree, by path.

huggingface_hub's `create_commit` also drops unchanged files, but only while committing, with a
commit message fixed beforehand; this plan comes first, so the commit title can name the files
and a dry run can list them. Hashes are the Hub's: `utils.sha.git_hash`, and sha256 for LFS.
Shipped byte for byte in meddata and medtrain, like hubsync.py.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

RepoType = Literal["dataset", "model"]
Content = Path | bytes
"""A file to publish: a local file, or bytes made at publish time (a model card)."""
HUB_MANAGED = frozenset({".gitattributes"})
"""Files the Hub creates itself: never deleted because the local set lacks them."""


@dataclass(frozen=True)
class FileHash:
    """How the Hub identifies a file: git blob sha1, and sha256 for LFS-stored files."""

    git_oid: str
    sha256: str | None


def local_hash(content: Content) -> FileHash:
    from huggingface_hub.utils.sha import git_hash

    data = content.read_bytes() if isinstance(content, Path) else content
    return FileHash(git_hash(data), hashlib.sha256(data).hexdigest())


def same(local: FileHash, remote: FileHash) -> bool:
    """LFS files compare by sha256 (their git oid is the pointer's); others by git oid."""
    if remote.sha256 is not None:
        return local.sha256 == remote.sha256
    return local.git_oid == remote.git_oid


@dataclass(frozen=True)
class Changes:
    """What a publish changes in a repo, by path."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.deleted)

    def lines(self) -> list[str]:
        marks = (("added", self.added), ("changed", self.changed), ("deleted", self.deleted))
        return [f"{mark}: {path}" for mark, paths in marks for path in paths]

    def summary(self) -> str:
        """The commit title: the file names when short, else counts."""
        verbs = (("Add", self.added), ("Update", self.changed), ("Delete", self.deleted))
        named = "; ".join(f"{verb} {', '.join(paths)}" for verb, paths in verbs if paths)
        if len(named) <= 100:
            return named or "No change"
        return "; ".join(f"{verb} {len(paths)} files" for verb, paths in verbs if paths)


def plan(local: Mapping[str, FileHash], remote: Mapping[str, FileHash]) -> Changes:
    return Changes(
        added=sorted(p for p in local if p not in remote),
        changed=sorted(p for p in local if p in remote and not same(local[p], remote[p])),
        deleted=sorted(p for p in remote if p not in local and p not in HUB_MANAGED),
    )


def remote_state(
    api: Any, repo_id: str, repo_type: RepoType
) -> tuple[str | None, dict[str, FileHash]]:
    """Head commit and file hashes of the repo; (None, {}) when it does not exist yet."""
    from huggingface_hub.errors import RepositoryNotFoundError
    from huggingface_hub.hf_api import RepoFile

    try:
        head = api.repo_info(repo_id, repo_type=repo_type).sha
    except RepositoryNotFoundError:
        return None, {}
    tree = api.list_repo_tree(repo_id, repo_type=repo_type, revision=head, recursive=True)
    return head, {
        entry.path: FileHash(entry.blob_id, entry.lfs.sha256 if entry.lfs else None)
        for entry in tree
        if isinstance(entry, RepoFile)
    }
