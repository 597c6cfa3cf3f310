"""Device settings: the example file equals the defaults, strict keys, overrides, validation."""

from __future__ import annotations

import pytest

from edge.errors import ConfigError
from edge.settings import DETECTOR_NAMES, DeviceSettings, load_settings


def test_example_file_loads_and_equals_defaults(repo_root):
    assert load_settings(repo_root / "docs" / "device.example.toml") == DeviceSettings()


def test_example_file_is_current_with_the_source(repo_root):
    from edge.settings.docs import render

    text = (repo_root / "docs" / "device.example.toml").read_text()
    assert text == render(), "regenerate: python -m edge.settings.docs > docs/device.example.toml"
    assert "# Relative arousal (spread units) that starts" in text  # field docstrings made it in


def test_example_file_documents_every_detector(repo_root):
    text = (repo_root / "docs" / "device.example.toml").read_text()
    for name in DETECTOR_NAMES:
        assert f"[detectors.{name}]" in text
        assert f"[cues.styles.{name}]" in text


def test_no_file_gives_defaults():
    assert load_settings() == DeviceSettings()


def test_overrides_apply_and_keep_types(tmp_path):
    cfg = tmp_path / "d.toml"
    cfg.write_text('[detectors.pace]\nenter = 1.4\n[cues]\noutput = "terminal"\n')
    s = load_settings(cfg, ["detectors.pace.exit=1.2", "policy.stress=off"])
    assert s.detectors.pace.enter == 1.4
    assert s.detectors.pace.exit == 1.2
    assert s.cues.output == "terminal"
    assert s.policy.stress == "off"
    assert not s.policy.runs("stress")
    assert s.detectors.flat == DeviceSettings().detectors.flat


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        (["detectors.pace.nope=1"], "detectors.pace.nope"),
        (["detectors.pace.exit=1.5"], "hysteresis"),
        (["detectors.flat.exit=0.5"], "hysteresis"),
        (["policy.stress=maybe"], "policy.stress"),
        (['policy.publish_cues=["stress"]'], "never be published"),
        (['policy.detectors=["pace", "speed"]'], "speed"),
        (['cues.styles.pace.colour="red"'], "six hex digits"),
        (['cues.styles.pace.buzz="long"'], "buzz"),
        (["audio.customer_channel=0"], "must differ"),
        (["baseline.pace_min_sps=8.0"], "pace_min_sps"),
    ],
)
def test_bad_settings_are_one_line_config_errors(overrides, needle):
    with pytest.raises(ConfigError) as exc:
        load_settings(None, overrides)
    assert needle in str(exc.value)
    assert "\n" not in str(exc.value)


def test_missing_file_is_config_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "missing.toml")
