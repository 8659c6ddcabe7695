"""A chat's state without a model: queueing, each side's own history, what the chat shows."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

import pytest

from medeval.chat_ui_session import (
    Answer,
    Conversation,
    answer_next,
    chat_messages,
    status_line,
)
from medeval.errors import EvalInputError
from medeval.generation import GenerationSettings

SETTINGS = GenerationSettings(16)


class Scripted:
    """Answers each side with its name and the question count it saw; records the histories."""

    def __init__(
        self, fail: BaseException | None = None, stop_after: int | None = None, ends: bool = True
    ):
        self.seen: list[Mapping[str, list[dict[str, str]]]] = []
        self.fail, self.stop_after, self.ends = fail, stop_after, ends

    def stream(
        self,
        histories: Mapping[str, list[dict[str, str]]],
        settings: GenerationSettings,
        should_stop: Callable[[], bool],
    ) -> Iterator[dict[str, Answer]]:
        self.seen.append(histories)
        if self.fail is not None:
            raise self.fail
        for step in range(1, 4):
            if should_stop():
                break
            yield {
                side: Answer(f"{side} answer {len(self.seen)}"[: 6 * step], step)
                for side in histories
            }
            if step == self.stop_after:
                self.stopper()
        yield {side: Answer(f"{side} answer {len(self.seen)}", 3, self.ends) for side in histories}

    stopper: Callable[[], None] = staticmethod(lambda: None)


def test_each_side_answers_from_its_own_history() -> None:
    chat = Conversation("Be brief.")
    model = Scripted()
    chat.ask("What is asthma?")
    list(answer_next(chat, model, SETTINGS))
    chat.ask("  How is it treated?  ")
    states = [turn.state for turn in answer_next(chat, model, SETTINGS)]  # one Turn, updated
    assert states == ["answering"] * 4 + ["done"]
    second = model.seen[1]
    assert second["base"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What is asthma?"},
        {"role": "assistant", "content": "base answer 1"},
        {"role": "user", "content": "How is it treated?"},
    ]
    assert second["finetuned"][2] == {"role": "assistant", "content": "finetuned answer 1"}
    assert chat_messages(chat, "finetuned")[-1] == {
        "role": "assistant",
        "content": "finetuned answer 2",
    }
    assert status_line(chat).startswith("Answered in ")
    assert "base 3, fine-tuned 3" in status_line(chat)


def test_questions_wait_in_order_and_show_as_queued() -> None:
    chat = Conversation(None)
    chat.ask("first")
    chat.ask("second")
    assert status_line(chat) == "2 questions waiting for the model."
    assert chat_messages(chat, "base")[1]["content"] == "_waiting for its turn…_"
    streamed = answer_next(chat, Scripted(), SETTINGS)
    next(streamed)
    assert status_line(chat).startswith("Answering")
    assert "1 more question waiting" in status_line(chat)
    list(streamed)
    assert [t.state for t in chat.turns] == ["done", "waiting"]
    list(answer_next(chat, Scripted(), SETTINGS))
    assert [t.state for t in chat.turns] == ["done", "done"]
    assert list(answer_next(chat, Scripted(), SETTINGS)) == []  # nothing waiting


def test_an_answer_cut_at_the_length_cap_says_so() -> None:
    chat = Conversation(None)
    chat.ask("question")
    list(answer_next(chat, Scripted(ends=False), SETTINGS))
    assert chat_messages(chat, "base")[1]["content"] == (
        "base answer 1\n\n_(cut: max new tokens reached)_"
    )


def test_an_empty_question_is_an_input_error() -> None:
    chat = Conversation(None)
    with pytest.raises(EvalInputError, match="Type a question first"):
        chat.ask("   ")
    assert chat.turns == []


def test_held_out_questions_carry_their_reference() -> None:
    chat = Conversation(None, references={"What is asthma?": "A lung disease."})
    assert chat.ask("What is asthma?").reference == "A lung disease."
    assert chat.ask("What is gout?").reference is None


def test_stop_keeps_the_partial_answer_in_the_history() -> None:
    chat = Conversation(None)
    model = Scripted(stop_after=1)
    model.stopper = lambda: setattr(chat, "stop_requested", True)
    chat.ask("long question")
    turn = list(answer_next(chat, model, SETTINGS))[-1]
    assert turn.state == "stopped"
    assert chat_messages(chat, "base")[1]["content"].endswith("_(stopped)_")
    assert status_line(chat).startswith("Stopped")
    chat.ask("next")
    list(answer_next(chat, model, SETTINGS))
    assert model.seen[1]["base"][1]["role"] == "assistant"  # the stopped answer, as far as it got


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (EvalInputError("The conversation is too long."), "The conversation is too long."),
        (RuntimeError("out of memory"), "generation failed (RuntimeError: out of memory)"),
    ],
)
def test_a_failed_answer_is_a_message_not_an_exception(error: Exception, shown: str) -> None:
    chat = Conversation(None)
    chat.ask("question")
    turn = list(answer_next(chat, Scripted(fail=error), SETTINGS))[-1]
    assert turn.state == "failed"
    assert chat_messages(chat, "finetuned")[1]["content"] == f"⚠️ {shown}"
    assert status_line(chat) == f"⚠️ {shown}"
    chat.ask("again")  # a failed turn is left out of the next prompt
    model = Scripted()
    list(answer_next(chat, model, SETTINGS))
    assert [m["content"] for m in model.seen[0]["base"]] == ["again"]


def test_reset_forgets_and_stops_the_answer_in_progress() -> None:
    chat = Conversation(None)
    chat.ask("question")
    streamed = answer_next(chat, Scripted(), SETTINGS)
    next(streamed)
    chat.reset()
    assert chat.turns == []
    assert chat.stop_requested
    assert status_line(chat) == ""
