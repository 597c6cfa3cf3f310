"""Errors that the command line turns into one clear line and exit code 2."""


class PoiseError(Exception):
    """Base class for user-facing errors: the message is shown as is, without a traceback."""

    exit_code = 2


class InputError(PoiseError):
    """Bad input: an unreadable, empty, truncated or unsupported audio file or manifest."""


class ConfigError(PoiseError):
    """A configuration file or flag that cannot be used."""


class ModelError(PoiseError):
    """A model file that is missing, corrupt or does not match its card."""


class OutputError(PoiseError):
    """An output that cannot or must not be written (it is the input, a device, a symlink)."""
