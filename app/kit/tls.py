"""The certificate authorities crmsync trusts: the public ones, plus CRMSYNC_CA_BUNDLE.

An on-premises Exchange server (or an AD FS authority) often has a certificate from the
company's internal CA while Microsoft's token endpoint has a public one: the extra CAs are
added to the public bundle, never put in its place.
"""

from __future__ import annotations

import atexit
import os
import ssl
import tempfile
from functools import lru_cache
from pathlib import Path

import certifi

from app.config import get_settings


@lru_cache(maxsize=1)
def trusted_ca_file() -> str:
    """A PEM file of every trusted CA, for clients that take a path (requests)."""
    extra = get_settings().ca_bundle
    if extra is None:
        return certifi.where()
    handle, name = tempfile.mkstemp(prefix="crmsync-ca-", suffix=".pem")
    with os.fdopen(handle, "w", encoding="ascii") as bundle:
        bundle.write(Path(certifi.where()).read_text(encoding="ascii"))
        bundle.write("\n")
        bundle.write(extra.read_text(encoding="ascii"))
    atexit.register(os.unlink, name)
    return name


def ssl_context() -> ssl.SSLContext:
    """A client context trusting every trusted CA, for clients that take one (httpx)."""
    return ssl.create_default_context(cafile=trusted_ca_file())
