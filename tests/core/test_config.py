"""The strict TOML -> frozen dataclass loader that every settings class uses."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from edge.errors import ConfigError
from edge.features.config import FeatureConfig
from edge.settings.loader import (
    from_mapping,
    load_toml,
    merge_overrides,
    parse_override,
    to_mapping,
)


@dataclass(frozen=True)
class Inner:
    rate: float = 1.0
    """A number."""
    mode: Literal["a", "b"] = "a"
    """A choice."""


@dataclass(frozen=True)
class Outer:
    name: str = "x"
    """A name."""
    count: int = 3
    """A count."""
    pins: tuple[int, ...] = (17, 27)
    """Pins."""
    path: Path | None = None
    """An optional path."""
    inner: Inner = field(default_factory=Inner)
    """A nested table."""


def test_defaults_and_nested_values() -> None:
    cfg = from_mapping(Outer, {"count": 5, "inner": {"rate": 2}, "pins": [1, 2, 3]})
    assert cfg == Outer(count=5, inner=Inner(rate=2.0), pins=(1, 2, 3))
    assert isinstance(cfg.inner.rate, float)


def test_unknown_key_names_the_path() -> None:
    with pytest.raises(ConfigError, match=r"unknown setting inner\.speed"):
        from_mapping(Outer, {"inner": {"speed": 1}})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"count": "3"}, "count: expected an integer"),
        ({"count": True}, "count: expected an integer"),
        ({"inner": {"rate": "fast"}}, "inner.rate: expected a number"),
        ({"inner": {"mode": "c"}}, "inner.mode: 'c' is not one of"),
        ({"inner": 3}, "inner: expected a table"),
        ({"pins": 17}, "pins: expected a list"),
    ],
)
def test_wrong_types_are_clear(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        from_mapping(Outer, data)


def test_optional_path() -> None:
    assert from_mapping(Outer, {"path": "/tmp/x"}).path == Path("/tmp/x")


def test_overrides_parse_toml_values_and_bare_words() -> None:
    assert parse_override("inner.rate=2.5") == (["inner", "rate"], 2.5)
    assert parse_override("name=hello") == (["name"], "hello")
    assert parse_override("pins=[5, 6]") == (["pins"], [5, 6])
    merged = merge_overrides({"inner": {"rate": 1.0}}, ["inner.mode=b", "count=9"])
    assert from_mapping(Outer, merged) == Outer(count=9, inner=Inner(rate=1.0, mode="b"))
    with pytest.raises(ConfigError, match="key=value"):
        parse_override("novalue")


def test_roundtrip_through_mapping() -> None:
    cfg = Outer(name="y", path=Path("/a"), inner=Inner(mode="b"))
    assert from_mapping(Outer, to_mapping(cfg)) == cfg


def test_load_toml_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_toml(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("a = [1,\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_toml(bad)
    good = tmp_path / "good.toml"
    good.write_text("[features]\nf0_max_hz = 400\n")
    assert load_toml(good) == {"features": {"f0_max_hz": 400}}


def test_feature_config_validation_and_digest() -> None:
    base = FeatureConfig()
    assert base.hop == 160 and base.frame == 400
    assert base.digest() == FeatureConfig().digest()
    assert base.digest() != FeatureConfig(n_mels=32).digest()
    with pytest.raises(ConfigError, match="f0_min_hz"):
        from_mapping(FeatureConfig, {"f0_min_hz": 600.0})
