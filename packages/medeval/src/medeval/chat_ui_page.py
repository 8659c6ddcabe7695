"""The chat page (`medeval chat RUN`): one question, the base and the fine-tuned answer side by
side, streamed; local only (127.0.0.1 unless told otherwise), no share link, no analytics."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import replace
from types import ModuleType
from typing import Any

from rich.console import Console
from rich.markup import escape

from medeval.chat_ui_run import RunSummary, losses_markdown
from medeval.chat_ui_session import (
    LABELS,
    SIDES,
    Answerer,
    Conversation,
    answer_next,
    chat_messages,
    status_line,
)
from medeval.errors import EvalInputError
from medeval.generation import GenerationSettings, rules_note

DISCLAIMER = (
    "**Not medical advice.** These are research models: their answers can be wrong, outdated or "
    "dangerous, and they do not know you. Do not use them to diagnose, treat or decide anything "
    "about anyone's health; ask a doctor or pharmacist. Do not type personal health data."
)
CSS = """
#disclaimer {border: 1px solid #d97706; background: #fffbeb; border-radius: 8px;
             padding: 8px 12px;}
#disclaimer p {margin: 0; color: #78350f;}
.dark #disclaimer {background: #451a03;}
.dark #disclaimer p {color: #fde68a;}
#status {min-height: 1.5em;}
#run td:last-child {white-space: nowrap;}
"""
LAUNCH_OPTIONS: dict[str, Any] = {
    "share": False,
    "quiet": True,
    "ssr_mode": False,
    "mcp_server": False,
    "pwa": False,
    "run_history": False,
    "enable_monitoring": False,
    "footer_links": [],
}
"""Nothing leaves the machine: no share tunnel, no run history, no monitoring, no MCP server."""


def import_gradio() -> ModuleType:
    """Gradio, with its telemetry and version check switched off before it loads."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    try:
        import gradio
    except ImportError:
        raise EvalInputError(
            "the chat page needs Gradio, an optional extra: pip install 'medeval[chat]' "
            "(or chat in the terminal: medeval chat RUN --cli)"
        ) from None
    return gradio


def _facts_markdown(summary: RunSummary) -> str:
    rows = "\n".join(f"- **{label}:** {value}" for label, value in summary.facts)
    system = summary.system.replace("\n", " ") if summary.system else "(none)"
    losses = losses_markdown(summary.losses)
    return f"### The run\n{rows}\n- **System instruction:** {system}\n\n{losses}"


def _answer_pane(gr: Any, side: str, base_model: str) -> Any:
    """One side's chat; its own clear (trash) button starts a new chat for both sides."""
    label = f"Base model: {base_model}" if side == "base" else "Fine-tuned (this run)"
    return gr.Chatbot(
        label=label,
        elem_id=f"chat-{side}",
        height=420,
        min_width=300,
        buttons=["copy", "copy_all"],
        feedback_options=None,
        placeholder=f"The {LABELS[side]} model's answers appear here.",
    )


def _settings(gr: Any, defaults: GenerationSettings) -> tuple[Any, Any, Any]:
    """Temperature, top-p and max new tokens, starting at the command line's values."""
    gr.Markdown("### Generation")
    temperature = gr.Slider(
        0, max(2, defaults.temperature), defaults.temperature, step=0.05,
        label="Temperature (0 = greedy)",
    )  # fmt: skip
    top_p = gr.Slider(0.01, 1, defaults.top_p, step=0.01, label="Top-p (when sampling)")
    max_new = gr.Slider(
        1, max(2048, defaults.max_new_tokens), defaults.max_new_tokens, step=1,
        label="Max new tokens",
    )  # fmt: skip
    gr.Markdown(rules_note(defaults), elem_id="rules")
    return temperature, top_p, max_new


def build_page(summary: RunSummary, answerer: Answerer, defaults: GenerationSettings) -> Any:
    """The page, with its queue: one answer at a time, later questions wait their turn."""
    gr = import_gradio()
    references = {e.question: e.reference for e in summary.examples}
    with gr.Blocks(title=f"medeval chat: {summary.run.name}", analytics_enabled=False) as page:
        state = gr.State(Conversation(summary.system, references))
        gr.Markdown(
            f"## Base vs fine-tuned: `{summary.run.name}`\nEach question goes to the base model "
            "(adapter off) and the fine-tuned model (adapter on); each keeps its own history "
            "for follow-up questions."
        )
        gr.Markdown(f"⚠️ {DISCLAIMER}", elem_id="disclaimer")
        with gr.Row():
            with gr.Column(scale=3):
                with gr.Row(equal_height=True):
                    chats = [_answer_pane(gr, side, summary.run.base_model) for side in SIDES]
                with gr.Row(equal_height=True):
                    question = gr.Textbox(
                        label="Question",
                        show_label=False,
                        placeholder="Ask a medical question (Enter sends)",
                        elem_id="question",
                        scale=4,
                        min_width=240,
                        autofocus=True,
                    )
                    buttons = {"scale": 0, "min_width": 90, "size": "md"}
                    send = gr.Button("Send", variant="primary", elem_id="send", **buttons)
                    stop = gr.Button("Stop", variant="stop", elem_id="stop", **buttons)
                    reset = gr.Button("New chat", elem_id="reset", **(buttons | {"min_width": 110}))
                status = gr.Markdown(elem_id="status")
                reference = gr.Textbox(
                    label="Reference answer to this held-out question",
                    interactive=False,
                    visible=False,
                    max_lines=6,
                    elem_id="reference",
                )
                if summary.examples:
                    gr.Examples(
                        [[e.question, e.reference] for e in summary.examples],
                        inputs=[question, reference],
                        example_labels=[e.question for e in summary.examples],
                        label="Questions from the run's held-out split (not trained on): click "
                        "one, Send, and compare with its reference answer",
                    )
                else:
                    gr.Markdown(summary.examples_note)
            with gr.Column(scale=2, min_width=300):
                gr.Markdown(_facts_markdown(summary), elem_id="run")
                temperature, top_p, max_new = _settings(gr, defaults)

        views = [*chats, status]

        def render(conversation: Conversation) -> list[Any]:
            return [*(chat_messages(conversation, s) for s in SIDES), status_line(conversation)]

        def ask(text: str, conversation: Conversation) -> list[Any]:
            try:
                turn = conversation.ask(text)
            except EvalInputError as err:
                return [gr.skip(), *render(conversation)[:-1], f"⚠️ {err}", gr.skip()]
            shown = gr.Textbox(value=turn.reference or "", visible=turn.reference is not None)
            return ["", *render(conversation), shown]

        def answer(
            conversation: Conversation, temp: float, nucleus: float, max_new_tokens: float
        ) -> Iterator[list[Any]]:
            if not conversation.waiting():  # an empty question: keep its message in view
                yield [gr.skip()] * len(views)
                return
            settings = replace(
                defaults,
                max_new_tokens=int(max_new_tokens),
                temperature=float(temp),
                top_p=float(nucleus),
            )
            for _ in answer_next(conversation, answerer, settings):
                yield render(conversation)

        def halt(conversation: Conversation) -> None:
            conversation.stop_requested = True

        def restart(conversation: Conversation) -> list[Any]:
            conversation.reset()
            return [*render(conversation), gr.Textbox(value="", visible=False)]

        for trigger in (question.submit, send.click):
            trigger(
                ask,
                [question, state],
                [question, *views, reference],
                queue=False,
                trigger_mode="multiple",
            ).then(
                answer,
                [state, temperature, top_p, max_new],
                views,
                show_progress="minimal",
                trigger_mode="multiple",  # a question sent while one is answered is queued
            )
        stop.click(halt, state, None, queue=False)
        for trigger in (reset.click, *(chat.clear for chat in chats)):
            trigger(restart, state, [*views, reference], queue=False)
    page.queue(default_concurrency_limit=1)
    return page


def free_port(host: str, port: int) -> int:
    """`port` if nothing listens on it (0: any free port); a taken port is an input error."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the web server binds
        try:
            probe.bind((host, port))
        except OSError as err:
            raise EvalInputError(
                f"cannot listen on {host}:{port} ({err.strerror}); another program (or another "
                "medeval chat) uses it: pass --port with a free port, or --port 0 for any"
            ) from None
        return int(probe.getsockname()[1])


def loopback(host: str) -> bool:
    """Whether only this machine can reach `host` (127.0.0.0/8, ::1, localhost); any other
    address or name is warned about, since the page has no password."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to any interface
        return False


def launch(page: Any, host: str, port: int) -> str:
    """Start the page's web server in the background; returns its URL."""
    port = free_port(host, port)
    try:
        _, url, _ = page.launch(
            server_name=host, server_port=port, prevent_thread_lock=True, css=CSS, **LAUNCH_OPTIONS
        )
    except OSError as err:  # taken between the check and the start
        raise EvalInputError(
            f"cannot start the page on {host}:{port} ({err}); pass --port"
        ) from None
    return str(url)


def serve(
    summary: RunSummary,
    load: Callable[[], Answerer],
    defaults: GenerationSettings,
    host: str,
    port: int,
    console: Console,
) -> None:
    """`medeval chat RUN`: check Gradio and the port before the (slow) model load, then serve
    until Ctrl-C."""
    import_gradio()
    free_port(host, port)
    page = build_page(summary, load(), defaults)
    url = launch(page, host, port)
    if not loopback(host):
        console.print(
            f"[yellow]{escape(host)}: anyone who can reach this machine can use the page."
        )
    console.print(f"[bold]chat page:[/] {url}  (Ctrl-C stops it)", soft_wrap=True)
    page.block_thread()
