"""The central server's systemd units verify (like hw/systemd/poise-edge.service does)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

HW = Path(__file__).resolve().parents[2] / "hw" / "systemd"


@pytest.mark.parametrize("name", ["poise-broker.service", "poise-fleet.service"])
def test_unit_verifies(tmp_path: Path, name: str) -> None:
    unit = (HW / name).read_text()
    assert "Restart=on-failure" in unit and "NoNewPrivileges=yes" in unit
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze not available")
    copy = tmp_path / name
    text = unit.replace("/opt/poise/.venv/bin/poise", "/bin/true")
    copy.write_text(text.replace("/usr/sbin/mosquitto", "/bin/true"))
    proc = subprocess.run(
        [analyze, "verify", "--man=no", str(copy)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
