"""artifacts/bench/eval_parity.json as the Markdown table the READMEs show:
`python -m benchmarks.parity.table [FILE]`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

DEFAULT = Path(__file__).resolve().parents[2] / "artifacts" / "bench" / "eval_parity.json"
HEADER = (
    "| task | items | acc harness | acc medeval | same pick | Δ acc (points) | harness s "
    "| medeval s | speedup | medeval GFLOP/s | peak GFLOP/s | of peak "
    "| of peak, attention free / at peak |\n"
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
)


def _mark(ok: bool) -> str:
    return "" if ok else " ✗"


def _ceiling(c: dict[str, float]) -> str:
    free, at_peak = c["fraction_if_attention_free"], c["fraction_if_attention_at_peak"]
    return f"{100 * free:.0f}% / {100 * at_peak:.0f}%"


def row(name: str, t: dict[str, Any]) -> str:
    met = t["met"]
    cells = [
        name,
        str(t["items"]),
        f"{100 * t['harness']['acc']:.1f}",
        f"{100 * t['medeval']['acc']:.1f}",
        f"{100 * t['same_pick']:.0f}%{_mark(met['same_pick'])}",
        f"{t['acc_diff_points']:.1f}{_mark(met['acc_diff_points'])}",
        f"{t['harness']['seconds']:.1f}",
        f"{t['medeval']['seconds']:.1f}",
        f"{t['speedup']:.2f}x{_mark(met['speedup'])}",
        f"{t['medeval_gflop_per_s']:.0f}",
        f"{t['peak_gflop_per_s']:.0f}",
        f"{100 * t['fraction_of_peak']:.0f}%{_mark(met['fraction_of_peak'])}",
        _ceiling(t["ceiling"]),
    ]
    return "| " + " | ".join(cells) + " |"


def table(result: dict[str, Any]) -> str:
    total = result["total"]
    lines = [HEADER, *(row(name, t) for name, t in result["tasks"].items())]
    lines.append(
        f"| **all** | {total['items']} | {100 * total['harness_average_acc']:.1f} (mean) "
        f"| {100 * total['medeval_average_acc']:.1f} (mean) | {100 * total['same_pick']:.1f}% "
        f"| | {total['harness_seconds']:.0f} | {total['medeval_seconds']:.0f} "
        f"| {total['speedup']:.2f}x | {total['medeval_gflop_per_s']:.0f} "
        f"| {total['peak_gflop_per_s']:.0f} | {100 * total['fraction_of_peak']:.0f}% "
        f"| {_ceiling(total['ceiling'])} |"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    print(table(json.loads(path.read_text(encoding="utf-8"))))
