from __future__ import annotations

from pathlib import Path

from meddata.atomic import PREVIOUS_PREFIX, recover, staged_dir, swap_in


def test_swap_replaces_the_target(tmp_path: Path) -> None:
    (tmp_path / "v").mkdir()
    (tmp_path / "v" / "old.txt").write_text("old")
    with staged_dir(tmp_path) as staging:
        (staging / "v").mkdir()
        (staging / "v" / "new.txt").write_text("new")
        swap_in(staging / "v", tmp_path / "v")
    assert [p.name for p in (tmp_path / "v").iterdir()] == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v"]


def test_recover_restores_a_swap_cut_between_its_renames(tmp_path: Path) -> None:
    previous = tmp_path / f"{PREVIOUS_PREFIX}v"
    previous.mkdir()
    (previous / "data.txt").write_text("kept")
    (tmp_path / ".staging-abc").mkdir()
    recover(tmp_path)
    assert (tmp_path / "v" / "data.txt").read_text() == "kept"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v"]
