import hashlib
import json
import re
from pathlib import Path

import pytest

from medeval.errors import EvalInputError
from medeval.task_files import MAX_REPORTED, read_jsonl, read_pubmedqa
from testsupport.paths import EVAL_DATA


def test_shipped_files_match_their_checksums() -> None:
    listed = re.findall(r"^([0-9a-f]{64})  (\S+)$", (EVAL_DATA / "README.md").read_text(), re.M)
    assert len(listed) == 5
    for digest, name in listed:
        assert hashlib.sha256((EVAL_DATA / name).read_bytes()).hexdigest() == digest, name
        assert (EVAL_DATA / name).parent.joinpath("LICENSE").is_file(), name


def test_pubmedqa_is_the_official_test_split() -> None:
    items = read_pubmedqa(EVAL_DATA / "pubmedqa")
    truth = json.loads((EVAL_DATA / "pubmedqa" / "test_ground_truth.json").read_text())
    assert [i.id for i in items] == list(truth)
    assert all(i.answer == truth[i.id] and i.contexts for i in items)


def test_shipped_jsonl_files_read_with_their_ids() -> None:
    medmcqa = read_jsonl(EVAL_DATA / "medmcqa" / "test.jsonl")
    assert len(medmcqa) == 2816
    assert medmcqa[0].id == "b64a9cd7-d076-4c55-8be1-f9c44fece6cc"
    assert list(medmcqa[0].options) == ["A", "B", "C", "D"]
    mmlu = read_jsonl(EVAL_DATA / "mmlu_medical" / "test.jsonl")
    assert len(mmlu) == 1089
    assert (mmlu[0].id, mmlu[0].subject, mmlu[0].answer) == ("100", "anatomy", "A")


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "mine.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


GOOD = json.dumps({"question": "Q?", "options": {"A": "x", "B": "y", "C": "z"}, "answer_idx": "C"})


def test_user_file_ids_default_to_line_numbers(tmp_path: Path) -> None:
    with_id = json.dumps({"id": "q7", **json.loads(GOOD)})
    items = read_jsonl(write(tmp_path, GOOD, "", with_id))
    assert [i.id for i in items] == ["1", "q7"]
    assert items[0].options == {"A": "x", "B": "y", "C": "z"}
    assert items[0].answer == "C"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "mine.jsonl:2: not valid JSON"),
        ('["a list"]', "mine.jsonl:2: not a JSON object"),
        ('{"options": {"A": "x", "B": "y"}, "answer_idx": "A"}', "mine.jsonl:2: no `question`"),
        ('{"question": "Q", "options": ["x", "y"], "answer_idx": "A"}', "`options` must map"),
        ('{"question": "Q", "options": {"A": "x"}, "answer_idx": "A"}', "`options` must map"),
        (
            '{"question": "Q", "options": {"A": "x", "B": "y"}, "answer_idx": "E"}',
            "`answer_idx` 'E' is not one of the options ['A', 'B']; use its letter",
        ),
        ('{"realidx": 1, ' + GOOD[1:], "id '1' already used on line 1"),
    ],
)
def test_bad_lines_name_file_line_and_fix(tmp_path: Path, line: str, message: str) -> None:
    with pytest.raises(EvalInputError) as err:
        read_jsonl(write(tmp_path, GOOD, line))
    assert message in str(err.value)


def test_all_bad_lines_are_reported_at_once(tmp_path: Path) -> None:
    with pytest.raises(EvalInputError) as err:
        read_jsonl(write(tmp_path, *["{}"] * (MAX_REPORTED + 3)))
    lines = str(err.value).splitlines()
    assert len(lines) == MAX_REPORTED + 1
    assert lines[-1] == "... and 3 more bad lines"


def test_empty_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(EvalInputError, match="no questions"):
        read_jsonl(write(tmp_path, ""))
    with pytest.raises(EvalInputError, match="missing benchmark file"):
        read_jsonl(tmp_path / "absent.jsonl")
