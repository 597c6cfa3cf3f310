"""Streaming prosody front-end: level, VAD, F0, syllables, rates, tilt, jitter/shimmer, log-mel."""

from edge.features.config import FeatureConfig
from edge.features.frames import FrameBatch

__all__ = ["FeatureConfig", "FrameBatch"]
