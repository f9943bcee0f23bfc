"""The archive's encryption keys as the office manages them: rotating the master key."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hk.store.archive import Archive
from hk.store.lock import archive_lock


@dataclass(frozen=True)
class Rotation:
    rewrapped: int
    key_dir: Path


def rotate_master(archive: Archive) -> Rotation:
    """A new master key, every person's data key re-wrapped under it.

    Done when the old master key may have leaked (a lost laptop, a departed operator's
    copy): the old one then opens nothing. Under the archive lock, so no write makes a data
    key under the old master key meanwhile; the sealed values in the files and in git's
    history stay as they are (the data keys do not change).
    """
    with archive_lock(archive.hk_dir / "lock", archive.settings.lock_timeout_s):
        count = archive.keyring.rotate()
    return Rotation(rewrapped=count, key_dir=archive.keyring.folder)
