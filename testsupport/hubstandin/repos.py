"""The repository API: create, info, tree, paths-info, commits, preupload, commit and validate-yaml.

JSON shapes follow what `huggingface_hub` parses (`RepoFile`, `DatasetInfo`, `GitCommitInfo`, ...).
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import yaml

from .routing import REPO_TYPES, URL_PREFIXES, Request, Response, Router
from .storage import Blob, Commit, Repo, Store

REPO = r"/api/(?P<kind>models|datasets|spaces)/(?P<repo>[^/]+/[^/]+)"
REV = r"(?P<rev>[^/]+)"


def _iso(commit: Commit) -> str:
    return commit.date.isoformat().replace("+00:00", "Z")


def front_matter(text: str) -> Any:
    """The YAML block that opens a README, or None when there is none."""
    if not text.startswith("---"):
        return None
    end = text.find("\n---", 3)
    return yaml.safe_load(text[3:end]) if end > 0 else None


def file_entry(path: str, blob: Blob, commit: Commit | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": "file", "oid": blob.oid, "size": len(blob.data), "path": path}
    if blob.lfs_sha256 is not None:
        entry["lfs"] = {
            "oid": blob.lfs_sha256,
            "size": len(blob.data),
            "pointerSize": len(blob.pointer),
        }
    if commit is not None:
        entry["lastCommit"] = {"id": commit.oid, "title": commit.title, "date": _iso(commit)}
    return entry


def folder_entry(path: str, files: dict[str, Blob], commit: Commit | None) -> dict[str, Any]:
    children = sorted(f"{p}:{b.oid}" for p, b in files.items() if p.startswith(path + "/"))
    oid = hashlib.sha1("\n".join(children).encode()).hexdigest()
    entry: dict[str, Any] = {"type": "directory", "oid": oid, "size": 0, "path": path}
    if commit is not None:
        entry["lastCommit"] = {"id": commit.oid, "title": commit.title, "date": _iso(commit)}
    return entry


def _folders(paths: list[str]) -> set[str]:
    return {p.rsplit("/", i)[0] for p in paths for i in range(1, p.count("/") + 1)}


class RepoApi:
    """Handlers for the `/api/...` routes, sharing one store and the set of accepted tokens."""

    def __init__(self, store: Store, tokens: set[str]) -> None:
        self.store = store
        self.tokens = tokens

    def register(self, router: Router) -> None:
        router.add("POST", r"/api/repos/create", self.create)
        router.add("POST", r"/api/validate-yaml", self.validate_yaml)
        router.add("POST", REPO + r"/preupload/" + REV, self.preupload)
        router.add("POST", REPO + r"/commit/" + REV, self.commit)
        router.add("GET", REPO + r"/tree/" + REV + r"(?:/(?P<path>.*))?", self.tree)
        router.add("POST", REPO + r"/paths-info/" + REV, self.paths_info)
        router.add("GET", REPO + r"/commits/" + REV, self.commits)
        router.add("GET", REPO + r"(?:/revision/" + REV + ")?", self.info)

    # -- access -------------------------------------------------------------------------------

    def authorized(self, request: Request) -> bool:
        return request.token in self.tokens

    def readable(self, request: Request) -> tuple[Repo, Commit] | Response:
        """The repository and revision a read names, or the error the Hub answers."""
        repo = self.store.get(REPO_TYPES[request.params["kind"]], request.params["repo"])
        if repo is None or (repo.private and not self.authorized(request)):
            return Response.error(401, "Repository not found", "RepoNotFound")
        commit = repo.find_commit(request.params.get("rev", "main"))
        if commit is None:
            return Response.error(404, "Invalid rev id", "RevisionNotFound")
        return repo, commit

    def writable(self, request: Request) -> Repo | Response:
        if not self.authorized(request):
            return Response.error(401, "Invalid credentials in Authorization header")
        repo = self.store.get(REPO_TYPES[request.params["kind"]], request.params["repo"])
        if repo is None:
            return Response.error(404, "Repository not found", "RepoNotFound")
        return repo

    # -- handlers -----------------------------------------------------------------------------

    def create(self, request: Request) -> Response:
        if not self.authorized(request):
            return Response.error(401, "Invalid credentials in Authorization header")
        body = request.json()
        repo_type = body.get("type") or "model"
        repo_id = f"{body['organization'] or 'standin-user'}/{body['name']}"
        repo, created = self.store.create(repo_type, repo_id, body.get("visibility") == "private")
        url = f"{request.base_url}/{URL_PREFIXES[repo_type]}{repo.repo_id}"
        if not created:
            return Response.json(409, {"error": "You already created this repo", "url": url})
        return Response.json(200, {"url": url, "name": repo.repo_id, "id": repo.repo_id})

    def validate_yaml(self, request: Request) -> Response:
        try:
            metadata = front_matter(request.json().get("content", ""))
        except yaml.YAMLError as err:
            return Response.json(400, {"errors": [{"message": f"invalid YAML: {err}"}]})
        if metadata is not None and not isinstance(metadata, dict):
            return Response.json(400, {"errors": [{"message": "metadata must be a mapping"}]})
        return Response.json(200, {"errors": [], "warnings": []})

    def info(self, request: Request) -> Response:
        found = self.readable(request)
        if isinstance(found, Response):
            return found
        repo, commit = found
        blobs = request.flag("blobs")
        siblings = []
        for path, blob in sorted(commit.files.items()):
            sibling: dict[str, Any] = {"rfilename": path}
            if blobs:
                sibling.update(size=len(blob.data), blobId=blob.oid)
                if blob.lfs_sha256:
                    sibling["lfs"] = {
                        "size": len(blob.data),
                        "sha256": blob.lfs_sha256,
                        "pointerSize": len(blob.pointer),
                    }
            siblings.append(sibling)
        readme = commit.files.get("README.md")
        card = front_matter(readme.data.decode()) if readme else None
        payload = {
            "_id": repo.repo_id,
            "id": repo.repo_id,
            "author": repo.repo_id.split("/")[0],
            "sha": commit.oid,
            "private": repo.private,
            "gated": False,
            "disabled": False,
            "downloads": 0,
            "likes": 0,
            "tags": [],
            "createdAt": repo.created.isoformat().replace("+00:00", "Z"),
            "lastModified": _iso(commit),
            "cardData": card if isinstance(card, dict) else None,
            "siblings": siblings,
        }
        return Response.json(200, payload)

    def tree(self, request: Request) -> Response:
        found = self.readable(request)
        if isinstance(found, Response):
            return found
        _, commit = found
        base = request.params.get("path", "").strip("/")
        last = commit if request.flag("expand") else None
        under = [p for p in commit.files if not base or p.startswith(base + "/")]
        if base and not under:
            if base in commit.files:
                return Response.json(200, [file_entry(base, commit.files[base], last)])
            return Response.error(404, f"{base} does not exist", "EntryNotFound")
        depth = base.count("/") + 1 if base else 0
        if request.flag("recursive"):
            files, folders = (
                under,
                {f for f in _folders(under) if not base or f.startswith(base + "/")},
            )
        else:
            files = [p for p in under if p.count("/") == depth]
            folders = {p.split("/")[depth] for p in under if p.count("/") > depth}
            folders = {f"{base}/{f}" if base else f for f in folders}
        entries = [folder_entry(f, commit.files, last) for f in sorted(folders)]
        entries += [file_entry(p, commit.files[p], last) for p in sorted(files)]
        return Response.json(200, entries)

    def paths_info(self, request: Request) -> Response:
        found = self.readable(request)
        if isinstance(found, Response):
            return found
        _, commit = found
        form = request.form()
        last = commit if form.get("expand", ["False"])[-1].lower() == "true" else None
        folders = _folders(list(commit.files))
        entries = []
        for path in (p.strip("/") for p in form.get("paths", [])):
            if path in commit.files:
                entries.append(file_entry(path, commit.files[path], last))
            elif path in folders:
                entries.append(folder_entry(path, commit.files, last))
        return Response.json(200, entries)

    def commits(self, request: Request) -> Response:
        found = self.readable(request)
        if isinstance(found, Response):
            return found
        repo, head = found
        history = repo.commits[: repo.commits.index(head) + 1]
        return Response.json(
            200,
            [
                {
                    "id": c.oid,
                    "title": c.title,
                    "message": c.message,
                    "authors": [{"user": "standin-user"}],
                    "date": _iso(c),
                }
                for c in reversed(history)
            ],
        )

    def preupload(self, request: Request) -> Response:
        repo = self.writable(request)
        if isinstance(repo, Response):
            return repo
        head = repo.head
        answers = []
        for file in request.json().get("files", []):
            lfs = repo.is_lfs(file["path"], int(file["size"]))
            existing = head.files.get(file["path"])
            oid = None
            if existing is not None:
                oid = existing.lfs_sha256 if existing.lfs_sha256 else existing.oid
            answers.append(
                {
                    "path": file["path"],
                    "uploadMode": "lfs" if lfs else "regular",
                    "shouldIgnore": False,
                    "oid": oid,
                }
            )
        return Response.json(200, {"files": answers, "commitOid": head.oid})

    def commit(self, request: Request) -> Response:
        repo = self.writable(request)
        if isinstance(repo, Response):
            return repo
        lines = [json.loads(line) for line in request.body.splitlines() if line.strip()]
        header: dict[str, Any] = next(
            (line["value"] for line in lines if line["key"] == "header"), {}
        )
        files = dict(repo.head.files)
        for line in lines:
            key, value = line["key"], line["value"]
            path = value.get("path", "")
            if key == "file":
                files[path] = Blob(base64.b64decode(value["content"]))
            elif key == "lfsFile":
                if not self.store.has_lfs(value["oid"], value.get("size")):
                    return Response.error(422, f"LFS object {value['oid']} was never uploaded")
                files[path] = Blob(self.store.lfs_data(value["oid"]), value["oid"])
            elif key == "deletedFile":
                if files.pop(path, None) is None:
                    return Response.error(
                        404, "A file with this name doesn't exist", "EntryNotFound"
                    )
            elif key == "deletedFolder":
                files = {p: b for p, b in files.items() if not p.startswith(path.rstrip("/") + "/")}
        made = self.store.commit(
            repo,
            header.get("parentCommit"),
            header.get("summary", ""),
            header.get("description", ""),
            files,
        )
        if made is None:
            return Response.error(412, "A commit has happened since. Please refresh and try again.")
        url = f"{request.base_url}/{URL_PREFIXES[repo.repo_type]}{repo.repo_id}/commit/{made.oid}"
        return Response.json(
            200,
            {"success": True, "commitOid": made.oid, "commitUrl": url, "pullRequestUrl": None},
        )
