"""Where the repository's own reference data lives (tests never read ../shared or the network)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"
TEMPLATES = DATA / "templates"
"""The official chat templates (data/templates/README.md)."""
VOCAB = DATA / "vocab"
"""llama.cpp's vocab-only GGUFs of the real Llama-2, Llama-3 and Qwen2 tokenizers."""
EVAL_DATA = DATA / "eval"
