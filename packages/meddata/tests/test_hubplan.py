"""meddata.hubplan (medtrain ships the same file): the Hub's hashes, and what a publish changes."""

from __future__ import annotations

from meddata.hubplan import Changes, FileHash, local_hash, plan


def test_local_hash_is_the_hubs_git_oid_and_sha256() -> None:
    # `git hash-object` of "hello\n" and its sha256, as the Hub stores them.
    assert local_hash(b"hello\n") == FileHash(
        "ce013625030ba8dba906f756967f9e9ca394464a",
        "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03",
    )


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
