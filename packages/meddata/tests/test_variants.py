from __future__ import annotations

import pytest

from meddata.variants import VARIANTS, select

UPSTREAM = (
    {f"medical_{f}_instruct_dataset" for f in ("mistral", "llama", "gemma")}
    | {f"medical_{f}_instruct_dataset_short" for f in ("mistral", "llama", "gemma")}
    | {f"{f}_medquad_instruct_dataset" for f in ("mistral", "llama", "gemma")}
    | {f"{f}_medical_meadow_wikidoc_instruct_dataset" for f in ("mistral", "llama", "gemma")}
)


def test_upstream_names_plus_llama3_extras() -> None:
    assert len(UPSTREAM) == 12
    assert set(VARIANTS) >= UPSTREAM
    assert {v.family for n, v in VARIANTS.items() if n not in UPSTREAM} == {"llama3"}
    assert len(VARIANTS) == 16


def test_select_suggests_the_closest_name() -> None:
    assert select(None) == list(VARIANTS.values())
    with pytest.raises(ValueError, match="did you mean 'medical_gemma_instruct_dataset'"):
        select(["medical_gema_instruct_dataset"])
