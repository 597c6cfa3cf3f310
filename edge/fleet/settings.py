"""Settings of the device's fleet agent (``fleet.*`` in the device TOML).

Off by default: a unit without a fleet works alone as before. ``poise fleet bundle`` writes a
``device.toml`` with ``enabled = true`` and the paths below; the broker address and the unit's
certificate paths are ``telemetry.*`` (one MQTT connection carries telemetry and fleet traffic).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FleetSettings:
    """Enrollment, signed config and model updates."""

    enabled: bool = False
    """Enroll at first start and follow the fleet's signed config, models and commands."""

    enroll_url: str = ""
    """``https://host:port`` of the fleet's enrollment endpoint (also serves model files)."""

    signing_keys: Path = Path("/etc/poise/fleet-signing.pub")
    """The fleet's Ed25519 public key(s) (PEM); config and models signed by anything else are
    refused."""

    token_file: Path = Path("/var/lib/poise/fleet/enroll.token")
    """One-time enrollment token from the bundle; deleted once the certificate is stored."""

    state_dir: Path = Path("/var/lib/poise/fleet")
    """Key, certificate, last good config and installed models."""

    cmd_max_age_s: float = 600.0
    """Commands older than this (queued while the unit was off) are ignored."""

    def __post_init__(self) -> None:
        if self.enabled and not self.enroll_url.startswith("https://"):
            raise ValueError("fleet.enroll_url must be https://host:port when fleet is enabled")
        if self.cmd_max_age_s <= 0:
            raise ValueError("fleet.cmd_max_age_s must be positive")
