"""Benchmark contamination: training rows that share a 13-gram with, or ask nearly the same
question as, a benchmark item.

13-grams as lm-evaluation-harness defines decontamination (lm_eval/decontamination/janitor.py):
ASCII letters lowercased, ASCII punctuation deleted, split on whitespace, every run of 13 words.
A training row (question and answer) is contaminated by an item when any 13-gram of the row is
one of the item's (each string of the item separately: question, options, contexts, answers).
polars finds the candidates (a rolling sum of word hashes over 13 words; equal 13-grams always
have equal sums), and Python confirms each one with the exact 13-grams, so a candidate that only
collides is never reported. Near-duplicate questions: the benchmark's question field against the
training questions, by the same MinHash index and shingle Jaccard as the near-duplicate rule.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field

import polars as pl

from meddata.clean import Cleaned
from meddata.evalsets import Benchmark
from meddata.formats import PY_WHITESPACE
from meddata.neardup import QuestionIndex, question_key

NGRAM = 13
"""Words per n-gram (lm-evaluation-harness's `ngram_n`)."""
JANITOR = str.maketrans(
    string.ascii_lowercase + string.ascii_uppercase, string.ascii_lowercase * 2, string.punctuation
)
"""lm-evaluation-harness's `Janitor.translation_table`."""
HASH_BITS = (1 << 40) - 1
"""Word hashes are cut to 40 bits so a sum of 13 fits in an Int64."""


def ngrams(text: str) -> set[str]:
    """The 13-grams of `text`, exactly as lm-evaluation-harness's janitor makes them."""
    words = text.translate(JANITOR).split()
    return {" ".join(words[i : i + NGRAM]) for i in range(len(words) - NGRAM + 1)}


def _janitor_words(text: pl.Expr) -> pl.Expr:
    """The same normalization, vectorized (one Aho-Corasick pass maps ASCII capitals to small
    letters, deletes ASCII punctuation and makes every whitespace a space): each text's words,
    with empty strings where spaces repeat."""
    upper, punct = list(string.ascii_uppercase), list(string.punctuation)
    spaces = [c for c in PY_WHITESPACE if c != " "]
    replace = [c.lower() for c in upper] + [""] * len(punct) + [" "] * len(spaces)
    return text.str.replace_many(upper + punct + spaces, replace).str.split(" ")


def _window_sums(frame: pl.DataFrame) -> pl.DataFrame:
    """`doc` and `key` (sum of 13 consecutive word hashes) for every 13-word window of `text`."""
    words = frame.select("doc", w=_janitor_words(pl.col("text"))).explode("w")
    words = words.filter(pl.col("w").is_not_null() & (pl.col("w") != ""))
    return (
        words.with_columns(
            key=(pl.col("w").hash(seed=13) & HASH_BITS).cast(pl.Int64).rolling_sum(NGRAM),
            pos=pl.int_range(pl.len()).over("doc"),
        )
        .filter(pl.col("pos") >= NGRAM - 1)
        .select("doc", "key")
    )


@dataclass
class Hits:
    """What one benchmark's check found."""

    benchmark: Benchmark
    """The benchmark checked."""
    rows: list[dict[str, str]] = field(default_factory=list)
    """One entry per (item, training row) found: item, row id, source, match, evidence."""

    def summary(self) -> dict[str, object]:
        return {
            "files": list(self.benchmark.files),
            "ignored_files": list(self.benchmark.ignored),
            "items_checked": self.benchmark.items.height,
            "items_hit": len({h["item"] for h in self.rows}),
            "training_rows_hit": len({h["row"] for h in self.rows}),
            "hits": self.rows,
        }


def check(
    training: pl.DataFrame,
    benchmarks: list[Benchmark],
    question_similarity: float,
    index: QuestionIndex | None = None,
) -> list[Hits]:
    """Every benchmark against the training rows (`id`, `source`, `input`, `output`).

    `index`, if built over the training questions already (the near-duplicate rule's), is
    reused; otherwise one is built here.
    """
    keys = training.select(question_key(pl.col("input")))["input"].to_list()
    if index is None or index.lsh is None or not set(keys) <= set(index.keys):
        index = QuestionIndex().build(list(dict.fromkeys(keys)))
    rows_of: dict[str, list[int]] = {}
    for row, key in enumerate(keys):
        rows_of.setdefault(key, []).append(row)
    docs = training.select(
        doc=pl.int_range(pl.len()), text=pl.concat_str(["input", "output"], separator="\n")
    )
    windows = _window_sums(docs)
    return [
        Hits(
            b,
            _ngram_hits(b, training, windows)
            + _question_hits(b, training, index, rows_of, question_similarity),
        )
        for b in benchmarks
    ]


def _ngram_hits(
    benchmark: Benchmark, training: pl.DataFrame, windows: pl.DataFrame
) -> list[dict[str, str]]:
    fields = benchmark.items.select("item", text="texts").explode("text").drop_nulls()
    fields = fields.with_columns(doc=pl.int_range(pl.len()))
    bench = _window_sums(fields.select("doc", "text"))
    pairs = (
        windows.join(bench.rename({"doc": "field"}), on="key")
        .select("doc", "field")
        .unique()
        .sort("doc", "field")
    )
    hits, seen = [], set()
    for doc, field_no in pairs.iter_rows():
        item, text = fields.row(field_no)[:2]
        row = training.row(doc, named=True)
        shared = ngrams(f"{row['input']}\n{row['output']}") & ngrams(text)
        if shared and (item, row["id"]) not in seen:
            seen.add((item, row["id"]))
            hits.append(_hit(item, row, "13-gram", min(shared)))
    return hits


def _question_hits(
    benchmark: Benchmark,
    training: pl.DataFrame,
    index: QuestionIndex,
    rows_of: dict[str, list[int]],
    question_similarity: float,
) -> list[dict[str, str]]:
    asked = benchmark.items.filter(pl.col("question").is_not_null())
    keys = asked.select(question_key(pl.col("question")))["question"].to_list()
    index.sketch(keys)
    hits = []
    for item, key in zip(asked["item"].to_list(), keys, strict=True):
        for position, similarity in index.similar(key, question_similarity):
            for row in rows_of.get(index.keys[position], []):
                evidence = f"questions {similarity:.0%} alike"
                hits.append(_hit(item, training.row(row, named=True), "question", evidence))
    return hits


def _hit(item: str, row: dict[str, str], match: str, evidence: str) -> dict[str, str]:
    return {
        "item": item,
        "row": row["id"],
        "source": row["source"],
        "match": match,
        "evidence": evidence,
    }


def report(
    found: list[Hits], checked: str, training_rows: int, action: str, question_similarity: float
) -> dict[str, object]:
    """contamination.json: what was checked, how, and what each benchmark hit."""
    return {
        "checked": checked,
        "training_rows": training_rows,
        "action": action,
        "method": {
            "ngram": f"{NGRAM}-gram overlap as lm-evaluation-harness decontamination defines it "
            "(ASCII lowercase, ASCII punctuation deleted, whitespace-split words), each string "
            "of an item (question, options, contexts, answers) against question + answer",
            "question": "near-duplicate question: Jaccard similarity of 5-character shingles "
            f"of the normalized questions >= {question_similarity} (MinHash LSH candidates, "
            "verified exactly)",
        },
        "benchmarks": {hits.benchmark.name: hits.summary() for hits in found},
    }


def screen(
    cleaned: Cleaned,
    benchmarks: list[Benchmark],
    question_similarity: float,
    keep: bool,
    index: QuestionIndex | None = None,
) -> tuple[Cleaned, dict[str, object]]:
    """The build's check: the train split of `cleaned.rows` (with ids) against `benchmarks`;
    hit rows are moved to the quarantine as `benchmark_overlap` unless `keep`. Returns the
    rows left and the report (contamination.json)."""
    training = cleaned.rows.filter(pl.col("split") == "train")
    found = check(training, benchmarks, question_similarity, index)
    action = "kept (--keep-contaminated)" if keep else "removed"
    summary = report(
        found, "train split of this build", training.height, action, question_similarity
    )
    return (cleaned if keep else cleaned.drop(hit_rows(found), "benchmark_overlap")), summary


def hit_rows(found: list[Hits]) -> pl.DataFrame:
    """`id` and `detail` of every training row some benchmark hit (first hit per row)."""
    details: dict[str, str] = {}
    for hits in found:
        for h in hits.rows:
            details.setdefault(
                h["row"],
                f"{h['match']} overlap with {hits.benchmark.name} {h['item']}: {h['evidence']}",
            )
    return pl.DataFrame(
        {"id": list(details), "detail": list(details.values())},
        schema={"id": pl.String, "detail": pl.String},
    )
