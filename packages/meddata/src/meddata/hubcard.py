"""Checks of a variant's dataset card before publishing, offline and before any upload.

huggingface_hub parses the card (`DatasetCard`, used here) but checks its values only online:
`RepoCard.validate` and `create_commit` send it to the Hub's `validate-yaml`. A dry run without
the Hub and a refusal before any work need these local checks; the Hub's own check still runs
when the commit is made.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

_HUB_LICENSES = """
    apache-2.0 mit openrail bigscience-openrail-m creativeml-openrail-m
    bigscience-bloom-rail-1.0 bigcode-openrail-m afl-3.0 artistic-2.0 bsl-1.0 bsd bsd-2-clause
    bsd-3-clause bsd-3-clause-clear c-uda cc cc0-1.0 cc-by-2.0 cc-by-2.5 cc-by-3.0 cc-by-4.0
    cc-by-sa-3.0 cc-by-sa-4.0 cc-by-nc-2.0 cc-by-nc-3.0 cc-by-nc-4.0 cc-by-nd-4.0
    cc-by-nc-nd-3.0 cc-by-nc-nd-4.0 cc-by-nc-sa-2.0 cc-by-nc-sa-3.0 cc-by-nc-sa-4.0
    cdla-sharing-1.0 cdla-permissive-1.0 cdla-permissive-2.0 wtfpl ecl-2.0 epl-1.0 epl-2.0
    etalab-2.0 eupl-1.1 eupl-1.2 agpl-3.0 gfdl gpl gpl-2.0 gpl-3.0 lgpl lgpl-2.1 lgpl-3.0 isc
    h-research intel-research lppl-1.3c ms-pl apple-ascl apple-amlr mpl-2.0 odc-by odbl
    openrail++ osl-3.0 postgresql ofl-1.1 ncsa unlicense zlib pddl lgpl-lr deepfloyd-if-license
    llama2 llama3 llama3.1 llama3.2 llama3.3 llama4 gemma unknown other
"""
LICENSES = frozenset(_HUB_LICENSES.split())
"""License identifiers the Hub accepts in card metadata (its documented list)."""

SIZE_CATEGORIES = frozenset(
    ["n<1K", "1K<n<10K", "10K<n<100K", "100K<n<1M", "1M<n<10M", "10M<n<100M", "100M<n<1B"]
)
LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]+)*\Z")
REQUIRED = ("license", "language", "task_categories", "size_categories", "configs")
"""Card metadata fields a variant's repo must have."""


def card_metadata(readme: str) -> dict[str, Any]:
    """The YAML header of a card, parsed by huggingface_hub (empty when it has none)."""
    from huggingface_hub import DatasetCard

    return dict(DatasetCard(readme).data.to_dict())


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _license_problems(meta: dict[str, Any]) -> list[str]:
    bad = [str(v) for v in _as_list(meta["license"]) if v not in LICENSES]
    problems = [f"license {', '.join(bad)} is not a Hub license identifier"] if bad else []
    if "other" in _as_list(meta["license"]) and not {"license_name", "license_link"} <= set(meta):
        problems.append("license `other` needs license_name and license_link")
    return problems


def _value_problems(meta: dict[str, Any], files: set[str]) -> list[str]:
    problems = []
    bad_lang = [str(v) for v in _as_list(meta["language"]) if not LANGUAGE.match(str(v))]
    if bad_lang:
        problems.append(f"language {', '.join(bad_lang)} is not an ISO 639 code")
    bad_size = [str(v) for v in _as_list(meta["size_categories"]) if v not in SIZE_CATEGORIES]
    if bad_size:
        problems.append(f"size_categories {', '.join(bad_size)} is not a Hub size category")
    for config in _as_list(meta["configs"]):
        data_files = config.get("data_files", []) if isinstance(config, dict) else []
        if not data_files:
            problems.append("every configs entry needs config_name and data_files")
        for entry in _as_list(data_files):
            pattern = entry.get("path", "") if isinstance(entry, dict) else str(entry)
            if not any(Path(f).match(pattern) for f in files):
                problems.append(f"configs data_files {pattern!r} matches no file")
    return problems


def check_card(readme: str, files: set[str]) -> dict[str, Any]:
    """The card's metadata; raises ValueError naming every problem (`files`: repo paths)."""
    import yaml

    try:
        meta = card_metadata(readme)
    except (ValueError, yaml.YAMLError) as err:
        raise ValueError(f"README.md: {' '.join(str(err).split())}") from err
    missing = [name for name in REQUIRED if meta.get(name) in (None, "", [])]
    if missing:
        raise ValueError(f"README.md metadata lacks {', '.join(missing)}")
    problems = _license_problems(meta) + _value_problems(meta, files)
    if problems:
        raise ValueError(f"README.md metadata: {'; '.join(problems)}")
    return meta
