"""Content rules: rows that are not medical question/answer content; answers with markup left in.

Each rule is a named regular expression over the cleaned question or answer, written down as
data; a row's detail names the first rule that matched (and, for markup, the markup found), so
every quarantined row says why. The patterns come from reading the shipped sources (WikiDoc's
Patient Information set carries ~70 wiki help pages; the Living Textbook sample ~60 questions that
are a paraphrasing model's replies; both carry wiki markup the scrape left in); each was checked
against every row of MedQuAD, where none of them fires. Precision and the counts on the shipped
data are in packages/meddata/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import polars as pl

Column = Literal["input", "output"]


@dataclass(frozen=True)
class Rule:
    """One pattern that marks a row."""

    label: str
    """What the match means, as the quarantine's `detail` says it."""
    column: Column
    """Where the pattern is searched: the question (`input`) or the answer (`output`)."""
    pattern: str
    """A Rust regular expression (polars); `(?i)` for case-insensitive."""


SITE_TERMS = (
    r"wiki(?:doc|pedia|books|links?)?|mediawiki|editor[- ]in[- ]chief|user page"
    r"|microchapter(?:s|ed)?|sockpuppets?|deletion review|reference manager|table of contents"
    r"|sidebar|nowiki|monobook"
    r"|galler(?:y|ies)?|fonts?|svg|redirect|upload|log in|templates?|the page|an article"
    r"|edit(?:ing)? (?:box|window|content)"
)
"""Words of a wiki's own machinery, which a medical question never uses."""

SITE_ANSWER_TERMS = (
    r"wikidoc|mediawiki|wikilinks?|editor[- ]in[- ]chief|user page|microchaptered|nowiki|monobook"
    r"|edit (?:box|window)|editing|patient information page|web colou?rs page"
)
"""The same in an answer, minus words a medical answer may use (WikiDoc's own footer and image
credits are removed first: `Template:WikiDoc Sources`, `WikiDoc Resources for`, `Wikimedia`)."""

EDITING_QUESTION = (
    r"(?i)^(?:how|where|when|why|what) (?:do|can|should) (?:i|you)\b.*\b(?:page|link|image"
    r"|picture|reference|category|template|article|table|colou?r|quotes?|slides?|file)s?\b"
)
"""A how-do-I question about a page element (\"How do I insert an image?\")."""

BARE_QUESTION = (
    r"(?i)^(?:what (?:is|are)(?: \(are\))?|what causes|how to (?:prevent|diagnose)"
    r"|who is at (?:highest )?risk for|what are the (?:symptoms|treatments) (?:of|for)"
    r"|what to do for)[\s?.!]*$"
)
"""A question template whose subject is missing (\"What is (are) ?\", \"What causes?\")."""

NOT_MEDICAL: tuple[Rule, ...] = (
    Rule("wiki site help", "input", rf"(?i)\b(?:{SITE_TERMS})\b"),
    Rule("wiki site help", "input", EDITING_QUESTION),
    Rule("wiki site help", "output", rf"(?i)\b(?:{SITE_ANSWER_TERMS})\b"),
    Rule("placeholder instead of a disease", "input", r"(?i)\((?:disease|project) name\)"),
    Rule(
        "placeholder instead of a disease",
        "output",
        r"(?i)\((?:disease|project) name\)|^(?:here you can|in this section you should"
        r"|this section should)\b",
    ),
    Rule(
        "a paraphrasing request instead of a question",
        "input",
        r"(?i)rephras|paraphras|proper english|grammatically|\bsentence\b"
        r"|\bthe (?:text|statement)\b",
    ),
    Rule(
        "a link instead of an answer",
        "output",
        r"(?i)^(?:directions to hospitals [^\n]*|medical care for [^\n]{1,80} can be found here\.?"
        r"|for [^\n]{0,60}click here\.?)$",
    ),
)
"""Rules for rows that are not medical question/answer content, in the order they are tried."""

HTML_TAGS = (
    "a|abbr|b|big|blockquote|body|br|caption|center|cite|code|dd|del|div|dl|dt|em|font|gallery"
    "|h[1-6]|head|hr|html|i|img|includeonly|ins|li|math|noinclude|nowiki|ol|onlyinclude|p|pre"
    "|ref|references|s|small|span|strike|strong|sub|sup|table|td|th|tr|tt|u|ul"
)
WIKI_LANGUAGES = (
    "ar|bg|ca|cs|da|de|el|eo|es|et|fa|fi|fr|he|hr|hu|id|it|ja|ko|lt|lv|nl|nn|no|pl|pt|ro|ru"
    "|simple|sk|sl|sr|sv|th|tr|uk|vi|zh"
)

MARKUP: tuple[Rule, ...] = (
    Rule("HTML tag", "output", rf"(?i)</?(?:{HTML_TAGS})(?:\s[^<>]*)?/?>"),
    Rule("HTML entity", "output", r"&(?:[a-zA-Z]{2,8}|#[0-9]{2,5}|#x[0-9a-fA-F]{2,4});"),
    Rule("wiki template", "output", r"\{\{[^{}\n]{0,80}\}?\}?|\}\}"),
    Rule("wiki link", "output", r"\[\[[^\]\n]{0,80}\]?\]?|\]\]"),
    Rule(
        "wiki namespace link",
        "output",
        r"\b(?:Template|Category|File|Image|Media|Special|User|Help|Wikipedia)::?[A-Za-z0-9][^\s|\]]*",
    ),
    Rule("wiki bold/italic quotes", "output", r"'''[^'\n]{0,80}'''|''[^'\s][^'\n]{0,80}''"),
    Rule("wiki heading", "output", r"(?m)^={2,}[^=\n]+={2,}"),
    Rule("wiki table", "output", r"\{\||\|\}|(?m)^\|-"),
    Rule("wiki magic word", "output", r"__[A-Z]{3,}__"),
    Rule(
        "wiki navigation box",
        "output",
        r"\bv t e\b|\bMicrochapters Home\b|WikiDoc Resources for\b",
    ),
    Rule("wiki piped link", "output", r"[)}]\|\s?\w+"),
    Rule("wiki citation error", "output", r"CS1 maint:[^\n.]{0,60}|Unknown parameter \|\w+="),
    Rule("wiki interlanguage link", "output", rf"(?m)(?:^|\s)(?:{WIKI_LANGUAGES}):[^\s:]\S*"),
)
"""Markup a scrape left in an answer: the rule's label and the markup itself go in the detail."""

WIKIDOC_FOOTERS = r"Template:WikiDoc Sources|WikiDoc Resources for|Wikimedia\S*"
"""WikiDoc's footer and image credits: markup (caught by MARKUP), not help-page content."""


def _any(patterns: list[str]) -> str:
    return "|".join(f"(?:{p})" for p in patterns)


ANY_IN_QUESTION = _any([BARE_QUESTION, *(r.pattern for r in NOT_MEDICAL if r.column == "input")])
"""One pass that finds every question a rule may flag."""
ANY_IN_ANSWER = _any(
    [WIKIDOC_FOOTERS, *(r.pattern for r in (*NOT_MEDICAL, *MARKUP) if r.column == "output")]
)
"""One pass that finds every answer a rule may flag (footers too: rules see the text without)."""


def content_details(rows: pl.DataFrame) -> pl.DataFrame:
    """`order`, `not_medical_qa` and `markup_in_answer` (the detail, or null) of each row of
    `rows` (`order`, `input`, `output`) that a rule may flag. One combined pattern per column
    picks those rows (a few hundred), so the per-rule patterns only run on them."""
    maybe = rows.filter(
        pl.col("input").str.contains(ANY_IN_QUESTION) | pl.col("output").str.contains(ANY_IN_ANSWER)
    )
    return maybe.select(
        "order", not_medical_qa=not_medical_detail(), markup_in_answer=markup_detail()
    )


def _text(rule: Rule) -> pl.Expr:
    text = pl.col(rule.column)
    return text.str.replace_all(WIKIDOC_FOOTERS, "") if rule.column == "output" else text


def not_medical_detail() -> pl.Expr:
    """Why a row is not medical question/answer content, or null when it is."""
    detail = (
        pl.when(pl.col("input").str.contains(BARE_QUESTION))
        .then(pl.lit("question names no subject"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    for rule in reversed(NOT_MEDICAL):
        where = "question" if rule.column == "input" else "answer"
        detail = (
            pl.when(_text(rule).str.contains(rule.pattern))
            .then(pl.lit(f"{rule.label} ({where})"))
            .otherwise(detail)
        )
    return detail


def markup_detail() -> pl.Expr:
    """The first markup found in the answer (`wiki template: {{#ev:youtube|…}}`), or null."""
    detail = pl.lit(None, dtype=pl.String)
    for rule in reversed(MARKUP):
        found = pl.col(rule.column).str.extract(f"({rule.pattern})", 1)
        detail = (
            pl.when(found.is_not_null())
            .then(pl.format("{}: {}", pl.lit(rule.label), found.str.strip_chars()))
            .otherwise(detail)
        )
    return detail
