"""Settings of a fleet (``<fleet dir>/fleet.toml``, written by ``poise fleet init``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edge.settings.loader import from_mapping, load_toml


@dataclass(frozen=True)
class FleetSettings:
    """How the fleet's broker and enrollment endpoint are reached, and how long things last."""

    name: str = "poise-fleet"
    """Common name of the fleet CA."""
    broker_host: str = "localhost"
    """Host name (or address) devices connect to for MQTT; in the server certificate."""
    server_names: tuple[str, ...] = ("localhost", "127.0.0.1")
    """Every name and address the broker and enrollment endpoint answer on (certificate SAN);
    ``broker_host`` and the enrollment host must be among them."""
    device_port: int = 8883
    """MQTT over TLS port for devices (client certificate required)."""
    device_bind: str = "0.0.0.0"
    """Address the device listener binds."""
    admin_port: int = 8884
    """MQTT over TLS port for the fleet tools and collectors, bound to loopback only: unlike
    the device port it lets a client choose its client id (so revocation can take over and end
    a device's session)."""
    enroll_url: str = "https://localhost:8443"
    """Where devices enroll and fetch models (``poise fleet serve`` or the collector)."""
    ca_days: int = 3650
    """Validity of the fleet CA."""
    server_cert_days: int = 825
    """Validity of the broker's server certificate."""
    device_cert_days: int = 365
    """Validity of a device certificate (devices renew before it ends)."""
    token_days: int = 30
    """How long an enrollment token stays valid."""
    config_days: int = 30
    """A signed config expires after this many days (re-sign with ``config refresh``)."""
    model_days: int = 90
    """A signed model manifest expires after this many days."""
    crl_days: int = 30
    """The CRL's next-update horizon (regenerated at every revoke and ``config refresh``)."""
    reload_command: str = ""
    """Command that makes the broker reload (e.g. ``systemctl reload mosquitto``); empty: send
    SIGHUP to the pid in ``mosquitto/mosquitto.pid``."""

    def __post_init__(self) -> None:
        for n in ("device_port", "admin_port"):
            if not 0 < getattr(self, n) < 65536:
                raise ValueError(f"{n} must be a TCP port")
        if not self.enroll_url.startswith("https://"):
            raise ValueError("enroll_url must be https://")
        if self.broker_host not in self.server_names:
            raise ValueError("broker_host must be one of server_names")


def load_fleet_settings(path: Path) -> FleetSettings:
    return from_mapping(FleetSettings, load_toml(path) if path.exists() else {}, "fleet")


def to_toml(s: FleetSettings) -> str:
    """``fleet.toml`` text for ``s``."""
    lines = ["# Poise fleet settings (poise fleet init); see docs/fleet.md", ""]
    for field, value in s.__dict__.items():
        if isinstance(value, tuple):
            text = "[" + ", ".join(f'"{v}"' for v in value) + "]"
        elif isinstance(value, str):
            text = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        else:
            text = str(value)
        lines.append(f"{field} = {text}")
    return "\n".join(lines) + "\n"
