"""``poise analyze`` end to end on an espeak-ng two-channel call, and its handling of bad input."""

from __future__ import annotations

import csv
import json
import shutil
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edge.audio.resample import resample, to_int16
from edge.audio.wav import read_wav, write_wav
from edge.cli import main
from edge.recording.output import FRAME_COLUMNS, atomic_write
from tests.audio import wavgen

REPO = Path(__file__).resolve().parents[2]
RATE = 16000

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")


def _say(text: str, voice: str, tmp: Path) -> np.ndarray:
    wav = tmp / "say.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(wav), text], check=True)
    x, rate = read_wav(wav)
    y = resample(x[:, 0], rate, RATE)
    on = np.flatnonzero(np.abs(y) > 0.01)
    return y[on[0] : on[-1] + 1]


@pytest.fixture(scope="module")
def call(tmp_path_factory) -> dict:
    """Agent talks; the customer cuts in 1 s before the agent's sentence would end and the agent
    stops 1.0 s later; 2 s of silence; the agent answers. Known: 1 customer->agent interruption,
    about 1 s of overlap, one dead air of about 2 s, one response latency of about 2 s."""
    tmp = tmp_path_factory.mktemp("call")
    agent1 = _say(
        "Thank you for calling, how can I help you with your account today?", "en-us", tmp
    )
    cust = _say("My bill is wrong again and I want it fixed right now please.", "en+f3", tmp)
    agent2 = _say("I understand. Let me check that for you.", "en-us", tmp)
    a0 = int(0.5 * RATE)
    c0 = a0 + agent1.size - RATE  # customer starts 1 s before the agent would finish
    a1_stop = c0 + RATE  # agent stops 1.0 s after the customer came in
    a2 = c0 + cust.size + 2 * RATE
    n = a2 + agent2.size + RATE // 2
    x = np.zeros((n, 2), np.float32)
    x[a0:a1_stop, 0] = agent1[: a1_stop - a0]
    x[c0 : c0 + cust.size, 1] = cust * 0.8
    x[a2 : a2 + agent2.size, 0] = agent2
    x += np.random.default_rng(0).normal(0, 10 ** (-65 / 20), x.shape).astype(np.float32)
    wav = tmp / "call.wav"
    write_wav(wav, to_int16(x), RATE)
    out = {k: tmp / f"out.{k}" for k in ("json", "csv", "png")}
    rc = main(
        [
            "analyze", str(wav), "--json", str(out["json"]), "--frames", str(out["csv"]),
            "--plot", str(out["png"]),
        ]
    )  # fmt: skip
    return {"rc": rc, "wav": wav, "n": n, "overlap_s": (a1_stop - c0) / RATE, **out}


def _strict_json(path: Path) -> dict:
    def bad(token: str) -> None:
        raise AssertionError(f"JSON contains {token}")

    return json.loads(path.read_text(), parse_constant=bad)


@needs_espeak
def test_json_schema_and_known_dynamics(call):
    assert call["rc"] == 0
    doc = _strict_json(call["json"])
    assert set(doc) >= {"summary", "dynamics", "timeline"}
    keys = {
        "duration_s", "speech_s", "syllables", "peak_nuclei", "speech_rate_sps",
        "articulation_rate_sps", "f0_median_hz", "pitch_sd_st", "level_median_dbfs",
        "pause_count", "pause_mean_s", "jitter_median", "shimmer_median",
        "alpha_ratio_median_db", "hammarberg_median_db",
    }  # fmt: skip
    assert set(doc["summary"]) == {"agent", "customer"}
    for ch in ("agent", "customer"):
        assert set(doc["summary"][ch]) == keys
        assert doc["summary"][ch]["duration_s"] == pytest.approx(call["n"] / RATE, abs=0.011)
        assert doc["summary"][ch]["syllables"] > 5
    # espeak's en-us voice is low, en+f3 is a female variant
    assert (
        doc["summary"]["agent"]["f0_median_hz"] < 140 < doc["summary"]["customer"]["f0_median_hz"]
    )
    dyn = doc["dynamics"]
    assert dyn["interruptions"] == {"agent_interrupts_customer": 0, "customer_interrupts_agent": 1}
    assert dyn["overlap_s"] == pytest.approx(call["overlap_s"], abs=0.35)
    assert dyn["dead_air"]["count"] == 1
    assert dyn["dead_air"]["lengths_s"][0] == pytest.approx(2.0, abs=0.4)
    assert dyn["response_latency"]["values_s"] == [pytest.approx(2.0, abs=0.4)]
    tl = doc["timeline"]
    assert len(tl) == -(-call["n"] // RATE)
    assert set(tl[0]) == {"t", "agent", "customer"}
    assert set(tl[0]["agent"]) == {"speech_share", "level_dbfs", "f0_median_hz", "speech_rate_sps"}


@needs_espeak
def test_frames_csv_and_png(call):
    with call["csv"].open() as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == FRAME_COLUMNS
    hops = -(-call["n"] // 160)
    assert len(rows) == 2 * hops
    assert [r["channel"] for r in rows[:4]] == ["agent", "customer", "agent", "customer"]
    assert float(rows[2]["t"]) == pytest.approx(0.015)
    unvoiced = [r for r in rows if r["voicing"] and float(r["voicing"]) < 0.1]
    assert unvoiced and all(r["f0_hz"] == "" for r in unvoiced)
    assert any(r["f0_hz"] not in ("", "nan") for r in rows)
    assert call["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@needs_espeak
def test_mono_file_and_custom_names(call, tmp_path, capsys):
    x, _ = read_wav(call["wav"])
    mono = tmp_path / "mono.wav"
    write_wav(mono, to_int16(x[:, 0]), RATE)
    js = tmp_path / "m.json"
    assert main(["analyze", str(mono), "--json", str(js)]) == 0
    doc = _strict_json(js)
    assert list(doc["summary"]) == ["agent"] and doc["dynamics"] is None
    assert "agent" in capsys.readouterr().out
    js2 = tmp_path / "n.json"
    assert (
        main(["analyze", str(call["wav"]), "-q", "--channels", "left,right", "--json", str(js2)])
        == 0
    )
    doc2 = _strict_json(js2)
    assert list(doc2["summary"]) == ["left", "right"]
    assert doc2["dynamics"]["roles"] == {"agent": "left", "customer": "right"}


def _bad_files(tmp: Path) -> dict[str, tuple[Path, list[str], str]]:
    notwav = tmp / "song.wav"
    notwav.write_bytes(b"ID3\x04" + bytes(200))
    empty = tmp / "empty.wav"
    empty.write_bytes(wavgen.wav_bytes(b"", channels=2, rate=16000, bits=16))
    trunc = tmp / "trunc.wav"
    data = wavgen.encode(np.zeros((1000, 2)), 16, False)
    trunc.write_bytes(wavgen.wav_bytes(data, channels=2, rate=16000, bits=16, declared_data=8000))
    mulaw = tmp / "mulaw.wav"
    mulaw.write_bytes(wavgen.wav_bytes(bytes(800), channels=1, rate=8000, bits=8, tag=7))
    quad = wavgen.write(tmp / "quad.wav", np.zeros((1600, 4)), 16000, 16)
    ok = wavgen.write(tmp / "ok.wav", np.zeros((1600, 2)), 16000, 16)
    badconf = tmp / "bad.toml"
    badconf.write_text("[features]\nf0_max = 400\n")
    return {
        "not a wav": (notwav, [], "not a WAV file"),
        "empty": (empty, [], "empty WAV"),
        "truncated": (trunc, [], "declares 2000 frames but only 1000 are present"),
        "mu-law": (mulaw, [], "0x0007 (mu-law)"),
        "4 channels": (quad, [], "4 channels"),
        "bad map": (quad, ["--channel-map", "0,7"], "channel 7 does not exist"),
        "missing": (tmp / "nope.wav", [], "no such file"),
        "names": (ok, ["--channels", "a,b,c"], "3 name(s) but"),
        "out dir": (ok, ["--json", str(tmp / "no" / "x.json")], "does not exist"),
        "config": (ok, ["--config", str(tmp / "none.toml")], "config file not found"),
        "config key": (ok, ["--config", str(badconf)], "unknown setting features.f0_max"),
    }


BAD_CASES = (
    "not a wav", "empty", "truncated", "mu-law", "4 channels", "bad map", "missing", "names",
    "out dir", "config", "config key",
)  # fmt: skip


def test_every_bad_case_is_tested(tmp_path):
    assert set(BAD_CASES) == set(_bad_files(tmp_path))


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, case):
    path, extra, expect = _bad_files(tmp_path)[case]
    assert main(["analyze", str(path), *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("poise: error: ") and expect in err[0]


def test_bad_input_through_the_console_script(tmp_path):
    path, _, expect = _bad_files(tmp_path)["truncated"]
    exe = Path(sys.executable).parent / "poise"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "edge"]
    proc = subprocess.run([*cmd, "analyze", str(path)], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and expect in lines[0]


def test_atomic_write_leaves_old_file_on_failure(tmp_path):
    target = tmp_path / "r.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_write(target) as fh:
        fh.write("half a fi")
        raise RuntimeError("disk on fire")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]
    with atomic_write(target) as fh:
        fh.write("new")
    assert target.read_text() == "new"


def test_sixty_four_bit_float_44k1_file_is_analyzed(tmp_path):
    """A non-16k, float64 stereo file goes through resampling into the front-end."""
    t = np.arange(44100 * 2) / 44100
    tone = 0.3 * np.sin(2 * np.pi * 150 * t) * (t > 0.5)
    p = wavgen.write(tmp_path / "f64.wav", np.stack([tone, 0 * t], 1), 44100, 64, is_float=True)
    js = tmp_path / "f.json"
    assert main(["analyze", str(p), "-q", "--json", str(js)]) == 0
    doc = _strict_json(js)
    assert doc["summary"]["agent"]["f0_median_hz"] == pytest.approx(150, rel=0.03)
    assert doc["summary"]["customer"]["speech_s"] == 0.0
    assert doc["summary"]["customer"]["f0_median_hz"] is None
    assert struct.unpack("<4s", p.read_bytes()[:4])[0] == b"RIFF"


def test_plot_of_a_long_call_is_decimated(tmp_path):
    """Ten minutes of hops: the plot path that decimates lines and merges speech spans."""
    import dataclasses

    from edge.conversation.dynamics import dynamics_from_vad
    from edge.features.config import FeatureConfig
    from edge.features.frames import FrameBatch
    from edge.recording.analyze import CallAnalysis
    from edge.recording.plot import _decimate, _spans, write_plot

    n = 60_000
    rng = np.random.default_rng(1)

    def batch(offset: int) -> FrameBatch:
        kw: dict[str, Any] = {}
        for f in dataclasses.fields(FrameBatch):
            if f.name == "t":
                kw["t"] = (np.arange(n) + 0.5) * 0.01
            elif f.name == "mel":
                kw["mel"] = np.zeros((n, 0), np.float32)
            elif f.name in ("vad", "nucleus"):
                kw[f.name] = np.repeat((np.arange(n // 400) + offset) % 2 == 0, 400)
            else:
                kw[f.name] = rng.uniform(50, 300, n).astype(np.float32)
        return FrameBatch(**kw)

    a, c = batch(0), batch(1)
    call = CallAnalysis(
        ("agent", "customer"), {"agent": a, "customer": c}, FeatureConfig(),
        dynamics_from_vad(a.vad, c.vad),
    )  # fmt: skip
    png = tmp_path / "long.png"
    write_plot(png, call)
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert _decimate(np.array([1.0, 5.0, 2.0, np.nan, 3.0]), 2, np.max).tolist() == [5.0, 2.0, 3.0]
    assert _spans(np.array([0, 1, 1, 0, 1], bool), 0.5) == [(0.5, 1.0), (2.0, 0.5)]


@needs_espeak
def test_result_does_not_depend_on_block_size(call):
    from edge.audio.wav_source import WavFileSource
    from edge.recording.analyze import analyze_source, report

    docs = [
        report(analyze_source(WavFileSource(call["wav"], block_frames=bf), ["agent", "customer"]))
        for bf in (777, 32768)
    ]
    assert docs[0] == docs[1]
    assert docs[0]["dynamics"]["events"]
