"""One chat's state, shared by the web page and the terminal: questions in order, each answered by
the base and the fine-tuned model, each side keeping its own history for follow-ups."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

from medeval.compared import MODELS as SIDES
from medeval.errors import EvalInputError
from medeval.generation import GenerationSettings

LABELS = {"base": "base", "finetuned": "fine-tuned"}
"""How the sides are named on screen."""

State = Literal["waiting", "answering", "done", "stopped", "failed"]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer:
    """One side's answer so far."""

    text: str = ""
    """Decoded text, without the prompt and special tokens."""
    n_tokens: int = 0
    """Tokens generated, the end-of-turn token included."""
    finished: bool = False
    """True once the model closed its turn (False: still going, stopped, or at the length cap)."""


class Answerer(Protocol):
    """What answers a turn (medeval.chat_ui_stream.PairChat; a stand-in in tests)."""

    def stream(
        self,
        histories: Mapping[str, list[dict[str, str]]],
        settings: GenerationSettings,
        should_stop: Callable[[], bool],
    ) -> Iterator[dict[str, Answer]]: ...


@dataclass
class Turn:
    """A question and the two answers to it."""

    question: str
    """What the user asked."""
    reference: str | None = None
    """The held-out reference answer, when the question is one of the run's test questions."""
    answers: dict[str, Answer] = field(default_factory=lambda: {s: Answer() for s in SIDES})
    """Side -> its answer so far."""
    state: State = "waiting"
    """Queued, being answered, answered, stopped by the user, or failed (see `error`)."""
    error: str = ""
    """Why the turn failed, in words for the user."""
    seconds: float = 0.0
    """Time spent answering."""


@dataclass
class Conversation:
    """A chat with both models. Plain data (gradio keeps one copy per browser session)."""

    system: str | None
    """The run's system instruction, sent first in every prompt (None: no system turn)."""
    references: dict[str, str] = field(default_factory=dict)
    """Held-out question -> its reference answer (the example questions)."""
    turns: list[Turn] = field(default_factory=list)
    """Every question asked, in order."""
    stop_requested: bool = False
    """Set by the Stop button or a reset; the answer being generated ends at its next token."""

    def ask(self, question: str) -> Turn:
        """Queue a question; an empty one is an input error."""
        question = question.strip()
        if not question:
            raise EvalInputError("Type a question first (the box is empty).")
        turn = Turn(question, self.references.get(question))
        self.turns.append(turn)
        return turn

    def reset(self) -> None:
        """Forget every turn (and stop the one being answered)."""
        self.stop_requested = any(t.state == "answering" for t in self.turns)
        self.turns = []

    def waiting(self) -> list[Turn]:
        """Questions not yet answered, oldest first."""
        return [t for t in self.turns if t.state == "waiting"]

    def history(self, side: str, turn: Turn) -> list[dict[str, str]]:
        """The messages `side` answers `turn` from: system, the earlier questions with this
        side's own answers (the stopped ones as far as they got), then the new question."""
        messages = [{"role": "system", "content": self.system}] if self.system else []
        for earlier in self.turns:
            if earlier is turn:
                break
            if earlier.state in ("done", "stopped"):
                messages.append({"role": "user", "content": earlier.question})
                messages.append({"role": "assistant", "content": earlier.answers[side].text})
        return [*messages, {"role": "user", "content": turn.question}]


def answer_next(
    conversation: Conversation, answerer: Answerer, settings: GenerationSettings
) -> Iterator[Turn]:
    """Answer the oldest waiting question, yielding the turn as tokens arrive; errors end up in
    the turn (`failed` with a message), never as an exception in the page or the terminal."""
    waiting = conversation.waiting()
    if not waiting:
        return
    turn = waiting[0]
    turn.state, conversation.stop_requested = "answering", False
    histories = {side: conversation.history(side, turn) for side in SIDES}
    start = time.perf_counter()
    try:
        for answers in answerer.stream(histories, settings, lambda: conversation.stop_requested):
            turn.answers, turn.seconds = answers, time.perf_counter() - start
            yield turn
        turn.state = "stopped" if conversation.stop_requested else "done"
    except EvalInputError as err:
        turn.state, turn.error = "failed", str(err)
    except Exception as err:  # a bug or an out-of-memory: the chat goes on, the log has the trace
        log.exception("answering %r failed", turn.question)
        turn.state, turn.error = "failed", f"generation failed ({type(err).__name__}: {err})"
    turn.seconds = time.perf_counter() - start
    yield turn


def shown_answer(turn: Turn, side: str) -> str:
    """One side's answer as the chat shows it, with what it is doing in words."""
    answer = turn.answers[side]
    if turn.state == "waiting":
        return "_waiting for its turn…_"
    if turn.state == "failed":
        return f"⚠️ {turn.error}"
    if turn.state == "answering":
        return answer.text or "…"
    if turn.state == "stopped":
        return f"{answer.text}\n\n_(stopped)_" if answer.text else "_(stopped before any text)_"
    if not answer.finished:
        return f"{answer.text}\n\n_(cut: max new tokens reached)_"
    return answer.text or "_(the model ended its turn without any text)_"


def chat_messages(conversation: Conversation, side: str) -> list[dict[str, str]]:
    """One side's chat, as a chat widget shows it: the questions and this side's answers."""
    messages: list[dict[str, str]] = []
    for turn in conversation.turns:
        messages.append({"role": "user", "content": turn.question})
        messages.append({"role": "assistant", "content": shown_answer(turn, side)})
    return messages


def status_line(conversation: Conversation) -> str:
    """What the chat is doing: answering, how many are queued, or how the last answer went."""
    queued = len(conversation.waiting())
    current = next((t for t in conversation.turns if t.state == "answering"), None)
    if current is not None:
        more = f" {queued} more question{'s' * (queued > 1)} waiting." if queued else ""
        return f"Answering… ({current.seconds:.1f} s).{more}"
    if queued:
        return f"{queued} question{'s' * (queued > 1)} waiting for the model."
    if not conversation.turns:
        return ""
    turn = conversation.turns[-1]
    if turn.state == "failed":
        return f"⚠️ {turn.error}"
    counts = ", ".join(f"{LABELS[s]} {turn.answers[s].n_tokens}" for s in SIDES)
    verb = "Stopped" if turn.state == "stopped" else "Answered"
    return f"{verb} in {turn.seconds:.1f} s (tokens: {counts})."
