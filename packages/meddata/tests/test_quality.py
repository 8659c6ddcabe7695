"""The content rules: each pattern on rows from the shipped sources, and none on medical rows."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from meddata.quality import content_details, markup_detail, not_medical_detail


def details(question: str, answer: str) -> tuple[str | None, str | None]:
    frame = pl.DataFrame({"input": [question], "output": [answer]})
    return frame.select(not_medical_detail(), markup_detail().alias("markup")).row(0)


@pytest.mark.parametrize(
    ("question", "answer", "expected"),
    [
        (
            "How Do I Align the Gallery to the right or left and have text float around it?",
            "To achieve the format below: Normal arteriole",
            "wiki site help (question)",
        ),
        (
            "Who Is The Editor In Chief For The Entire Wikidoc Site?",
            "Dr. Gibson.",
            "wiki site help (question)",
        ),
        ("How do I insert an image?", "For instructions, Click here", "wiki site help (question)"),
        ("What is a template?", "A template is a program that...", "wiki site help (question)"),
        (
            "What Colors Are Available?",
            "You can select a color on the Web colors page.",
            "wiki site help (answer)",
        ),
        (
            "What is the reason?",
            "This code in the edit window: creates a line",
            "wiki site help (answer)",
        ),
        (
            "What Causes (disease name)?",
            "Mutations in the AR gene.",
            "placeholder instead of a disease (question)",
        ),
        (
            "Where to find Medical Care for Pompe Disease?",
            "Medical care for (disease name) can be found here.",
            "placeholder instead of a disease (answer)",
        ),
        (
            "When to seek urgent medical care when I have Pleomorphic adenoma ?",
            "This section should focus on the symptoms that may indicate impending danger.",
            "placeholder instead of a disease (answer)",
        ),
        (
            "Could you provide me with the text that needs to be rephrased?",
            "Staging can be done via endoscopy.",
            "a paraphrasing request instead of a question (question)",
        ),
        (
            '"What is Congenital CMV?" is already in proper English.',
            "There are no screening recommendations.",
            "a paraphrasing request instead of a question (question)",
        ),
        (
            "Where to find centers that perform Thoracentesis?",
            "Directions to Hospitals Performing Thoracentesis",
            "a link instead of an answer (answer)",
        ),
        (
            "Where to find Medical Care for Lyme Disease?",
            "Medical care for Lyme disease can be found here.",
            "a link instead of an answer (answer)",
        ),
        ("What is (are) ?", "On this Page General Information", "question names no subject"),
        ("What causes?", "Humans are the only known reservoir.", "question names no subject"),
    ],
)
def test_not_medical_rows_are_named(question: str, answer: str, expected: str) -> None:
    assert details(question, answer)[0] == expected


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("What are the symptoms of Color blindness?", "Trouble seeing colors."),
        ("What causes Cellulitis?", "Bacteria; click on the following categories to expand."),
        ("How do I know if I have hereditary pancreatitis?", "Pain and vomiting are common."),
        (
            "Where to find centers that perform dialysis?",
            "Directions to Hospitals Treating Dialysis\nMost often, hemodialysis is done weekly.",
        ),
        (
            "What is the outlook for Hepatitis A?",
            "Most people recover; see the Wikimedia Commons image.",
        ),
        ("What is (are) Hepatitis A ?", "A liver infection.\nTemplate:WikiDoc Sources"),
        (
            "What are the treatments for Atherosclerosis ?",
            "The vessel redirects blood around the block.",
        ),
    ],
)
def test_medical_rows_pass(question: str, answer: str) -> None:
    assert details(question, answer)[0] is None


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            "Shown below is a video.\n{{#ev:youtube|sGTttwrx2xw}}",
            "wiki template: {{#ev:youtube|sGTttwrx2xw}}",
        ),
        ("It resolves.\nTemplate:WH Template:WS", "wiki namespace link: Template:WH"),
        ("E_f = SV / EDV <math>E_f</math>", "HTML tag: <math>"),
        ("See the notes.</ref> More text.", "HTML tag: </ref>"),
        ("Use caution &amp; rest.", "HTML entity: &amp;"),
        ("the combination of all-''trans'' retinoic acid", "wiki bold/italic quotes: ''trans''"),
        ("Text\n==What is pericarditis?==\nMore", "wiki heading: ==What is pericarditis?=="),
        ("Rheumatic fever\nv t e Cardiovascular disease", "wiki navigation box: v t e"),
        ("Agitation (patient information)|agitation and confusion", "wiki piped link: )|agitation"),
        (
            "PMID 19758907. Unknown parameter |month= ignored",
            "wiki citation error: Unknown parameter |month=",
        ),
        (
            "A rare disease.\nde:Periventrikuläre Leukomalazie",
            "wiki interlanguage link: de:Periventrikuläre",
        ),
    ],
)
def test_markup_is_named_with_what_was_found(answer: str, expected: str) -> None:
    assert details("What is it?", answer)[1] == expected


@pytest.mark.parametrize(
    "answer",
    [
        "Blood pressure < 140/90 mmHg and HbA1c <7% are targets.",
        "The ratio was 2:1 (P=0.02 | HR 0.84).",
        "Type 2 diabetes; see https://www.niddk.nih.gov/health-information.",
        "Symptoms include: fever, rash.\nNote: seek care.",
        "A 'mild' case vs a \"severe\" one.",
    ],
)
def test_ordinary_punctuation_is_not_markup(answer: str) -> None:
    assert details("What is it?", answer)[1] is None


def test_the_combined_prefilter_misses_no_row(real_build: Path) -> None:
    clean = real_build / "clean"
    texts = pl.concat(
        [
            pl.read_parquet(clean / "rows.parquet").select("input", "output"),
            pl.read_parquet(clean / "quarantine.parquet").select("input", "output"),
        ]
    ).with_row_index("order")
    every = texts.select(
        "order", not_medical_qa=not_medical_detail(), markup_in_answer=markup_detail()
    ).filter(pl.col("not_medical_qa").is_not_null() | pl.col("markup_in_answer").is_not_null())
    fast = content_details(texts).filter(
        pl.col("not_medical_qa").is_not_null() | pl.col("markup_in_answer").is_not_null()
    )
    assert fast.equals(every) and every.height > 250
