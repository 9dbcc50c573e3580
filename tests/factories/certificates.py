"""Self-signed app certificates, as an administrator makes for a Microsoft Entra app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


def app_certificate(common_name: str = "crmsync-app") -> str:
    """PEM with the certificate and its unencrypted private key, one file as crmsync takes it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return (certificate.public_bytes(serialization.Encoding.PEM) + key_pem).decode()


def certificate_only(pem: str) -> str:
    """The certificate part of a certificate-and-key PEM (what Entra and the simulator get)."""
    end = "-----END CERTIFICATE-----"
    return pem[: pem.index(end) + len(end)] + "\n"
