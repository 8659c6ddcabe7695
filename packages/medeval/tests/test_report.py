"""The report answers first: verdict table and plot, per-task table, samples, training, then the
configuration collapsed; one answer loss; newly right / newly wrong from the per-item files."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from medeval.runs import Run
from testsupport.evaluated import evaluated_run


@pytest.fixture(scope="module")
def report(tiny_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    return evaluated_run(tiny_run, tmp_path_factory.mktemp("report"))


class Outline(HTMLParser):
    """Headings, tables and images in document order; what sits inside <details>."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[tuple[str, bool]] = []
        self.depth = 0
        self._heading: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "details":
            self.depth += 1
        elif tag in ("h1", "h2"):
            self._heading = ""
        elif tag in ("table", "img", "section"):
            self.items.append((tag, self.depth > 0))

    def handle_endtag(self, tag: str) -> None:
        if tag == "details":
            self.depth -= 1
        elif tag in ("h1", "h2") and self._heading is not None:
            self.items.append((f"{tag}:{self._heading}", self.depth > 0))
            self._heading = None

    def handle_data(self, data: str) -> None:
        if self._heading is not None:
            self._heading += data


def outline(run: Run) -> list[tuple[str, bool]]:
    parser = Outline()
    parser.feed((run.path / "report.html").read_text(encoding="utf-8"))
    return parser.items


def test_html_opens_with_the_verdict_and_ends_with_the_collapsed_configuration(
    report: Run,
) -> None:
    items = outline(report)
    assert items[:4] == [
        (f"h1:Evaluation of {report.name}", False),
        ("h2:Verdict: did fine-tuning help?", False),
        ("table", False),  # the verdict table ...
        ("img", False),  # ... and its plot come before anything else
    ]
    headings = [name for name, _ in items if name.startswith("h2:")]
    assert headings[1:] == [
        "h2:Benchmarks per task",
        "h2:Samples",
        "h2:Training",
        "h2:Configuration",
    ]
    assert items[-1] == ("table", True)  # the configuration table, inside <details>
    assert "<details open" not in (report.path / "report.html").read_text()


def test_verdict_rows_carry_intervals_and_one_answer_loss(report: Run) -> None:
    md = (report.path / "report.md").read_text()
    verdict = md[md.index("## Verdict") : md.index("## Benchmarks per task")]
    rows = [line for line in verdict.splitlines() if line.startswith("| ") and "---" not in line]
    assert [r.split(" | ")[0] for r in rows[1:]] == [
        "| answer loss<br>nats/token, 6 rows",
        "| ROUGE-L<br>12 questions",
        "| token F1<br>12 questions",
        "| benchmark average<br>2 tasks, 8 items",
    ]
    assert all(r.count("[") == 3 for r in rows[1:])  # base, fine-tuned and change intervals
    assert rows[1].endswith("<br>better |")  # the fine-tuned loss is lower on every row
    assert "eval_answer_loss" not in md  # trainer_stats' copy of the same number is not shown
    assert "<details>" in md and md.rstrip().endswith("</details>")
    # how the compared answers were decoded (eval/generation.json) is said under the table
    decoding = "greedy, at most 192 new tokens, ending only where the model gives it probability "
    assert f"({decoding}above 1/2, no 3 tokens of an answer repeated)" in verdict


def test_newly_right_and_wrong_per_task(report: Run) -> None:
    md = (report.path / "report.md").read_text()
    assert "| medqa | 5 | 40.0% | 60.0% | +20.0% | 2 | 1 |" in md
    assert "| pubmedqa | 3 | 33.3% | 66.7% | +33.3% | 1 | 0 |" in md
    verdict = json.loads((report.eval_dir / "verdict.json").read_text())
    average = verdict["measures"]["benchmark_average"]
    assert average["base"]["value"] == pytest.approx((0.4 + 1 / 3) / 2)  # tasks, not "average"
    assert average["method"].startswith("items resampled within each task")
    assert {k: verdict["bootstrap"][k] for k in ("resamples", "level", "seed")} == {
        "resamples": 10000,
        "level": 0.95,
        "seed": 0,
    }


def test_without_per_item_files_the_average_uses_standard_errors(
    tiny_run: Path, tmp_path: Path
) -> None:
    run = evaluated_run(tiny_run, tmp_path, per_item=False)
    md = (run.path / "report.md").read_text()
    assert "| medqa | 5 | 40.0% | 60.0% | +20.0% | - | - |" in md
    method = json.loads((run.eval_dir / "verdict.json").read_text())["measures"][
        "benchmark_average"
    ]["method"]
    assert method.startswith("normal approximation")


def test_a_bad_per_item_line_names_the_file(tiny_run: Path, tmp_path: Path) -> None:
    from medeval.errors import EvalInputError
    from medeval.report_items import read_items

    path = tmp_path / "medqa.jsonl"
    path.write_text('{"id": "q1", "gold": 0, "base": {"pred": 0}}\n{"id": "q2"}\n')
    with pytest.raises(EvalInputError, match=r"medqa\.jsonl:2"):
        read_items(path)
