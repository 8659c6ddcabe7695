"""Base and fine-tuned answers streamed token by token from one loaded model.

A plain LoRA adapter answers both sides in one `generate()` call: peft's mixed-adapter batch
(`adapter_names=["__base__", adapter]`) runs row 0 with the adapter off and row 1 with it on, so
both answers grow together at the cost of about one answer. Adapters peft cannot mix in a batch
(DoRA) answer one side after the other, the base under `disable_adapter()` (compared.as_model).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import torch
from peft import PeftType
from transformers import StoppingCriteria, StoppingCriteriaList
from transformers.generation.streamers import BaseStreamer

from medeval.chat import encode, render_prompt, stop_token_ids
from medeval.chat_ui_session import SIDES, Answer
from medeval.compared import as_model
from medeval.cpu_linear import onednn_linears
from medeval.errors import EvalInputError
from medeval.generation import GenerationSettings, decoding_kwargs, left_pad

Step = list[tuple[str, int]]
"""One decoding step: (side, token id) for each row of the batch."""


class _RowStreamer(BaseStreamer):
    """Receives the prompt, then each step's new tokens (one per row): TextIteratorStreamer takes
    a single row, so the rows go to a queue as ids and are decoded by the reader."""

    def __init__(self, sides: Sequence[str], steps: queue.Queue[Step | BaseException | None]):
        self.sides, self.steps, self.prompt_seen = sides, steps, False

    def put(self, value: torch.Tensor) -> None:
        if self.prompt_seen:
            self.steps.put(list(zip(self.sides, value.reshape(-1).tolist(), strict=True)))
        self.prompt_seen = True

    def end(self) -> None:
        """Nothing to flush: every step was queued as it came."""


class _StopWhen(StoppingCriteria):
    """Ends every row at the next token once `should_stop()` is true (the Stop button)."""

    def __init__(self, should_stop: Callable[[], bool]):
        self.should_stop = should_stop

    def __call__(self, input_ids: torch.Tensor, scores: Any, **kwargs: Any) -> torch.Tensor:
        stop = self.should_stop()
        return torch.full((input_ids.shape[0],), stop, dtype=torch.bool, device=input_ids.device)


class _Decoder:
    """One side's tokens so far and their text (decoded whole each step, as TextStreamer does;
    a character still missing bytes waits for the next token instead of showing as �)."""

    def __init__(self, tokenizer: Any, stops: set[int]):
        self.tokenizer, self.stops = tokenizer, stops
        self.ids: list[int] = []
        self.answer = Answer()

    def add(self, token: int) -> None:
        if self.answer.finished:  # rows that ended are padded until the batch ends
            return
        if token in self.stops:
            self.answer = Answer(self.answer.text, self.answer.n_tokens + 1, finished=True)
            return
        self.ids.append(token)
        text = self.tokenizer.decode(self.ids, skip_special_tokens=True).strip()
        self.answer = Answer(
            self.answer.text if text.endswith("\ufffd") else text, self.answer.n_tokens + 1
        )

    def close(self) -> Answer:
        """The final answer, as `generation.generate` would return it."""
        if self.answer.finished:
            return self.answer
        text = self.tokenizer.decode(self.ids, skip_special_tokens=True).strip()
        return Answer(text, self.answer.n_tokens)


class PairChat:
    """Answers a question as the base model and as the fine-tuned model (one model load)."""

    def __init__(self, model: Any, tokenizer: Any):
        self.model, self.tokenizer = model, tokenizer
        self.stops = set(stop_token_ids(tokenizer, getattr(model, "generation_config", None)))
        self.pad_id = (
            tokenizer.pad_token_id if tokenizer.pad_token_id is not None else min(self.stops)
        )
        self.context: int | None = getattr(model.config, "max_position_embeddings", None)
        self.adapter = model.active_adapter
        config = model.peft_config[self.adapter]
        self.mixed_batch = config.peft_type == PeftType.LORA and not config.use_dora
        """peft can run the base and the adapter as rows of one batch."""
        self._one_at_a_time = threading.Lock()

    def _calls(self) -> list[tuple[tuple[str, ...], AbstractContextManager[Any], dict[str, Any]]]:
        """The generate() calls of one question: (sides as rows, context, extra arguments)."""
        if self.mixed_batch:
            return [(SIDES, nullcontext(), {"adapter_names": ["__base__", self.adapter]})]
        return [((side,), as_model(self.model, side), {}) for side in SIDES]

    def _encode(
        self, histories: Mapping[str, list[dict[str, str]]], max_new: int
    ) -> dict[str, list[int]]:
        encoded = {
            s: encode(self.tokenizer, render_prompt(self.tokenizer, histories[s])) for s in SIDES
        }
        longest = max(len(ids) for ids in encoded.values())
        if self.context is not None and longest + max_new > self.context:
            raise EvalInputError(
                f"The conversation is {longest} tokens long; with {max_new} new tokens it passes "
                f"the model's context of {self.context}. Start a new conversation or lower the "
                "max new tokens."
            )
        return encoded

    @torch.inference_mode()
    def _generate(
        self,
        encoded: dict[str, list[int]],
        settings: GenerationSettings,
        should_stop: Callable[[], bool],
        steps: queue.Queue[Step | BaseException | None],
    ) -> None:
        """The worker thread: every generate() call of the question, tokens into `steps`."""
        try:
            device = next(self.model.parameters()).device
            if settings.temperature > 0:  # the same question and settings, the same answers
                torch.manual_seed(settings.seed)
            with onednn_linears(self.model):  # about 2x faster decoding on a CPU (cpu_linear)
                for sides, context, extra in self._calls():
                    if should_stop():
                        break
                    ids, mask = left_pad([encoded[s] for s in sides], self.pad_id)
                    with context:
                        self.model.generate(
                            input_ids=ids.to(device),
                            attention_mask=mask.to(device),
                            max_new_tokens=settings.max_new_tokens,
                            eos_token_id=sorted(self.stops),
                            pad_token_id=self.pad_id,
                            streamer=_RowStreamer(sides, steps),
                            stopping_criteria=StoppingCriteriaList([_StopWhen(should_stop)]),
                            **decoding_kwargs(settings, ids.shape[1], sorted(self.stops)),
                            **extra,
                        )
        except BaseException as err:  # handed to the reader, which raises it in its own thread
            steps.put(err)
        finally:
            steps.put(None)

    def stream(
        self,
        histories: Mapping[str, list[dict[str, str]]],
        settings: GenerationSettings,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> Iterator[dict[str, Answer]]:
        """Each side's answer to its own history, yielded as tokens arrive (the last yield holds
        the final answers). One question at a time: the adapter switch is model-wide."""
        encoded = self._encode(histories, settings.max_new_tokens)
        decoders = {side: _Decoder(self.tokenizer, self.stops) for side in SIDES}
        steps: queue.Queue[Step | BaseException | None] = queue.Queue()
        abandoned = threading.Event()
        worker = threading.Thread(
            target=self._generate,
            args=(encoded, settings, lambda: abandoned.is_set() or should_stop(), steps),
            daemon=True,
        )
        with self._one_at_a_time:
            worker.start()
            try:
                finished = False
                while not finished:
                    finished = self._read(steps, decoders)
                    if not finished:
                        yield {side: d.answer for side, d in decoders.items()}
            finally:  # also when the reader stops early (a closed page): end the worker
                abandoned.set()
                worker.join()
        yield {side: d.close() for side, d in decoders.items()}

    @staticmethod
    def _read(
        steps: queue.Queue[Step | BaseException | None], decoders: dict[str, _Decoder]
    ) -> bool:
        """Wait for a step, then take every step already queued (one screen update for all of
        them); True once the worker is done. An error of the worker is raised here."""
        items = [steps.get()]
        while not steps.empty():  # this thread is the only reader
            items.append(steps.get_nowait())
        for item in items:
            if item is None:
                return True
            if isinstance(item, BaseException):
                raise item
            for side, token in item:
                decoders[side].add(token)
        return False
