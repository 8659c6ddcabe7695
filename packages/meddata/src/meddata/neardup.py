"""Near-duplicate questions: MinHash sketches and LSH (datasketch) over character shingles.

A question that asks what an earlier row already asks is dropped, keeping the first row in read
order (sources in their configured order, rows in file order): the same question after case,
punctuation, spacing and possessives are ignored ("Alzheimer's Disease" = "alzheimer disease"),
whatever the answers say; or a near-identical question (Jaccard similarity of 5-character
shingles >= `question_similarity`) whose answer is near-identical too (word-trigram Jaccard >=
`answer_similarity`). The answer check is what keeps "Spinocerebellar ataxia 2" and "... 3" (92%
alike, different diseases, different answers) while dropping "Noonan syndrome 2" / "4", which
MedQuAD answers with the same text. LSH only proposes candidates; every pair is verified exactly.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from meddata.text import dedup_key

if TYPE_CHECKING:
    from datasketch import MinHash, MinHashLSH

NUM_PERM = 64
"""Permutations per sketch (recall at the thresholds used is measured in the tests)."""
SEED = 1
"""Seed of the permutations: the same sketches, and rows dropped, on every machine."""
SHINGLE = 5
"""Bytes (characters, for ASCII) per question shingle."""
LSH_THRESHOLD = 0.7
"""Where LSH starts proposing candidates: below the verified threshold, for recall."""
ESTIMATE_MARGIN = 0.15
"""Candidates whose sketch estimate is this far below the threshold skip the exact check."""


def question_key(expr: pl.Expr) -> pl.Expr:
    """The question with case, punctuation, spacing and possessive 's ignored."""
    return dedup_key(expr.str.replace_all(r"(?i)(?:'|’|%27)s\b", ""))


def shingles(text: str) -> frozenset[bytes]:
    """Overlapping 5-byte pieces of ` text ` in UTF-8 (the padding marks word edges)."""
    padded = f" {text} ".encode()
    return frozenset(padded[i : i + SHINGLE] for i in range(max(1, len(padded) - SHINGLE + 1)))


def word_trigrams(text: str) -> frozenset[str]:
    words = text.split()
    return frozenset(" ".join(words[i : i + 3]) for i in range(max(1, len(words) - 2)))


def jaccard(a: frozenset[str] | frozenset[bytes], b: frozenset[str] | frozenset[bytes]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


@dataclass
class QuestionIndex:
    """Question keys sketched once and indexed for similarity queries; the near-duplicate rule
    builds it and the benchmark check reuses it. CRC-32 hashes the shingles (datasketch's
    `hashfunc` hook; its default SHA-1 costs twice as much here) and datasketch mixes each hash
    before permuting it."""

    sketches: dict[str, MinHash] = field(default_factory=dict)
    """Sketch per question key, made on first use."""
    keys: list[str] = field(default_factory=list)
    """The indexed keys, by position."""
    lsh: MinHashLSH | None = None
    """LSH over the indexed keys' sketches."""
    _shingles: dict[str, frozenset[bytes]] = field(default_factory=dict)

    def sketch(self, keys: Sequence[str]) -> list[MinHash]:
        # Imported here: datasketch pulls in scipy (0.4 s), which only builds should pay for.
        from datasketch import MinHash

        new = [k for k in dict.fromkeys(keys) if k not in self.sketches]
        if new:
            pieces = (self.shingles(k) for k in new)
            made = MinHash.bulk(pieces, num_perm=NUM_PERM, seed=SEED, hashfunc=zlib.crc32)
            self.sketches.update(zip(new, made, strict=True))
        return [self.sketches[k] for k in keys]

    def shingles(self, key: str) -> frozenset[bytes]:
        if key not in self._shingles:
            self._shingles[key] = shingles(key)
        return self._shingles[key]

    def build(self, keys: Sequence[str]) -> QuestionIndex:
        from datasketch import MinHashLSH

        self.keys = list(keys)
        self.lsh = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)
        with self.lsh.insertion_session() as session:
            for position, sketch in enumerate(self.sketch(self.keys)):
                session.insert(position, sketch)
        return self

    def similar(self, key: str, similarity: float) -> list[tuple[int, float]]:
        """Indexed positions whose key's shingle Jaccard with `key` is >= `similarity`."""
        if self.lsh is None:
            raise RuntimeError("build the index first")
        sketch = self.sketches.get(key) or self.sketch([key])[0]
        found = np.array(sorted(self.lsh.query(sketch)), dtype=np.int64)
        likely = found[self._estimates(found, sketch.hashvalues) >= similarity - ESTIMATE_MARGIN]
        exact = ((int(p), jaccard(self.shingles(key), self.shingles(self.keys[p]))) for p in likely)
        return [(p, j) for p, j in exact if j >= similarity]

    def pairs(self, similarity: float) -> list[tuple[int, int, float]]:
        """`(i, j, jaccard)`, i < j, for every pair of indexed keys LSH puts in one bucket whose
        shingle Jaccard is >= `similarity`."""
        if self.lsh is None:
            raise RuntimeError("build the index first")
        n = len(self.keys)
        codes = [np.zeros(0, dtype=np.int64)]
        for table, counts in zip(self.lsh.hashtables, self.lsh.get_counts(), strict=True):
            for bucket, size in counts.items():
                if size > 1:
                    members = np.sort(np.fromiter(table.get(bucket), dtype=np.int64, count=size))
                    first, second = np.triu_indices(size, 1)
                    codes.append(members[first] * n + members[second])
        found = np.unique(np.concatenate(codes))
        if not found.size:
            return []
        pairs = np.stack([found // n, found % n], axis=1)
        signatures = self._signatures()
        estimates = (signatures[pairs[:, 0]] == signatures[pairs[:, 1]]).mean(axis=1)
        likely = pairs[estimates >= similarity - ESTIMATE_MARGIN].tolist()
        exact = (
            (i, j, jaccard(self.shingles(self.keys[i]), self.shingles(self.keys[j])))
            for i, j in likely
        )
        return [(i, j, q) for i, j, q in exact if q >= similarity]

    def _signatures(self) -> np.ndarray:
        return np.stack([self.sketches[k].hashvalues for k in self.keys])

    def _estimates(self, positions: np.ndarray, hashvalues: np.ndarray) -> np.ndarray:
        if not len(positions):
            return np.zeros(0)
        stack = np.stack([self.sketches[self.keys[p]].hashvalues for p in positions])
        return (stack == hashvalues).mean(axis=1)


def empty_near_duplicates() -> pl.DataFrame:
    return pl.DataFrame(schema={"order": pl.UInt32, "detail": pl.String})


def near_duplicates(
    usable: pl.DataFrame,
    question_similarity: float,
    answer_similarity: float,
    index: QuestionIndex | None = None,
) -> pl.DataFrame:
    """`order` and `detail` of each row whose question an earlier kept row already asks.

    `usable` holds `order` (read order), `label` (how a detail names a row), `input`, `output`.
    `index` is built over the distinct question keys (and can be queried afterwards).
    """
    rows = usable.sort("order").with_columns(key=question_key(pl.col("input")))
    first = rows.filter(pl.col("key").is_first_distinct())
    same = (
        rows.filter(~pl.col("key").is_first_distinct())
        .join(first.select("key", first=pl.col("label")), on="key")
        .select("order", detail=pl.format("same question as {}", "first"))
    )
    index = (index or QuestionIndex()).build(first["key"].to_list())
    pairs = index.pairs(question_similarity)
    involved = sorted({n for i, j, _ in pairs for n in (i, j)})
    answers = first[involved].select(dedup_key(pl.col("output")))["output"].to_list()
    trigrams = dict(zip(involved, map(word_trigrams, answers), strict=True))
    dropped: dict[int, str] = {}
    labels = first["label"].to_list()
    for i, j, q in sorted(pairs, key=lambda p: (p[1], p[0])):
        small, large = sorted((len(trigrams[i]), len(trigrams[j])))
        if j in dropped or i in dropped or small < answer_similarity * large:
            continue  # (sets that far apart in size cannot be that alike)
        a = jaccard(trigrams[i], trigrams[j])
        if a >= answer_similarity:
            dropped[j] = f"question {q:.0%} like {labels[i]}'s, answer {a:.0%} alike"
    orders = first["order"]
    similar = pl.DataFrame(
        {"order": [orders[j] for j in dropped], "detail": list(dropped.values())},
        schema=empty_near_duplicates().schema,
    )
    return pl.concat([same.cast(similar.schema), similar]).sort("order")
