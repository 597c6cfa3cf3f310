"""Synthetic two-channel call audio for device-loop tests and scenario benchmarks.

espeak-ng speech (and EmoDB utterances, read in place) are turned into 16 kHz float arrays,
joined with silences and put on two channels (0 agent, 1 customer). A faint deterministic noise
floor (-70 dBFS) is added so the VAD has a floor to track. Nothing here is committed as audio:
callers write WAVs into temporary directories.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soxr

from edge.audio.wav import read_wav
from edge.audio.wav import write_wav as write_pcm_wav

SR = 16_000
F32 = npt.NDArray[np.float32]

SENTENCES = (
    "Thank you for calling, my name is Alex, how can I help you today.",
    "I can see your account here, let me just check the last few payments for you.",
    "That charge was applied on the third of the month, when the new plan started.",
    "I understand that this is frustrating, and I am going to sort it out right now.",
    "Could you please confirm the first line of your address and your postcode.",
    "The engineer can visit on Tuesday morning between eight and twelve o'clock.",
    "I have applied a credit to your account, it will show on your next bill.",
    "Is there anything else that I can help you with while you are on the line.",
    "Your router should restart by itself, the lights will flash for a minute or two.",
    "We changed the billing system last week, and some customers got two letters.",
    "Let me put a note on the account so that nobody asks you about this again.",
    "The refund usually takes three to five working days to reach your bank.",
)
CUSTOMER_SENTENCES = (
    "Yes, that is right.",
    "I have been waiting for over an hour and nobody called me back.",
    "Okay, thank you, that makes sense.",
    "No, the payment went out twice this month.",
    "It is twelve Station Road.",
    "Right, and when will that happen?",
)


def have_espeak() -> bool:
    return shutil.which("espeak-ng") is not None


_CACHE: dict[tuple[object, ...], F32] = {}
_DATA_DIR: Path | None = None


def _espeak_data_dir() -> Path:
    """A private espeak-ng data dir (symlinks to the system one) with two extra voice variants:
    ``flat`` (pitch range of a few Hz: monotone) and ``norm`` (a normal range)."""
    global _DATA_DIR
    if _DATA_DIR is not None:
        return _DATA_DIR
    out = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True).stdout
    sysdir = Path(out.split("Data at:")[-1].strip()) if "Data at:" in out else None
    if sysdir is None or not sysdir.is_dir():
        raise RuntimeError("cannot locate espeak-ng-data")
    root = Path(tempfile.mkdtemp(prefix="poise-espeak-"))
    atexit.register(shutil.rmtree, root, True)
    data = root / "espeak-ng-data"
    (data / "voices" / "!v").mkdir(parents=True)
    for f in sysdir.iterdir():
        if f.name != "voices":
            (data / f.name).symlink_to(f)
    for f in (sysdir / "voices").iterdir():
        if f.name != "!v":
            (data / "voices" / f.name).symlink_to(f)
    for f in (sysdir / "voices" / "!v").iterdir():
        (data / "voices" / "!v" / f.name).symlink_to(f)
    variants = {"flat": "pitch 98 102", "norm": "pitch 82 118"}
    for name, pitch in variants.items():
        (data / "voices" / "!v" / name).write_text(
            f"language variant\nname {name}\ngender male\n{pitch}\n"
        )
    _DATA_DIR = root
    return root


def espeak(
    text: str, rate: int = 170, pitch: int = 50, voice: str = "en-us", extra: Sequence[str] = ()
) -> F32:
    """Synthesize ``text`` with espeak-ng; mono float32 at 16 kHz (cached per process).

    Voices ``en-us+flat`` (monotone) and ``en-us+norm`` come from a private data dir."""
    key = (text, rate, pitch, voice, tuple(extra))
    if key in _CACHE:
        return _CACHE[key]
    env = dict(os.environ, ESPEAK_DATA_PATH=str(_espeak_data_dir()))
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "s.wav"
        subprocess.run(
            [
                "espeak-ng",
                "-v",
                voice,
                "-s",
                str(rate),
                "-p",
                str(pitch),
                *extra,
                "-w",
                str(out),
                text,
            ],
            check=True,
            capture_output=True,
            env=env,
        )
        x, sr = read_wav_mono(out)
    _CACHE[key] = resample(x, sr)
    return _CACHE[key]


def read_wav_mono(path: Path) -> tuple[F32, int]:
    x, sr = read_wav(path)
    return x.mean(axis=1, dtype=np.float32), sr


def resample(x: F32, sr: int) -> F32:
    if sr == SR:
        return x.astype(np.float32)
    return np.asarray(soxr.resample(x, sr, SR), dtype=np.float32)


def silence(seconds: float) -> F32:
    return np.zeros(round(seconds * SR), np.float32)


def speech_block(
    seconds: float,
    rate: int = 170,
    pitch: int = 50,
    extra: Sequence[str] = (),
    gap_s: float = 0.5,
    seed: int = 0,
    sentences: Sequence[str] = SENTENCES,
    voice: str = "en-us",
) -> F32:
    """At least ``seconds`` of sentences separated by ``gap_s`` pauses, cut to ``seconds``."""
    rng = np.random.default_rng(seed)
    parts: list[F32] = []
    total = 0
    cache: dict[str, F32] = {}
    while total < seconds * SR:
        s = str(sentences[int(rng.integers(len(sentences)))])
        if s not in cache:
            cache[s] = espeak(s, rate=rate, pitch=pitch, extra=extra, voice=voice)
        gap = silence(gap_s * float(rng.uniform(0.7, 1.4)))
        parts += [cache[s], gap]
        total += cache[s].size + gap.size
    return np.concatenate(parts)[: round(seconds * SR)]


def stereo(agent: F32, customer: F32, noise_dbfs: float = -70.0, seed: int = 1) -> F32:
    """Two channels (agent, customer) padded to the same length, with a faint noise floor."""
    n = max(agent.size, customer.size)
    out = np.zeros((n, 2), np.float32)
    out[: agent.size, 0] = agent
    out[: customer.size, 1] = customer
    rng = np.random.default_rng(seed)
    amp = 10 ** (noise_dbfs / 20) * np.sqrt(2)
    out += (rng.standard_normal(out.shape) * amp / np.sqrt(2)).astype(np.float32)
    return out


def write_wav(path: Path, x: F32) -> Path:
    """Write float (n, channels) as 16-bit PCM at 16 kHz."""
    write_pcm_wav(path, np.clip(np.round(x * 32767.0), -32768, 32767).astype(np.int16), SR)
    return path
