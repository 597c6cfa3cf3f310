"""Settings of the on-device loop (``poise edge run``): one frozen dataclass tree, one TOML file.

``docs/device.example.toml`` lists every default; :func:`load_settings` reads a file (or nothing:
the defaults serve), applies ``--set key.path=value`` overrides and validates the result. The
detector names used here (``pace``, ``stress``, ``flat``, ``overtalk``, ``monologue``,
``dead_air``, ``empathy``) are also the names in events, metrics and cue commands.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from edge.conversation.calls import CallSettings
from edge.conversation.dynamics import DynamicsConfig
from edge.errors import ConfigError
from edge.features.config import FeatureConfig
from edge.fleet.settings import FleetSettings
from edge.settings.cues import Buzz, CueSettings, CueStyle, CueStylesSettings, Pattern
from edge.settings.detectors import (
    DETECTOR_NAMES,
    DeadAirSettings,
    DetectorSettings,
    DetectorsSettings,
    EmpathySettings,
    FlatSettings,
    MonologueSettings,
    OvertalkSettings,
    PaceSettings,
    StressSettings,
)
from edge.settings.loader import from_mapping, load_toml, merge_overrides
from edge.telemetry.settings import TelemetrySettings

#: Shortest allowed ``baseline.save_every_s``.
MIN_SAVE_EVERY_S = 10.0

__all__ = [
    "DETECTOR_NAMES",
    "AudioSettings",
    "BaselineSettings",
    "BudgetSettings",
    "Buzz",
    "CueSettings",
    "CueStyle",
    "CueStylesSettings",
    "DeadAirSettings",
    "DetectorSettings",
    "DetectorsSettings",
    "DeviceSettings",
    "EmpathySettings",
    "FlatSettings",
    "FleetSettings",
    "ModelSettings",
    "MonologueSettings",
    "OvertalkSettings",
    "PaceSettings",
    "Pattern",
    "PolicySettings",
    "StressSettings",
    "TelemetrySettings",
    "load_settings",
]


@dataclass(frozen=True)
class AudioSettings:
    """Where the two-channel audio comes from."""

    source: str = "pyaudio:default"
    """``pyaudio:DEVICE`` (index, name substring or ``default``) or ``wav:FILE``."""

    agent_channel: int = 0
    """Input channel (of the device or WAV file) carrying the agent's headset microphone."""

    customer_channel: int = 1
    """Input channel (of the device or WAV file) carrying the far end (the customer)."""

    block_s: float = 0.1
    """Audio block length in seconds handed to the pipeline per step."""

    analysis_batch_s: float = 0.25
    """The front-end analyses at least this much audio per call (its output is the same for any
    value): larger batches cost less CPU per second of audio and add at most this much latency
    before a hop is final (far below the detectors' minimum durations; figures in
    docs/features.md)."""

    learned_syllables: bool = True
    """Count syllables (speech and articulation rate, so the ``pace`` cue and the agent's rate
    baseline) with the learned counter (``models/syllables-v1``) instead of intensity peaks.
    False counts intensity peaks (no 100 ms look-ahead). Why it is on: docs/voices.md,
    "Syllables and pace"; check it on real agents' speech."""

    own_voice_range_db: float = 6.0
    """For turn-taking (turns, overlap, dead air, calls) a side counts as talking only while the
    loudest speech hop of its last 0.3 s is within this many dB of that side's own speech level
    (the 75th percentile of the hop levels of its last ``own_voice_window_s`` of talk): a headset
    microphone also hears the neighbouring desks, below the wearer's voice. A 0.1 s tick without
    talk is not the side speaking for the prosody cues and the baseline either. 0 turns the gate
    off (every VAD hop counts). The model, the syllable counter and the speech metrics always
    use the front-end's own VAD."""

    own_voice_window_s: float = 20.0
    """Seconds of a side's most recent talk that set its own speech level. The gate starts after
    its first 2 s of speech (for the agent: up to 20 s of what the mic hears while the customer
    talks is held back first; in a room, that is the neighbours), and learns the level again
    when its rejected speech has gone on for 5 s into the other side's silence."""

    reopen_give_up_s: float = 20.0
    """Live capture only: after a capture error or an unplugged device the device is reopened
    with jittered backoff; when no audio has arrived for this long ``poise edge run`` exits 1
    (systemd restarts it). Keep it below the unit's ``WatchdogSec`` (30 s)."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.own_voice_range_db <= 60.0:
            raise ValueError("own_voice_range_db must be within 0..60 (0: off)")
        if not 1.0 <= self.own_voice_window_s <= 600.0:
            raise ValueError("own_voice_window_s must be within 1..600")
        if not 1.0 <= self.reopen_give_up_s <= 600.0:
            raise ValueError("reopen_give_up_s must be within 1..600")
        if self.agent_channel < 0 or self.customer_channel < 0:
            raise ValueError("channels are numbered from 0")
        if self.agent_channel == self.customer_channel:
            raise ValueError("agent_channel and customer_channel must differ")
        if not 0.005 <= self.block_s <= 1.0:
            raise ValueError("block_s must be within 0.005..1.0")
        if not 0.0 <= self.analysis_batch_s <= 1.0:
            raise ValueError("analysis_batch_s must be within 0..1.0")


@dataclass(frozen=True)
class BaselineSettings:
    """The agent's own baseline that pace, flat and stress are measured against."""

    calibration_speech_s: float = 180.0
    """Seconds of agent speech (VAD) collected before relative cues may fire (3 minutes)."""

    summary_speech_s: float = 5.0
    """Agent speech per summary: each metric is reduced to its median over this much speech."""

    follow_speech_s: float = 1800.0
    """After calibration the baseline is the median of the summaries of the last this many
    seconds of speech, so it follows the agent slowly (30 minutes of speech)."""

    freeze_while_drift: bool = True
    """Stop feeding the baseline while any drift (pace, flat, stress) is active, so a drift never
    becomes the new normal."""

    state_file: Path | None = None
    """Where the baseline is kept across restarts (written atomically, locked while a run uses
    it). Unset: ``baseline.json`` in the state directory: ``$STATE_DIRECTORY`` under systemd
    (``/var/lib/poise`` with the shipped unit), else ``$XDG_STATE_HOME/poise`` (default
    ``~/.local/state/poise``)."""

    save_every_s: float = 60.0
    """Seconds of audio between saves of the baseline (also saved on calibration and exit). At
    least 10: every save is an fsync'd rename, and SD cards wear."""

    agents_dir: str = ""
    """Folder of the per-agent baselines, one file per agent (``agent-<id>.json``; "" = ``agents/``
    beside ``state_file``); ``poise edge forget AGENT`` deletes one."""

    agent: str = ""
    """The agent at this desk when no sign-in says otherwise ("" = unknown: recognised by
    voice at the start of each call, a new voice calibrates from nothing)."""

    per_agent: bool = True
    """Keep a baseline per agent in ``agents_dir``: sign-in or the voice at a call's start picks
    whose baseline is used, a new voice calibrates from nothing. False: the desk's single
    ``state_file``, which the next agent at the desk inherits (for a desk with one agent)."""

    @property
    def agents_path(self) -> Path:
        """Where the per-agent baselines are kept."""
        from edge.settings.paths import baseline_state_file

        if self.agents_dir:
            return Path(self.agents_dir)
        return baseline_state_file(self.state_file).parent / "agents"

    pace_fast_sps: float = 7.5
    """Safety cap: an articulation rate above this (syllables/s) always counts as fast, also
    before calibration; set well above habitual rates, which reach 7 syllables/s in fast
    talkers (docs/device.md)."""

    pace_min_sps: float = 4.0
    """Safety cap: never cue pace while the speech rate is below this (syllables/s)."""

    flat_max_st: float = 3.0
    """Safety cap: never cue flat while pitch variability is above this (semitones SD)."""

    flat_always_st: float = 0.8
    """Safety cap: pitch variability below this (semitones SD) always counts as flat."""

    def __post_init__(self) -> None:
        if self.summary_speech_s <= 0 or self.calibration_speech_s < self.summary_speech_s:
            raise ValueError("need 0 < summary_speech_s <= calibration_speech_s")
        if self.follow_speech_s < self.calibration_speech_s:
            raise ValueError("follow_speech_s must be at least calibration_speech_s")
        if not 0 < self.pace_min_sps < self.pace_fast_sps:
            raise ValueError("need 0 < pace_min_sps < pace_fast_sps")
        if not 0 <= self.flat_always_st < self.flat_max_st:
            raise ValueError("need 0 <= flat_always_st < flat_max_st")
        if self.save_every_s < MIN_SAVE_EVERY_S:
            raise ValueError(
                f"save_every_s must be at least {MIN_SAVE_EVERY_S:g} s (each save is an fsync'd "
                "rename; SD cards wear)"
            )


@dataclass(frozen=True)
class BudgetSettings:
    """A shared budget keeps cues rare."""

    max_cues_per_10min: int = 4
    """At most this many cues start in any 10-minute window (all detectors together)."""

    min_gap_s: float = 20.0
    """At least this long between the end of one cue and the start of the next."""

    def __post_init__(self) -> None:
        if self.max_cues_per_10min < 0 or self.min_gap_s < 0:
            raise ValueError("budget values must not be negative")


@dataclass(frozen=True)
class PolicySettings:
    """Which detectors run, who may see them and what may leave the device (``edge.policy``)."""

    profile: str = "default"
    """Named policy in one word: ``default``, ``eu`` (EU AI Act Art. 5(1)(f): no arousal or
    stress ever leaves the device, stress off unless set ``agent-only``) or ``private``
    (only status and health are published). The profile sets the other ``policy`` keys; keys
    given explicitly override it, but never past its hard rules."""

    detectors: tuple[str, ...] = DETECTOR_NAMES
    """Detectors that run. Left out = not computed at all."""

    stress: Literal["off", "agent-only"] = "agent-only"
    """``off``: stress is never computed; ``agent-only``: shown to the agent, never published."""

    publish_metrics: bool = True
    """Publish one aggregate per metrics window (rates, pitch, talk time; no audio, no text)."""

    publish_arousal: bool = True
    """Include arousal values in published metrics (refused by the ``eu`` and ``private``
    profiles)."""

    publish_events: bool = True
    """Publish cue on/off (of ``publish_cues`` kinds) and call start/end events."""

    publish_cues: tuple[str, ...] = ("overtalk", "monologue", "dead_air", "pace", "flat")
    """Cue kinds whose on/off events and counts may be published; ``stress`` is never
    published."""

    def __post_init__(self) -> None:
        from edge.policy import EMOTION_DETECTORS, profile

        try:
            prof = profile(self.profile)
        except ValueError as exc:
            raise ValueError(str(exc)) from None
        for name in (*self.detectors, *self.publish_cues):
            if name not in DETECTOR_NAMES:
                raise ValueError(f"unknown detector {name!r} (known: {', '.join(DETECTOR_NAMES)})")
        if "stress" in self.publish_cues:
            raise ValueError("stress is agent-only and can never be published")
        if prof.hard_no_emotion:
            if self.publish_arousal:
                raise ValueError(f"profile {prof.name!r} never publishes arousal")
            bad = [n for n in self.publish_cues if n in EMOTION_DETECTORS]
            if bad:
                raise ValueError(f"profile {prof.name!r} never publishes {', '.join(bad)} cues")
        if prof.hard_no_telemetry and (self.publish_metrics or self.publish_events):
            raise ValueError(f"profile {prof.name!r} publishes only status and health")

    def runs(self, name: str) -> bool:
        """Whether detector ``name`` runs under this policy."""
        if name == "stress" and self.stress == "off":
            return False
        return name in self.detectors


@dataclass(frozen=True)
class ModelSettings:
    """The arousal model behind ``stress`` and ``empathy``."""

    path: Path | None = None
    """The int8 TFLite model (its card sits beside it, same name with ``.json``); an absolute
    path. Unset: the model shipped in the package (``prosody-v1``). A model that is missing or
    refused stops ``poise edge run`` (exit 2) unless the policy runs neither ``stress`` nor
    ``empathy``."""
    enabled: bool = True
    """Set false to run without the model (``stress`` and ``empathy`` are then off)."""


@dataclass(frozen=True)
class DeviceSettings:
    """Everything ``poise edge run`` needs."""

    audio: AudioSettings = field(default_factory=AudioSettings)
    """Audio source and channel map."""
    features: FeatureConfig = field(default_factory=FeatureConfig)
    """Feature front-end settings (the model card must match them)."""
    baseline: BaselineSettings = field(default_factory=BaselineSettings)
    """The agent's own baseline."""
    detectors: DetectorsSettings = field(default_factory=DetectorsSettings)
    """Thresholds and timing of each detector."""
    budget: BudgetSettings = field(default_factory=BudgetSettings)
    """Shared cue budget."""
    policy: PolicySettings = field(default_factory=PolicySettings)
    """What runs, who sees it, what is published."""
    cues: CueSettings = field(default_factory=CueSettings)
    """Cue output and styles."""
    model: ModelSettings = field(default_factory=ModelSettings)
    """Arousal model."""
    fleet: FleetSettings = field(default_factory=FleetSettings)
    """Fleet enrollment, signed config and model updates (off unless ``enabled``)."""
    dynamics: DynamicsConfig = field(default_factory=DynamicsConfig)
    """Talk spurts, turns, overlap, interruptions, dead air: the definitions ``poise analyze``
    and the device share (``docs/dynamics.md``; ``poise analyze --config`` reads this table
    too)."""
    calls: CallSettings = field(default_factory=CallSettings)
    """Where a call starts and ends (``edge.conversation.calls``)."""
    metrics_window_s: float = 10.0
    """Length of a metrics window (one aggregate per window, also cut at call start and end)."""
    telemetry: TelemetrySettings = field(default_factory=TelemetrySettings)
    """MQTT publisher (off unless ``broker`` is set)."""

    def __post_init__(self) -> None:
        if not 1.0 <= self.metrics_window_s <= 3600.0:
            raise ValueError("metrics_window_s must be within 1..3600")


def load_settings(
    path: str | Path | None = None, overrides: list[str] | None = None
) -> DeviceSettings:
    """Read ``path`` (or start from the defaults), apply ``key.path=value`` overrides, validate."""
    data: dict[str, Any] = load_toml(path) if path is not None else {}
    if overrides:
        data = merge_overrides(data, overrides)
    data = _apply_profile(data)
    return from_mapping(DeviceSettings, data)


def _apply_profile(data: dict[str, Any]) -> dict[str, Any]:
    """Put the named profile's policy values under the explicitly given ``policy`` keys."""
    from edge.policy import profile_defaults

    policy = data.get("policy", {})
    if not isinstance(policy, dict):
        return data  # from_mapping reports the type error
    name = policy.get("profile", "default")
    if not isinstance(name, str):
        raise ConfigError(f"policy.profile must be a string, not {name!r}")
    try:
        base = profile_defaults(name)
    except ValueError as exc:
        raise ConfigError(f"policy.profile: {exc}") from None
    return {**data, "policy": {**base, **policy}}


def field_names(cls: type) -> list[str]:
    """Names of a settings dataclass's fields (used by docs tests)."""
    return [f.name for f in fields(cls)]
