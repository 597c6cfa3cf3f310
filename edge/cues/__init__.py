"""Cue outputs: GPIO LED + haptic, the USB cue puck, a terminal "virtual LED", or none."""

from edge.cues.base import CueOutput, NullCue
from edge.cues.factory import make_cue_output

__all__ = ["CueOutput", "NullCue", "make_cue_output"]
