"""Shared helpers for the install and bad-input tests: small WAVs and the one-error-line check."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge.cli import main
from tests.audio import wavgen


def tone_call(path: Path, seconds: float = 2.0, rate: int = 16_000, channels: int = 2) -> Path:
    """A short call: a 180 Hz tone with a little noise on each channel, 16-bit PCM."""
    t = np.arange(int(seconds * rate)) / rate
    rng = np.random.default_rng(0)
    cols = [
        0.3 * np.sin(2 * np.pi * (180 + 40 * c) * t) + 0.01 * rng.standard_normal(t.size)
        for c in range(channels)
    ]
    return wavgen.write(path, np.stack(cols, axis=1), rate, 16)


def error_line(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    """Run ``poise argv``; assert exit 2 with exactly one ``poise: error:`` line; return it."""
    rc = main(argv)
    err = capsys.readouterr().err
    lines = [x for x in err.splitlines() if x.startswith("poise: error:")]
    assert rc == 2, err
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def call_wav(tmp_path: Path) -> Path:
    return tone_call(tmp_path / "call.wav")
