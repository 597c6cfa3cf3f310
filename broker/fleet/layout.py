"""The fleet directory: every file ``poise fleet`` keeps, and writing secrets 0600.

One directory (``--dir``, default ``./fleet``) holds the CA, the signing key, the broker's and the
fleet tools' certificates, the CRL, the registry and the generated Mosquitto config. Private keys
and the registry (token hashes) are 0600 and the directory 0711 (the broker, running as
``mosquitto``, reaches its files by name but cannot list it); nothing secret is logged.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from edge.fleet.enroll import write_secret

__all__ = ["FleetDir", "write_public", "write_secret"]


def write_public(path: Path, data: bytes) -> None:
    """Write a non-secret file (certificate, CRL, config) 0644, atomically."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


@dataclass(frozen=True)
class FleetDir:
    """Paths inside one fleet directory."""

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    @property
    def settings(self) -> Path:
        return self.root / "fleet.toml"

    @property
    def ca_key(self) -> Path:
        return self.root / "ca.key"

    @property
    def ca_cert(self) -> Path:
        return self.root / "ca.crt"

    @property
    def signing_key(self) -> Path:
        return self.root / "signing.key"

    @property
    def signing_pub(self) -> Path:
        return self.root / "signing.pub"

    @property
    def server_key(self) -> Path:
        return self.root / "server.key"

    @property
    def server_cert(self) -> Path:
        return self.root / "server.crt"

    def client_key(self, name: str) -> Path:
        """Key of a fleet-side identity (``admin``, ``collector``)."""
        return self.root / f"{name}.key"

    def client_cert(self, name: str) -> Path:
        return self.root / f"{name}.crt"

    @property
    def crl(self) -> Path:
        return self.root / "crl.pem"

    @property
    def registry(self) -> Path:
        return self.root / "registry.db"

    @property
    def mosquitto_dir(self) -> Path:
        return self.root / "mosquitto"

    @property
    def mosquitto_conf(self) -> Path:
        return self.mosquitto_dir / "mosquitto.conf"

    @property
    def acl(self) -> Path:
        return self.mosquitto_dir / "acl"

    @property
    def pid_file(self) -> Path:
        return self.mosquitto_dir / "mosquitto.pid"

    @property
    def models(self) -> Path:
        return self.root / "models"

    def exists(self) -> bool:
        return self.ca_key.exists() and self.registry.exists()
