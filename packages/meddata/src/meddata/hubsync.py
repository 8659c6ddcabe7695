"""Make a Hub repo hold exactly a set of files, in at most one commit whose message names them.

What huggingface_hub 2.x does itself, read in its source (2.4.0) and relied on here:
- `create_commit` asks the Hub for each file's oid (`preupload`), drops the files the Hub already
  has, and makes no commit at all when nothing is left ("Skipping to prevent empty commit");
- it sends README.md to the Hub's `validate-yaml` before uploading anything (a bad card is a
  ValueError, nothing is uploaded);
- `http_backoff` retries `preupload`, the LFS transfers and paginated listings (`list_repo_tree`):
  5 retries, waits 1 s doubling to 8 s (23 s in all, measured against a closed port), on timeouts,
  network and protocol errors and HTTP 408/429/5xx, honouring Retry-After;
- `utils.sha.git_hash` hashes a file as git does.
What it does not do, and this module does:
- say before committing what will change (the commit title names the files; a dry run lists
  them): that needs the remote tree compared with the local hashes (`plan`);
- delete remote files the local set lacks (here: planned deletions, `.gitattributes` kept);
- retry `repo_info`, `create_repo` and the commit request (measured: a refused connection fails
  `repo_info` at once): the whole attempt is retried and re-planned against the new head, so a
  commit whose answer was lost is found on the next try, never repeated;
- a dry run that works without the Hub (offline, no token): the remote state is read once,
  never retried, and when it cannot be read every file is listed as it would be pushed.

This file and hubplan.py are shipped byte for byte in meddata and medtrain, so that each package
stands alone (testsupport/tests/test_package_boundaries.py fails when the copies differ).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from .hubplan import Changes, Content, FileHash, RepoType, local_hash, plan, remote_state

T = TypeVar("T")

LOGIN_HELP = (
    "no Hugging Face token: run `hf auth login` (or set HF_TOKEN to a write token from "
    "your Hub settings page), then publish again"
)
TRANSIENT_STATUS = frozenset({408, 412, 429, 500, 502, 503, 504})
"""HTTP statuses worth another try (412: the branch moved while we planned; plan again)."""


class HubError(Exception):
    """A publishing failure the user can act on, in one line; `exit_code` 2 for bad input."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def find_token() -> str | None:
    """HF_TOKEN or the saved login (huggingface_hub's lookup); None when there is neither."""
    from huggingface_hub import get_token

    return get_token()


def require_token() -> str:
    """The Hub token; raises before any work when there is none."""
    token = find_token()
    if not token:
        raise HubError(LOGIN_HELP, 2)
    return token


# -- failures ----------------------------------------------------------------------------------


def first_line(err: BaseException) -> str:
    return str(err).splitlines()[0] if str(err) else type(err).__name__


def is_transient(err: BaseException) -> bool:
    """Network trouble or a server-side status: worth another try. Walks the cause chain.

    `huggingface_hub.utils.httpx` is the HTTP library the client runs on (httpx2 in 2.x).
    """
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled
    from huggingface_hub.utils import httpx

    seen: BaseException | None = err
    chain: list[BaseException] = []
    while seen is not None and seen not in chain:
        if isinstance(seen, OfflineModeIsEnabled):
            return False
        if isinstance(seen, HfHubHTTPError) and seen.response is not None:
            return seen.response.status_code in TRANSIENT_STATUS
        if isinstance(seen, httpx.TransportError | TimeoutError):
            return True
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    return False


def as_hub_error(what: str, err: Exception) -> HubError | None:
    """A failure that retrying cannot change, as a one-line HubError naming `what`."""
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    if isinstance(err, OfflineModeIsEnabled):
        return HubError(
            f"{what}: HF_HUB_OFFLINE is set, so nothing can be pushed; unset it to publish, "
            "or pass --dry-run to write the repo folder only",
            2,
        )
    if isinstance(err, ValueError) and isinstance(err.__cause__, HfHubHTTPError):
        # create_commit's validate-yaml: the Hub refused the card (HTTP 400) before any upload
        return HubError(f"{what}: {' '.join(str(err).split())}", 2)
    if not isinstance(err, HfHubHTTPError) or err.response is None:
        return None
    status = err.response.status_code
    hint = " (check the token: `hf auth login` with a write token)" if status in (401, 403) else ""
    return HubError(f"{what}: the Hub refused with HTTP {status}{hint}: {first_line(err)}")


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before giving up on a repo."""

    attempts: int = 4
    """Tries in all, the first one included."""
    first_wait_s: float = 1.0
    """Wait before the second try; doubles each time."""


def with_retries(action: Callable[[], T], what: str, policy: RetryPolicy) -> T:
    """Run `action`, retrying transient failures; then a one-line HubError naming `what`."""
    for attempt in range(1, policy.attempts + 1):
        try:
            return action()
        except Exception as err:
            if not is_transient(err):
                if (hub_error := as_hub_error(what, err)) is None:
                    raise
                raise hub_error from err
            if attempt == policy.attempts:
                raise HubError(
                    f"{what}: the Hub failed {attempt} times ({first_line(err)}); commits are "
                    "atomic, so the repo is not half-updated: run the same command again later"
                ) from err
            time.sleep(policy.first_wait_s * 2 ** (attempt - 1))
    raise AssertionError("unreachable")


# -- publishing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Published:
    """The outcome for one repo."""

    repo_id: str
    changes: Changes
    commit: str | None
    """The new commit; None when nothing changed or on a dry run."""
    folder: Path | None = None
    """Where a dry run wrote the repo folder."""
    unread: str | None = None
    """Why a dry run could not read the repo's state on the Hub (then every file is listed)."""

    def describe(self) -> str:
        """One line, and on a dry run one more line per file."""
        written = f" (repo folder: {self.folder})" if self.folder else ""
        if self.unread is not None:
            head = (
                f"{self.repo_id}: remote state could not be read ({self.unread}); "
                f"would push all {len(self.changes.added)} files"
            )
            return "\n".join([head + written, *(f"  push: {p}" for p in self.changes.added)])
        if not self.changes:
            return f"{self.repo_id}: up to date, no commit{written}"
        done = "would commit" if self.commit is None else f"committed {self.commit[:8]}:"
        line = f"{self.repo_id}: {done} {self.changes.summary()}{written}"
        if self.folder is None:
            return line
        return "\n".join([line, *(f"  {entry}" for entry in self.changes.lines())])


def write_folder(files: Mapping[str, Content], target: Path) -> None:
    """Write the exact repo folder to `target`, renamed into place whole (never half-written)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    previous = staging.with_name(staging.name + "-previous")
    try:
        for path, content in files.items():
            dest = staging / path
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(content.read_bytes() if isinstance(content, Path) else content)
        if target.exists():
            target.rename(previous)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(previous, ignore_errors=True)


@dataclass
class Publisher:
    """Publishes file sets with one token (None: dry runs only), endpoint and retry policy."""

    token: str | None
    endpoint: str | None = None
    """None: the HF_ENDPOINT environment variable, else the public Hub."""
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    def __post_init__(self) -> None:
        from huggingface_hub import HfApi

        self.api = HfApi(endpoint=self.endpoint, token=self.token or False)

    def dry_run(
        self, repo_id: str, repo_type: RepoType, files: Mapping[str, Content], out: Path
    ) -> Published:
        """Write the repo folder to `out/<name>` and compare it with the Hub, read once."""
        local = {path: local_hash(content) for path, content in sorted(files.items())}
        folder = out / repo_id.split("/")[-1]
        write_folder(files, folder)
        unread = None if self.token else "no Hub token; `hf auth login` to compare"
        remote: dict[str, FileHash] = {}
        if unread is None:
            try:
                _, remote = remote_state(self.api, repo_id, repo_type)
            except Exception as err:
                if not is_transient(err) and as_hub_error(repo_id, err) is None:
                    raise
                unread = first_line(err)
        changes = Changes(added=sorted(local)) if unread else plan(local, remote)
        return Published(repo_id, changes, None, folder, unread)

    def publish(
        self, repo_id: str, repo_type: RepoType, files: Mapping[str, Content], private: bool
    ) -> Published:
        """Make `repo_id` hold exactly `files` (plus Hub-managed files), in at most one commit."""
        local = {path: local_hash(content) for path, content in sorted(files.items())}
        return with_retries(
            lambda: self._attempt(repo_id, repo_type, files, local, private), repo_id, self.retry
        )

    def _attempt(
        self,
        repo_id: str,
        repo_type: RepoType,
        files: Mapping[str, Content],
        local: dict[str, FileHash],
        private: bool,
    ) -> Published:
        """One try, planned from the Hub's current state: safe to repeat after any failure."""
        from huggingface_hub import CommitOperationAdd, CommitOperationDelete

        self.api.create_repo(repo_id, repo_type=repo_type, private=private, exist_ok=True)
        head, remote = remote_state(self.api, repo_id, repo_type)
        changes = plan(local, remote)
        if not changes:
            return Published(repo_id, changes, None)
        operations: list[Any] = [
            CommitOperationAdd(path, files[path]) for path in changes.added + changes.changed
        ]
        operations += [CommitOperationDelete(path) for path in changes.deleted]
        info = self.api.create_commit(
            repo_id,
            operations,
            commit_message=changes.summary(),
            commit_description="\n".join(changes.lines()),
            repo_type=repo_type,
            parent_commit=head,
        )
        return Published(repo_id, changes, info.oid)
