"""`resolve`: file downloads with the headers `hf_hub_download` reads, and HTTP range reads."""

from __future__ import annotations

import re

from .routing import REPO_TYPES, Request, Response, Router
from .storage import Store

RESOLVE = (
    r"/(?:(?P<prefix>datasets|spaces)/)?(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<path>.+)"
)
RANGE = re.compile(r"bytes=(\d*)-(\d*)\Z")


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """Inclusive (start, end) of a `Range: bytes=...` header; None when it cannot be served."""
    match = RANGE.match(header or "")
    if match is None or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":
        start, end = max(size - int(last), 0), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    return (start, end) if start <= end and start < size else None


class FileApi:
    """Serves file contents of any revision, honouring private repositories and ranges."""

    def __init__(self, store: Store, tokens: set[str]) -> None:
        self.store = store
        self.tokens = tokens

    def register(self, router: Router) -> None:
        router.add("GET HEAD", RESOLVE, self.resolve)

    def resolve(self, request: Request) -> Response:
        repo_type = REPO_TYPES[request.params.get("prefix", "models")]
        repo = self.store.get(repo_type, request.params["repo"])
        if repo is None or (repo.private and request.token not in self.tokens):
            return Response.error(401, "Repository not found", "RepoNotFound")
        commit = repo.find_commit(request.params["rev"])
        if commit is None:
            return Response.error(404, "Invalid rev id", "RevisionNotFound")
        blob = commit.files.get(request.params["path"])
        if blob is None:
            return Response.error(
                404, "Entry not found", "EntryNotFound", **{"X-Repo-Commit": commit.oid}
            )
        size = len(blob.data)
        headers = {
            "X-Repo-Commit": commit.oid,
            "ETag": f'"{blob.oid}"',
            "Accept-Ranges": "bytes",
            "Content-Type": "application/octet-stream",
        }
        if blob.lfs_sha256 is not None:
            headers.update({"X-Linked-Etag": f'"{blob.lfs_sha256}"', "X-Linked-Size": str(size)})
        if "range" not in request.headers:
            return Response(200, blob.data, headers)
        span = byte_range(request.headers["range"], size)
        if span is None:
            return Response(416, b"", {**headers, "Content-Range": f"bytes */{size}"})
        start, end = span
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        return Response(206, blob.data[start : end + 1], headers)
