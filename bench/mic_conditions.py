"""What the agent's headset mic hears besides a clean recording of the agent: the conditions of
:mod:`bench.agent_mic` for the held-out calls of :mod:`bench.scenarios`.

Each condition rewrites the agent column of a built two-channel call (float, -1..1); the far end
is left as it is. They are pure functions of the call, the held-out speaker and a seed, so every
run hears the same room. The neighbours of ``office`` are other speakers of both corpora (never
one of the call's held-out set), read in place; no audio is kept.
"""

from __future__ import annotations

import numpy as np

from bench import heldout
from edge.simulate.speech import F32, SR

#: Condition name -> what it imitates.
CONDITIONS: dict[str, str] = {
    "clean": "as recorded: the corpus files over the call's -70 dBFS floor",
    "office": (
        "an open-plan room: four neighbouring agents (other corpus speakers' calm speech, each on "
        "in turns of 6-20 s) together 15 dB below the agent's calm speech level"
    ),
    "quiet": (
        "a low mic gain: the agent's calm speech at -50 dBFS active level (EmoDB as recorded is "
        "at about -16, RAVDESS at -46 to -49), over a -70 dBFS floor"
    ),
    "gain_step": (
        "the agent's channel 6 dB louder from 60 % of the calm stretch on (the boom moved "
        "closer): louder by gain alone is not stress"
    ),
    "gain_drop": (
        "the agent's channel 10 dB quieter from 60 % of the calm stretch on (the boom pushed "
        "away): the agent must still be heard talking, not read as dead air"
    ),
}
OFFICE_SNR_DB = 15.0
"""The agent's calm speech level over the neighbours' summed speech level (active-speech RMS,
dB; calm, because acted stressed speech can be 25 dB louder than calm)."""
OFFICE_NEIGHBOURS = 4
QUIET_DBFS = -50.0
"""Active level of the agent's calm speech in ``quiet``."""
STEP_DB = 6.0
DROP_DB = -10.0
STEP_AT = 0.6
"""Where the gain step (or drop) falls, as a share of the calm stretch (after the baseline
calibrated)."""
FLOOR_DBFS = -70.0


def active_rms(x: F32, frame_s: float = 0.02, margin_db: float = 15.9) -> float:
    """Active speech level (RMS), after ITU-T P.56's idea: the RMS of the 20 ms frames no more
    than ``margin_db`` below that RMS itself (found by iteration), so pauses and a noise floor do
    not pull it down."""
    n = round(frame_s * SR)
    frames = x[: x.size // n * n].reshape(-1, n).astype(np.float64)
    power = np.mean(frames**2, axis=1)
    if power.size == 0 or power.max() <= 0:
        return 0.0
    level = float(power.max())
    for _ in range(30):
        active = power[power >= level * 10 ** (-margin_db / 10)]
        new = float(active.mean())
        if abs(new - level) <= 1e-6 * level:
            break
        level = new
    return float(np.sqrt(level))


def neighbours(speaker: str, n: int = OFFICE_NEIGHBOURS) -> tuple[str, ...]:
    """``n`` speakers outside ``speaker``'s held-out set, half from each corpus, seeded by it."""
    from models import emodb, ravdess

    held = set(heldout.held_set(speaker)) | {speaker}
    rng = np.random.default_rng(sum(map(ord, speaker)))
    out: list[str] = []
    for utts, k in ((emodb.utterances(), n // 2), (ravdess.utterances(), n - n // 2)):
        pool = sorted({u.speaker for u in utts} - held)
        if len(pool) < k:
            raise ValueError(f"not enough speakers outside {sorted(held)} for the office")
        out += [str(s) for s in rng.choice(pool, size=k, replace=False)]
    return tuple(out)


def babble(speaker: str, n_samples: int, seed: int) -> F32:
    """The neighbours of ``speaker`` talking in turns (6-20 s on, 3-10 s off), summed."""
    rng = np.random.default_rng(seed)
    out = np.zeros(n_samples, np.float32)
    for i, who in enumerate(neighbours(speaker)):
        x = heldout.stretch(who, heldout.CALM[heldout.corpus_of(who)], n_samples / SR, seed + i)
        x = np.pad(x, (0, max(0, n_samples - x.size)))[:n_samples]
        mask = np.zeros(n_samples, np.float32)
        pos = round(float(rng.uniform(0, 10)) * SR)  # neighbours do not all start together
        while pos < n_samples:
            on = round(float(rng.uniform(6, 20)) * SR)
            mask[pos : pos + on] = 1.0
            pos += on + round(float(rng.uniform(3, 10)) * SR)
        out += x * mask
    return out


def apply(audio: F32, condition: str, speaker: str, calm_end_s: float, seed: int) -> F32:
    """``audio`` (n, 2) with the agent column (0) as ``condition`` makes it; a new array."""
    if condition not in CONDITIONS:
        raise ValueError(f"unknown mic condition {condition!r} (one of {', '.join(CONDITIONS)})")
    out = np.array(audio, np.float32, copy=True)
    agent = out[:, 0]
    if condition == "office":
        room = babble(speaker, agent.size, seed)
        level = active_rms(room)
        if level > 0:
            calm = active_rms(agent[: round(calm_end_s * SR)])
            agent += room * np.float32(calm / level * 10 ** (-OFFICE_SNR_DB / 20))
    elif condition == "quiet":
        calm = active_rms(agent[: round(calm_end_s * SR)])
        if calm > 0:
            agent *= np.float32(10 ** (QUIET_DBFS / 20) / calm)
            floor = np.random.default_rng(seed).standard_normal(agent.size)
            agent += (floor * 10 ** (FLOOR_DBFS / 20)).astype(np.float32)
    elif condition in ("gain_step", "gain_drop"):
        at = round(STEP_AT * calm_end_s * SR)
        step = STEP_DB if condition == "gain_step" else DROP_DB
        agent[at:] *= np.float32(10 ** (step / 20))
    np.clip(out, -1.0, 1.0, out=out)
    return out
