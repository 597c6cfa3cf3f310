"""Mono replay: a one-channel recording is the agent, as in ``poise analyze``.

:class:`AgentOnlySource` gives the pipeline its two channels by adding a silent customer channel;
the detectors that need the far end (:data:`FAR_END_DETECTORS`) are switched off for such a run by
:func:`without_far_end`, and the run's log says so.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np

from edge.protocols import AudioBlock, AudioSource
from edge.settings import DeviceSettings

#: Detectors that listen to the customer channel.
FAR_END_DETECTORS = ("overtalk", "dead_air", "empathy")


class AgentOnlySource:
    """Wraps a one-channel source: column 0 the agent, column 1 silence."""

    agent_only = True

    def __init__(self, inner: AudioSource) -> None:
        if inner.channels != 1:
            raise ValueError("AgentOnlySource wraps a one-channel source")
        self.inner = inner
        self.sample_rate = inner.sample_rate
        self.channels = 2

    def blocks(self) -> Iterator[AudioBlock]:
        for b in self.inner.blocks():
            silent = np.zeros_like(b.samples)
            yield AudioBlock(b.t0, np.concatenate([b.samples, silent], axis=1), b.sample_rate)

    def close(self) -> None:
        self.inner.close()

    def __getattr__(self, name: str) -> object:  # info, duration_s, block_frames of the file
        return getattr(self.inner, name)


def without_far_end(settings: DeviceSettings) -> tuple[DeviceSettings, tuple[str, ...]]:
    """``settings`` with the far-end detectors off; also returns the ones that were running."""
    policy = settings.policy
    off = tuple(d for d in FAR_END_DETECTORS if policy.runs(d))
    new_policy = dataclasses.replace(
        policy,
        detectors=tuple(d for d in policy.detectors if d not in FAR_END_DETECTORS),
        publish_cues=tuple(d for d in policy.publish_cues if d not in FAR_END_DETECTORS),
    )
    return dataclasses.replace(settings, policy=new_policy), off
