"""Poise edge: the on-device daemon (audio, features, model runtime, drift, cues, telemetry)."""

__version__ = "0.1.0"
