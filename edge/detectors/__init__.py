"""Drift detectors: a signal per detector, hysteresis state machines and the cue arbiter."""

from edge.detectors.arbiter import Arbiter, Event
from edge.detectors.hysteresis import Drift, Transition

__all__ = ["Arbiter", "Drift", "Event", "Transition"]
