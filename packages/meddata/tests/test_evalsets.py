"""Benchmark items from any folder of JSON/JSONL files: the shapes, the ids, the errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from meddata.errors import InputError
from meddata.evalsets import load_benchmarks


def write(path: Path, content: object, jsonl: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if jsonl:
        assert isinstance(content, list)
        path.write_text("".join(json.dumps(x) + "\n" for x in content))
    else:
        path.write_text(json.dumps(content))


def test_the_shipped_benchmarks_are_read(repo_root: Path) -> None:
    benchmarks = {b.name: b for b in load_benchmarks(repo_root / "data" / "eval")}
    assert {"medqa", "pubmedqa"} <= set(benchmarks)
    pubmedqa, medqa = benchmarks["pubmedqa"], benchmarks["medqa"]
    assert (pubmedqa.files, pubmedqa.ignored) == (("ori_pqal.json",), ("test_ground_truth.json",))
    assert pubmedqa.items.height == 1000
    first = pubmedqa.items.row(0, named=True)
    assert first["item"] == "ori_pqal.json:21645374"
    assert first["question"].startswith("Do mitochondria play a role")
    assert any(t.startswith("Programmed cell death") for t in first["texts"])
    assert medqa.items.height == 1273 and medqa.items["item"][0] == "test.jsonl:0"


def test_shapes_of_other_benchmarks_are_picked_up(tmp_path: Path) -> None:
    # MedMCQA / MMLU shapes (data/eval/README.md): JSONL with string or int realidx, options.
    write(
        tmp_path / "medmcqa" / "test.jsonl",
        [
            {"question": "Q one?", "realidx": "b64a9cd7", "options": {"A": "x", "B": "y"}},
            {"question": "Q two?", "realidx": "0c2b1e11", "options": {"A": "z", "B": "w"}},
        ],
        jsonl=True,
    )
    write(
        tmp_path / "mmlu_medical" / "test.jsonl", [{"question": "Q?", "subject": "anatomy"}], True
    )
    write(tmp_path / "listed" / "items.json", [{"Question": "Listed?", "answer": "yes"}])
    (tmp_path / "listed" / "LICENSE").write_text("MIT")
    found = {b.name: b for b in load_benchmarks(tmp_path)}
    assert list(found) == ["listed", "medmcqa", "mmlu_medical"]
    assert found["medmcqa"].items["item"].to_list() == [
        "test.jsonl:b64a9cd7",
        "test.jsonl:0c2b1e11",
    ]
    assert found["medmcqa"].items["texts"][0].to_list() == ["Q one?", "b64a9cd7", "x", "y"]
    assert found["mmlu_medical"].items["item"].to_list() == ["test.jsonl:1"]
    assert found["listed"].items.row(0) == ("items.json:1", "Listed?", ["Listed?", "yes"])


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        ({"b/test.jsonl": '{"question": "ok"}\nnot json\n'}, "test.jsonl, row 2: not valid JSON"),
        ({"b/test.jsonl": '{"question": "ok"}\n[1, 2]\n'}, "row 2: a line is not a JSON object"),
        ({"b/labels.json": '{"1": "yes"}'}, "b: no benchmark items"),
        ({"b/notes.txt": "nothing"}, "b: no benchmark items"),
    ],
)
def test_bad_benchmark_files_name_the_file(
    tmp_path: Path, files: dict[str, str], problem: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    with pytest.raises(InputError, match=problem):
        load_benchmarks(tmp_path)


def test_a_file_that_is_not_utf8_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "test.jsonl").write_bytes(b'{"question": "caf\xe9"}\n')
    with pytest.raises(InputError, match=r"test.jsonl: not UTF-8 .*Save the file as UTF-8"):
        load_benchmarks(tmp_path)


def test_a_missing_folder_says_how_to_fix_it(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="--eval-data"):
        load_benchmarks(tmp_path / "nope")
    with pytest.raises(InputError, match="no benchmark folders"):
        load_benchmarks(tmp_path)
