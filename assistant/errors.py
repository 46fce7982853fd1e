"""Errors a user can act on: each message says what went wrong and what to do next.
The CLI prints them as one line and exits 1 (``ASSISTANT_DEBUG=1`` brings back tracebacks)."""


class AssistantError(Exception):
    """Base class: the message is shown to the user as is."""


class UsageError(AssistantError):
    """Bad input from the user (empty question, unknown file...)."""


class IndexEmpty(AssistantError):
    def __init__(self) -> None:
        super().__init__("the index is empty; run 'assistant ingest' first")


class EmbedderMismatch(AssistantError):
    """The index was built by another embedder: its vectors are not comparable."""


class StoreUnavailable(AssistantError):
    """The Chroma server cannot be reached or the index cannot be opened."""
