"""The arousal model behind a small protocol, so the pipeline runs (and is tested) without it.

One :class:`ArousalModel` per channel: it is fed that channel's hops as they become final and
returns the (time, arousal logit) of every model window that completed. :func:`load_arousal_model`
returns a factory for the real TFLite model. The model is ``model.path`` when configured, else the
one shipped in the package (:mod:`edge.model.assets`; never a path relative to the working
directory). When it is disabled, or not ``required`` (the policy runs neither ``stress`` nor
``empathy``) and cannot be loaded, it returns None with one log line and those detectors are off;
a required model that is missing or refused raises :class:`~edge.errors.ModelError` (exit 2).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from edge.errors import ModelError
from edge.features.config import FeatureConfig
from edge.features.frames import FrameBatch
from edge.settings import ModelSettings

log = logging.getLogger(__name__)

Scores = tuple[npt.NDArray[np.float64], npt.NDArray[np.float32]]


class ArousalModel(Protocol):
    """Streaming arousal scorer for one channel."""

    def push(self, frames: FrameBatch) -> Scores:
        """Feed hops; return (end time, arousal logit) of each window completed by them."""
        ...


def empty_scores() -> Scores:
    return np.zeros(0, np.float64), np.zeros(0, np.float32)


class LiteRTArousal:
    """Adapter: :class:`edge.model.inputs.WindowBuilder` windows into
    :class:`edge.model.runtime.ArousalModel` (one logit per window)."""

    def __init__(self, runtime: Any, builder: Any) -> None:
        self._runtime = runtime
        self._builder = builder

    def push(self, frames: FrameBatch) -> Scores:
        windows = self._builder.push(frames)
        if not windows:
            return empty_scores()
        logits = np.asarray([self._runtime.logit(w.x) for w in windows], np.float32)
        return np.asarray([w.t_end for w in windows], np.float64), logits


def model_path(settings: ModelSettings) -> Path:
    """The configured model, or the one shipped in the package."""
    from edge.model.assets import default_model_path

    return Path(settings.path) if settings.path is not None else default_model_path()


def load_arousal_model(
    settings: ModelSettings, features: FeatureConfig | None = None, required: bool = False
) -> Callable[[], ArousalModel] | None:
    """A per-channel model factory, or None when no usable model is available and none is
    ``required``; a required model that cannot be used raises ModelError."""
    if not settings.enabled:
        log.info("arousal model disabled in settings: stress and empathy are off")
        return None
    path = model_path(settings)
    try:
        from edge.model.inputs import WindowBuilder
        from edge.model.runtime import ArousalModel as Runtime

        runtime = Runtime.load(path, features)
    except Exception as exc:  # without the model only stress and empathy are lost
        if required:
            why = str(exc) if isinstance(exc, ModelError) else f"arousal model {path}: {exc}"
            raise ModelError(
                f"{why} (stress and empathy need it; set model.enabled=false to run without)"
            ) from None
        log.warning("arousal model %s unusable (%s): stress and empathy are off", path, exc)
        return None
    spec = runtime.spec

    def factory() -> ArousalModel:
        return LiteRTArousal(runtime, WindowBuilder(spec))

    log.info("arousal model loaded from %s", path)
    return factory
