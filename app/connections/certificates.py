"""An app registration's certificate: PEM with its private key, checked before it is stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa


@dataclass(frozen=True)
class CertificateInfo:
    # SHA-1 of the DER certificate, as Microsoft Entra shows it and as a JWT's `x5t` carries it.
    thumbprint: str
    subject: str
    expires_at: datetime


def describe(pem: str) -> CertificateInfo:
    """What a certificate-and-key PEM holds; ValueError saying what is missing or wrong."""
    data = pem.encode()
    try:
        certificate = x509.load_pem_x509_certificate(data)
    except ValueError:
        raise ValueError("no PEM certificate (-----BEGIN CERTIFICATE-----) in it") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise ValueError(
            "no unencrypted PEM private key (-----BEGIN PRIVATE KEY-----) beside the certificate"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(
            "the private key must be RSA (Microsoft Entra signs client assertions RS256)"
        )
    if key.public_key().public_numbers() != certificate.public_key().public_numbers():  # type: ignore[union-attr]
        raise ValueError("the private key does not belong to the certificate")
    return CertificateInfo(
        thumbprint=certificate.fingerprint(hashes.SHA1()).hex().upper(),  # noqa: S303 - Entra's thumbprint is SHA-1
        subject=certificate.subject.rfc4514_string(),
        expires_at=certificate.not_valid_after_utc,
    )
