"""First-boot enrollment: the device makes its own key, sends a CSR with its one-time token to
the fleet's enrollment endpoint over HTTPS, and keeps the certificate it gets back.

The private key is generated here and never leaves the device (written 0600 before anything is
sent, so a kill mid-enrollment reuses it). The token is deleted once the certificate is stored:
it is spent on the server anyway. The returned certificate must chain to the fleet CA from the
bundle and carry our public key and our device id, or it is not stored.
"""

from __future__ import annotations

import json
import logging
import os
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from edge.errors import PoiseError

log = logging.getLogger(__name__)


class EnrollError(PoiseError):
    """Enrollment failed (token refused, endpoint unreachable, bad answer)."""


class EnrollRefusedError(EnrollError):
    """The fleet answered and said no (wrong, spent or expired token; revoked): retrying with
    the same token cannot help."""


class Transport(Protocol):
    """POSTs JSON to the enrollment endpoint."""

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """The JSON answer; raise :class:`EnrollError` on a refusal or transport failure."""
        ...


def write_secret(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` readable by the owner only (0600), atomically."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def make_csr(key: ec.EllipticCurvePrivateKey, cn: str) -> bytes:
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM)


@dataclass(frozen=True)
class Identity:
    """Where the device's TLS identity lives."""

    key: Path
    """Private key (0600)."""
    cert: Path
    """Client certificate from the fleet CA."""
    ca: Path
    """The fleet CA certificate (from the bundle)."""

    @classmethod
    def in_dir(cls, state_dir: Path, ca: Path) -> Identity:
        return cls(state_dir / "device.key", state_dir / "device.crt", ca)

    @property
    def enrolled(self) -> bool:
        return self.cert.exists() and self.key.exists()


class EnrollmentClient:
    """Enrolls once; afterwards :attr:`Identity.enrolled` is true."""

    def __init__(self, identity: Identity, transport: Transport) -> None:
        self.identity = identity
        self.transport = transport

    def _key(self) -> ec.EllipticCurvePrivateKey:
        if self.identity.key.exists():
            key = serialization.load_pem_private_key(self.identity.key.read_bytes(), None)
            if isinstance(key, ec.EllipticCurvePrivateKey):
                return key
        key = ec.generate_private_key(ec.SECP256R1())
        self.identity.key.parent.mkdir(parents=True, exist_ok=True)
        write_secret(
            self.identity.key,
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
        return key

    def enroll(self, device: str, token_file: Path) -> bool:
        """Enroll ``device`` with the token in ``token_file``; False if already enrolled."""
        if self.identity.enrolled:
            return False
        try:
            token = token_file.read_text(encoding="utf-8").strip()
        except OSError:
            raise EnrollError(f"not enrolled and no enrollment token at {token_file}") from None
        key = self._key()
        answer = self.transport.post(
            "/v1/enroll",
            {"device": device, "token": token, "csr": make_csr(key, device).decode("ascii")},
        )
        cert_pem = str(answer.get("certificate", "")).encode("ascii")
        self._check(cert_pem, key, device)
        write_secret(self.identity.cert, cert_pem)
        os.chmod(self.identity.cert, 0o644)
        try:
            token_file.unlink()
        except OSError as exc:  # a read-only boot partition: harmless, the token is spent
            log.info("could not delete the spent token %s: %s", token_file, exc.strerror)
        log.info("enrolled as %s; certificate stored in %s", device, self.identity.cert)
        return True

    def _check(self, cert_pem: bytes, key: ec.EllipticCurvePrivateKey, device: str) -> None:
        try:
            cert = x509.load_pem_x509_certificate(cert_pem)
            ca = x509.load_pem_x509_certificate(self.identity.ca.read_bytes())
            cert.verify_directly_issued_by(ca)
        except (ValueError, TypeError, OSError) as exc:
            raise EnrollError(f"the enrollment answer is not a fleet certificate: {exc}") from None
        same_key = cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ) == key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if not same_key or not cns or cns[0].value != device:
            raise EnrollError("the enrollment answer is a certificate for another key or device")


class RenewalClient:
    """Renews the unit's certificate before it ends: a new key and CSR, proven by the current
    key and certificate. The new pair is written as ``*.next`` first and then moved into place
    key-first; :meth:`finish` completes a move interrupted by a power cut."""

    def __init__(
        self, identity: Identity, transport: Transport, wall_clock: Any, before_days: float = 30.0
    ) -> None:
        self.identity = identity
        self.transport = transport
        self.wall_clock = wall_clock
        self.before_days = before_days

    def _next(self, p: Path) -> Path:
        return p.with_name(p.name + ".next")

    def finish(self) -> None:
        key_n, cert_n = self._next(self.identity.key), self._next(self.identity.cert)
        if cert_n.exists() and not key_n.exists():
            os.replace(cert_n, self.identity.cert)  # key already moved: finish with the cert
        elif cert_n.exists() and key_n.exists():
            os.replace(key_n, self.identity.key)
            os.replace(cert_n, self.identity.cert)
        elif key_n.exists():
            key_n.unlink()  # the answer never came: keep the current pair

    def due(self) -> bool:
        cert = x509.load_pem_x509_certificate(self.identity.cert.read_bytes())
        left = cert.not_valid_after_utc.timestamp() - self.wall_clock()
        return left < self.before_days * 86400

    def renew(self, device: str) -> bool:
        """Renew if due; True when a new certificate is in place."""
        import base64

        self.finish()
        if not self.due():
            return False
        old_key = serialization.load_pem_private_key(self.identity.key.read_bytes(), None)
        if not isinstance(old_key, ec.EllipticCurvePrivateKey):
            raise EnrollError("the unit's key is not an EC key")
        key = ec.generate_private_key(ec.SECP256R1())
        write_secret(
            self._next(self.identity.key),
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
        csr = make_csr(key, device)
        proof = old_key.sign(csr, ec.ECDSA(hashes.SHA256()))
        answer = self.transport.post(
            "/v1/renew",
            {
                "device": device,
                "certificate": self.identity.cert.read_text(encoding="ascii"),
                "csr": csr.decode("ascii"),
                "proof": base64.b64encode(proof).decode("ascii"),
            },
        )
        cert_pem = str(answer.get("certificate", "")).encode("ascii")
        EnrollmentClient(self.identity, self.transport)._check(cert_pem, key, device)
        write_secret(self._next(self.identity.cert), cert_pem)
        os.chmod(self._next(self.identity.cert), 0o644)
        self.finish()
        log.info("certificate renewed for %s", device)
        return True


class HttpsTransport:
    """JSON over HTTPS, trusting only the fleet CA."""

    def __init__(self, base_url: str, ca_file: Path, timeout_s: float = 30.0) -> None:
        if not base_url.startswith("https://"):
            raise EnrollError(f"enrollment URL must be https:// (got {base_url!r})")
        self.base_url = base_url.rstrip("/")
        self.context = ssl.create_default_context(cafile=str(ca_file))
        self.timeout_s = timeout_s

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        req = urllib.request.Request(
            self.base_url + path,
            data=json.dumps(body).encode("utf-8"),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(req, context=self.context, timeout=self.timeout_s) as r:
                answer = json.loads(r.read())
        except urllib.error.HTTPError as exc:
            try:
                detail = json.loads(exc.read()).get("detail", "")
            except (ValueError, AttributeError):
                detail = ""
            raise EnrollRefusedError(f"enrollment refused ({exc.code}): {detail}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise EnrollError(f"enrollment endpoint {self.base_url}: {exc}") from None
        if not isinstance(answer, dict):
            raise EnrollError("enrollment answer is not a JSON object")
        return answer


class HttpsFetcher:
    """Model files from the fleet's HTTPS endpoint, resumed with a Range request."""

    def __init__(
        self, base_url: str, ca_file: Path, timeout_s: float = 30.0, chunk: int = 64 * 1024
    ) -> None:
        if not base_url.startswith("https://"):
            raise EnrollError(f"model URL must be https:// (got {base_url!r})")
        self.base_url = base_url.rstrip("/")
        self.context = ssl.create_default_context(cafile=str(ca_file))
        self.timeout_s = timeout_s
        self.chunk = chunk

    def fetch(self, version: int, name: str, offset: int) -> Any:
        req = urllib.request.Request(f"{self.base_url}/v1/models/{version}/{name}")
        if offset:
            req.add_header("Range", f"bytes={offset}-")
        try:
            resp = urllib.request.urlopen(req, context=self.context, timeout=self.timeout_s)
        except urllib.error.URLError as exc:
            raise OSError(f"model download: {exc}") from None
        with resp:
            if offset and resp.status != 206:
                raise OSError("server ignored the Range request")
            while True:
                block = resp.read(self.chunk)
                if not block:
                    return
                yield block
