"""Which agent is at the desk: sign-in, or the voice at the start of a call.

:class:`AgentSession` owns the current :class:`~edge.device.agent_store.AgentRecord` and decides
when it changes; the pipeline asks it and swaps the baseline and the model's input statistics.

* :meth:`AgentSession.set_agent` (a sign-in: ``cmd`` message or the
  ``baseline.agent`` setting) saves the current agent and resumes the named one (a new id
  calibrates from nothing). ``None`` signs out (a ``sign_out`` command, or the long press of a
  puck, which cannot name anyone): the next agent speech is matched by voice.
* Without a sign-in, :meth:`start_call` begins a voice probe: the first
  ``VoiceSettings.probe_speech_s`` of agent speech (:meth:`observe`) become a
  :class:`~edge.device.voice.VoiceSignature`, matched against the voices of all agents the device
  keeps. The current agent continues if it is their voice; another known agent resumes theirs;
  an unknown voice gets a fresh record ``voice-<n>``. A signed-in agent's probe only teaches the
  device their voice.

Pure: storage comes in through the :class:`AgentDirectory` protocol (an
:class:`~edge.device.agent_store.AgentStore` on the device).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from edge.device.agent_store import AgentRecord
from edge.device.voice import SignatureBuilder, VoiceSettings, VoiceSignature, match
from edge.features.frames import FrameBatch

log = logging.getLogger(__name__)


class AgentDirectory(Protocol):
    """Where agent records live (see :class:`~edge.device.agent_store.AgentStore`)."""

    def load(self, agent_id: str) -> AgentRecord: ...

    def fresh(self, agent_id: str) -> AgentRecord: ...

    def save(self, record: AgentRecord) -> None: ...

    def voices(self) -> dict[str, VoiceSignature]: ...

    def new_voice_id(self) -> str: ...


@dataclass(frozen=True)
class AgentChange:
    """The agent at the desk changed (or was confirmed by voice)."""

    agent_id: str
    """Who it is now."""
    reason: str
    """``signed_in``, ``signed_out``, ``same_voice``, ``known_voice`` or ``new_voice``."""
    resumed: bool
    """True when an existing baseline continues, False when calibration starts from nothing."""
    distance: float | None = None
    """Voice distance behind a voice decision (None for sign-ins)."""

    def detail(self) -> dict[str, Any]:
        d: dict[str, Any] = {"agent": self.agent_id, "reason": self.reason}
        d["resumed"] = self.resumed
        if self.distance is not None:
            d["voice_distance"] = round(self.distance, 3) if self.distance < 1e9 else None
        return d


class AgentSession:
    """The current agent and the voice probe of the current call."""

    def __init__(
        self,
        store: AgentDirectory,
        settings: VoiceSettings | None = None,
        agent_id: str | None = None,
    ) -> None:
        self.store = store
        self.settings = settings if settings is not None else VoiceSettings()
        self.signed_in = agent_id is not None
        self.current = store.load(agent_id) if agent_id is not None else store.fresh("voice-0")
        self._anonymous = agent_id is None
        """True while the current record is a placeholder nobody has been matched to."""
        self._probe: SignatureBuilder | None = None

    @property
    def agent_id(self) -> str | None:
        """The current agent (None before a voice was matched without a sign-in)."""
        return None if self._anonymous else self.current.agent_id

    @property
    def probing(self) -> bool:
        return self._probe is not None

    def save(self, input_norm: dict[str, Any] | None) -> None:
        """Persist the current agent (nothing for an unmatched placeholder)."""
        if self._anonymous:
            return
        self.current.input_norm = input_norm
        self.store.save(self.current)

    def set_agent(self, agent_id: str | None, input_norm: dict[str, Any] | None) -> AgentChange:
        """Sign-in (``agent_id``) or sign-out (None); ``input_norm`` is the outgoing agent's
        model input state. Returns what happened; the caller swaps to :attr:`current`. After a
        sign-out the voice probe starts at once: the next agent speech decides who it is."""
        self.save(input_norm)
        if agent_id is None:
            self.signed_in = False
            self._anonymous = True
            self.current = self.store.fresh("voice-0")
            self._probe = SignatureBuilder()
            return AgentChange("", "signed_out", resumed=False)
        self.signed_in = True
        self._anonymous = False
        self.current = self.store.load(agent_id)
        return AgentChange(agent_id, "signed_in", resumed=self.current.baseline.speech_s > 0)

    def start_call(self) -> None:
        """A call starts: listen to the agent's first speech."""
        self._probe = SignatureBuilder()

    def observe(
        self, agent_hops: FrameBatch, hop_s: float, input_norm: dict[str, Any] | None
    ) -> AgentChange | None:
        """Feed the agent channel's hops; returns a change once the probe has decided (the
        caller then swaps to :attr:`current` if ``not change.resumed`` or the id changed)."""
        if self._probe is None:
            return None
        self._probe.push(agent_hops, hop_s)
        if self._probe.speech_s < self.settings.probe_speech_s:
            return None
        sig = self._probe.signature()
        self._probe = None
        if sig is None:
            return None
        if self.signed_in:
            if self.current.voice is None:
                self.current.voice = sig
            return None
        known = self.store.voices()
        if not self._anonymous and self.current.voice is not None:
            known[self.current.agent_id] = self.current.voice
        who, d = match(sig, known, self.settings)
        if who is not None and not self._anonymous and who == self.current.agent_id:
            return AgentChange(who, "same_voice", resumed=True, distance=d)
        self.save(input_norm)
        if who is not None:
            self.current = self.store.load(who)
            self._anonymous = False
            return AgentChange(who, "known_voice", resumed=True, distance=d)
        self.current = self.store.fresh(self.store.new_voice_id())
        self.current.voice = sig
        self._anonymous = False
        self.store.save(self.current)
        return AgentChange(self.current.agent_id, "new_voice", resumed=False, distance=d)


class AgentSaver:
    """What the runner saves through (``save(baseline)``, ``path``): the pipeline's current
    agent record, baseline and model input statistics together, in the per-agent store."""

    def __init__(self, save_agent: Callable[[], None], directory: Path) -> None:
        self._save_agent = save_agent
        self.path = Path(directory)

    def save(self, baseline: object) -> None:
        """Save the current agent (``baseline`` is the pipeline's, already part of it)."""
        self._save_agent()
