"""A small Hugging Face Hub stand-in on 127.0.0.1 for tests: the HTTP API the client uses.

Point the client at it with `HF_ENDPOINT=<hub.url>` and `HF_HUB_DISABLE_XET=1`, set before
`huggingface_hub` is imported (or pass `endpoint=` to `HfApi`); authenticate with one of its
tokens.
"""

from .server import FailureMode, HubStandIn, Logged

__all__ = ["FailureMode", "HubStandIn", "Logged"]
