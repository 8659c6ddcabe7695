"""The report's building blocks, rendered to Markdown and HTML by report_render.py."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from medeval.evaluation import Sample


@dataclass(frozen=True)
class Heading:
    """A section title (the first one is the page title)."""

    text: str


@dataclass(frozen=True)
class Paragraph:
    """Plain explanatory text (`code` spans allowed)."""

    text: str


@dataclass(frozen=True)
class Table:
    """A table of strings; a newline in a cell starts a new line within it."""

    header: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Image:
    path: Path
    """A PNG inside the run folder (relative link in Markdown, data URI in HTML)."""
    alt: str


@dataclass(frozen=True)
class Samples:
    """Generated answers beside the reference: a table in Markdown, one card each in HTML."""

    samples: list[Sample]


@dataclass(frozen=True)
class Details:
    """Blocks a reader opens on demand (collapsed in the HTML and on GitHub)."""

    summary: str
    blocks: list[Block]


Block = Heading | Paragraph | Table | Image | Samples | Details
