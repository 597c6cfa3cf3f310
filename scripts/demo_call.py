"""Synthesize a short two-channel contact-center call with espeak-ng (for ``make demo``).

Channel 0 is the agent (``en-us``), channel 1 the customer (``en+f3``: British English, female
variant; ``-v en-gb+f3`` silently drops the variant), band-limited to 300-3400 Hz and 3 dB down
like a phone line. The script has alternating turns, one interruption by the agent (the customer
stops 0.8 s after the agent cuts in), an overlapping hand-over (the customer's "Okay." starts
0.3 s before the agent finishes) and a 3 s pause while the agent looks something up.

Usage: python scripts/demo_call.py OUT.wav
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from edge.audio.resample import resample, to_int16
from edge.audio.wav import read_wav, write_wav

RATE = 16_000
VOICES = {"agent": ("en-us", 165, 0), "customer": ("en+f3", 175, 1)}


@dataclass(frozen=True)
class Line:
    who: str
    text: str
    at: float
    """Start time: seconds after the previous line ended (negative = overlap)."""
    cut_after: float | None = None
    """Stop the line this many seconds after the NEXT line starts (the speaker is cut off)."""


SCRIPT = (
    Line("agent", "Thank you for calling Northwind support, my name is Sam. How can I help?", 0.6),
    Line(
        "customer",
        "Hi Sam. My internet keeps dropping out every evening, and I work from home, "
        "so it is really becoming a problem for me.",
        0.5,
    ),
    Line("agent", "I am sorry to hear that. Let me pull up your account.", 0.7),
    Line("agent", "Okay, I can see your line here. When do the drops usually start?", 3.0),
    Line(
        "customer",
        "Usually around seven in the evening, right when everyone in the street gets home "
        "and starts streaming films and playing games online",
        0.6,
        cut_after=0.8,
    ),
    Line("agent", "Right, that is peak time. I will run a line test on your connection now.", -1.0),
    Line("customer", "Okay.", -0.3),
    Line(
        "agent",
        "The test shows errors on the line, so I am booking an engineer visit for tomorrow "
        "morning, between eight and twelve.",
        0.4,
    ),
    Line("customer", "That is great, thank you so much for your help.", 0.5),
    Line("agent", "You are welcome. Have a lovely evening.", 0.4),
)


def speak(text: str, voice: str, speed: int, workdir: Path) -> np.ndarray:
    """espeak-ng to float32 mono at 16 kHz."""
    wav = workdir / "line.wav"
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), text],
        check=True,
        capture_output=True,
    )
    x, rate = read_wav(wav)
    return resample(x[:, 0], rate, RATE)


def phone_band(x: np.ndarray) -> np.ndarray:
    from scipy.signal import butter, sosfilt

    sos = butter(4, [300, 3400], btype="bandpass", fs=RATE, output="sos")
    return sosfilt(sos, x).astype(np.float32)


def build(workdir: Path) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(7)
    clips = []
    for line in SCRIPT:
        voice, speed, _ = VOICES[line.who]
        clips.append(speak(line.text, voice, speed, workdir))
    # trim espeak's leading/trailing silence so "at" offsets are between actual speech
    trimmed = []
    for c in clips:
        on = np.flatnonzero(np.abs(c) > 0.01)
        trimmed.append(c[on[0] : on[-1] + 1] if on.size else c)
    starts: list[float] = []
    ends: list[float] = []
    t = 0.0
    for i, (line, c) in enumerate(zip(SCRIPT, trimmed, strict=True)):
        start = max(0.0, t + line.at)
        starts.append(start)
        ends.append(start + c.size / RATE)
        t = ends[-1]
        if i > 0 and SCRIPT[i - 1].cut_after is not None:
            cut = start + float(SCRIPT[i - 1].cut_after)  # type: ignore[arg-type]
            ends[i - 1] = min(ends[i - 1], cut)
    total = max(ends) + 1.0
    out = np.zeros((int(total * RATE), 2), np.float32)
    notes = []
    for line, c, s, e in zip(SCRIPT, trimmed, starts, ends, strict=True):
        ch = VOICES[line.who][2]
        a, n = round(s * RATE), round((e - s) * RATE)
        seg = c[:n].copy()
        if n < c.size:  # cut off: 20 ms fade so the cut does not click
            fade = min(320, n)
            seg[-fade:] *= np.linspace(1, 0, fade, dtype=np.float32)
        out[a : a + n, ch] += seg
        notes.append(f"{s:6.2f}-{e:6.2f} s  {line.who:<8} {line.text[:60]}")
    out[:, 1] = phone_band(out[:, 1]) * 0.7
    out += rng.normal(0, 10 ** (-62 / 20), out.shape).astype(np.float32)  # faint line noise
    return out, notes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    args = ap.parse_args(argv)
    if shutil.which("espeak-ng") is None:
        print("demo_call: espeak-ng is not installed (apt-get install espeak-ng)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        audio, notes = build(Path(tmp))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_wav(args.out, to_int16(np.clip(audio, -1, 1)), RATE)
    seconds = audio.shape[0] / RATE
    print(f"wrote {args.out}: {seconds:.1f} s, 16 kHz stereo (0 = agent, 1 = customer)")
    for n in notes:
        print("  " + n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
