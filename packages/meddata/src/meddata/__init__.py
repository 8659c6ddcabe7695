"""meddata: medical QA corpora → cleaned rows → chat-formatted dataset variants → the Hub."""

__version__ = "0.1.0"
