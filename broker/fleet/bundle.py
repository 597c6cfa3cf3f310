"""``poise fleet bundle DEVICE --out DIR``: what IT copies onto a Raspberry Pi's boot partition.

The bundle holds no private key: the unit makes its own at first boot. It holds::

    user-data, meta-data      cloud-init (Raspberry Pi OS Bookworm/Trixie reads them from the
                              boot partition): installs Poise, copies poise/ to /etc/poise,
                              installs the systemd units and enables poise-edge
    poise/device.toml         the unit's settings: site, device id, broker, enrollment URL
    poise/fleet-ca.crt        the fleet CA (to trust the broker and the enrollment endpoint)
    poise/fleet-signing.pub   the fleet's Ed25519 public key (to verify config and models)
    poise/enroll.token        the one-time enrollment token (0600; moved to /var/lib/poise/fleet,
                              erased from the boot partition, deleted once spent)
    poise/systemd/*           poise-edge.service and the sysusers entry
    poise/wheels/*.whl        optional: the Poise wheel(s) to install offline

Each bundle issues a fresh token (the registry keeps only its hash), so re-running ``bundle``
for a unit that has not enrolled yet invalidates the previous bundle's token.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from broker.fleet.fleet import Fleet, FleetError
from broker.fleet.layout import write_public, write_secret

REPO = Path(__file__).resolve().parent.parent.parent
UNITS = REPO / "hw" / "systemd"
BOOT = "/boot/firmware"
TOKEN = "/var/lib/poise/fleet/enroll.token"
"""Where the unit keeps its token until it is spent (writable by the service, so it is
deleted after enrollment; /etc is read-only to the hardened service)."""


def device_toml(fleet: Fleet, device: str) -> str:
    d = fleet.device(device)
    s = fleet.settings
    return f"""# Poise unit {d.id} (site {d.site}, desk {d.desk}); written by `poise fleet bundle`.
# Everything not set here keeps its default (docs/device.example.toml).

[audio]
source = "pyaudio:default"

[cues]
output = "gpio"

[telemetry]
broker = "mqtts://{s.broker_host}:{s.device_port}"
site = "{d.site}"
device = "{d.id}"
ca_file = "/etc/poise/fleet-ca.crt"
cert_file = "/var/lib/poise/fleet/device.crt"
key_file = "/var/lib/poise/fleet/device.key"
state_dir = "/var/lib/poise/telemetry"

[fleet]
enabled = true
enroll_url = "{s.enroll_url}"
signing_keys = "/etc/poise/fleet-signing.pub"
token_file = "{TOKEN}"
state_dir = "/var/lib/poise/fleet"
"""


def user_data(device: str, package: str) -> str:
    """cloud-init user-data: install, copy the bundle into place, enable the service."""
    b = f"{BOOT}/poise"
    pip = "/opt/poise/.venv/bin/pip"
    commands = [
        f"install -m 0644 {b}/systemd/poise.sysusers.conf /etc/sysusers.d/poise.conf",
        "systemd-sysusers",
        "install -d -m 0755 /etc/poise",
        f"install -m 0644 {b}/device.toml {b}/fleet-ca.crt {b}/fleet-signing.pub /etc/poise/",
        "install -d -o poise -g poise -m 0750 /var/lib/poise /var/lib/poise/fleet",
        f"install -o poise -g poise -m 0600 {b}/enroll.token {TOKEN}",
        f"shred -u {b}/enroll.token || rm -f {b}/enroll.token",
        "python3 -m venv /opt/poise/.venv",
        f"if ls {b}/wheels/*.whl >/dev/null 2>&1; then {pip} install {b}/wheels/*.whl; "
        f"else {pip} install '{package}'; fi",
        f"install -m 0644 {b}/systemd/poise-edge.service /etc/systemd/system/",
        "systemctl daemon-reload",
        "systemctl enable --now poise-edge.service",
    ]
    runcmd = "".join(f"  - [sh, -c, {json.dumps(c)}]\n" for c in commands)
    return f"""#cloud-config
# Poise unit {device}: written by `poise fleet bundle`. Runs once, at first boot.
hostname: {device}
ssh_pwauth: false
package_update: true
packages:
  - python3-venv
  - python3-dev
  - portaudio19-dev
  - alsa-utils
  - nftables
runcmd:
{runcmd}"""


def write_bundle(
    fleet: Fleet,
    device: str,
    out: Path,
    wheels: list[Path] | None = None,
    package: str = "poise[edge]",
) -> list[Path]:
    """Write the bundle for ``device`` into ``out`` (see module doc); returns the files."""
    d = fleet.device(device)
    if d.revoked_at is not None:
        raise FleetError(f"device {device} is revoked")
    if d.enrolled_at is not None and not d.token_pending:
        raise FleetError(
            f"device {device} is already enrolled; for a replacement unit run "
            f"`poise fleet renew {device}` first"
        )
    out.mkdir(parents=True, exist_ok=True)
    p = out / "poise"
    (p / "systemd").mkdir(parents=True, exist_ok=True)
    token = fleet.new_enrollment_token(d.id)
    files = [
        out / "user-data",
        out / "meta-data",
        p / "device.toml",
        p / "fleet-ca.crt",
        p / "fleet-signing.pub",
        p / "enroll.token",
    ]
    write_public(files[0], user_data(d.id, package).encode())
    write_public(files[1], f"instance-id: poise-{d.id}\nlocal-hostname: {d.id}\n".encode())
    write_public(files[2], device_toml(fleet, d.id).encode())
    write_public(files[3], fleet.dir.ca_cert.read_bytes())
    write_public(files[4], fleet.dir.signing_pub.read_bytes())
    write_secret(files[5], (token + "\n").encode())
    for unit in ("poise-edge.service", "poise.sysusers.conf"):
        shutil.copyfile(UNITS / unit, p / "systemd" / unit)
        files.append(p / "systemd" / unit)
    if wheels:
        (p / "wheels").mkdir(exist_ok=True)
        for w in wheels:
            shutil.copyfile(w, p / "wheels" / w.name)
            files.append(p / "wheels" / w.name)
    return files
