"""One baseline per agent: local files, one per agent id, removable per agent.

A desk is shared across shifts, so the device keeps each agent's calibration apart: the
:class:`~edge.device.baseline.AgentBaseline` (rate, pitch spread, arousal), the model's
per-speaker input statistics (:class:`~edge.model.speaker_norm.SpeakerNorm` state) and the
agent's :class:`~edge.device.voice.VoiceSignature`, in ``<directory>/agent-<id>.json``. Files are
written atomically (temp file, fsync, rename, fsync of the directory); a corrupt file is logged
and that agent calibrates again (never a crash). Everything stays on the device: it is derived
from speech. ``poise edge forget AGENT`` deletes one agent's file.

Agent ids follow the telemetry contract (``[A-Za-z0-9._-]{1,64}``) and may not start with a dot.
Voices recognised without a sign-in get ids ``voice-<n>``.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.device.baseline import AgentBaseline
from edge.device.voice import VoiceSignature
from edge.errors import InputError
from edge.fileio import clean_stale_temps, write_bytes_atomic
from edge.settings import BaselineSettings

log = logging.getLogger(__name__)

RECORD_VERSION = 1
_AGENT_ID = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$")
_PREFIX = "agent-"
VOICE_PREFIX = "voice-"


def check_agent_id(agent_id: str) -> str:
    """``agent_id`` if it is a valid agent id, else :class:`InputError` (one clear line)."""
    if not isinstance(agent_id, str) or not _AGENT_ID.match(agent_id):
        raise InputError(
            f"invalid agent id {agent_id!r}: 1-64 characters of A-Z a-z 0-9 . _ -, "
            "not starting with a dot"
        )
    return agent_id


@dataclass
class AgentRecord:
    """Everything the device keeps about one agent."""

    agent_id: str
    """Who (sign-in id, or ``voice-<n>`` for a voice recognised without a sign-in)."""
    baseline: AgentBaseline
    """Rate, pitch spread and arousal references."""
    input_norm: dict[str, Any] | None = None
    """The model's per-speaker input statistics (:meth:`SpeakerNorm.state`), None = fresh."""
    voice: VoiceSignature | None = None
    """What the agent sounds like (for matching a call's first speech), None = not yet heard."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Unknown fields of a newer file, kept on save."""

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.extra,
            "version": RECORD_VERSION,
            "agent": self.agent_id,
            "baseline": self.baseline.to_dict(),
            "input_norm": self.input_norm,
            "voice": None if self.voice is None else self.voice.to_dict(),
        }


class AgentStore:
    """Per-agent records in one directory."""

    def __init__(self, directory: Path, settings: BaselineSettings | None = None) -> None:
        self.directory = Path(directory)
        self.settings = settings if settings is not None else BaselineSettings()

    def clean_stale_temps(self) -> list[Path]:
        """Remove the temporary files a killed run's saves left in the directory (call while
        holding the run's lock on the desk's state file)."""
        return clean_stale_temps(self.directory / f"{_PREFIX}*.json")

    def path_for(self, agent_id: str) -> Path:
        return self.directory / f"{_PREFIX}{check_agent_id(agent_id)}.json"

    def agents(self) -> list[str]:
        """Ids of the agents with a record, sorted."""
        if not self.directory.is_dir():
            return []
        out = []
        for p in self.directory.glob(f"{_PREFIX}*.json"):
            aid = p.name[len(_PREFIX) : -len(".json")]
            if _AGENT_ID.match(aid):
                out.append(aid)
        return sorted(out)

    def fresh(self, agent_id: str) -> AgentRecord:
        """A record that calibrates from nothing."""
        return AgentRecord(check_agent_id(agent_id), AgentBaseline(self.settings))

    def load(self, agent_id: str) -> AgentRecord:
        """The agent's record; a fresh one when missing or unreadable (logged)."""
        path = self.path_for(agent_id)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            log.info("agent %s has no baseline yet: calibrating from nothing", agent_id)
            return self.fresh(agent_id)
        except OSError as exc:
            log.warning("cannot read %s (%s): agent %s recalibrates", path, exc.strerror, agent_id)
            return self.fresh(agent_id)
        try:
            doc = json.loads(text)
            if not isinstance(doc, dict) or doc.get("version") != RECORD_VERSION:
                raise ValueError("not a version-1 agent record")
            baseline = AgentBaseline.from_dict(doc.get("baseline"), self.settings)
            voice_doc = doc.get("voice")
            voice = VoiceSignature.from_dict(voice_doc) if voice_doc is not None else None
            norm = doc.get("input_norm")
            if norm is not None and not isinstance(norm, dict):
                raise ValueError("input_norm is not an object")
        except (ValueError, TypeError, AttributeError, json.JSONDecodeError) as exc:
            log.warning(
                "agent record %s is corrupt (%s): agent %s recalibrates", path, exc, agent_id
            )
            return self.fresh(agent_id)
        known = {"version", "agent", "baseline", "input_norm", "voice"}
        extra = {k: v for k, v in doc.items() if k not in known}
        log.info(
            "resumed agent %s (%.0f s of speech, %s)",
            agent_id,
            baseline.speech_s,
            "ready" if baseline.ready else "still calibrating",
        )
        return AgentRecord(agent_id, baseline, norm, voice, extra)

    def save(self, record: AgentRecord) -> None:
        """Write atomically: a reader sees the old file or the new one, never half of one."""
        path = self.path_for(record.agent_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        blob = json.dumps(record.to_dict(), separators=(",", ":"), allow_nan=False).encode()
        write_bytes_atomic(path, blob, sync_dir=True)

    def voices(self) -> dict[str, VoiceSignature]:
        """The voice signatures of all agents that have one (unreadable files are skipped)."""
        out = {}
        for aid in self.agents():
            try:
                doc = json.loads(self.path_for(aid).read_text(encoding="utf-8"))
                if isinstance(doc, dict) and doc.get("voice") is not None:
                    out[aid] = VoiceSignature.from_dict(doc["voice"])
            except (OSError, ValueError, TypeError, AttributeError) as exc:
                log.warning("skipping the voice of agent %s (%s)", aid, exc)
        return out

    def new_voice_id(self) -> str:
        """The next free ``voice-<n>`` id."""
        taken = {a for a in self.agents() if a.startswith(VOICE_PREFIX)}
        n = 1
        while f"{VOICE_PREFIX}{n}" in taken:
            n += 1
        return f"{VOICE_PREFIX}{n}"

    def forget(self, agent_id: str) -> bool:
        """Delete the agent's record; False if there was none (InputError if it cannot be)."""
        path = self.path_for(agent_id)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise InputError(f"cannot remove {path}: {exc.strerror}") from None
        log.info("forgot agent %s (%s)", agent_id, path)
        return True
