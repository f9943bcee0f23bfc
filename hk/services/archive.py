"""A new archive: its files, the default catalog and its first commit (``hk init``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hk.services.catalog import default_catalog
from hk.store.archive import ARCHIVE_FILES, prepare
from hk.store.writer import save_new_bulk


@dataclass
class InitReport:
    """Where the archive is, where its key is kept, and whether that key is new."""

    root: Path
    key_dir: Path
    key_created: bool


def init(root: Path, company: str | None = None, city: str = "成都市") -> InitReport:
    """Create a new archive: git repository, hk.toml, .gitignore, default catalog, master key,
    all in one commit."""
    archive, key_created = prepare(root, company, city)
    records = default_catalog(archive)
    save_new_bulk(
        archive,
        records,
        f"archive: create with default catalog ({len(records)} items)",
        extra_paths=list(ARCHIVE_FILES),
    )
    return InitReport(root=archive.root, key_dir=archive.keyring.folder, key_created=key_created)
