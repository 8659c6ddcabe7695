"""`report.md` and a self-contained `report.html` built from a run folder's files.

Both render the same list of blocks (headings, paragraphs, tables, images), so they never drift.
"""

from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medeval.evaluation import read_samples
from medeval.runs import Run


@dataclass(frozen=True)
class Heading:
    """A section title (the first one is the page title)."""

    text: str


@dataclass(frozen=True)
class Paragraph:
    """Plain explanatory text."""

    text: str


@dataclass(frozen=True)
class Table:
    """A table of strings."""

    header: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Image:
    path: Path
    """A PNG inside the run folder (relative link in Markdown, data URI in HTML)."""
    alt: str


Block = Heading | Paragraph | Table | Image

SAMPLES_SHOWN = 10
"""Sample rows in the report (samples.md holds all)."""


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def _flatten(config: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    for key, value in config.items():
        if isinstance(value, dict):
            items += _flatten(value, f"{prefix}{key}.")
        else:
            items.append((f"{prefix}{key}", value))
    return items


def _metrics_rows(run: Run) -> list[list[str]]:
    metrics = _read_json(run.eval_dir / "metrics.json") or {}
    keys = ("answer_loss", "perplexity", "rouge_l", "token_f1", "n", "n_generated")
    return [[run.name, variant, *(_fmt(m.get(k)) for k in keys)] for variant, m in metrics.items()]


def _bench_rows(run: Run) -> list[list[str]]:
    bench = _read_json(run.eval_dir / "benchmarks.json") or {}
    rows = []
    for task, by_variant in bench.items():
        for variant in ("base", "finetuned"):
            r = by_variant.get(variant)
            if r:
                acc = f"{100 * r['acc']:.1f} ± {100 * r['stderr']:.1f}"
                norm = f"{100 * r['acc_norm']:.1f} ± {100 * r['acc_norm_stderr']:.1f}"
                rows.append([run.name, task, variant, acc, norm, str(r["n"])])
    return rows


def build_blocks(run: Run, compare: list[Run]) -> list[Block]:
    """The report's content, in reading order; sections whose files are missing are skipped."""
    blocks: list[Block] = [
        Heading(f"Evaluation of {run.name}"),
        Paragraph(
            f"Base model `{run.base_model}` fine-tuned on `{run.config['data']['dataset']}`."
        ),
        Heading("Configuration"),
        Table(["key", "value"], [[k, _fmt(v)] for k, v in _flatten(run.config)]),
    ]
    stats = _read_json(run.path / "trainer_stats.json")
    if stats:
        blocks += [
            Heading("Training"),
            Table(["stat", "value"], [[k, _fmt(v)] for k, v in stats.items()]),
        ]
    for stem, alt in (
        ("loss", "training loss"),
        ("loss_compare", "training loss of compared runs"),
    ):
        if (run.eval_dir / f"{stem}.png").is_file():
            blocks.append(Image(run.eval_dir / f"{stem}.png", alt))
    runs = [run, *compare]
    metric_rows = [row for r in runs for row in _metrics_rows(r)]
    if metric_rows:
        header = ["run", "model", "answer loss", "perplexity", "ROUGE-L", "token F1", "n", "n gen"]
        blocks += [
            Heading("Metrics (held-out split)"),
            Paragraph(
                "Answer-only loss and perplexity over the reference answer tokens; ROUGE-L "
                "and token F1 of the generated answers against the references."
            ),
            Table(header, metric_rows),
        ]
    bench_rows = [row for r in runs for row in _bench_rows(r)]
    if bench_rows:
        blocks += [
            Heading("Benchmarks (zero-shot, option log-likelihood)"),
            Paragraph(
                "lm-evaluation-harness protocol (see the medeval README); accuracy in % ± "
                "standard error. A `limit` below the full set gives a stratified subset."
            ),
            Table(["run", "task", "model", "acc", "acc_norm", "n"], bench_rows),
        ]
    samples = read_samples(run)
    if samples:
        blocks += [
            Heading("Samples"),
            Table(
                ["question", "reference", "base", "fine-tuned"],
                [[s.question, s.reference, s.base, s.finetuned] for s in samples[:SAMPLES_SHOWN]],
            ),
        ]
    return blocks


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>")


def to_markdown(blocks: list[Block], root: Path) -> str:
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            out.append(("# " if not out else "## ") + block.text)
        elif isinstance(block, Paragraph):
            out.append(block.text)
        elif isinstance(block, Table):
            lines = ["| " + " | ".join(block.header) + " |", "|" + " --- |" * len(block.header)]
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
            out.append("\n".join(lines))
        else:
            out.append(f"![{block.alt}]({block.path.relative_to(root).as_posix()})")
    return "\n\n".join(out) + "\n"


_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;"
    "vertical-align:top;text-align:left}th{background:#f3f3f3}img{max-width:100%}"
)


def to_html(blocks: list[Block], title: str) -> str:
    """One file, no external references: images are base64 data URIs."""
    body: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            tag = "h1" if not body else "h2"
            body.append(f"<{tag}>{html.escape(block.text)}</{tag}>")
        elif isinstance(block, Paragraph):
            body.append(f"<p>{html.escape(block.text)}</p>")
        elif isinstance(block, Table):
            head = "".join(f"<th>{html.escape(h)}</th>" for h in block.header)
            rows = "".join(
                "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                for row in block.rows
            )
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        else:
            data = base64.b64encode(block.path.read_bytes()).decode("ascii")
            body.append(f'<img alt="{html.escape(block.alt)}" src="data:image/png;base64,{data}">')
    return (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def write_report(run: Run, compare: list[Run]) -> list[Path]:
    """Write `report.md` and `report.html` into the run folder."""
    blocks = build_blocks(run, compare)
    md, page = run.path / "report.md", run.path / "report.html"
    md.write_text(to_markdown(blocks, run.path), encoding="utf-8")
    page.write_text(to_html(blocks, f"Evaluation of {run.name}"), encoding="utf-8")
    return [md, page]
