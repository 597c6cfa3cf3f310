from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from edge.audio.pyaudio_source import PyAudioSource
from edge.errors import ConfigError
from edge.protocols import AudioSource
from tests.audio import fake_pyaudio as fpa

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def fake(monkeypatch):
    monkeypatch.setattr(
        fpa.FakePyAudio,
        "devices",
        [
            fpa.device(0, "HDA Intel PCH: ALC3246 Analog (hw:0,0)", 2, 44100.0),
            fpa.device(1, "HDMI 0", 0),
            fpa.device(2, "USB Headset Adapter: Audio (hw:1,0)", 2, 48000.0),
            fpa.device(3, "Mono Mic", 1, 16000.0),
        ],
    )
    monkeypatch.setattr(fpa.FakePyAudio, "supported_rates", {0: {44100}, 2: {48000}, 3: {16000}})
    monkeypatch.setattr(fpa.FakePyAudio, "default_index", 0)
    monkeypatch.setattr(fpa.FakePyAudio, "script", [])
    monkeypatch.setattr(fpa.FakePyAudio, "instances", [])
    return fpa


def _frames(n: int, start: int, channels: int) -> np.ndarray:
    """Distinct values per channel: channel c of frame i is (start + i) * (c + 1) (mod int16)."""
    i = np.arange(start, start + n)[:, None]
    return ((i * (np.arange(channels) + 1)) % 20000).astype(np.int16)


def test_device_by_name_substring_index_and_default(fake):
    assert PyAudioSource("usb headset", pyaudio_module=fake).device["index"] == 2
    assert PyAudioSource(3, channels=(0,), pyaudio_module=fake).device["name"] == "Mono Mic"
    assert PyAudioSource("3", channels=(0,), pyaudio_module=fake).device["index"] == 3
    assert PyAudioSource(None, pyaudio_module=fake).device["index"] == 0


def test_unknown_device_lists_inputs(fake):
    with pytest.raises(ConfigError) as err:
        PyAudioSource("jabra", pyaudio_module=fake)
    msg = str(err.value)
    assert "no input device matching 'jabra'" in msg
    assert "2: USB Headset Adapter" in msg and "HDMI" not in msg  # outputs are not listed
    with pytest.raises(ConfigError, match="input device 1 not found"):
        PyAudioSource(1, pyaudio_module=fake)  # HDMI has no inputs
    assert all(pa.terminated for pa in fake.FakePyAudio.instances)


def test_mapping_needs_enough_device_channels(fake):
    with pytest.raises(ConfigError, match="needs 2"):
        PyAudioSource("mono mic", channels=(0, 1), pyaudio_module=fake)


def test_swapped_mapping_and_overflow_counting(fake):
    blocks = [_frames(160, k * 160, 2) for k in range(5)]
    status = [0, 0, fake.paInputOverflow, 0, fake.paInputOverflow]
    fake.FakePyAudio.script = [(b.tobytes(), s) for b, s in zip(blocks, status, strict=True)]
    fake.FakePyAudio.supported_rates = {0: {44100}, 2: {16000, 48000}, 3: {16000}}
    src = PyAudioSource("usb", channels=(1, 0), rate=16000, block_frames=160, pyaudio_module=fake)
    assert src.device_rate == 16000
    assert isinstance(src, AudioSource)
    got = list(src.blocks())
    src.close()
    assert src.overflows == 2
    assert [b.t0 for b in got] == pytest.approx([0.0, 0.01, 0.02, 0.03, 0.04])
    np.testing.assert_array_equal(
        np.concatenate([b.samples for b in got]), np.concatenate(blocks)[:, ::-1]
    )
    stream = fake.FakePyAudio.instances[0].streams[0]
    assert stream.kwargs["channels"] == 2 and stream.kwargs["rate"] == 16000
    assert stream.closed


def test_mono_agent_only(fake):
    blocks = [_frames(320, k * 320, 1) for k in range(3)]
    fake.FakePyAudio.script = [(b.tobytes(), 0) for b in blocks]
    fake.FakePyAudio.supported_rates = {0: {16000}}
    src = PyAudioSource(0, channels=(0,), block_frames=320, pyaudio_module=fake)
    out = np.concatenate([b.samples for b in src.blocks()])
    assert fake.FakePyAudio.instances[0].streams[0].kwargs["channels"] == 1
    np.testing.assert_array_equal(out, np.concatenate(blocks))


def test_resamples_when_16k_unsupported(fake):
    rate = 48000
    t = np.arange(rate) / rate
    x = (0.5 * 32767 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
    stereo = np.stack([x, x // 2], axis=1)
    fake.FakePyAudio.script = [(stereo[i : i + 4800].tobytes(), 0) for i in range(0, rate, 4800)]
    src = PyAudioSource("usb", rate=16000, block_frames=1600, pyaudio_module=fake)
    assert src.device_rate == 48000
    assert fake.FakePyAudio.instances[0].streams == []  # opened lazily
    out = np.concatenate([b.samples for b in src.blocks()])
    assert 15000 < out.shape[0] <= 16000  # the filter's last few ms stay inside (live: no flush)
    mid = out[2000:14000].astype(float)
    rms = np.sqrt(np.mean(mid**2, axis=0))
    expect = np.array([0.5, 0.25]) * 32767 / np.sqrt(2)
    np.testing.assert_allclose(rms, expect, rtol=0.01)


CHILD = textwrap.dedent(
    """
    import sys
    import numpy as np
    from edge.audio.pyaudio_source import PyAudioSource

    want, out = int(sys.argv[1]), sys.argv[2]
    src = PyAudioSource("poisefeed", channels=(1, 0), rate=16000, block_frames=800)
    got, n = [], 0
    for block in src.blocks():
        got.append(block.samples)
        n += block.samples.shape[0]
        if n >= want:
            break
    src.close()
    np.save(out, np.concatenate(got))
    print("rate", src.device_rate, "overflows", src.overflows)
    """
)


@pytest.mark.skipif(not Path("/usr/share/alsa/alsa.conf").exists(), reason="no ALSA config")
def test_live_capture_through_alsa_file_plugin(tmp_path):
    """Real PyAudio/PortAudio/ALSA capture: ALSA's ``file`` PCM plugin feeds a raw file in."""
    frames = 16000 * 4
    feed = _frames(frames, 1, 2)  # interleaved stereo int16, channel 1 = 2 x channel 0
    raw = tmp_path / "feed.raw"
    feed.tofile(raw)
    conf = tmp_path / "asoundrc"
    conf.write_text(
        "pcm.poisefeed {\n"
        "    type file\n"
        '    slave.pcm "null"\n'
        '    file "/dev/null"\n'
        f'    infile "{raw}"\n'
        '    format "raw"\n'
        '    hint.description "Poise test feed"\n'
        "}\n"
    )
    env = dict(os.environ)
    env["ALSA_CONFIG_PATH"] = f"/usr/share/alsa/alsa.conf:{conf}"
    env["PYTHONPATH"] = str(REPO)
    env["JACK_NO_START_SERVER"] = "1"  # PortAudio probes JACK; do not try to spawn a server
    want = 16000 * 2
    out = tmp_path / "got.npy"
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(want), str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "rate 16000" in proc.stdout
    got = np.load(out)
    assert got.shape[0] >= want and got.shape[1] == 2
    swapped = feed[:, ::-1]
    # find where the capture starts in the file (the ramp makes the first frame unique)
    start = int(np.flatnonzero(swapped[:, 0] == got[0, 0])[0])
    assert start < 16000, "capture should start near the beginning of the feed"
    np.testing.assert_array_equal(got, swapped[start : start + got.shape[0]])
