"""meddata.hub: change planning, card checks, token lookup, retries, against the Hub stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from huggingface_hub import constants

from meddata.hub import (
    LOGIN_HELP,
    Changes,
    FileHash,
    HubError,
    Publisher,
    RetryPolicy,
    check_card,
    local_hash,
    plan,
    require_token,
    write_folder,
)
from testsupport.hubstandin import HubStandIn

TOKEN = "standin-token"

DATASET_CARD = """---
license: [cc-by-4.0, cc-by-sa-3.0]
language: [en]
task_categories: [question-answering]
size_categories: [n<1K]
configs:
- config_name: default
  data_files:
  - {split: train, path: data/train-*}
  - {split: test, path: data/test-*}
---
# card
"""
DATASET_FILES = {
    "README.md",
    "data/train-00000-of-00001.parquet",
    "data/test-00000-of-00001.parquet",
}

MODEL_CARD = """---
base_model: meta-llama/Meta-Llama-3-8B-Instruct
datasets: [medqa/medical_llama3_instruct_dataset]
library_name: peft
license: llama3
---
# adapter
"""


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[HubStandIn]:
    # The client reads these per call: online (to the stand-in), no Xet, no registry fetch.
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_TELEMETRY", True)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)  # other suites set it for themselves
    with HubStandIn(tokens=frozenset({TOKEN})) as hub:
        yield hub


@pytest.fixture
def publisher(hub: HubStandIn) -> Publisher:
    return Publisher(TOKEN, endpoint=hub.url, retry=RetryPolicy(attempts=3, first_wait_s=0.01))


def commits(hub: HubStandIn, repo_id: str) -> list[str]:
    repo = hub.store.get("dataset", repo_id)
    return [] if repo is None else [c.title for c in repo.commits]


def test_plan_compares_lfs_files_by_sha256_and_others_by_git_oid() -> None:
    readme, parquet = local_hash(b"card"), local_hash(b"PAR1 rows")
    remote = {
        "README.md": FileHash(readme.git_oid, None),
        "data/train.parquet": FileHash("pointer-oid", parquet.sha256),
        "old.json": FileHash("x", None),
        ".gitattributes": FileHash("y", None),
    }
    assert not plan(
        {"README.md": readme, "data/train.parquet": parquet, "old.json": FileHash("x", None)},
        remote,
    )
    changed = plan(
        {"README.md": local_hash(b"card v2"), "data/train.parquet": parquet, "new.txt": readme},
        remote,
    )
    assert changed == Changes(added=["new.txt"], changed=["README.md"], deleted=["old.json"])


def test_commit_title_names_files_when_short_and_counts_when_long() -> None:
    short = Changes(added=["a.txt"], changed=["README.md"], deleted=["b.json"])
    assert short.summary() == "Add a.txt; Update README.md; Delete b.json"
    assert short.lines() == ["added: a.txt", "changed: README.md", "deleted: b.json"]
    many = Changes(added=[f"data/shard-{i:05d}.parquet" for i in range(20)])
    assert many.summary() == "Add 20 files"


def test_good_cards_pass() -> None:
    assert check_card(DATASET_CARD, "dataset", DATASET_FILES)["license"] == [
        "cc-by-4.0",
        "cc-by-sa-3.0",
    ]
    assert check_card(MODEL_CARD, "model", {"README.md"})["library_name"] == "peft"


@pytest.mark.parametrize(
    ("card", "repo_type", "expected"),
    [
        (DATASET_CARD.replace("cc-by-4.0", "cc-by-5.0"), "dataset", "license cc-by-5.0"),
        (DATASET_CARD.replace("language: [en]\n", ""), "dataset", "lacks language"),
        (DATASET_CARD.replace("n<1K", "small"), "dataset", "size_categories small"),
        (
            DATASET_CARD.replace("data/test-*", "data/valid-*"),
            "dataset",
            "'data/valid-*' matches no file",
        ),
        (
            DATASET_CARD.replace("language: [en]", "language: [English]"),
            "dataset",
            "language English",
        ),
        ("# no metadata\n", "dataset", "lacks license"),
        ("---\nlicense: [mit\n---\n", "dataset", "README.md:"),
        (
            MODEL_CARD.replace("meta-llama/Meta-Llama-3-8B-Instruct", "/tmp/base"),
            "model",
            "base_model /tmp/base",
        ),
        (MODEL_CARD.replace("library_name: peft", "library_name: transformers"), "model", "peft"),
        (MODEL_CARD.replace("license: llama3", "license: other"), "model", "license_name"),
        (
            MODEL_CARD.replace("datasets: [medqa/medical_llama3_instruct_dataset]\n", ""),
            "model",
            "lacks datasets",
        ),
    ],
)
def test_bad_card_metadata_is_named(card: str, repo_type: str, expected: str) -> None:
    with pytest.raises(ValueError, match=r"README\.md") as err:
        check_card(card, repo_type, DATASET_FILES)  # type: ignore[arg-type]
    assert expected in str(err.value)


def test_no_token_is_a_one_line_error_saying_how_to_log_in(
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
    files: dict[str, Path | bytes] = {
        "README.md": DATASET_CARD.encode(),
        "data/train.parquet": b"PAR1 a",
    }
    first = publisher.publish("ns/ds", "dataset", files)
    assert first.commit is not None and first.changes.added == ["README.md", "data/train.parquet"]
    assert publisher.publish("ns/ds", "dataset", files).commit is None
    assert commits(hub, "ns/ds") == ["initial commit", first.changes.summary()]

    files = {"README.md": DATASET_CARD.encode() + b"more\n", "data/test.parquet": b"PAR1 b"}
    second = publisher.publish("ns/ds", "dataset", files)
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
    result = publisher.publish("ns/flaky", "dataset", {"README.md": b"# hi\n"})
    assert result.commit is not None
    failed = [r for r in hub.requests if r.status in (503, None)]
    assert len(failed) == 2
    assert commits(hub, "ns/flaky") == ["initial commit", "Add README.md"]


def test_persistent_failure_names_the_repo_and_writes_nothing(
    publisher: Publisher, hub: HubStandIn, tmp_path: Path
) -> None:
    hub.fail_next(1000, "503")
    with pytest.raises(HubError, match=r"^ns/down: the Hub failed 3 times") as err:
        publisher.publish("ns/down", "dataset", {"README.md": b"# hi\n"})
    assert err.value.exit_code == 1
    with pytest.raises(HubError, match="ns/down"):
        publisher.publish("ns/down", "dataset", {"README.md": b"# hi\n"}, dry_run_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []
    assert hub.store.get("dataset", "ns/down") is None


def test_dry_run_writes_the_exact_folder_and_pushes_nothing(
    publisher: Publisher, hub: HubStandIn, tmp_path: Path
) -> None:
    source = tmp_path / "train.parquet"
    source.write_bytes(b"PAR1 rows")
    publisher.publish("ns/dry", "dataset", {"README.md": b"# v1\n"})
    before = list(hub.requests)
    result = publisher.publish(
        "ns/dry",
        "dataset",
        {"README.md": b"# v2\n", "data/train.parquet": source},
        dry_run_dir=tmp_path / "out",
    )
    assert result.commit is None and result.changes == Changes(
        ["data/train.parquet"], ["README.md"], []
    )
    assert "would commit" in result.describe()
    assert (tmp_path / "out/dry/README.md").read_bytes() == b"# v2\n"
    assert (tmp_path / "out/dry/data/train.parquet").read_bytes() == b"PAR1 rows"
    assert all(r.method == "GET" for r in hub.requests[len(before) :])


def test_repo_folder_is_never_half_written(tmp_path: Path) -> None:
    target = tmp_path / "out" / "atomic"
    write_folder({"README.md": b"# old\n"}, target)
    with pytest.raises(FileNotFoundError):
        write_folder({"README.md": b"# new\n", "z.bin": tmp_path / "missing.bin"}, target)
    assert (target / "README.md").read_bytes() == b"# old\n"
    assert [p.name for p in target.parent.iterdir()] == ["atomic"]


def test_refused_token_is_a_clear_error_naming_the_repo(hub: HubStandIn) -> None:
    publisher = Publisher("not-a-valid-token", endpoint=hub.url, retry=RetryPolicy(3, 0.01))
    with pytest.raises(
        HubError, match=r"^ns/denied: the Hub refused with HTTP 401 \(check the token"
    ):
        publisher.publish("ns/denied", "dataset", {"README.md": b"# hi\n"})
    assert {r.status for r in hub.requests} == {401} and len(hub.requests) <= 2  # not retried


def test_stand_in_serves_range_reads_of_lfs_files(publisher: Publisher, hub: HubStandIn) -> None:
    from huggingface_hub import HfFileSystem

    data = bytes(range(256)) * 64
    publisher.publish("ns/ranges", "dataset", {"data/blob.parquet": data})
    fs = HfFileSystem(endpoint=hub.url, token=TOKEN, block_size=1024)
    with fs.open("datasets/ns/ranges/data/blob.parquet", "rb") as remote:
        remote.seek(5000)
        assert remote.read(100) == data[5000:5100]
    assert any(r.status == 206 for r in hub.requests)


def test_stand_in_refuses_a_commit_on_a_stale_parent(publisher: Publisher, hub: HubStandIn) -> None:
    from huggingface_hub import CommitOperationAdd, HfApi
    from huggingface_hub.errors import HfHubHTTPError

    publisher.publish("ns/race", "dataset", {"a.txt": b"1"})
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
