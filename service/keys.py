"""The installation's secret key: from settings, or generated once and kept in the data dir."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from service.settings import Settings

KEY_FILE = "secret_key"


def secret_key(settings: Settings) -> bytes:
    """RUNSTRENGTH_SECRET_KEY when set; else a random key created on first use (mode 0600).

    Feed URLs and web sessions derive from it, so it must outlive restarts.
    """
    if settings.secret_key:
        return settings.secret_key.encode("utf-8")
    path = settings.data_dir / KEY_FILE
    if not path.exists():
        _create(path)
    return path.read_bytes().strip()


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its key
        return
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32))
