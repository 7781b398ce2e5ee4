"""Errors whose message is written for the person using the app (tabs turn them into gr.Error)."""


class UserError(Exception):
    """A problem with what the user gave (bad audio, empty text, ...). The message is shown as is."""


class ModelUnavailableError(UserError):
    """A model cannot be loaded: offline and not cached, gated, out of memory, unknown id..."""
