"""``poise fleet`` operations over one fleet directory (the CLI and the enrollment API call these).

Everything that changes who may connect (add, import, revoke, enrollment of a replacement)
rewrites the ACL and/or the CRL and tells the broker to reload; revoke also ends the device's
live session. Config and model pushes are signed with the fleet's Ed25519 key and published
retained on each device's config topic.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from broker.fleet import ca
from broker.fleet.control import AdminMqtt, command_reloader, pid_file_reloader
from broker.fleet.csv_import import DeskRow
from broker.fleet.layout import FleetDir, write_public, write_secret
from broker.fleet.mosquitto_conf import ADMIN_CN, COLLECTOR_CN, render_acl, render_conf
from broker.fleet.registry import Device, Registry
from broker.fleet.settings import FleetSettings, load_fleet_settings, to_toml
from edge.errors import ConfigError, PoiseError
from edge.fleet import signing
from edge.telemetry.envelope import WallClock, format_ts
from edge.telemetry.topics import DeviceTopics, validate_id

log = logging.getLogger(__name__)


class FleetError(PoiseError):
    """A fleet operation that cannot be done (unknown device, not initialised, ...)."""


class EnrollRefused(PoiseError):
    """An enrollment the fleet refuses (wrong or spent token, bad CSR)."""


def _utc(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC)


def new_token() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Added:
    """A device just added, with its one-time token (shown once, stored hashed)."""

    device: str
    site: str
    desk: str
    token: str


class Fleet:
    """One fleet directory, opened."""

    def __init__(
        self,
        fdir: FleetDir,
        wall_clock: WallClock = time.time,
        reloader: Callable[[], None] | None = None,
        mqtt: AdminMqtt | None = None,
    ) -> None:
        if not fdir.exists():
            raise FleetError(f"{fdir.root} is not a fleet directory (run `poise fleet init`)")
        self.dir = fdir
        self.settings = load_fleet_settings(fdir.settings)
        self.wall_clock = wall_clock
        self.registry = Registry(fdir.registry)
        self._reloader = reloader
        self._mqtt = mqtt

    def close(self) -> None:
        self.registry.close()

    # -- keys ---------------------------------------------------------------------------------
    def _ca(self) -> tuple[Any, x509.Certificate]:
        return ca.load_key(self.dir.ca_key.read_bytes()), ca.load_cert(
            self.dir.ca_cert.read_bytes()
        )

    def _signing_key(self) -> Any:
        return signing.load_private_pem(self.dir.signing_key.read_bytes())

    @property
    def mqtt(self) -> AdminMqtt:
        if self._mqtt is None:
            self._mqtt = AdminMqtt(
                "127.0.0.1",
                self.settings.admin_port,
                self.dir.ca_cert,
                self.dir.client_cert("admin"),
                self.dir.client_key("admin"),
            )
        return self._mqtt

    def reload_broker(self) -> None:
        if self._reloader is not None:
            self._reloader()
        elif self.settings.reload_command:
            command_reloader(self.settings.reload_command)()
        elif self.dir.pid_file.exists():
            pid_file_reloader(self.dir.pid_file)()
        else:
            log.warning("broker not running here (no %s): reload it yourself", self.dir.pid_file)

    # -- init ---------------------------------------------------------------------------------
    @classmethod
    def init(
        cls, fdir: FleetDir, settings: FleetSettings, wall_clock: WallClock = time.time, **kw: Any
    ) -> Fleet:
        """Create the CA, signing key, server/admin/collector certificates, CRL, registry and
        broker config. Refuses to overwrite an existing fleet."""
        if fdir.ca_key.exists():
            raise FleetError(f"{fdir.root} already holds a fleet CA; refusing to overwrite it")
        fdir.root.mkdir(parents=True, exist_ok=True)
        fdir.root.chmod(0o711)  # others may traverse (mosquitto reads its files), not list
        fdir.mosquitto_dir.mkdir(exist_ok=True)
        (fdir.mosquitto_dir / "data").mkdir(exist_ok=True)
        fdir.models.mkdir(exist_ok=True)
        now = _utc(wall_clock())
        write_public(fdir.settings, to_toml(settings).encode())
        ca_key = ca.new_key()
        ca_cert = ca.make_ca(ca_key, settings.name, now, settings.ca_days)
        write_secret(fdir.ca_key, ca.key_pem(ca_key))
        write_public(fdir.ca_cert, ca.cert_pem(ca_cert))
        sk = Ed25519PrivateKey.generate()
        write_secret(fdir.signing_key, signing.private_pem(sk))
        write_public(fdir.signing_pub, signing.public_pem(sk.public_key()))
        server_key = ca.new_key()
        server = ca.issue_server(
            ca_key, ca_cert, server_key, settings.server_names, now, settings.server_cert_days
        )
        write_secret(fdir.server_key, ca.key_pem(server_key))
        write_secret(fdir.mosquitto_dir / "server.key", ca.key_pem(server_key))
        _give_to_mosquitto(fdir.mosquitto_dir / "server.key")
        _give_to_mosquitto(fdir.mosquitto_dir / "data")  # persistence, written by the broker
        write_public(fdir.server_cert, server.cert_pem)
        for name, cn in (("admin", ADMIN_CN), ("collector", COLLECTOR_CN)):
            k = ca.new_key()
            issued = ca.issue_client(ca_key, ca_cert, k.public_key(), cn, now, settings.ca_days)
            write_secret(fdir.client_key(name), ca.key_pem(k))
            write_public(fdir.client_cert(name), issued.cert_pem)
        write_public(fdir.crl, ca.make_crl(ca_key, ca_cert, [], now, settings.crl_days))
        Registry(fdir.registry).close()
        fleet = cls(fdir, wall_clock, **kw)
        write_public(fdir.mosquitto_conf, render_conf(fdir, settings).encode())
        fleet.write_acl()
        log.info("fleet initialised in %s", fdir.root)
        return fleet

    # -- devices ------------------------------------------------------------------------------
    def write_acl(self) -> None:
        write_public(self.dir.acl, render_acl(self.registry.devices()).encode())

    def write_crl(self) -> None:
        key, cert = self._ca()
        now = _utc(self.wall_clock())
        revoked = [(s, _utc(t)) for s, t in self.registry.revoked_serials()]
        write_public(self.dir.crl, ca.make_crl(key, cert, revoked, now, self.settings.crl_days))

    def add_many(self, rows: list[DeskRow]) -> list[Added]:
        """Add devices (all or none), each with a fresh one-time token; ACL rewritten."""
        taken = self.registry.existing_ids(r.device for r in rows)
        if taken:
            lines = [
                f"line {r.line}: device {r.device} already exists"
                for r in rows
                if r.device in taken
            ]
            raise FleetError(
                f"{len(lines)} row(s) name existing devices, nothing added: "
                + "; ".join(lines[:20])
            )
        now = self.wall_clock()
        added = [Added(r.device, r.site, r.desk, new_token()) for r in rows]
        self.registry.add_devices(
            [(a.device, a.site, a.desk, a.token) for a in added],
            now,
            now + self.settings.token_days * 86400,
        )
        self.write_acl()
        self.reload_broker()
        return added

    def add(self, device: str, site: str, desk: str) -> Added:
        validate_id(device, "device id")
        validate_id(site, "site id")
        if not desk or len(desk) > 64 or not desk.isprintable():
            raise ConfigError("desk must be 1-64 printable characters")
        return self.add_many([DeskRow(0, device, site, desk)])[0]

    def device(self, device: str) -> Device:
        d = self.registry.get(device)
        if d is None:
            raise FleetError(f"no device {device!r} in the fleet")
        return d

    def new_enrollment_token(self, device: str) -> str:
        """A fresh one-time token for ``device`` (replacing any unspent one): for its bundle,
        or for a replacement unit (``renew``; enrolling it revokes the old certificate)."""
        d = self.device(device)
        if d.revoked_at is not None:
            raise FleetError(f"device {device} is revoked; add it again under a new id")
        token = new_token()
        self.registry.set_token(device, token, self.wall_clock() + self.settings.token_days * 86400)
        return token

    def enroll(self, device: str, token: str, csr_pem: bytes) -> bytes:
        """Spend ``token`` and sign ``device``'s CSR; earlier certificates of the device are
        revoked (a replacement unit pushes the old one out). Returns the certificate PEM."""
        now = self.wall_clock()
        key, cert = self._ca()
        replaced = False
        with self.registry.transaction() as db:
            why = self.registry.check_token(db, device, token, now)
            if why:
                log.warning("enrollment of %s refused: %s", device, why)
                raise EnrollRefused(why)
            try:
                issued = ca.sign_csr(
                    key, cert, csr_pem, device, _utc(now), self.settings.device_cert_days
                )
            except ca.CsrError as exc:
                raise EnrollRefused(str(exc)) from None
            old = db.execute(
                "SELECT COUNT(*) FROM certs WHERE device = ? AND revoked_at IS NULL", (device,)
            ).fetchone()[0]
            if old:
                db.execute(
                    "UPDATE certs SET revoked_at = ? WHERE device = ? AND revoked_at IS NULL",
                    (now, device),
                )
                replaced = True
            self.registry.record_cert(db, device, issued.serial, issued.not_after.timestamp(), now)
        log.info("device %s enrolled (certificate until %s)", device, issued.not_after.date())
        if replaced:
            self.write_crl()
            self.reload_broker()
            self._kick(device)
        return issued.cert_pem

    def renew_cert(self, device: str, cert_pem: bytes, csr_pem: bytes, proof: bytes) -> bytes:
        """A unit renews before expiry: its current certificate (fleet-issued, not revoked, not
        expired, CN = ``device``) and a signature by its current key over the new CSR prove it
        is the unit; the new key's CSR is signed. The old certificate stays valid until it ends
        (a unit that loses the answer keeps working and retries)."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        now = self.wall_clock()
        key, ca_cert = self._ca()
        try:
            cert = x509.load_pem_x509_certificate(cert_pem)
            cert.verify_directly_issued_by(ca_cert)
            pub = cert.public_key()
            if not isinstance(pub, ec.EllipticCurvePublicKey):
                raise ValueError("not an EC certificate")
            pub.verify(proof, csr_pem, ec.ECDSA(hashes.SHA256()))
        except (ValueError, TypeError, InvalidSignature):
            raise EnrollRefused("not a valid fleet certificate and proof") from None
        cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if not cns or cns[0].value != device or cert.not_valid_after_utc.timestamp() <= now:
            raise EnrollRefused("certificate expired or for another device")
        with self.registry.transaction() as db:
            d = self.registry.get(device)
            if d is None or d.revoked_at is not None:
                raise EnrollRefused("device revoked")
            if not self.registry.cert_is_current(device, cert.serial_number):
                raise EnrollRefused("certificate revoked")
            try:
                issued = ca.sign_csr(
                    key, ca_cert, csr_pem, device, _utc(now), self.settings.device_cert_days
                )
            except ca.CsrError as exc:
                raise EnrollRefused(str(exc)) from None
            db.execute(
                "UPDATE devices SET cert_serial = ?, cert_not_after = ? WHERE id = ?",
                (str(issued.serial), issued.not_after.timestamp(), device),
            )
            db.execute(
                "INSERT INTO certs (serial, device, not_after) VALUES (?, ?, ?)",
                (str(issued.serial), device, issued.not_after.timestamp()),
            )
        log.info("device %s renewed its certificate (until %s)", device, issued.not_after.date())
        return issued.cert_pem

    def revoke(self, device: str) -> None:
        """Revoke: CRL and ACL regenerated, broker reloaded, live session ended."""
        d = self.device(device)
        self.registry.revoke(d.id, self.wall_clock())
        self.write_crl()
        self.write_acl()
        self.reload_broker()
        self._kick(d.id)
        log.info("device %s revoked", device)

    def _kick(self, device: str) -> None:
        try:
            self.mqtt.kick(device)
        except PoiseError as exc:
            log.warning(
                "could not end %s's session (%s); it is refused at its next connect", device, exc
            )

    def sync_status(self) -> int:
        """Read every device's retained ``status`` from the broker into the registry (last
        seen, software, model and config versions); returns how many devices reported."""
        from edge.telemetry.envelope import parse_ts
        from edge.telemetry.topics import TopicError, device_filter, parse_topic

        models = {
            json.loads(r[0])["signed"]["sha256"]: int(r[1])
            for r in self.registry.db.execute("SELECT doc, version FROM models")
        }
        n = 0
        for topic, payload in self.mqtt.retained(device_filter(kind="status")):
            try:
                t = parse_topic(topic)
                st = json.loads(payload)
                if st.get("device") != t.device or self.registry.get(t.device) is None:
                    continue
                model = st.get("model") or {}
                cfg = st.get("config_version")
                self.registry.seen(
                    t.device,
                    parse_ts(str(st["ts"])),
                    str(st.get("software", ""))[:64] or None,
                    models.get(str(model.get("sha256", ""))),
                    cfg if isinstance(cfg, int) else None,
                )
                n += 1
            except (TopicError, ValueError, KeyError, TypeError, AttributeError):
                continue
        return n

    def identify(self, device: str, seconds: float = 30.0) -> str:
        """Send ``identify`` on the device's cmd topic; returns the command id."""
        return self.send_cmd(device, "identify", {"seconds": seconds})

    def send_cmd(self, device: str, cmd: str, args: dict[str, Any] | None = None) -> str:
        """Publish one command (QoS 1, not retained) on the device's cmd topic; returns its id."""
        d = self.device(device)
        cid = secrets.token_hex(8)
        payload = {
            "v": 1,
            "kind": "cmd",
            "id": cid,
            "ts": format_ts(self.wall_clock()),
            "cmd": cmd,
            "args": args or {},
        }
        self.mqtt.publish([(DeviceTopics(d.site, d.id).cmd, json.dumps(payload).encode(), False)])
        return cid


def _give_to_mosquitto(path: Path) -> None:
    """Hand ``path`` (the broker's copy of the server key, 0600; its persistence directory) to
    the ``mosquitto`` user when we run as root and that user exists; otherwise leave it ours."""
    import os
    import pwd

    if os.geteuid() != 0:
        return
    try:
        pw = pwd.getpwnam("mosquitto")
    except KeyError:
        return
    os.chown(path, pw.pw_uid, pw.pw_gid)
