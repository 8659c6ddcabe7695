"""Markdown and one-file HTML renderings of the report blocks.

The HTML is one file with no external reference (images are data URIs) and reads on a phone:
wide tables scroll inside their own box instead of widening the page, samples are cards whose
columns stack on a narrow screen.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

from medeval.report_blocks import Block, Heading, Image, Paragraph, Samples, Table

_CODE = re.compile(r"`([^`]+)`")
VERDICTS = frozenset({"better", "worse", "unclear"})
"""Cell lines shown as a coloured verdict."""


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\r", "").replace("\n", "<br>")


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _md(block: Block, root: Path, first: bool) -> str:
    if isinstance(block, Heading):
        return ("# " if first else "## ") + block.text
    if isinstance(block, Paragraph):
        return block.text
    if isinstance(block, Table):
        return _md_table(block.header, block.rows)
    if isinstance(block, Image):
        return f"![{block.alt}]({block.path.relative_to(root).as_posix()})"
    if isinstance(block, Samples):
        rows = [[s.question, s.reference, s.base, s.finetuned] for s in block.samples]
        return _md_table(["question", "reference", "base", "fine-tuned"], rows)
    inner = "\n\n".join(_md(b, root, False) for b in block.blocks)
    return f"<details>\n<summary>{html.escape(block.summary)}</summary>\n\n{inner}\n\n</details>"


def to_markdown(blocks: list[Block], root: Path) -> str:
    return "\n\n".join(_md(b, root, i == 0) for i, b in enumerate(blocks)) + "\n"


_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:1100px;margin:1.5em auto;padding:0 1em;"
    "line-height:1.45;color:#1f2328}"
    "h1{font-size:1.6em;overflow-wrap:anywhere}h2{margin-top:1.6em}"
    ".scroll{overflow-x:auto;margin:1em 0}"
    "table{border-collapse:collapse}td,th{border:1px solid #d0d7de;padding:4px 8px;"
    "vertical-align:top;text-align:left;overflow-wrap:anywhere}th{background:#f6f8fa}"
    "td small{color:#57606a;white-space:nowrap}img{max-width:100%;height:auto}"
    "code{background:#f6f8fa;padding:0 .25em;border-radius:4px;overflow-wrap:anywhere}"
    ".sample{border:1px solid #d0d7de;border-radius:6px;padding:.6em .9em;margin:1em 0}"
    ".sample h3{font-size:1em;margin:.2em 0 .6em}"
    ".answers{display:grid;grid-template-columns:repeat(auto-fit,minmax(15em,1fr));gap:.8em}"
    ".answers div{white-space:pre-wrap;overflow-wrap:anywhere;font-size:.92em}"
    ".answers b{display:block;font-size:.85em;color:#57606a}"
    "details{margin:1em 0}summary{cursor:pointer;font-weight:600}"
    ".better,.worse,.unclear{font-weight:600}.better{color:#1a7f37}.worse{color:#cf222e}"
    ".unclear{color:#6e7781}"
    "@media (max-width:600px){body{font-size:15px;padding:0 .6em}"
    "table.stack,table.stack tbody,table.stack tr,table.stack td{display:block}"
    "table.stack thead{display:none}table.stack tr{border:1px solid #d0d7de;border-radius:6px;"
    "margin:.6em 0;padding:.3em .6em}table.stack td{border:0;padding:2px 0;display:grid;"
    "grid-template-columns:7.5em 1fr;column-gap:.5em}table.stack td::before{"
    "content:attr(data-label);font-weight:600;color:#57606a}"
    "table.stack td:first-child{display:block;font-weight:600}"
    "table.stack td:first-child::before{content:none}}"
)


REFERENCE_SHOWN = 600
"""Characters of a reference answer shown in a sample card (samples.md has them whole)."""


def _shortened(text: str) -> str:
    return text if len(text) <= REFERENCE_SHOWN else text[:REFERENCE_SHOWN].rstrip() + " …"


def _inline(text: str) -> str:
    return _CODE.sub(r"<code>\1</code>", html.escape(text))


def _cell(text: str, tag: str, label: str = "") -> str:
    """First line as is, further lines small; a verdict word is coloured. `label` (the column
    name) heads the cell when a narrow screen stacks the table."""
    lines = []
    for i, line in enumerate(text.split("\n")):
        escaped = html.escape(line)
        if line in VERDICTS:
            escaped = f'<span class="{line}">{escaped}</span>'
        lines.append(escaped if i == 0 else f"<small>{escaped}</small>")
    if not label:
        return f"<{tag}>{'<br>'.join(lines)}</{tag}>"
    return f'<{tag} data-label="{html.escape(label)}"><span>{"<br>".join(lines)}</span></{tag}>'


def _table(table: Table) -> str:
    """Tables of more than two columns become one card per row on a narrow screen."""
    head = "".join(_cell(h, "th") for h in table.header)
    labels = table.header if len(table.header) > 2 else [""] * len(table.header)
    rows = "".join(
        "<tr>" + "".join(_cell(c, "td", h) for c, h in zip(row, labels, strict=True)) + "</tr>"
        for row in table.rows
    )
    css = ' class="stack"' if len(table.header) > 2 else ""
    table_html = f"<table{css}><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
    return f'<div class="scroll">{table_html}</div>'


def _html(block: Block, first: bool) -> str:
    if isinstance(block, Heading):
        tag = "h1" if first else "h2"
        return f"<{tag}>{html.escape(block.text)}</{tag}>"
    if isinstance(block, Paragraph):
        return f"<p>{_inline(block.text)}</p>"
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Image):
        data = base64.b64encode(block.path.read_bytes()).decode("ascii")
        return f'<img alt="{html.escape(block.alt)}" src="data:image/png;base64,{data}">'
    if isinstance(block, Samples):
        cards = []
        for s in block.samples:
            answers = "".join(
                f"<div><b>{label}</b>{html.escape(text)}</div>"
                for label, text in (
                    ("reference", s.reference),
                    ("base", s.base),
                    ("fine-tuned", s.finetuned),
                )
            )
            cards.append(
                f'<section class="sample"><h3>{html.escape(s.question)}</h3>'
                f'<div class="answers">{answers}</div></section>'
            )
        return "".join(cards)
    inner = "\n".join(_html(b, False) for b in block.blocks)
    return f"<details><summary>{html.escape(block.summary)}</summary>\n{inner}\n</details>"


def to_html(blocks: list[Block], title: str) -> str:
    """One file, no external references: images are base64 data URIs."""
    body = "\n".join(_html(b, i == 0) for i, b in enumerate(blocks))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>\n"
        f"{body}\n</body></html>\n"
    )
