"""The dataset variants a config declares: each variant set expanded once per chat family."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from meddata.config import DataConfig, Source, VariantSet
from meddata.families import AnyFormat, family_format


@dataclass(frozen=True)
class Variant:
    """One dataset to build: a variant set's rows rendered in one family's chat format."""

    name: str
    """The set's name pattern with the family filled in."""
    family: str
    """The chat family's name (in the config's `families`)."""
    format: AnyFormat
    """How the family renders a conversation: a built-in format or its chat template."""
    set: VariantSet
    """What rows it holds: the same in every family."""
    corpora: tuple[tuple[Source, ...], ...]
    """Its sources, grouped by corpus in the set's order: one shard (and sample) per corpus."""

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(s.name for corpus in self.corpora for s in corpus)


def corpora(names: tuple[str, ...], config: DataConfig) -> tuple[tuple[Source, ...], ...]:
    """Sources grouped by corpus, each corpus where its first source is listed."""
    groups: dict[str, list[Source]] = {}
    for name in names:
        source = config.source(name)
        groups.setdefault(source.corpus or source.name, []).append(source)
    return tuple(tuple(group) for group in groups.values())


def expand(config: DataConfig) -> dict[str, Variant]:
    """Every variant by name, family by family in the config's order (then the sets' order)."""
    variants: dict[str, Variant] = {}
    for family, declared in config.families.items():
        fmt = family_format(family, declared)
        for spec in config.variants:
            if spec.families is None or family in spec.families:
                name = spec.name.format(family=family)
                grouped = corpora(spec.sources, config)
                variants[name] = Variant(name, family, fmt, spec, grouped)
    return variants


def select(variants: dict[str, Variant], names: list[str] | None) -> list[Variant]:
    """The named variants (all when none are named); unknown names raise with a suggestion."""
    if not names:
        return list(variants.values())
    unknown = [n for n in names if n not in variants]
    if unknown:
        hints = [
            f"{n!r} (did you mean {m[0]!r}?)"
            if (m := difflib.get_close_matches(n, variants, 1))
            else repr(n)
            for n in unknown
        ]
        raise ValueError(f"unknown variant {', '.join(hints)}; see `meddata variants`")
    return [variants[n] for n in names]
