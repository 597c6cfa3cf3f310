"""Ed25519 signed documents: what the fleet signs and the device verifies.

A signed document is the JSON object ``{"signed": {...}, "signatures": [{"keyid", "sig"}]}``
(the shape TUF uses). The signature covers the canonical JSON of ``signed`` (sorted keys, no
whitespace, UTF-8), so re-serialising a document never breaks it. ``keyid`` is the sha256 of the
raw public key. The device holds the fleet's public key(s) (from its bundle) and accepts a
document only if one of them signed it; the private key never leaves the fleet directory.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from edge.errors import PoiseError


class SignatureError(PoiseError):
    """A document that is not signed by a trusted key, or not a signed document at all."""


def canonical_json(obj: Any) -> bytes:
    """The bytes a signature covers (NaN refused: JSON has none)."""
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    """sha256 (hex) of the raw 32-byte public key."""
    return hashlib.sha256(raw_public(key)).hexdigest()


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_public_pem(pem: bytes) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError:
        raise SignatureError("not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SignatureError("the fleet signing key must be Ed25519")
    return key


def load_public_keys(pem: bytes) -> list[Ed25519PublicKey]:
    """Every public key in a PEM file (several during a key rotation)."""
    marker = b"-----END PUBLIC KEY-----"
    keys = [load_public_pem(part + marker) for part in pem.split(marker) if part.strip()]
    if not keys:
        raise SignatureError("no public key in the fleet key file")
    return keys


def private_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_private_pem(pem: bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise SignatureError("the fleet signing key must be Ed25519")
    return key


def sign(key: Ed25519PrivateKey, signed: dict[str, Any]) -> dict[str, Any]:
    """Wrap ``signed`` in a signed document."""
    sig = key.sign(canonical_json(signed))
    return {
        "signed": signed,
        "signatures": [
            {"keyid": key_id(key.public_key()), "sig": base64.b64encode(sig).decode("ascii")}
        ],
    }


def verify(doc: Any, trusted: Iterable[Ed25519PublicKey]) -> dict[str, Any]:
    """The ``signed`` part of ``doc`` if a trusted key signed it; else :class:`SignatureError`."""
    if not isinstance(doc, dict) or set(doc) != {"signed", "signatures"}:
        raise SignatureError("not a signed document")
    signed, sigs = doc["signed"], doc["signatures"]
    if not isinstance(signed, dict) or not isinstance(sigs, list) or not sigs:
        raise SignatureError("unsigned document")
    keys = {key_id(k): k for k in trusted}
    try:
        message = canonical_json(signed)
    except (TypeError, ValueError):
        raise SignatureError("document is not canonical JSON") from None
    for s in sigs:
        if not isinstance(s, dict):
            continue
        key = keys.get(str(s.get("keyid")))
        if key is None:
            continue
        try:
            key.verify(base64.b64decode(str(s.get("sig")), validate=True), message)
        except (InvalidSignature, ValueError):
            raise SignatureError("bad signature (document tampered with?)") from None
        return signed
    raise SignatureError("not signed by a trusted fleet key")
