"""Evaluation of fine-tuned medical QA adapters (reads run folders, writes `<run>/eval/`)."""

__version__ = "0.1.0"
