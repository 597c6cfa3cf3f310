"""The fleet certificate authority: X.509 for MQTT mTLS, built with ``cryptography``.

One self-signed CA (EC P-256) issues the broker's server certificate, the fleet's own admin
client certificate and, through enrollment, one client certificate per device from the device's
CSR (the device's private key never leaves it). Revocation is a CRL signed by the same CA.
Pure functions over keys and certificates; reading and writing files is the caller's job.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from edge.errors import PoiseError


class CsrError(PoiseError):
    """A certificate signing request that cannot be signed."""


@dataclass(frozen=True)
class Issued:
    """A certificate just issued."""

    cert_pem: bytes
    """The certificate, PEM."""
    serial: int
    """Its serial number (recorded in the registry for revocation)."""
    not_after: dt.datetime
    """End of validity (UTC)."""


def new_key() -> ec.EllipticCurvePrivateKey:
    """A fresh EC P-256 key (what OpenSSL, Mosquitto and the Pi handle everywhere)."""
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    """Unencrypted PKCS#8 PEM (written 0600 by the caller)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_key(pem: bytes) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise PoiseError("expected an EC private key")
    return key


def load_cert(pem: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem)


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _name(cn: str, org: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _serial() -> int:
    return secrets.randbits(126) | 1 << 64


def make_ca(
    key: ec.EllipticCurvePrivateKey, name: str, now: dt.datetime, days: int
) -> x509.Certificate:
    """A self-signed CA certificate that may sign end-entity certificates and CRLs only."""
    subject = _name(name, name)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(_serial())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )


def _leaf(
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    subject: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    now: dt.datetime,
    days: int,
    server_names: Iterable[str] = (),
) -> Issued:
    serial = _serial()
    not_after = now + dt.timedelta(days=days)
    names = list(server_names)
    usage = ExtendedKeyUsageOID.SERVER_AUTH if names else ExtendedKeyUsageOID.CLIENT_AUTH
    b = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(public_key)
        .serial_number(serial)
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
    )
    if names:
        alt: list[x509.GeneralName] = []
        for n in names:
            try:
                alt.append(x509.IPAddress(ipaddress.ip_address(n)))
            except ValueError:
                alt.append(x509.DNSName(n))
        b = b.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    cert = b.sign(ca_key, hashes.SHA256())
    return Issued(cert_pem(cert), serial, not_after)


def issue_server(
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    key: ec.EllipticCurvePrivateKey,
    names: Iterable[str],
    now: dt.datetime,
    days: int,
) -> Issued:
    """The broker's (and enrollment endpoint's) TLS server certificate for ``names``."""
    names = list(names)
    if not names:
        raise PoiseError("a server certificate needs at least one host name or address")
    return _leaf(
        ca_key, ca_cert, _name(names[0], "poise-fleet"), key.public_key(), now, days, names
    )


def issue_client(
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    public_key: ec.EllipticCurvePublicKey,
    cn: str,
    now: dt.datetime,
    days: int,
) -> Issued:
    """A client certificate whose CN is the MQTT user name (``use_identity_as_username``)."""
    return _leaf(ca_key, ca_cert, _name(cn, "poise-fleet"), public_key, now, days)


def sign_csr(
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    csr_pem: bytes,
    expected_cn: str,
    now: dt.datetime,
    days: int,
) -> Issued:
    """Check a device's CSR (well-formed, self-signed, EC P-256, CN = its id) and sign it.

    Only the public key and the CN are taken from the CSR; every extension is the CA's choice.
    """
    try:
        csr = x509.load_pem_x509_csr(csr_pem)
    except ValueError:
        raise CsrError("not a PEM certificate signing request") from None
    if not csr.is_signature_valid:
        raise CsrError("the CSR's signature does not verify")
    pub = csr.public_key()
    if not isinstance(pub, ec.EllipticCurvePublicKey) or pub.curve.name != "secp256r1":
        raise CsrError("the CSR's key must be EC P-256")
    cns = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if len(cns) != 1 or cns[0].value != expected_cn:
        raise CsrError("the CSR's common name must be the device id")
    return issue_client(ca_key, ca_cert, pub, expected_cn, now, days)


def make_crl(
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    revoked: Iterable[tuple[int, dt.datetime]],
    now: dt.datetime,
    days: int,
) -> bytes:
    """A CRL (PEM) listing ``(serial, revoked_at)``; valid ``days`` from ``now``."""
    b = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(now - dt.timedelta(minutes=5))
        .next_update(now + dt.timedelta(days=days))
    )
    for serial, when in revoked:
        b = b.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build()
        )
    return b.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
