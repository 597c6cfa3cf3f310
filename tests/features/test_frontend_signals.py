"""The real FrontEnd (project pitch tracker included) on signals whose truth is known: harmonic
tones, amplitude-modulated "syllable" trains, silence, DC offset, clipping, espeak-ng speech at
known speaking rates and EmoDB recordings, fed in blocks of several sizes."""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
import soxr

from edge.features.config import FeatureConfig
from edge.features.frames import FrameBatch
from edge.features.frontend import FrontEnd

CFG = FeatureConfig()
SR = CFG.sample_rate
HOP = CFG.hop
RNG_SEED = 20_261_124

#: Plain English prose said by espeak-ng at several speeds ...
TEXT = (
    "Thank you for calling. I understand that your order has not arrived yet, "
    "and I am sorry about that. Let me look at the tracking number for you, "
    "it will only take a moment."
)
#: ... with this many syllables (counted by hand: thank-you-for-cal-ling-I-un-der-stand ...).
TEXT_SYLLABLES = 45


def analyze(x: np.ndarray, block: int | None = None) -> FrameBatch:
    fe = FrontEnd(CFG)
    if block is None:
        return FrameBatch.concat([fe.process(x), fe.flush()])
    parts = [fe.process(x[i : i + block]) for i in range(0, len(x), block)]
    return FrameBatch.concat([*parts, fe.flush()])


def noise(seconds: float, dbfs: float, seed: int = RNG_SEED) -> np.ndarray:
    rms = 10.0 ** (dbfs / 20.0)
    return (rms * np.random.default_rng(seed).standard_normal(int(seconds * SR))).astype(np.float32)


def harmonic(f0: float, seconds: float, amp: float = 0.3, n_harm: int = 8) -> np.ndarray:
    """Harmonic complex with 1/k amplitudes, peak-normalised to ``amp``."""
    t = np.arange(int(seconds * SR)) / SR
    k = np.arange(1, n_harm + 1)[:, None]
    k = k[(k[:, 0] * f0) < SR / 2]
    x = (np.sin(2 * np.pi * f0 * k * t[None, :]) / k).sum(axis=0)
    return (amp * x / np.abs(x).max()).astype(np.float32)


def syllable_am(rate_hz: float, seconds: float, f0: float = 140.0) -> np.ndarray:
    """A harmonic tone whose envelope rises and falls ``rate_hz`` times per second, down to
    -40 dB between "syllables" (a raised-cosine to the 4th power)."""
    x = harmonic(f0, seconds, amp=0.4)
    t = np.arange(len(x)) / SR
    env = (0.5 - 0.5 * np.cos(2 * np.pi * rate_hz * t)) ** 4
    return (x * np.maximum(env, 0.01)).astype(np.float32)


def level_db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(x, dtype=np.float64))))


def assert_same(a: FrameBatch, b: FrameBatch) -> None:
    assert len(a) == len(b)
    for name, col in a.columns().items():
        other = b.columns()[name]
        if col.dtype == np.bool_:
            np.testing.assert_array_equal(col, other, err_msg=name)
        else:
            # 1e-5 absolute, or float32 rounding (f0 near 150 Hz has a 1.5e-5 ulp).
            np.testing.assert_allclose(
                col, other, atol=1e-5, rtol=1e-6, equal_nan=True, err_msg=name
            )


def read_wav_16k(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        sr = w.getframerate()
        raw = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    return soxr.resample(raw.astype(np.float32) / 32768.0, sr, SR).astype(np.float32)


def espeak(tmp: Path, wpm: int, text: str = TEXT) -> np.ndarray:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    out = tmp / f"espeak_{wpm}.wav"
    subprocess.run(["espeak-ng", "-s", str(wpm), "-w", str(out), text], check=True)
    return read_wav_16k(out)


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    """espeak-ng at 160 wpm behind 0.4 s of quiet room noise."""
    x = espeak(tmp_path_factory.mktemp("speech"), 160)
    lead = noise(0.4, -65.0)
    return np.concatenate([lead, x + noise(len(x) / SR, -65.0, seed=1)[: len(x)]])


@pytest.fixture(scope="module")
def emodb_files() -> list[np.ndarray]:
    from edge.errors import InputError
    from models.emodb import utterances

    try:
        utts = utterances()
    except InputError:
        pytest.skip("EmoDB corpus not available (set POISE_EMODB_DIR)")
    picks = [u for u in utts if u.stem in ("03a01Fa", "16b10Tb", "09a05Wb")] or utts[:3]
    out = []
    for u in picks:
        x, sr = u.read()
        out.append(soxr.resample(x, sr, SR).astype(np.float32))
    return out


# --- tones --------------------------------------------------------------------------------------


def test_full_scale_sine_reads_minus_3_dbfs() -> None:
    t = np.arange(SR) / SR
    out = analyze(np.sin(2 * np.pi * 1000.0 * t).astype(np.float32))
    mid = slice(5, len(out) - 5)
    np.testing.assert_allclose(out.level_dbfs[mid], 20 * np.log10(np.sqrt(0.5)), atol=0.05)


@pytest.mark.parametrize("f0", [95.0, 150.0, 233.0])
def test_harmonic_tone_level_voicing_and_f0(f0: float) -> None:
    lead = noise(0.5, -70.0)
    tone = harmonic(f0, 1.5)
    out = analyze(np.concatenate([lead, tone]))
    steady = (out.t > 0.6) & (out.t < 1.9)
    assert np.all(out.voicing[steady] >= CFG.voicing_threshold)
    np.testing.assert_allclose(out.f0_hz[steady], f0, rtol=0.01)
    np.testing.assert_allclose(out.f0_st[steady], 12 * np.log2(f0 / 27.5), atol=0.2)
    # A 25 ms window holds a non-integer number of periods: the RMS wobbles a little per hop.
    np.testing.assert_allclose(out.level_dbfs[steady], level_db(tone), atol=1.0)
    assert np.mean(out.level_dbfs[steady]) == pytest.approx(level_db(tone), abs=0.2)
    assert out.vad[steady].all()
    assert not out.vad[out.t < 0.4].any()
    assert np.isnan(out.f0_hz[out.t < 0.4]).all()


@pytest.mark.parametrize("f0", [95.0, 150.0, 233.0])
def test_steady_tone_is_not_a_syllable_train(f0: float) -> None:
    # A 25 ms frame holds 2.4 periods of 95 Hz: its RMS ripples by >1 dB from hop to hop, which
    # a 1 dB dip rule on an unsmoothed intensity takes for a train of syllables.
    out = analyze(np.concatenate([noise(0.5, -70.0), harmonic(f0, 1.5)]))
    assert out.nucleus.sum() <= 2


@pytest.mark.parametrize("rate", [3.0, 4.0, 6.0])
def test_am_syllable_train_gives_its_rate(rate: float) -> None:
    seconds = 6.0
    x = np.concatenate([noise(0.5, -70.0), syllable_am(rate, seconds)])
    out = analyze(x)
    n = int(out.nucleus.sum())
    assert abs(n - rate * seconds) <= 2, n
    # The last 5 s window lies wholly inside the train. Counting the peaks, the rate is exact;
    # the learned counter (trained on speech, not on tones) is held to the issue's +-15 %
    # (v3 counts this tone train 9-14 % low).
    fe = FrontEnd(CFG, learned_syllables=False)
    peaks = FrameBatch.concat([fe.process(x), fe.flush()])
    assert peaks.speech_rate_sps[-1] == pytest.approx(rate, abs=0.5)
    assert out.speech_rate_sps[-1] == pytest.approx(rate, rel=0.15)
    assert out.articulation_rate_sps[-1] >= out.speech_rate_sps[-1] - 1e-6
    assert np.isfinite(out.pitch_sd_st[-1]) and out.pitch_sd_st[-1] < 0.5  # monotone


def test_silence_gives_nothing() -> None:
    for x in (np.zeros(3 * SR, np.float32), np.zeros(3 * SR, np.int16), noise(3.0, -60.0)):
        out = analyze(x)
        assert len(out) == 3 * SR // HOP
        assert not out.vad.any() and not out.nucleus.any()
        assert np.isnan(out.f0_hz).all() and np.isnan(out.jitter).all()
        assert np.all(out.speech_rate_sps == 0)
        assert np.isnan(out.articulation_rate_sps).all() and np.isnan(out.pitch_sd_st).all()
        assert np.all(out.pause_s == 0)
        assert np.isfinite(out.mel).all() and np.isfinite(out.alpha_ratio_db).all()
    assert np.all(analyze(np.zeros(SR, np.float32)).level_dbfs == -120.0)


# --- speech -------------------------------------------------------------------------------------


def test_dc_offset_and_clipping_keep_vad_and_nuclei(speech: np.ndarray) -> None:
    clean = analyze(speech)
    assert clean.vad.mean() > 0.5 and clean.nucleus.sum() >= 20
    for name, x in {
        "dc +0.3": speech + np.float32(0.3),
        "dc -0.5": speech - np.float32(0.5),
        "clipped x20": np.clip(speech * 20, -1, 1),
        "clipped x20 + dc": np.clip(speech * 20 + 0.2, -1, 1),
    }.items():
        out = analyze(x.astype(np.float32))
        assert (out.vad == clean.vad).mean() > 0.95, name
        assert abs(int(out.nucleus.sum()) - int(clean.nucleus.sum())) <= 4, name
        voiced = np.isfinite(clean.f0_hz) & np.isfinite(out.f0_hz)
        assert np.median(np.abs(out.f0_st[voiced] - clean.f0_st[voiced])) < 0.3, name


@pytest.mark.parametrize("block", [160, 1000, 16000])
def test_block_size_invariance_on_speech(speech: np.ndarray, block: int) -> None:
    assert_same(analyze(speech), analyze(speech, block))


@pytest.mark.parametrize("block", [160, 1000, 16000])
def test_block_size_invariance_on_emodb(emodb_files: list[np.ndarray], block: int) -> None:
    for x in emodb_files:
        assert_same(analyze(x), analyze(x, block))


def test_int16_and_float_input_agree(speech: np.ndarray) -> None:
    pcm = np.round(np.clip(speech, -1, 1) * 32767).astype(np.int16)
    assert_same(analyze(pcm, 1000), analyze(pcm.astype(np.float32) / 32768.0))


def test_hop_count_is_ceil_n_over_hop_for_speech(speech: np.ndarray) -> None:
    for n in (len(speech), len(speech) - 1, len(speech) - HOP // 2):
        assert len(analyze(speech[:n], 777)) == -(-n // HOP)


def test_rates_rise_with_espeak_words_per_minute(tmp_path: Path) -> None:
    results = {}
    for wpm in (120, 160, 220):
        x = np.concatenate([noise(0.3, -65.0), espeak(tmp_path, wpm), noise(0.3, -65.0)])
        out = analyze(x, 1600)
        speech_s = out.vad.sum() * CFG.hop_s
        for name, n in (
            ("peaks", float(out.nucleus.sum())),
            ("learned", float(out.syllables.sum())),
        ):
            results[name, wpm] = (n, n / speech_s, n / (len(x) / SR))
    for name in ("peaks", "learned"):
        counts = [r[0] for (who, _), r in results.items() if who == name]
        artic = [r[1] for (who, _), r in results.items() if who == name]
        overall = [r[2] for (who, _), r in results.items() if who == name]
        assert artic == sorted(artic) and artic[0] < artic[-1] * 0.8, results
        assert overall == sorted(overall) and overall[0] < overall[-1] * 0.8, results
        # Speaking rate in syllables/s scales roughly with wpm (about 1.4 syllables per word here).
        ratio = artic[-1] / artic[0]
        assert 1.3 < ratio < 2.6, results
        # Same text each time: the count should be near the true syllable count at every speed.
        # The learned counter (trained on German acted speech only) over-counts slow synthetic
        # English: 58 for 45 at 120 wpm (docs/features.md); it must not get worse than +35 %.
        low, high = (0.75, 1.25) if name == "peaks" else (0.9, 1.35)
        assert all(low * TEXT_SYLLABLES <= c <= high * TEXT_SYLLABLES for c in counts), results


def test_pause_is_reported_where_speech_resumes(tmp_path: Path) -> None:
    a = espeak(tmp_path, 160, "Thank you for calling.")
    b = espeak(tmp_path, 160, "How can I help you today?")
    gap_s = 0.8
    x = np.concatenate([noise(0.3, -65.0), a, noise(gap_s, -65.0, seed=2), b])
    out = analyze(x, 1000)
    idx = np.flatnonzero(out.pause_s > 0)
    assert len(idx) >= 1
    resume_t = 0.3 + len(a) / SR + gap_s
    best = idx[np.argmax(out.pause_s[idx])]
    assert abs(out.t[best] - resume_t) < 0.2
    # espeak leaves some silence at the ends of its audio; the pause is at least the gap.
    assert gap_s - 0.2 < out.pause_s[best] < gap_s + 0.8
    assert np.all(out.pause_s[idx] >= CFG.min_pause_s - 1e-6)


def test_clicks_and_noise_bursts_are_not_speech(speech: np.ndarray) -> None:
    quiet = noise(3.0, -65.0)
    clicks = quiet.copy()
    clicks[(np.arange(10) * 0.2 * SR + 0.5 * SR).astype(int)] += 0.5  # typing
    burst = np.concatenate([noise(1.0, -65.0), noise(0.5, -20.0, seed=5), noise(1.0, -65.0, 6)])
    for name, x in {"clicks": clicks, "burst": burst}.items():
        out = analyze(x)
        assert out.level_dbfs.max() > -40, name  # loud enough for the energy VAD
        assert not out.vad.any(), name
        assert np.all(out.speech_rate_sps == 0), name
    # ... while the same clicks mixed under speech leave its VAD alone.
    n = min(len(speech), len(clicks))
    mixed = speech.copy()
    mixed[:n] += clicks[:n] - quiet[:n]
    assert (analyze(mixed).vad == analyze(speech).vad).mean() > 0.97


def test_faint_voice_right_after_loud_speech_has_no_nuclei(speech: np.ndarray) -> None:
    """The other party leaking into the headset mic, 35 dB down: voiced and above the noise
    floor (so in the VAD), but far below the running maximum, so no syllable nuclei."""
    faint = speech[: 2 * SR] * np.float32(10 ** (-35 / 20))
    alone = analyze(np.concatenate([noise(0.5, -80.0), faint]))
    assert alone.nucleus.sum() >= 4  # on its own, the faint part is ordinary speech
    x = np.concatenate([speech[: 3 * SR], noise(0.3, -80.0), faint])
    out = analyze(x)
    after = out.t > 3.3
    assert out.nucleus[~after].sum() >= 8
    assert out.nucleus[after].sum() == 0
