"""Viewer policy from the device's profiles; [dashboard] settings in collector.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.accounts.roles import Principal, Role
from broker.collector.settings import load_settings
from broker.dashboard.viewer_policy import PROFILES, viewer_policy
from edge.errors import ConfigError
from edge.policy import PROFILES as DEVICE_PROFILES

SUP = Principal("sue", Role.SUPERVISOR, teams=frozenset({"north"}))
AGENT = Principal("ann", Role.AGENT, agent="ann")


def test_profiles_are_the_devices() -> None:
    assert set(PROFILES) == set(DEVICE_PROFILES) >= {"default", "eu"}


def test_default_shows_supervisors_everything_that_arrives() -> None:
    p = viewer_policy("default")
    assert p.sees_arousal(SUP) and p.sees_cue(SUP, "stress") and p.sees_stress_alerts(SUP)
    assert p.min_aggregate_agents == 1
    assert viewer_policy("default", 5).min_aggregate_agents == 1


def test_eu_hides_emotion_from_supervisors_not_from_the_agent() -> None:
    p = viewer_policy("eu")
    assert not p.sees_arousal(SUP) and not p.sees_cue(SUP, "stress")
    assert not p.sees_stress_alerts(SUP) and p.sees_cue(SUP, "pace")
    assert p.sees_arousal(AGENT) and p.sees_cue(AGENT, "stress")
    assert p.min_aggregate_agents == 5
    assert viewer_policy("eu", 8).min_aggregate_agents == 8
    assert p.filter_cues(SUP, {"stress": 2, "pace": 1}) == {"pace": 1}


def test_unknown_profile() -> None:
    with pytest.raises(ValueError, match="unknown policy profile"):
        viewer_policy("lax")


def test_dashboard_table_in_collector_toml(tmp_path: Path) -> None:
    conf = tmp_path / "collector.toml"
    conf.write_text(
        '[dashboard]\npolicy_profile = "eu"\nmin_aggregate_agents = 7\nsession_idle_s = 600\n',
        encoding="utf-8",
    )
    s = load_settings(conf).dashboard
    assert s.policy_profile == "eu" and s.min_aggregate_agents == 7 and s.session_idle_s == 600.0
    conf.write_text('[dashboard]\npolicy_profile = "lax"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="policy_profile"):
        load_settings(conf)
    conf.write_text("[dashboard]\ncolour = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="colour"):
        load_settings(conf)
