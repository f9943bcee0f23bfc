"""An archive: a git repository of record files, with its settings, keys, lock and index.

Finding one works like git finding ``.git``: ``--archive PATH``, then ``HK_ARCHIVE``, then the
nearest folder upwards holding ``hk.toml``, then the default archive in the user's data folder.
"""

from __future__ import annotations

import json
import uuid
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from hk.errors import HkError
from hk.store import paths
from hk.store.discover import SETTINGS_FILE
from hk.store.index import Index, default_specs

if TYPE_CHECKING:
    from hk.domain.settings import Settings
    from hk.store.crypto import Keyring
    from hk.store.settings import LoadedSettings


GITIGNORE = """\
# Derived or machine-local files; the records and hk.toml are the truth.
hk.local.toml
.hk-*.tmp
*.swp
*~
.DS_Store
"""


ARCHIVE_FILES = (SETTINGS_FILE, ".gitignore", ".gitattributes")
"""The files a new archive starts with besides its records, committed with them."""


class NoArchive(HkError):
    """No archive where one was named or searched for."""


def locate(explicit: Path | None = None, cwd: Path | None = None) -> Path:
    """The archive root to use (it may not exist yet if it is the default one)."""
    from hk.store.discover import find_root

    return Path(find_root(str(explicit) if explicit else None, str(cwd) if cwd else None))


class Archive:
    """An open archive. Cheap to create: settings, keys and index load on first use."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._operator: str | None = None
        if not (root / SETTINGS_FILE).is_file():
            raise NoArchive(
                f"no hk archive at {root}",
                hint="create one with `hk init PATH`, or name one with --archive or HK_ARCHIVE",
            )
        if not (root / ".git").exists():
            raise NoArchive(
                f"{root} has hk.toml but is not a git repository",
                hint="run `git init` there, or `hk init` on a new folder",
            )

    @classmethod
    def open(cls, explicit: Path | None = None) -> Archive:
        """The archive a command works on; makes sure git merges its records with hk
        (:func:`hk.store.git.ensure_merge_driver`)."""
        from hk.store import git

        archive = cls(locate(explicit))
        git.ensure_merge_driver(archive.root)
        return archive

    # --- parts ---------------------------------------------------------------------------------

    @property
    def hk_dir(self) -> Path:
        """Machine-local state (index, lock) inside .git, so it is never committed."""
        return self.root / ".git" / "hk"

    @cached_property
    def loaded_settings(self) -> LoadedSettings:
        """``hk.toml``, ``hk.local.toml`` and the ``HK_*`` variables, read once per object,
        with where each value came from (``hk config show``)."""
        from hk.store.settings import load_settings

        return load_settings(self.root)

    @property
    def settings(self) -> Settings:
        """The effective settings (see :attr:`loaded_settings`)."""
        return self.loaded_settings.settings

    @cached_property
    def keyring(self) -> Keyring:
        from hk.store.crypto import Keyring

        return Keyring(paths.key_dir(self.settings.archive_id, self.settings.key_dir))

    @cached_property
    def index(self) -> Index:
        return Index(self.root, default_specs())

    def operator(self) -> str:
        """Who is making changes: the ``operator`` setting (``HK_OPERATOR``, ``hk.local.toml``,
        ``hk.toml``), else git's user, else the login.

        Looked up once per archive object (asking git costs a process).
        """
        from hk.store import git

        if self._operator is None:
            found = self.settings.operator or git.user_name(self.root)
            if not found:
                import getpass

                found = getpass.getuser()
            self._operator = " ".join(found.split())
        return self._operator


def prepare(root: Path, company: str | None = None, city: str = "成都市") -> tuple[Archive, bool]:
    """The files of a new archive: git repository, hk.toml, .gitignore, .gitattributes (record
    files merge with ``hk merge-driver``) and the master key.

    Nothing is committed yet: whoever creates the archive (:func:`hk.services.archive.init`)
    adds its first records and commits them with these files, so a new archive is one commit.
    Returns the archive and whether a new key was made (an existing one is reused).
    """
    from hk.store import git

    root = root.expanduser().resolve()
    if (root / SETTINGS_FILE).exists():
        raise HkError(f"{root} is already an hk archive")
    if root.exists() and any(p.name != ".git" for p in root.iterdir()):
        raise HkError(
            f"{root} is not empty", hint="choose a new folder; hk never mixes into other files"
        )
    root.mkdir(parents=True, exist_ok=True)
    archive_id = str(uuid.uuid4())
    template = resources.files("hk.data").joinpath("hk.toml").read_text(encoding="utf-8")
    settings_text = (
        template.replace('"{archive_id}"', json.dumps(archive_id))
        .replace('"{company}"', json.dumps(company or "我的家政服务有限公司", ensure_ascii=False))
        .replace('"{city}"', json.dumps(city, ensure_ascii=False))
    )
    (root / SETTINGS_FILE).write_text(settings_text, encoding="utf-8")
    (root / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
    (root / ".gitattributes").write_text(git.merge_attributes(), encoding="utf-8")
    if not (root / ".git").exists():
        git.init(root)
    git.ensure_merge_driver(root)
    archive = Archive(root)
    return archive, archive.keyring.create_master()
