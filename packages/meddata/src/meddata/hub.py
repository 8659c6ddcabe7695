"""Publishing a folder to the Hugging Face Hub, shared by dataset and adapter publishing.

Three promises: the token is looked up before any work and never shown; a repo gets a commit only
when a file's hash differs from the Hub's (and its message says which files); network failures are
retried with backoff and then reported naming the repo, with nothing half-written on disk.
The client library checks card metadata little before upload, so `check_card` does it here.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml

from meddata.atomic import staged_dir, swap_in

RepoType = Literal["dataset", "model"]
Content = Path | bytes
"""A file to publish: a local file, or bytes made at publish time (a model card)."""

T = TypeVar("T")

LOGIN_HELP = (
    "no Hugging Face token: run `hf auth login` (or set HF_TOKEN to a write token from "
    "your Hub settings page), then publish again"
)

_HUB_LICENSES = """
    apache-2.0 mit openrail bigscience-openrail-m creativeml-openrail-m
    bigscience-bloom-rail-1.0 bigcode-openrail-m afl-3.0 artistic-2.0 bsl-1.0 bsd bsd-2-clause
    bsd-3-clause bsd-3-clause-clear c-uda cc cc0-1.0 cc-by-2.0 cc-by-2.5 cc-by-3.0 cc-by-4.0
    cc-by-sa-3.0 cc-by-sa-4.0 cc-by-nc-2.0 cc-by-nc-3.0 cc-by-nc-4.0 cc-by-nd-4.0
    cc-by-nc-nd-3.0 cc-by-nc-nd-4.0 cc-by-nc-sa-2.0 cc-by-nc-sa-3.0 cc-by-nc-sa-4.0
    cdla-sharing-1.0 cdla-permissive-1.0 cdla-permissive-2.0 wtfpl ecl-2.0 epl-1.0 epl-2.0
    etalab-2.0 eupl-1.1 eupl-1.2 agpl-3.0 gfdl gpl gpl-2.0 gpl-3.0 lgpl lgpl-2.1 lgpl-3.0 isc
    h-research intel-research lppl-1.3c ms-pl apple-ascl apple-amlr mpl-2.0 odc-by odbl
    openrail++ osl-3.0 postgresql ofl-1.1 ncsa unlicense zlib pddl lgpl-lr deepfloyd-if-license
    llama2 llama3 llama3.1 llama3.2 llama3.3 llama4 gemma unknown other
"""
LICENSES = frozenset(_HUB_LICENSES.split())
"""License identifiers the Hub accepts in card metadata."""

SIZE_CATEGORIES = frozenset(
    ["n<1K", "1K<n<10K", "10K<n<100K", "100K<n<1M", "1M<n<10M", "10M<n<100M", "100M<n<1B"]
)
REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+\Z")
LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]+)*\Z")

REQUIRED: dict[RepoType, tuple[str, ...]] = {
    "dataset": ("license", "language", "task_categories", "size_categories", "configs"),
    "model": ("license", "base_model", "library_name", "datasets"),
}
"""Card metadata fields a repo of each type must have."""

HUB_MANAGED = frozenset({".gitattributes"})
"""Files the Hub creates itself: never deleted because the local folder lacks them."""

TRANSIENT_STATUS = frozenset({408, 412, 429, 500, 502, 503, 504})
"""HTTP statuses worth another try (412: the branch moved while we planned; plan again)."""


class HubError(Exception):
    """A publishing failure the user can act on, in one line; `exit_code` 2 for bad input."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def require_token() -> str:
    """The Hub token (HF_TOKEN or the saved login); raises before any work when there is none."""
    try:
        from huggingface_hub import get_token
    except ImportError as err:
        raise HubError("huggingface_hub is not installed: pip install 'meddata[hub]'", 2) from err
    token = get_token()
    if not token:
        raise HubError(LOGIN_HELP, 2)
    return token


# -- card metadata ---------------------------------------------------------------------------


def card_metadata(readme: str) -> dict[str, Any]:
    """The YAML header of a card (empty when it has none)."""
    if not readme.startswith("---"):
        return {}
    end = readme.find("\n---", 3)
    if end < 0:
        raise ValueError("the YAML header opened by `---` is never closed")
    loaded = yaml.safe_load(readme[3:end])
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ValueError("the YAML header is not a mapping")
    return loaded


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _license_problems(meta: dict[str, Any]) -> list[str]:
    bad = [str(v) for v in _as_list(meta["license"]) if v not in LICENSES]
    problems = [f"license {', '.join(bad)} is not a Hub license identifier"] if bad else []
    if "other" in _as_list(meta["license"]) and not {"license_name", "license_link"} <= set(meta):
        problems.append("license `other` needs license_name and license_link")
    return problems


def _dataset_problems(meta: dict[str, Any], files: set[str]) -> list[str]:
    problems = []
    bad_lang = [str(v) for v in _as_list(meta["language"]) if not LANGUAGE.match(str(v))]
    if bad_lang:
        problems.append(f"language {', '.join(bad_lang)} is not an ISO 639 code")
    bad_size = [str(v) for v in _as_list(meta["size_categories"]) if v not in SIZE_CATEGORIES]
    if bad_size:
        problems.append(f"size_categories {', '.join(bad_size)} is not a Hub size category")
    for config in _as_list(meta["configs"]):
        data_files = config.get("data_files", []) if isinstance(config, dict) else []
        if not data_files:
            problems.append("every configs entry needs config_name and data_files")
        for entry in _as_list(data_files):
            pattern = entry.get("path", "") if isinstance(entry, dict) else str(entry)
            if not any(Path(f).match(pattern) for f in files):
                problems.append(f"configs data_files {pattern!r} matches no file")
    return problems


def _model_problems(meta: dict[str, Any]) -> list[str]:
    problems = []
    bad_base = [str(v) for v in _as_list(meta["base_model"]) if not REPO_ID.match(str(v))]
    if bad_base:
        problems.append(f"base_model {', '.join(bad_base)} is not a Hub model id (namespace/name)")
    if meta["library_name"] != "peft":
        problems.append("library_name must be `peft` for an adapter")
    bad_data = [str(v) for v in _as_list(meta["datasets"]) if not REPO_ID.match(str(v))]
    if bad_data:
        problems.append(f"datasets {', '.join(bad_data)} are not Hub dataset ids")
    return problems


def check_card(readme: str, repo_type: RepoType, files: set[str]) -> dict[str, Any]:
    """The card's metadata; raises naming every problem (`files`: paths in the repo folder)."""
    try:
        meta = card_metadata(readme)
    except (ValueError, yaml.YAMLError) as err:
        raise ValueError(f"README.md: {err}") from err
    missing = [name for name in REQUIRED[repo_type] if meta.get(name) in (None, "", [])]
    if missing:
        raise ValueError(f"README.md metadata lacks {', '.join(missing)}")
    problems = _license_problems(meta)
    if repo_type == "dataset":
        problems += _dataset_problems(meta, files)
    else:
        problems += _model_problems(meta)
    if problems:
        raise ValueError(f"README.md metadata: {'; '.join(problems)}")
    return meta


# -- hashing and planning --------------------------------------------------------------------


@dataclass(frozen=True)
class FileHash:
    """How the Hub identifies a file: git blob sha1, and sha256 for LFS-stored files."""

    git_oid: str
    sha256: str | None


def local_hash(content: Content) -> FileHash:
    data = content.read_bytes() if isinstance(content, Path) else content
    git = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
    return FileHash(git, hashlib.sha256(data).hexdigest())


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


# -- retries ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before giving up on a repo."""

    attempts: int = 4
    """Tries in all, the first one included."""
    first_wait_s: float = 1.0
    """Wait before the second try; doubles each time."""


def is_transient(err: BaseException) -> bool:
    """Network trouble or a server-side status: worth another try. Walks the cause chain."""
    import httpx2
    from huggingface_hub.errors import HfHubHTTPError

    chain: list[BaseException] = []
    seen: BaseException | None = err
    while seen is not None and seen not in chain:
        if isinstance(seen, httpx2.TransportError | ConnectionError | TimeoutError):
            return True
        if isinstance(seen, HfHubHTTPError) and seen.response is not None:
            return seen.response.status_code in TRANSIENT_STATUS
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    return False


def refused(what: str, err: Exception) -> HubError | None:
    """A Hub answer that retrying cannot change, as a one-line HubError naming `what`."""
    from huggingface_hub.errors import HfHubHTTPError

    if not isinstance(err, HfHubHTTPError) or err.response is None:
        return None
    status = err.response.status_code
    hint = " (check the token: `hf auth login` with a write token)" if status in (401, 403) else ""
    return HubError(f"{what}: the Hub refused with HTTP {status}{hint}: {str(err).splitlines()[0]}")


def with_retries(action: Callable[[], T], what: str, policy: RetryPolicy) -> T:
    """Run `action`, retrying transient failures; then a one-line HubError naming `what`."""
    for attempt in range(1, policy.attempts + 1):
        try:
            return action()
        except Exception as err:
            if not is_transient(err):
                if (hub_error := refused(what, err)) is None:
                    raise
                raise hub_error from err
            if attempt == policy.attempts:
                reason = str(err).splitlines()[0] if str(err) else type(err).__name__
                raise HubError(
                    f"{what}: the Hub failed {attempt} times ({reason}); commits are atomic, so "
                    "the repo is not half-updated: run the same command again later"
                ) from err
            time.sleep(policy.first_wait_s * 2 ** (attempt - 1))
    raise AssertionError("unreachable")


# -- publishing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Published:
    """The outcome for one repo."""

    repo_id: str
    changes: Changes
    commit: str | None
    """The new commit; None when nothing changed or on a dry run."""
    folder: Path | None = None
    """Where a dry run wrote the repo folder."""

    def describe(self) -> str:
        written = f" (repo folder: {self.folder})" if self.folder else ""
        if not self.changes:
            return f"{self.repo_id}: up to date, no commit{written}"
        done = "would commit" if self.commit is None else f"committed {self.commit[:8]}:"
        return f"{self.repo_id}: {done} {self.changes.summary()}{written}"


def _remote_state(
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


def write_folder(files: Mapping[str, Content], target: Path) -> None:
    """Write the exact repo folder to `target`, swapped in whole (never half-written)."""
    with staged_dir(target.parent) as staging:
        folder = staging / target.name
        for path, content in files.items():
            dest = folder / path
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(content.read_bytes() if isinstance(content, Path) else content)
        swap_in(folder, target)


@dataclass
class Publisher:
    """Publishes folders with one token, endpoint and retry policy."""

    token: str
    endpoint: str | None = None
    """None: the HF_ENDPOINT environment variable, else the public Hub."""
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    def __post_init__(self) -> None:
        from huggingface_hub import HfApi

        self.api = HfApi(endpoint=self.endpoint, token=self.token)

    def publish(
        self,
        repo_id: str,
        repo_type: RepoType,
        files: Mapping[str, Content],
        *,
        private: bool = False,
        dry_run_dir: Path | None = None,
    ) -> Published:
        """Make `repo_id` hold exactly `files` (plus Hub-managed files), in at most one commit.

        With `dry_run_dir`, nothing is pushed: the repo folder is written to
        `dry_run_dir/<name>` and the changes are computed against the Hub's current state.
        """
        local = {path: local_hash(content) for path, content in sorted(files.items())}
        if dry_run_dir is not None:
            _, remote = with_retries(
                lambda: _remote_state(self.api, repo_id, repo_type), repo_id, self.retry
            )
            folder = dry_run_dir / repo_id.split("/")[-1]
            write_folder(files, folder)
            return Published(repo_id, plan(local, remote), None, folder)
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
        head, remote = _remote_state(self.api, repo_id, repo_type)
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
