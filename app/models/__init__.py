"""Every ORM model, one module per area; importing this package registers them all."""

from app.models import auth, config, connections, crm, filing, imports, licensing, metrics, sync
from app.models.base import Base

__all__ = [
    "Base",
    "auth",
    "config",
    "connections",
    "crm",
    "filing",
    "imports",
    "licensing",
    "metrics",
    "sync",
]
