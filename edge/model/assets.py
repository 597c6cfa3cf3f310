"""The model files shipped with Poise, found through :mod:`importlib.resources`.

The int8 prosody model, its card and the syllable-counter weights are package data of the
``models`` package (``pyproject.toml``: ``[tool.setuptools.package-data]``), so they are found the
same way from a checkout, an editable install or a wheel in ``/opt/poise/venv``, whatever the
working directory. Nothing here depends on the current directory.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from edge.errors import ModelError

PACKAGE = "models"
PROSODY_MODEL = "prosody-v1.tflite"
SYLLABLE_WEIGHTS = "syllables-v1.npz"


def asset_path(name: str) -> Path:
    """Filesystem path of the shipped asset ``name`` (the package is installed unzipped)."""
    try:
        root = resources.files(PACKAGE)
    except ModuleNotFoundError:
        raise ModelError(
            f"the '{PACKAGE}' package with Poise's model files is not installed (reinstall poise)"
        ) from None
    path = Path(str(root / name))
    return path


def default_model_path() -> Path:
    """The shipped prosody model (its card is the ``.json`` beside it)."""
    return asset_path(PROSODY_MODEL)


def default_syllable_weights() -> Path:
    """The shipped syllable-counter weights (its card is the ``.json`` beside it)."""
    return asset_path(SYLLABLE_WEIGHTS)
