"""Merge the per-benchmark result files into artifacts/bench/results.json and print a summary."""

from __future__ import annotations

import json
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "artifacts" / "bench"


def main(names: list[str]) -> None:
    results = {name: json.loads((BENCH / f"{name}.json").read_text()) for name in names}
    (BENCH / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    for name, result in results.items():
        verdict = "met" if result.get("met") else "NOT met"
        print(f"{name:10} target {verdict}: {json.dumps(result)}")


if __name__ == "__main__":
    main(sys.argv[1:])
