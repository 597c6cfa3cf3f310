"""``poise fleet`` from the command line: init, import (all or none), add, bundle, list."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from edge.cli import main
from edge.settings import DeviceSettings
from edge.settings.loader import from_mapping


def test_import_reports_bad_lines_and_imports_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = str(tmp_path / "fleet")
    assert main(["fleet", "--dir", d, "init", "--broker-host", "mqtt.example.org"]) == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("device,site,desk\ndesk-1,s1,A\ndesk+2,s1,B\ndesk-1,s1,C\ndesk-4,s/1,D\n")
    assert main(["fleet", "--dir", d, "import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("poise: error:") and err.count("\n") == 1
    assert "line 3:" in err and "line 4:" in err and "line 5:" in err and "line 2:" not in err
    assert main(["fleet", "--dir", d, "list", "--json"]) == 0
    assert capsys.readouterr().out.strip() == "[]"
    good = tmp_path / "good.csv"
    good.write_text("desk,device,site,extra\nA1,desk-1,s1,x\nA2,desk-2,s1,y\n")
    assert (
        main(["fleet", "--dir", d, "import", str(good), "--tokens", str(tmp_path / "t.csv")]) == 0
    )
    assert (tmp_path / "t.csv").stat().st_mode & 0o777 == 0o600
    assert main(["fleet", "--dir", d, "import", str(good)]) == 2  # already there: none added
    assert main(["fleet", "--dir", d, "add", "desk-3", "--site", "s2", "--desk", "B1"]) == 0
    out = capsys.readouterr().out
    assert "token" in out
    assert main(["fleet", "--dir", d, "list"]) == 0
    listing = capsys.readouterr().out
    assert "desk-1" in listing and "desk-3" in listing and "waiting" in listing


def test_bundle_holds_config_ca_token_and_cloud_init(tmp_path: Path) -> None:
    d = str(tmp_path / "fleet")
    main(
        [
            "fleet",
            "--dir",
            d,
            "init",
            "--broker-host",
            "10.0.0.5",
            "--enroll-url",
            "https://10.0.0.5:8443",
        ]
    )
    main(["fleet", "--dir", d, "add", "desk-7", "--site", "hq", "--desk", "7"])
    out = tmp_path / "boot"
    assert main(["fleet", "--dir", d, "bundle", "desk-7", "--out", str(out)]) == 0
    p = out / "poise"
    assert (p / "enroll.token").stat().st_mode & 0o777 == 0o600
    assert not list(out.rglob("*.key"))  # no private key ever ships
    toml = tomllib.loads((p / "device.toml").read_text())
    known = {f for f in DeviceSettings.__dataclass_fields__}
    # The unit's config loads as is (``telemetry`` joins DeviceSettings with the publisher).
    settings = from_mapping(DeviceSettings, {k: v for k, v in toml.items() if k in known})
    assert settings.fleet.enabled and settings.fleet.enroll_url == "https://10.0.0.5:8443"
    assert toml["telemetry"]["broker"] == "mqtts://10.0.0.5:8883"
    assert toml["telemetry"]["device"] == "desk-7" and toml["fleet"]["enabled"]
    assert settings is not None
    ud = (out / "user-data").read_text()
    assert ud.startswith("#cloud-config") and "systemctl enable --now poise-edge.service" in ud
    assert "/etc/poise/device.toml" not in ud or "device.toml" in ud
    assert (p / "fleet-ca.crt").read_bytes() == (Path(d) / "ca.crt").read_bytes()
    assert (p / "systemd" / "poise-edge.service").exists()
    token = (p / "enroll.token").read_text().strip()
    assert token not in (out / "user-data").read_text()


def test_unknown_device_is_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = str(tmp_path / "fleet")
    main(["fleet", "--dir", d, "init"])
    capsys.readouterr()
    assert main(["fleet", "--dir", d, "bundle", "nope", "--out", str(tmp_path / "b")]) == 2
    assert capsys.readouterr().err.startswith("poise: error: no device 'nope'")
    assert main(["fleet", "--dir", str(tmp_path / "none"), "list"]) == 2
