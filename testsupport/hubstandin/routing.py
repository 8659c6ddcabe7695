"""Requests and responses as plain values, and the table mapping a method and path to a handler."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

REPO_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
"""URL segment after `/api/` → repository type."""

URL_PREFIXES = {"model": "", "dataset": "datasets/", "space": "spaces/"}
"""Repository type → the prefix of its web, resolve and LFS URLs."""


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    base_url: str
    params: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(
        cls, method: str, target: str, headers: dict[str, str], body: bytes, base_url: str
    ) -> Request:
        parts = urlsplit(target)
        lowered = {k.lower(): v for k, v in headers.items()}
        return cls(method, parts.path, parse_qs(parts.query), lowered, body, base_url)

    def json(self) -> Any:
        return json.loads(self.body or b"{}")

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode())

    def flag(self, name: str) -> bool:
        return self.query.get(name, ["false"])[-1].lower() in ("1", "true")

    @property
    def token(self) -> str | None:
        auth = self.headers.get("authorization", "")
        return auth.removeprefix("Bearer ").strip() or None


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any, **headers: str) -> Response:
        head = {"Content-Type": "application/json", **headers}
        return cls(status, json.dumps(payload).encode(), head)

    @classmethod
    def error(cls, status: int, message: str, code: str | None = None, **headers: str) -> Response:
        extra = {"X-Error-Message": message, **({"X-Error-Code": code} if code else {}), **headers}
        return cls.json(status, {"error": message}, **extra)


Handler = Callable[[Request], Response]


class Router:
    """First matching (method, pattern) wins; named groups become `request.params` (unquoted)."""

    def __init__(self) -> None:
        self.routes: list[tuple[frozenset[str], re.Pattern[str], Handler]] = []

    def add(self, methods: str, pattern: str, handler: Handler) -> None:
        self.routes.append((frozenset(methods.split()), re.compile(pattern + r"\Z"), handler))

    def dispatch(self, request: Request) -> Response:
        for methods, pattern, handler in self.routes:
            match = pattern.match(request.path)
            if match and request.method in methods:
                request.params = {k: unquote(v) for k, v in match.groupdict().items() if v}
                return handler(request)
        return Response.error(404, f"no stand-in route for {request.method} {request.path}")
