"""JSON and JSON Lines: a bad record is quarantined with its record and line number."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from meddata.config import Columns
from meddata.errors import InputError
from meddata.raw.jsonfile import read_json, read_jsonl
from meddata.raw.result import RECORD

COLUMNS = Columns(question="input", answer="output", id="id", metadata={"focus": "topic"})
RECORDS = [{"id": i, "input": f"q{i}", "output": f"a{i}", "topic": "t"} for i in range(6)]


def json_list(tmp_path: Path, records: list[object], indent: int | None = 1) -> Path:
    path = tmp_path / "qa.json"
    path.write_text(json.dumps(records, indent=indent))
    return path


@pytest.mark.parametrize(
    ("bad", "detail"),
    [
        ({"id": 9, "input": "q"}, "no key output (it has: id, input)"),
        ("not an object", "a JSON str, expected an object"),
        ({"id": 9, "input": "q", "output": 3}, "output is not text: 3"),
        ({"id": [9], "input": "q", "output": "a"}, "id is not text or an integer: [9]"),
        (
            {"id": 9, "input": "q", "output": "a", "topic": {"x": 1}},
            "topic is not text or an integer: {'x': 1}",
        ),
    ],
)
def test_bad_record_in_a_list_is_quarantined(tmp_path: Path, bad: object, detail: str) -> None:
    path = json_list(tmp_path, [*RECORDS[:4], bad, *RECORDS[4:]])

    table = read_json(path, COLUMNS)

    assert table.rows["id"].to_list() == ["0", "1", "2", "3", "4", "5"]
    assert table.rows[RECORD].to_list() == [0, 1, 2, 3, 5, 6]
    [rejected] = table.rejects.iter_rows(named=True)
    assert (rejected["source_id"], rejected["reason"]) == ("4", "malformed_record")
    assert rejected["detail"] == f"line 26 (record 4): {detail}"  # 6 lines per record before


def test_record_lines_on_one_line_and_a_missing_optional_key(tmp_path: Path) -> None:
    records = [*RECORDS[:2], {"id": 2, "input": "q", "output": "a"}, {"input": "q"}]

    table = read_json(json_list(tmp_path, records, indent=None), COLUMNS)

    assert table.rows["topic"].to_list() == ["t", "t", None]
    assert table.rejects["detail"].to_list() == [
        "line 1 (record 3): no key output, id (it has: input)"
    ]


def test_a_6000_record_file_with_one_record_missing_a_key(tmp_path: Path) -> None:
    records: list[dict[str, object]] = [
        {"input": f"What is condition {i}?", "output": f"Condition {i} is a disease."}
        for i in range(6000)
    ]
    del records[4711]["output"]
    columns = Columns(question="input", answer="output")

    table = read_json(json_list(tmp_path, records), columns)

    assert table.rows.height == 5999
    assert table.rejects.select("source_id", "input", "output", "reason").row(0) == (
        "4711",
        "What is condition 4711?",
        None,
        "malformed_record",
    )
    assert table.rejects["detail"][0] == "line 18846 (record 4711): no key output (it has: input)"


def test_invalid_utf8_in_a_record(tmp_path: Path) -> None:
    path = tmp_path / "qa.json"
    text = json.dumps(RECORDS, indent=1).encode().replace(b'"q3"', b'"caf\xe9"')
    path.write_bytes(text)

    table = read_json(path, COLUMNS)

    assert table.rows.height == 5
    assert table.rejects.select("source_id", "input", "reason").row(0) == (
        "3",
        "caf\ufffd",
        "invalid_utf8",
    )
    assert table.rejects["detail"][0] == "line 20 (record 3): not valid UTF-8 (byte 0xe9)"


def test_jsonl_bad_lines_are_quarantined_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "qa.jsonl"
    lines = [json.dumps(r) for r in RECORDS[:3]]
    path.write_text("\n".join([lines[0], "", "{oops", lines[1], '{"input": "q"}', lines[2]]))

    table = read_jsonl(path, COLUMNS)

    assert table.rows["id"].to_list() == ["0", "1", "2"]
    assert table.rejects.select("source_id", "detail").rows() == [
        ("1", "line 3 (record 1): not valid JSON (Expecting property name enclosed in double "
         "quotes, column 2)"),
        ("3", "line 5 (record 3): no key output, id (it has: input)"),
    ]  # fmt: skip


def test_strict_stops_at_the_first_bad_record(tmp_path: Path) -> None:
    path = json_list(tmp_path, [*RECORDS[:4], {"id": 9, "input": "q"}])

    with pytest.raises(InputError) as caught:
        read_json(path, COLUMNS, strict=True)

    assert str(caught.value) == (
        f"{path}, line 26 (record 4): no key output (it has: id, input). Give every record the "
        "keys `columns` names, with text values (or drop --strict)"
    )


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (
            b'[{"id": 1, "input": "q"}, {"id": 2, "input": "q"}]',
            r"missing column\(s\) output, topic: found \[id, input\], "
            r"expected \[input, output, id, topic\]",
        ),
        (b'[{"id": 1, "input": "q", "output": "a"', r"not valid JSON \(Expecting"),
        (
            b'[{"id": 1, "input": "q\xff", "output": "a"',
            r"not valid UTF-8 \(byte 0xff at offset 22",
        ),
        (b"[1, 2]", r"holds no JSON objects \(the first is a int\)"),
        (b"{}", r"missing column\(s\) input, output, id, topic: found \[\]"),
        (
            b'{"id": 1, "input": "q", "output": 3, "topic": "t"}\n[]',
            r"no readable rows \(2 unreadable; the first at line 1 \(record",
        ),
    ],
)
def test_file_broken_as_a_whole_is_an_error(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "qa.json"
    path.write_bytes(content)

    with pytest.raises(InputError, match=problem):
        read_json(path, COLUMNS)
