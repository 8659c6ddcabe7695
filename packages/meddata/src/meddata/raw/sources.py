"""The default sources, as data: where each lives, how it is read, its license and citation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from meddata.errors import InputError
from meddata.raw.checksums import verify_file
from meddata.raw.medquad import read_medquad
from meddata.raw.result import RawRead
from meddata.raw.wikidoc import read_wikidoc, read_wikidoc_hub

MEDQUAD_CITATION = (
    'Ben Abacha A., Demner-Fushman D. "A Question-Entailment Approach to Question Answering". '
    "BMC Bioinformatics 20, 511 (2019)."
)
WIKIDOC_CITATION = (
    'Han T. et al. "MedAlpaca — An Open-Source Collection of Medical Conversational AI Models and '
    'Training Data". arXiv:2304.08247 (2023). Text from WikiDoc (wikidoc.org), CC BY-SA 3.0.'
)


@dataclass(frozen=True)
class Source:
    """One raw source the datasets are built from."""

    name: str
    """Its name in the CLI, in the `source` column and in the statistics."""
    path: str
    """The default file, relative to the raw data folder (and listed in its SHA256SUMS)."""
    reader: Literal["medquad", "wikidoc"]
    """Which reader parses it."""
    corpus: str
    """The corpus it belongs to: the dataset variants pick their sources by corpus."""
    license: str
    """License of its text, as a Hub dataset card writes it (`cc-by-4.0`)."""
    citation: str
    """What to cite when publishing data built from it."""
    hub_id: str | None = None
    """The Hub dataset holding the same rows, loaded instead of the file with `hub`."""


SOURCES: dict[str, Source] = {
    source.name: source
    for source in (
        Source(
            name="medical_meadow_wikidoc",
            path="medical_meadow_wikidoc/medical_meadow_wikidoc_sample.csv",
            reader="wikidoc",
            corpus="medical_meadow_wikidoc",
            license="cc-by-sa-3.0",
            citation=WIKIDOC_CITATION,
            hub_id="medalpaca/medical_meadow_wikidoc",
        ),
        Source(
            name="medical_meadow_wikidoc_patient_information",
            path="medical_meadow_wikidoc/medical_meadow_wikidoc_patient_information.json",
            reader="wikidoc",
            corpus="medical_meadow_wikidoc",
            license="cc-by-sa-3.0",
            citation=WIKIDOC_CITATION,
            hub_id="medalpaca/medical_meadow_wikidoc_patient_information",
        ),
        Source(
            name="medquad",
            path="medquad/MedQuAD.tar.xz",
            reader="medquad",
            corpus="medquad",
            license="cc-by-4.0",
            citation=MEDQUAD_CITATION,
        ),
    )
}
"""Every default source, by name."""

READERS: dict[str, Callable[[Path, Source], RawRead]] = {
    "medquad": lambda path, _: read_medquad(path),
    "wikidoc": lambda path, source: RawRead(rows=read_wikidoc(path, source.name), path=str(path)),
}
"""How each kind of source is read from a local file or folder."""


def read_source(
    name: str,
    raw_dir: Path | str,
    override_path: Path | str | None = None,
    *,
    verify: bool = True,
) -> RawRead:
    """Read a source from its default file in `raw_dir` (checksum verified) or from an override.

    `override_path` is a file or folder, `hub` (the source's registered Hub dataset) or
    `hub:<owner>/<name>` (any Hub dataset with `input`/`output` columns).
    """
    source = SOURCES.get(name)
    if source is None:
        raise InputError(f"source {name!r}", "unknown source", f"Use one of: {', '.join(SOURCES)}")
    if isinstance(override_path, str) and (
        override_path == "hub" or override_path.startswith("hub:")
    ):
        return _read_hub(source, override_path)
    if override_path is not None:
        return READERS[source.reader](Path(override_path), source)
    if verify:
        verify_file(Path(raw_dir), source.path)
    return READERS[source.reader](Path(raw_dir) / source.path, source)


def _read_hub(source: Source, spec: str) -> RawRead:
    hub_id = source.hub_id if spec == "hub" else spec.removeprefix("hub:")
    if source.reader != "wikidoc" or not hub_id:
        raise InputError(
            spec, f"no Hub dataset is registered for {source.name}", "Pass a file or folder"
        )
    return RawRead(rows=read_wikidoc_hub(hub_id, source.name), path=f"hub:{hub_id}")
