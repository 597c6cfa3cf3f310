"""``poise edge check`` and ``cues.pin_factory`` with the hardware faked (PyAudio, the board
model, the puck's device node)."""

from __future__ import annotations

import argparse

import pytest

from edge.commands.edge_check import FAIL, OK, Probes, _check, run_checks
from edge.cues.pins import make_pin_factory, resolve_pin_factory
from edge.errors import ConfigError
from edge.settings import load_settings
from tests.audio import fake_pyaudio
from tests.audio.fake_pyaudio import FakePyAudio, device
from tests.install.conftest import tone_call

PI = "Raspberry Pi 5 Model B Rev 1.0"


@pytest.fixture
def headset():
    FakePyAudio.devices = [device(0, "bcm2835 Headphones", 0), device(1, "poiseaudio: USB", 2)]
    FakePyAudio.default_index = 1
    yield fake_pyaudio
    FakePyAudio.devices, FakePyAudio.default_index = [], None


def by_name(checks):
    return {c.what: c for c in checks}


def test_check_lists_devices_capture_channels_driver_puck_model_and_state(headset, tmp_path):
    settings = load_settings(None, [f'baseline.state_file="{tmp_path / "b.json"}"'])
    probes = Probes(headset, lambda: PI, lambda p: p == "/dev/poise-puck", {})
    checks = by_name(run_checks(settings, "pyaudio:poiseaudio", "serial:/dev/poise-puck", probes))
    assert checks["audio devices"].state == OK and "1: poiseaudio: USB (2 ch" in (
        checks["audio devices"].detail
    )
    assert checks["capture"].state == OK and "poiseaudio: USB: 2 ch" in checks["capture"].detail
    assert checks["board"].detail == PI
    assert "lgpio" in checks["pin driver"].detail
    assert checks["puck"].state == OK
    assert checks["model"].state == OK and "prosody-v1.tflite" in checks["model"].detail
    assert checks["state"].state == OK and str(tmp_path / "b.json") in checks["state"].detail


def test_check_fails_on_one_channel_device_missing_puck_and_unwritable_state(headset, tmp_path):
    FakePyAudio.devices = [device(0, "USB mono mic", 1)]
    blocker = tmp_path / "file"
    blocker.write_text("")
    settings = load_settings(None, [f'baseline.state_file="{blocker}/sub/b.json"'])
    probes = Probes(headset, lambda: None, lambda p: False, {})
    checks = by_name(run_checks(settings, "pyaudio:USB", "serial:/dev/ttyACM0", probes))
    assert checks["capture"].state == FAIL and "needs 2" in checks["capture"].detail
    assert checks["puck"].state == FAIL and "/dev/ttyACM0 missing" in checks["puck"].detail
    assert checks["state"].state == FAIL
    assert checks["pin driver"].detail.startswith("gpiozero default")


def test_check_command_exit_code_and_wav_source(capsys, tmp_path, headset):
    wav = tone_call(tmp_path / "mono.wav", seconds=0.5, channels=1)
    state = f'baseline.state_file="{tmp_path / "b.json"}"'
    args = argparse.Namespace(config=None, source=f"wav:{wav}", cue="none", overrides=[state])
    assert _check(args, Probes(headset, lambda: None, lambda p: False, {})) == 0
    out = capsys.readouterr().out
    assert "agent only (mono)" in out and "0 problem(s)" in out
    args.source = "pyaudio:nothing-like-this"
    assert _check(args, Probes(headset, lambda: None, lambda p: False, {})) == 1
    assert "capture" in capsys.readouterr().out.splitlines()[-1]


def test_pin_factory_is_explicit_lgpio_on_a_pi():
    assert resolve_pin_factory("auto", PI) == "lgpio"
    assert resolve_pin_factory("auto", None) is None
    assert resolve_pin_factory("auto", "Generic x86") is None
    assert resolve_pin_factory("rpigpio", PI) == "rpigpio"
    assert make_pin_factory("mock") is not None
    with pytest.raises(ConfigError, match="pin_factory"):
        load_settings(None, ['cues.pin_factory="wiringpi"'])


def test_missing_lgpio_is_a_clear_error_naming_the_package():
    try:
        import lgpio  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigError, match="python3-lgpio"):
            make_pin_factory("lgpio")
    else:
        pytest.skip("lgpio is installed here")
