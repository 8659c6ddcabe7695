"""The dataset variants: a table of data (4 sets × chat-format families), not code paths."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from meddata.formats import FORMATS

WIKIDOC = ("medical_meadow_wikidoc", "medical_meadow_wikidoc_patient_information")
MEDQUAD = ("medquad",)


@dataclass(frozen=True)
class VariantSet:
    """What rows a variant holds, independent of the chat format."""

    key: str
    """Short name of the set (`combined`, `short`, `medquad`, `wikidoc`)."""
    name: str
    """Variant name pattern, as upstream published it; `{f}` is the family."""
    groups: tuple[tuple[str, ...], ...]
    """Groups of sources; each group is one corpus (WikiDoc's two parts form one)."""
    rows_per_group: int | None = None
    """If set, a seeded sample of this many rows from each group."""
    description: str = ""
    """One line for the dataset card."""


SETS = (
    VariantSet(
        "combined",
        "medical_{f}_instruct_dataset",
        (WIKIDOC, MEDQUAD),
        description="Medical Meadow WikiDoc and MedQuAD combined",
    ),
    VariantSet(
        "short",
        "medical_{f}_instruct_dataset_short",
        (WIKIDOC, MEDQUAD),
        rows_per_group=1000,
        description="2,000 rows: 1,000 from Medical Meadow WikiDoc, 1,000 from MedQuAD (seeded)",
    ),
    VariantSet("medquad", "{f}_medquad_instruct_dataset", (MEDQUAD,), description="MedQuAD"),
    VariantSet(
        "wikidoc",
        "{f}_medical_meadow_wikidoc_instruct_dataset",
        (WIKIDOC,),
        description="Medical Meadow WikiDoc (Living Textbook and Patient Information)",
    ),
)


@dataclass(frozen=True)
class Variant:
    """One dataset to build: a set of rows rendered in one family's chat format."""

    name: str
    family: str
    set: VariantSet

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(s for group in self.set.groups for s in group)


VARIANTS: dict[str, Variant] = {
    v.name: v for v in (Variant(s.name.format(f=f), f, s) for f in FORMATS for s in SETS)
}
"""All variants by name: the 12 upstream ones and the 4 `llama3` extras."""


def select(names: list[str] | None) -> list[Variant]:
    """The named variants (all when none are named); unknown names raise with a suggestion."""
    if not names:
        return list(VARIANTS.values())
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        hints = [
            f"{n!r} (did you mean {m[0]!r}?)"
            if (m := difflib.get_close_matches(n, VARIANTS, 1))
            else repr(n)
            for n in unknown
        ]
        raise ValueError(f"unknown variant {', '.join(hints)}; see `meddata variants`")
    return [VARIANTS[n] for n in names]
