"""The one error type the CLI turns into a one-line message and exit code 2."""


class EvalInputError(Exception):
    """Bad user input (a missing file, a malformed row): the message names it and the fix."""
