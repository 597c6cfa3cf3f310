"""Checks the deployable assets in hw/: the ALSA config parses and defines the `poise` PCM,
the systemd unit verifies, the udev rules are well-formed and the docs' default pins agree
with the firmware config."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HW = REPO / "hw"


def test_asound_conf_parses_and_defines_the_poise_pcm(tmp_path: Path) -> None:
    arecord = shutil.which("arecord")
    base = Path("/usr/share/alsa/alsa.conf")
    if arecord is None or not base.exists():
        pytest.skip("alsa-utils not installed (scripts/bootstrap-system.sh installs it)")
    top = tmp_path / "alsa.conf"
    top.write_text(base.read_text() + f"\n<{HW / 'alsa' / 'asound.conf'}>\n")
    proc = subprocess.run(
        [arecord, "-L"],
        capture_output=True,
        text=True,
        env={"ALSA_CONFIG_PATH": str(top), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    names = proc.stdout.split("\n")
    assert "poise" in names, proc.stdout + proc.stderr
    assert "Poise capture: ch0 agent mic, ch1 far end" in proc.stdout
    conf = (HW / "alsa" / "asound.conf").read_text()
    assert 'pcm "hw:CARD=poiseaudio,DEV=0"' in conf
    assert re.search(r"^\s*ttable\.0\.0 1\b", conf, re.M)
    assert re.search(r"^\s*ttable\.1\.1 1\b", conf, re.M)


def test_systemd_unit_verifies(tmp_path: Path) -> None:
    unit = (HW / "systemd" / "poise-edge.service").read_text()
    for line in (
        "ExecStart=/opt/poise/venv/bin/poise edge run --config /etc/poise/device.toml",
        "Type=notify",
        "WatchdogSec=30",
        "User=poise",
        "SupplementaryGroups=audio gpio dialout",
        "Restart=on-failure",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/poise",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "StateDirectory=poise",
    ):
        assert line in unit.splitlines(), line
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze not available")
    # The real ExecStart only exists on a provisioned Pi; verify everything else.
    copy = tmp_path / "poise-edge.service"
    copy.write_text(unit.replace("/opt/poise/venv/bin/poise", "/bin/true"))
    proc = subprocess.run(
        [analyze, "verify", "--man=no", str(copy)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


RULE_TOKEN = re.compile(r'^[A-Z_]+(\{[A-Za-z_]+\})?(==|!=|=|\+=|:=)"[^"]*"$')


def test_udev_rules_are_well_formed() -> None:
    rules = [
        line
        for line in (HW / "udev" / "90-poise-audio.rules").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert len(rules) == 2
    for rule in rules:
        for token in rule.split(", "):
            assert RULE_TOKEN.match(token), token
    audio, puck = rules
    assert 'ATTR{id}="poiseaudio"' in audio and 'SUBSYSTEM=="sound"' in audio
    for part in ('ATTRS{idVendor}=="2e8a"', 'ATTRS{idProduct}=="0005"', 'SYMLINK+="poise-puck"'):
        assert part in puck


def test_documented_pins_match_the_firmware_config() -> None:
    config = (REPO / "firmware" / "puck" / "config.py").read_text()
    wiring = (HW / "wiring.md").read_text()
    neopixel = re.search(r"^NEOPIXEL_PIN = (\d+)", config, re.M)
    motor = re.search(r"^MOTOR_PIN = (\d+)", config, re.M)
    assert neopixel and motor
    assert f"GP{neopixel.group(1)}" in wiring and f"GP{motor.group(1)}" in wiring
    for pi_pin in ("GPIO 17", "GPIO 27", "GPIO 22", "GPIO 18"):
        assert pi_pin in wiring
