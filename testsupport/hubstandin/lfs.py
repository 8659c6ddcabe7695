"""The LFS protocol as the Hub speaks it: batch (what to upload where), upload (PUT) and verify."""

from __future__ import annotations

from typing import Any

from .routing import REPO_TYPES, Request, Response, Router
from .storage import Store

BATCH = r"/(?:(?P<prefix>datasets|spaces)/)?(?P<repo>[^/]+/[^/]+)\.git/info/lfs/objects/batch"
LFS_JSON = "application/vnd.git-lfs+json"


class LfsApi:
    """Uploads go to `/lfs-upload/<oid>` on this server; objects are checked by their sha256."""

    def __init__(self, store: Store, tokens: set[str]) -> None:
        self.store = store
        self.tokens = tokens

    def register(self, router: Router) -> None:
        router.add("POST", BATCH, self.batch)
        router.add("PUT", r"/lfs-upload/(?P<oid>[0-9a-f]{64})", self.upload)
        router.add("POST", r"/lfs-verify/(?P<oid>[0-9a-f]{64})", self.verify)

    def batch(self, request: Request) -> Response:
        if request.token not in self.tokens:
            return Response.error(401, "Invalid credentials in Authorization header")
        repo_type = REPO_TYPES[request.params.get("prefix", "models")]
        if self.store.get(repo_type, request.params["repo"]) is None:
            return Response.error(404, "Repository not found", "RepoNotFound")
        objects = []
        for item in request.json().get("objects", []):
            answer: dict[str, Any] = {"oid": item["oid"], "size": item["size"]}
            if not self.store.has_lfs(item["oid"], item["size"]):
                answer["authenticated"] = True
                answer["actions"] = {
                    "upload": {"href": f"{request.base_url}/lfs-upload/{item['oid']}"},
                    "verify": {"href": f"{request.base_url}/lfs-verify/{item['oid']}"},
                }
            objects.append(answer)
        return Response.json(
            200, {"transfer": "basic", "objects": objects}, **{"Content-Type": LFS_JSON}
        )

    def upload(self, request: Request) -> Response:
        if not self.store.put_lfs(request.params["oid"], request.body):
            return Response.error(400, "uploaded bytes do not match the announced sha256")
        return Response(200)

    def verify(self, request: Request) -> Response:
        body = request.json()
        if not self.store.has_lfs(request.params["oid"], body.get("size")):
            return Response.error(404, "object not found")
        return Response.json(200, {"message": "Object verified"})
