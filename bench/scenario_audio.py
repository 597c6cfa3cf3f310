"""Moved to :mod:`edge.simulate.speech` (installed, used by ``poise simulate``); this name stays
for branches that still import it."""

from edge.simulate.speech import *  # noqa: F403
from edge.simulate.speech import F32, SR, _espeak_data_dir  # noqa: F401
