"""meddata.hubsync (medtrain ships the same file): token lookup, commits, retries and dry runs,
against the Hub stand-in."""

from __future__ import annotations

from pathlib import Path

import pytest
from huggingface_hub import constants

from meddata.hubplan import Changes, local_hash
from meddata.hubsync import (
    LOGIN_HELP,
    HubError,
    Publisher,
    RetryPolicy,
    require_token,
    write_folder,
)
from testsupport.hub import TOKEN, closed_port_url
from testsupport.hubstandin import HubStandIn

CARD = b"---\nlicense: mit\n---\n# hi\n"


@pytest.fixture
def publisher(hub: HubStandIn) -> Publisher:
    return Publisher(TOKEN, endpoint=hub.url, retry=RetryPolicy(attempts=3, first_wait_s=0.01))


def commits(hub: HubStandIn, repo_id: str) -> list[str]:
    repo = hub.store.get("dataset", repo_id)
    return [] if repo is None else [c.title for c in repo.commits]


def test_token_comes_from_the_environment_or_the_saved_login(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_OIDC_RESOURCE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "token"))
    with pytest.raises(HubError) as err:
        require_token()
    assert str(err.value) == LOGIN_HELP and "\n" not in LOGIN_HELP
    assert err.value.exit_code == 2
    (tmp_path / "token").write_text("hf_saved\n")
    assert require_token() == "hf_saved"


def test_publish_commits_once_and_only_when_content_changes(
    publisher: Publisher, hub: HubStandIn
) -> None:
    files: dict[str, Path | bytes] = {"README.md": CARD, "data/train.parquet": b"PAR1 a"}
    first = publisher.publish("ns/ds", "dataset", files, private=False)
    assert first.commit is not None and first.changes.added == ["README.md", "data/train.parquet"]
    assert publisher.publish("ns/ds", "dataset", files, private=False).commit is None
    assert commits(hub, "ns/ds") == ["initial commit", first.changes.summary()]

    files = {"README.md": CARD + b"more\n", "data/test.parquet": b"PAR1 b"}
    second = publisher.publish("ns/ds", "dataset", files, private=False)
    assert second.changes == Changes(["data/test.parquet"], ["README.md"], ["data/train.parquet"])
    repo = hub.store.get("dataset", "ns/ds")
    assert repo is not None and len(repo.commits) == 3
    assert repo.head.title == "Add data/test.parquet; Update README.md; Delete data/train.parquet"
    assert repo.head.message.splitlines() == second.changes.lines()
    assert sorted(repo.head.files) == [".gitattributes", "README.md", "data/test.parquet"]
    assert repo.head.files["data/test.parquet"].lfs_sha256 == local_hash(b"PAR1 b").sha256


@pytest.mark.parametrize("mode", ["503", "drop"])
def test_transient_failures_are_retried(publisher: Publisher, hub: HubStandIn, mode: str) -> None:
    hub.fail_next(2, mode)  # type: ignore[arg-type]
    result = publisher.publish("ns/flaky", "dataset", {"README.md": CARD}, private=False)
    assert result.commit is not None
    failed = [r for r in hub.requests if r.status in (503, None)]
    assert len(failed) == 2
    assert commits(hub, "ns/flaky") == ["initial commit", "Add README.md"]


def test_persistent_failure_names_the_repo(publisher: Publisher, hub: HubStandIn) -> None:
    hub.fail_next(1000, "503")
    with pytest.raises(HubError, match=r"^ns/down: the Hub failed 3 times") as err:
        publisher.publish("ns/down", "dataset", {"README.md": CARD}, private=False)
    assert err.value.exit_code == 1
    assert hub.store.get("dataset", "ns/down") is None


def test_offline_mode_is_not_retried(publisher: Publisher, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(HubError, match=r"^ns/off: HF_HUB_OFFLINE is set.*--dry-run") as err:
        publisher.publish("ns/off", "dataset", {"README.md": CARD}, private=False)
    assert err.value.exit_code == 2 and err.value.__cause__ is not None


def test_a_card_the_hub_refuses_is_a_one_line_input_error(
    publisher: Publisher, hub: HubStandIn
) -> None:
    with pytest.raises(HubError, match=r"^ns/badcard: Invalid metadata in README\.md") as err:
        publisher.publish("ns/badcard", "dataset", {"README.md": b"---\n- a\n---\n"}, False)
    assert err.value.exit_code == 2 and "\n" not in str(err.value)
    assert commits(hub, "ns/badcard") == ["initial commit"]


def test_dry_run_writes_the_exact_folder_and_pushes_nothing(
    publisher: Publisher, hub: HubStandIn, tmp_path: Path
) -> None:
    source = tmp_path / "train.parquet"
    source.write_bytes(b"PAR1 rows")
    publisher.publish("ns/dry", "dataset", {"README.md": CARD}, private=False)
    before = len(hub.requests)
    files = {"README.md": CARD + b"v2\n", "data/train.parquet": source}
    result = publisher.dry_run("ns/dry", "dataset", files, tmp_path / "out")
    assert result.commit is None and result.unread is None
    assert result.changes == Changes(["data/train.parquet"], ["README.md"], [])
    assert result.describe().splitlines() == [
        f"ns/dry: would commit Add data/train.parquet; Update README.md "
        f"(repo folder: {tmp_path / 'out/dry'})",
        "  added: data/train.parquet",
        "  changed: README.md",
    ]
    assert (tmp_path / "out/dry/README.md").read_bytes() == CARD + b"v2\n"
    assert (tmp_path / "out/dry/data/train.parquet").read_bytes() == b"PAR1 rows"
    assert all(r.method == "GET" for r in hub.requests[before:])


@pytest.mark.parametrize("where", ["offline", "closed port", "dropped", "no token"])
def test_dry_run_without_the_hub_lists_every_file_and_tries_once(
    hub: HubStandIn, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, where: str
) -> None:
    endpoint = closed_port_url() if where == "closed port" else hub.url
    if where == "offline":
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    if where == "dropped":
        hub.fail_next(1000, "drop")
    token = None if where == "no token" else TOKEN
    publisher = Publisher(token, endpoint=endpoint, retry=RetryPolicy(4, 0.01))
    files = {"README.md": CARD, "data/train.parquet": b"PAR1"}
    result = publisher.dry_run("ns/away", "dataset", files, tmp_path)
    lines = result.describe().splitlines()
    assert lines[0].startswith("ns/away: remote state could not be read (")
    assert lines[1:] == ["  push: README.md", "  push: data/train.parquet"]
    assert (tmp_path / "away/data/train.parquet").read_bytes() == b"PAR1"
    assert len(hub.requests) == (1 if where == "dropped" else 0)  # one try, never retried


def test_repo_folder_is_never_half_written(tmp_path: Path) -> None:
    target = tmp_path / "out" / "atomic"
    write_folder({"README.md": b"# old\n"}, target)
    with pytest.raises(FileNotFoundError):
        write_folder({"README.md": b"# new\n", "z.bin": tmp_path / "missing.bin"}, target)
    assert (target / "README.md").read_bytes() == b"# old\n"
    assert [p.name for p in target.parent.iterdir()] == ["atomic"]
    write_folder({"README.md": b"# new\n"}, target)
    assert [p.name for p in target.iterdir()] == ["README.md"]
    assert (target / "README.md").read_bytes() == b"# new\n"


def test_refused_token_is_a_clear_error_naming_the_repo(hub: HubStandIn) -> None:
    publisher = Publisher("not-a-valid-token", endpoint=hub.url, retry=RetryPolicy(3, 0.01))
    with pytest.raises(
        HubError, match=r"^ns/denied: the Hub refused with HTTP 401 \(check the token"
    ):
        publisher.publish("ns/denied", "dataset", {"README.md": CARD}, private=False)
    assert {r.status for r in hub.requests} == {401} and len(hub.requests) <= 2  # not retried


def test_stand_in_serves_range_reads_of_lfs_files(publisher: Publisher, hub: HubStandIn) -> None:
    from huggingface_hub import HfFileSystem

    data = bytes(range(256)) * 64
    publisher.publish("ns/ranges", "dataset", {"data/blob.parquet": data}, private=False)
    fs = HfFileSystem(endpoint=hub.url, token=TOKEN, block_size=1024)
    with fs.open("datasets/ns/ranges/data/blob.parquet", "rb") as remote:
        remote.seek(5000)
        assert remote.read(100) == data[5000:5100]
    assert any(r.status == 206 for r in hub.requests)


def test_stand_in_refuses_a_commit_on_a_stale_parent(publisher: Publisher, hub: HubStandIn) -> None:
    from huggingface_hub import CommitOperationAdd, HfApi
    from huggingface_hub.errors import HfHubHTTPError

    publisher.publish("ns/race", "dataset", {"a.txt": b"1"}, private=False)
    repo = hub.store.get("dataset", "ns/race")
    assert repo is not None
    stale = repo.commits[0].oid
    api = HfApi(endpoint=hub.url, token=TOKEN)
    with pytest.raises(HfHubHTTPError) as err:
        api.create_commit(
            "ns/race",
            [CommitOperationAdd("b.txt", b"2")],
            commit_message="late",
            repo_type="dataset",
            parent_commit=stale,
        )
    assert err.value.response.status_code == 412
    assert len(repo.commits) == 2


def test_private_repos_are_created_private(publisher: Publisher, hub: HubStandIn) -> None:
    from huggingface_hub import HfApi
    from huggingface_hub.errors import RepositoryNotFoundError

    publisher.publish("ns/secret", "dataset", {"a.txt": b"1"}, private=True)
    repo = hub.store.get("dataset", "ns/secret")
    assert repo is not None and repo.private
    with pytest.raises(RepositoryNotFoundError):
        HfApi(endpoint=hub.url, token=False).repo_info("ns/secret", repo_type="dataset")
