import pytest

from medeval.text_metrics import rouge_l, rouge_tokens, squad_tokens, token_f1


def test_tokenizers() -> None:
    assert rouge_tokens("The Heart-rate, 72!") == ["the", "heart", "rate", "72"]
    assert squad_tokens("The heart's rate, an index.") == ["hearts", "rate", "index"]


@pytest.mark.parametrize(
    ("prediction", "reference", "expected"),
    [
        ("the cat sat on the mat", "the cat sat on the mat", 1.0),
        ("", "anything", 0.0),
        ("dog", "cat", 0.0),
        # LCS("a b c d", "a c e d") = "a c d": P = R = 3/4.
        ("a b c d", "a c e d", 0.75),
        # One substituted word: LCS = "police the gunman", P = R = 3/4.
        ("police killed the gunman", "police kill the gunman", 0.75),
        # Word order matters: LCS = "police killed", P = R = 1/2.
        ("the gunman police killed", "police killed the gunman", 0.5),
    ],
)
def test_rouge_l(prediction: str, reference: str, expected: float) -> None:
    assert rouge_l(prediction, reference) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("prediction", "reference", "expected"),
    [
        ("The Eiffel Tower", "eiffel tower", 1.0),
        ("", "", 1.0),
        ("", "x", 0.0),
        # Overlap {insulin, diet} = 2; P = 2/3, R = 2/4 -> F1 = 4/7.
        ("insulin and diet", "diet exercise insulin therapy", 4 / 7),
        # Repeated tokens count once per occurrence in the reference: P = 1/2, R = 1.
        ("x x", "x", 2 / 3),
    ],
)
def test_token_f1(prediction: str, reference: str, expected: float) -> None:
    assert token_f1(prediction, reference) == pytest.approx(expected)
